//! `orc assign`, `orc unassign`, `orc discover` (the deputy) and
//! `orc work ...`, `orc apply` (the IMP).

use clap::Subcommand;
use serde_json::json;

use super::render::one_line;
use super::{Out, parse_id, to_json};
use crate::error::Result;
use crate::model::{Assignment, MissionId, WorkOrder, WorkOrderId};
use crate::ops::Session;
use crate::ops::assign;
use crate::ops::report::{self, Applied, Report};

#[derive(Debug, clap::Args)]
pub struct AssignArgs {
    /// The work order (a parent brings its children along).
    pub work_order: String,
    #[arg(long, value_name = "GROVE")]
    pub grove: String,
}

#[derive(Debug, clap::Args)]
pub struct UnassignArgs {
    pub grove: String,
}

#[derive(Debug, clap::Args)]
pub struct DiscoverArgs {
    #[arg(long, value_name = "ID")]
    pub mission: Option<String>,
    /// Assign the highest-priority ready work order to an idle grove.
    #[arg(long)]
    pub auto_claim: bool,
}

#[derive(Debug, clap::Args)]
pub struct ApplyArgs {
    /// The grove (default: the one the command runs in).
    #[arg(long, value_name = "GROVE")]
    pub grove: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum WorkCommand {
    /// Show the grove's assignment.
    Show {
        #[arg(long, value_name = "GROVE")]
        grove: Option<String>,
    },
    /// Start a work order (default: the next one).
    Start {
        wo: Option<String>,
        #[arg(long, value_name = "GROVE")]
        grove: Option<String>,
    },
    /// Mark a work order done (default: the one in progress).
    Done {
        wo: Option<String>,
        #[arg(long, value_name = "TEXT")]
        summary: Option<String>,
        #[arg(long, value_name = "GROVE")]
        grove: Option<String>,
        /// Hand in what is committed although the grove has uncommitted
        /// changes (they stay in the grove and do not land).
        #[arg(long)]
        allow_uncommitted: bool,
    },
    /// Ask for review of a work order (default: the one in progress).
    Review {
        wo: Option<String>,
        #[arg(long, value_name = "GROVE")]
        grove: Option<String>,
        /// As for `done`.
        #[arg(long)]
        allow_uncommitted: bool,
    },
    /// Mark a work order blocked (default: the one in progress).
    Block {
        wo: Option<String>,
        #[arg(long, value_name = "TEXT")]
        reason: String,
        #[arg(long, value_name = "GROVE")]
        grove: Option<String>,
    },
    /// Add a note to a work order (default: the one in progress).
    Note {
        /// `TEXT`, or `WO TEXT`.
        #[arg(required = true, num_args = 1..=2, value_name = "[WO] TEXT")]
        args: Vec<String>,
        #[arg(long, value_name = "GROVE")]
        grove: Option<String>,
    },
}

pub fn assign(s: &Session, args: &AssignArgs, out: &Out) -> Result<()> {
    let wo = parse_id(&args.work_order, WorkOrderId::parse)?;
    let grove = s.resolve_grove(&args.grove)?;
    let a = assign::assign(s, wo, grove)?;
    print_assignment(out, &a);
    Ok(())
}

pub fn unassign(s: &Session, args: &UnassignArgs, out: &Out) -> Result<()> {
    let grove = s.resolve_grove(&args.grove)?;
    let a = assign::unassign(s, grove)?;
    if out.json {
        out.json(&to_json(&a));
    } else {
        out.line(format!("{grove}: {} returned to ready", a.work_order));
    }
    Ok(())
}

pub fn discover(s: &Session, args: &DiscoverArgs, out: &Out) -> Result<()> {
    let mission = s.resolve_mission(
        args.mission
            .as_deref()
            .map(|m| parse_id(m, MissionId::parse))
            .transpose()?,
    )?;
    let d = assign::discover(s, mission, args.auto_claim)?;
    if out.json {
        out.json(&to_json(&d));
        return Ok(());
    }
    if let Some(a) = &d.assigned {
        out.line(format!("assigned {} to {}", a.work_order, a.grove));
    }
    out.line(format!("ready ({}):", d.ready.len()));
    for wo in &d.ready {
        out.line(format!(
            "  {}  {:<8}  {}",
            wo.id,
            wo.priority.as_str(),
            one_line(&wo.title)
        ));
    }
    out.line(format!(
        "idle groves ({}): {}",
        d.idle_groves.len(),
        d.idle_groves
            .iter()
            .map(|g| g.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    ));
    Ok(())
}

pub fn apply(s: &Session, args: &ApplyArgs, out: &Out) -> Result<()> {
    let grove = s.current_grove(args.grove.as_deref())?;
    let applied = report::apply_pending(s, grove)?;
    if out.json {
        out.json(&to_json(&applied));
    } else {
        match &applied {
            Applied::Nothing => out.line("nothing to apply"),
            Applied::Applied { changes, .. } => {
                for c in changes {
                    out.line(format!("applied {c}"));
                }
            }
            Applied::Rejected { .. } | Applied::Unsettled { .. } => {}
        }
    }
    if let Applied::Rejected {
        grove,
        reason,
        kept,
    } = applied
    {
        return Err(crate::error::Error::invalid(format!(
            "{grove}'s assigned-work.json: your edit was not applied: {reason}"
        ))
        .with_hint(format!(
            "the edited file is kept at {}; the last good version is restored",
            kept.display()
        )));
    }
    Ok(())
}

pub fn work(s: &Session, cmd: &WorkCommand, out: &Out) -> Result<()> {
    let wo_arg = |t: &Option<String>| -> Result<Option<WorkOrderId>> {
        t.as_deref()
            .map(|t| parse_id(t, WorkOrderId::parse))
            .transpose()
    };
    let (grove_arg, target, report) = match cmd {
        WorkCommand::Show { grove } => {
            let id = s.current_grove(grove.as_deref())?;
            let (g, a) = assign::show(s, id)?;
            if out.json {
                out.json(&json!({ "grove": to_json(&g), "assignment": to_json(&a) }));
            } else {
                match a {
                    Some(a) => print_assignment(out, &a),
                    None => out.line(format!("{id}: no assignment yet")),
                }
            }
            return Ok(());
        }
        WorkCommand::Start { wo, grove } => (grove, wo_arg(wo)?, Report::Start),
        WorkCommand::Done {
            wo,
            summary,
            grove,
            allow_uncommitted,
        } => (
            grove,
            wo_arg(wo)?,
            Report::Done {
                summary: summary.clone(),
                allow_uncommitted: *allow_uncommitted,
            },
        ),
        WorkCommand::Review {
            wo,
            grove,
            allow_uncommitted,
        } => (
            grove,
            wo_arg(wo)?,
            Report::Review {
                allow_uncommitted: *allow_uncommitted,
            },
        ),
        WorkCommand::Block { wo, reason, grove } => (
            grove,
            wo_arg(wo)?,
            Report::Block {
                reason: reason.clone(),
            },
        ),
        WorkCommand::Note { args, grove } => {
            let (wo, text) = match args.as_slice() {
                [text] => (None, text.clone()),
                [wo, text] => (Some(parse_id(wo, WorkOrderId::parse)?), text.clone()),
                _ => unreachable!("clap takes one or two values"),
            };
            (grove, wo, Report::Note { text })
        }
    };
    let grove = s.current_grove(grove_arg.as_deref())?;
    let wo = report::report(s, grove, target, &report)?;
    print_work_order(out, &wo);
    Ok(())
}

fn print_work_order(out: &Out, wo: &WorkOrder) {
    if out.json {
        out.json(&to_json(wo));
    } else {
        out.line(format!("{} {}  {}", wo.id, wo.status, one_line(&wo.title)));
    }
}

fn print_assignment(out: &Out, a: &Assignment) {
    if out.json {
        out.json(&to_json(a));
        return;
    }
    out.line(format!(
        "{}: {} ({}), branch {}{}",
        a.grove,
        a.work_order,
        a.status,
        a.branch,
        a.next.map(|n| format!(", next {n}")).unwrap_or_default()
    ));
    for w in &a.work_orders {
        out.line(format!(
            "  {}  {:<11}  {}",
            w.id,
            w.status.as_str(),
            one_line(&w.title)
        ));
    }
}
