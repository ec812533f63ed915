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
        /// Do not install the Claude Code hooks in the workspace.
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
            no_hooks,
        } => {
            let m = mission::create(
                s,
                &NewMission {
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
