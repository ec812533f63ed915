//! Reading files an agent may have written, and writing files atomically.
//!
//! Reads never follow a symbolic link, never block on a FIFO, and refuse
//! anything that is not a regular file or is larger than [`MAX_FILE_SIZE`].
//! Writes go to a temporary file in the same directory, are fsynced, and
//! renamed over the target, so a reader sees the old or the new content and
//! never a mix.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};

use crate::error::{Error, Kind, Result};

/// The largest `.orc/` file orc reads.
pub const MAX_FILE_SIZE: u64 = 1024 * 1024;

/// Why a file could not be read. `Missing` is kept apart because callers
/// often treat it as "no such entity" rather than as bad data.
#[derive(Debug)]
pub enum ReadError {
    Missing,
    /// The path holds something other than a readable regular file, or its
    /// content is unusable: a message without the path.
    Bad(String),
    Io(std::io::Error),
}

/// Reads a regular file of at most [`MAX_FILE_SIZE`] bytes without
/// following symbolic links.
pub fn read_regular(path: &Path) -> Result<Vec<u8>, ReadError> {
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path);
    let mut file = match file {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(ReadError::Missing),
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
            return Err(ReadError::Bad(
                "is a symbolic link; orc does not follow links in .orc/ (replace it with a regular file)"
                    .into(),
            ));
        }
        Err(e) => return Err(ReadError::Io(e)),
    };
    let meta = file.metadata().map_err(ReadError::Io)?;
    if meta.is_dir() {
        return Err(ReadError::Bad(
            "is a directory where a file should be (move it away)".into(),
        ));
    }
    if !meta.is_file() {
        return Err(ReadError::Bad(
            "is not a regular file (move it away)".into(),
        ));
    }
    if meta.len() > MAX_FILE_SIZE {
        return Err(ReadError::Bad(format!(
            "is {} bytes, over the limit of {MAX_FILE_SIZE} bytes (1 MiB)",
            meta.len()
        )));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    (&mut file)
        .take(MAX_FILE_SIZE + 1)
        .read_to_end(&mut bytes)
        .map_err(ReadError::Io)?;
    if bytes.len() as u64 > MAX_FILE_SIZE {
        return Err(ReadError::Bad(format!(
            "grew over the limit of {MAX_FILE_SIZE} bytes (1 MiB) while being read"
        )));
    }
    Ok(bytes)
}

impl ReadError {
    /// The error for `path`, with `Missing` reported as not found.
    pub fn into_error(self, path: &Path) -> Error {
        match self {
            ReadError::Missing => Error::not_found(format!("{}: no such file", path.display())),
            ReadError::Bad(msg) => Error::invalid(format!("{}: {msg}", path.display())),
            ReadError::Io(e) => Error::io("cannot read", path, e),
        }
    }
}

static TEMP_COUNTER: AtomicU32 = AtomicU32::new(0);

/// Writes `bytes` to `path` atomically: temporary file, fsync, rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| Error::internal(format!("{} has no parent directory", path.display())))?;
    let name = path
        .file_name()
        .ok_or_else(|| Error::internal(format!("{} has no file name", path.display())))?;
    if let Ok(meta) = fs::symlink_metadata(path)
        && meta.is_dir()
    {
        return Err(Error::invalid(format!(
            "{}: is a directory where a file should be (move it away)",
            path.display()
        )));
    }
    let tmp = dir.join(format!(
        ".{}.tmp-{}-{}",
        name.to_string_lossy(),
        std::process::id(),
        TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .custom_flags(libc::O_CLOEXEC)
            .open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&tmp, path)
    })();
    result.map_err(|e| {
        let _ = fs::remove_file(&tmp);
        let mut err = Error::io("cannot write", path, e);
        if err.kind == Kind::NotFound {
            err.kind = Kind::Environment;
        }
        err
    })
}

/// Creates a directory and its parents, with an error naming it.
pub fn create_dir_all(path: &Path) -> Result<()> {
    fs::create_dir_all(path).map_err(|e| {
        let mut err = Error::io("cannot create directory", path, e);
        if err.kind == Kind::NotFound {
            err.kind = Kind::Environment;
        }
        err
    })
}

/// Removes a file if it exists.
pub fn remove_file_if_exists(path: &Path) -> Result<()> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io("cannot remove", path, e)),
    }
}

/// Opens (creating it if needed) a file used only for `flock`.
pub(crate) fn open_lock_file(path: &Path) -> std::io::Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_links_directories_and_big_files() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target.json");
        fs::write(&target, b"{}").unwrap();
        let link = dir.path().join("link.json");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert!(
            matches!(read_regular(&link), Err(ReadError::Bad(m)) if m.contains("symbolic link"))
        );
        assert!(
            matches!(read_regular(dir.path()), Err(ReadError::Bad(m)) if m.contains("directory"))
        );
        let big = dir.path().join("big.json");
        fs::write(&big, vec![b' '; (MAX_FILE_SIZE + 1) as usize]).unwrap();
        assert!(
            matches!(read_regular(&big), Err(ReadError::Bad(m)) if m.contains("over the limit"))
        );
        assert!(matches!(
            read_regular(&dir.path().join("nope")),
            Err(ReadError::Missing)
        ));
        assert_eq!(read_regular(&target).unwrap(), b"{}");
    }

    #[test]
    fn atomic_write_replaces_and_leaves_no_temp_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.json");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
        fs::create_dir(dir.path().join("d.json")).unwrap();
        let err = write_atomic(&dir.path().join("d.json"), b"x").unwrap_err();
        assert!(err.message.contains("is a directory"), "{}", err.message);
    }
}
