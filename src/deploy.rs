//! `orc deploy`: the tmux session a mission's agents live in.
//!
//! Session `orc-MISSION-001`: window `deputy` with the deputy's agent pane
//! (in the mission workspace) and a watcher pane running `orc watch`; one
//! window per grove, named after it, with the editor on the left (about
//! 60%), the IMP's agent top right and a shell bottom right, all in the
//! grove's directory. Every pane carries `@orc_role`, `@orc_mission` and,
//! in a grove window, `@orc_grove`. Deploying again adds what is missing and
//! duplicates nothing.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::agent::profile::{AgentKind, Profile};
use crate::error::{Error, Result};
use crate::model::{Grove, GroveStatus, MissionId};
use crate::ops::Session;
use crate::tmux::{self, Pane, Tmux, pane_argv};

/// The tmux session of a mission.
pub fn session_name(mission: MissionId) -> String {
    format!("orc-{mission}")
}

/// How the watcher pane runs `orc watch`.
#[derive(Debug, Clone, Default)]
pub struct WatchFlags {
    pub dispatch: bool,
    pub merge: bool,
    pub idle_after: Option<String>,
    pub interval: Option<String>,
    pub nudge_timeout: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Deployed {
    pub session: String,
    pub socket: Option<String>,
    /// What this run added (`deputy`, `watch`, `GROVE-001 imp`, ...).
    pub added: Vec<String>,
    /// How to attach.
    pub attach: String,
}

/// How an agent pane runs its agent: `orc pane-exec -- <command>`, which
/// puts this orc first on PATH (so `orc` in the agent's shell is this one)
/// and execs the command (same process id, so the agent's own reports name
/// the pane's process). A Codex agent gets orc's launch settings.
fn agent_argv(s: &Session, orc: &Path, profile: &Profile, writable: &[PathBuf]) -> Vec<String> {
    let mut argv = vec![
        orc.display().to_string(),
        "pane-exec".to_string(),
        "--".to_string(),
    ];
    argv.extend(profile.command.iter().cloned());
    if profile.kind == AgentKind::Codex {
        argv.extend(crate::agent::codex::launch_args(orc, writable));
    }
    let _ = s;
    argv
}

/// A placeholder a pane runs until it is tagged: a pane whose command
/// exits at once would otherwise be gone (with its message) before orc
/// could keep it on screen.
const PLACEHOLDER: [&str; 2] = ["sleep", "2147483647"];

pub fn deploy(
    s: &Session,
    tmux: &Tmux,
    mission: MissionId,
    flags: &WatchFlags,
) -> Result<Deployed> {
    tmux.check()?;
    let record = crate::ops::mission::show(s, mission)?;
    let workspace = PathBuf::from(&record.workspace);
    let session = session_name(mission);
    let orc_path = crate::agent::hooks::orc_binary();
    let orc = orc_path.display().to_string();
    let mut watch = vec![orc, "watch".to_string(), mission.to_string()];
    if let Some(sock) = tmux.socket() {
        watch.push("--socket".into());
        watch.push(sock.into());
    }
    if flags.dispatch {
        watch.push("--dispatch".into());
    }
    if flags.merge {
        watch.push("--merge".into());
    }
    if let Some(d) = &flags.idle_after {
        watch.push("--idle-after".into());
        watch.push(d.clone());
    }
    if let Some(d) = &flags.interval {
        watch.push("--interval".into());
        watch.push(d.clone());
    }
    if let Some(d) = &flags.nudge_timeout {
        watch.push("--nudge-timeout".into());
        watch.push(d.clone());
    }
    let (groves, _) = s.groves()?;
    let groves: Vec<&Grove> = groves
        .iter()
        .filter(|g| g.mission == mission && g.status == GroveStatus::Active)
        .collect();
    // Everything is checked before anything is created: every agent's
    // command is installed, every grove's worktree is there.
    let deputy_profile = Profile::for_deputy(&s.settings)?;
    deputy_profile.program()?;
    let mut grove_profiles = Vec::new();
    for g in &groves {
        let p = Profile::for_imp(&s.settings, g.agent.as_deref())?;
        p.program()
            .map_err(|e| e.context(format!("{} ({})", g.id, g.name)))?;
        if !Path::new(&g.path).is_dir() {
            return Err(
                Error::environment(format!("{}'s worktree {} is missing", g.id, g.path))
                    .with_hint("`orc doctor` explains; `orc grove remove --force` forgets it"),
            );
        }
        grove_profiles.push(p);
    }
    let common = s.ledger.common_dir();
    let deputy = agent_argv(s, &orc_path, &deputy_profile, std::slice::from_ref(&common));
    let editor = pane_argv(s.settings.editor_command());
    let shell = pane_argv(s.settings.shell_command());
    let placeholder: Vec<String> = PLACEHOLDER.iter().map(|w| w.to_string()).collect();
    let m = mission.to_string();
    let mut added = Vec::new();

    let tag =
        |pane: &str, role: &str, grove: Option<&Grove>, kind: Option<AgentKind>| -> Result<()> {
            // The role last: a watcher finds panes by it, and must see the
            // rest once it does.
            if let Some(k) = kind {
                tmux.set_pane_option(pane, tmux::AGENT, k.as_str())?;
            }
            tmux.set_pane_option(pane, tmux::MISSION, &m)?;
            if let Some(g) = grove {
                tmux.set_pane_option(pane, tmux::GROVE, &g.id.to_string())?;
            }
            tmux.set_pane_option(pane, tmux::ROLE, role)?;
            if matches!(role, "deputy" | "imp" | "watch") {
                tmux.remain_on_exit(pane)?;
            }
            Ok(())
        };
    let panes = |tmux: &Tmux| -> Result<Vec<Pane>> {
        Ok(tmux
            .panes()?
            .into_iter()
            .filter(|p| p.session == session)
            .collect())
    };

    // The deputy window.
    let existing = panes(tmux)?;
    let deputy_pane = match existing.iter().find(|p| p.role == "deputy") {
        Some(p) => p.id.clone(),
        None => {
            let pane = if tmux.has_session(&session) {
                tmux.new_window(&session, "deputy", &workspace, &placeholder)?
            } else {
                tmux.new_session(&session, "deputy", &workspace, &placeholder)?
            };
            tag(&pane, "deputy", None, Some(deputy_profile.kind))?;
            tmux.respawn(&pane, &workspace, &deputy)?;
            added.push("deputy".to_string());
            pane
        }
    };
    match existing.iter().find(|p| p.role == "watch") {
        None => {
            let pane = tmux.split(&deputy_pane, false, 30, &workspace, &placeholder)?;
            tag(&pane, "watch", None, None)?;
            tmux.respawn(&pane, &workspace, &watch)?;
            added.push("watch".to_string());
        }
        // Started with other flags (or stopped): restart it as asked.
        Some(p) if p.dead || !p.start.ends_with(&watch[1..].join(" ")) => {
            tmux.respawn(&p.id, &workspace, &watch)?;
            added.push("watch (restarted)".to_string());
        }
        Some(_) => {}
    }

    // One window per active grove.
    for (g, profile) in groves.iter().zip(&grove_profiles) {
        let dir = Path::new(&g.path);
        let agent = agent_argv(s, &orc_path, profile, &[common.clone(), workspace.clone()]);
        let mine: Vec<Pane> = panes(tmux)?
            .into_iter()
            .filter(|p| p.grove == g.id.to_string())
            .collect();
        let find = |role: &str| mine.iter().find(|p| p.role == role).map(|p| p.id.clone());
        let editor_pane = match find("editor") {
            Some(p) => Some(p),
            None if mine.is_empty() => {
                let p = tmux.new_window(&session, &g.name, dir, &editor)?;
                tag(&p, "editor", Some(g), None)?;
                added.push(format!("{} editor", g.id));
                Some(p)
            }
            None => None,
        };
        let agent_pane = match find("imp") {
            Some(p) => p,
            None => {
                let from = editor_pane
                    .clone()
                    .or_else(|| mine.first().map(|p| p.id.clone()));
                let Some(from) = from else { continue };
                let p = tmux.split(&from, true, 40, dir, &placeholder)?;
                tag(&p, "imp", Some(g), Some(profile.kind))?;
                tmux.respawn(&p, dir, &agent)?;
                added.push(format!("{} imp", g.id));
                p
            }
        };
        if find("shell").is_none() {
            let p = tmux.split(&agent_pane, false, 50, dir, &shell)?;
            tag(&p, "shell", Some(g), None)?;
            added.push(format!("{} shell", g.id));
        }
    }
    let mut attach = tmux.argv();
    attach.extend(["attach".to_string(), "-t".to_string(), session.clone()]);
    Ok(Deployed {
        session,
        socket: tmux.socket().map(str::to_string),
        added,
        attach: attach.join(" "),
    })
}

/// `orc pane-exec -- COMMAND...`: what an agent pane runs. Puts the
/// directory of this orc first on PATH, then execs the command. If it
/// cannot be started, says why and exits 127; the pane stays on screen
/// (what a dead pane printed is in its scrollback).
pub fn pane_exec(argv: &[String]) -> i32 {
    use std::os::unix::process::CommandExt;
    let Some((program, args)) = argv.split_first() else {
        eprintln!("orc pane-exec: no command given");
        return 2;
    };
    // tmux resets a respawned pane's screen as it starts the command; a
    // moment first, so that what a command failing at once prints stays.
    std::thread::sleep(std::time::Duration::from_millis(100));
    let mut cmd = std::process::Command::new(program);
    cmd.args(args);
    if let Some(dir) = crate::agent::hooks::orc_binary().parent() {
        let path = std::env::var_os("PATH").unwrap_or_default();
        let mut parts = vec![dir.to_path_buf()];
        parts.extend(std::env::split_paths(&path));
        if let Ok(joined) = std::env::join_paths(parts) {
            cmd.env("PATH", joined);
        }
    }
    let err = cmd.exec();
    eprintln!("orc: cannot start {program:?}: {err}");
    127
}

/// Ends a mission's session. Returns false if there was none.
pub fn teardown(tmux: &Tmux, mission: MissionId) -> Result<bool> {
    let session = session_name(mission);
    if !tmux.has_session(&session) {
        return Ok(false);
    }
    tmux.kill_session(&session)?;
    Ok(true)
}
