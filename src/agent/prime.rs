//! `orc prime`: what an agent needs at session start, by role, in at most
//! about 60 lines. For an IMP: its assignment, what to do next, how to
//! report. For a deputy: the mission, work by status, idle groves, blocked
//! work, questions and unread mail.

use serde::Serialize;
use serde_json::{Value, json};

use crate::error::Result;
use crate::model::{Assignment, Grove, Message, Status};
use crate::ops::assign;
use crate::ops::mail::{self, Recipient};
use crate::ops::records::{Loaded, read_assignment};
use crate::ops::{Context, Session};

/// The longest line of free text (a title, a note) prime prints.
const MAX_TEXT: usize = 100;
/// How many lines of a description prime prints.
const MAX_DESCRIPTION_LINES: usize = 8;

#[derive(Debug, Clone, Serialize)]
pub struct Prime {
    pub role: &'static str,
    pub actor: String,
    /// The text for the agent (also `hookSpecificOutput.additionalContext`).
    pub text: String,
    /// The facts behind the text, for `--json`.
    pub data: Value,
}

pub fn prime(s: &Session) -> Result<Prime> {
    match &s.context {
        Context::Grove { id, .. } => imp(s, *id),
        Context::Mission { id, .. } => deputy(s, *id),
        Context::None => Ok(Prime {
            role: "none",
            actor: s.actor.clone(),
            text: "orc: this directory is neither a mission workspace nor a grove.\n\
                   `orc summary --scope all` shows the missions; `orc context` explains where you are.\n"
                .into(),
            data: json!({}),
        }),
    }
}

fn imp(s: &Session, grove_id: crate::model::GroveId) -> Result<Prime> {
    let grove: Grove = s.ledger_grove(grove_id)?;
    let dir = s.grove_dir(grove_id)?;
    let assignment = read_assignment(&dir)?;
    let unread = mail::unread(s, Recipient::Grove(grove_id))?;
    let mut out = Vec::new();
    out.push(format!(
        "# orc: you are {}, the implementation agent (IMP) of grove {grove_id} ({})",
        s.actor,
        clip(&grove.name)
    ));
    out.push(format!(
        "Mission {}. Commit your work on branch {} in {}.",
        grove.mission, grove.branch, grove.path
    ));
    match assignment.as_ref().filter(|a| a.is_active()) {
        None => {
            out.push(String::new());
            out.push("No work is assigned to this grove right now.".into());
            out.push("Wait for a nudge from orc; `orc work show` checks again.".into());
        }
        Some(a) => imp_assignment(&mut out, a),
    }
    mail_lines(&mut out, &unread);
    let data = json!({
        "grove": grove_id,
        "mission": grove.mission,
        "branch": grove.branch,
        "path": grove.path,
        "assignment": assignment,
        "next": assignment.as_ref().and_then(|a| a.next),
        "unread_mail": unread,
    });
    Ok(Prime {
        role: "imp",
        actor: s.actor.clone(),
        text: out.join("\n") + "\n",
        data,
    })
}

fn imp_assignment(out: &mut Vec<String>, a: &Assignment) {
    out.push(String::new());
    let root = a.work_orders.iter().find(|w| w.id == a.work_order);
    out.push(format!(
        "## Your assignment: {} {} (from {} at {})",
        a.work_order,
        root.map(|w| quoted(&w.title)).unwrap_or_default(),
        a.assigned_by,
        a.assigned_at
    ));
    match a
        .next
        .and_then(|n| a.work_orders.iter().find(|w| w.id == n))
    {
        Some(next) if next.reviews.is_some() => {
            let r = next.reviews.expect("matched");
            out.push(format!("Next: {} {}", next.id, quoted(&next.title)));
            out.push(format!(
                "  You review {r}: `orc review {r}` shows its criteria, notes, check and diff;"
            ));
            out.push(format!(
                "  then `orc approve {r} --note TEXT` or `orc reject {r} --reason TEXT`. That closes {}.",
                next.id
            ));
        }
        Some(next) => {
            out.push(format!("Next: {} {}", next.id, quoted(&next.title)));
            for line in next.description.lines().take(MAX_DESCRIPTION_LINES) {
                out.push(format!("  {}", clip(line)));
            }
            if !next.acceptance.is_empty() {
                out.push("  Acceptance:".into());
                for item in next.acceptance.iter().take(6) {
                    out.push(format!("  - {}", clip(item)));
                }
            }
        }
        None => out.push(
            "Nothing can start right now (the rest is blocked or waiting); see the list below."
                .into(),
        ),
    }
    out.push("Work orders, in the order to do them:".into());
    for w in a.work_orders.iter().take(15) {
        let mut extra = Vec::new();
        if a.next == Some(w.id) {
            extra.push("<- next".to_string());
        }
        if !w.depends_on.is_empty() {
            let deps: Vec<String> = w.depends_on.iter().map(|d| d.to_string()).collect();
            extra.push(format!("after {}", deps.join(", ")));
        }
        if w.status == Status::Blocked
            && let Some(r) = &w.blocked_reason
        {
            extra.push(format!("blocked: {}", clip(r)));
        }
        out.push(format!(
            "  {}  {:<11}  {}{}",
            w.id,
            w.status.as_str(),
            clip(&w.title),
            if extra.is_empty() {
                String::new()
            } else {
                format!("  ({})", extra.join("; "))
            }
        ));
    }
    out.push(String::new());
    out.push("## How to report (each is one ledger commit; the deputy is told)".into());
    out.push("  orc work start [WO]                   when you begin a work order".into());
    out.push("  orc work done [WO] --summary TEXT     when it is finished and committed".into());
    out.push("  orc work block [WO] --reason TEXT     when you are stuck".into());
    out.push("  orc work note [WO] TEXT               to leave a note".into());
    out.push("  orc mail send --to deputy TEXT        to ask the deputy".into());
    out.push(
        "Or edit .orc/assigned-work.json: set work_orders[].status to in_progress, review,".into(),
    );
    out.push(
        "done or blocked (with blocked_reason), set summary, append {\"text\": ...} to notes."
            .into(),
    );
    out.push(
        "Work you hand in with commits goes to review; it is done once it has landed on the".into(),
    );
    out.push(
        "mission's integration branch. Work sent back (rejected, a conflict, a failed check)"
            .into(),
    );
    out.push("returns here in_progress, with the reason in its notes.".into());
}

fn deputy(s: &Session, mission_id: crate::model::MissionId) -> Result<Prime> {
    let mission = crate::ops::mission::show(s, mission_id)?;
    let loaded = Loaded::read(&s.mission_dir(mission_id)?)?;
    let unread = mail::unread(s, Recipient::Deputy(mission_id))?;
    let (dispatchable, idle) = assign::dispatchable_in(s, mission_id, &loaded)?;
    let (groves, _) = s.groves()?;
    let mut out = Vec::new();
    out.push(format!(
        "# orc: you are {}, the deputy of {mission_id} {}",
        s.actor,
        quoted(&mission.title)
    ));
    out.push(format!(
        "Workspace {} · ledger branch {}",
        mission.workspace,
        s.ledger.branch()
    ));
    if !mission.description.is_empty() {
        for line in mission.description.lines().take(4) {
            out.push(format!("  {}", clip(line)));
        }
    }
    let mut counts: Vec<(String, usize)> = Vec::new();
    for wo in &loaded.orders {
        let shown = loaded.shown(wo).to_string();
        match counts.iter_mut().find(|(k, _)| *k == shown) {
            Some((_, n)) => *n += 1,
            None => counts.push((shown, 1)),
        }
    }
    out.push(String::new());
    out.push(format!(
        "## Work: {} work orders{}",
        loaded.orders.len(),
        if counts.is_empty() {
            String::new()
        } else {
            format!(
                ": {}",
                counts
                    .iter()
                    .map(|(k, n)| format!("{n} {k}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    ));
    if !loaded.problems.is_empty() {
        out.push(format!(
            "  {} unreadable files: see `orc wo list`",
            loaded.problems.len()
        ));
    }
    if !dispatchable.is_empty() {
        out.push("Ready to assign:".into());
        for wo in dispatchable.iter().take(8) {
            out.push(format!(
                "  {}  {:<8}  {}",
                wo.id,
                wo.priority.as_str(),
                clip(&wo.title)
            ));
        }
    }
    let blocked: Vec<_> = loaded
        .orders
        .iter()
        .filter(|w| w.status == Status::Blocked)
        .collect();
    let pending: Vec<_> = loaded
        .orders
        .iter()
        .filter(|w| w.status == Status::Review)
        .filter(|w| {
            w.approval
                .as_ref()
                .is_some_and(|a| a.state == crate::model::review::ApprovalState::Pending)
        })
        .collect();
    if !pending.is_empty() {
        out.push("Waiting for review (`orc review WO`, then `orc approve WO` or `orc reject WO --reason`):".into());
        for wo in pending.iter().take(8) {
            out.push(format!(
                "  {}  {}  {}",
                wo.id,
                wo.approval.as_ref().map_or("-", |a| a.policy.as_str()),
                clip(&wo.title)
            ));
        }
    }
    if !blocked.is_empty() {
        out.push("Blocked:".into());
        for wo in blocked.iter().take(8) {
            out.push(format!(
                "  {}  {}  {}",
                wo.id,
                wo.assignee.as_deref().unwrap_or("-"),
                clip(wo.blocked_reason.as_deref().unwrap_or(""))
            ));
        }
    }
    out.push(String::new());
    out.push("## Groves".into());
    let mine: Vec<&Grove> = groves
        .iter()
        .filter(|g| g.mission == mission_id && g.status == crate::model::GroveStatus::Active)
        .collect();
    if mine.is_empty() {
        out.push("  none yet: `orc grove create NAME`".into());
    }
    for g in mine.iter().take(12) {
        let state = if idle.contains(&g.id) {
            "idle".to_string()
        } else {
            match crate::ops::workset::last_good_assignment(s, g.id) {
                Ok(Some(a)) if a.is_active() => format!(
                    "busy with {}{}",
                    a.work_order,
                    a.next.map(|n| format!(", next {n}")).unwrap_or_default()
                ),
                _ => "unavailable".to_string(),
            }
        };
        out.push(format!("  {}  {}  {state}", g.id, clip(&g.name)));
    }
    mail_lines(&mut out, &unread);
    out.push(String::new());
    out.push("## Commands".into());
    out.push("  orc wo create TITLE [--parent WO] [--depends-on WO]   orc summary".into());
    out.push(
        "  orc assign WO --grove GROVE   orc discover [--auto-claim]   orc unassign GROVE".into(),
    );
    out.push("  orc mail send --to GROVE TEXT   orc mail read MSG".into());
    out.push("  orc review WO   orc approve WO   orc reject WO --reason T   orc merge   orc mission land".into());
    let data = json!({
        "mission": mission,
        "counts": counts.iter().map(|(k, n)| (k.clone(), json!(n))).collect::<serde_json::Map<_, _>>(),
        "ready": dispatchable.iter().map(|w| w.id).collect::<Vec<_>>(),
        "blocked": blocked.iter().map(|w| json!({"id": w.id, "assignee": w.assignee, "reason": w.blocked_reason})).collect::<Vec<_>>(),
        "idle_groves": idle,
        "groves": mine.iter().map(|g| g.id).collect::<Vec<_>>(),
        "unread_mail": unread,
    });
    Ok(Prime {
        role: "deputy",
        actor: s.actor.clone(),
        text: out.join("\n") + "\n",
        data,
    })
}

fn mail_lines(out: &mut Vec<String>, unread: &[Message]) {
    if unread.is_empty() {
        return;
    }
    out.push(String::new());
    out.push(format!("## Mail: {} unread", unread.len()));
    for m in unread.iter().take(5) {
        let about = m
            .work_order
            .map(|w| format!(" about {w}"))
            .unwrap_or_default();
        let first = m.text.lines().next().unwrap_or("");
        out.push(format!(
            "  {} from {}{about}: {}",
            m.id,
            m.from,
            clip(first)
        ));
    }
    out.push("  Read one with `orc mail read MSG-...`.".into());
}

/// Text from a file, cut to one bounded line with control characters made
/// visible.
fn clip(text: &str) -> String {
    let clean: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if clean.chars().count() > MAX_TEXT {
        let cut: String = clean.chars().take(MAX_TEXT - 3).collect();
        format!("{cut}...")
    } else {
        clean
    }
}

fn quoted(text: &str) -> String {
    format!("\"{}\"", clip(text))
}

/// The JSON Claude Code's SessionStart hook reads.
pub fn hook_output(event: &str, context: &str) -> Value {
    json!({
        "hookSpecificOutput": {
            "hookEventName": event,
            "additionalContext": context,
        }
    })
}
