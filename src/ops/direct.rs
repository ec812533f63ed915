//! Direct edits: an agent or a person changed a file in an `.orc/`
//! directory without orc. A valid edit is applied through the same code as
//! the equivalent command (one commit, with what follows from it); an
//! invalid one is never committed and never silently dropped: its content is
//! kept in `.orc/rejected/` with the reason, and the last good version (the
//! ledger's) is restored.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

use super::aside::{Kept, OnDisk, changed_within, normalise, set_aside_and_restore};
use super::records::{
    check_message_file, check_mission_file, check_work_order, grove_ledger_path,
    mission_file_ledger_path, work_order_ledger_path,
};
use super::report::{self, Applied};
use super::session::Session;
use super::tx::{self, Message as Commit};
use crate::error::{Error, Kind, Result};
use crate::model::{self, GroveId, Message, Mission, MissionId, WorkOrder, WorkOrderId};
use crate::store::orcdir::{
    ASSIGNMENT_FILE, INBOX_DIR, MISSION_FILE, WORK_ORDERS_DIR, decode_record,
};
use crate::store::{FileLock, OrcDir, fsio};

/// Whose `.orc/` a file is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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
    /// Not valid, but changed less than the settle time ago: it may still
    /// be being written (`cmd > file` truncates first and writes later).
    /// Nothing was done; look again later.
    Unsettled { file: PathBuf, reason: String },
}

/// Applies a direct edit of `rel` (a path inside the owner's `.orc/`).
/// With `settle`, an invalid edit changed less than that long ago is left
/// alone ([`Outcome::Unsettled`]).
pub fn apply(s: &Session, owner: Owner, rel: &str, settle: Option<Duration>) -> Result<Outcome> {
    match owner {
        Owner::Grove(g) if rel == ASSIGNMENT_FILE => {
            let dir = s.grove_dir(g)?;
            Ok(match report::apply_pending_settled(s, g, settle)? {
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
                Applied::Unsettled { reason, .. } => Outcome::Unsettled {
                    file: dir.path(rel),
                    reason,
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
                return work_order(s, m, id, settle);
            }
            if rel == MISSION_FILE || is_message(rel) {
                let dir = s.mission_dir(m)?;
                let file = File {
                    dir: &dir,
                    rel,
                    ledger_path: &mission_file_ledger_path(m, rel),
                    settle,
                };
                return simple(s, &file, owner, &model::actor::deputy(m));
            }
            Ok(Outcome::Nothing)
        }
        Owner::Grove(g) if is_message(rel) => {
            let dir = s.grove_dir(g)?;
            let file = File {
                dir: &dir,
                rel,
                ledger_path: &grove_ledger_path(g, rel),
                settle,
            };
            simple(s, &file, owner, &model::actor::imp(g))
        }
        Owner::Grove(_) => Ok(Outcome::Nothing),
    }
}

/// If `rel` holds exactly a version the ledger had on a part of its
/// history that was discarded (`discarded`: blob ids), puts the ledger's
/// version back (or removes the file the ledger no longer has) and says
/// so: it is a stale copy, not an edit.
pub fn restore_if_discarded(
    s: &Session,
    owner: Owner,
    rel: &str,
    discarded: &std::collections::HashSet<gix::ObjectId>,
) -> Result<bool> {
    let (dir, ledger_path) = match owner {
        Owner::Mission(m) => (s.mission_dir(m)?, mission_file_ledger_path(m, rel)),
        Owner::Grove(g) => (s.grove_dir(g)?, grove_ledger_path(g, rel)),
    };
    let Ok(bytes) = fsio::read_regular(&dir.path(rel)) else {
        return Ok(false);
    };
    let id = gix::objs::compute_hash(gix::hash::Kind::Sha1, gix::objs::Kind::Blob, &bytes)
        .map_err(|e| Error::internal(format!("cannot hash {rel}: {e}")))?;
    if !discarded.contains(&id) || s.ledger.read(&ledger_path)?.as_deref() == Some(&bytes) {
        return Ok(false);
    }
    set_aside_and_restore(s, &dir, rel, &ledger_path, None, Some(Some(&bytes)))?;
    Ok(true)
}

fn is_message(rel: &str) -> bool {
    rel.strip_prefix(&format!("{INBOX_DIR}/"))
        .and_then(|n| n.strip_suffix(".json"))
        .and_then(|stem| model::MessageId::parse(stem).ok())
        .is_some_and(|id| rel == format!("{INBOX_DIR}/{}", id.file_name()))
}

/// A file an agent may have edited: where it is, where the ledger keeps
/// it, and how long an invalid edit of it must be left alone.
struct File<'a> {
    dir: &'a OrcDir,
    rel: &'a str,
    ledger_path: &'a str,
    settle: Option<Duration>,
}

impl File<'_> {
    fn path(&self) -> PathBuf {
        self.dir.path(self.rel)
    }

    /// Waits for any orc command that holds the file's lock (it writes the
    /// file and then commits it) and returns what is on disk and the
    /// ledger's bytes.
    fn contents(&self, s: &Session) -> Result<(OnDisk, Option<Vec<u8>>)> {
        {
            let _barrier = FileLock::acquire(
                &self.dir.lock_path(self.rel),
                self.rel,
                s.settings.lock_timeout(),
            )?;
        }
        let on_disk = OnDisk::read(&self.path())?;
        let on_ledger = s.ledger.read(self.ledger_path)?;
        Ok((on_disk, on_ledger))
    }

    /// The edited bytes, or the outcome when there are none to apply (the
    /// file is the ledger's, or deleted, or unreadable).
    fn edited(
        &self,
        s: &Session,
        on_disk: OnDisk,
        on_ledger: &Option<Vec<u8>>,
        deleted: &str,
    ) -> Result<std::result::Result<Vec<u8>, Outcome>> {
        if on_disk.is(on_ledger) {
            return Ok(Err(Outcome::Nothing));
        }
        match on_disk {
            OnDisk::Bytes(b) => Ok(Ok(b)),
            OnDisk::Missing => self.reject(s, Kept::Deleted, deleted).map(Err),
            OnDisk::Unreadable(why) => self.reject(s, Kept::InTheWay, &why).map(Err),
        }
    }

    /// Refuses the edit: keeps it aside with the reason and restores the
    /// last good version — unless it is not settled yet.
    fn reject(&self, s: &Session, kept: Kept, reason: &str) -> Result<Outcome> {
        let file = self.path();
        if let Some(quiet) = self.settle
            && changed_within(&file, quiet)
        {
            return Ok(Outcome::Unsettled {
                file,
                reason: reason.to_string(),
            });
        }
        let at = set_aside_and_restore(
            s,
            self.dir,
            self.rel,
            self.ledger_path,
            Some((kept, reason)),
            None,
        )?;
        Ok(match at {
            Some(kept) => Outcome::Rejected {
                file,
                reason: reason.to_string(),
                kept,
            },
            // What was in the way is gone already: a new edit, handled as
            // one.
            None => Outcome::Nothing,
        })
    }
}

/// A work order edited (or created) by hand in the mission workspace; a
/// save made while the previous one is applied starts it over.
fn work_order(
    s: &Session,
    mission: MissionId,
    id: WorkOrderId,
    settle: Option<Duration>,
) -> Result<Outcome> {
    for _ in 0..20 {
        match work_order_once(s, mission, id, settle) {
            Err(e) if e.message.ends_with(super::tx::CHANGED_UNDERNEATH) => {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            other => return other,
        }
    }
    work_order_once(s, mission, id, settle)
}

fn work_order_once(
    s: &Session,
    mission: MissionId,
    id: WorkOrderId,
    settle: Option<Duration>,
) -> Result<Outcome> {
    let dir = s.mission_dir(mission)?;
    let rel = format!("{WORK_ORDERS_DIR}/{}", id.file_name());
    let ledger_path = work_order_ledger_path(mission, id);
    let file = File {
        dir: &dir,
        rel: &rel,
        ledger_path: &ledger_path,
        settle,
    };
    let (on_disk, on_ledger) = file.contents(s)?;
    let bytes = match file.edited(
        s,
        on_disk,
        &on_ledger,
        "the file was deleted; orc keeps every work order",
    )? {
        Ok(b) => b,
        Err(outcome) => return Ok(outcome),
    };
    let path = file.path();
    let name = id.file_name();
    let check = |w: &WorkOrder| check_work_order(w, &name, &dir);
    let edited = match decode_record(&path, &bytes, check) {
        Ok(w) => w,
        Err(e) => return file.reject(s, Kept::Bytes(&bytes), &strip(&e.message, &path)),
    };
    let before: Option<WorkOrder> = match &on_ledger {
        Some(b) => Some(decode_record(&path, b, check)?),
        None => None,
    };
    if let Some(old) = &before
        && old.status != edited.status
        && let Err(e) = old.status.check_transition(edited.status, &id.to_string())
    {
        return file.reject(s, Kept::Bytes(&bytes), &e.message);
    }
    if let Some(field) = review_field_edited(before.as_ref(), &edited) {
        return file.reject(
            s,
            Kept::Bytes(&bytes),
            &format!(
                "field `{field}` is maintained by orc (the review and merge record); use `orc approve`, `orc reject`, `orc artifact add` or `orc merge`"
            ),
        );
    }
    if before.as_ref() == Some(&edited) {
        // A change of layout only: nothing to commit; the file gets orc's
        // layout back.
        normalise(s, &dir, &rel, &ledger_path, Some(&bytes))?;
        return Ok(Outcome::Nothing);
    }
    let deputy = s.with_actor(&model::actor::deputy(mission))?;
    let mut changes = Vec::new();
    let result = report::transaction(&deputy, |ws| {
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
            file.reject(s, Kept::Bytes(&bytes), &e.message)
        }
        Err(e) => Err(e),
    }
}

/// `mission.json` or a message: validated and committed as it is (in
/// orc's layout).
fn simple(s: &Session, file: &File, owner: Owner, actor: &str) -> Result<Outcome> {
    let (on_disk, on_ledger) = file.contents(s)?;
    let bytes = match file.edited(s, on_disk, &on_ledger, "the file was deleted; orc keeps it")? {
        Ok(b) => b,
        Err(outcome) => return Ok(outcome),
    };
    let path = file.path();
    let name = Path::new(file.rel)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("");
    let canonical = if file.rel == MISSION_FILE {
        let Owner::Mission(id) = owner else {
            return Ok(Outcome::Nothing);
        };
        decode_record(&path, &bytes, |m: &Mission| {
            check_mission_file(m, id, file.dir)
        })
        .map(|m| model::to_file_bytes(&m))
    } else {
        let inbox_of = match owner {
            Owner::Mission(_) => "deputy".to_string(),
            Owner::Grove(g) => g.to_string(),
        };
        decode_record(&path, &bytes, |m: &Message| {
            check_message_file(m, name, &inbox_of)
        })
        .map(|m| model::to_file_bytes(&m))
    };
    let canonical = match canonical {
        Ok(c) => c,
        Err(e) => return file.reject(s, Kept::Bytes(&bytes), &strip(&e.message, &path)),
    };
    let who = s.with_actor(actor)?;
    let rel = file.rel;
    tx::run(&who, |tx| {
        tx.lock(file.ledger_path, &file.dir.lock_path(rel), rel)?;
        tx.stage(
            path.clone(),
            file.ledger_path.to_string(),
            canonical.clone(),
        )?;
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

/// The first field of the review and merge record (evidence, approval,
/// where it landed, artifacts, what it reviews) that a direct edit changed
/// (or set, on a work order created by hand): orc writes those, so an
/// agent cannot approve work past its gate or point the train at another
/// commit by editing the file.
fn review_field_edited(before: Option<&WorkOrder>, now: &WorkOrder) -> Option<&'static str> {
    let empty;
    let old = match before {
        Some(b) => b,
        None => {
            empty = WorkOrder::new(
                now.id,
                now.mission,
                now.title.clone(),
                now.created_by.clone(),
                now.created_at.clone(),
            );
            &empty
        }
    };
    if old.evidence != now.evidence {
        Some("evidence")
    } else if old.approval != now.approval {
        Some("approval")
    } else if old.landed != now.landed {
        Some("landed")
    } else if old.artifacts != now.artifacts {
        Some("artifacts")
    } else if old.reviews != now.reviews {
        Some("reviews")
    } else {
        None
    }
}
