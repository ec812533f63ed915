//! `orc review`, `orc approve`, `orc reject`, `orc merge`, `orc artifact`:
//! how work comes home.

use std::io::Write;
use std::path::PathBuf;

use clap::Subcommand;
use serde_json::json;

use super::render::{multi_line, one_line};
use super::{Out, parse_id, parse_ids, to_json};
use crate::error::{Error, Result};
use crate::model::{MissionId, MissionStatus, WorkOrder, WorkOrderId};
use crate::ops::Session;
use crate::ops::{artifact, review, train};

#[derive(Debug, clap::Args)]
pub struct ReviewArgs {
    pub work_order: String,
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    pub work_order: String,
}

#[derive(Debug, clap::Args)]
pub struct ApproveArgs {
    pub work_order: String,
    /// A note for the record (and the IMP).
    #[arg(long)]
    pub note: Option<String>,
    /// Approve only if this is still the handed-in head (as `orc review`
    /// shows it): a later hand-in is not approved unseen.
    #[arg(long, value_name = "COMMIT")]
    pub head: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct RejectArgs {
    pub work_order: String,
    /// What is wrong: the IMP reads it in its assigned-work.json.
    #[arg(long, required = true)]
    pub reason: String,
}

#[derive(Debug, clap::Args)]
pub struct MergeArgs {
    /// Only these work orders (default: every approved one).
    pub work_orders: Vec<String>,
    /// The mission (default: this directory's, else every active mission
    /// with an integration branch).
    #[arg(long, value_name = "ID")]
    pub mission: Option<String>,
    /// Return at once when a train of the mission is already running.
    #[arg(long)]
    pub no_wait: bool,
}

#[derive(Debug, Subcommand)]
pub enum ArtifactCommand {
    /// Attach a file to a work order (a blob on the ledger); one commit.
    Add {
        work_order: String,
        file: PathBuf,
        /// Its name (default: the file's name).
        #[arg(long)]
        name: Option<String>,
    },
    /// The artifacts of a work order.
    List { work_order: String },
    /// Print an artifact (or write it to --output).
    Get {
        work_order: String,
        name: String,
        #[arg(long, short = 'o', value_name = "FILE")]
        output: Option<PathBuf>,
    },
}

fn wo_id(text: &str) -> Result<WorkOrderId> {
    parse_id(text, WorkOrderId::parse)
}

pub fn show(s: &Session, args: &ReviewArgs, out: &Out) -> Result<()> {
    let v = review::view(s, wo_id(&args.work_order)?)?;
    if out.json {
        out.json(&to_json(&v));
        return Ok(());
    }
    let w = &v.work_order;
    out.line(format!("{} {}  {}", w.id, w.status, one_line(&w.title)));
    out.line(format!("review:   {}", v.policy));
    if let Some(a) = &w.approval {
        out.line(format!(
            "approval: {}{}{}",
            a.state,
            a.by.as_deref()
                .map(|b| format!(" by {}", one_line(b)))
                .unwrap_or_default(),
            a.note
                .as_deref()
                .map(|n| format!(": {}", one_line(n)))
                .unwrap_or_default()
        ));
    }
    if let Some(e) = &w.evidence {
        out.line(format!(
            "handed in: {} at {} ({} commit(s), {} file(s) +{} -{})",
            e.branch,
            &e.head[..e.head.len().min(10)],
            e.commits,
            e.files,
            e.insertions,
            e.deletions
        ));
        if let Some(c) = &e.check {
            out.line(format!(
                "check:    `{}` {} in {} ms",
                one_line(&c.command),
                c.outcome(),
                c.duration_ms
            ));
        }
        if w.status == crate::model::Status::Review {
            out.line(format!(
                "approve:  orc approve {} --head {}",
                w.id,
                &e.head[..e.head.len().min(12)]
            ));
        }
    }
    if let Some(i) = &v.integration {
        out.line(format!("lands on: {i}"));
    }
    if !w.description.is_empty() {
        out.line("");
        out.line(multi_line(&w.description));
    }
    if !w.acceptance.is_empty() {
        out.line("");
        out.line("Acceptance criteria:");
        for a in &w.acceptance {
            out.line(format!("  - {}", one_line(a)));
        }
    }
    if !w.notes.is_empty() {
        out.line("");
        out.line("Notes:");
        for n in &w.notes {
            out.line(format!(
                "  {} {}: {}",
                n.at,
                one_line(&n.by),
                one_line(&n.text)
            ));
        }
    }
    if let Some(c) = &v.check_output {
        out.line("");
        out.line("Check output (tail):");
        out.raw(c);
    }
    match &v.diff {
        Some(d) => {
            out.line("");
            out.raw(d);
        }
        None => out.line("\n(no work handed in yet)"),
    }
    Ok(())
}

pub fn check(s: &Session, args: &CheckArgs, out: &Out) -> Result<()> {
    let id = wo_id(&args.work_order)?;
    let c = review::record_check(s, id)?;
    if out.json {
        out.json(&to_json(&c));
    } else {
        out.line(format!(
            "{id}: `{}` {} in {} ms (`orc artifact get {id} check.log` shows its output)",
            one_line(&c.command),
            c.exit.map_or("killed".to_string(), |x| format!("exit {x}")),
            c.duration_ms
        ));
    }
    if c.passed() {
        Ok(())
    } else {
        Err(Error::conflict(format!("{id}: the check failed")))
    }
}

fn decided(out: &Out, wo: &WorkOrder) {
    if out.json {
        out.json(&to_json(wo));
    } else {
        let a = wo.approval.as_ref();
        out.line(format!(
            "{} {}  {}{}",
            wo.id,
            wo.status,
            one_line(&wo.title),
            a.map(|a| format!(" ({})", a.state)).unwrap_or_default()
        ));
    }
}

pub fn approve(s: &Session, args: &ApproveArgs, out: &Out) -> Result<()> {
    let wo = review::approve(
        s,
        wo_id(&args.work_order)?,
        args.note.as_deref(),
        args.head.as_deref(),
    )?;
    decided(out, &wo);
    Ok(())
}

pub fn reject(s: &Session, args: &RejectArgs, out: &Out) -> Result<()> {
    let wo = review::reject(s, wo_id(&args.work_order)?, &args.reason)?;
    decided(out, &wo);
    Ok(())
}

pub fn merge(s: &Session, args: &MergeArgs, out: &Out) -> Result<()> {
    let only = parse_ids(&args.work_orders, WorkOrderId::parse)?;
    let missions: Vec<MissionId> = match &args.mission {
        Some(m) => vec![parse_id(m, MissionId::parse)?],
        None if !only.is_empty() => {
            let mut ms: Vec<MissionId> = Vec::new();
            for id in &only {
                let (m, _) = s.locate_work_order(*id)?;
                if !ms.contains(&m) {
                    ms.push(m);
                }
            }
            ms
        }
        None => match s.context_mission() {
            Some(m) => vec![m],
            None => {
                let (all, _) = s.missions()?;
                all.iter()
                    .filter(|m| m.status == MissionStatus::Active && m.integration.is_some())
                    .map(|m| m.id)
                    .collect()
            }
        },
    };
    if missions.is_empty() {
        return Err(
            Error::not_found("no active mission has an integration branch")
                .with_hint("name one with --mission"),
        );
    }
    let mut reports = Vec::new();
    for m in missions {
        reports.push(train::run(s, m, &only, !args.no_wait)?);
    }
    if out.json {
        out.json(&json!({ "trains": to_json(&reports) }));
        return Ok(());
    }
    for r in &reports {
        let (Some(m), Some(i)) = (&r.mission, &r.integration) else {
            out.line("a merge train is already running; it takes the approved work");
            continue;
        };
        for (id, c) in &r.landed {
            out.line(format!(
                "{m}: {id} landed on {i} at {}",
                &c[..c.len().min(10)]
            ));
        }
        for (id, why) in &r.sent_back {
            out.line(format!("{m}: {id} sent back: {}", one_line(why)));
        }
        if !r.waiting.is_empty() {
            let w: Vec<String> = r.waiting.iter().map(|w| w.to_string()).collect();
            out.line(format!(
                "{m}: waiting for their dependencies to land: {}",
                w.join(", ")
            ));
        }
        if r.landed.is_empty() && r.sent_back.is_empty() && r.waiting.is_empty() {
            out.line(format!("{m}: nothing approved to merge"));
        }
    }
    Ok(())
}

pub fn artifact(s: &Session, cmd: &ArtifactCommand, out: &Out) -> Result<()> {
    match cmd {
        ArtifactCommand::Add {
            work_order,
            file,
            name,
        } => {
            let id = wo_id(work_order)?;
            let name = match name {
                Some(n) => n.clone(),
                None => file
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .ok_or_else(|| {
                        Error::usage(format!("{} names no file; give --name", file.display()))
                    })?,
            };
            let limit = artifact::max_bytes(s);
            let size = std::fs::metadata(file)
                .map_err(|e| Error::not_found(format!("cannot read {}: {e}", file.display())))?
                .len();
            if size > limit {
                return Err(Error::invalid(format!(
                    "{}: {size} bytes is over the artifact limit of {limit} bytes",
                    file.display()
                ))
                .with_hint("keep the part that matters, or raise it: `orc config set artifacts.max_bytes N`"));
            }
            let bytes = std::fs::read(file)
                .map_err(|e| Error::not_found(format!("cannot read {}: {e}", file.display())))?;
            let r = artifact::add(s, id, &name, &bytes)?;
            if out.json {
                out.json(&to_json(&r));
            } else {
                out.line(format!(
                    "{id}: artifact {} ({} bytes, blob {})",
                    r.name, r.size, r.blob
                ));
            }
        }
        ArtifactCommand::List { work_order } => {
            let id = wo_id(work_order)?;
            let list = artifact::list(s, id)?;
            if out.json {
                out.json(&json!({ "work_order": id, "artifacts": to_json(&list) }));
            } else {
                for a in &list {
                    out.line(format!(
                        "{}  {} bytes  {} by {}",
                        a.name,
                        a.size,
                        a.at,
                        one_line(&a.by)
                    ));
                }
            }
        }
        ArtifactCommand::Get {
            work_order,
            name,
            output,
        } => {
            let bytes = artifact::get(s, wo_id(work_order)?, name)?;
            match output {
                Some(path) => std::fs::write(path, &bytes).map_err(|e| {
                    Error::environment(format!("cannot write {}: {e}", path.display()))
                })?,
                None => {
                    let mut o = std::io::stdout().lock();
                    o.write_all(&bytes).and_then(|_| o.flush()).map_err(|e| {
                        Error::environment(format!("cannot write the artifact: {e}"))
                    })?;
                }
            }
        }
    }
    Ok(())
}
