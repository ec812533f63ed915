//! Work order use cases: create, list, show, ready, update, claim, complete,
//! block, unblock, cancel, note.
//!
//! Every mutation is one transaction: lock the work order files (in id
//! order), re-read them, check the state machine and the dependency and
//! parent rules, write, commit one ledger commit.

use super::records::{Loaded, Problem, read_work_order, work_order_ledger_path};
use super::report;
use super::session::Session;
use super::tx::{self, Message};
use super::workset::{ChangeContext, lock_work_order, set_status};
use crate::error::{Error, Result};
use crate::model::work_order::{check_title, check_word, default_type};
use crate::model::{
    self, Counter, MissionId, MissionStatus, Note, Priority, Shown, Status, WorkOrder, WorkOrderId,
};
use crate::store::OrcDir;
use crate::store::orcdir::work_order_rel;

/// What `work-order create` needs.
#[derive(Debug, Clone, Default)]
pub struct NewWorkOrder {
    pub title: String,
    pub description: String,
    pub mission: Option<MissionId>,
    pub parent: Option<WorkOrderId>,
    pub depends_on: Vec<WorkOrderId>,
    pub priority: Priority,
    pub kind: Option<String>,
    pub acceptance: Vec<String>,
    pub labels: Vec<String>,
    /// Who approves it (default: the mission's, else the repository's).
    pub review: Option<crate::model::ReviewPolicy>,
}

pub fn create(s: &Session, new: &NewWorkOrder) -> Result<WorkOrder> {
    check_title(&new.title).map_err(|e| Error::usage(e.replace("field `title`", "the title")))?;
    let kind = new.kind.clone().unwrap_or_else(default_type);
    check_word("type", &kind).map_err(|e| Error::usage(e.replace("field `type`", "--type")))?;
    for label in &new.labels {
        check_word("label", label)
            .map_err(|e| Error::usage(e.replace("field `label`", "--label")))?;
    }
    let mission = match (new.mission, new.parent) {
        (None, Some(parent)) => s.locate_work_order(parent)?.0,
        (explicit, _) => s.resolve_mission(explicit)?,
    };
    let dir = s.mission_dir(mission)?;
    dir.check_subdir(crate::store::orcdir::WORK_ORDERS_DIR)?;
    if let Some(parent) = new.parent {
        read_in_mission(&dir, mission, parent, "--parent")?;
    }
    let mut depends_on = Vec::new();
    for &dep in &new.depends_on {
        read_in_mission(&dir, mission, dep, "--depends-on")?;
        if !depends_on.contains(&dep) {
            depends_on.push(dep);
        }
    }
    report::transaction(s, |ws| {
        // The mission must still be active when the work order lands (a
        // concurrent `mission complete` makes this transaction read again).
        ws.tx()
            .read_view(&super::records::mission_ledger_path(mission))?;
        let record = super::mission::show(s, mission)?;
        if record.status != MissionStatus::Active {
            return Err(Error::conflict(format!(
                "{mission} is {}; work orders can only be added to an active mission",
                record.status
            )));
        }
        let number = super::ids::allocate(ws.tx(), Counter::WorkOrder, |n| {
            dir.path(&work_order_rel(WorkOrderId::new(n))).exists()
        })?;
        // A child of a parent that is in a grove's active assignment joins
        // that assignment. The parent is locked, so it cannot be assigned
        // or closed while the child is being added; its grove's assignment
        // is locked first when the parent's file names one.
        let mut joins = None;
        if let Some(parent) = new.parent {
            let guess = read_work_order(&dir, parent)
                .ok()
                .and_then(|p| p.assignee)
                .and_then(|a| super::records::grove_of_actor(&a));
            if let Some(grove) = guess {
                let _ = ws.assignment(grove);
            }
            let p = ws.order(parent)?.clone();
            if p.status.is_closed() {
                return Err(Error::conflict(format!(
                    "--parent {parent} is {}; a closed work order cannot take new children",
                    p.status
                )));
            }
            if let Some(grove) = p
                .assignee
                .as_deref()
                .and_then(super::records::grove_of_actor)
                && let Some(a) = ws.assignment(grove)?
                && a.is_active()
                && a.contains(parent)
            {
                joins = Some(grove);
            }
        }
        let id = WorkOrderId::new(number);
        lock_work_order(ws.tx(), &dir, mission, id)?;
        let mut wo = WorkOrder {
            description: new.description.clone(),
            kind: kind.clone(),
            priority: new.priority,
            parent: new.parent,
            depends_on: depends_on.clone(),
            acceptance: new.acceptance.clone(),
            labels: new.labels.clone(),
            review: new.review,
            ..WorkOrder::new(
                id,
                mission,
                new.title.clone(),
                s.actor.clone(),
                s.now.clone(),
            )
        };
        let mut what = format!("created in {mission}");
        if let Some(grove) = joins {
            wo.status = Status::Assigned;
            wo.assignee = Some(model::actor::imp(grove));
            ws.join_assignment(grove, id);
            what = format!("created in {mission}, assigned to {grove} with its parent");
        }
        let subject = format!("{id}: created {:?}", tx::one_line(&wo.title, 60));
        ws.insert_new(&dir, wo.clone(), &what);
        Ok((wo, Message::new("work-order.create", subject)))
    })
}

/// Filters of `work-order list`.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub status: Option<Shown>,
    pub parent: Option<WorkOrderId>,
    pub assignee: Option<String>,
    pub label: Option<String>,
}

/// One row of a listing: the work order and how it shows.
#[derive(Debug, Clone)]
pub struct Row {
    pub shown: Shown,
    pub work_order: WorkOrder,
}

/// The work orders of a mission that pass `filter`, in id order, and the
/// files that could not be read.
pub fn list(s: &Session, mission: MissionId, filter: &Filter) -> Result<(Vec<Row>, Vec<Problem>)> {
    let loaded = Loaded::read(&s.mission_dir(mission)?)?;
    let rows = loaded
        .orders
        .iter()
        .filter(|wo| {
            filter.status.is_none_or(|st| loaded.shown(wo) == st)
                && filter.parent.is_none_or(|p| wo.parent == Some(p))
                && filter
                    .assignee
                    .as_ref()
                    .is_none_or(|a| wo.assignee.as_ref() == Some(a))
                && filter.label.as_ref().is_none_or(|l| wo.labels.contains(l))
        })
        .map(|wo| Row {
            shown: loaded.shown(wo),
            work_order: wo.clone(),
        })
        .collect();
    Ok((rows, loaded.problems))
}

/// Work that can start now, by priority.
pub fn ready(s: &Session, mission: MissionId) -> Result<(Vec<Row>, Vec<Problem>)> {
    let loaded = Loaded::read(&s.mission_dir(mission)?)?;
    let rows = loaded
        .ready()
        .into_iter()
        .map(|wo| Row {
            shown: Shown::Is(Status::Ready),
            work_order: wo.clone(),
        })
        .collect();
    Ok((rows, loaded.problems))
}

/// One work order, how it shows, and its children.
#[derive(Debug, Clone)]
pub struct Detail {
    pub row: Row,
    pub children: Vec<(WorkOrderId, Shown)>,
    pub dependencies: Vec<(WorkOrderId, Option<Status>)>,
}

pub fn show(s: &Session, id: WorkOrderId) -> Result<Detail> {
    let (_, dir) = s.locate_work_order(id)?;
    let wo = read_work_order(&dir, id)?;
    let loaded = Loaded::read(&dir)?;
    let children = loaded
        .children(id)
        .map(|c| (c.id, loaded.shown(c)))
        .collect();
    let dependencies = wo
        .depends_on
        .iter()
        .map(|&d| (d, loaded.get(d).map(|w| w.status)))
        .collect();
    let shown = wo.shown(|d| loaded.get(d).is_some_and(|w| w.status == Status::Done));
    Ok(Detail {
        row: Row {
            shown,
            work_order: wo,
        },
        children,
        dependencies,
    })
}

/// What `work-order update` may change.
#[derive(Debug, Clone, Default)]
pub struct Changes {
    pub title: Option<String>,
    pub description: Option<String>,
    pub append: Option<String>,
    pub priority: Option<Priority>,
    pub status: Option<Status>,
    pub add_deps: Vec<WorkOrderId>,
    pub remove_deps: Vec<WorkOrderId>,
    pub kind: Option<String>,
    pub add_labels: Vec<String>,
    pub remove_labels: Vec<String>,
    pub pinned: Option<bool>,
    pub review: Option<crate::model::ReviewPolicy>,
}

impl Changes {
    fn is_empty(&self) -> bool {
        self.title.is_none()
            && self.description.is_none()
            && self.append.is_none()
            && self.priority.is_none()
            && self.status.is_none()
            && self.add_deps.is_empty()
            && self.remove_deps.is_empty()
            && self.kind.is_none()
            && self.add_labels.is_empty()
            && self.remove_labels.is_empty()
            && self.pinned.is_none()
            && self.review.is_none()
    }
}

/// Applies `changes` to every work order in `ids`, in one commit.
pub fn update(s: &Session, ids: &[WorkOrderId], changes: &Changes) -> Result<Vec<WorkOrder>> {
    if changes.is_empty() {
        return Err(Error::usage(
            "nothing to update: give at least one change (see --help)",
        ));
    }
    if let Some(title) = &changes.title {
        check_title(title).map_err(|e| Error::usage(e.replace("field `title`", "--title")))?;
    }
    if let Some(kind) = &changes.kind {
        check_word("type", kind).map_err(|e| Error::usage(e.replace("field `type`", "--type")))?;
    }
    for label in &changes.add_labels {
        check_word("label", label)
            .map_err(|e| Error::usage(e.replace("field `label`", "--label")))?;
    }
    mutate(s, ids, "work-order.update", |wo, cx| {
        let mut what: Vec<String> = Vec::new();
        if let Some(to) = changes.status {
            what.push(set_status(wo, to, cx, None)?);
        }
        if let Some(title) = &changes.title {
            wo.title = title.clone();
            what.push("title".into());
        }
        if let Some(d) = &changes.description {
            wo.description = d.clone();
            what.push("description".into());
        }
        if let Some(more) = &changes.append {
            if !wo.description.is_empty() && !wo.description.ends_with('\n') {
                wo.description.push('\n');
            }
            wo.description.push_str(more);
            what.push("description appended".into());
        }
        if let Some(p) = changes.priority
            && p != wo.priority
        {
            what.push(format!("priority {} -> {p}", wo.priority));
            wo.priority = p;
        }
        if let Some(k) = &changes.kind {
            wo.kind = k.clone();
            what.push(format!("type {k}"));
        }
        if let Some(r) = changes.review
            && wo.review != Some(r)
        {
            wo.review = Some(r);
            what.push(format!("review {r}"));
        }
        for dep in &changes.add_deps {
            if *dep == wo.id {
                return Err(Error::conflict(format!(
                    "{} cannot depend on itself",
                    wo.id
                )));
            }
            if !wo.depends_on.contains(dep) {
                wo.depends_on.push(*dep);
                what.push(format!("depends on {dep}"));
            }
        }
        for dep in &changes.remove_deps {
            if let Some(i) = wo.depends_on.iter().position(|d| d == dep) {
                wo.depends_on.remove(i);
                what.push(format!("no longer depends on {dep}"));
            }
        }
        for label in &changes.add_labels {
            if !wo.labels.contains(label) {
                wo.labels.push(label.clone());
                what.push(format!("label +{label}"));
            }
        }
        for label in &changes.remove_labels {
            if let Some(i) = wo.labels.iter().position(|l| l == label) {
                wo.labels.remove(i);
                what.push(format!("label -{label}"));
            }
        }
        if let Some(pinned) = changes.pinned
            && pinned != wo.pinned
        {
            wo.pinned = pinned;
            what.push(if pinned { "pinned" } else { "unpinned" }.into());
        }
        Ok(what.join(", "))
    })
}

/// Claims a ready work order for `as_actor` (default: the session's actor):
/// `ready -> in_progress`. Exactly one of many concurrent claimers wins; the
/// others get a conflict naming the winner.
pub fn claim(s: &Session, id: WorkOrderId) -> Result<WorkOrder> {
    report::transaction(s, |ws| {
        let wo = ws.order(id)?.clone();
        if wo.status != Status::Ready {
            let holder = match &wo.assignee {
                Some(a) => format!("claimed by {a}"),
                None => "not ready".to_string(),
            };
            return Err(Error::conflict(format!(
                "{id} is already {holder} (status {})",
                wo.status
            )));
        }
        let (_, dir) = s.locate_work_order(id)?;
        let open = open_dependencies(&dir, &wo)?;
        if !open.is_empty() {
            return Err(
                Error::conflict(format!("{id} is waiting on {}", open.join(", ")))
                    .with_hint("claim it when its dependencies are done"),
            );
        }
        ws.change(id, |wo, cx| {
            wo.status = Status::InProgress;
            wo.assignee = Some(cx.actor.to_string());
            wo.claimed_at = Some(cx.now.clone());
            Ok(format!("claimed by {}", cx.actor))
        })?;
        let wo = ws.order(id)?.clone();
        let message = Message::new("work-order.claim", format!("{id}: ready -> in_progress"));
        Ok((wo, message))
    })
}

pub fn complete(s: &Session, id: WorkOrderId, summary: Option<&str>) -> Result<WorkOrder> {
    let mut out = mutate(s, &[id], "work-order.complete", |wo, cx| {
        let what = set_status(wo, Status::Done, cx, None)?;
        if let Some(text) = summary {
            wo.summary = Some(text.to_string());
        }
        Ok(what)
    })?;
    Ok(out.remove(0))
}

pub fn block(s: &Session, id: WorkOrderId, reason: &str) -> Result<WorkOrder> {
    if reason.trim().is_empty() {
        return Err(Error::usage("--reason must say why the work is blocked"));
    }
    let mut out = mutate(s, &[id], "work-order.block", |wo, cx| {
        let what = set_status(wo, Status::Blocked, cx, Some(reason))?;
        add_note(wo, cx, format!("blocked: {reason}"));
        Ok(what)
    })?;
    Ok(out.remove(0))
}

pub fn unblock(s: &Session, id: WorkOrderId) -> Result<WorkOrder> {
    let mut out = mutate(s, &[id], "work-order.unblock", |wo, cx| {
        if wo.status != Status::Blocked {
            return Err(Error::conflict(format!(
                "{} is {}, not blocked",
                wo.id, wo.status
            )));
        }
        let back = wo.blocked_from.unwrap_or(Status::InProgress);
        set_status(wo, back, cx, None)
    })?;
    Ok(out.remove(0))
}

pub fn cancel(s: &Session, id: WorkOrderId, reason: Option<&str>) -> Result<WorkOrder> {
    let mut out = mutate(s, &[id], "work-order.cancel", |wo, cx| {
        let what = set_status(wo, Status::Cancelled, cx, None)?;
        if let Some(reason) = reason {
            add_note(wo, cx, format!("cancelled: {reason}"));
        }
        Ok(what)
    })?;
    Ok(out.remove(0))
}

pub fn note(s: &Session, id: WorkOrderId, text: &str) -> Result<WorkOrder> {
    if text.trim().is_empty() {
        return Err(Error::usage("the note is empty"));
    }
    let mut out = mutate(s, &[id], "work-order.note", |wo, cx| {
        add_note(wo, cx, text.to_string());
        Ok(format!("note by {}", cx.actor))
    })?;
    Ok(out.remove(0))
}

fn add_note(wo: &mut WorkOrder, cx: &ChangeContext, text: String) {
    wo.notes.push(Note {
        at: cx.now.clone(),
        by: cx.actor.to_string(),
        text,
        extra: Default::default(),
    });
}

/// Locks, re-reads and changes each work order of `ids` with `change`, and
/// commits everything (with what follows from it, see [`workset`]) as one
/// commit.
fn mutate(
    s: &Session,
    ids: &[WorkOrderId],
    op: &'static str,
    mut change: impl FnMut(&mut WorkOrder, &ChangeContext) -> Result<String>,
) -> Result<Vec<WorkOrder>> {
    let mut unique: Vec<WorkOrderId> = Vec::new();
    for id in ids {
        if !unique.contains(id) {
            unique.push(*id);
        }
    }
    if unique.is_empty() {
        return Err(Error::usage("give at least one work order id"));
    }
    // Lock in ledger-path order, the order every transaction uses.
    let mut order: Vec<(String, WorkOrderId)> = Vec::new();
    for &id in &unique {
        let (mission, _) = s.locate_work_order(id)?;
        order.push((work_order_ledger_path(mission, id), id));
    }
    order.sort();
    report::transaction(s, |ws| {
        ws.prelock_groves(&unique)?;
        for (_, id) in &order {
            ws.order(*id)?;
        }
        let mut whats = Vec::new();
        for &id in &unique {
            let mut what = String::new();
            ws.change(id, |wo, cx| {
                what = change(wo, cx)?;
                Ok(what.clone())
            })?;
            whats.push(if what.is_empty() {
                "no change".to_string()
            } else {
                what
            });
        }
        let labels: Vec<String> = unique.iter().map(|id| id.to_string()).collect();
        let subject = if whats.iter().all(|w| *w == whats[0]) {
            format!("{}: {}", labels.join(", "), whats[0])
        } else {
            format!("{}: updated", labels.join(", "))
        };
        let mut out = Vec::new();
        for &id in &unique {
            out.push(ws.order(id)?.clone());
        }
        Ok((out, Message::new(op, subject)))
    })
}

/// The dependencies of `wo` that are not done, as `WO-003 (ready)`.
fn open_dependencies(dir: &OrcDir, wo: &WorkOrder) -> Result<Vec<String>> {
    let mut open = Vec::new();
    for &dep in &wo.depends_on {
        match read_work_order(dir, dep) {
            Ok(d) if d.status == Status::Done => {}
            Ok(d) => open.push(format!("{dep} ({})", d.status)),
            Err(e) if e.kind == crate::error::Kind::NotFound => {
                open.push(format!("{dep} (missing)"))
            }
            Err(e) => return Err(e),
        }
    }
    Ok(open)
}

fn read_in_mission(
    dir: &OrcDir,
    mission: MissionId,
    id: WorkOrderId,
    flag: &str,
) -> Result<WorkOrder> {
    read_work_order(dir, id).map_err(|e| {
        if e.kind == crate::error::Kind::NotFound {
            Error::not_found(format!("{flag} {id} does not exist in {mission}"))
        } else {
            e
        }
    })
}
