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
        /// The agent profile its IMP runs (default: `agent` of orc.toml).
        #[arg(long, value_name = "PROFILE")]
        agent: Option<String>,
        /// Do not install the agent's hooks, permissions and instructions.
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
            agent,
            no_hooks,
        } => {
            let profile = crate::agent::profile::Profile::for_imp(&s.settings, agent.as_deref())?;
            let mut prepare = |dir: &std::path::Path| -> Result<()> {
                if *no_hooks {
                    return Ok(());
                }
                let site = hooks::Site {
                    dir: dir.to_path_buf(),
                    role: crate::agent::profile::AgentRole::Imp,
                    profile: profile.clone(),
                    mission: crate::model::MissionId::new(0),
                    grove: None,
                };
                super::agent::install_site(s, &site).map(|_| ())
            };
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
                    agent: agent.clone(),
                },
                &mut prepare,
            )?;
            if !no_hooks {
                super::agent::auto_trust(s, &hooks::Site::of_grove(s, &g)?)?;
            }
            if out.json {
                out.json(&to_json(&g));
            } else {
                out.line(g.id.to_string());
            }
        }
        GroveCommand::List { all } => {
            let rows = grove::list(s, *all)?;
            let agents: Vec<Option<crate::agent::state::Report>> = rows
                .iter()
                .map(|r| {
                    hooks::Site::of_grove(s, &r.grove)
                        .ok()
                        .map(|site| crate::agent::state::Report::of(&site))
                })
                .collect();
            if out.json {
                let list: Vec<serde_json::Value> = rows
                    .iter()
                    .zip(&agents)
                    .map(|(r, a)| {
                        let mut v = to_json(r);
                        v["agent_status"] = to_json(a);
                        v
                    })
                    .collect();
                out.json(&json!({ "groves": list }));
            } else {
                for (r, agent) in rows.iter().zip(&agents) {
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
                    // The agent's own report, when it has one, after the
                    // path (scripts read the first columns).
                    let reported = agent
                        .as_ref()
                        .filter(|a| a.state.is_some())
                        .filter(|_| r.grove.status == crate::model::GroveStatus::Active)
                        .map(|a| format!("  [agent {}]", one_line(&a.line())))
                        .unwrap_or_default();
                    out.line(format!(
                        "{}  {}  {}  {state}  {}{reported}",
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
            // Trust orc gave the directory goes with it.
            let path = std::path::PathBuf::from(&removed.grove.path);
            if let Err(e) =
                crate::agent::trust::untrust(|e| e.path == path, s.settings.lock_timeout())
            {
                eprintln!(
                    "orc: could not undo the trust of {}: {}",
                    path.display(),
                    e.message
                );
            }
            if out.json {
                out.json(&to_json(&removed));
            } else {
                out.line(format!("{} removed", removed.grove.id));
                if let Some(why) = &removed.branch_kept {
                    out.line(format!("branch {} kept: {why}", removed.grove.branch));
                }
                for r in removed.archived.iter().chain(&removed.archived_head) {
                    out.line(format!(
                        "its unmerged work is kept as {r} (`git branch NAME {r}` brings it back)"
                    ));
                }
            }
        }
    }
    Ok(())
}
