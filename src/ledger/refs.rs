//! Moving the ledger's branch ref the way git does: take the ref's lock
//! file (`refs/heads/<branch>.lock`, created exclusively), read the ref,
//! compare it with the expected value, write the new value into the lock,
//! add a reflog line, and rename the lock over the ref.
//!
//! Why not gix's ref transaction: it also takes `packed-refs.lock` to read
//! a packed ref, so a leftover `packed-refs.lock` (which git's own
//! `update-ref` ignores) made every commit wait and fail.
//!
//! A lock file is never taken from its holder: while another process (a
//! `git` command) holds it, orc waits up to its lock timeout and then says
//! which file is in the way and how to remove it if no process holds it.
//! The one lock orc removes is its own, left by an orc process that was
//! killed: before taking the lock, orc records its pid and the lock's
//! inode in `<common>/orc/locks/<branch>/ref.json` (the lock is made by
//! hard-linking a file orc wrote first, so the record exists before the
//! lock does), and a lock with that inode whose recorded process is dead
//! is a leftover.

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use gix::ObjectId;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Who is about to hold (or holds) the ref lock.
#[derive(Debug, Serialize, Deserialize)]
struct Holder {
    pid: u32,
    dev: u64,
    ino: u64,
}

/// The outcome of one try to move the ref.
pub enum Moved {
    Done,
    /// The ref did not hold the expected value (someone else moved it).
    Lost,
}

pub struct RefFile<'a> {
    /// The common git directory.
    pub common: &'a Path,
    /// `refs/heads/<branch>`.
    pub name: &'a str,
    /// Where orc keeps its record of the lock.
    pub record: PathBuf,
    pub timeout: Duration,
    /// Whether to write a reflog line (as `core.logAllRefUpdates` says).
    pub reflog: bool,
}

impl RefFile<'_> {
    fn path(&self) -> PathBuf {
        self.common.join(self.name)
    }

    fn lock_path(&self) -> PathBuf {
        self.common.join(format!("{}.lock", self.name))
    }

    /// The ref's value, loose or packed (None: no such ref).
    pub fn read(&self) -> Result<Option<ObjectId>> {
        let path = self.path();
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let t = text.trim();
                if t.starts_with("ref:") {
                    return Err(Error::environment(format!(
                        "{} is a symbolic ref; the ledger branch must point at a commit",
                        self.name
                    )));
                }
                ObjectId::from_hex(t.as_bytes()).map(Some).map_err(|_| {
                    Error::environment(format!("{} does not hold a commit id", path.display()))
                })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => self.read_packed(),
            Err(e) => Err(Error::io("cannot read", &path, e)),
        }
    }

    fn read_packed(&self) -> Result<Option<ObjectId>> {
        let path = self.common.join("packed-refs");
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io("cannot read", &path, e)),
        };
        for line in text.lines() {
            if line.starts_with('#') || line.starts_with('^') {
                continue;
            }
            if let Some((hex, name)) = line.split_once(' ')
                && name == self.name
            {
                return ObjectId::from_hex(hex.as_bytes()).map(Some).map_err(|_| {
                    Error::environment(format!("{}: a bad line for {}", path.display(), self.name))
                });
            }
        }
        Ok(None)
    }

    /// Moves the ref from `old` (None: it must not exist) to `new`, with a
    /// reflog line by `who` at `time` saying `message`.
    pub fn update(
        &self,
        old: Option<ObjectId>,
        new: ObjectId,
        who: &str,
        time: i64,
        message: &str,
    ) -> Result<Moved> {
        let lock = self.lock()?;
        let result = (|| {
            if self.read()? != old {
                return Ok(Moved::Lost);
            }
            let mut file = OpenOptions::new()
                .write(true)
                .truncate(true)
                .open(&lock)
                .map_err(|e| Error::io("cannot write", &lock, e))?;
            file.write_all(format!("{new}\n").as_bytes())
                .and_then(|()| file.sync_all())
                .map_err(|e| Error::io("cannot write", &lock, e))?;
            if self.reflog {
                self.log(old, new, who, time, message)?;
            }
            std::fs::rename(&lock, self.path())
                .map_err(|e| Error::io("cannot move the ledger ref into place", &lock, e))?;
            Ok(Moved::Done)
        })();
        if result.is_err() || matches!(result, Ok(Moved::Lost)) {
            let _ = std::fs::remove_file(&lock);
        }
        let _ = std::fs::remove_file(&self.record);
        result
    }

    fn log(
        &self,
        old: Option<ObjectId>,
        new: ObjectId,
        who: &str,
        time: i64,
        message: &str,
    ) -> Result<()> {
        let path = self.common.join("logs").join(self.name);
        if let Some(dir) = path.parent() {
            crate::store::fsio::create_dir_all(dir)?;
        }
        let zero = ObjectId::null(new.kind());
        let line = format!(
            "{} {new} {who} {time} +0000\t{}\n",
            old.unwrap_or(zero),
            message.lines().next().unwrap_or("").replace('\t', " ")
        );
        OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .and_then(|mut f| f.write_all(line.as_bytes()))
            .map_err(|e| Error::io("cannot write", &path, e))
    }

    /// Takes the ref's lock: waits while someone else holds it (up to the
    /// timeout), removes only a lock a killed orc left behind.
    fn lock(&self) -> Result<PathBuf> {
        let lock = self.lock_path();
        if let Some(dir) = lock.parent() {
            crate::store::fsio::create_dir_all(dir)?;
        }
        if let Some(dir) = self.record.parent() {
            crate::store::fsio::create_dir_all(dir)?;
        }
        self.clean_leftovers();
        let start = Instant::now();
        loop {
            if lock.exists() {
                // Ours, from an orc killed while publishing? (Only one orc
                // process per machine publishes at a time: it holds the
                // ledger lock, so the record is that of the lock's maker,
                // if orc made it.)
                if self.left_by_a_dead_orc(&lock) {
                    tracing::warn!("removing {}, left by a killed orc", lock.display());
                    let _ = std::fs::remove_file(&lock);
                    continue;
                }
                if start.elapsed() >= self.timeout {
                    return Err(Error::busy(format!(
                        "{} exists: another git process is updating the ledger branch, or one that died left it behind",
                        lock.display()
                    ))
                    .with_hint(format!(
                        "if no git process is running in this repository, remove it: rm '{}'",
                        lock.display()
                    )));
                }
                std::thread::sleep(Duration::from_millis(10));
                continue;
            }
            // A file of our own (beside the record: a file under refs/
            // would be taken for a ref), recorded, then linked to the
            // lock's name: the record exists before the lock does.
            let mine = self
                .record
                .with_extension(format!("tmp-{}", std::process::id()));
            let _ = std::fs::remove_file(&mine);
            std::fs::write(&mine, b"").map_err(|e| Error::io("cannot write", &mine, e))?;
            let meta = std::fs::metadata(&mine).map_err(|e| Error::io("cannot read", &mine, e))?;
            let holder = Holder {
                pid: std::process::id(),
                dev: meta.dev(),
                ino: meta.ino(),
            };
            crate::store::fsio::write_atomic(&self.record, &crate::model::to_file_bytes(&holder))?;
            let linked = std::fs::hard_link(&mine, &lock);
            let _ = std::fs::remove_file(&mine);
            match linked {
                Ok(()) => return Ok(lock),
                // Taken in between (by git): wait for it as above.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(Error::io("cannot create", &lock, e)),
            }
        }
    }

    /// Removes the files of killed orc processes beside the record.
    fn clean_leftovers(&self) {
        let (Some(dir), Some(stem)) = (self.record.parent(), self.record.file_stem()) else {
            return;
        };
        let prefix = format!("{}.tmp-", stem.to_string_lossy());
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let Some(pid) = name
                .strip_prefix(&prefix)
                .and_then(|p| p.parse::<i32>().ok())
            else {
                continue;
            };
            // SAFETY: signal 0 only asks whether the process exists.
            let gone = unsafe { libc::kill(pid, 0) } != 0
                && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH);
            if gone {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }

    /// Whether `lock` is one this orc's record names and whose process is
    /// gone (killed while publishing).
    fn left_by_a_dead_orc(&self, lock: &Path) -> bool {
        let Ok(bytes) = std::fs::read(&self.record) else {
            return false;
        };
        let Ok(h) = serde_json::from_slice::<Holder>(&bytes) else {
            return false;
        };
        let Ok(meta) = std::fs::metadata(lock) else {
            return false;
        };
        if meta.dev() != h.dev || meta.ino() != h.ino || h.pid == std::process::id() {
            return false;
        }
        // SAFETY: kill with signal 0 only asks whether the process exists.
        let alive = unsafe { libc::kill(h.pid as i32, 0) } == 0
            || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM);
        !alive
    }
}
