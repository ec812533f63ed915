//! `orc mission ...`.

use std::path::PathBuf;

use clap::Subcommand;
use serde_json::json;

use super::render::{multi_line, one_line, problems_json, problems_text};
use super::{Out, parse_id, to_json};
use crate::error::Result;
use crate::model::{Mission, MissionId, MissionStatus};
use crate::ops::Session;
use crate::ops::mission::{self, MissionChanges, NewMission};

#[derive(Debug, Subcommand)]
pub enum MissionCommand {
    /// Create a mission and its workspace; prints the new id.
    Create {
        title: String,
        #[arg(short, long, value_name = "TEXT", default_value = "")]
        description: String,
        /// The workspace directory (default: under the missions root of orc.toml).
        #[arg(long, value_name = "DIR")]
        workspace: Option<PathBuf>,
        /// The branch the mission's work lands on (default: the branch
        /// checked out here).
        #[arg(long, value_name = "BRANCH")]
        target: Option<String>,
        /// Who approves the mission's work: none, deputy, human or agent
        /// (default: the repository's `review` setting).
        #[arg(long, value_name = "POLICY")]
        review: Option<String>,
        /// Do not install the agent's hooks in the workspace.
        #[arg(long)]
        no_hooks: bool,
    },
    /// List missions (archived ones only with --all).
    List {
        #[arg(long)]
        all: bool,
    },
    /// Show one mission (default: the current one).
    Show { id: Option<String> },
    /// Change a mission's title or description.
    Update {
        id: Option<String>,
        #[arg(long)]
        title: Option<String>,
        #[arg(short, long, value_name = "TEXT")]
        description: Option<String>,
    },
    /// Mark a mission completed (refused while work is open, unless --force).
    Complete {
        id: Option<String>,
        #[arg(long)]
        force: bool,
    },
    /// Archive a mission: hidden from `mission list` and `summary --scope all`.
    Archive { id: String },
    /// Bring the mission's integration branch onto its target: a
    /// fast-forward, or a merge commit when the target moved; only when
    /// the target is not checked out or is checked out in a clean worktree.
    Land { id: Option<String> },
}

pub fn run(s: &Session, cmd: &MissionCommand, out: &Out) -> Result<()> {
    let pick = |id: &Option<String>| -> Result<MissionId> {
        match id {
            Some(text) => parse_id(text, MissionId::parse),
            None => s.resolve_mission(None),
        }
    };
    match cmd {
        MissionCommand::Create {
            title,
            description,
            workspace,
            target,
            review,
            no_hooks,
        } => {
            let review = review
                .as_deref()
                .map(|r| r.parse::<crate::model::ReviewPolicy>())
                .transpose()?;
            let m = mission::create(
                s,
                &NewMission {
                    target: target.clone(),
                    review,
                    title: title.clone(),
                    description: description.clone(),
                    workspace: workspace.clone(),
                },
            )?;
            if !no_hooks {
                let site = crate::agent::hooks::Site::of_mission(s, &m)?;
                super::agent::install_site(s, &site)?;
                super::agent::auto_trust(s, &site)?;
            }
            if out.json {
                out.json(&to_json(&m));
            } else {
                out.line(m.id.to_string());
            }
        }
        MissionCommand::List { all } => {
            let (missions, problems) = s.missions()?;
            let shown: Vec<&Mission> = missions
                .iter()
                .filter(|m| *all || m.status != MissionStatus::Archived)
                .collect();
            if out.json {
                out.json(
                    &json!({ "missions": to_json(&shown), "errors": problems_json(&problems) }),
                );
            } else {
                for m in &shown {
                    out.line(format!(
                        "{}  {:<9}  {}",
                        m.id,
                        m.status.as_str(),
                        one_line(&m.title)
                    ));
                }
                for line in problems_text(&problems) {
                    out.line(line);
                }
            }
        }
        MissionCommand::Show { id } => {
            let m = mission::show(s, pick(id)?)?;
            print_mission(out, &m);
        }
        MissionCommand::Update {
            id,
            title,
            description,
        } => {
            let m = mission::update(
                s,
                pick(id)?,
                &MissionChanges {
                    title: title.clone(),
                    description: description.clone(),
                },
            )?;
            print_mission(out, &m);
        }
        MissionCommand::Complete { id, force } => {
            let m = mission::complete(s, pick(id)?, *force)?;
            print_mission(out, &m);
        }
        MissionCommand::Archive { id } => {
            let m = mission::archive(s, parse_id(id, MissionId::parse)?)?;
            print_mission(out, &m);
        }
        MissionCommand::Land { id } => {
            let l = crate::ops::land::land(s, pick(id)?)?;
            if out.json {
                out.json(&to_json(&l));
            } else if l.how == "up-to-date" {
                out.line(format!(
                    "{}: {} is already on {}",
                    l.mission, l.integration, l.target
                ));
            } else {
                out.line(format!(
                    "{}: landed {} on {} ({}): {}..{}{}",
                    l.mission,
                    l.integration,
                    l.target,
                    l.how,
                    &l.from[..10],
                    &l.to[..10],
                    l.worktree
                        .as_ref()
                        .map(|w| format!(", checked out in {}", w.display()))
                        .unwrap_or_default()
                ));
            }
        }
    }
    Ok(())
}

fn print_mission(out: &Out, m: &Mission) {
    if out.json {
        out.json(&to_json(m));
        return;
    }
    out.line(format!("{}  {}", m.id, multi_line(&m.title)));
    out.line(format!("status:     {}", m.status));
    out.line(format!("workspace:  {}", m.workspace));
    if let (Some(t), Some(i)) = (&m.target, &m.integration) {
        out.line(format!("target:     {t} (work lands on {i})"));
    }
    if let Some(r) = m.review {
        out.line(format!("review:     {r}"));
    }
    if let Some(l) = &m.landed {
        out.line(format!(
            "landed:     {} on {} ({}) at {}",
            &l.commit[..l.commit.len().min(10)],
            l.target,
            l.how,
            l.at
        ));
    }
    out.line(format!(
        "created:    {} by {}",
        m.created_at,
        one_line(&m.created_by)
    ));
    out.line(format!("updated:    {}", m.updated_at));
    if let Some(t) = &m.completed_at {
        out.line(format!("completed:  {t}"));
    }
    if let Some(t) = &m.archived_at {
        out.line(format!("archived:   {t}"));
    }
    if !m.description.is_empty() {
        out.line("");
        out.line(multi_line(&m.description));
    }
}
