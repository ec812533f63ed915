//! `orc grove ...`.

use std::path::PathBuf;

use clap::Subcommand;
use serde_json::json;

use super::render::one_line;
use super::{Out, parse_id, to_json};
use crate::agent::hooks;
use crate::error::Result;
use crate::model::MissionId;
use crate::ops::Session;
use crate::ops::grove::{self, NewGrove};

#[derive(Debug, Subcommand)]
pub enum GroveCommand {
    /// Create a grove: a git worktree on its own branch; prints the new id.
    Create {
        name: String,
        #[arg(long, value_name = "ID")]
        mission: Option<String>,
        /// The commit, branch or tag to start from (default HEAD).
        #[arg(long, value_name = "REF")]
        base: Option<String>,
        /// The worktree directory (default: under the worktrees root of orc.toml).
        #[arg(long, value_name = "DIR")]
        path: Option<PathBuf>,
        /// The branch to create (default: the grove's name).
        #[arg(long, value_name = "NAME")]
        branch: Option<String>,
        /// Do not install the Claude Code hooks in the grove.
        #[arg(long)]
        no_hooks: bool,
    },
    /// List groves and what they hold.
    List {
        /// Include removed groves.
        #[arg(long)]
        all: bool,
    },
    /// Show one grove.
    Show { grove: String },
    /// Remove a grove's worktree (and branch) and mark it removed.
    Remove {
        grove: String,
        /// Remove even with an active assignment (its work returns to ready) or local changes.
        #[arg(long)]
        force: bool,
        /// Keep the grove's branch.
        #[arg(long)]
        keep_branch: bool,
    },
}

pub fn run(s: &Session, cmd: &GroveCommand, out: &Out) -> Result<()> {
    match cmd {
        GroveCommand::Create {
            name,
            mission,
            base,
            path,
            branch,
            no_hooks,
        } => {
            let g = grove::create(
                s,
                &NewGrove {
                    name: name.clone(),
                    mission: mission
                        .as_deref()
                        .map(|m| parse_id(m, MissionId::parse))
                        .transpose()?,
                    base: base.clone(),
                    path: path.clone(),
                    branch: branch.clone(),
                },
            )?;
            if !no_hooks {
                hooks::install(std::path::Path::new(&g.path), &hooks::orc_binary())?;
            }
            if out.json {
                out.json(&to_json(&g));
            } else {
                out.line(g.id.to_string());
            }
        }
        GroveCommand::List { all } => {
            let rows = grove::list(s, *all)?;
            if out.json {
                out.json(&json!({ "groves": to_json(&rows) }));
            } else {
                for r in &rows {
                    let state = match &r.assignment {
                        Some(a) if a.is_active() => format!(
                            "busy: {}{}",
                            a.work_order,
                            a.next.map(|n| format!(" (next {n})")).unwrap_or_default()
                        ),
                        _ if r.grove.status != crate::model::GroveStatus::Active => {
                            "removed".into()
                        }
                        _ => "idle".into(),
                    };
                    out.line(format!(
                        "{}  {}  {}  {state}  {}",
                        r.grove.id,
                        one_line(&r.grove.name),
                        r.grove.branch,
                        r.grove.path
                    ));
                }
            }
        }
        GroveCommand::Show { grove: g } => {
            let id = s.resolve_grove(g)?;
            let (g, a) = crate::ops::assign::show(s, id)?;
            if out.json {
                out.json(&json!({ "grove": to_json(&g), "assignment": to_json(&a) }));
            } else {
                out.line(format!("{}  {}", g.id, one_line(&g.name)));
                out.line(format!("status:     {}", g.status));
                out.line(format!("mission:    {}", g.mission));
                out.line(format!(
                    "branch:     {} (from {})",
                    g.branch,
                    &g.base[..g.base.len().min(12)]
                ));
                out.line(format!("path:       {}", g.path));
                out.line(format!(
                    "created:    {} by {}",
                    g.created_at,
                    one_line(&g.created_by)
                ));
                match a {
                    Some(a) => out.line(format!(
                        "assignment: {} ({}){}",
                        a.work_order,
                        a.status,
                        a.next.map(|n| format!(", next {n}")).unwrap_or_default()
                    )),
                    None => out.line("assignment: none"),
                }
            }
        }
        GroveCommand::Remove {
            grove: g,
            force,
            keep_branch,
        } => {
            let id = s.resolve_grove(g)?;
            let removed = grove::remove(s, id, *force, *keep_branch)?;
            if out.json {
                out.json(&to_json(&removed));
            } else {
                out.line(format!("{} removed", removed.grove.id));
                if let Some(why) = &removed.branch_kept {
                    out.line(format!("branch {} kept: {why}", removed.grove.branch));
                }
            }
        }
    }
    Ok(())
}
