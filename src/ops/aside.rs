//! Keeping refused edits aside and putting the last good version back.
//!
//! A file an agent may edit directly (a work order, `assigned-work.json`,
//! a message) is never overwritten blindly: what was looked at must still
//! be there, a refused edit is kept in `.orc/rejected/` with its reason,
//! and a save that orc's guarded write displaced is rescued, never dropped.
//! Used by the direct-edit path ([`super::direct`]), the IMP's reports
//! ([`super::report`]) and every work-set transaction ([`super::workset`]).

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use super::session::Session;
use crate::error::{Error, Result};
use crate::model;
use crate::store::orcdir::{ASSIGNMENT_FILE, REJECTED_DIR};
use crate::store::{FileLock, OrcDir, fsio};

/// What is in the place of a file an agent may have edited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OnDisk {
    Missing,
    Bytes(Vec<u8>),
    /// Something orc does not read: a link, a directory, a file over the
    /// size limit. The message says which.
    Unreadable(String),
}

impl OnDisk {
    pub fn read(path: &Path) -> Result<OnDisk> {
        match fsio::read_regular(path) {
            Ok(b) => Ok(OnDisk::Bytes(b)),
            Err(fsio::ReadError::Missing) => Ok(OnDisk::Missing),
            Err(fsio::ReadError::Bad(why)) => Ok(OnDisk::Unreadable(why)),
            Err(e) => Err(e.into_error(path)),
        }
    }

    /// Whether this is what the ledger holds (`None`: nothing).
    pub(crate) fn is(&self, on_ledger: &Option<Vec<u8>>) -> bool {
        match (self, on_ledger) {
            (OnDisk::Missing, None) => true,
            (OnDisk::Bytes(b), Some(l)) => b == l,
            _ => false,
        }
    }

    /// How a refused edit of this is kept.
    pub fn kept(&self) -> Kept<'_> {
        match self {
            OnDisk::Missing => Kept::Deleted,
            OnDisk::Bytes(b) => Kept::Bytes(b),
            OnDisk::Unreadable(_) => Kept::InTheWay,
        }
    }
}

/// How a refused edit is kept in `.orc/rejected/`, beside its `.reason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kept<'a> {
    /// The edited bytes, copied aside.
    Bytes(&'a [u8]),
    /// The file was deleted: an empty file stands for it.
    Deleted,
    /// Whatever is in the file's place (a link, a directory, a file over
    /// the size limit), moved aside as it is.
    InTheWay,
}

/// Whether the file (or, if it is gone, its directory) changed less than
/// `quiet` ago.
pub fn changed_within(path: &Path, quiet: Duration) -> bool {
    let stamp = std::fs::symlink_metadata(path)
        .or_else(|_| std::fs::metadata(path.parent().unwrap_or(path)))
        .and_then(|m| m.modified());
    match stamp {
        Ok(t) => SystemTime::now()
            .duration_since(t)
            .is_ok_and(|age| age < quiet),
        Err(_) => false,
    }
}

/// If the file still differs from the ledger after a commit (a change of
/// layout only), writes the canonical bytes — unless it no longer holds
/// `applied` (the writer saved again: that is a new edit, left alone).
pub fn normalise(
    s: &Session,
    dir: &OrcDir,
    rel: &str,
    ledger_path: &str,
    applied: Option<&[u8]>,
) -> Result<()> {
    set_aside_and_restore(s, dir, rel, ledger_path, None, Some(applied)).map(|_| ())
}

/// Under the file's lock: optionally keeps rejected content in
/// `.orc/rejected/` with its reason, then writes the ledger's version back
/// if the file differs from it (or removes the file if the ledger has
/// none). Returns where the rejected content was kept.
pub fn set_aside_and_restore(
    s: &Session,
    dir: &OrcDir,
    rel: &str,
    ledger_path: &str,
    rejected: Option<(Kept, &str)>,
    only_if: Option<Option<&[u8]>>,
) -> Result<Option<PathBuf>> {
    let path = dir.path(rel);
    let _lock = FileLock::acquire(&dir.lock_path(rel), rel, s.settings.lock_timeout())?;
    if let Some(expected) = only_if {
        let now = fsio::read_regular(&path).ok();
        if now.as_deref() != expected {
            return Ok(None);
        }
    }
    // What the file must still hold for the last good version to go over
    // it: what was looked at (refused, or applied), so that a save made
    // since is never overwritten; it is a new edit, handled as one.
    let looked_at: Option<Option<Vec<u8>>> = match (&only_if, &rejected) {
        (Some(expected), _) => Some(expected.map(<[u8]>::to_vec)),
        (None, Some((Kept::Bytes(b), _))) => Some(Some(b.to_vec())),
        // Deleted, or moved aside below: the file must still be absent.
        (None, Some((Kept::Deleted | Kept::InTheWay, _))) => Some(None),
        (None, None) => None,
    };
    let aside = dir.path(REJECTED_DIR);
    let (stamp, flat) = aside_names(s, rel);
    let mut kept = None;
    if let Some((content, reason)) = rejected {
        let target = match content {
            Kept::Bytes(b) => keep_aside(s, dir, rel, b, reason)?,
            Kept::Deleted => keep_aside(s, dir, rel, b"", reason)?,
            Kept::InTheWay => {
                // Only if it is still there: a writer that put a regular
                // file back has made a new edit.
                if !matches!(OnDisk::read(&path)?, OnDisk::Unreadable(_)) {
                    return Ok(None);
                }
                fsio::create_dir_all(&aside)?;
                let target = aside.join(format!("{stamp}-{flat}"));
                std::fs::rename(&path, &target)
                    .map_err(|e| Error::io("cannot move aside", &path, e))?;
                fsio::write_atomic(
                    &aside.join(format!("{stamp}-{flat}.reason")),
                    format!("{reason}\n").as_bytes(),
                )?;
                target
            }
        };
        kept = Some(target);
    }
    let on_ledger = s.ledger.read(ledger_path)?;
    let on_disk = match fsio::read_regular(&path) {
        Ok(b) => Some(b),
        Err(fsio::ReadError::Missing) => None,
        Err(_) => {
            // A directory or a link in the way: move it aside.
            fsio::create_dir_all(&aside)?;
            let target = aside.join(format!("{stamp}-{flat}-in-the-way"));
            std::fs::rename(&path, &target)
                .map_err(|e| Error::io("cannot move aside", &path, e))?;
            None
        }
    };
    let expected = looked_at.unwrap_or_else(|| on_disk.clone());
    if on_disk != on_ledger && on_disk == expected {
        match on_ledger {
            Some(bytes) => {
                if let fsio::Swap::Displaced(d) =
                    fsio::write_atomic_swap(&path, &bytes, expected.as_deref())?
                {
                    rescue_displaced(s, dir, rel, &bytes, &d)?;
                }
            }
            None => fsio::remove_file_if_exists(&path)?,
        }
    }
    Ok(kept)
}

/// The stamp and flattened name of what is kept in `.orc/rejected/`.
fn aside_names(s: &Session, rel: &str) -> (String, String) {
    let stamp = format!(
        "{}-{}-{}",
        s.now.as_str().replace(':', ""),
        std::process::id(),
        unique()
    );
    (stamp, rel.replace('/', "_"))
}

/// Keeps `bytes` as `.orc/rejected/<stamp>-<rel>` with `reason` beside it.
fn keep_aside(s: &Session, dir: &OrcDir, rel: &str, bytes: &[u8], reason: &str) -> Result<PathBuf> {
    let aside = dir.path(REJECTED_DIR);
    let (stamp, flat) = aside_names(s, rel);
    fsio::create_dir_all(&aside)?;
    let target = aside.join(format!("{stamp}-{flat}"));
    fsio::write_atomic(&target, bytes)?;
    fsio::write_atomic(
        &aside.join(format!("{stamp}-{flat}.reason")),
        format!("{reason}\n").as_bytes(),
    )?;
    Ok(target)
}

/// Rescues a save of `rel` that orc's guarded write found displaced (see
/// [`fsio::Swap::Displaced`]): the writer saved while `ours` was briefly
/// in place, perhaps building on it, so its newest save may lack what the
/// displaced one changed. For `assigned-work.json` the newest save's edit
/// is carried over to the displaced one and the result put in place (it is
/// then applied as one edit); otherwise, or if that fails, the displaced
/// save is kept in `.orc/rejected/` with the reason, never dropped.
pub fn rescue_displaced(
    s: &Session,
    dir: &OrcDir,
    rel: &str,
    ours: &[u8],
    displaced: &[u8],
) -> Result<()> {
    let path = dir.path(rel);
    if rel == ASSIGNMENT_FILE
        && let Ok(newest) = fsio::read_regular(&path)
    {
        let decode = |b: &[u8]| model::decode::decode::<model::Assignment>(b).ok();
        let merged = match (decode(ours), decode(&newest), decode(displaced)) {
            (Some(base), Some(theirs), Some(onto)) => {
                model::assignment::rebase(&base, &theirs, &onto)
            }
            _ => None,
        };
        if let Some(m) = merged
            && fsio::write_atomic_swap(&path, &model::to_file_bytes(&m), Some(&newest))?
                == fsio::Swap::Written
        {
            tracing::info!(
                "{}: a save made while orc was writing it was merged with the one it replaced",
                path.display()
            );
            return Ok(());
        }
    }
    let kept = keep_aside(
        s,
        dir,
        rel,
        displaced,
        "a save that the writer replaced with a newer one while orc was writing the file; \
         the newer one may lack what this one changed, so make that change again if it is missing",
    )?;
    tracing::warn!(
        "{}: a save was replaced while orc was writing the file; kept as {}",
        path.display(),
        kept.display()
    );
    Ok(())
}

fn unique() -> u32 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}
