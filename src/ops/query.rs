//! Read-only use cases: status, summary, context, log.

use std::collections::{BTreeMap, HashSet};

use serde::Serialize;

use super::records::{Loaded, Problem};
use super::session::{Context, Session};
use super::work_order::Row;
use crate::error::{Error, Result};
use crate::model::{GroveId, Mission, MissionId, MissionStatus, WorkOrderId};
use crate::store::orcdir::mission_prefix;

/// A work order in the summary tree.
#[derive(Debug, Clone)]
pub struct Node {
    pub row: Row,
    pub children: Vec<Node>,
}

/// One mission in the summary.
#[derive(Debug, Clone)]
pub struct MissionSummary {
    pub mission: Mission,
    pub roots: Vec<Node>,
    pub problems: Vec<Problem>,
}

/// Which missions the summary covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The current mission (the directory's, or the only active one).
    Current,
    /// Every mission that is not archived.
    All,
}

pub fn summary(
    s: &Session,
    scope: Scope,
    explicit: Option<MissionId>,
) -> Result<(Vec<MissionSummary>, Vec<Problem>)> {
    let (missions, mut ledger_problems) = s.missions()?;
    let chosen: Vec<Mission> = match scope {
        Scope::Current => {
            let id = s.resolve_mission(explicit)?;
            ledger_problems.clear();
            vec![super::mission::show(s, id)?]
        }
        Scope::All => missions
            .into_iter()
            .filter(|m| m.status != MissionStatus::Archived)
            .collect(),
    };
    let mut out = Vec::new();
    for mission in chosen {
        let (roots, problems) = match s.mission_dir(mission.id) {
            Ok(dir) => {
                let loaded = Loaded::read(&dir)?;
                (tree(&loaded), loaded.problems)
            }
            Err(e) => (
                Vec::new(),
                vec![Problem {
                    file: std::path::PathBuf::from(&mission.workspace),
                    error: e.message,
                }],
            ),
        };
        out.push(MissionSummary {
            mission,
            roots,
            problems,
        });
    }
    Ok((out, ledger_problems))
}

/// Arranges work orders as a forest: roots are those without a parent (or
/// whose parent is missing), children in id order. A parent cycle written
/// by hand cannot loop: each work order appears once.
fn tree(loaded: &Loaded) -> Vec<Node> {
    let ids: HashSet<WorkOrderId> = loaded.orders.iter().map(|wo| wo.id).collect();
    let mut placed = HashSet::new();
    let mut roots: Vec<Node> = loaded
        .orders
        .iter()
        .filter(|wo| wo.parent.is_none_or(|p| !ids.contains(&p)))
        .map(|wo| node(loaded, wo.id, &mut placed))
        .collect();
    // Work orders caught in a parent cycle have no root; show them at the top.
    for wo in &loaded.orders {
        if !placed.contains(&wo.id) {
            roots.push(node(loaded, wo.id, &mut placed));
        }
    }
    roots
}

fn node(loaded: &Loaded, id: WorkOrderId, placed: &mut HashSet<WorkOrderId>) -> Node {
    placed.insert(id);
    let wo = loaded.get(id).expect("ids come from the loaded set");
    let child_ids: Vec<WorkOrderId> = loaded.children(id).map(|c| c.id).collect();
    let mut children = Vec::new();
    for child in child_ids {
        if !placed.contains(&child) {
            children.push(node(loaded, child, placed));
        }
    }
    Node {
        row: Row {
            shown: loaded.shown(wo),
            work_order: wo.clone(),
        },
        children,
    }
}

/// What `orc status` reports.
#[derive(Debug, Clone, Serialize)]
pub struct StatusReport {
    pub ledger: String,
    pub tip: Option<String>,
    pub tip_subject: Option<String>,
    pub role: &'static str,
    pub actor: String,
    pub mission: Option<MissionStatusLine>,
    pub missions_active: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct MissionStatusLine {
    pub id: MissionId,
    pub title: String,
    pub status: MissionStatus,
    /// Work orders by how they show (`waiting` included).
    pub counts: BTreeMap<String, usize>,
    pub problems: usize,
}

pub fn status(s: &Session, explicit: Option<MissionId>) -> Result<StatusReport> {
    let tip = s.ledger.require_tip()?;
    let info = s.ledger.commit_info(tip)?;
    let (missions, _) = s.missions()?;
    let mission = match s.resolve_mission(explicit) {
        Ok(id) => {
            let record = super::mission::show(s, id)?;
            let loaded = Loaded::read(&s.mission_dir(id)?)?;
            let mut counts = BTreeMap::new();
            for wo in &loaded.orders {
                *counts.entry(loaded.shown(wo).to_string()).or_insert(0) += 1;
            }
            Some(MissionStatusLine {
                id,
                title: record.title,
                status: record.status,
                counts,
                problems: loaded.problems.len(),
            })
        }
        Err(e) if explicit.is_some() => return Err(e),
        Err(_) => None,
    };
    Ok(StatusReport {
        ledger: s.ledger.branch().to_string(),
        tip: Some(tip.to_hex_with_len(7).to_string()),
        tip_subject: Some(info.subject().to_string()),
        role: s.role().as_str(),
        actor: s.actor.clone(),
        mission,
        missions_active: missions
            .iter()
            .filter(|m| m.status == MissionStatus::Active)
            .count(),
    })
}

/// What `orc context` reports.
#[derive(Debug, Clone, Serialize)]
pub struct ContextReport {
    pub role: &'static str,
    pub actor: String,
    pub mission_id: Option<MissionId>,
    pub grove_id: Option<GroveId>,
    pub ledger: String,
    pub repo: String,
    pub directory: Option<String>,
}

pub fn context(s: &Session) -> ContextReport {
    let (grove_id, directory) = match &s.context {
        Context::Mission { dir, .. } => (None, Some(dir.owner().display().to_string())),
        Context::Grove { id, dir, .. } => (Some(*id), Some(dir.owner().display().to_string())),
        Context::None => (None, None),
    };
    ContextReport {
        role: s.role().as_str(),
        actor: s.actor.clone(),
        mission_id: s.context_mission(),
        grove_id,
        ledger: s.ledger.branch().to_string(),
        repo: s.ledger.common_dir().display().to_string(),
        directory,
    }
}

/// One commit as `orc log` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct LogEntry {
    pub commit: String,
    pub author: String,
    pub time: String,
    pub subject: String,
    pub body: Vec<String>,
    pub trailers: BTreeMap<String, String>,
}

/// The ledger's history, newest first: all of it, or the commits that
/// changed one entity (a work order's file, a mission's or a grove's
/// subtree). At most `limit` entries.
pub fn log(s: &Session, entity: Option<&str>, limit: Option<usize>) -> Result<Vec<LogEntry>> {
    s.ledger.require_tip()?;
    let path = match entity {
        None => None,
        Some(text) => Some(entity_path(s, text)?),
    };
    let mut out = Vec::new();
    for info in s.ledger.history()? {
        if limit.is_some_and(|n| out.len() >= n) {
            break;
        }
        let info = info?;
        if let Some(path) = &path {
            let now = s.ledger.entry_at(info.id, path)?.map(|e| e.0);
            let before = match info.parent {
                Some(p) => s.ledger.entry_at(p, path)?.map(|e| e.0),
                None => None,
            };
            if now == before {
                continue;
            }
        }
        out.push(entry(&info));
    }
    Ok(out)
}

fn entry(info: &crate::ledger::CommitInfo) -> LogEntry {
    let mut body = Vec::new();
    let mut trailers = BTreeMap::new();
    for line in info.message.lines().skip(1) {
        if let Some((key, value)) = line.split_once(": ")
            && key.starts_with("Orc-")
            && !key.contains(' ')
        {
            trailers.insert(key.to_string(), value.to_string());
        } else if !line.is_empty() {
            body.push(line.to_string());
        }
    }
    LogEntry {
        commit: info.id.to_hex().to_string(),
        author: info.author.clone(),
        time: crate::model::Timestamp::from_unix(info.time).to_string(),
        subject: info.subject().to_string(),
        body,
        trailers,
    }
}

/// The ledger path whose changes make up an entity's history.
fn entity_path(s: &Session, text: &str) -> Result<String> {
    if let Ok(id) = MissionId::parse(text) {
        s.ledger_mission(id)?;
        return Ok(mission_prefix(id));
    }
    if let Ok(id) = GroveId::parse(text) {
        return Ok(format!("groves/{id}"));
    }
    if let Ok(id) = WorkOrderId::parse(text) {
        let tip = s.ledger.require_tip()?;
        for entry in s.ledger.list("missions")? {
            let Ok(mission) = MissionId::parse(&entry.name) else {
                continue;
            };
            let path = super::records::work_order_ledger_path(mission, id);
            if s.ledger.entry_at(tip, &path)?.is_some() {
                return Ok(path);
            }
        }
        return Err(Error::not_found(format!("{id} is not on the ledger")));
    }
    Err(Error::usage(format!(
        "{:?} is not an id (expected WO-<digits>, MISSION-<digits> or GROVE-<digits>)",
        crate::model::id::shorten(text)
    )))
}
