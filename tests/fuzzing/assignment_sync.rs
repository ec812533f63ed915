//! Fuzz harness: the status machine and the assignment sync, on generated work.
//!
//! From the input this target builds a small assignment (a root work order
//! with children and dependencies, in arbitrary statuses), then an IMP's
//! edit of `assigned-work.json`: either a structured edit (statuses, notes,
//! summaries, a changed field) or raw bytes read as the edited file. The
//! edit goes through the same functions as a real one (`decode`,
//! `validate`, `diff_edit`, `set_status`, `refresh`), and these must hold:
//!
//! - nothing panics;
//! - a status change is accepted exactly when the state machine allows it,
//!   and closed work never reopens;
//! - an accepted edit only touches listed work orders, with editable values;
//! - the refreshed assignment validates, survives a rewrite, compares equal
//!   to itself under `diff_edit`, and refreshing again changes nothing;
//! - `next` names open, unblocked work whose dependencies are done, and an
//!   active assignment is complete exactly when all its work is closed;
//! - a second save carried over onto the first (`rebase`, for a save a
//!   guarded write displaced) is a valid edit holding both saves' notes
//!   and changes, unless the two changed a field differently.
//!
//! Shared by `fuzz/fuzz_targets/assignment_sync.rs` (cargo-fuzz) and
//! `tests/fuzz_regressions.rs`, which replays the seeds and every crash
//! input ever found.

use std::collections::{BTreeMap, HashMap};

use arbitrary::{Result as ArbResult, Unstructured};
use orc::model::assignment::{self, AssignedNote, EDITABLE_STATUSES};
use orc::model::{
    Assignment, AssignmentStatus, GroveId, MissionId, Status, Timestamp, WorkOrder, WorkOrderId,
    decode, to_file_bytes,
};
use orc::ops::workset::{ChangeContext, set_status};
use serde_json::{Value, json};

const IMP: &str = "IMP-GROVE-001";

fn wo(n: u32, parent: Option<u32>, deps: Vec<u32>, status: Status) -> WorkOrder {
    let mut w = WorkOrder::new(
        WorkOrderId::new(n),
        MissionId::new(1),
        format!("work {n}"),
        "DEPUTY-MISSION-001".into(),
        Timestamp::from_unix(1_700_000_000),
    );
    w.parent = parent.map(WorkOrderId::new);
    w.depends_on = deps.into_iter().map(WorkOrderId::new).collect();
    w.status = status;
    if status == Status::Blocked {
        w.blocked_reason = Some("waiting".into());
        w.blocked_from = Some(Status::InProgress);
    }
    if status != Status::Ready {
        w.assignee = Some(IMP.into());
    }
    w
}

/// A root (WO-001) and up to seven descendants, each a child of an earlier
/// one, depending on earlier siblings or anything earlier at all.
fn orders(u: &mut Unstructured) -> ArbResult<Vec<WorkOrder>> {
    let n = u.int_in_range(1..=8u32)?;
    let mut out = Vec::new();
    for i in 1..=n {
        let parent = if i == 1 {
            None
        } else {
            Some(u.int_in_range(1..=i - 1)?)
        };
        let mut deps = Vec::new();
        if i > 2 {
            for _ in 0..u.int_in_range(0..=2u32)? {
                let d = u.int_in_range(2..=i - 1)?;
                if !deps.contains(&d) {
                    deps.push(d);
                }
            }
        }
        let status = *u.choose(&Status::ALL)?;
        out.push(wo(i, parent, deps, status));
    }
    Ok(out)
}

/// An edited copy of the file, as an agent might write it.
fn edited(u: &mut Unstructured, file: &Value) -> ArbResult<Vec<u8>> {
    if u.ratio(1, 8)? {
        // Raw bytes: whatever an agent's editor saved.
        return Ok(u.bytes(u.len())?.to_vec());
    }
    let mut v = file.clone();
    let count = v["work_orders"].as_array().map_or(0, Vec::len);
    for _ in 0..u.int_in_range(0..=6u32)? {
        if count == 0 {
            break;
        }
        let i = u.int_in_range(0..=count - 1)?;
        let entry = &mut v["work_orders"][i];
        match u.int_in_range(0..=9u8)? {
            0..=3 => {
                let names = [
                    "ready",
                    "assigned",
                    "in_progress",
                    "implement",
                    "review",
                    "blocked",
                    "done",
                    "cancelled",
                    "DONE",
                    "",
                ];
                entry["status"] = json!(*u.choose(&names)?);
            }
            4 => entry["blocked_reason"] = json!(u.arbitrary::<String>()?),
            5 => entry["summary"] = json!(u.arbitrary::<String>()?),
            6 => {
                if let Some(notes) = entry["notes"].as_array_mut() {
                    notes.push(json!({"text": u.arbitrary::<String>()?}));
                }
            }
            7 => {
                // Drop the at/by orc filled in: the same note.
                if let Some(note) = entry["notes"].as_array_mut().and_then(|n| n.first_mut()) {
                    note.as_object_mut().map(|o| o.remove("at"));
                }
            }
            8 => {
                let fields = ["title", "depends_on", "parent", "id", "priority", "x"];
                entry[*u.choose(&fields)?] = json!(u.arbitrary::<String>()?);
            }
            _ => {
                let fields = ["next", "status", "grove", "updated_at", "note_to_self"];
                v[*u.choose(&fields)?] = json!(u.arbitrary::<String>()?);
            }
        }
    }
    Ok(to_file_bytes(&v))
}

fn check_invariants(a: &Assignment, orders: &[WorkOrder], was_active: bool) {
    a.validate().expect("orc writes a valid assignment");
    let again: Assignment = decode::decode(&to_file_bytes(a)).expect("orc reads what it writes");
    assert_eq!(&again, a, "a rewrite changed the assignment");
    assert_eq!(
        assignment::diff_edit(a, &again).map(|e| e.len()),
        if a.is_active() {
            Ok(0)
        } else {
            Err(format!(
                "this assignment is {}; there is nothing to report on",
                a.status
            ))
        },
        "an unchanged file is no edit"
    );
    let status: HashMap<WorkOrderId, Status> = orders.iter().map(|w| (w.id, w.status)).collect();
    assert_eq!(a.ids().len(), orders.len(), "every work order is listed");
    if let Some(next) = a.next {
        let w = a
            .work_orders
            .iter()
            .find(|w| w.id == next)
            .expect("next is listed");
        assert!(!w.status.is_closed() && w.status != Status::Blocked);
        assert!(
            w.depends_on
                .iter()
                .all(|d| status.get(d) == Some(&Status::Done))
        );
        assert!(
            !a.work_orders
                .iter()
                .any(|c| c.parent == Some(next) && !c.status.is_closed()),
            "next has no open children"
        );
    }
    let all_closed = orders.iter().all(|w| w.status.is_closed());
    if was_active {
        assert_eq!(
            a.status == AssignmentStatus::Complete,
            all_closed,
            "complete exactly when all work is closed"
        );
    }
}

fn generate_and_check(u: &mut Unstructured) -> ArbResult<()> {
    let now = Timestamp::from_unix(1_700_000_100);
    let cx = ChangeContext {
        actor: IMP,
        now: &now,
    };

    // The status machine on its own.
    let from = *u.choose(&Status::ALL)?;
    let to = *u.choose(&Status::ALL)?;
    let mut w = wo(9, None, vec![], from);
    let allowed = from.allowed_next().contains(&to);
    assert_eq!(set_status(&mut w, to, &cx, Some("why")).is_ok(), allowed);
    assert_eq!(w.status, if allowed { to } else { from });
    if from.is_closed() {
        assert!(!allowed, "closed work never reopens");
    }

    // An assignment and an edit of its file.
    let mut orders = orders(u)?;
    let refs: Vec<&WorkOrder> = orders.iter().collect();
    let old = Assignment::new(
        GroveId::new(1),
        MissionId::new(1),
        "orc/grove-001",
        WorkOrderId::new(1),
        "DEPUTY-MISSION-001",
        &now,
        &refs,
        |_| false,
    );
    let was_active = true;
    check_invariants(&old, &orders, was_active);

    let file: Value = serde_json::to_value(&old).expect("serialisable");
    let bytes = edited(u, &file)?;
    let Ok(new) = decode::decode::<Assignment>(&bytes) else {
        return Ok(());
    };
    if new.validate().is_err() {
        return Ok(());
    }
    let Ok(edits) = assignment::diff_edit(&old, &new) else {
        return Ok(());
    };
    if !old.is_active() {
        panic!("an edit of a finished assignment was accepted");
    }

    // Apply as orc does: every edit or none.
    let before = orders.clone();
    let mut refused = false;
    for e in &edits {
        let w = orders
            .iter_mut()
            .find(|w| w.id == e.id)
            .expect("an edit names a listed work order");
        if let Some(to) = e.status {
            assert!(EDITABLE_STATUSES.contains(&to), "{to} is not editable");
            let closed = w.status.is_closed();
            if w.status != to {
                if w.status == Status::Assigned && matches!(to, Status::Review | Status::Done) {
                    set_status(w, Status::InProgress, &cx, None).expect("assigned -> in_progress");
                }
                if set_status(w, to, &cx, e.blocked_reason.as_deref()).is_err() {
                    refused = true;
                    break;
                }
                assert!(!closed, "closed work reopened");
            }
            if to == Status::Blocked {
                assert!(
                    w.blocked_reason
                        .as_deref()
                        .is_some_and(|r| !r.trim().is_empty())
                );
            }
        }
        if let Some(s) = &e.summary {
            w.summary = Some(s.clone());
        }
        for text in &e.new_notes {
            assert!(!text.trim().is_empty(), "an empty note was accepted");
            w.notes
                .push(serde_json::from_value(json!({"at": now, "by": IMP, "text": text})).unwrap());
        }
    }
    if refused {
        orders = before;
    }

    let mut synced = old.clone();
    let refs: Vec<&WorkOrder> = orders.iter().collect();
    synced.refresh(&refs, &now, |_| false);
    check_invariants(&synced, &orders, was_active);
    let mut twice = synced.clone();
    twice.refresh(&refs, &now, |_| false);
    assert_eq!(twice, synced, "refreshing again changes nothing");
    // The file the agent wrote, once applied, mirrors every work order.
    let by_id: BTreeMap<WorkOrderId, &WorkOrder> = orders.iter().map(|w| (w.id, w)).collect();
    for entry in &synced.work_orders {
        let w = by_id[&entry.id];
        assert_eq!(entry.status, w.status);
        assert_eq!(entry.notes.len(), w.notes.len());
    }

    // A second save, displaced by orc's guarded write while the first was
    // built on orc's version: carried over (`rebase`), it is a valid edit
    // with the notes of both in order and each changed field, or the two
    // changed a field differently.
    let other_bytes = edited(u, &file)?;
    if let Ok(other) = decode::decode::<Assignment>(&other_bytes)
        && other.validate().is_ok()
        && assignment::diff_edit(&old, &other).is_ok()
    {
        let rows = old
            .work_orders
            .iter()
            .zip(&new.work_orders)
            .zip(&other.work_orders);
        match assignment::rebase(&old, &new, &other) {
            Some(m) => {
                assignment::diff_edit(&old, &m).expect("a merged save is a valid edit");
                for (((o, n), x), got) in rows.zip(&m.work_orders) {
                    let texts = |v: &[AssignedNote]| -> Vec<String> {
                        v.iter().map(|n| n.text.clone()).collect()
                    };
                    let mut want = texts(&x.notes);
                    want.extend(texts(&n.notes[o.notes.len()..]));
                    assert_eq!(texts(&got.notes), want, "both saves' notes, in order");
                    fn pick<T: PartialEq + Clone>(o: &T, n: &T, x: &T) -> T {
                        if n != o { n.clone() } else { x.clone() }
                    }
                    let state = |w: &orc::model::assignment::AssignedWork| {
                        (w.status, w.blocked_reason.clone())
                    };
                    assert_eq!(state(got), pick(&state(o), &state(n), &state(x)));
                    assert_eq!(got.summary, pick(&o.summary, &n.summary, &x.summary));
                }
            }
            None => {
                fn clash<T: PartialEq>(o: &T, n: &T, x: &T) -> bool {
                    n != o && x != o && x != n
                }
                let conflict = rows.clone().any(|((o, n), x)| {
                    clash(
                        &(o.status, &o.blocked_reason),
                        &(n.status, &n.blocked_reason),
                        &(x.status, &x.blocked_reason),
                    ) || clash(&o.summary, &n.summary, &x.summary)
                }) || clash(&old.extra, &new.extra, &other.extra);
                assert!(conflict, "saves that do not clash were not combined");
            }
        }
    }
    Ok(())
}

/// Runs one input; panics on a broken invariant.
pub fn run(data: &[u8]) {
    let mut u = Unstructured::new(data);
    // Running out of input ends the case early; that is not a finding.
    let _ = generate_and_check(&mut u);
}
