//! `orc status`, `orc summary`, `orc context`, `orc log`.

use serde_json::{Value, json};

use super::render::{one_line, problems_json, problems_text, row_json, rows_text};
use super::{Out, parse_id, to_json};
use crate::error::{Error, Result};
use crate::model::MissionId;
use crate::ops::Session;
use crate::ops::query::{self, Node, Scope};
use crate::ops::work_order::Row;

#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    #[arg(long, value_name = "ID")]
    pub mission: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct SummaryArgs {
    /// `current` (the current mission) or `all` (every mission not archived).
    #[arg(long, value_enum, default_value = "current")]
    pub scope: ScopeArg,
    #[arg(long, value_name = "ID")]
    pub mission: Option<String>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ScopeArg {
    Current,
    All,
}

#[derive(Debug, clap::Args)]
pub struct ContextArgs {
    /// Print only this: mission-id, grove-id, role, ledger, actor, repo.
    #[arg(value_enum)]
    pub field: Option<Field>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Field {
    MissionId,
    GroveId,
    Role,
    Ledger,
    Actor,
    Repo,
}

#[derive(Debug, clap::Args)]
pub struct LogArgs {
    /// A work order, mission or grove id; without it, the whole ledger.
    pub id: Option<String>,
    /// Show at most N commits.
    #[arg(short = 'n', value_name = "N")]
    pub limit: Option<usize>,
}

fn mission_arg(text: &Option<String>) -> Result<Option<MissionId>> {
    text.as_deref()
        .map(|t| parse_id(t, MissionId::parse))
        .transpose()
}

pub fn status(s: &Session, args: &StatusArgs, out: &Out) -> Result<()> {
    let report = query::status(s, mission_arg(&args.mission)?)?;
    // The agents of the mission, as they report themselves.
    let agents: Vec<crate::agent::state::Report> = match &report.mission {
        Some(m) => crate::agent::hooks::sites(s)
            .map(|(sites, _)| sites)
            .unwrap_or_default()
            .iter()
            .filter(|site| site.mission == m.id)
            .map(crate::agent::state::Report::of)
            .collect(),
        None => Vec::new(),
    };
    if out.json {
        let mut v = to_json(&report);
        v["agents"] = to_json(&agents);
        out.json(&v);
        return Ok(());
    }
    out.line(format!(
        "ledger   {} @ {} {}",
        report.ledger,
        report.tip.as_deref().unwrap_or("-"),
        one_line(report.tip_subject.as_deref().unwrap_or(""))
    ));
    out.line(format!(
        "role     {} (actor {})",
        report.role,
        one_line(&report.actor)
    ));
    match &report.mission {
        Some(m) => {
            out.line(format!(
                "mission  {} {}  {}",
                m.id,
                m.status,
                one_line(&m.title)
            ));
            let counts: Vec<String> = m.counts.iter().map(|(k, v)| format!("{v} {k}")).collect();
            let total: usize = m.counts.values().sum();
            out.line(format!(
                "work     {total} work orders{}{}",
                if counts.is_empty() {
                    String::new()
                } else {
                    format!(": {}", counts.join(", "))
                },
                if m.problems > 0 {
                    format!("; {} unreadable (see `orc wo list`)", m.problems)
                } else {
                    String::new()
                }
            ));
        }
        None => out.line(format!(
            "mission  none selected ({} active; pass --mission)",
            report.missions_active
        )),
    }
    for a in &agents {
        out.line(format!("agent    {}", one_line(&a.line())));
    }
    Ok(())
}

pub fn summary(s: &Session, args: &SummaryArgs, out: &Out) -> Result<()> {
    let scope = match args.scope {
        ScopeArg::Current => Scope::Current,
        ScopeArg::All => Scope::All,
    };
    let (missions, problems) = query::summary(s, scope, mission_arg(&args.mission)?)?;
    if out.json {
        let list: Vec<Value> = missions
            .iter()
            .map(|m| {
                json!({
                    "mission": to_json(&m.mission),
                    "work_orders": m.roots.iter().map(node_json).collect::<Vec<_>>(),
                    "errors": problems_json(&m.problems),
                })
            })
            .collect();
        out.json(&json!({ "missions": list, "errors": problems_json(&problems) }));
        return Ok(());
    }
    let mut text = String::new();
    for m in &missions {
        text.push_str(&format!(
            "{}  {}  {}\n",
            m.mission.id,
            m.mission.status,
            one_line(&m.mission.title)
        ));
        let mut rows: Vec<&Row> = Vec::new();
        let mut prefixes: Vec<String> = Vec::new();
        flatten(&m.roots, &mut rows, &mut prefixes);
        for line in rows_text(&rows, &prefixes) {
            text.push_str(&line);
            text.push('\n');
        }
        for line in problems_text(&m.problems) {
            text.push_str(&line);
            text.push('\n');
        }
    }
    for line in problems_text(&problems) {
        text.push_str(&line);
        text.push('\n');
    }
    out.raw(&text);
    Ok(())
}

fn node_json(node: &Node) -> Value {
    let mut value = row_json(&node.row);
    if let Value::Object(map) = &mut value {
        map.insert(
            "children".into(),
            Value::Array(node.children.iter().map(node_json).collect()),
        );
    }
    value
}

/// Lays a tree out as rows: roots flush left, children under them with
/// box-drawing prefixes.
fn flatten<'a>(roots: &'a [Node], rows: &mut Vec<&'a Row>, prefixes: &mut Vec<String>) {
    for node in roots {
        rows.push(&node.row);
        prefixes.push(String::new());
        flatten_children(&node.children, "", rows, prefixes);
    }
}

fn flatten_children<'a>(
    nodes: &'a [Node],
    lead: &str,
    rows: &mut Vec<&'a Row>,
    prefixes: &mut Vec<String>,
) {
    for (i, node) in nodes.iter().enumerate() {
        let last = i + 1 == nodes.len();
        rows.push(&node.row);
        prefixes.push(format!("{lead}{}", if last { "└── " } else { "├── " }));
        let lead = format!("{lead}{}", if last { "    " } else { "│   " });
        flatten_children(&node.children, &lead, rows, prefixes);
    }
}

pub fn context(s: &Session, args: &ContextArgs, out: &Out) -> Result<()> {
    let report = query::context(s);
    let Some(field) = args.field else {
        if out.json {
            out.json(&to_json(&report));
        } else {
            out.line(format!("role        {}", report.role));
            out.line(format!("actor       {}", one_line(&report.actor)));
            out.line(format!(
                "mission-id  {}",
                report.mission_id.map_or("-".into(), |m| m.to_string())
            ));
            out.line(format!(
                "grove-id    {}",
                report.grove_id.map_or("-".into(), |g| g.to_string())
            ));
            out.line(format!("ledger      {}", report.ledger));
            out.line(format!("repo        {}", report.repo));
            if let Some(d) = &report.directory {
                out.line(format!("directory   {d}"));
            }
        }
        return Ok(());
    };
    let (key, value) = match field {
        Field::Role => ("role", Some(report.role.to_string())),
        Field::Actor => ("actor", Some(report.actor.clone())),
        Field::Ledger => ("ledger", Some(report.ledger.clone())),
        Field::Repo => ("repo", Some(report.repo.clone())),
        Field::MissionId => ("mission_id", report.mission_id.map(|m| m.to_string())),
        Field::GroveId => ("grove_id", report.grove_id.map(|g| g.to_string())),
    };
    match value {
        Some(v) => {
            if out.json {
                out.json(&json!({ key: v }));
            } else {
                out.line(v);
            }
            Ok(())
        }
        None => Err(
            Error::not_found(format!("this directory has no {}", key.replace('_', " ")))
                .with_hint("run it inside a mission workspace or a grove"),
        ),
    }
}

pub fn log(s: &Session, args: &LogArgs, out: &Out) -> Result<()> {
    let entries = query::log(s, args.id.as_deref(), args.limit)?;
    if out.json {
        out.json(&json!({ "commits": to_json(&entries) }));
        return Ok(());
    }
    let mut text = String::new();
    for e in &entries {
        text.push_str(&format!(
            "{} {} {:<20} {}\n",
            &e.commit[..7],
            e.time,
            one_line(&e.author),
            one_line(&e.subject)
        ));
    }
    out.raw(&text);
    Ok(())
}
