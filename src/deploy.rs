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
    pub idle_after: Option<String>,
    pub interval: Option<String>,
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
    let orc = crate::agent::hooks::orc_binary().display().to_string();
    let mut watch = vec![orc, "watch".to_string(), mission.to_string()];
    if let Some(sock) = tmux.socket() {
        watch.push("--socket".into());
        watch.push(sock.into());
    }
    if flags.dispatch {
        watch.push("--dispatch".into());
    }
    if let Some(d) = &flags.idle_after {
        watch.push("--idle-after".into());
        watch.push(d.clone());
    }
    if let Some(d) = &flags.interval {
        watch.push("--interval".into());
        watch.push(d.clone());
    }
    let deputy = pane_argv(s.settings.deputy_command());
    let agent = pane_argv(s.settings.agent_command());
    let editor = pane_argv(s.settings.editor_command());
    let shell = pane_argv(s.settings.shell_command());
    let m = mission.to_string();
    let mut added = Vec::new();

    let tag = |pane: &str, role: &str, grove: Option<&Grove>| -> Result<()> {
        tmux.set_pane_option(pane, tmux::ROLE, role)?;
        tmux.set_pane_option(pane, tmux::MISSION, &m)?;
        if let Some(g) = grove {
            tmux.set_pane_option(pane, tmux::GROVE, &g.id.to_string())?;
        }
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
                tmux.new_window(&session, "deputy", &workspace, &deputy)?
            } else {
                tmux.new_session(&session, "deputy", &workspace, &deputy)?
            };
            tag(&pane, "deputy", None)?;
            added.push("deputy".to_string());
            pane
        }
    };
    match existing.iter().find(|p| p.role == "watch") {
        None => {
            let pane = tmux.split(&deputy_pane, false, 30, &workspace, &watch)?;
            tag(&pane, "watch", None)?;
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
    let (groves, _) = s.groves()?;
    for g in groves
        .iter()
        .filter(|g| g.mission == mission && g.status == GroveStatus::Active)
    {
        let dir = Path::new(&g.path);
        if !dir.is_dir() {
            return Err(
                Error::environment(format!("{}'s worktree {} is missing", g.id, g.path))
                    .with_hint("`orc doctor` explains; `orc grove remove --force` forgets it"),
            );
        }
        let mine: Vec<Pane> = panes(tmux)?
            .into_iter()
            .filter(|p| p.grove == g.id.to_string())
            .collect();
        let find = |role: &str| mine.iter().find(|p| p.role == role).map(|p| p.id.clone());
        let editor_pane = match find("editor") {
            Some(p) => Some(p),
            None if mine.is_empty() => {
                let p = tmux.new_window(&session, &g.name, dir, &editor)?;
                tag(&p, "editor", Some(g))?;
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
                let p = tmux.split(&from, true, 40, dir, &agent)?;
                tag(&p, "imp", Some(g))?;
                added.push(format!("{} imp", g.id));
                p
            }
        };
        if find("shell").is_none() {
            let p = tmux.split(&agent_pane, false, 50, dir, &shell)?;
            tag(&p, "shell", Some(g))?;
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

/// Ends a mission's session. Returns false if there was none.
pub fn teardown(tmux: &Tmux, mission: MissionId) -> Result<bool> {
    let session = session_name(mission);
    if !tmux.has_session(&session) {
        return Ok(false);
    }
    tmux.kill_session(&session)?;
    Ok(true)
}
