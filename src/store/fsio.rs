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
    // One read of the size fstat gave (plus one byte, to notice a file that
    // grew meanwhile); then, only if it did grow, read on.
    let size = meta.len() as usize;
    let mut bytes = vec![0u8; size + 1];
    let mut filled = 0;
    loop {
        if filled == bytes.len() {
            bytes.resize(bytes.len() * 2, 0);
        }
        let n = file.read(&mut bytes[filled..]).map_err(ReadError::Io)?;
        filled += n;
        if n == 0 || filled == size || filled as u64 > MAX_FILE_SIZE {
            break;
        }
    }
    bytes.truncate(filled);
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

/// A fresh name for a temporary file beside `name` in `dir`:
/// `.<name>.<tag>-<pid>-<n>`.
fn temp_beside(dir: &Path, name: &str, tag: &str) -> std::path::PathBuf {
    dir.join(format!(
        ".{name}.{tag}-{}-{}",
        std::process::id(),
        TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
    ))
}

/// Creates `path` (which must not exist) with `bytes`, on disk.
fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_synced_mode(path, bytes, 0o666)
}

fn write_synced_mode(path: &Path, bytes: &[u8], mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .custom_flags(libc::O_CLOEXEC)
        .open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Writes `bytes` to `path` atomically: temporary file, fsync, rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_mode(path, bytes, 0o666)
}

/// [`write_atomic`] with the permission bits of the new file (before the
/// umask): another program's private file keeps its `0600`.
pub fn write_atomic_mode(path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
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
    let tmp = temp_beside(dir, &name.to_string_lossy(), "tmp");
    let result = write_synced_mode(&tmp, bytes, mode).and_then(|()| fs::rename(&tmp, path));
    result.map_err(|e| {
        let _ = fs::remove_file(&tmp);
        let mut err = Error::io("cannot write", path, e);
        if err.kind == Kind::NotFound {
            err.kind = Kind::Environment;
        }
        err
    })
}

/// What [`write_atomic_swap`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Swap {
    /// The file held what was expected and now holds the new bytes.
    Written,
    /// The file did not hold what was expected; it is as it was.
    Changed,
    /// A writer saved just before the swap (its save was swapped back) and
    /// saved again while the new bytes were visible, perhaps building on
    /// them: its newest save is in place, and this is the earlier one it
    /// replaced, which only the caller can still rescue.
    Displaced(Vec<u8>),
}

/// Writes `bytes` to `path` only if the file still holds `expected` (None:
/// absent), atomically with respect to writers that do not lock (agents
/// saving with a rename): the new file is swapped in with
/// `renameat2(RENAME_EXCHANGE)`, and if what came out is not `expected`,
/// it is swapped back.
pub fn write_atomic_swap(path: &Path, bytes: &[u8], expected: Option<&[u8]>) -> Result<Swap> {
    let dir = path
        .parent()
        .ok_or_else(|| Error::internal(format!("{} has no parent directory", path.display())))?;
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let tmp = temp_beside(dir, &name, "swap");
    if let Err(e) = write_synced(&tmp, bytes) {
        let _ = fs::remove_file(&tmp);
        return Err(Error::io("cannot write", path, e));
    }
    // Check before anything becomes visible: the file still holds what was
    // validated (and which inode that is).
    let checked_ino = if expected.is_some() {
        use std::os::unix::fs::MetadataExt;
        let current = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(path)
            .and_then(|mut f| {
                let ino = f.metadata()?.ino();
                let mut b = Vec::new();
                f.read_to_end(&mut b)?;
                Ok((ino, b))
            });
        match current {
            Ok((ino, b)) if Some(b.as_slice()) == expected => Some(ino),
            _ => {
                let _ = fs::remove_file(&tmp);
                return Ok(Swap::Changed);
            }
        }
    } else {
        None
    };
    let flags = if expected.is_some() {
        libc::RENAME_EXCHANGE
    } else {
        libc::RENAME_NOREPLACE
    };
    match renameat2(&tmp, path, flags) {
        Ok(()) => {}
        Err(e)
            if e.raw_os_error() == Some(libc::EEXIST) || e.raw_os_error() == Some(libc::ENOENT) =>
        {
            // Someone created (or removed) the file meanwhile.
            let _ = fs::remove_file(&tmp);
            return Ok(Swap::Changed);
        }
        Err(e) if matches!(e.raw_os_error(), Some(libc::EINVAL) | Some(libc::ENOSYS)) => {
            // No renameat2 on this file system: check, then rename.
            let now = fs::read(path).ok();
            if now.as_deref() != expected {
                let _ = fs::remove_file(&tmp);
                return Ok(Swap::Changed);
            }
            fs::rename(&tmp, path).map_err(|e| Error::io("cannot write", path, e))?;
            return Ok(Swap::Written);
        }
        Err(e) => {
            let _ = fs::remove_file(&tmp);
            return Err(Error::io("cannot write", path, e));
        }
    }
    if expected.is_none() {
        return Ok(Swap::Written);
    }
    // `tmp` now holds what was at `path`: the file we checked, unless a
    // writer renamed its own over it in the last microseconds.
    let same = {
        use std::os::unix::fs::MetadataExt;
        fs::symlink_metadata(&tmp).is_ok_and(|m| Some(m.ino()) == checked_ino)
    };
    if same {
        let _ = fs::remove_file(&tmp);
        return Ok(Swap::Written);
    }
    // Not what we validated: put it back.
    if renameat2(&tmp, path, libc::RENAME_EXCHANGE).is_err() {
        let _ = fs::remove_file(&tmp);
        return Ok(Swap::Changed);
    }
    // `tmp` holds ours again, unless the writer saved over ours while it
    // was visible: then `tmp` holds that newest save, which wins, and the
    // save we swapped back is displaced by it.
    match fs::read(&tmp) {
        Ok(b) if b == bytes => {
            let _ = fs::remove_file(&tmp);
            Ok(Swap::Changed)
        }
        _ => {
            if renameat2(&tmp, path, libc::RENAME_EXCHANGE).is_err() {
                let _ = fs::rename(&tmp, path);
                return Ok(Swap::Changed);
            }
            let displaced = fs::read(&tmp);
            let _ = fs::remove_file(&tmp);
            match displaced {
                Ok(d) if d != bytes => Ok(Swap::Displaced(d)),
                _ => Ok(Swap::Changed),
            }
        }
    }
}

fn renameat2(from: &Path, to: &Path, flags: libc::c_uint) -> std::io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let from = std::ffi::CString::new(from.as_os_str().as_bytes())?;
    let to = std::ffi::CString::new(to.as_os_str().as_bytes())?;
    // SAFETY: two NUL-terminated paths; renameat2 does not keep them.
    let rc = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            from.as_ptr(),
            libc::AT_FDCWD,
            to.as_ptr(),
            flags,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
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

/// A directory opened for reading the files in it by name (`openat`), which
/// spares the kernel walking the whole path for every file of a listing.
pub struct Dir {
    file: File,
    path: std::path::PathBuf,
}

impl Dir {
    pub fn open(path: &Path) -> std::io::Result<Dir> {
        let file = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_DIRECTORY | libc::O_CLOEXEC)
            .open(path)?;
        Ok(Dir {
            file,
            path: path.to_path_buf(),
        })
    }

    /// Like [`read_regular`] for the file `name` of this directory. The
    /// common case costs open, read and close; the checks that need
    /// `fstat` run only when a read looks unusual.
    pub fn read(&self, name: &str) -> Result<Vec<u8>, ReadError> {
        use std::os::fd::{AsRawFd, FromRawFd};
        let c_name = std::ffi::CString::new(name)
            .map_err(|_| ReadError::Bad("has a NUL byte in its name".into()))?;
        // SAFETY: a valid directory fd and a NUL-terminated name; the fd
        // returned is owned by the File below.
        let fd = unsafe {
            libc::openat(
                self.file.as_raw_fd(),
                c_name.as_ptr(),
                libc::O_RDONLY | libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC,
            )
        };
        if fd < 0 {
            let e = std::io::Error::last_os_error();
            return Err(match e.raw_os_error() {
                Some(libc::ENOENT) => ReadError::Missing,
                Some(libc::ELOOP) => {
                    return read_regular(&self.path.join(name));
                }
                _ => ReadError::Io(e),
            });
        }
        // SAFETY: `fd` is a fresh descriptor we own.
        let mut file = unsafe { File::from_raw_fd(fd) };
        let mut bytes = vec![0u8; 4096];
        let mut filled = 0;
        loop {
            if filled == bytes.len() {
                if bytes.len() as u64 > MAX_FILE_SIZE {
                    break;
                }
                bytes.resize(bytes.len() * 2, 0);
            }
            match file.read(&mut bytes[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.raw_os_error() == Some(libc::EISDIR) => {
                    return read_regular(&self.path.join(name));
                }
                Err(e) => return Err(ReadError::Io(e)),
            }
        }
        if filled == 0 || filled as u64 > MAX_FILE_SIZE {
            // Empty, special, or too big: let the careful reader say which.
            return read_regular(&self.path.join(name));
        }
        bytes.truncate(filled);
        Ok(bytes)
    }
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
