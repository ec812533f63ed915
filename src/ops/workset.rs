//! The work set: every change to work orders goes through here, whether it
//! comes from a command or from a direct edit of `assigned-work.json`.
//!
//! Inside a transaction, a work set loads work orders under their locks,
//! lets the use case change them, and on [`WorkSet::finish`] applies what
//! follows from the change, in the same commit:
//!
//! 1. the rules that span work orders (no dependency cycles, no closed
//!    parent with open children) when a dependency was added or a work
//!    order closed;
//! 2. a parent whose children are now all closed becomes `done`;
//! 3. every grove assignment that lists a changed work order is rewritten
//!    from the work orders (and becomes `complete` when all are closed).
//!
//! A grove whose `assigned-work.json` differs from the ledger holds an IMP's
//! pending direct edit. Rewriting it would lose that edit, so an
//! [`attempt`] that meets one stops and says which grove; the caller
//! ([`super::report::transaction`]) applies the edit first (its own commit,
//! authored by the IMP) and runs the use case again.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::records::{
    grove_ledger_path, grove_of_actor, read_assignment, read_work_order, work_order_ledger_path,
};
use super::session::Session;
use super::tx::{self, Message, Tx};

use crate::error::{Error, Result};
use crate::model::{
    self, Assignment, GroveId, MissionId, Status, Timestamp, WorkOrder, WorkOrderId,
    assignment::AssignmentStatus,
};
use crate::store::OrcDir;
use crate::store::orcdir::{ASSIGNMENT_FILE, work_order_rel};

struct Entry {
    /// Created in this transaction.
    new: bool,
    /// To be committed even if unchanged here: its file is ahead of the
    /// ledger (an interrupted apply wrote it).
    force: bool,
    /// For a work order edited by hand: write it only if the file still
    /// holds these bytes.
    guard: Option<Option<Vec<u8>>>,
    mission: MissionId,
    dir: OrcDir,
    before: WorkOrder,
    now: WorkOrder,
    what: Vec<String>,
}

struct GroveSlot {
    /// The grove's `.orc/`; None when it is gone (the worktree deleted, or
    /// cleaned with `git clean -fdx`): the ledger's copy is then the only
    /// one, and it is kept up to date alone (`orc restore` brings the
    /// directory back).
    dir: Option<OrcDir>,
    /// The file's bytes when it was loaded: it is rewritten only if it
    /// still holds them (an agent may save at any moment).
    on_disk: Option<Vec<u8>>,
    before: Option<Assignment>,
    now: Option<Assignment>,
    /// Work orders to add to the assignment on refresh.
    joins: Vec<WorkOrderId>,
}

pub struct WorkSet<'t, 's> {
    tx: &'t mut Tx<'s>,
    s: &'s Session,
    orders: BTreeMap<WorkOrderId, Entry>,
    groves: BTreeMap<GroveId, GroveSlot>,
    lines: Vec<String>,
    /// A grove found with a pending direct edit; the run applies it first.
    pending: Option<GroveId>,
    /// The grove whose pending edit this transaction applies: its
    /// assignment is loaded from the ledger (the last good version).
    applying: Option<GroveId>,
    /// The edited bytes being applied: the file is rewritten only if it
    /// still holds them (an agent may have saved again meanwhile).
    applying_bytes: Option<Option<Vec<u8>>>,
    /// The file being applied is left as the agent saved it (only the
    /// ledger's copy is written): the agent is saving in a burst, and an
    /// agent reading in the instant orc's write is checked would build on
    /// it. It gets orc's version once it has settled.
    applying_leave_file: bool,
}

impl<'t, 's> WorkSet<'t, 's> {
    pub fn session(&self) -> &'s Session {
        self.s
    }

    pub fn tx(&mut self) -> &mut Tx<'s> {
        self.tx
    }

    fn cx(&self) -> ChangeContext<'s> {
        ChangeContext {
            actor: &self.s.actor,
            now: &self.s.now,
        }
    }

    /// Locks the assignment files of the groves that hold `ids` before the
    /// work orders themselves, so that the usual case takes its locks in
    /// order and never restarts.
    pub fn prelock_groves(&mut self, ids: &[WorkOrderId]) -> Result<()> {
        let mut groves = Vec::new();
        for &id in ids {
            let Ok((_, dir)) = self.s.locate_work_order(id) else {
                continue;
            };
            if let Ok(wo) = read_work_order(&dir, id)
                && let Some(g) = wo.assignee.as_deref().and_then(grove_of_actor)
            {
                groves.push(g);
            }
        }
        groves.sort();
        groves.dedup();
        for g in groves {
            // A grove that no longer exists is not an error here.
            if let Err(e) = self.assignment(g).map(|_| ())
                && self.pending.is_some()
            {
                return Err(e);
            }
        }
        Ok(())
    }

    /// The work order `id`, locked and read (once per transaction).
    pub fn order(&mut self, id: WorkOrderId) -> Result<&mut WorkOrder> {
        if !self.orders.contains_key(&id) {
            let (mission, dir) = self.s.locate_work_order(id)?;
            lock_work_order(self.tx, &dir, mission, id)?;
            let wo = read_work_order(&dir, id)?;
            self.orders.insert(
                id,
                Entry {
                    new: false,
                    force: false,
                    guard: None,
                    mission,
                    dir,
                    before: wo.clone(),
                    now: wo,
                    what: Vec::new(),
                },
            );
        }
        Ok(&mut self.orders.get_mut(&id).expect("inserted above").now)
    }

    /// Registers a work order created in this transaction.
    pub fn insert_new(&mut self, dir: &OrcDir, wo: WorkOrder, what: &str) {
        self.orders.insert(
            wo.id,
            Entry {
                new: true,
                force: false,
                guard: None,
                mission: wo.mission,
                dir: dir.clone(),
                before: wo.clone(),
                now: wo,
                what: vec![what.to_string()],
            },
        );
    }

    /// Takes a work order edited by hand as the new state of `now.id`
    /// (`before`: the ledger's version, None for a new file; `edited`: the
    /// file's bytes, which must still be there when it is rewritten) and
    /// returns what changed, in the words of the equivalent command.
    pub fn adopt(
        &mut self,
        dir: &OrcDir,
        before: Option<WorkOrder>,
        now: WorkOrder,
        edited: Vec<u8>,
    ) -> Result<String> {
        let id = now.id;
        lock_work_order(self.tx, dir, now.mission, id)?;
        let what = match &before {
            None => {
                // A number written by hand is never handed out again.
                super::ids::bump(self.tx, crate::model::Counter::WorkOrder, id.number())?;
                format!("created {:?} by hand", super::tx::one_line(&now.title, 60))
            }
            Some(old) if old.status != now.status => format!("{} -> {}", old.status, now.status),
            Some(old) => {
                let a = serde_json::to_value(old).unwrap_or_default();
                let b = serde_json::to_value(&now).unwrap_or_default();
                let mut fields: Vec<String> = b
                    .as_object()
                    .into_iter()
                    .flatten()
                    .filter(|(k, v)| a.get(k.as_str()) != Some(v) && k.as_str() != "updated_at")
                    .map(|(k, _)| k.clone())
                    .collect();
                fields.sort();
                format!("edited ({})", fields.join(", "))
            }
        };
        self.orders.insert(
            id,
            Entry {
                new: before.is_none(),
                force: false,
                guard: Some(Some(edited)),
                mission: now.mission,
                dir: dir.clone(),
                before: before.clone().unwrap_or_else(|| now.clone()),
                now,
                what: vec![what.clone()],
            },
        );
        Ok(what)
    }

    /// Commits work order `id` as its file is, even if this transaction
    /// does not change it (its file is ahead of the ledger).
    pub fn touch(&mut self, id: WorkOrderId) -> Result<()> {
        self.order(id)?;
        if let Some(e) = self.orders.get_mut(&id) {
            e.force = true;
        }
        Ok(())
    }

    /// Changes work order `id` with `f`, which returns what it did.
    pub fn change(
        &mut self,
        id: WorkOrderId,
        f: impl FnOnce(&mut WorkOrder, &ChangeContext) -> Result<String>,
    ) -> Result<()> {
        let cx = self.cx();
        let wo = self.order(id)?;
        let what = f(wo, &cx)?;
        if !what.is_empty() {
            self.orders.get_mut(&id).expect("loaded").what.push(what);
        }
        Ok(())
    }

    /// The assignment of `grove` (None if it never had one), locked.
    pub fn assignment(&mut self, grove: GroveId) -> Result<Option<&mut Assignment>> {
        if !self.groves.contains_key(&grove) {
            let ledger_path = grove_ledger_path(grove, ASSIGNMENT_FILE);
            let dir = match self.s.grove_dir(grove) {
                Ok(dir) => Some(dir),
                // The grove's directory is gone: its work is still on the
                // ledger, and must stay manageable there.
                Err(e) if e.kind == crate::error::Kind::Environment => None,
                Err(e) => return Err(e),
            };
            let slot = match dir {
                Some(dir) => {
                    self.tx.lock(
                        &ledger_path,
                        &dir.lock_path(ASSIGNMENT_FILE),
                        &format!("{grove}'s {ASSIGNMENT_FILE}"),
                    )?;
                    let on_disk = crate::store::fsio::read_regular(&dir.path(ASSIGNMENT_FILE)).ok();
                    let current = if self.applying == Some(grove) {
                        last_good_assignment(self.s, grove)?
                    } else if has_pending_edit(self.s, grove, &dir)? {
                        self.pending = Some(grove);
                        return Err(Error::conflict(format!(
                            "{grove}'s {ASSIGNMENT_FILE} {PENDING}"
                        )));
                    } else {
                        read_assignment(&dir)?
                    };
                    GroveSlot {
                        dir: Some(dir),
                        on_disk,
                        before: current.clone(),
                        now: current,
                        joins: Vec::new(),
                    }
                }
                None => {
                    let lock = self
                        .s
                        .ledger
                        .lock_path(&format!("{grove}-{ASSIGNMENT_FILE}"));
                    self.tx
                        .lock(&ledger_path, &lock, &format!("{grove}'s {ASSIGNMENT_FILE}"))?;
                    let current = last_good_assignment(self.s, grove)?;
                    GroveSlot {
                        dir: None,
                        on_disk: None,
                        before: current.clone(),
                        now: current,
                        joins: Vec::new(),
                    }
                }
            };
            self.groves.insert(grove, slot);
        }
        Ok(self
            .groves
            .get_mut(&grove)
            .expect("inserted above")
            .now
            .as_mut())
    }

    /// Records the edited bytes of the file being applied (see
    /// `applying_bytes`).
    pub fn applying_bytes(&mut self, bytes: Option<Vec<u8>>) {
        self.applying_bytes = Some(bytes);
    }

    /// Leaves the file being applied as it is (see `applying_leave_file`).
    pub fn leave_applied_file(&mut self) {
        self.applying_leave_file = true;
    }

    /// Replaces the assignment of `grove` (which must have been loaded with
    /// [`WorkSet::assignment`]).
    pub fn set_assignment(&mut self, grove: GroveId, a: Assignment) {
        if let Some(slot) = self.groves.get_mut(&grove) {
            slot.now = Some(a);
        }
    }

    /// Adds a work order to a grove's assignment on refresh.
    pub fn join_assignment(&mut self, grove: GroveId, id: WorkOrderId) {
        if let Some(slot) = self.groves.get_mut(&grove) {
            slot.joins.push(id);
        }
    }

    /// Adds a line to the commit message body.
    pub fn line(&mut self, line: impl Into<String>) {
        self.lines.push(line.into());
    }

    /// The work orders changed so far, in id order.
    pub fn changed(&self) -> Vec<&WorkOrder> {
        self.orders
            .values()
            .filter(|e| e.new || e.force || e.now != e.before)
            .map(|e| &e.now)
            .collect()
    }

    /// What was done to `id` in this transaction, joined.
    pub fn what(&self, id: WorkOrderId) -> String {
        self.orders
            .get(&id)
            .map(|e| e.what.join(", "))
            .unwrap_or_default()
    }

    /// Applies the consequences of the changes (module documentation),
    /// stages every changed file, and returns the message body lines.
    fn finish(&mut self) -> Result<Vec<String>> {
        let now = self.s.now.clone();
        for e in self.orders.values_mut() {
            if e.now != e.before {
                e.now.updated_at = now.clone();
            }
        }
        self.check_cross_rules()?;
        self.complete_parents()?;
        self.sync_assignments()?;

        let mut lines = Vec::new();
        for e in self.orders.values() {
            if !e.new && !e.force && e.now == e.before {
                continue;
            }
            let (path, ledger_path, bytes) = (
                e.dir.path(&work_order_rel(e.now.id)),
                work_order_ledger_path(e.mission, e.now.id),
                model::to_file_bytes(&e.now),
            );
            match &e.guard {
                Some(expected) => {
                    let rescue = rescuer(self.s, e.dir.clone(), work_order_rel(e.now.id));
                    self.tx
                        .stage_guarded(path, ledger_path, bytes, expected.clone(), rescue)?
                }
                None => self.tx.stage(path, ledger_path, bytes)?,
            }
            if !e.what.is_empty() {
                lines.push(format!("{}: {}", e.now.id, e.what.join(", ")));
            }
        }
        for (grove, slot) in &self.groves {
            if slot.now == slot.before {
                continue;
            }
            if let Some(a) = &slot.now {
                let ledger_path = grove_ledger_path(*grove, ASSIGNMENT_FILE);
                let leave = self.applying_leave_file && self.applying == Some(*grove);
                let (Some(dir), false) = (&slot.dir, leave) else {
                    self.tx
                        .stage_ledger_only(ledger_path, model::to_file_bytes(a));
                    continue;
                };
                let path = dir.path(ASSIGNMENT_FILE);
                let expected = match (&self.applying, &self.applying_bytes) {
                    (Some(g), Some(expected)) if g == grove => expected.clone(),
                    _ => slot.on_disk.clone(),
                };
                let rescue = rescuer(self.s, dir.clone(), ASSIGNMENT_FILE.to_string());
                self.tx.stage_guarded(
                    path,
                    ledger_path,
                    model::to_file_bytes(a),
                    expected,
                    rescue,
                )?;
            }
        }
        lines.append(&mut self.lines);
        Ok(lines)
    }

    /// Every work order of `mission` (whose workspace is `dir`) as it will
    /// be after this transaction (files on disk, overlaid with the changed
    /// ones). The transaction commits only if none of the mission's work
    /// orders changed on the ledger meanwhile (see [`Tx::read_view`]).
    fn view(
        &mut self,
        mission: MissionId,
        dir: &OrcDir,
    ) -> Result<HashMap<WorkOrderId, WorkOrder>> {
        let loaded = read_shape(self.tx, mission, dir)?;
        let mut view: HashMap<WorkOrderId, WorkOrder> =
            loaded.orders.into_iter().map(|wo| (wo.id, wo)).collect();
        for e in self.orders.values() {
            if e.dir == *dir {
                view.insert(e.now.id, e.now.clone());
            }
        }
        Ok(view)
    }

    fn check_cross_rules(&mut self) -> Result<()> {
        let mut dirs: Vec<(MissionId, OrcDir)> = Vec::new();
        let mut touched: Vec<WorkOrder> = Vec::new();
        for e in self.orders.values() {
            let new_dep = e
                .now
                .depends_on
                .iter()
                .any(|d| !e.before.depends_on.contains(d));
            let closing = e.now.status.is_closed() && !e.before.status.is_closed();
            if new_dep || closing {
                touched.push(e.now.clone());
                if !dirs.iter().any(|(_, d)| *d == e.dir) {
                    dirs.push((e.mission, e.dir.clone()));
                }
            }
        }
        for (mission, dir) in dirs {
            let view = self.view(mission, &dir)?;
            for wo in touched
                .iter()
                .filter(|wo| self.orders.get(&wo.id).is_some_and(|e| e.dir == dir))
            {
                for dep in &wo.depends_on {
                    if !view.contains_key(dep) {
                        return Err(Error::not_found(format!(
                            "{}: dependency {dep} does not exist in {}",
                            wo.id, wo.mission
                        )));
                    }
                }
                if let Some(cycle) = find_cycle(&view, wo.id) {
                    let path: Vec<String> = cycle.iter().map(|id| id.to_string()).collect();
                    return Err(Error::conflict(format!(
                        "{}: dependencies would form a cycle: {}",
                        wo.id,
                        path.join(" -> ")
                    )));
                }
                if wo.status.is_closed() {
                    let mut open: Vec<String> = view
                        .values()
                        .filter(|c| c.parent == Some(wo.id) && !c.status.is_closed())
                        .map(|c| format!("{} ({})", c.id, c.status))
                        .collect();
                    if !open.is_empty() {
                        open.sort();
                        return Err(Error::conflict(format!(
                            "{} cannot be {} while its children are open: {}",
                            wo.id,
                            wo.status,
                            open.join(", ")
                        ))
                        .with_hint("finish or cancel the children first"));
                    }
                }
            }
        }
        Ok(())
    }

    /// A parent whose children are all closed becomes done, up the tree.
    fn complete_parents(&mut self) -> Result<()> {
        let mut queue: Vec<WorkOrderId> = self
            .orders
            .values()
            .filter(|e| e.now.status.is_closed() && !e.before.status.is_closed())
            .filter(|e| e.now.parent.is_some())
            .map(|e| e.now.id)
            .collect();
        let mut views: HashMap<std::path::PathBuf, HashMap<WorkOrderId, WorkOrder>> =
            HashMap::new();
        let mut done: HashSet<WorkOrderId> = HashSet::new();
        while let Some(child) = queue.pop() {
            let (Some(parent), mission, dir) = ({
                let e = &self.orders[&child];
                (e.now.parent, e.mission, e.dir.clone())
            }) else {
                continue;
            };
            if !done.insert(parent) {
                continue;
            }
            let key = dir.root().to_path_buf();
            if !views.contains_key(&key) {
                let view = self.view(mission, &dir)?;
                views.insert(key.clone(), view);
            }
            let view = views.get_mut(&key).expect("inserted above");
            for e in self.orders.values().filter(|e| e.dir == dir) {
                view.insert(e.now.id, e.now.clone());
            }
            let Some(p) = view.get(&parent) else { continue };
            if p.status.is_closed() {
                continue;
            }
            let all_closed = view
                .values()
                .filter(|c| c.parent == Some(parent))
                .all(|c| c.status.is_closed());
            if !all_closed {
                continue;
            }
            let now = self.s.now.clone();
            self.change(parent, |wo, _| {
                let from = wo.status;
                wo.status = Status::Done;
                wo.completed_at = Some(now);
                wo.blocked_from = None;
                wo.blocked_reason = None;
                Ok(format!("{from} -> done (all children closed)"))
            })?;
            let updated = self.orders[&parent].now.clone();
            view.insert(parent, updated);
            queue.push(parent);
        }
        Ok(())
    }

    /// Rewrites the assignments that list a changed work order.
    fn sync_assignments(&mut self) -> Result<()> {
        let mut groves: Vec<GroveId> = Vec::new();
        for e in self.orders.values() {
            if !e.new && !e.force && e.now == e.before {
                continue;
            }
            for actor in [&e.now.assignee, &e.before.assignee].into_iter().flatten() {
                if let Some(g) = grove_of_actor(actor) {
                    groves.push(g);
                }
            }
        }
        groves.sort();
        groves.dedup();
        for g in groves {
            match self.assignment(g).map(|_| ()) {
                Ok(()) => {}
                Err(e) if self.pending.is_some() => return Err(e),
                // The grove is gone (removed, or its worktree deleted):
                // there is no file to keep in sync.
                Err(e)
                    if matches!(
                        e.kind,
                        crate::error::Kind::NotFound | crate::error::Kind::Environment
                    ) =>
                {
                    continue;
                }
                Err(e) => return Err(e),
            }
        }
        let ids: Vec<GroveId> = self.groves.keys().copied().collect();
        for g in ids {
            self.refresh_assignment(g)?;
        }
        Ok(())
    }

    fn refresh_assignment(&mut self, grove: GroveId) -> Result<()> {
        let slot = &self.groves[&grove];
        let Some(a) = slot.now.clone() else {
            return Ok(());
        };
        let mut ids = a.ids();
        for j in &slot.joins {
            if !ids.contains(j) {
                ids.push(*j);
            }
        }
        let touches = slot.now != slot.before
            || ids.iter().any(|id| {
                self.orders
                    .get(id)
                    .is_some_and(|e| e.new || e.force || e.now != e.before)
            });
        if !touches {
            return Ok(());
        }
        let dir = self.s.mission_dir(a.mission)?;
        let mut orders: Vec<WorkOrder> = Vec::new();
        for id in &ids {
            match self.orders.get(id) {
                Some(e) => orders.push(e.now.clone()),
                None => match read_work_order(&dir, *id) {
                    Ok(wo) => orders.push(wo),
                    // A work order removed by hand drops out of the file.
                    Err(e) if e.kind == crate::error::Kind::NotFound => {}
                    Err(e) => return Err(e),
                },
            }
        }
        let inside: HashSet<WorkOrderId> = orders.iter().map(|w| w.id).collect();
        let mut external: HashMap<WorkOrderId, bool> = HashMap::new();
        for wo in &orders {
            for dep in &wo.depends_on {
                if !inside.contains(dep) && !external.contains_key(dep) {
                    let done = match self.orders.get(dep) {
                        Some(e) => e.now.status == Status::Done,
                        None => read_work_order(&dir, *dep).is_ok_and(|d| d.status == Status::Done),
                    };
                    external.insert(*dep, done);
                }
            }
        }
        let mut updated = a.clone();
        let refs: Vec<&WorkOrder> = orders.iter().collect();
        let was_active = updated.is_active();
        updated.refresh(&refs, &self.s.now, |d| {
            external.get(&d).copied().unwrap_or(false)
        });
        if was_active && updated.status == AssignmentStatus::Complete {
            self.lines.push(format!(
                "{grove}: assignment of {} complete; the grove is idle",
                updated.work_order
            ));
        }
        self.groves.get_mut(&grove).expect("present").now = Some(updated);
        Ok(())
    }
}

/// One attempt at `body` as a transaction with a work set ([`tx::run`]):
/// its result, and the grove whose pending direct edit stopped it, if one
/// did ([`super::report::transaction`] applies that edit and tries again).
/// `applying`: the grove whose pending edit this transaction applies.
pub fn attempt<'s, T>(
    s: &'s Session,
    applying: Option<GroveId>,
    body: &mut impl FnMut(&mut WorkSet<'_, 's>) -> Result<(T, Message)>,
) -> (Result<T>, Option<GroveId>) {
    let mut pending = None;
    let result = tx::run(s, |tx| {
        let mut ws = WorkSet {
            tx,
            s,
            orders: BTreeMap::new(),
            groves: BTreeMap::new(),
            lines: Vec::new(),
            pending: None,
            applying,
            applying_bytes: None,
            applying_leave_file: false,
        };
        let outcome = body(&mut ws).and_then(|(value, message)| {
            let lines = ws.finish()?;
            Ok((value, lines.into_iter().fold(message, Message::line)))
        });
        if outcome.is_err() {
            pending = ws.pending;
        }
        outcome
    });
    (result, pending)
}

/// Reads every work order of `mission` for a decision that depends on the
/// mission's shape (a parent's children, dependencies), and makes `tx`
/// commit only if none of them changed on the ledger meanwhile.
pub fn read_shape(tx: &mut Tx, mission: MissionId, dir: &OrcDir) -> Result<super::records::Loaded> {
    tx.read_view(&format!(
        "{}/{}",
        crate::store::orcdir::mission_prefix(mission),
        crate::store::orcdir::WORK_ORDERS_DIR
    ))?;
    super::records::Loaded::read(dir)
}

/// Who changes work orders, and when (what status changes record).
pub struct ChangeContext<'a> {
    pub actor: &'a str,
    pub now: &'a Timestamp,
}

/// Moves `wo` to `to`, enforcing the state machine and keeping the fields
/// that go with a status in step. Returns `from -> to`.
pub fn set_status(
    wo: &mut WorkOrder,
    to: Status,
    cx: &ChangeContext,
    reason: Option<&str>,
) -> Result<String> {
    let from = wo.status;
    from.check_transition(to, &wo.id.to_string())?;
    wo.status = to;
    if to != Status::Blocked {
        wo.blocked_from = None;
        wo.blocked_reason = None;
    }
    match to {
        Status::Ready => {
            wo.assignee = None;
            wo.claimed_at = None;
        }
        Status::InProgress => {
            if wo.claimed_at.is_none() {
                wo.claimed_at = Some(cx.now.clone());
            }
            if wo.assignee.is_none() {
                wo.assignee = Some(cx.actor.to_string());
            }
        }
        Status::Blocked => {
            wo.blocked_from = Some(from);
            wo.blocked_reason = reason.map(str::to_string);
        }
        Status::Done => wo.completed_at = Some(cx.now.clone()),
        Status::Assigned | Status::Review | Status::Cancelled => {}
    }
    Ok(format!("{from} -> {to}"))
}

/// Locks the file of work order `id` in the transaction.
pub fn lock_work_order(
    tx: &mut Tx,
    dir: &OrcDir,
    mission: MissionId,
    id: WorkOrderId,
) -> Result<()> {
    let rel = work_order_rel(id);
    tx.lock(
        &work_order_ledger_path(mission, id),
        &dir.lock_path(&rel),
        &rel,
    )
}

/// What rescues a save of `rel` in `dir` that a guarded write displaced.
fn rescuer<'s>(s: &'s Session, dir: OrcDir, rel: String) -> tx::Rescue<'s> {
    Box::new(move |ours, displaced| super::aside::rescue_displaced(s, &dir, &rel, ours, displaced))
}

/// The grove's assignment as last committed to the ledger.
pub fn last_good_assignment(s: &Session, grove: GroveId) -> Result<Option<Assignment>> {
    let path = grove_ledger_path(grove, ASSIGNMENT_FILE);
    match s.ledger.read(&path)? {
        None => Ok(None),
        Some(bytes) => {
            let shown = std::path::PathBuf::from(format!("{}:{path}", s.ledger.branch()));
            crate::store::orcdir::decode_record(&shown, &bytes, |a: &Assignment| a.validate())
                .map(Some)
        }
    }
}

/// The end of the message of a transaction stopped by a pending direct
/// edit (applied first, then the transaction runs again; never a reason to
/// refuse anything).
pub const PENDING: &str = "has an edit not yet applied";

/// Whether the grove's `assigned-work.json` differs from the ledger's copy.
pub fn has_pending_edit(s: &Session, grove: GroveId, dir: &OrcDir) -> Result<bool> {
    let on_disk = match crate::store::fsio::read_regular(&dir.path(ASSIGNMENT_FILE)) {
        Ok(bytes) => Some(bytes),
        Err(crate::store::fsio::ReadError::Missing) => None,
        // Unreadable (a directory, a symlink, huge): treat as an edit, so
        // that it is reported and the last good version restored.
        Err(_) => return Ok(true),
    };
    let on_ledger = s.ledger.read(&grove_ledger_path(grove, ASSIGNMENT_FILE))?;
    Ok(on_disk != on_ledger)
}

/// A dependency path from `start` back to itself, if there is one.
fn find_cycle(
    view: &HashMap<WorkOrderId, WorkOrder>,
    start: WorkOrderId,
) -> Option<Vec<WorkOrderId>> {
    let mut stack: Vec<(WorkOrderId, Vec<WorkOrderId>)> = vec![(start, vec![start])];
    let mut seen = HashSet::new();
    while let Some((id, path)) = stack.pop() {
        let Some(wo) = view.get(&id) else { continue };
        for &dep in &wo.depends_on {
            if dep == start {
                let mut cycle = path.clone();
                cycle.push(start);
                return Some(cycle);
            }
            if seen.insert(dep) {
                let mut next = path.clone();
                next.push(dep);
                stack.push((dep, next));
            }
        }
    }
    None
}
