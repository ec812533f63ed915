//! Advisory file locks (`flock(2)` through fs2), the same locks a shell
//! script takes with `flock(1)`.
//!
//! A lock file is never deleted: deleting a lock file while another process
//! waits on it would let two processes hold "the" lock at once. Lock files
//! live apart from the data (see `spec/README.md`, "Locks") so listings of
//! data directories stay clean.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use fs2::FileExt;

use crate::error::{Error, Result};

/// An exclusive lock, released when dropped.
#[derive(Debug)]
pub struct FileLock {
    file: File,
    path: PathBuf,
}

impl FileLock {
    /// Waits up to `timeout` for the lock at `path`, creating the lock file
    /// and its directory if needed. `what` names the data the lock guards.
    pub fn acquire(path: &Path, what: &str, timeout: Duration) -> Result<FileLock> {
        let file = open(path)?;
        let deadline = Instant::now() + timeout;
        let mut pause = Duration::from_micros(200);
        loop {
            match file.try_lock_exclusive() {
                Ok(()) => {
                    return Ok(FileLock {
                        file,
                        path: path.to_path_buf(),
                    });
                }
                Err(e) if is_contended(&e) => {
                    let now = Instant::now();
                    if now >= deadline {
                        return Err(Error::busy(format!(
                            "could not lock {what} within {} ms: another process holds {}",
                            timeout.as_millis(),
                            path.display()
                        ))
                        .with_hint(format!(
                            "retry; `fuser {}` shows who holds it",
                            path.display()
                        )));
                    }
                    std::thread::sleep(pause.min(deadline - now));
                    pause = (pause * 2).min(Duration::from_millis(8));
                }
                Err(e) => return Err(Error::io("cannot lock", path, e)),
            }
        }
    }

    /// Takes the lock only if nobody holds it.
    pub fn try_acquire(path: &Path) -> Result<Option<FileLock>> {
        let file = open(path)?;
        match file.try_lock_exclusive() {
            Ok(()) => Ok(Some(FileLock {
                file,
                path: path.to_path_buf(),
            })),
            Err(e) if is_contended(&e) => Ok(None),
            Err(e) => Err(Error::io("cannot lock", path, e)),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        let _ = FileExt::unlock(&self.file);
    }
}

fn is_contended(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::WouldBlock
        || e.raw_os_error() == fs2::lock_contended_error().raw_os_error()
}

fn open(path: &Path) -> Result<File> {
    if let Some(dir) = path.parent() {
        super::fsio::create_dir_all(dir)?;
    }
    super::fsio::open_lock_file(path).map_err(|e| {
        if e.raw_os_error() == Some(libc::EISDIR) {
            Error::invalid(format!(
                "lock file {} is a directory; remove it (rmdir) so orc can lock",
                path.display()
            ))
        } else if e.raw_os_error() == Some(libc::ELOOP) {
            Error::invalid(format!(
                "lock file {} is a symbolic link; remove it so orc can lock",
                path.display()
            ))
        } else {
            Error::io("cannot open lock file", path, e)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_holder_times_out_with_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("locks/x.json.lock");
        let held = FileLock::acquire(&path, "x.json", Duration::from_secs(1)).unwrap();
        assert!(FileLock::try_acquire(&path).unwrap().is_none());
        let err = FileLock::acquire(&path, "x.json", Duration::from_millis(30)).unwrap_err();
        assert_eq!(err.kind, crate::error::Kind::Busy);
        assert!(err.message.contains("could not lock x.json within 30 ms"));
        drop(held);
        assert!(FileLock::try_acquire(&path).unwrap().is_some());
    }

    #[test]
    fn a_directory_as_lock_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.lock");
        std::fs::create_dir(&path).unwrap();
        let err = FileLock::acquire(&path, "x", Duration::from_millis(10)).unwrap_err();
        assert!(err.message.contains("is a directory"), "{}", err.message);
    }
}
