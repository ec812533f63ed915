//! What orc installs for an agent in a grove or mission workspace, for
//! every kind of agent: the commands hooks run (this very orc binary), and
//! `install`/`status` dispatched to the agent's own module.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::profile::{AgentKind, AgentRole, Profile};
use crate::error::{Error, Result};
use crate::model::{Grove, GroveId, GroveStatus, Mission, MissionId, MissionStatus};
use crate::ops::{Context, Session};

/// What is installed for an agent in one directory.
#[derive(Debug, Clone, Serialize)]
pub struct Installed {
    pub agent: AgentKind,
    pub profile: String,
    pub role: AgentRole,
    /// The files orc writes for this agent.
    pub files: Vec<PathBuf>,
    pub items: Vec<super::claude::Item>,
}

impl Installed {
    /// Whether everything is installed as orc would write it and nothing
    /// the agent rejects is there.
    pub fn ok(&self) -> bool {
        self.items.iter().all(|i| i.state == "installed")
    }
}

/// A directory where an agent of orc's works: a mission workspace (the
/// deputy) or a grove (an IMP).
#[derive(Debug, Clone)]
pub struct Site {
    pub dir: PathBuf,
    pub role: AgentRole,
    pub profile: Profile,
    pub mission: MissionId,
    pub grove: Option<GroveId>,
}

impl Site {
    /// `MISSION-001` or `GROVE-001`.
    pub fn who(&self) -> String {
        match self.grove {
            Some(g) => g.to_string(),
            None => self.mission.to_string(),
        }
    }

    pub fn of_grove(s: &Session, g: &Grove) -> Result<Site> {
        Ok(Site {
            dir: PathBuf::from(&g.path),
            role: AgentRole::Imp,
            profile: Profile::for_imp(&s.settings, g.agent.as_deref())?,
            mission: g.mission,
            grove: Some(g.id),
        })
    }

    pub fn of_mission(s: &Session, m: &Mission) -> Result<Site> {
        Ok(Site {
            dir: PathBuf::from(&m.workspace),
            role: AgentRole::Deputy,
            profile: Profile::for_deputy(&s.settings)?,
            mission: m.id,
            grove: None,
        })
    }
}

/// Every active mission workspace and active grove of the ledger. A grove
/// whose agent profile is unknown (removed from `orc.toml`) is left out and
/// its error returned beside the sites.
pub fn sites(s: &Session) -> Result<(Vec<Site>, Vec<Error>)> {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    // Before `orc init` there is nothing yet.
    if s.ledger.tip()?.is_none() {
        return Ok((out, errors));
    }
    let (missions, _) = s.missions()?;
    for m in missions
        .iter()
        .filter(|m| m.status == MissionStatus::Active)
    {
        match Site::of_mission(s, m) {
            Ok(site) => out.push(site),
            Err(e) => errors.push(e.context(m.id)),
        }
    }
    let (groves, _) = s.groves()?;
    for g in groves.iter().filter(|g| g.status == GroveStatus::Active) {
        match Site::of_grove(s, g) {
            Ok(site) => out.push(site),
            Err(e) => errors.push(e.context(g.id)),
        }
    }
    Ok((out, errors))
}

/// The site of the current directory (a grove or a mission workspace).
pub fn here(s: &Session) -> Result<Site> {
    match &s.context {
        Context::Mission { id, .. } => Site::of_mission(s, &s.ledger_mission(*id)?),
        Context::Grove { id, .. } => Site::of_grove(s, &s.ledger_grove(*id)?),
        Context::None => Err(Error::usage(
            "agents work in a grove or a mission workspace; run this inside one (or pass -C DIR)",
        )),
    }
}

/// Installs (or repairs) what `profile`'s agent needs in `dir`. Returns
/// whether anything changed.
pub fn install(dir: &Path, role: AgentRole, profile: &Profile) -> Result<bool> {
    let orc = orc_binary();
    match profile.kind {
        AgentKind::Claude => super::claude::install(dir, role, profile, &orc),
        AgentKind::Codex => super::codex::install(dir, role, profile, &orc),
        AgentKind::Plain => Ok(false),
    }
}

/// What is installed in `dir` for `profile`'s agent, against what orc would
/// write.
pub fn status(dir: &Path, role: AgentRole, profile: &Profile) -> Result<Installed> {
    let orc = orc_binary();
    let (files, items) = match profile.kind {
        AgentKind::Claude => (
            vec![dir.join(super::claude::SETTINGS)],
            super::claude::status(dir, role, profile, &orc)?,
        ),
        AgentKind::Codex => (
            super::codex::files(dir, profile),
            super::codex::status(dir, role, profile, &orc)?,
        ),
        AgentKind::Plain => (Vec::new(), Vec::new()),
    };
    Ok(Installed {
        agent: profile.kind,
        profile: profile.name.clone(),
        role,
        files,
        items,
    })
}

/// The shell command that runs `orc <args>` with this very binary.
pub fn command(orc: &Path, args: &str) -> String {
    format!("{} {args}", shell_quote(&orc.display().to_string()))
}

/// The orc binary hooks should run: this one.
pub fn orc_binary() -> PathBuf {
    std::env::current_exe()
        .and_then(|p| p.canonicalize())
        .unwrap_or_else(|_| PathBuf::from("orc"))
}

fn shell_quote(text: &str) -> String {
    if text
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-+=:,@".contains(c))
    {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

/// Whether a hook command is one of orc's (for `args`), whatever binary
/// path it names.
pub(crate) fn is_orc_command(command: &str, args: &str) -> bool {
    command.ends_with(&format!(" {args}"))
        && command
            .trim_end_matches(&format!(" {args}"))
            .trim_matches('\'')
            .rsplit('/')
            .next()
            .is_some_and(|name| name == "orc")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_orc_commands_with_any_binary_path() {
        use std::path::Path;
        assert!(is_orc_command("/usr/bin/orc prime --hook", "prime --hook"));
        assert!(is_orc_command("'/my dir/orc' prime --hook", "prime --hook"));
        assert!(is_orc_command("orc prime --hook", "prime --hook"));
        assert!(!is_orc_command(
            "/usr/bin/other prime --hook",
            "prime --hook"
        ));
        assert!(!is_orc_command("orc mail check --hook", "prime --hook"));
        assert_eq!(command(Path::new("/my dir/orc"), "x"), "'/my dir/orc' x");
    }
}
