//! Direct edits: an agent or a person changed a file in an `.orc/`
//! directory without orc. A valid edit is applied through the same code as
//! the equivalent command (one commit, with what follows from it); an
//! invalid one is never committed and never silently dropped: its content is
//! kept in `.orc/rejected/` with the reason, and the last good version (the
//! ledger's) is restored.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::assign::{self, Applied};
use super::records::{grove_ledger_path, mission_file_ledger_path, work_order_ledger_path};
use super::session::Session;
use super::tx::{self, Message as Commit};
use super::workset;
use crate::error::{Error, Kind, Result};
use crate::model::{self, FileKind, GroveId, Message, Mission, MissionId, WorkOrder, WorkOrderId};
use crate::store::orcdir::{
    ASSIGNMENT_FILE, INBOX_DIR, MISSION_FILE, REJECTED_DIR, WORK_ORDERS_DIR, decode_record,
};
use crate::store::{FileLock, OrcDir, fsio};

/// Whose `.orc/` a file is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    Mission(MissionId),
    Grove(GroveId),
}

/// What happened to a direct edit.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Outcome {
    /// The file equals the ledger's copy (or is not one orc records).
    Nothing,
    /// Committed.
    Applied { file: PathBuf, changes: Vec<String> },
    /// Refused: kept at `kept`, the last good version restored.
    Rejected {
        file: PathBuf,
        reason: String,
        kept: PathBuf,
    },
}

/// Applies a direct edit of `rel` (a path inside the owner's `.orc/`).
pub fn apply(s: &Session, owner: Owner, rel: &str) -> Result<Outcome> {
    match owner {
        Owner::Grove(g) if rel == ASSIGNMENT_FILE => {
            let dir = s.grove_dir(g)?;
            Ok(match assign::apply_pending(s, g)? {
                Applied::Nothing => Outcome::Nothing,
                Applied::Applied { changes, .. } => Outcome::Applied {
                    file: dir.path(rel),
                    changes,
                },
                Applied::Rejected { reason, kept, .. } => Outcome::Rejected {
                    file: dir.path(rel),
                    reason,
                    kept,
                },
            })
        }
        Owner::Mission(m) => {
            if let Some(id) = rel
                .strip_prefix(&format!("{WORK_ORDERS_DIR}/"))
                .and_then(|n| n.strip_suffix(".json"))
                .and_then(|stem| WorkOrderId::parse(stem).ok())
                .filter(|id| rel == format!("{WORK_ORDERS_DIR}/{}", id.file_name()))
            {
                return work_order(s, m, id);
            }
            if rel == MISSION_FILE || is_message(rel) {
                let dir = s.mission_dir(m)?;
                return simple(
                    s,
                    &dir,
                    rel,
                    &mission_file_ledger_path(m, rel),
                    &model::actor::deputy(m),
                );
            }
            Ok(Outcome::Nothing)
        }
        Owner::Grove(g) if is_message(rel) => {
            let dir = s.grove_dir(g)?;
            simple(
                s,
                &dir,
                rel,
                &grove_ledger_path(g, rel),
                &model::actor::imp(g),
            )
        }
        Owner::Grove(_) => Ok(Outcome::Nothing),
    }
}

fn is_message(rel: &str) -> bool {
    rel.strip_prefix(&format!("{INBOX_DIR}/"))
        .and_then(|n| n.strip_suffix(".json"))
        .and_then(|stem| model::MessageId::parse(stem).ok())
        .is_some_and(|id| rel == format!("{INBOX_DIR}/{}", id.file_name()))
}

/// A file's bytes on disk and on the ledger (None: absent).
type Versions = (Option<Vec<u8>>, Option<Vec<u8>>);

/// Waits for any orc command that holds the file's lock (it writes the
/// file and then commits it) and returns the file's and the ledger's bytes.
fn contents(s: &Session, dir: &OrcDir, rel: &str, ledger_path: &str) -> Result<Versions> {
    {
        let _barrier = FileLock::acquire(&dir.lock_path(rel), rel, s.settings.lock_timeout())?;
    }
    let on_disk = match fsio::read_regular(&dir.path(rel)) {
        Ok(b) => Some(b),
        Err(fsio::ReadError::Missing) => None,
        // Unreadable (a directory, a link, too big): an invalid edit.
        Err(fsio::ReadError::Bad(_)) => Some(Vec::new()),
        Err(e) => return Err(e.into_error(&dir.path(rel))),
    };
    let on_ledger = s.ledger.read(ledger_path)?;
    Ok((on_disk, on_ledger))
}

/// A work order edited (or created) by hand in the mission workspace; a
/// save made while the previous one is applied starts it over.
fn work_order(s: &Session, mission: MissionId, id: WorkOrderId) -> Result<Outcome> {
    for _ in 0..20 {
        match work_order_once(s, mission, id) {
            Err(e) if e.message.ends_with(super::tx::CHANGED_UNDERNEATH) => {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            other => return other,
        }
    }
    work_order_once(s, mission, id)
}

fn work_order_once(s: &Session, mission: MissionId, id: WorkOrderId) -> Result<Outcome> {
    let dir = s.mission_dir(mission)?;
    let rel = format!("{WORK_ORDERS_DIR}/{}", id.file_name());
    let ledger_path = work_order_ledger_path(mission, id);
    let (on_disk, on_ledger) = contents(s, &dir, &rel, &ledger_path)?;
    if on_disk == on_ledger {
        return Ok(Outcome::Nothing);
    }
    let path = dir.path(&rel);
    let Some(bytes) = on_disk else {
        return reject(
            s,
            &dir,
            &rel,
            &ledger_path,
            None,
            "the file was deleted; orc keeps every work order",
        );
    };
    let name = id.file_name();
    let edited = match decode_record(&path, &bytes, |w: &WorkOrder| w.validate(&name)) {
        Ok(w) => w,
        Err(e) => {
            return reject(
                s,
                &dir,
                &rel,
                &ledger_path,
                Some(&bytes),
                &strip(&e.message, &path),
            );
        }
    };
    if edited.mission != mission {
        return reject(
            s,
            &dir,
            &rel,
            &ledger_path,
            Some(&bytes),
            &format!(
                "field `mission`: {} is in the workspace of {mission}",
                edited.mission
            ),
        );
    }
    let before: Option<WorkOrder> = match &on_ledger {
        Some(b) => Some(decode_record(&path, b, |w: &WorkOrder| w.validate(&name))?),
        None => None,
    };
    if let Some(old) = &before
        && old.status != edited.status
        && let Err(e) = old.status.check_transition(edited.status, &id.to_string())
    {
        return reject(s, &dir, &rel, &ledger_path, Some(&bytes), &e.message);
    }
    let deputy = s.with_actor(&model::actor::deputy(mission))?;
    let mut changes = Vec::new();
    let result = workset::run(&deputy, |ws| {
        let what = ws.adopt(&dir, before.clone(), edited.clone(), bytes.clone())?;
        changes = vec![format!("{id}: {what}")];
        let subject = format!("{id}: {what}");
        Ok(((), Commit::new("work-order.edit", subject)))
    });
    match result {
        Ok(()) => {
            normalise(s, &dir, &rel, &ledger_path, Some(&bytes))?;
            Ok(Outcome::Applied {
                file: path,
                changes,
            })
        }
        // Not a problem with the edit: it is tried again later.
        Err(e)
            if e.message.ends_with(super::tx::CHANGED_UNDERNEATH)
                || e.message.ends_with(super::workset::PENDING) =>
        {
            Err(e)
        }
        Err(e) if matches!(e.kind, Kind::Conflict | Kind::Invalid | Kind::NotFound) => {
            reject(s, &dir, &rel, &ledger_path, Some(&bytes), &e.message)
        }
        Err(e) => Err(e),
    }
}

/// `mission.json` or a message: validated and committed as it is (in
/// orc's layout).
fn simple(s: &Session, dir: &OrcDir, rel: &str, ledger_path: &str, actor: &str) -> Result<Outcome> {
    let (on_disk, on_ledger) = contents(s, dir, rel, ledger_path)?;
    if on_disk == on_ledger {
        return Ok(Outcome::Nothing);
    }
    let path = dir.path(rel);
    let Some(bytes) = on_disk else {
        return reject(
            s,
            dir,
            rel,
            ledger_path,
            None,
            "the file was deleted; orc keeps it",
        );
    };
    let name = Path::new(rel)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("");
    let kind = if rel == MISSION_FILE {
        FileKind::Mission
    } else {
        FileKind::Message
    };
    if let Err(e) = kind.check(name, &bytes) {
        return reject(s, dir, rel, ledger_path, Some(&bytes), &e);
    }
    let canonical = if kind == FileKind::Mission {
        let m: Mission = decode_record(&path, &bytes, |_: &Mission| Ok(()))?;
        model::to_file_bytes(&m)
    } else {
        let m: Message = decode_record(&path, &bytes, |_: &Message| Ok(()))?;
        model::to_file_bytes(&m)
    };
    let who = s.with_actor(actor)?;
    tx::run(&who, |tx| {
        tx.lock(ledger_path, &dir.lock_path(rel), rel)?;
        tx.stage(path.clone(), ledger_path.to_string(), canonical.clone())?;
        Ok(((), Commit::new("edit", format!("{rel}: edited by hand"))))
    })?;
    Ok(Outcome::Applied {
        file: path,
        changes: vec![format!("{rel}: edited by hand")],
    })
}

fn strip(message: &str, path: &Path) -> String {
    message
        .strip_prefix(&format!("{}: ", path.display()))
        .unwrap_or(message)
        .to_string()
}

fn reject(
    s: &Session,
    dir: &OrcDir,
    rel: &str,
    ledger_path: &str,
    content: Option<&[u8]>,
    reason: &str,
) -> Result<Outcome> {
    let kept = set_aside_and_restore(s, dir, rel, ledger_path, Some((content, reason)), None)?;
    Ok(Outcome::Rejected {
        file: dir.path(rel),
        reason: reason.to_string(),
        kept: kept.unwrap_or_default(),
    })
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
    rejected: Option<(Option<&[u8]>, &str)>,
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
    let aside = dir.path(REJECTED_DIR);
    let stamp = format!(
        "{}-{}-{}",
        s.now.as_str().replace(':', ""),
        std::process::id(),
        unique()
    );
    let flat = rel.replace('/', "_");
    let mut kept = None;
    if let Some((content, reason)) = rejected {
        fsio::create_dir_all(&aside)?;
        let target = aside.join(format!("{stamp}-{flat}"));
        fsio::write_atomic(&target, content.unwrap_or(b""))?;
        fsio::write_atomic(
            &aside.join(format!("{stamp}-{flat}.reason")),
            format!("{reason}\n").as_bytes(),
        )?;
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
    if on_disk != on_ledger {
        match on_ledger {
            // Only over what was just looked at: a writer that saved again
            // meanwhile keeps its new edit (it is handled as one).
            Some(bytes) => {
                fsio::write_atomic_if(&path, &bytes, on_disk.as_deref())?;
            }
            None => fsio::remove_file_if_exists(&path)?,
        }
    }
    Ok(kept)
}

fn unique() -> u32 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}
