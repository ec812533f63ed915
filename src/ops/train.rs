//! The merge train: approved work lands on the mission's integration
//! branch, one work order (or one batch) at a time, in a worktree orc owns.
//!
//! For each batch: the train's worktree is put on the integration branch's
//! tip (detached: no branch is checked out there), each work order's
//! handed-in head is brought in by the repository's strategy (`merge`,
//! `rebase`, `squash`), the repository's `check` runs on the result, and
//! only then is the integration branch moved, by compare-and-swap, to the
//! checked commit. Then one ledger commit records the landing: the work
//! orders are `done`, with `landed`.
//!
//! A conflict does not stop the train: that work order goes back to its
//! grove (`in_progress`) with a child work order to resolve the conflict,
//! and the others go on. A failing check sends the work back with the
//! check's output as an artifact; in a batch the failing member is found
//! by bisection and the others land. Trains of one mission are serialised
//! by a lock; the compare-and-swap guards against anyone else.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::time::Duration;

use gix::ObjectId;
use serde::Serialize;

use super::session::Session;
use super::tx::Message;
use super::workset::{WorkSet, set_status};
use crate::error::{Error, Result};
use crate::ledger::merge::{self, Brought, Strategy};
use crate::model::review::{ApprovalState, Landed, ReviewPolicy};
use crate::model::{self, MissionId, Note, Status, WorkOrder, WorkOrderId};
use crate::store::FileLock;

/// What one run of the train did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TrainReport {
    pub mission: Option<MissionId>,
    pub integration: Option<String>,
    /// Work orders landed, with the integration branch's commit after them.
    pub landed: Vec<(WorkOrderId, String)>,
    /// Work orders sent back, and why.
    pub sent_back: Vec<(WorkOrderId, String)>,
    /// Approved work orders waiting (a dependency has not landed yet).
    pub waiting: Vec<WorkOrderId>,
    /// The integration branch's tip afterwards.
    pub tip: Option<String>,
}

/// The actor the train commits as.
pub fn actor(mission: MissionId) -> String {
    format!("TRAIN-{mission}")
}

/// The train's own worktree for a mission (its name starts with `.`, which
/// no grove's may).
pub fn worktree_path(s: &Session, mission: MissionId) -> Result<PathBuf> {
    Ok(s.settings
        .worktrees_root()?
        .join(super::records::repo_slug(&s.ledger.common_dir()))
        .join(mission.to_string())
        .join(".train"))
}

fn lock_path(s: &Session, mission: MissionId) -> PathBuf {
    s.ledger.lock_path(&format!("train-{mission}"))
}

/// The lock that lets one train, landing, or removal of the train's
/// worktree of a mission run at a time on this machine (waits for it).
pub fn lock(s: &Session, mission: MissionId) -> Result<FileLock> {
    FileLock::acquire(
        &lock_path(s, mission),
        "the merge train",
        s.settings.lock_timeout(),
    )
}

/// Runs the train of `mission` (only over `only`, when given). With
/// `wait`, waits for another train of the mission to finish; else returns
/// an empty report when one runs.
pub fn run(
    s: &Session,
    mission: MissionId,
    only: &[WorkOrderId],
    wait: bool,
) -> Result<TrainReport> {
    let record = s.ledger_mission(mission)?;
    let Some(integration) = record.integration.clone() else {
        return Err(Error::conflict(format!(
            "{mission} has no integration branch; its work is done when reported"
        ))
        .with_hint(
            "missions created by this orc have one (`orc mission create --target BRANCH`)",
        ));
    };
    let _lock = if wait {
        lock(s, mission)?
    } else {
        match FileLock::try_acquire(&lock_path(s, mission))? {
            Some(l) => l,
            None => return Ok(TrainReport::default()),
        }
    };
    let train = s.with_actor(&actor(mission))?;
    let strategy = super::config::text(s, "merge.strategy")?
        .and_then(|t| Strategy::parse(&t))
        .unwrap_or(Strategy::Merge);
    let batch = super::config::text(s, "merge.batch")?
        .and_then(|t| t.parse::<usize>().ok())
        .unwrap_or(1)
        .max(1);
    let check = super::config::text(s, "check")?;
    let mut report = TrainReport {
        mission: Some(mission),
        integration: Some(integration.clone()),
        ..Default::default()
    };
    let dir = s.mission_dir(mission)?;
    let timeout = super::review::check_timeout(s)?;
    let tail = super::review::check_tail(s)?;
    let mut idle = 0;
    loop {
        let loaded = super::records::Loaded::read(&dir)?;
        let (ready, waiting, prereqs) = queue(s, &loaded.orders, only)?;
        report.waiting = waiting;
        if ready.is_empty() {
            break;
        }
        let Some(tip) = s.ledger.branch_tip(&integration)? else {
            return Err(Error::environment(format!(
                "the integration branch {integration} of {mission} is gone"
            ))
            .with_hint(format!("recreate it: git branch {integration} <target>")));
        };
        let wt = merge::train_worktree(&s.ledger.common_dir(), &worktree_path(s, mission)?, tip)?;
        let group: Vec<WorkOrder> = ready.into_iter().take(batch).collect();
        let before = report.landed.len() + report.sent_back.len();
        Run {
            s: &train,
            wt,
            integration: integration.clone(),
            strategy,
            check: check.clone(),
            timeout,
            tail,
            orders: loaded.orders,
            prereqs,
            held: HashSet::new(),
            report: &mut report,
        }
        .land_group(tip, &group)?;
        if report.landed.len() + report.sent_back.len() == before {
            // Nothing moved: the branch moved under the train, or a work
            // order changed while it worked. Look again, from the start.
            idle += 1;
            if idle > 50 {
                return Err(Error::busy(format!(
                    "the train of {mission} made no progress in 50 tries: the integration branch or its work keeps changing"
                ))
                .with_hint("run `orc merge` again"));
            }
            continue;
        }
        idle = 0;
    }
    report.tip = s.ledger.branch_tip(&integration)?.map(|t| t.to_string());
    Ok(report)
}

/// Approved work in the order it lands: priority first (critical first),
/// then each after the work orders it depends on, then by id. Those whose
/// dependencies have not landed (and are not landing in this run) wait.
/// Work stacked on the same branch counts as a dependency: a work order
/// whose handed-in head contains another open work order's handed-in head
/// lands after it (so nothing lands unreviewed through a later head).
type Prereqs = HashMap<WorkOrderId, Vec<WorkOrderId>>;

/// Whether the train would take `wo`: handed in with commits, in review,
/// approved.
pub fn waits_for_train(wo: &WorkOrder) -> bool {
    wo.status == Status::Review
        && wo.evidence.is_some()
        && wo
            .approval
            .as_ref()
            .is_some_and(|a| a.state == ApprovalState::Approved)
}

fn queue(
    s: &Session,
    orders: &[WorkOrder],
    only: &[WorkOrderId],
) -> Result<(Vec<WorkOrder>, Vec<WorkOrderId>, Prereqs)> {
    let mut candidates: Vec<&WorkOrder> = orders
        .iter()
        .filter(|w| waits_for_train(w))
        .filter(|w| only.is_empty() || only.contains(&w.id))
        .filter(|w| committed_as(s, w))
        .collect();
    candidates.sort_by(|a, b| b.priority.cmp(&a.priority).then(a.id.cmp(&b.id)));
    let done: HashSet<WorkOrderId> = orders
        .iter()
        .filter(|w| w.status == Status::Done)
        .map(|w| w.id)
        .collect();
    let head = |w: &WorkOrder| {
        w.evidence
            .as_ref()
            .and_then(|e| ObjectId::from_hex(e.head.as_bytes()).ok())
    };
    let mut stacked: std::collections::HashMap<WorkOrderId, Vec<WorkOrderId>> = Default::default();
    for c in &candidates {
        let (Some(ch), Some(ce)) = (head(c), c.evidence.as_ref()) else {
            continue;
        };
        // Open work handed in before: in review, or sent back (except the
        // work order whose conflict this one resolves).
        let earlier = |o: &&WorkOrder| {
            o.id != c.id
                && (o.status == Status::Review
                    || (!o.status.is_closed()
                        && c.parent != Some(o.id)
                        && o.approval
                            .as_ref()
                            .is_some_and(|a| a.state == ApprovalState::Rejected)))
        };
        for o in orders.iter().filter(earlier) {
            let Some(oe) = o.evidence.as_ref() else {
                continue;
            };
            // (A head missing from this repository stacks on nothing; the
            // train sends that work back when it gets to it.)
            if oe.branch == ce.branch
                && let Some(oh) = head(o)
                && oh != ch
                && s.ledger.is_ancestor(oh, ch).unwrap_or(false)
            {
                stacked.entry(c.id).or_default().push(o.id);
            }
        }
    }
    let prereqs: Prereqs = candidates
        .iter()
        .map(|w| {
            let mut p = w.depends_on.clone();
            p.extend(stacked.get(&w.id).into_iter().flatten());
            (w.id, p)
        })
        .collect();
    let mut placed: Vec<WorkOrder> = Vec::new();
    let mut progress = true;
    let mut left = candidates;
    while progress {
        progress = false;
        let mut rest = Vec::new();
        for w in left {
            let met = prereqs[&w.id]
                .iter()
                .all(|d| done.contains(d) || placed.iter().any(|p| p.id == *d));
            if met {
                placed.push(w.clone());
                progress = true;
            } else {
                rest.push(w);
            }
        }
        left = rest;
    }
    let waiting = left.iter().map(|w| w.id).collect();
    Ok((placed, waiting, prereqs))
}

/// Whether the ledger holds `wo` as read (status, evidence, approval):
/// work whose file was edited by hand and not yet taken in by orc does not
/// ride the train on the strength of that edit.
fn committed_as(s: &Session, wo: &WorkOrder) -> bool {
    let path = super::records::work_order_ledger_path(wo.mission, wo.id);
    let Ok(Some(bytes)) = s.ledger.read(&path) else {
        return false;
    };
    let Ok(on_ledger) = serde_json::from_slice::<WorkOrder>(&bytes) else {
        return false;
    };
    on_ledger.status == wo.status
        && on_ledger.evidence == wo.evidence
        && on_ledger.approval == wo.approval
}

/// Why a landing or a sending back did not happen: the work order changed
/// while the train worked on it (handed in again, rejected, cancelled).
const CHANGED: &str = "changed while the train worked on it";
/// Why a landing did not happen: someone moved the integration branch.
const MOVED: &str = "the integration branch moved under the train";

/// Whether an error is one of the train's own "look again" signals.
fn look_again(e: &Error) -> bool {
    e.message.ends_with(CHANGED) || e.message.ends_with(MOVED)
}

/// Fails with [`CHANGED`] unless work order `wo`, as it is now (read
/// under its lock), is still the hand-in the train took: in review,
/// approved, with the same head.
fn unchanged(ws: &mut WorkSet, wo: &WorkOrder) -> Result<()> {
    let now = ws.order(wo.id)?;
    let head = |w: &WorkOrder| w.evidence.as_ref().map(|e| e.head.clone());
    let same = now.status == Status::Review
        && head(now) == head(wo)
        && now
            .approval
            .as_ref()
            .is_some_and(|a| a.state == ApprovalState::Approved);
    if same {
        Ok(())
    } else {
        Err(Error::conflict(format!("{}: {CHANGED}", wo.id)))
    }
}

/// One pass of the train over a group of work orders.
struct Run<'a> {
    /// The train's session (its actor).
    s: &'a Session,
    wt: PathBuf,
    integration: String,
    strategy: Strategy,
    check: Option<String>,
    timeout: Duration,
    tail: usize,
    orders: Vec<WorkOrder>,
    /// What each queued work order must follow (its dependencies, and
    /// earlier work stacked under it).
    prereqs: Prereqs,
    /// Work that did not land in this pass: what needs it waits.
    held: HashSet<WorkOrderId>,
    report: &'a mut TrainReport,
}

impl Run<'_> {
    /// Brings `group` in on `tip`, checks, and lands what passes; bisects
    /// a failing batch. Work whose prerequisite did not land waits.
    fn land_group(&mut self, tip: ObjectId, group: &[WorkOrder]) -> Result<()> {
        merge::reset(&self.wt, tip)?;
        let mut brought: Vec<WorkOrder> = Vec::new();
        for wo in group {
            let needs_held = self
                .prereqs
                .get(&wo.id)
                .is_some_and(|p| p.iter().any(|d| self.held.contains(d)));
            if needs_held {
                self.held.insert(wo.id);
                continue;
            }
            match self.bring(tip, wo, &brought) {
                Ok(Brought::Done(_) | Brought::Nothing) => brought.push(wo.clone()),
                Ok(Brought::Conflict(files)) => {
                    self.held.insert(wo.id);
                    let why = format!(
                        "conflicts with {} in {}",
                        self.integration,
                        files.join(", ")
                    );
                    if sent(send_back_conflict(self.s, wo, &self.integration, &files))? {
                        self.report.sent_back.push((wo.id, why));
                    }
                }
                // The work itself cannot be brought in (its head is not in
                // this repository, or shares no history with the branch):
                // it goes back, and the train goes on.
                Err(e) if e.kind == crate::error::Kind::Conflict => {
                    self.held.insert(wo.id);
                    let why = format!("the train could not bring it in: {}", e.message);
                    if sent(send_back_unbringable(self.s, wo, &why))? {
                        self.report.sent_back.push((wo.id, why));
                    }
                }
                Err(e) => return Err(e),
            }
        }
        if brought.is_empty() {
            return Ok(());
        }
        let result = merge::head(&self.wt)?;
        if let Some(command) = self.check.clone() {
            let c = merge::check(&self.wt, &command, self.tail, self.timeout)?;
            if c.exit != Some(0) {
                if brought.len() > 1 {
                    // Bisect: the first half on the tip, then the second
                    // half on wherever that left the branch.
                    let (a, b) = brought.split_at(brought.len() / 2);
                    self.land_group(tip, a)?;
                    for w in a {
                        if !self.report.landed.iter().any(|(l, _)| *l == w.id) {
                            self.held.insert(w.id);
                        }
                    }
                    let now = self.s.ledger.branch_tip(&self.integration)?.unwrap_or(tip);
                    return self.land_group(now, b);
                }
                let wo = &brought[0];
                self.held.insert(wo.id);
                let outcome = c.outcome(self.timeout);
                if sent(send_back_check(self.s, wo, &command, &c, &outcome))? {
                    self.report.sent_back.push((
                        wo.id,
                        format!("the check failed on the merge result ({outcome})"),
                    ));
                }
                return Ok(());
            }
        }
        match record_landing(self.s, &brought, &self.integration, tip, result) {
            Ok(ids) => {
                for w in &brought {
                    if ids.contains(&w.id) {
                        self.report.landed.push((w.id, result.to_string()));
                    } else {
                        self.held.insert(w.id);
                    }
                }
                Ok(())
            }
            // The caller looks again from the start.
            Err(e) if look_again(&e) => {
                self.held.extend(brought.iter().map(|w| w.id));
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// Brings one work order's handed-in head onto the train's worktree.
    fn bring(&self, tip: ObjectId, wo: &WorkOrder, brought: &[WorkOrder]) -> Result<Brought> {
        let s = self.s;
        let e = wo.evidence.as_ref().expect("queued work has evidence");
        let head = ObjectId::from_hex(e.head.as_bytes()).map_err(|_| {
            Error::conflict(format!("evidence.head {:?} is not a commit id", e.head))
        })?;
        if !merge::has_commit(&s.ledger.common_dir(), head)? {
            return Err(Error::conflict(format!(
                "its handed-in head {head} is not in this repository"
            )));
        }
        // For strategies that replay the work: from where its unlanded
        // part starts (work landed earlier in this run counts too). A
        // merge needs no starting point.
        let from = if self.strategy == Strategy::Merge {
            head
        } else {
            let mut bases = super::landed::Bases::new(tip, &e.branch, &self.orders);
            let this_run = |id: WorkOrderId| {
                self.report.landed.iter().any(|(l, _)| *l == id)
                    || brought.iter().any(|b| b.id == id)
            };
            bases.heads.extend(
                self.orders
                    .iter()
                    .filter(|w| this_run(w.id))
                    .filter_map(|w| w.evidence.as_ref())
                    .filter(|o| o.branch == e.branch)
                    .filter_map(|o| ObjectId::from_hex(o.head.as_bytes()).ok()),
            );
            bases.present(s)?.since(s, head)?
        };
        let author = s.author();
        let message = format!(
            "{}: {} ({})\n\nMerged by orc's merge train for {}.\n\nOrc-Work-Order: {}\n",
            wo.id,
            super::tx::one_line(&wo.title, 60),
            wo.assignee.as_deref().unwrap_or("?"),
            wo.mission,
            wo.id
        );
        merge::bring(
            &self.wt,
            self.strategy,
            from,
            head,
            (&author.name, &author.email),
            author.time,
            &message,
        )
    }
}

/// Whether a sending back happened (false: the work order changed while
/// the train worked on it, and is left as it now is).
fn sent(result: Result<()>) -> Result<bool> {
    match result {
        Ok(()) => Ok(true),
        Err(e) if look_again(&e) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Records the landing of `landed` and moves the integration branch from
/// `tip` to `commit`, in that order inside one ledger transaction: each
/// work order is first seen (under its lock) still handed in with the head
/// that was brought in and still approved, so a new hand-in, a rejection
/// or a cancel that came while the check ran keeps that work off the
/// branch ([`CHANGED`]); a branch moved by someone else is not overwritten
/// ([`MOVED`]).
fn record_landing(
    s: &Session,
    landed: &[WorkOrder],
    integration: &str,
    tip: ObjectId,
    commit: ObjectId,
) -> Result<Vec<WorkOrderId>> {
    let mission = landed[0].mission;
    super::report::transaction(s, |ws| {
        // Moved by an earlier attempt of this transaction (the closure runs
        // again when the ledger changed underneath): the work is on the
        // branch whatever happened since, so what is unchanged is recorded
        // and what changed (handed in again) is left for the next train.
        let moved_already = commit != tip && s.ledger.branch_tip(integration)? == Some(commit);
        let mut ids: Vec<WorkOrderId> = Vec::new();
        for w in landed {
            match unchanged(ws, w) {
                Ok(()) => ids.push(w.id),
                Err(e) if moved_already && look_again(&e) => {}
                Err(e) => return Err(e),
            }
        }
        if ids.is_empty() {
            return Err(Error::conflict(CHANGED.to_string()));
        }
        for &id in &ids {
            let at = s.now.clone();
            ws.change(id, |w, cx| {
                set_status(w, Status::Done, cx, None)?;
                w.landed = Some(Landed {
                    integration: integration.to_string(),
                    commit: commit.to_string(),
                    at,
                    extra: Default::default(),
                });
                Ok(format!("review -> done (landed on {integration})"))
            })?;
        }
        // A conflict resolved: the work order it was made for landed with
        // it (its handed-in head is in the landed commit), and is done too
        // unless it has other open children.
        for w in landed
            .iter()
            .filter(|w| w.kind == "conflict" && ids.contains(&w.id))
        {
            let Some(parent) = w.parent else { continue };
            let p = ws.order(parent)?.clone();
            let head = p
                .evidence
                .as_ref()
                .and_then(|e| ObjectId::from_hex(e.head.as_bytes()).ok());
            let others_open = super::records::Loaded::read(&s.mission_dir(mission)?)?
                .children(parent)
                .any(|c| c.id != w.id && !c.status.is_closed() && !ids.contains(&c.id));
            if p.status != Status::InProgress || others_open {
                continue;
            }
            // The resolution was built on the work: the child's head
            // contains the parent's (its commits are not on the branch
            // itself with the rebase and squash strategies).
            let child_head = w
                .evidence
                .as_ref()
                .and_then(|e| ObjectId::from_hex(e.head.as_bytes()).ok());
            let (Some(head), Some(child_head)) = (head, child_head) else {
                continue;
            };
            if !s.ledger.is_ancestor(head, child_head)? {
                continue;
            }
            let at = s.now.clone();
            let child = w.id;
            ws.change(parent, |p, cx| {
                set_status(p, Status::Done, cx, None)?;
                p.landed = Some(Landed {
                    integration: integration.to_string(),
                    commit: commit.to_string(),
                    at,
                    extra: Default::default(),
                });
                if let Some(a) = &mut p.approval {
                    a.state = ApprovalState::Approved;
                }
                Ok(format!(
                    "in_progress -> done (landed with {child} on {integration})"
                ))
            })?;
        }
        // Last, with every lock taken and every record read: the branch
        // moves (nothing after this in the closure can fail but the commit
        // itself).
        if commit != tip && !moved_already {
            let msg = format!(
                "orc: landed {}",
                ids.iter()
                    .map(|i| i.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            if !s
                .ledger
                .set_branch(integration, Some(tip), commit, &s.author(), &msg)?
            {
                return Err(Error::conflict(MOVED.to_string()));
            }
        }
        let names: Vec<String> = ids.iter().map(|i| i.to_string()).collect();
        let subject = if ids.len() == 1 {
            format!("{}: review -> done (landed on {integration})", names[0])
        } else {
            format!("{mission}: landed {} on {integration}", names.join(", "))
        };
        Ok((
            ids,
            Message::new("train.land", subject).line(format!("at {commit}")),
        ))
    })
}

/// A work order that conflicts with the integration branch goes back to
/// its grove with a child work order to resolve it.
fn send_back_conflict(
    s: &Session,
    wo: &WorkOrder,
    integration: &str,
    files: &[String],
) -> Result<()> {
    let id = wo.id;
    let (_, dir) = s.locate_work_order(id)?;
    let files_text = files.join(", ");
    super::report::transaction(s, |ws| {
        let number = super::ids::allocate(ws.tx(), model::Counter::WorkOrder, |n| {
            dir.path(&crate::store::orcdir::work_order_rel(WorkOrderId::new(n)))
                .exists()
        })?;
        let child_id = WorkOrderId::new(number);
        unchanged(ws, wo)?;
        super::workset::lock_work_order(ws.tx(), &dir, wo.mission, child_id)?;
        let parent = ws.order(id)?.clone();
        let mut child = WorkOrder::new(
            child_id,
            wo.mission,
            format!("Resolve the conflict of {id} with {integration}"),
            s.actor.clone(),
            s.now.clone(),
        );
        child.kind = "conflict".into();
        child.priority = parent.priority;
        child.parent = Some(id);
        child.description = format!(
            "Merging {id} into {integration} conflicts in: {files_text}.\nIn this grove: `git merge {integration}`, resolve the conflicts, commit, then `orc work done`. The merge train lands this work order (and so {id}) once it merges cleanly."
        );
        child.acceptance = vec![format!(
            "`git merge {integration}` in this grove reports nothing to merge"
        )];
        // The work was reviewed; resolving its conflict needs no new review,
        // unless a person must see every change.
        let gate = parent.approval.as_ref().map(|a| a.policy);
        child.review = Some(if gate == Some(ReviewPolicy::Human) {
            ReviewPolicy::Human
        } else {
            ReviewPolicy::None
        });
        if let Some(a) = &parent.assignee {
            child.status = Status::Assigned;
            child.assignee = Some(a.clone());
            if let Some(g) = super::records::grove_of_actor(a) {
                ws.assignment(g)?;
                ws.join_assignment(g, child_id);
            }
        }
        ws.insert_new(
            &dir,
            child,
            &format!("created: {id} conflicts with {integration}"),
        );
        let text = format!(
            "the merge train could not merge it into {integration}: conflicts in {files_text}; resolve them in {child_id}"
        );
        ws.change(id, |w, cx| {
            set_status(w, Status::InProgress, cx, None)?;
            if let Some(a) = &mut w.approval {
                a.state = ApprovalState::Rejected;
                a.by = Some(cx.actor.to_string());
                a.at = Some(cx.now.clone());
                a.note = Some(format!("conflicts in {files_text}"));
            }
            w.notes.push(Note {
                at: cx.now.clone(),
                by: cx.actor.to_string(),
                text: text.clone(),
                extra: Default::default(),
            });
            Ok(format!(
                "review -> in_progress (conflict with {integration})"
            ))
        })?;
        Ok((
            (),
            Message::new(
                "train.conflict",
                format!("{id}: review -> in_progress (conflicts with {integration})"),
            )
            .line(format!("files: {files_text}")),
        ))
    })
}

/// A work order whose merge fails the check goes back with the output.
fn send_back_check(
    s: &Session,
    wo: &WorkOrder,
    command: &str,
    c: &merge::Checked,
    exit: &str,
) -> Result<()> {
    let id = wo.id;
    super::report::transaction(s, |ws| {
        unchanged(ws, wo)?;
        let blob = super::artifact::stage(ws.tx(), id, "train-check.log", &c.output)?;
        let r = model::ArtifactRef {
            name: "train-check.log".into(),
            size: c.output.len() as u64,
            blob,
            by: s.actor.clone(),
            at: s.now.clone(),
            extra: Default::default(),
        };
        let result = super::review::check_result(command, c, "train-check.log");
        let text = format!(
            "the check `{command}` failed on the merge result ({exit}); its output is the artifact train-check.log (`orc artifact get {id} train-check.log`)"
        );
        ws.change(id, |w, cx| {
            set_status(w, Status::InProgress, cx, None)?;
            w.artifacts.retain(|a| a.name != r.name);
            w.artifacts.push(r.clone());
            if let Some(a) = &mut w.approval {
                a.state = ApprovalState::Rejected;
                a.by = Some(cx.actor.to_string());
                a.at = Some(cx.now.clone());
                a.note = Some(format!("the check failed ({exit})"));
            }
            if let Some(e) = &mut w.evidence {
                e.extra.insert(
                    "train_check".into(),
                    serde_json::to_value(&result).unwrap_or_default(),
                );
            }
            w.notes.push(Note {
                at: cx.now.clone(),
                by: cx.actor.to_string(),
                text: text.clone(),
                extra: Default::default(),
            });
            Ok(format!("review -> in_progress (check failed, {exit})"))
        })?;
        Ok((
            (),
            Message::new(
                "train.check",
                format!("{id}: review -> in_progress (the check failed, {exit})"),
            ),
        ))
    })
}

/// Work the train cannot bring in at all goes back to its grove, saying
/// why (the IMP hands in again once it is fixed).
fn send_back_unbringable(s: &Session, wo: &WorkOrder, why: &str) -> Result<()> {
    let id = wo.id;
    super::report::transaction(s, |ws| {
        unchanged(ws, wo)?;
        ws.change(id, |w, cx| {
            set_status(w, Status::InProgress, cx, None)?;
            if let Some(a) = &mut w.approval {
                a.state = ApprovalState::Rejected;
                a.by = Some(cx.actor.to_string());
                a.at = Some(cx.now.clone());
                a.note = Some(why.to_string());
            }
            w.notes.push(Note {
                at: cx.now.clone(),
                by: cx.actor.to_string(),
                text: why.to_string(),
                extra: Default::default(),
            });
            Ok("review -> in_progress (could not be brought in)".to_string())
        })?;
        Ok((
            (),
            Message::new(
                "train.unbringable",
                format!("{id}: review -> in_progress (the train could not bring it in)"),
            )
            .line(why.to_string()),
        ))
    })
}
