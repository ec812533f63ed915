//! `orc prime`, `orc hooks ...`, `orc doctor`.

use clap::Subcommand;
use serde_json::json;

use super::{Out, to_json};
use crate::agent::{hooks, prime};
use crate::error::{Error, Result};
use crate::ops::{Context, Session};

#[derive(Debug, clap::Args)]
pub struct PrimeArgs {
    /// Print the JSON Claude Code's SessionStart hook reads.
    #[arg(long)]
    pub hook: bool,
}

#[derive(Debug, Subcommand)]
pub enum HooksCommand {
    /// Install orc's Claude Code hooks in this grove or mission workspace.
    Install {
        /// The coding agent (only `claude` for now).
        #[arg(long, default_value = "claude")]
        agent: String,
    },
    /// Show whether the hooks are installed and current.
    Status,
    /// Let Claude Code work in the missions and worktrees roots
    /// (permissions.additionalDirectories in ~/.claude/settings.json).
    Trust,
}

pub fn prime(s: &Session, args: &PrimeArgs, out: &Out) -> Result<()> {
    let p = prime::prime(s)?;
    if args.hook {
        out.json(&prime::hook_output("SessionStart", &p.text));
    } else if out.json {
        out.json(&json!({ "role": p.role, "actor": p.actor, "text": p.text, "data": p.data }));
    } else {
        out.raw(&p.text);
    }
    Ok(())
}

fn here(s: &Session) -> Result<std::path::PathBuf> {
    match &s.context {
        Context::Mission { dir, .. } | Context::Grove { dir, .. } => Ok(dir.owner().to_path_buf()),
        Context::None => Err(Error::usage(
            "hooks belong to a grove or a mission workspace; run this inside one",
        )),
    }
}

pub fn hooks(s: &Session, cmd: &HooksCommand, out: &Out) -> Result<()> {
    let orc = hooks::orc_binary();
    match cmd {
        HooksCommand::Install { agent } => {
            if agent != "claude" {
                return Err(Error::usage(format!(
                    "unknown agent {agent:?}; orc installs hooks for `claude`"
                )));
            }
            let dir = here(s)?;
            let changed = hooks::install(&dir, &orc)?;
            let st = hooks::status(&dir, &orc)?;
            if out.json {
                out.json(&json!({ "changed": changed, "status": to_json(&st) }));
            } else {
                out.line(format!(
                    "{} {}",
                    if changed {
                        "installed hooks in"
                    } else {
                        "hooks already current in"
                    },
                    st.settings.display()
                ));
            }
        }
        HooksCommand::Status => {
            let dir = here(s)?;
            let st = hooks::status(&dir, &orc)?;
            if out.json {
                out.json(&to_json(&st));
            } else {
                out.line(st.settings.display().to_string());
                for h in &st.hooks {
                    out.line(format!("  {:<17} {}", h.event, h.state));
                    if let Some(f) = &h.found {
                        out.line(format!("    found:    {f}"));
                        out.line(format!("    expected: {}", h.expected));
                    }
                }
            }
            if !st.ok() {
                return Err(Error::new(
                    crate::error::Kind::NotFound,
                    "the hooks are not installed as orc would write them",
                )
                .with_hint("run `orc hooks install`")
                .reported());
            }
        }
        HooksCommand::Trust => {
            let roots = vec![s.settings.missions_root()?, s.settings.worktrees_root()?];
            let added = hooks::trust(&roots)?;
            if out.json {
                out.json(&json!({ "added": to_json(&added) }));
            } else if added.is_empty() {
                out.line("Claude Code already trusts the missions and worktrees roots");
            } else {
                for a in added {
                    out.line(format!("trusted {}", a.display()));
                }
            }
        }
    }
    Ok(())
}

pub fn doctor(s: &Session, out: &Out) -> Result<()> {
    let checks = crate::doctor::run(s)?;
    let failed = checks.iter().filter(|c| !c.ok).count();
    if out.json {
        out.json(&json!({ "ok": failed == 0, "checks": to_json(&checks) }));
    } else {
        for c in &checks {
            out.line(format!(
                "{} {:<7} {}",
                if c.ok { "ok  " } else { "FAIL" },
                c.check,
                c.message
            ));
            if let Some(fix) = &c.fix {
                out.line(format!("             fix: {fix}"));
            }
        }
        out.line(format!("{} checks, {failed} failed", checks.len()));
    }
    if failed > 0 {
        return Err(Error::environment(format!("orc doctor: {failed} check(s) failed")).reported());
    }
    Ok(())
}
