//! The assignment protocol, the deputy's side: assigning work to a grove,
//! taking it back, and discovering what is ready and which groves are idle.
//! The IMP's side, its reports, is [`super::report`].

use serde::Serialize;

use super::records::{Loaded, read_assignment};
use super::report;
use super::session::Session;
use super::tx::Message;
use super::workset::{self, last_good_assignment};
use crate::error::{Error, Result};
use crate::model::assignment::AssignmentStatus;
use crate::model::{
    self, Assignment, Grove, GroveId, GroveStatus, MissionId, Status, WorkOrder, WorkOrderId,
};
use crate::store::orcdir::{ASSIGNMENT_FILE, GROVE_FILE};

/// Assigns work order `id` (and, if it is a parent, its open descendants)
/// to `grove`, in one commit that writes the work orders and the grove's
/// `assigned-work.json`.
pub fn assign(s: &Session, id: WorkOrderId, grove_id: GroveId) -> Result<Assignment> {
    let grove = s.ledger_grove(grove_id)?;
    if grove.status != GroveStatus::Active {
        return Err(Error::conflict(format!("{grove_id} is {}", grove.status)));
    }
    // Work goes to a grove whose agent can find it.
    s.grove_dir(grove_id)?;
    let (mission, dir) = s.locate_work_order(id)?;
    if grove.mission != mission {
        return Err(Error::conflict(format!(
            "{grove_id} works on {}, but {id} belongs to {mission}",
            grove.mission
        )));
    }
    // New work starts from the work that has landed (best effort: a grove
    // that cannot be brought up to date works from where it is).
    if last_good_assignment(s, grove_id)
        .ok()
        .flatten()
        .is_none_or(|a| !a.is_active())
        && let Err(e) = catch_up(s, grove_id)
    {
        tracing::warn!(
            "cannot bring {grove_id} up to its integration branch: {}",
            e.message
        );
    }
    report::transaction(s, |ws| {
        // The parent's subtree and the dependencies outside it are the
        // mission's shape: the commit is made only if no work order of the
        // mission changed since they were read (a child created meanwhile
        // joins the assignment on the retry), and only if the grove was
        // not removed meanwhile.
        ws.tx()
            .read_view(&super::records::grove_ledger_path(grove_id, GROVE_FILE))?;
        let loaded = workset::read_shape(ws.tx(), mission, &dir)?;
        let subtree = descendants(&loaded, id);
        let current = ws.assignment(grove_id)?.cloned();
        if let Some(a) = &current
            && a.is_active()
        {
            // A grove whose own work waits on review can review another's
            // meanwhile: the review work order joins its assignment.
            let wo = ws.order(id)?.clone();
            if waits_on_review(a) && wo.reviews.is_some() && descendants(&loaded, id).is_empty() {
                return join_review(ws, &wo, grove_id, &loaded);
            }
            return Err(Error::conflict(format!(
                "{grove_id} already holds an active assignment: {} ({})",
                a.work_order,
                a.work_orders
                    .iter()
                    .find(|w| w.id == a.work_order)
                    .map_or("", |w| w.status.as_str())
            ))
            .with_hint(format!(
                "wait until it is done, or take it back with `orc unassign {grove_id}`"
            )));
        }
        let mut all = vec![id];
        all.extend(&subtree);
        all.sort();
        for wid in &all {
            ws.order(*wid)?;
        }
        let root = ws.order(id)?.clone();
        if let Some(why) = own_review(&loaded, &root, grove_id) {
            return Err(Error::conflict(why));
        }
        if root.status != Status::Ready {
            return Err(Error::conflict(format!(
                "{id} is {}{}; only ready work can be assigned",
                root.status,
                root.assignee
                    .as_deref()
                    .map(|a| format!(" (held by {a})"))
                    .unwrap_or_default()
            )));
        }
        let open_deps: Vec<String> = root
            .depends_on
            .iter()
            .filter(|d| !subtree.contains(d))
            .filter(|&&d| loaded.get(d).is_none_or(|w| w.status != Status::Done))
            .map(|d| d.to_string())
            .collect();
        if !open_deps.is_empty() {
            return Err(Error::conflict(format!(
                "{id} is waiting on {}; assign it when they are done",
                open_deps.join(", ")
            )));
        }
        for &child in &subtree {
            let wo = ws.order(child)?.clone();
            if !wo.status.is_closed() && wo.status != Status::Ready {
                return Err(Error::conflict(format!(
                    "{id}'s child {child} is {}{}; it cannot be assigned with its parent",
                    wo.status,
                    wo.assignee
                        .as_deref()
                        .map(|a| format!(" (held by {a})"))
                        .unwrap_or_default()
                )));
            }
        }
        let imp = model::actor::imp(grove_id);
        for wid in &all {
            if ws.order(*wid)?.status == Status::Ready {
                let imp = imp.clone();
                ws.change(*wid, move |wo, _| {
                    wo.status = Status::Assigned;
                    wo.assignee = Some(imp);
                    Ok(format!("ready -> assigned to {grove_id}"))
                })?;
            }
        }
        let mut orders: Vec<WorkOrder> = Vec::new();
        for wid in &all {
            orders.push(ws.order(*wid)?.clone());
        }
        let refs: Vec<&WorkOrder> = orders.iter().collect();
        let a = Assignment::new(
            grove_id,
            mission,
            &grove.branch,
            id,
            &s.actor,
            &s.now,
            &refs,
            |_| true,
        );
        ws.set_assignment(grove_id, a.clone());
        let extra = if subtree.is_empty() {
            String::new()
        } else {
            format!(" with {} children", subtree.len())
        };
        let message = Message::new(
            "assign",
            format!("{id}: ready -> assigned to {grove_id}{extra}"),
        );
        Ok((a, message))
    })?;
    // Return the file as written (refreshed by the work set).
    read_assignment(&s.grove_dir(grove_id)?)?.ok_or_else(|| {
        Error::internal(format!(
            "{grove_id}'s {ASSIGNMENT_FILE} is missing after assign"
        ))
    })
}

/// Brings a grove that holds nothing unlanded up to its mission's
/// integration branch, so that new work starts from the work that has
/// landed: `git merge --ff-only` in the grove, or, when its work landed by
/// `rebase` or `squash` (as other commits), its branch recreated there
/// (`git reset --keep`). Leaves it alone (false) when its branch has
/// commits that have not landed, when it has changes, or when another
/// branch is checked out there.
fn catch_up(s: &Session, id: GroveId) -> Result<bool> {
    let g = s.ledger_grove(id)?;
    let Some(bases) = super::landed::Bases::read(s, g.mission, &g.branch)? else {
        return Ok(false);
    };
    let path = std::path::Path::new(&g.path);
    let here = s.ledger.checked_out(&g.branch)?;
    let same = |a: &std::path::Path, b: &std::path::Path| match (a.canonicalize(), b.canonicalize())
    {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    // On its branch, not rebasing or bisecting it (HEAD detached then).
    if !here.is_some_and(|h| same(&h, path))
        || crate::ledger::merge::branch_of(path)?.as_deref() != Some(g.branch.as_str())
    {
        return Ok(false);
    }
    let head = crate::ledger::merge::head(path)?;
    if head == bases.tip || bases.unlanded(s, head)? > 0 || !crate::ledger::merge::is_clean(path)? {
        return Ok(false);
    }
    if s.ledger.is_ancestor(head, bases.tip)? {
        crate::ledger::merge::fast_forward(path, bases.tip)?;
    } else {
        crate::ledger::merge::recreate(path, bases.tip)?;
    }
    Ok(true)
}

/// Whether an active assignment waits only on the review (and landing) of
/// its work: nothing is next and every open work order is in review.
pub fn waits_on_review(a: &Assignment) -> bool {
    a.is_active()
        && a.next.is_none()
        && a.work_orders
            .iter()
            .filter(|w| !w.status.is_closed())
            .all(|w| w.status == Status::Review)
}

/// Why `wo` may not go to `grove`: it reviews work done there.
fn own_review(loaded: &Loaded, wo: &WorkOrder, grove: GroveId) -> Option<String> {
    let reviewed = loaded.get(wo.reviews?)?;
    (reviewed.assignee.as_deref() == Some(model::actor::imp(grove).as_str())).then(|| {
        format!(
            "{} reviews {}, which {grove} did; another grove reviews it",
            wo.id, reviewed.id
        )
    })
}

/// Adds review work order `wo` to `grove`'s assignment, which waits on
/// review of its own work.
fn join_review(
    ws: &mut workset::WorkSet,
    wo: &WorkOrder,
    grove: GroveId,
    loaded: &Loaded,
) -> Result<(Assignment, Message)> {
    if let Some(why) = own_review(loaded, wo, grove) {
        return Err(Error::conflict(why));
    }
    if wo.status != Status::Ready {
        return Err(Error::conflict(format!(
            "{} is {}; only ready work can be assigned",
            wo.id, wo.status
        )));
    }
    let imp = model::actor::imp(grove);
    ws.change(wo.id, move |w, _| {
        w.status = Status::Assigned;
        w.assignee = Some(imp);
        Ok(format!(
            "ready -> assigned to {grove} (joins its assignment)"
        ))
    })?;
    ws.join_assignment(grove, wo.id);
    let a = ws
        .assignment(grove)?
        .cloned()
        .ok_or_else(|| Error::internal(format!("{grove}'s assignment vanished")))?;
    let message = Message::new(
        "assign",
        format!(
            "{}: ready -> assigned to {grove} (joins its assignment)",
            wo.id
        ),
    );
    Ok((a, message))
}

/// The descendants of `id` (children, their children, ...), in id order.
fn descendants(loaded: &Loaded, id: WorkOrderId) -> Vec<WorkOrderId> {
    let mut seen = std::collections::HashSet::from([id]);
    let mut stack = vec![id];
    while let Some(next) = stack.pop() {
        for child in loaded.children(next) {
            if seen.insert(child.id) {
                stack.push(child.id);
            }
        }
    }
    seen.remove(&id);
    let mut out: Vec<WorkOrderId> = seen.into_iter().collect();
    out.sort();
    out
}

/// Takes a grove's active assignment back: its open work orders return to
/// `ready`, the assignment becomes `released`, the grove is idle.
pub fn unassign(s: &Session, grove: GroveId) -> Result<Assignment> {
    report::transaction(s, |ws| {
        let Some(a) = ws.assignment(grove)?.cloned() else {
            return Err(Error::conflict(format!("{grove} has no assignment")));
        };
        if !a.is_active() {
            return Err(Error::conflict(format!(
                "{grove} has no active assignment (its last one is {})",
                a.status
            )));
        }
        let mut ids = a.ids();
        ids.sort();
        for id in &ids {
            ws.order(*id)?;
        }
        for id in &ids {
            // Work in review stays there: what was handed in is on the
            // grove's branch and is reviewed and lands without the grove.
            let st = ws.order(*id)?.status;
            if !st.is_closed() && st != Status::Review {
                ws.change(*id, |wo, _| {
                    let from = wo.status;
                    wo.status = Status::Ready;
                    wo.assignee = None;
                    wo.claimed_at = None;
                    wo.blocked_from = None;
                    wo.blocked_reason = None;
                    Ok(format!("{from} -> ready (unassigned from {grove})"))
                })?;
            }
        }
        let mut released = a.clone();
        released.status = AssignmentStatus::Released;
        released.updated_at = s.now.clone();
        ws.set_assignment(grove, released.clone());
        let message = Message::new("unassign", format!("{grove}: unassigned {}", a.work_order));
        Ok((released, message))
    })
}

/// The grove's state as its IMP sees it: the assignment, if any.
pub fn show(s: &Session, grove: GroveId) -> Result<(Grove, Option<Assignment>)> {
    let g = s.ledger_grove(grove)?;
    let a = read_assignment(&s.grove_dir(grove)?)?;
    Ok((g, a))
}

/// Ready work that could be dispatched, and the groves that could take it.
#[derive(Debug, Clone, Serialize)]
pub struct Discovery {
    pub mission: MissionId,
    /// Ready leaf work orders (no open children) with their dependencies
    /// done, highest priority first.
    pub ready: Vec<WorkOrder>,
    /// Active groves of the mission without an active assignment.
    pub idle_groves: Vec<GroveId>,
    /// What `--auto-claim` assigned, if anything.
    pub assigned: Option<Assignment>,
}

pub fn discover(s: &Session, mission: MissionId, auto_claim: bool) -> Result<Discovery> {
    let (ready, idle) = dispatchable(s, mission)?;
    let mut out = Discovery {
        mission,
        ready,
        idle_groves: idle,
        assigned: None,
    };
    if auto_claim && let Some(&(wo, grove)) = plan(s, mission, |_| true)?.first() {
        let a = assign(s, wo, grove)?;
        out.ready.retain(|w| w.id != wo);
        out.idle_groves.retain(|g| *g != grove);
        out.assigned = Some(a);
    }
    Ok(out)
}

/// Ready leaf work and idle groves of a mission.
pub fn dispatchable(s: &Session, mission: MissionId) -> Result<(Vec<WorkOrder>, Vec<GroveId>)> {
    let loaded = Loaded::read(&s.mission_dir(mission)?)?;
    dispatchable_in(s, mission, &loaded)
}

/// Like [`dispatchable`], with the mission's work orders already read.
pub fn dispatchable_in(
    s: &Session,
    mission: MissionId,
    loaded: &Loaded,
) -> Result<(Vec<WorkOrder>, Vec<GroveId>)> {
    let (ready, idle, _) = candidates(s, mission, loaded)?;
    Ok((ready, idle))
}

/// Ready leaf work, idle groves, and groves whose work waits on review
/// (they can take review work orders).
fn candidates(
    s: &Session,
    mission: MissionId,
    loaded: &Loaded,
) -> Result<(Vec<WorkOrder>, Vec<GroveId>, Vec<GroveId>)> {
    let ready: Vec<WorkOrder> = loaded
        .ready()
        .into_iter()
        .filter(|wo| loaded.children(wo.id).all(|c| c.status.is_closed()))
        .cloned()
        .collect();
    let (groves, _) = s.groves()?;
    let mut idle = Vec::new();
    let mut reviewing = Vec::new();
    for g in groves
        .iter()
        .filter(|g| g.mission == mission && g.status == GroveStatus::Active)
    {
        let Ok(dir) = s.grove_dir(g.id) else { continue };
        if !dir.exists() {
            continue;
        }
        match last_good_assignment(s, g.id) {
            Ok(Some(a)) if waits_on_review(&a) => reviewing.push(g.id),
            Ok(Some(a)) if a.is_active() => {}
            Ok(_) => idle.push(g.id),
            Err(_) => {}
        }
    }
    Ok((ready, idle, reviewing))
}

/// What dispatch assigns now: each ready work order (most urgent first)
/// to a grove that `available` accepts. Review work orders go to a grove
/// other than the one whose work they review, preferably one that waits on
/// review itself; other work goes to idle groves.
pub fn plan(
    s: &Session,
    mission: MissionId,
    available: impl Fn(GroveId) -> bool,
) -> Result<Vec<(WorkOrderId, GroveId)>> {
    let loaded = Loaded::read(&s.mission_dir(mission)?)?;
    let (ready, idle, reviewing) = candidates(s, mission, &loaded)?;
    let mut idle: Vec<GroveId> = idle.into_iter().filter(|g| available(*g)).collect();
    let mut reviewing: Vec<GroveId> = reviewing.into_iter().filter(|g| available(*g)).collect();
    let mut out = Vec::new();
    for wo in &ready {
        let allowed = |g: &GroveId| own_review(&loaded, wo, *g).is_none();
        let pick = if wo.reviews.is_some() {
            match reviewing.iter().position(allowed) {
                Some(i) => Some(reviewing.remove(i)),
                None => idle.iter().position(allowed).map(|i| idle.remove(i)),
            }
        } else {
            (!idle.is_empty()).then(|| idle.remove(0))
        };
        if let Some(g) = pick {
            out.push((wo.id, g));
        }
    }
    Ok(out)
}
