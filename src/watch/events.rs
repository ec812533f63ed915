//! What a ledger commit means for the people and agents involved.
//!
//! The watcher reads every new commit of the ledger, looks at the files it
//! changed and at who made it, and turns that into [`Event`]s: work
//! assigned to an IMP, an IMP reporting done or blocked, mail. Deriving
//! events from the ledger (not from file events) means nothing is missed
//! while the watcher is down: at start it reads the commits since the last
//! one it handled.

use crate::error::Result;
use crate::ledger::{CommitInfo, FileChange, Ledger};
use crate::model::{self, Assignment, GroveId, MessageId, MissionId, Status, WorkOrderId, decode};

/// Who an event is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Target {
    /// The IMP of a grove.
    Imp(GroveId),
    /// The deputy of a mission.
    Deputy(MissionId),
    /// Nobody in particular: the watcher's own log.
    Log,
}

/// What work handed in for review waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// Not known (the work order's file was not in the commit).
    Unknown,
    /// Approved already (policy `none`): the merge train takes it.
    Approved,
    /// A reviewer under this policy.
    Pending(model::ReviewPolicy),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Assigned {
        grove: GroveId,
        work_order: WorkOrderId,
    },
    AssignmentChanged {
        grove: GroveId,
    },
    Released {
        grove: GroveId,
    },
    Started {
        grove: GroveId,
        mission: MissionId,
        work_order: WorkOrderId,
    },
    Done {
        grove: GroveId,
        mission: MissionId,
        work_order: WorkOrderId,
    },
    Blocked {
        grove: GroveId,
        mission: MissionId,
        work_order: WorkOrderId,
    },
    Review {
        grove: GroveId,
        mission: MissionId,
        work_order: WorkOrderId,
        /// What the hand-in waits for, as the same commit recorded it.
        gate: Gate,
    },
    Completed {
        grove: GroveId,
        mission: MissionId,
        work_order: WorkOrderId,
    },
    MailToDeputy {
        mission: MissionId,
        message: MessageId,
    },
    MailToImp {
        grove: GroveId,
        message: MessageId,
    },
    GroveCreated {
        grove: GroveId,
    },
    /// Not derived from the ledger: set by the watcher itself.
    Refused {
        target: Target,
    },
    Idle {
        grove: GroveId,
        mission: MissionId,
        work_order: WorkOrderId,
        minutes: u64,
        seconds: u64,
    },
    AgentDead {
        grove: GroveId,
        mission: MissionId,
    },
    AgentGone {
        grove: GroveId,
        mission: MissionId,
    },
    Dispatched {
        grove: GroveId,
        mission: MissionId,
        work_order: WorkOrderId,
    },
    Requeued {
        grove: GroveId,
        mission: MissionId,
        work_order: WorkOrderId,
    },
    /// The agent reported that it waits for a person.
    AgentWaiting {
        grove: GroveId,
        mission: MissionId,
        what: Waiting,
    },
    /// A nudge to the grove's agent could not be delivered.
    Stranded {
        grove: GroveId,
        mission: MissionId,
    },
}

/// What an agent waits for (fixed words: it becomes nudge text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Waiting {
    Permission,
    Dialog,
}

impl Event {
    /// Who is nudged.
    pub fn target(&self) -> Target {
        use Event::*;
        match self {
            Assigned { grove, .. } | AssignmentChanged { grove } | Released { grove } => {
                Target::Imp(*grove)
            }
            MailToImp { grove, .. } => Target::Imp(*grove),
            Done { mission, .. }
            | Blocked { mission, .. }
            | Review { mission, .. }
            | Completed { mission, .. } => Target::Deputy(*mission),
            MailToDeputy { mission, .. } => Target::Deputy(*mission),
            Idle { mission, .. } | AgentDead { mission, .. } | AgentGone { mission, .. } => {
                Target::Deputy(*mission)
            }
            Dispatched { mission, .. } | Requeued { mission, .. } => Target::Deputy(*mission),
            AgentWaiting { mission, .. } | Stranded { mission, .. } => Target::Deputy(*mission),
            Refused { target } => *target,
            Started { .. } | GroveCreated { .. } => Target::Log,
        }
    }

    /// The nudge: fixed text with validated ids only. Nothing from a file's
    /// content (titles, notes, descriptions, names) is ever part of it.
    pub fn text(&self) -> String {
        use Event::*;
        match self {
            Assigned { work_order, .. } => {
                format!("orc: {work_order} assigned to you; read .orc/assigned-work.json")
            }
            AssignmentChanged { .. } => {
                "orc: your assignment changed; read .orc/assigned-work.json".into()
            }
            Released { .. } => {
                "orc: your assignment was taken back; read .orc/assigned-work.json".into()
            }
            Started {
                grove, work_order, ..
            } => format!("orc: {grove} started {work_order}"),
            Done {
                grove, work_order, ..
            } => format!("orc: {grove} finished {work_order}"),
            Blocked {
                grove, work_order, ..
            } => {
                format!("orc: {grove} is blocked on {work_order}; run orc wo show {work_order}")
            }
            Review {
                grove,
                work_order,
                gate,
                ..
            } => match gate {
                Gate::Unknown => format!("orc: {grove} asks for review of {work_order}"),
                Gate::Approved => format!(
                    "orc: {grove} handed in {work_order}; approved (policy none), the merge train lands it"
                ),
                Gate::Pending(policy) => format!(
                    "orc: {grove} asks for review of {work_order} (policy {policy}); run orc review {work_order}"
                ),
            },
            Completed {
                grove, work_order, ..
            } => {
                format!("orc: {grove} completed {work_order} and is idle")
            }
            MailToDeputy { message, .. } | MailToImp { message, .. } => {
                format!("orc: new mail {message}; run orc mail read {message}")
            }
            GroveCreated { grove } => format!("orc: {grove} created; watching it"),
            Refused {
                target: Target::Imp(_),
            } => "orc: your edit of .orc/assigned-work.json was refused; see .orc/rejected/".into(),
            Refused { .. } => "orc: a direct edit was refused; see .orc/rejected/".into(),
            Idle {
                grove,
                work_order,
                minutes,
                seconds,
                ..
            } => {
                let d = if *minutes > 0 {
                    format!("{minutes}m")
                } else {
                    format!("{seconds}s")
                };
                format!("orc: no report from {grove} on {work_order} for {d}")
            }
            AgentDead { grove, .. } => format!("orc: the agent of {grove} has exited"),
            AgentGone { grove, .. } => format!("orc: the agent pane of {grove} is gone"),
            Dispatched {
                grove, work_order, ..
            } => format!("orc: dispatched {work_order} to {grove}"),
            Requeued {
                grove, work_order, ..
            } => {
                format!("orc: {work_order} returned to ready; the agent of {grove} is gone")
            }
            AgentWaiting {
                grove,
                what: Waiting::Permission,
                ..
            } => format!("orc: the agent of {grove} waits at a permission prompt; run orc status"),
            AgentWaiting { grove, .. } => {
                format!("orc: the agent of {grove} waits at a dialog; run orc status")
            }
            Stranded { grove, .. } => {
                format!("orc: a nudge to {grove} was not delivered; run orc status")
            }
        }
    }

    /// The grove the event is about, if any (for activity tracking).
    pub fn grove(&self) -> Option<GroveId> {
        use Event::*;
        match self {
            Assigned { grove, .. }
            | AssignmentChanged { grove }
            | Released { grove }
            | Started { grove, .. }
            | Done { grove, .. }
            | Blocked { grove, .. }
            | Review { grove, .. }
            | Completed { grove, .. }
            | MailToImp { grove, .. }
            | GroveCreated { grove }
            | Idle { grove, .. }
            | AgentDead { grove, .. }
            | AgentGone { grove, .. }
            | Dispatched { grove, .. }
            | Requeued { grove, .. }
            | AgentWaiting { grove, .. }
            | Stranded { grove, .. } => Some(*grove),
            MailToDeputy { .. } | Refused { .. } => None,
        }
    }
}

/// The events of one commit.
pub fn derive(ledger: &Ledger, commit: &CommitInfo, changes: &[FileChange]) -> Result<Vec<Event>> {
    let mut events = Vec::new();
    for change in changes {
        let parts: Vec<&str> = change.path.split('/').collect();
        match parts.as_slice() {
            ["groves", g, "assigned-work.json"] => {
                let Ok(grove) = GroveId::parse(g) else {
                    continue;
                };
                let old = parse::<Assignment>(ledger, change.old);
                let new = parse::<Assignment>(ledger, change.new);
                assignment_events(
                    grove,
                    &commit.author,
                    old.as_ref(),
                    new.as_ref(),
                    &mut events,
                );
            }
            ["missions", m, "inbox", file] if change.old.is_none() && change.new.is_some() => {
                if let (Ok(mission), Some(message)) = (MissionId::parse(m), message_id(file)) {
                    events.push(Event::MailToDeputy { mission, message });
                }
            }
            ["groves", g, "inbox", file] if change.old.is_none() && change.new.is_some() => {
                if let (Ok(grove), Some(message)) = (GroveId::parse(g), message_id(file)) {
                    events.push(Event::MailToImp { grove, message });
                }
            }
            ["groves", g, "grove.json"] if change.old.is_none() => {
                if let Ok(grove) = GroveId::parse(g) {
                    events.push(Event::GroveCreated { grove });
                }
            }
            _ => {}
        }
    }
    // A hand-in says what it waits for: its work order, written by the
    // same commit, holds the approval.
    for ev in &mut events {
        if let Event::Review {
            mission,
            work_order,
            gate,
            ..
        } = ev
        {
            let path = crate::ops::records::work_order_ledger_path(*mission, *work_order);
            let wo = changes
                .iter()
                .find(|c| c.path == path)
                .and_then(|c| parse::<model::WorkOrder>(ledger, c.new));
            if let Some(a) = wo.and_then(|w| w.approval) {
                *gate = match a.state {
                    model::review::ApprovalState::Approved => Gate::Approved,
                    _ => Gate::Pending(a.policy),
                };
            }
        }
    }
    Ok(events)
}

fn message_id(file: &str) -> Option<MessageId> {
    file.strip_suffix(".json")
        .and_then(|s| MessageId::parse(s).ok())
}

fn parse<T: serde::de::DeserializeOwned>(ledger: &Ledger, id: Option<gix::ObjectId>) -> Option<T> {
    let bytes = ledger.blob(id?).ok()?;
    decode::decode(&bytes).ok()
}

/// What changed in a grove's assignment, and who it concerns.
pub fn assignment_events(
    grove: GroveId,
    author: &str,
    old: Option<&Assignment>,
    new: Option<&Assignment>,
    events: &mut Vec<Event>,
) {
    let Some(new) = new else { return };
    let by_imp = author == model::actor::imp(grove);
    let mission = new.mission;
    let old_active = old.filter(|o| o.is_active());
    match old_active {
        None if new.is_active() => {
            events.push(Event::Assigned {
                grove,
                work_order: new.work_order,
            });
            return;
        }
        Some(o) if new.is_active() && o.work_order != new.work_order => {
            events.push(Event::Assigned {
                grove,
                work_order: new.work_order,
            });
            return;
        }
        None => return,
        Some(_) => {}
    }
    let old = old_active.expect("matched above");
    if new.status == model::AssignmentStatus::Released {
        events.push(Event::Released { grove });
        return;
    }
    let mut changed_for_imp = false;
    for entry in &new.work_orders {
        let before = old.work_orders.iter().find(|w| w.id == entry.id);
        let Some(before) = before else {
            changed_for_imp = true;
            continue;
        };
        if before.status != entry.status && by_imp {
            let work_order = entry.id;
            match entry.status {
                Status::Done => events.push(Event::Done {
                    grove,
                    mission,
                    work_order,
                }),
                Status::Blocked => events.push(Event::Blocked {
                    grove,
                    mission,
                    work_order,
                }),
                Status::Review => events.push(Event::Review {
                    grove,
                    mission,
                    work_order,
                    gate: Gate::Unknown,
                }),
                Status::InProgress => events.push(Event::Started {
                    grove,
                    mission,
                    work_order,
                }),
                _ => {}
            }
        } else if !by_imp {
            let maintained_changed = before.title != entry.title
                || before.description != entry.description
                || before.acceptance != entry.acceptance
                || before.depends_on != entry.depends_on
                || before.priority != entry.priority
                || before.kind != entry.kind
                || (before.status != entry.status && !matches!(entry.status, Status::Done));
            changed_for_imp |= maintained_changed;
        }
    }
    // Work became next by someone else's doing (a review work order
    // landed, a dependency closed): the IMP should look.
    changed_for_imp |= !by_imp && new.next.is_some() && new.next != old.next;
    if changed_for_imp && new.is_active() {
        events.push(Event::AssignmentChanged { grove });
    }
    if new.status == model::AssignmentStatus::Complete {
        events.push(Event::Completed {
            grove,
            mission,
            work_order: new.work_order,
        });
    }
}
