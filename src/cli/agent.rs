//! `orc prime`, `orc hooks ...`, `orc doctor`.

use clap::Subcommand;
use serde_json::json;

use super::{Out, to_json};
use crate::agent::profile::Profile;
use crate::agent::{hooks, prime, trust};
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
    /// Install what this grove's or workspace's agent needs: hooks,
    /// permissions and context (Claude Code), instructions (Codex).
    Install {
        /// The agent profile (default: the one this directory runs).
        #[arg(long, value_name = "PROFILE")]
        agent: Option<String>,
    },
    /// Show whether it is installed as orc would write it.
    Status {
        #[arg(long, value_name = "PROFILE")]
        agent: Option<String>,
    },
    /// Make each active grove's and workspace's agent trust it (in the
    /// agent's own state), recording what changed.
    Trust,
    /// Put back what `orc hooks trust` changed, for this repository's groves
    /// and workspaces (or, with --all, everywhere).
    Untrust {
        #[arg(long)]
        all: bool,
    },
}

#[derive(Debug, clap::Args)]
pub struct RestoreArgs {
    /// A grove (id or name) or a mission (`MISSION-001`).
    pub target: String,
    /// Also replace files holding an edit not yet applied (they are kept in
    /// .orc/rejected/ first).
    #[arg(long)]
    pub force: bool,
}

/// `orc restore`: the directory's `.orc/` from the ledger, then what its
/// agent needs.
pub fn restore(s: &Session, args: &RestoreArgs, out: &Out) -> Result<()> {
    use crate::model::MissionId;
    let (done, site) = match MissionId::parse(&args.target) {
        Ok(m) => (
            crate::ops::restore::mission(s, m, args.force)?,
            hooks::Site::of_mission(s, &s.ledger_mission(m)?)?,
        ),
        Err(_) => {
            let g = s.resolve_grove(&args.target)?;
            (
                crate::ops::restore::grove(s, g, args.force)?,
                hooks::Site::of_grove(s, &s.ledger_grove(g)?)?,
            )
        }
    };
    let installed = install_site(s, &site)?;
    if out.json {
        let mut v = to_json(&done);
        v["agent_files_changed"] = json!(installed);
        out.json(&v);
    } else {
        if done.worktree_added {
            out.line(format!("added the worktree {} again", done.dir.display()));
        }
        for f in &done.written {
            out.line(format!("restored .orc/{f}"));
        }
        for f in &done.left {
            out.line(format!(
                "left .orc/{f}: it holds an edit not yet applied (--force replaces it)"
            ));
        }
        for k in &done.kept {
            out.line(format!("kept the old content at {}", k.display()));
        }
        if done.written.is_empty() && !done.worktree_added && !installed {
            out.line(format!("{}: nothing to restore", done.dir.display()));
        }
    }
    Ok(())
}

#[derive(Debug, clap::Args)]
pub struct HookArgs {
    /// The agent's event: SessionStart, UserPromptSubmit, PostToolUse,
    /// PermissionRequest, Notification, Stop, SessionEnd (Claude Code) or
    /// Notify (Codex).
    pub event: String,
    /// The event's JSON, when the agent passes it as an argument (Codex);
    /// else it is read from standard input (Claude Code).
    pub payload: Option<String>,
    /// The agent's kind.
    #[arg(long, default_value = "claude")]
    pub agent: String,
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

fn site(s: &Session, agent: &Option<String>) -> Result<hooks::Site> {
    let mut site = hooks::here(s)?;
    if let Some(name) = agent {
        site.profile = Profile::named(&s.settings, name)?.ok_or_else(|| {
            Error::not_found(format!("no agent profile named {name:?}")).with_hint(format!(
                "known: {}",
                crate::agent::profile::names(&s.settings).join(", ")
            ))
        })?;
    }
    Ok(site)
}

/// Installs the agent's needs in `site` (and hides what it writes from
/// git). Returns whether anything changed.
pub fn install_site(s: &Session, site: &hooks::Site) -> Result<bool> {
    if site.profile.kind == crate::agent::profile::AgentKind::Codex {
        s.ledger.exclude(&[crate::agent::codex::EXCLUDE])?;
    }
    hooks::install(&site.dir, site.role, &site.profile)
}

/// Trusts a new grove or workspace for its agent when `auto_trust` is on.
pub fn auto_trust(s: &Session, site: &hooks::Site) -> Result<()> {
    if s.settings.auto_trust() {
        trust::trust(
            &[(site.profile.kind, site.dir.clone())],
            s.settings.lock_timeout(),
        )?;
    }
    Ok(())
}

fn show_status(st: &hooks::Installed, out: &Out) {
    if out.json {
        out.json(&to_json(st));
        return;
    }
    out.line(format!(
        "{} ({} profile {:?}) in {}",
        st.agent,
        st.role.as_str(),
        st.profile,
        st.files
            .iter()
            .map(|f| f.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    ));
    for i in &st.items {
        out.line(format!("  {:<12} {:<10} {}", i.kind, i.state, i.name));
        if i.state != "installed" {
            if let Some(f) = &i.found {
                out.line(format!("      found:    {f}"));
            }
            if let Some(e) = &i.expected {
                out.line(format!("      expected: {e}"));
            }
        }
    }
}

pub fn hooks(s: &Session, cmd: &HooksCommand, out: &Out) -> Result<()> {
    match cmd {
        HooksCommand::Install { agent } => {
            let site = site(s, agent)?;
            let changed = install_site(s, &site)?;
            let st = hooks::status(&site.dir, site.role, &site.profile)?;
            if out.json {
                out.json(&json!({ "changed": changed, "status": to_json(&st) }));
            } else {
                out.line(if changed {
                    "installed"
                } else {
                    "already current"
                });
                show_status(&st, out);
            }
            if !st.ok() {
                return Err(Error::invalid(
                    "installed, but the agent's settings hold entries it rejects (listed above)",
                )
                .with_hint(
                    "fix or remove them by hand: an agent stops at start to complain about them",
                )
                .reported());
            }
        }
        HooksCommand::Status { agent } => {
            let site = site(s, agent)?;
            let st = hooks::status(&site.dir, site.role, &site.profile)?;
            show_status(&st, out);
            if !st.ok() {
                return Err(Error::new(
                    crate::error::Kind::NotFound,
                    "not installed as orc would write it",
                )
                .with_hint("run `orc hooks install`")
                .reported());
            }
        }
        HooksCommand::Trust => {
            let (sites, errors) = hooks::sites(s)?;
            if let Some(e) = errors.into_iter().next() {
                return Err(e);
            }
            let targets: Vec<_> = sites
                .into_iter()
                .map(|site| (site.profile.kind, site.dir))
                .collect();
            let added = trust::trust(&targets, s.settings.lock_timeout())?;
            if out.json {
                out.json(&json!({ "trusted": to_json(&added) }));
            } else if added.is_empty() {
                out.line("every grove and mission workspace is trusted by its agent already");
            } else {
                for e in added {
                    out.line(format!(
                        "{} trusts {} (in {})",
                        e.agent,
                        e.path.display(),
                        e.file.display()
                    ));
                }
            }
        }
        HooksCommand::Untrust { all } => {
            let mine: Vec<std::path::PathBuf> = if *all {
                Vec::new()
            } else {
                let mut dirs: Vec<std::path::PathBuf> = Vec::new();
                let (missions, _) = s.missions()?;
                dirs.extend(missions.iter().map(|m| m.workspace.clone().into()));
                let (groves, _) = s.groves()?;
                dirs.extend(groves.iter().map(|g| g.path.clone().into()));
                dirs.into_iter()
                    .map(|d: std::path::PathBuf| d.canonicalize().unwrap_or(d))
                    .collect()
            };
            let undone = trust::untrust(
                |e| *all || mine.contains(&e.path),
                s.settings.lock_timeout(),
            )?;
            if out.json {
                out.json(&json!({ "untrusted": to_json(&undone) }));
            } else if undone.is_empty() {
                out.line("nothing to undo: orc trusted nothing here");
            } else {
                for e in undone {
                    out.line(format!("{} no longer trusts {}", e.agent, e.path.display()));
                }
            }
        }
    }
    Ok(())
}

/// `orc hook EVENT`: run by an agent's hooks. Records the agent's state;
/// SessionStart also prints the agent's context and UserPromptSubmit its
/// unread mail, as Claude Code's hooks expect. Never fails the agent: any
/// problem is a line on stderr and exit 0.
pub fn hook(opts: &crate::ops::Options, args: &HookArgs, out: &Out) -> Result<()> {
    use std::io::Read;
    let payload_text = match &args.payload {
        Some(p) => p.clone(),
        None => {
            let mut text = String::new();
            let _ = std::io::stdin().take(1 << 20).read_to_string(&mut text);
            text
        }
    };
    let payload: serde_json::Value =
        serde_json::from_str(payload_text.trim()).unwrap_or(serde_json::Value::Null);
    let session = match crate::ops::Session::open(opts) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("orc hook: {}", e.message);
            return Ok(());
        }
    };
    if let Context::Mission { dir, .. } | Context::Grove { dir, .. } = &session.context
        && let Err(e) = crate::agent::state::record(
            dir,
            &args.agent,
            &args.event,
            &payload,
            &session.now,
            session.settings.lock_timeout(),
        )
    {
        eprintln!("orc hook: {}", e.message);
    }
    match args.event.as_str() {
        "SessionStart" => match prime::prime(&session) {
            Ok(p) => out.json(&prime::hook_output("SessionStart", &p.text)),
            Err(e) => eprintln!("orc hook: {}", e.message),
        },
        "UserPromptSubmit" => {
            if let Some(v) = crate::cli::mail::check_hook_output(&session) {
                out.json(&v);
            }
        }
        _ => {}
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
