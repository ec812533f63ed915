//! Transactions: lock the files, re-read, validate, write, commit to the
//! ledger, unlock.
//!
//! A transaction body locks every file it will write (and the ids counter
//! when it allocates an id), reads them, decides, and stages new contents.
//! [`run`] then writes the staged files atomically, commits them to the
//! ledger as one commit, and releases the locks. If the commit fails, the
//! files are put back as they were, so a command that fails leaves nothing
//! behind and a command that exits 0 has its change on the ledger.
//!
//! Deadlocks are impossible: locks are keyed by ledger path, a lock taken in
//! increasing key order waits (up to the lock timeout), and a lock taken out
//! of order only tries once; if it is held, the body is abandoned, all
//! locks are released and the body runs again from the start.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::session::Session;
use crate::error::{Error, Result};
use crate::ledger::{Change, STALE, Unchanged};
use crate::store::FileLock;
use crate::store::fsio::{self, MAX_FILE_SIZE, ReadError};

/// The commit message of a transaction.
#[derive(Debug, Clone)]
pub struct Message {
    /// The subject line, such as `WO-007: ready -> in_progress`.
    pub subject: String,
    /// Lines of the body, one per change when a commit changes several
    /// entities.
    pub body: Vec<String>,
    /// The operation, such as `work-order.claim`, for the `Orc-Op` trailer.
    pub op: &'static str,
}

impl Message {
    pub fn new(op: &'static str, subject: impl Into<String>) -> Self {
        Message {
            subject: one_line(&subject.into(), 120),
            body: Vec::new(),
            op,
        }
    }

    pub fn line(mut self, line: impl Into<String>) -> Self {
        self.body.push(line.into());
        self
    }

    /// The full commit message with the `Orc-Actor` and `Orc-Op` trailers.
    pub fn render(&self, actor: &str) -> String {
        let mut out = self.subject.clone();
        out.push_str("\n\n");
        if !self.body.is_empty() {
            for line in &self.body {
                out.push_str(&one_line(line, 200));
                out.push('\n');
            }
            out.push('\n');
        }
        out.push_str(&format!("Orc-Actor: {actor}\nOrc-Op: {}\n", self.op));
        out
    }
}

/// Makes text safe for one line of a commit message: control characters
/// become spaces, and long text is cut with an ellipsis.
pub fn one_line(text: &str, max: usize) -> String {
    let clean: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if clean.chars().count() <= max {
        clean
    } else {
        let cut: String = clean.chars().take(max - 3).collect();
        format!("{cut}...")
    }
}

/// The message of the error that a guarded write (see
/// [`Tx::stage_guarded`]) found its file changed.
pub const CHANGED_UNDERNEATH: &str = "changed while it was being applied";

/// What to do with a save a guarded write displaced (see
/// [`fsio::Swap::Displaced`]): called with the bytes orc wrote and the
/// displaced save.
pub type Rescue<'s> = Box<dyn Fn(&[u8], &[u8]) -> Result<()> + 's>;

/// How a file an agent writes without locks is written.
struct Guard<'s> {
    /// Write only if the file still holds these bytes (None: absent).
    expected: Option<Vec<u8>>,
    rescue: Rescue<'s>,
}

impl Guard<'_> {
    /// Writes `bytes` to `abs` if it holds `expected`, handing a save the
    /// write displaced to the rescue; returns whether it wrote.
    fn write(&self, abs: &Path, bytes: &[u8], expected: Option<&[u8]>) -> Result<bool> {
        match fsio::write_atomic_swap(abs, bytes, expected)? {
            fsio::Swap::Written => Ok(true),
            fsio::Swap::Changed => Ok(false),
            fsio::Swap::Displaced(d) => {
                (self.rescue)(bytes, &d)?;
                Ok(false)
            }
        }
    }
}

struct Staged<'s> {
    /// The working-copy file, or None for a file that lives only on the
    /// ledger (`counters.json`).
    abs: Option<PathBuf>,
    guard: Option<Guard<'s>>,
    ledger_path: String,
    bytes: Vec<u8>,
}

pub struct Tx<'s> {
    session: &'s Session,
    locks: Vec<(String, FileLock)>,
    staged: Vec<Staged<'s>>,
    /// What the body read without locking it, and the ledger tip it was
    /// read at: the commit is made only if none of it changed since.
    views: Vec<Unchanged>,
    restart: bool,
}

impl<'s> Tx<'s> {
    pub fn session(&self) -> &'s Session {
        self.session
    }

    /// Locks `path` under the ordering key `key` (a ledger path, or a name
    /// starting with `!` for ledger-wide locks, which sort first). Locking
    /// a key twice is a no-op.
    pub fn lock(&mut self, key: &str, path: &Path, what: &str) -> Result<()> {
        if self.locks.iter().any(|(k, _)| k == key) {
            return Ok(());
        }
        let in_order = self.locks.iter().all(|(k, _)| k.as_str() < key);
        let lock = if in_order {
            FileLock::acquire(path, what, self.session.settings.lock_timeout())?
        } else {
            match FileLock::try_acquire(path)? {
                Some(lock) => lock,
                None => {
                    self.restart = true;
                    return Err(Error::busy(format!("{what} is locked; restarting")));
                }
            }
        };
        self.locks.push((key.to_string(), lock));
        Ok(())
    }

    /// Declares that the body is about to read what lies at `ledger_path`
    /// (a file, or a directory such as a mission's `work-orders`) without
    /// locking all of it, and decides from it: the shape of a mission (a
    /// parent's children, dependencies) is such a read. The transaction
    /// then commits only if nothing at `ledger_path` changed on the ledger
    /// since this call; otherwise it starts over and reads again. Call it
    /// before reading. A path declared twice keeps the earlier tip.
    pub fn read_view(&mut self, ledger_path: &str) -> Result<()> {
        if self.views.iter().any(|v| v.path == ledger_path) {
            return Ok(());
        }
        let since = self.session.ledger.require_tip()?;
        self.views.push(Unchanged {
            path: ledger_path.to_string(),
            since,
        });
        Ok(())
    }

    /// Whether `key` is locked by this transaction.
    pub fn holds(&self, key: &str) -> bool {
        self.locks.iter().any(|(k, _)| k == key)
    }

    /// Stages `bytes` to be written to `abs` and recorded at `ledger_path`.
    /// Staging the same path again replaces the earlier content.
    pub fn stage(&mut self, abs: PathBuf, ledger_path: String, bytes: Vec<u8>) -> Result<()> {
        if bytes.len() as u64 > MAX_FILE_SIZE {
            return Err(Error::invalid(format!(
                "{}: the change would make it {} bytes, over the limit of 1 MiB",
                abs.display(),
                bytes.len()
            )));
        }
        self.stage_inner(Some(abs), ledger_path, bytes);
        Ok(())
    }

    /// Stages a file that lives only on the ledger.
    pub fn stage_ledger_only(&mut self, ledger_path: String, bytes: Vec<u8>) {
        self.stage_inner(None, ledger_path, bytes);
    }

    /// Like [`Tx::stage`], for a file an agent writes without locks: the
    /// transaction fails with [`CHANGED_UNDERNEATH`] (and writes nothing)
    /// unless the file still holds `expected` when it is written. A save
    /// the write displaced goes to `rescue`.
    pub fn stage_guarded(
        &mut self,
        abs: PathBuf,
        ledger_path: String,
        bytes: Vec<u8>,
        expected: Option<Vec<u8>>,
        rescue: Rescue<'s>,
    ) -> Result<()> {
        self.stage(abs, ledger_path.clone(), bytes)?;
        if let Some(s) = self
            .staged
            .iter_mut()
            .find(|s| s.ledger_path == ledger_path)
        {
            s.guard = Some(Guard { expected, rescue });
        }
        Ok(())
    }

    fn stage_inner(&mut self, abs: Option<PathBuf>, ledger_path: String, bytes: Vec<u8>) {
        self.staged.retain(|s| s.ledger_path != ledger_path);
        self.staged.push(Staged {
            abs,
            guard: None,
            ledger_path,
            bytes,
        });
    }

    /// Writes the staged files, commits them, and restores the files if the
    /// commit fails.
    fn finish(self, message: &Message) -> Result<()> {
        let mut written: Vec<(&PathBuf, Option<Vec<u8>>)> = Vec::new();
        let result = (|| {
            // Files an agent may save at any moment first, each swapped in
            // only if it still holds what was validated.
            for staged in &self.staged {
                let (Some(abs), Some(guard)) = (&staged.abs, &staged.guard) else {
                    continue;
                };
                if let Some(dir) = abs.parent() {
                    fsio::create_dir_all(dir)?;
                }
                if !guard.write(abs, &staged.bytes, guard.expected.as_deref())? {
                    return Err(Error::conflict(format!(
                        "{}: {CHANGED_UNDERNEATH}",
                        abs.display()
                    )));
                }
                written.push((abs, guard.expected.clone()));
            }
            for staged in &self.staged {
                if staged.guard.is_some() {
                    continue;
                }
                let Some(abs) = &staged.abs else { continue };
                let old = match fsio::read_regular(abs) {
                    Ok(bytes) => Some(bytes),
                    Err(ReadError::Missing) => None,
                    Err(e) => return Err(e.into_error(abs)),
                };
                if let Some(dir) = abs.parent() {
                    fsio::create_dir_all(dir)?;
                }
                fsio::write_atomic(abs, &staged.bytes)?;
                written.push((abs, old));
            }
            let changes: Vec<Change> = self
                .staged
                .iter()
                .map(|s| Change::Put {
                    path: s.ledger_path.clone(),
                    bytes: s.bytes.clone(),
                })
                .collect();
            let text = message.render(&self.session.actor);
            self.session
                .ledger
                .commit_checked(&changes, &self.session.author(), &text, &self.views)
                .map(|_| ())
        })();
        if result.is_err() {
            for (abs, old) in written.iter().rev() {
                let staged = self.staged.iter().find(|s| s.abs.as_ref() == Some(*abs));
                let ours = staged.map(|s| s.bytes.as_slice());
                let _ = match (old, staged.and_then(|s| s.guard.as_ref())) {
                    // A file agents write: put it back only if it still
                    // holds what this transaction wrote.
                    (Some(bytes), Some(guard)) => guard.write(abs, bytes, ours).map(|_| ()),
                    (Some(bytes), None) => fsio::write_atomic(abs, bytes),
                    (None, _) => fsio::remove_file_if_exists(abs),
                };
            }
        }
        result
    }
}

/// Runs `body` as a transaction (see the module documentation) and returns
/// what it returned once its change is on the ledger.
pub fn run<'s, T>(
    session: &'s Session,
    mut body: impl FnMut(&mut Tx<'s>) -> Result<(T, Message)>,
) -> Result<T> {
    const MAX_RESTARTS: u32 = 200;
    let mut restarts = 0;
    loop {
        let mut tx = Tx {
            session,
            locks: Vec::new(),
            staged: Vec::new(),
            views: Vec::new(),
            restart: false,
        };
        match body(&mut tx) {
            Ok((value, message)) => match tx.finish(&message) {
                Ok(()) => return Ok(value),
                // What the body decided from changed under it: decide again.
                Err(e) if e.message.ends_with(STALE) && restarts < MAX_RESTARTS => {
                    restarts += 1;
                    tracing::debug!("restarting a transaction: {e}");
                }
                Err(e) => return Err(e),
            },
            Err(_) if tx.restart && restarts < MAX_RESTARTS => {
                drop(tx);
                restarts += 1;
                // Back off a little, differently per process, so two
                // transactions that keep colliding stop doing so.
                let jitter = (std::process::id() % 7) as u64 + u64::from(restarts.min(20));
                std::thread::sleep(Duration::from_millis(jitter));
            }
            Err(e) => return Err(e),
        }
    }
}
