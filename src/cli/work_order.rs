//! `orc work-order ...` (alias `orc wo`).

use clap::Subcommand;
use serde_json::{Value, json};

use super::render::{multi_line, one_line, problems_json, problems_text, row_json, rows_text};
use super::{Out, parse_id, parse_ids, to_json};
use crate::error::Result;
use crate::model::{MissionId, Priority, Shown, Status, WorkOrder, WorkOrderId};
use crate::ops::Session;
use crate::ops::records::Problem;
use crate::ops::work_order::{self as ops, Changes, Filter, NewWorkOrder, Row};

#[derive(Debug, Subcommand)]
pub enum WorkOrderCommand {
    /// Create a work order; prints the new id.
    Create {
        title: String,
        #[arg(short, long, value_name = "TEXT", default_value = "")]
        description: String,
        #[arg(long, value_name = "ID")]
        mission: Option<String>,
        #[arg(long, value_name = "WO")]
        parent: Option<String>,
        /// A work order that must be done first (repeatable, or comma-separated).
        #[arg(long = "depends-on", value_name = "WO")]
        depends_on: Vec<String>,
        #[arg(long, value_name = "PRIORITY", default_value = "medium")]
        priority: Priority,
        /// A short word such as task, bug, feature, docs, test (default task).
        #[arg(long = "type", value_name = "TYPE")]
        kind: Option<String>,
        /// An acceptance criterion (repeatable).
        #[arg(long, value_name = "TEXT")]
        acceptance: Vec<String>,
        /// A label (repeatable).
        #[arg(long, value_name = "LABEL")]
        label: Vec<String>,
        /// Who approves this work: none, deputy, human or agent (default:
        /// the mission's, else the repository's `review` setting).
        #[arg(long, value_name = "POLICY")]
        review: Option<crate::model::ReviewPolicy>,
    },
    /// List work orders of a mission.
    List {
        #[arg(long, value_name = "ID")]
        mission: Option<String>,
        /// A status, or `waiting` (ready but with open dependencies).
        #[arg(long, value_name = "STATUS")]
        status: Option<String>,
        #[arg(long, value_name = "WO")]
        parent: Option<String>,
        #[arg(long, value_name = "ACTOR")]
        assignee: Option<String>,
        #[arg(long, value_name = "LABEL")]
        label: Option<String>,
    },
    /// Show one work order in full.
    Show { id: String },
    /// Work that can start now: ready, dependencies done, by priority.
    Ready {
        #[arg(long, value_name = "ID")]
        mission: Option<String>,
    },
    /// Change one or more work orders (`WO-1,WO-2`) in one commit.
    Update {
        #[arg(required = true, value_name = "WO[,WO...]")]
        ids: Vec<String>,
        #[arg(long)]
        title: Option<String>,
        #[arg(long, short = 'd', value_name = "TEXT", conflicts_with = "append")]
        description: Option<String>,
        /// Append a paragraph to the description.
        #[arg(long, value_name = "TEXT")]
        append: Option<String>,
        #[arg(long)]
        priority: Option<Priority>,
        /// The new status (`implement` is another name for in_progress).
        #[arg(long)]
        status: Option<Status>,
        #[arg(long = "add-dep", value_name = "WO")]
        add_dep: Vec<String>,
        #[arg(long = "remove-dep", value_name = "WO")]
        remove_dep: Vec<String>,
        #[arg(long = "type", value_name = "TYPE")]
        kind: Option<String>,
        #[arg(long, value_name = "LABEL")]
        label: Vec<String>,
        #[arg(long = "remove-label", value_name = "LABEL")]
        remove_label: Vec<String>,
        #[arg(long, conflicts_with = "unpin")]
        pin: bool,
        #[arg(long)]
        unpin: bool,
        /// Who approves this work: none, deputy, human or agent.
        #[arg(long, value_name = "POLICY")]
        review: Option<crate::model::ReviewPolicy>,
    },
    /// Claim ready work for yourself (or `--as ACTOR`): ready -> in_progress.
    Claim { id: String },
    /// Mark work done.
    Complete {
        id: String,
        #[arg(long, value_name = "TEXT")]
        summary: Option<String>,
    },
    /// Mark work blocked, with the reason.
    Block {
        id: String,
        #[arg(long, value_name = "TEXT")]
        reason: String,
    },
    /// Return blocked work to the status it had.
    Unblock { id: String },
    /// Cancel work.
    Cancel {
        id: String,
        #[arg(long, value_name = "TEXT")]
        reason: Option<String>,
    },
    /// Add a note.
    Note { id: String, text: String },
}

pub fn run(s: &Session, cmd: &WorkOrderCommand, out: &Out) -> Result<()> {
    let wo_id = |text: &str| parse_id(text, WorkOrderId::parse);
    let mission_id = |text: &Option<String>| -> Result<Option<MissionId>> {
        text.as_deref()
            .map(|t| parse_id(t, MissionId::parse))
            .transpose()
    };
    match cmd {
        WorkOrderCommand::Create {
            title,
            description,
            mission,
            parent,
            depends_on,
            priority,
            kind,
            acceptance,
            label,
            review,
        } => {
            let new = NewWorkOrder {
                review: *review,
                title: title.clone(),
                description: description.clone(),
                mission: mission_id(mission)?,
                parent: parent.as_deref().map(wo_id).transpose()?,
                depends_on: parse_ids(depends_on, WorkOrderId::parse)?,
                priority: *priority,
                kind: kind.clone(),
                acceptance: acceptance.clone(),
                labels: label.clone(),
            };
            let wo = ops::create(s, &new)?;
            if out.json {
                out.json(&to_json(&wo));
            } else {
                out.line(wo.id.to_string());
            }
        }
        WorkOrderCommand::List {
            mission,
            status,
            parent,
            assignee,
            label,
        } => {
            let filter = Filter {
                status: status.as_deref().map(Shown::parse_filter).transpose()?,
                parent: parent.as_deref().map(wo_id).transpose()?,
                assignee: assignee.clone(),
                label: label.clone(),
            };
            let mission = s.resolve_mission(mission_id(mission)?)?;
            let (rows, problems) = ops::list(s, mission, &filter)?;
            print_rows(out, &rows, &problems);
        }
        WorkOrderCommand::Ready { mission } => {
            let mission = s.resolve_mission(mission_id(mission)?)?;
            let (rows, problems) = ops::ready(s, mission)?;
            print_rows(out, &rows, &problems);
        }
        WorkOrderCommand::Show { id } => {
            let detail = ops::show(s, wo_id(id)?)?;
            if out.json {
                let mut value = row_json(&detail.row);
                if let Value::Object(map) = &mut value {
                    map.insert(
                        "children".into(),
                        json!(
                            detail
                                .children
                                .iter()
                                .map(|(id, shown)| json!({"id": id, "shown": shown.as_str()}))
                                .collect::<Vec<_>>()
                        ),
                    );
                    map.insert(
                        "dependencies".into(),
                        json!(
                            detail
                                .dependencies
                                .iter()
                                .map(|(id, st)| json!({"id": id, "status": st.map(|s| s.as_str())}))
                                .collect::<Vec<_>>()
                        ),
                    );
                }
                out.json(&value);
            } else {
                print_detail(out, &detail);
            }
        }
        WorkOrderCommand::Update {
            ids,
            title,
            description,
            append,
            priority,
            status,
            add_dep,
            remove_dep,
            kind,
            label,
            remove_label,
            pin,
            unpin,
            review,
        } => {
            let ids = parse_ids(ids, WorkOrderId::parse)?;
            let changes = Changes {
                review: *review,
                title: title.clone(),
                description: description.clone(),
                append: append.clone(),
                priority: *priority,
                status: *status,
                add_deps: parse_ids(add_dep, WorkOrderId::parse)?,
                remove_deps: parse_ids(remove_dep, WorkOrderId::parse)?,
                kind: kind.clone(),
                add_labels: label.clone(),
                remove_labels: remove_label.clone(),
                pinned: if *pin {
                    Some(true)
                } else if *unpin {
                    Some(false)
                } else {
                    None
                },
            };
            let updated = ops::update(s, &ids, &changes)?;
            if out.json {
                out.json(&json!({ "work_orders": to_json(&updated) }));
            } else {
                for wo in &updated {
                    print_changed(out, wo);
                }
            }
        }
        WorkOrderCommand::Claim { id } => print_one(out, &ops::claim(s, wo_id(id)?)?),
        WorkOrderCommand::Complete { id, summary } => {
            print_one(out, &ops::complete(s, wo_id(id)?, summary.as_deref())?)
        }
        WorkOrderCommand::Block { id, reason } => {
            print_one(out, &ops::block(s, wo_id(id)?, reason)?)
        }
        WorkOrderCommand::Unblock { id } => print_one(out, &ops::unblock(s, wo_id(id)?)?),
        WorkOrderCommand::Cancel { id, reason } => {
            print_one(out, &ops::cancel(s, wo_id(id)?, reason.as_deref())?)
        }
        WorkOrderCommand::Note { id, text } => print_one(out, &ops::note(s, wo_id(id)?, text)?),
    }
    Ok(())
}

fn print_one(out: &Out, wo: &WorkOrder) {
    if out.json {
        out.json(&to_json(wo));
    } else {
        print_changed(out, wo);
    }
}

fn print_changed(out: &Out, wo: &WorkOrder) {
    let assignee = wo
        .assignee
        .as_deref()
        .map(|a| format!(" ({})", one_line(a)))
        .unwrap_or_default();
    out.line(format!(
        "{} {}{assignee}  {}",
        wo.id,
        wo.status,
        one_line(&wo.title)
    ));
}

fn print_rows(out: &Out, rows: &[Row], problems: &[Problem]) {
    if out.json {
        let list: Vec<Value> = rows.iter().map(row_json).collect();
        out.json(&json!({ "work_orders": list, "errors": problems_json(problems) }));
        return;
    }
    let refs: Vec<&Row> = rows.iter().collect();
    let mut text = String::new();
    for line in rows_text(&refs, &[]) {
        text.push_str(&line);
        text.push('\n');
    }
    for line in problems_text(problems) {
        text.push_str(&line);
        text.push('\n');
    }
    out.raw(&text);
}

fn print_detail(out: &Out, detail: &ops::Detail) {
    let wo = &detail.row.work_order;
    let mut lines = vec![format!("{}  {}", wo.id, multi_line(&wo.title))];
    let mut status = detail.row.shown.to_string();
    if let Some(a) = &wo.assignee {
        status.push_str(&format!(" ({})", one_line(a)));
    }
    lines.push(format!("status:      {status}"));
    if let Some(reason) = &wo.blocked_reason {
        lines.push(format!("blocked:     {}", one_line(reason)));
    }
    lines.push(format!("mission:     {}", wo.mission));
    lines.push(format!("type:        {}", wo.kind));
    lines.push(format!("priority:    {}", wo.priority));
    if let Some(p) = wo.parent {
        lines.push(format!("parent:      {p}"));
    }
    if !detail.dependencies.is_empty() {
        let deps: Vec<String> = detail
            .dependencies
            .iter()
            .map(|(id, st)| format!("{id} ({})", st.map_or("missing", |s| s.as_str())))
            .collect();
        lines.push(format!("depends on:  {}", deps.join(", ")));
    }
    if !detail.children.is_empty() {
        let kids: Vec<String> = detail
            .children
            .iter()
            .map(|(id, shown)| format!("{id} ({shown})"))
            .collect();
        lines.push(format!("children:    {}", kids.join(", ")));
    }
    if !wo.labels.is_empty() {
        lines.push(format!("labels:      {}", wo.labels.join(", ")));
    }
    if wo.pinned {
        lines.push("pinned:      yes".into());
    }
    if let Some(r) = wo.reviews {
        lines.push(format!("reviews:     {r}"));
    }
    if let Some(r) = wo.review {
        lines.push(format!("review:      {r}"));
    }
    if let Some(e) = &wo.evidence {
        lines.push(format!(
            "handed in:   {} at {} ({} commit(s), {} file(s) +{} -{}){}",
            e.branch,
            &e.head[..e.head.len().min(10)],
            e.commits,
            e.files,
            e.insertions,
            e.deletions,
            e.check
                .as_ref()
                .map(|c| format!(
                    ", check {}",
                    if c.passed() {
                        "passed".to_string()
                    } else {
                        c.exit
                            .map_or("killed".into(), |x| format!("failed (exit {x})"))
                    }
                ))
                .unwrap_or_default()
        ));
    }
    if let Some(a) = &wo.approval {
        lines.push(format!(
            "approval:    {} ({}){}",
            a.state,
            a.policy,
            a.by.as_deref()
                .map(|b| format!(" by {}", one_line(b)))
                .unwrap_or_default()
        ));
    }
    if let Some(l) = &wo.landed {
        lines.push(format!(
            "landed:      {} at {}",
            l.integration,
            &l.commit[..l.commit.len().min(10)]
        ));
    }
    if !wo.artifacts.is_empty() {
        let names: Vec<String> = wo
            .artifacts
            .iter()
            .map(|a| format!("{} ({} bytes)", a.name, a.size))
            .collect();
        lines.push(format!("artifacts:   {}", names.join(", ")));
    }
    lines.push(format!(
        "created:     {} by {}",
        wo.created_at,
        one_line(&wo.created_by)
    ));
    lines.push(format!("updated:     {}", wo.updated_at));
    if let Some(t) = &wo.claimed_at {
        lines.push(format!("claimed:     {t}"));
    }
    if let Some(t) = &wo.completed_at {
        lines.push(format!("completed:   {t}"));
    }
    if let Some(summary) = &wo.summary {
        lines.push(format!("summary:     {}", multi_line(summary)));
    }
    if !wo.description.is_empty() {
        lines.push(String::new());
        lines.push(multi_line(&wo.description));
    }
    if !wo.acceptance.is_empty() {
        lines.push(String::new());
        lines.push("acceptance:".into());
        for a in &wo.acceptance {
            lines.push(format!("  - {}", multi_line(a)));
        }
    }
    if !wo.notes.is_empty() {
        lines.push(String::new());
        lines.push("notes:".into());
        for n in &wo.notes {
            lines.push(format!(
                "  {} {}: {}",
                n.at,
                one_line(&n.by),
                multi_line(&n.text)
            ));
        }
    }
    out.raw(&(lines.join("\n") + "\n"));
}
