//! `assigned-work.json`: everything an IMP needs to do its assignment
//! without running a command, and the one file it may edit to report.
//!
//! orc writes the file from the work orders (see [`Assignment::refresh`])
//! whenever one of them changes, in the same commit. An IMP may edit only
//! `work_orders[].status`, `blocked_reason`, `summary`, and append to
//! `notes`; [`diff_edit`] turns such an edit into [`Edit`]s, or explains
//! why it is not allowed.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::actor::check_actor;
use super::id::{GroveId, MissionId, WorkOrderId};
use super::status::{Priority, Status};
use super::time::Timestamp;
use super::work_order::WorkOrder;
use crate::error::Error;

pub const FORMAT: u32 = 1;

/// The statuses an IMP may set by editing the file.
pub const EDITABLE_STATUSES: [Status; 4] = [
    Status::InProgress,
    Status::Review,
    Status::Done,
    Status::Blocked,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AssignmentStatus {
    /// Work to do.
    Active,
    /// Every work order is done or cancelled; the grove is idle.
    Complete,
    /// The deputy took the work back (`orc unassign`); the grove is idle.
    Released,
}

impl AssignmentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AssignmentStatus::Active => "active",
            AssignmentStatus::Complete => "complete",
            AssignmentStatus::Released => "released",
        }
    }
}

impl fmt::Display for AssignmentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AssignmentStatus {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        match s {
            "active" => Ok(AssignmentStatus::Active),
            "complete" => Ok(AssignmentStatus::Complete),
            "released" => Ok(AssignmentStatus::Released),
            _ => Err(Error::invalid(format!(
                "unknown assignment status {:?} (expected active, complete or released)",
                super::id::shorten(s)
            ))),
        }
    }
}

super::status::deserialize_from_str!(AssignmentStatus);

/// A note in the assignment file. An IMP appends `{"text": "..."}`; orc
/// fills in `at` and `by`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssignedNote {
    #[serde(default)]
    pub at: Option<Timestamp>,
    #[serde(default)]
    pub by: Option<String>,
    pub text: String,
}

/// One work order as the IMP sees it. Entries are rebuilt from the work
/// orders on every write, so a key orc does not know would be lost: it is
/// refused instead (top-level keys an agent adds are kept).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssignedWork {
    pub id: WorkOrderId,
    pub title: String,
    #[serde(default)]
    pub description: String,
    #[serde(rename = "type", default = "super::work_order::default_type")]
    pub kind: String,
    #[serde(default)]
    pub priority: Priority,
    pub status: Status,
    #[serde(default)]
    pub parent: Option<WorkOrderId>,
    #[serde(default)]
    pub depends_on: Vec<WorkOrderId>,
    #[serde(default)]
    pub acceptance: Vec<String>,
    #[serde(default)]
    pub blocked_reason: Option<String>,
    #[serde(default)]
    pub summary: Option<String>,
    #[serde(default)]
    pub notes: Vec<AssignedNote>,
    /// For a review work order: the work order it reviews.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reviews: Option<WorkOrderId>,
}

impl AssignedWork {
    fn from_work_order(wo: &WorkOrder) -> Self {
        AssignedWork {
            id: wo.id,
            title: wo.title.clone(),
            description: wo.description.clone(),
            kind: wo.kind.clone(),
            priority: wo.priority,
            status: wo.status,
            parent: wo.parent,
            depends_on: wo.depends_on.clone(),
            acceptance: wo.acceptance.clone(),
            blocked_reason: wo.blocked_reason.clone(),
            summary: wo.summary.clone(),
            notes: wo
                .notes
                .iter()
                .map(|n| AssignedNote {
                    at: Some(n.at.clone()),
                    by: Some(n.by.clone()),
                    text: n.text.clone(),
                })
                .collect(),
            reviews: wo.reviews,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assignment {
    pub format: u32,
    pub grove: GroveId,
    pub mission: MissionId,
    /// The grove's branch, where the work is committed.
    pub branch: String,
    pub status: AssignmentStatus,
    /// The work order that was assigned (with its children, if a parent).
    pub work_order: WorkOrderId,
    pub assigned_by: String,
    pub assigned_at: Timestamp,
    pub updated_at: Timestamp,
    /// The work order to do next, if any can start now.
    #[serde(default)]
    pub next: Option<WorkOrderId>,
    /// The assigned work orders: the assigned one first, then its
    /// descendants in dependency order.
    pub work_orders: Vec<AssignedWork>,
    /// How to report; written by orc.
    #[serde(default)]
    pub protocol: Value,
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// What an IMP changed in one work order by editing the file.
#[derive(Debug, Clone, PartialEq)]
pub struct Edit {
    pub id: WorkOrderId,
    pub status: Option<Status>,
    pub blocked_reason: Option<String>,
    pub summary: Option<String>,
    pub new_notes: Vec<String>,
}

impl Edit {
    pub fn new(id: WorkOrderId) -> Self {
        Edit {
            id,
            status: None,
            blocked_reason: None,
            summary: None,
            new_notes: Vec::new(),
        }
    }
}

impl Assignment {
    /// A new active assignment of `orders` (the assigned work order and its
    /// descendants) to `grove`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        grove: GroveId,
        mission: MissionId,
        branch: &str,
        root: WorkOrderId,
        assigned_by: &str,
        now: &Timestamp,
        orders: &[&WorkOrder],
        dep_done: impl Fn(WorkOrderId) -> bool,
    ) -> Assignment {
        let mut a = Assignment {
            format: FORMAT,
            grove,
            mission,
            branch: branch.to_string(),
            status: AssignmentStatus::Active,
            work_order: root,
            assigned_by: assigned_by.to_string(),
            assigned_at: now.clone(),
            updated_at: now.clone(),
            next: None,
            work_orders: Vec::new(),
            protocol: protocol(branch),
            extra: BTreeMap::new(),
        };
        a.refresh(orders, now, dep_done);
        a
    }

    /// The ids of the assigned work orders.
    pub fn ids(&self) -> Vec<WorkOrderId> {
        self.work_orders.iter().map(|w| w.id).collect()
    }

    pub fn contains(&self, id: WorkOrderId) -> bool {
        self.work_orders.iter().any(|w| w.id == id)
    }

    pub fn is_active(&self) -> bool {
        self.status == AssignmentStatus::Active
    }

    /// Rewrites the work order entries from the work orders themselves,
    /// recomputes `next`, and marks the assignment complete when every work
    /// order is closed. `dep_done` answers for dependencies outside the
    /// assignment.
    pub fn refresh(
        &mut self,
        orders: &[&WorkOrder],
        now: &Timestamp,
        dep_done: impl Fn(WorkOrderId) -> bool,
    ) {
        let sorted = dependency_order(self.work_order, orders);
        let before = self.work_orders.clone();
        self.work_orders = sorted
            .iter()
            .map(|wo| AssignedWork::from_work_order(wo))
            .collect();
        let status: HashMap<WorkOrderId, Status> =
            self.work_orders.iter().map(|w| (w.id, w.status)).collect();
        let done = |id: WorkOrderId| match status.get(&id) {
            Some(s) => *s == Status::Done,
            None => dep_done(id),
        };
        let open_children = |id: WorkOrderId| {
            self.work_orders
                .iter()
                .any(|w| w.parent == Some(id) && !w.status.is_closed())
        };
        self.next = self
            .work_orders
            .iter()
            // Work handed in for review waits for its review and merge.
            .filter(|w| {
                !w.status.is_closed() && !matches!(w.status, Status::Blocked | Status::Review)
            })
            .filter(|w| !open_children(w.id))
            .find(|w| w.depends_on.iter().all(|&d| done(d)))
            .map(|w| w.id);
        if self.is_active() && self.work_orders.iter().all(|w| w.status.is_closed()) {
            self.status = AssignmentStatus::Complete;
        }
        if self.work_orders != before {
            self.updated_at = now.clone();
        }
    }

    pub fn validate(&self) -> Result<(), String> {
        if self.format == 0 || self.format > FORMAT {
            return Err(format!(
                "field `format`: unsupported format version {} (this orc reads version {FORMAT})",
                self.format
            ));
        }
        check_actor(&self.assigned_by).map_err(|e| format!("field `assigned_by`: {e}"))?;
        if !self.contains(self.work_order) {
            return Err(format!(
                "field `work_orders`: the assigned work order {} is not listed",
                self.work_order
            ));
        }
        let mut seen = HashSet::new();
        for (i, w) in self.work_orders.iter().enumerate() {
            if !seen.insert(w.id) {
                return Err(format!(
                    "field `work_orders[{i}].id`: {} is listed twice",
                    w.id
                ));
            }
            for (j, n) in w.notes.iter().enumerate() {
                if n.text.trim().is_empty() {
                    return Err(format!(
                        "field `work_orders[{i}].notes[{j}].text`: must not be empty"
                    ));
                }
            }
        }
        Ok(())
    }
}

/// The assigned work order first, then the others so that every work order
/// comes after the ones it depends on (and after... nothing else: ties go
/// by id). Cycles (which orc refuses, but a hand edit could create) fall
/// back to id order.
fn dependency_order<'a>(root: WorkOrderId, orders: &[&'a WorkOrder]) -> Vec<&'a WorkOrder> {
    let mut rest: Vec<&WorkOrder> = orders.iter().copied().filter(|w| w.id != root).collect();
    rest.sort_by_key(|w| w.id);
    let ids: HashSet<WorkOrderId> = rest.iter().map(|w| w.id).collect();
    let mut out: Vec<&WorkOrder> = orders.iter().copied().filter(|w| w.id == root).collect();
    let mut placed: HashSet<WorkOrderId> = HashSet::new();
    while !rest.is_empty() {
        let pick = rest
            .iter()
            .position(|w| {
                w.depends_on
                    .iter()
                    .all(|d| !ids.contains(d) || placed.contains(d))
            })
            .unwrap_or(0);
        let w = rest.remove(pick);
        placed.insert(w.id);
        out.push(w);
    }
    out
}

/// The `protocol` block: how an IMP reports.
pub fn protocol(branch: &str) -> Value {
    json!({
        "summary": "Do the work orders in `work_orders`, starting with `next`. Commit your code on your branch. Report each step with a command below, or by editing this file.",
        "branch": branch,
        "commands": {
            "start": "orc work start [WO]",
            "done": "orc work done [WO] --summary TEXT",
            "block": "orc work block [WO] --reason TEXT",
            "note": "orc work note [WO] TEXT",
            "show": "orc work show",
            "ask the deputy": "orc mail send --to deputy TEXT"
        },
        "editable": {
            "work_orders[].status": ["in_progress", "review", "done", "blocked"],
            "work_orders[].blocked_reason": "required when you set status to blocked",
            "work_orders[].summary": "what the finished work amounts to",
            "work_orders[].notes": "append {\"text\": \"...\"}; orc fills in at and by"
        },
        "rules": [
            "Edit no other field: orc sets an invalid edit aside in .orc/rejected/, restores this file, and tells you why.",
            "A work order whose depends_on are not done must wait; `next` names one that can start.",
            "A parent is done when all its children are done."
        ]
    })
}

/// Compares an edited assignment with the last good one and returns what
/// the IMP changed, or why the edit is not allowed.
pub fn diff_edit(old: &Assignment, new: &Assignment) -> Result<Vec<Edit>, String> {
    const ONLY: &str = "only work_orders[].status, blocked_reason, summary and notes may be edited";
    let maintained = [
        ("format", old.format == new.format),
        ("grove", old.grove == new.grove),
        ("mission", old.mission == new.mission),
        ("branch", old.branch == new.branch),
        ("status", old.status == new.status),
        ("work_order", old.work_order == new.work_order),
        ("assigned_by", old.assigned_by == new.assigned_by),
        ("assigned_at", old.assigned_at == new.assigned_at),
        ("updated_at", old.updated_at == new.updated_at),
        ("next", old.next == new.next),
        ("protocol", old.protocol == new.protocol),
    ];
    if let Some((field, _)) = maintained.iter().find(|(_, same)| !same) {
        return Err(format!("field `{field}` is maintained by orc; {ONLY}"));
    }
    if !old.is_active() {
        return Err(format!(
            "this assignment is {}; there is nothing to report on",
            old.status
        ));
    }
    if old.ids() != new.ids() {
        return Err(format!(
            "field `work_orders`: work orders may not be added, removed or reordered ({ONLY})"
        ));
    }
    let mut edits = Vec::new();
    for (i, (o, n)) in old.work_orders.iter().zip(&new.work_orders).enumerate() {
        let fixed = [
            ("title", o.title == n.title),
            ("description", o.description == n.description),
            ("type", o.kind == n.kind),
            ("priority", o.priority == n.priority),
            ("parent", o.parent == n.parent),
            ("depends_on", o.depends_on == n.depends_on),
            ("acceptance", o.acceptance == n.acceptance),
            ("reviews", o.reviews == n.reviews),
        ];
        if let Some((field, _)) = fixed.iter().find(|(_, same)| !same) {
            return Err(format!(
                "field `work_orders[{i}].{field}` ({}) is maintained by orc; {ONLY}",
                o.id
            ));
        }
        // An agent that rewrites the file from its own copy may leave out
        // the `at` and `by` orc filled in: such a note is the same note.
        let same_note = |old: &AssignedNote, new: &AssignedNote| {
            old.text == new.text
                && (new.at.is_none() || new.at == old.at)
                && (new.by.is_none() || new.by == old.by)
        };
        if n.notes.len() < o.notes.len()
            || !o.notes.iter().zip(&n.notes).all(|(a, b)| same_note(a, b))
        {
            return Err(format!(
                "field `work_orders[{i}].notes` ({}): existing notes may not be changed or removed; append new ones at the end",
                o.id
            ));
        }
        let mut edit = Edit::new(o.id);
        for (j, note) in n.notes[o.notes.len()..].iter().enumerate() {
            if note.text.trim().is_empty() {
                return Err(format!(
                    "field `work_orders[{i}].notes[{}].text` ({}): must not be empty",
                    o.notes.len() + j,
                    o.id
                ));
            }
            edit.new_notes.push(note.text.clone());
        }
        if n.status != o.status {
            if !EDITABLE_STATUSES.contains(&n.status) {
                return Err(format!(
                    "field `work_orders[{i}].status` ({}): may be set to in_progress, review, done or blocked, not {}",
                    o.id, n.status
                ));
            }
            if n.status == Status::Blocked
                && n.blocked_reason
                    .as_deref()
                    .is_none_or(|r| r.trim().is_empty())
            {
                return Err(format!(
                    "field `work_orders[{i}].blocked_reason` ({}): say why the work is blocked when setting status to blocked",
                    o.id
                ));
            }
            edit.status = Some(n.status);
        }
        if n.blocked_reason != o.blocked_reason {
            if n.status != Status::Blocked {
                return Err(format!(
                    "field `work_orders[{i}].blocked_reason` ({}): only set it together with status blocked",
                    o.id
                ));
            }
            edit.blocked_reason = n.blocked_reason.clone();
        }
        if n.summary != o.summary {
            edit.summary = n.summary.clone();
        }
        if edit != Edit::new(o.id) {
            edits.push(edit);
        }
    }
    Ok(edits)
}

/// Carries the edit `theirs` made to `base` over to `onto`: its new notes
/// are appended, and a status (with its blocked reason) or summary it
/// changed is set, unless `onto` changed that field differently. For a save an agent
/// built on orc's version of the file while an earlier save of its own was
/// briefly out of place (see [`crate::store::fsio::Swap::Displaced`]):
/// `onto` is that earlier save. None if the two cannot be combined.
pub fn rebase(base: &Assignment, theirs: &Assignment, onto: &Assignment) -> Option<Assignment> {
    diff_edit(base, theirs).ok()?;
    if onto.ids() != base.ids() {
        return None;
    }
    let mut out = onto.clone();
    if theirs.extra != base.extra {
        if onto.extra != base.extra && onto.extra != theirs.extra {
            return None;
        }
        out.extra = theirs.extra.clone();
    }
    fn take<T: PartialEq + Clone>(base: &T, theirs: &T, onto: &mut T) -> Option<()> {
        if theirs != base {
            if *onto != *base && *onto != *theirs {
                return None;
            }
            *onto = theirs.clone();
        }
        Some(())
    }
    for ((b, t), o) in base
        .work_orders
        .iter()
        .zip(&theirs.work_orders)
        .zip(&mut out.work_orders)
    {
        // A status and its blocked reason go together: a reason may only
        // change with status blocked, so the pair comes from one side.
        let mut state = (o.status, o.blocked_reason.clone());
        // The work was started meanwhile (by this agent's own earlier save,
        // which orc applied while the file still held the agent's bytes):
        // the newer save reports on from there.
        let started = |s: Status| matches!(s, Status::Assigned | Status::InProgress);
        if started(b.status) && started(o.status) && b.status != o.status && t.status != b.status {
            state.0 = b.status;
        }
        take(
            &(b.status, b.blocked_reason.clone()),
            &(t.status, t.blocked_reason.clone()),
            &mut state,
        )?;
        (o.status, o.blocked_reason) = state;
        take(&b.summary, &t.summary, &mut o.summary)?;
        // Notes `onto` has already (carried over before) are not added
        // twice.
        for note in &t.notes[b.notes.len()..] {
            let have = o.notes[b.notes.len().min(o.notes.len())..]
                .iter()
                .any(|n| n.text == note.text);
            if !have {
                o.notes.push(note.clone());
            }
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wo(n: u32, parent: Option<u32>, deps: &[u32]) -> WorkOrder {
        WorkOrder {
            status: Status::Assigned,
            parent: parent.map(WorkOrderId::new),
            depends_on: deps.iter().map(|&d| WorkOrderId::new(d)).collect(),
            assignee: Some("IMP-GROVE-001".into()),
            ..WorkOrder::new(
                WorkOrderId::new(n),
                MissionId::new(1),
                format!("w{n}"),
                "x".into(),
                Timestamp::from_unix(0),
            )
        }
    }

    fn sample() -> Assignment {
        let orders = [
            wo(1, None, &[]),
            wo(4, Some(1), &[3]),
            wo(3, Some(1), &[2]),
            wo(2, Some(1), &[]),
        ];
        let refs: Vec<&WorkOrder> = orders.iter().collect();
        Assignment::new(
            GroveId::new(1),
            MissionId::new(1),
            "echo",
            WorkOrderId::new(1),
            "DEPUTY-MISSION-001",
            &Timestamp::from_unix(0),
            &refs,
            |_| true,
        )
    }

    #[test]
    fn work_orders_are_listed_root_first_then_in_dependency_order() {
        let a = sample();
        let ids: Vec<String> = a.ids().iter().map(|i| i.to_string()).collect();
        assert_eq!(ids, ["WO-001", "WO-002", "WO-003", "WO-004"]);
        assert_eq!(
            a.next,
            Some(WorkOrderId::new(2)),
            "the parent waits for its children"
        );
        assert_eq!(a.status, AssignmentStatus::Active);
    }

    #[test]
    fn allowed_edits_become_edits() {
        let old = sample();
        let mut new = old.clone();
        new.work_orders[1].status = Status::Done;
        new.work_orders[1].summary = Some("did it".into());
        new.work_orders[2].notes.push(AssignedNote {
            at: None,
            by: None,
            text: "hi".into(),
        });
        let edits = diff_edit(&old, &new).unwrap();
        assert_eq!(edits.len(), 2);
        assert_eq!(edits[0].status, Some(Status::Done));
        assert_eq!(edits[0].summary.as_deref(), Some("did it"));
        assert_eq!(edits[1].new_notes, ["hi"]);
    }

    #[test]
    fn a_save_built_on_orcs_version_is_carried_over_to_the_displaced_one() {
        let note = |t: &str| AssignedNote {
            at: None,
            by: None,
            text: t.into(),
        };
        // orc's version; the agent's earlier save (displaced) added a
        // note; its newest, built on orc's version, added another and
        // finished a work order.
        let base = sample();
        let mut displaced = base.clone();
        displaced.work_orders[1].notes.push(note("first"));
        let mut newest = base.clone();
        newest.work_orders[1].notes.push(note("second"));
        newest.work_orders[2].status = Status::Done;
        let merged = rebase(&base, &newest, &displaced).unwrap();
        let texts: Vec<&str> = merged.work_orders[1]
            .notes
            .iter()
            .map(|n| n.text.as_str())
            .collect();
        assert_eq!(texts, ["first", "second"]);
        assert_eq!(merged.work_orders[2].status, Status::Done);
        let edits = diff_edit(&base, &merged).unwrap();
        assert_eq!(edits[0].new_notes, ["first", "second"]);
        // The same field changed two ways cannot be combined.
        let mut other = displaced.clone();
        other.work_orders[2].status = Status::Blocked;
        other.work_orders[2].blocked_reason = Some("stuck".into());
        assert!(rebase(&base, &newest, &other).is_none());
        // Nor can a save that is not a valid edit of orc's version.
        let mut bad = newest.clone();
        bad.work_orders[1].title = "x".into();
        assert!(rebase(&base, &bad, &displaced).is_none());
    }

    #[test]
    fn a_report_built_on_a_copy_from_before_the_work_started_reports_on_from_there() {
        // The agent's own save started WO-002 (orc applied it while the
        // file still held the agent's bytes); its next save, built on that
        // copy, finishes it.
        let base = sample();
        let mut started = base.clone();
        started.work_orders[1].status = Status::InProgress;
        let mut finished = base.clone();
        finished.work_orders[1].status = Status::Done;
        finished.work_orders[1].summary = Some("did it".into());
        let merged = rebase(&base, &finished, &started).unwrap();
        assert_eq!(merged.work_orders[1].status, Status::Done);
        assert_eq!(merged.work_orders[1].summary.as_deref(), Some("did it"));
        // Work sent on elsewhere meanwhile (review) is not overwritten.
        let mut reviewed = base.clone();
        reviewed.work_orders[1].status = Status::Review;
        assert!(rebase(&base, &finished, &reviewed).is_none());
    }

    #[test]
    fn forbidden_edits_are_explained() {
        let old = sample();
        type Case = (Box<dyn Fn(&mut Assignment)>, &'static str);
        let cases: Vec<Case> = vec![
            (
                Box::new(|a| a.work_orders[1].title = "x".into()),
                "field `work_orders[1].title` (WO-002) is maintained by orc",
            ),
            (
                Box::new(|a| a.grove = GroveId::new(9)),
                "field `grove` is maintained by orc",
            ),
            (
                Box::new(|a| {
                    a.work_orders.pop();
                }),
                "may not be added, removed or reordered",
            ),
            (
                Box::new(|a| a.work_orders[1].status = Status::Cancelled),
                "may be set to in_progress, review, done or blocked, not cancelled",
            ),
            (
                Box::new(|a| a.work_orders[1].status = Status::Blocked),
                "say why the work is blocked",
            ),
            (
                Box::new(|a| {
                    a.work_orders[1].notes.push(AssignedNote {
                        at: None,
                        by: None,
                        text: " ".into(),
                    })
                }),
                "must not be empty",
            ),
        ];
        for (edit, expect) in cases {
            let mut new = old.clone();
            edit(&mut new);
            let err = diff_edit(&old, &new).unwrap_err();
            assert!(err.contains(expect), "{err}");
        }
    }
}
