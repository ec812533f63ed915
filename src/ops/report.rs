//! An IMP's reports on its assignment, by command (`orc work start|done|
//! review|block|note`) or by editing `assigned-work.json` directly: both
//! become the same edit of the work order, applied by [`apply_edit`] in one
//! commit authored by the IMP.
//!
//! An edit of the file that has not been applied yet (the watcher is not
//! running, or has not got to it) must never be overwritten by a change
//! made elsewhere, so every work-set transaction goes through
//! [`transaction`]: when it finds a grove's file holding such an edit, the
//! edit is applied first (its own commit) and the transaction runs again.
//! Applying a direct edit is thus one step on top of the work set
//! ([`super::workset`]), never inside it.

use std::path::PathBuf;

use serde::Serialize;

use super::aside::{self, Kept, OnDisk};
use super::records::read_assignment;
use super::session::Session;
use super::tx::Message;
use super::workset::{self, ChangeContext, WorkSet, has_pending_edit, set_status};
use crate::error::{Error, Kind, Result};
use crate::model::assignment::{self, Edit};
use crate::model::{self, Assignment, GroveId, Note, Status, WorkOrder, WorkOrderId};
use crate::store::OrcDir;
use crate::store::orcdir::{ASSIGNMENT_FILE, decode_record};

/// Runs `body` as one work-set transaction (see [`workset::attempt`]) and
/// returns what it returned once its change is on the ledger. A grove's
/// pending direct edit that the transaction runs into is applied first.
pub fn transaction<'s, T>(
    s: &'s Session,
    body: impl FnMut(&mut WorkSet<'_, 's>) -> Result<(T, Message)>,
) -> Result<T> {
    transaction_applying(s, None, body)
}

/// [`transaction`] for the one that applies the pending edit of `applying`.
fn transaction_applying<'s, T>(
    s: &'s Session,
    applying: Option<GroveId>,
    mut body: impl FnMut(&mut WorkSet<'_, 's>) -> Result<(T, Message)>,
) -> Result<T> {
    let mut applied: Vec<GroveId> = Vec::new();
    let mut changed = 0;
    loop {
        let (result, pending) = workset::attempt(s, applying, &mut body);
        match (result, pending) {
            // An agent that keeps saving can have a new edit pending right
            // after its last one was applied: apply again, a few times.
            (Err(_), Some(grove)) if applied.iter().filter(|g| **g == grove).count() < 10 => {
                apply_pending(s, grove)?;
                applied.push(grove);
            }
            // An agent saved its file while this transaction ran: start
            // over (unless this is the apply of that very file, which its
            // caller restarts with the new content).
            (Err(e), _)
                if applying.is_none()
                    && e.message.ends_with(super::tx::CHANGED_UNDERNEATH)
                    && changed < 20 =>
            {
                changed += 1;
                applied.clear();
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
            (result, _) => return result,
        }
    }
}

/// What an IMP reports with `orc work ...`.
#[derive(Debug, Clone)]
pub enum Report {
    Start,
    Done {
        summary: Option<String>,
        /// Hand in what is committed although the grove has changes that
        /// are not.
        allow_uncommitted: bool,
    },
    Review {
        allow_uncommitted: bool,
    },
    Block {
        reason: String,
    },
    Note {
        text: String,
    },
}

/// Reports on a work order of the grove's active assignment: the named
/// one, or by default the one in progress (else `next`).
pub fn report(
    s: &Session,
    grove: GroveId,
    wo: Option<WorkOrderId>,
    report: &Report,
) -> Result<WorkOrder> {
    let dir = s.grove_dir(grove)?;
    let a = read_assignment(&dir)?
        .filter(|a| a.is_active())
        .ok_or_else(|| {
            Error::conflict(format!("{grove} has no active assignment")).with_hint(
                "wait for the deputy to assign work; `orc work show` shows the grove's state",
            )
        })?;
    let id = match wo {
        Some(id) => {
            if !a.contains(id) {
                return Err(Error::conflict(format!(
                    "{id} is not part of {grove}'s assignment ({})",
                    a.ids()
                        .iter()
                        .map(|i| i.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
            id
        }
        None => default_target(&a, report)?,
    };
    let edit = match report {
        Report::Start => Edit {
            status: Some(Status::InProgress),
            ..Edit::new(id)
        },
        Report::Review { .. } => Edit {
            status: Some(Status::Review),
            ..Edit::new(id)
        },
        Report::Done { summary, .. } => Edit {
            status: Some(Status::Done),
            summary: summary.clone(),
            ..Edit::new(id)
        },
        Report::Block { reason } => {
            if reason.trim().is_empty() {
                return Err(Error::usage("--reason must say why the work is blocked"));
            }
            Edit {
                status: Some(Status::Blocked),
                blocked_reason: Some(reason.clone()),
                ..Edit::new(id)
            }
        }
        Report::Note { text } => {
            model::message::check_text(text).map_err(|e| Error::usage(format!("the note {e}")))?;
            Edit {
                new_notes: vec![text.clone()],
                ..Edit::new(id)
            }
        }
    };
    // Work handed in is measured, refused if it left changes uncommitted,
    // then checked — all before any lock is taken.
    let mut handin = match edit.status {
        Some(Status::Done | Status::Review) => super::review::handin(s, grove)?,
        _ => None,
    };
    // (A review's verdict brings no code: neither refused nor checked.)
    let verdict = handin.is_some() && {
        let (_, dir) = s.locate_work_order(id)?;
        super::records::read_work_order(&dir, id)?.reviews.is_some()
    };
    if let (
        Some(h),
        false,
        Report::Done {
            allow_uncommitted: false,
            ..
        }
        | Report::Review {
            allow_uncommitted: false,
        },
    ) = (&handin, verdict, report)
    {
        refuse_uncommitted(grove, id, h)?;
    }
    if let Some(h) = handin.as_mut().filter(|_| !verdict) {
        super::review::add_check(s, grove, h)?;
    }
    transaction(s, |ws| {
        ws.assignment(grove)?;
        let subject = apply_edit(ws, &edit, handin.as_ref())?;
        let wo = ws.order(id)?.clone();
        Ok((wo, Message::new("work.report", subject)))
    })
}

/// An IMP hands in only what it committed: changes left in the grove
/// would not land, and `done` would say they had. Refused (unless
/// `--allow-uncommitted`) for work that brings code — not for a review's
/// verdict.
fn refuse_uncommitted(grove: GroveId, id: WorkOrderId, h: &super::review::Handin) -> Result<()> {
    if h.uncommitted.is_empty() {
        return Ok(());
    }
    Err(Error::conflict(format!(
        "{grove} has {} change(s) that are not committed ({}); only committed work is handed in and lands",
        h.uncommitted.len(),
        h.uncommitted_list()
    ))
    .with_hint(format!(
        "commit them (`git add -A && git commit -m \"{id}: ...\"`) or remove them, then report again; --allow-uncommitted hands in only what is committed"
    )))
}

/// The work order a report without an id is about: the one in progress or
/// in review, else the one blocked (for a note), else `next`.
fn default_target(a: &Assignment, report: &Report) -> Result<WorkOrderId> {
    let with = |st: &[Status]| {
        a.work_orders
            .iter()
            .find(|w| st.contains(&w.status))
            .map(|w| w.id)
    };
    let current = with(&[Status::InProgress, Status::Review]);
    let found = match report {
        Report::Start => a.next,
        Report::Note { .. } | Report::Block { .. } => {
            current.or(with(&[Status::Blocked])).or(a.next)
        }
        _ => current.or(a.next),
    };
    found.ok_or_else(|| {
        Error::conflict("no work order of the assignment can take this report now")
            .with_hint("name one: `orc work show` lists them")
    })
}

/// Applies one IMP edit to a work order (the same for a command and for a
/// direct edit of the file) and returns the commit subject.
fn apply_edit(
    ws: &mut WorkSet,
    edit: &Edit,
    handin: Option<&super::review::Handin>,
) -> Result<String> {
    let id = edit.id;
    // Work handed in with commits to land goes to review (see
    // `super::review`); the reported status is then settled.
    let mut handed: Option<String> = None;
    let mut moved_by_handin: Option<(Status, Status)> = None;
    if let (Some(h), Some(to @ (Status::Done | Status::Review))) = (handin, edit.status) {
        let from = ws.order(id)?.status;
        let actor = ws.session().actor.clone();
        if let Some((now, summary)) = super::review::hand_in(ws, id, to, h, &actor)? {
            handed = Some(summary);
            if from != now {
                moved_by_handin = Some((from, now));
            }
        }
    }
    if let (Some(h), Some(Status::Done | Status::Review)) = (handin, edit.status) {
        super::review::note_uncommitted(ws, id, h)?;
    }
    let status_edit = if handed.is_some() { None } else { edit.status };
    let mut what: Vec<String> = Vec::new();
    let mut moved: Option<(Status, Status)> = None;
    let mut recovered = false;
    // Notes by this actor that the work order already has but the
    // assignment's last good version does not mirror yet: added by an
    // apply that was interrupted between writing and committing (or whose
    // work order was committed on its own since). They are not added again.
    let mut already_noted: Vec<String> = {
        let actor = ws.session().actor.clone();
        let mirrored: Vec<String> = match super::records::grove_of_actor(&actor) {
            Some(g) => ws
                .assignment(g)?
                .and_then(|a| a.work_orders.iter().find(|w| w.id == id).cloned())
                .map(|w| {
                    w.notes
                        .into_iter()
                        .filter(|n| n.by.as_deref() == Some(actor.as_str()))
                        .map(|n| n.text)
                        .collect()
                })
                .unwrap_or_default(),
            None => Vec::new(),
        };
        let mut mirrored = mirrored;
        let mut extra = Vec::new();
        for n in ws.order(id)?.notes.iter().filter(|n| n.by == actor) {
            match mirrored.iter().position(|t| *t == n.text) {
                Some(i) => {
                    mirrored.remove(i);
                }
                None => extra.push(n.text.clone()),
            }
        }
        extra
    };
    ws.change(id, |wo, cx| {
        let from = wo.status;
        let mut steps = Vec::new();
        if let Some(h) = &handed {
            steps.push(h.clone());
        }
        if let Some(to) = status_edit
            && wo.status != to
        {
            // An IMP may report review or done on work it never started:
            // it starts implicitly. (A status the work order already has is
            // nothing to do: the file may be ahead of the ledger after an
            // interrupted apply.)
            if wo.status == Status::Assigned && matches!(to, Status::Review | Status::Done) {
                set_status(wo, Status::InProgress, cx, None)?;
                steps.push("assigned -> in_progress".to_string());
            }
            let step = set_status(wo, to, cx, edit.blocked_reason.as_deref())?;
            steps.push(step);
            if to == Status::Blocked {
                add_note(
                    wo,
                    cx,
                    format!("blocked: {}", edit.blocked_reason.as_deref().unwrap_or("")),
                );
            }
        }
        // Blocked again, with another reason: the new reason is recorded.
        if steps.is_empty()
            && wo.status == Status::Blocked
            && let Some(reason) = &edit.blocked_reason
            && wo.blocked_reason.as_deref() != Some(reason.as_str())
        {
            wo.blocked_reason = Some(reason.clone());
            add_note(wo, cx, format!("blocked: {reason}"));
            steps.push("blocked reason".into());
        }
        if let Some(summary) = &edit.summary
            && wo.summary.as_deref() != Some(summary.as_str())
        {
            wo.summary = Some(summary.clone());
            if steps.is_empty() {
                steps.push("summary".into());
            }
        }
        for text in &edit.new_notes {
            if let Some(i) = already_noted.iter().position(|t| t == text) {
                // Added by an apply that was interrupted before its commit:
                // the file is ahead of the ledger, and is committed as it is.
                already_noted.remove(i);
                recovered = true;
                continue;
            }
            add_note(wo, cx, text.clone());
            steps.push(format!("note by {}", cx.actor));
        }
        if from != wo.status {
            moved = Some((from, wo.status));
        }
        what = steps.clone();
        Ok(steps.join(", "))
    })?;
    if recovered {
        ws.touch(id)?;
        if what.is_empty() {
            what.push(format!("note by {}", ws.session().actor));
        }
    }
    // The subject names the status change when there is one (as the
    // equivalent command would), else the last thing done.
    let headline = match moved.or(moved_by_handin) {
        Some((from, to)) => format!("{from} -> {to}"),
        None => what.last().cloned().unwrap_or_else(|| "no change".into()),
    };
    Ok(format!("{id}: {headline}"))
}

fn add_note(wo: &mut WorkOrder, cx: &ChangeContext, text: String) {
    wo.notes.push(Note {
        at: cx.now.clone(),
        by: cx.actor.to_string(),
        text,
        extra: Default::default(),
    });
}

/// What `orc apply` did with a grove's `assigned-work.json`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Applied {
    /// The file equals the ledger's copy.
    Nothing,
    /// The edit was applied (and committed, unless it changed nothing).
    Applied {
        grove: GroveId,
        changes: Vec<String>,
    },
    /// The edit was refused: kept at `kept`, the last good version restored.
    Rejected {
        grove: GroveId,
        reason: String,
        kept: PathBuf,
    },
    /// The edit is not valid but changed too recently to refuse (see
    /// `direct::Outcome::Unsettled`): left alone for now.
    Unsettled { grove: GroveId, reason: String },
}

/// Detects and applies a pending direct edit of the grove's
/// `assigned-work.json`, as one commit authored by the grove's IMP. An
/// invalid edit is not applied: its content is kept under
/// `.orc/rejected/` with the reason, and the last good version restored.
pub fn apply_pending(s: &Session, grove: GroveId) -> Result<Applied> {
    apply_pending_settled(s, grove, None)
}

/// [`apply_pending`], leaving an invalid edit changed less than `settle`
/// ago alone (the watcher: the writer may not be done).
pub fn apply_pending_settled(
    s: &Session,
    grove: GroveId,
    settle: Option<std::time::Duration>,
) -> Result<Applied> {
    // An agent saving again while its previous save is being applied makes
    // the attempt start over with the newer content.
    for _ in 0..20 {
        match apply_pending_once(s, grove, settle) {
            Err(e) if e.message.ends_with(super::tx::CHANGED_UNDERNEATH) => {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            other => return other,
        }
    }
    apply_pending_once(s, grove, settle)
}

fn apply_pending_once(
    s: &Session,
    grove: GroveId,
    settle: Option<std::time::Duration>,
) -> Result<Applied> {
    let dir = s.grove_dir(grove)?;
    if !has_pending_edit(s, grove, &dir)? {
        return Ok(Applied::Nothing);
    }
    let imp = s.with_actor(&model::actor::imp(grove))?;
    let path = dir.path(ASSIGNMENT_FILE);
    let mut seen = OnDisk::Missing;
    let mut changes: Vec<String> = Vec::new();
    let result = transaction_applying(&imp, Some(grove), |ws| {
        let old = ws.assignment(grove)?.cloned();
        seen = OnDisk::read(&path)?;
        let bytes = match &seen {
            OnDisk::Bytes(b) => b.clone(),
            OnDisk::Missing => return Err(invalid_edit("the file was deleted")),
            OnDisk::Unreadable(why) => return Err(invalid_edit(why)),
        };
        ws.applying_bytes(Some(bytes.clone()));
        if settle.is_some_and(|quiet| aside::changed_within(&path, quiet)) {
            ws.leave_applied_file();
        }
        let Some(old) = old else {
            return Err(invalid_edit(
                "this grove has never had an assignment; orc writes this file",
            ));
        };
        let new: Assignment = decode_record(&path, &bytes, |a: &Assignment| a.validate())
            .map_err(|e| invalid_edit(&strip_path(&e.message, &path)))?;
        let edits = match assignment::diff_edit(&old, &new) {
            Ok(edits) => edits,
            // Not an edit of the current version: perhaps of an earlier
            // one the agent read before orc rewrote the file (orc keeps
            // `updated_at`, notes and statuses current meanwhile). Then
            // its edit is carried over to the current version.
            Err(why) => match rebased_on_current(s, grove, &old, &new) {
                Some(merged) => {
                    assignment::diff_edit(&old, &merged).map_err(|e| invalid_edit(&e))?
                }
                None => return Err(invalid_edit(&why)),
            },
        };
        if let Some(a) = ws.assignment(grove)? {
            a.extra = new.extra.clone();
        }
        let mut subjects = Vec::new();
        let handin = if edits
            .iter()
            .any(|e| matches!(e.status, Some(Status::Done | Status::Review)))
        {
            // (The check runs for `orc work done|review` only: not inside
            // the watcher. The train checks every merge anyway.)
            super::review::handin(s, grove)?
        } else {
            None
        };
        for edit in &edits {
            subjects.push(apply_edit(ws, edit, handin.as_ref()).map_err(|e| {
                if e.message.ends_with(super::tx::CHANGED_UNDERNEATH) {
                    e
                } else {
                    invalid_edit(&e.message)
                }
            })?);
        }
        let subject = match subjects.as_slice() {
            [one] => one.clone(),
            [] => format!("{grove}: {ASSIGNMENT_FILE} edited"),
            many => format!("{grove}: {} reports from {ASSIGNMENT_FILE}", many.len()),
        };
        // A change of layout only is no change: nothing is committed.
        let kept_keys = ws.assignment(grove)?.map(|a| a.extra.clone()) != Some(old.extra.clone());
        changes = if subjects.is_empty() && kept_keys {
            vec![subject.clone()]
        } else {
            subjects
        };
        Ok(((), Message::new("work.edit", subject)))
    });
    match result {
        Ok(()) => {
            // A change of layout only leaves the file different from the
            // ledger without changing anything: write the canonical bytes,
            // unless the agent has saved again since. Not while the agent
            // is saving in a burst (the watcher looks again once the file
            // has settled): an agent reading in the instant orc's write is
            // being checked would build its next save on it.
            let busy = settle.is_some_and(|quiet| aside::changed_within(&path, quiet));
            if !busy {
                aside::normalise(
                    &imp,
                    &dir,
                    ASSIGNMENT_FILE,
                    &super::records::grove_ledger_path(grove, ASSIGNMENT_FILE),
                    match &seen {
                        OnDisk::Bytes(b) => Some(b),
                        _ => None,
                    },
                )?;
            }
            Ok(if changes.is_empty() {
                Applied::Nothing
            } else {
                Applied::Applied { grove, changes }
            })
        }
        Err(e) if e.kind == Kind::Invalid && e.message.starts_with(EDIT_PREFIX) => {
            let reason = e.message[EDIT_PREFIX.len()..].to_string();
            if let Some(quiet) = settle
                && aside::changed_within(&path, quiet)
            {
                return Ok(Applied::Unsettled { grove, reason });
            }
            Ok(
                match restore_last_good(&imp, grove, &dir, Some((seen.kept(), &reason)))? {
                    Some(kept) => Applied::Rejected {
                        grove,
                        reason,
                        kept,
                    },
                    // What was in the way is gone: a new edit.
                    None => Applied::Nothing,
                },
            )
        }
        Err(e) => Err(e),
    }
}

/// `new`, an agent's save that is not an edit of `current` (the ledger's
/// version), carried over to `current` if it is a valid edit of one of the
/// last versions the ledger had of the file.
fn rebased_on_current(
    s: &Session,
    grove: GroveId,
    current: &Assignment,
    new: &Assignment,
) -> Option<Assignment> {
    const LOOK_BACK: usize = 50;
    let path = super::records::grove_ledger_path(grove, ASSIGNMENT_FILE);
    for bytes in s
        .ledger
        .versions(&path, LOOK_BACK)
        .ok()?
        .into_iter()
        .skip(1)
    {
        let Ok(base) = model::decode::decode::<Assignment>(&bytes) else {
            continue;
        };
        if assignment::diff_edit(&base, new).is_err() {
            continue;
        }
        return assignment::rebase(&base, new, current)
            .filter(|merged| assignment::diff_edit(current, merged).is_ok());
    }
    None
}

const EDIT_PREFIX: &str = "invalid edit: ";

fn invalid_edit(why: &str) -> Error {
    Error::invalid(format!("{EDIT_PREFIX}{why}"))
}

fn strip_path(message: &str, path: &std::path::Path) -> String {
    message
        .strip_prefix(&format!("{}: ", path.display()))
        .unwrap_or(message)
        .to_string()
}

/// Keeps rejected content aside (if any) and restores the ledger's version.
fn restore_last_good(
    s: &Session,
    grove: GroveId,
    dir: &OrcDir,
    rejected: Option<(Kept, &str)>,
) -> Result<Option<PathBuf>> {
    aside::set_aside_and_restore(
        s,
        dir,
        ASSIGNMENT_FILE,
        &super::records::grove_ledger_path(grove, ASSIGNMENT_FILE),
        rejected,
        None,
    )
}
