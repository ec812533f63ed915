//! User settings: `$ORC_HOME/orc.toml` (`ORC_HOME` defaults to `~/.orc`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use super::fsio::{self, ReadError};
use crate::error::{Error, Result};

/// The settings file name inside `$ORC_HOME`.
pub const SETTINGS_FILE: &str = "orc.toml";

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Where mission workspaces are created (default `~/src/missions`).
    pub missions_root: Option<String>,
    /// Where grove worktrees are created (default `~/src/worktrees`).
    pub worktrees_root: Option<String>,
    /// How long to wait for a file lock, in milliseconds (default 10000).
    pub lock_timeout_ms: Option<u64>,
    /// The IMPs' agent: a profile name, or a command line (default
    /// `claude`). A grove created with `--agent` uses that profile instead.
    pub agent: Option<CommandLine>,
    /// The deputy's agent: a profile name or a command line (default:
    /// `agent`).
    pub deputy: Option<CommandLine>,
    /// Trust every grove and mission workspace orc creates, for the agent
    /// that will run there (default false; `orc hooks trust` trusts the
    /// existing ones on request).
    pub auto_trust: Option<bool>,
    /// Agent profiles by name (`[profiles.NAME]`), beside the built-in
    /// `claude` and `codex`.
    #[serde(default)]
    pub profiles: BTreeMap<String, ProfileSettings>,
    /// The editor pane's command (default `$EDITOR`, else `vim`).
    pub editor: Option<CommandLine>,
    /// The shell pane's command (default `$SHELL`, else `sh`).
    pub shell: Option<CommandLine>,
}

/// A `[profiles.NAME]` table of `orc.toml`: how orc runs one kind of agent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileSettings {
    /// `claude`, `codex` or `plain` (default: guessed from the command's
    /// program name).
    pub kind: Option<String>,
    /// The command (default: the kind's program).
    pub command: Option<CommandLine>,
    /// What else the agent may do without asking, in the agent's own terms
    /// (Claude Code permission rules such as `Bash(cargo test *)`; Codex
    /// command prefixes such as `cargo test`).
    #[serde(default)]
    pub allow: Vec<String>,
}

/// A command in `orc.toml`: a string split on whitespace, or a list of
/// words (for arguments with spaces).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum CommandLine {
    Line(String),
    Words(Vec<String>),
}

impl CommandLine {
    pub fn words(&self) -> Vec<String> {
        match self {
            CommandLine::Line(l) => l.split_whitespace().map(str::to_string).collect(),
            CommandLine::Words(w) => w.clone(),
        }
    }
}

/// The user's home directory, from `$HOME`.
pub fn home_dir() -> Result<PathBuf> {
    match std::env::var_os("HOME") {
        Some(h) if !h.is_empty() => Ok(PathBuf::from(h)),
        _ => Err(Error::environment(
            "$HOME is not set; orc needs a home directory",
        )),
    }
}

/// `$ORC_HOME`, or `~/.orc`.
pub fn orc_home() -> Result<PathBuf> {
    match std::env::var_os("ORC_HOME") {
        Some(h) if !h.is_empty() => {
            let p = PathBuf::from(h);
            if !p.is_absolute() {
                return Err(Error::usage(format!(
                    "ORC_HOME: {:?} is not an absolute path",
                    p.display()
                )));
            }
            Ok(p)
        }
        _ => Ok(home_dir()?.join(".orc")),
    }
}

/// Checks the environment variables orc reads as numbers or names, so that
/// a typo is an error rather than silently the default.
fn check_environment() -> Result<()> {
    if let Ok(v) = std::env::var("ORC_LOCK_TIMEOUT_MS")
        && !v.is_empty()
        && v.parse::<u64>().is_err()
    {
        return Err(Error::usage(format!(
            "ORC_LOCK_TIMEOUT_MS: {:?} is not a number of milliseconds",
            crate::model::id::shorten(&v)
        )));
    }
    if let Ok(v) = std::env::var("ORC_TMUX_SOCKET") {
        crate::store::settings::check_socket_name(&v)
            .map_err(|e| Error::usage(format!("ORC_TMUX_SOCKET: {e}")))?;
    }
    Ok(())
}

/// A tmux socket name (`tmux -L NAME`): a file name in tmux's socket
/// directory, so no `/`, and nothing a shell or tmux would read twice.
pub fn check_socket_name(name: &str) -> std::result::Result<(), String> {
    let ok = name.is_empty()
        || (name.len() <= 100
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            && !name.starts_with('.'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{:?} is not a tmux socket name (letters, digits, - _ . only)",
            crate::model::id::shorten(name)
        ))
    }
}

impl Settings {
    /// Reads `$ORC_HOME/orc.toml`; an absent file gives the defaults.
    pub fn load() -> Result<Settings> {
        check_environment()?;
        let path = orc_home()?.join(SETTINGS_FILE);
        Settings::load_from(&path)
    }

    pub fn load_from(path: &Path) -> Result<Settings> {
        let bytes = match fsio::read_regular(path) {
            Ok(b) => b,
            Err(ReadError::Missing) => return Ok(Settings::default()),
            Err(e) => return Err(e.into_error(path)),
        };
        let text = std::str::from_utf8(&bytes)
            .map_err(|_| Error::invalid(format!("{}: invalid UTF-8", path.display())))?;
        toml::from_str(text).map_err(|e| {
            Error::invalid(format!(
                "{}: {}",
                path.display(),
                e.to_string().trim_end().replace('\n', " ")
            ))
            .with_hint("see spec/README.md, \"orc.toml\", for the settings orc knows")
        })
    }

    pub fn missions_root(&self) -> Result<PathBuf> {
        expand(self.missions_root.as_deref().unwrap_or("~/src/missions"))
    }

    pub fn worktrees_root(&self) -> Result<PathBuf> {
        expand(self.worktrees_root.as_deref().unwrap_or("~/src/worktrees"))
    }

    /// The IMPs' agent as written: a profile name or a command's words.
    pub fn agent_words(&self) -> Vec<String> {
        non_empty(self.agent.as_ref().map(CommandLine::words), || {
            vec!["claude".into()]
        })
    }

    /// The deputy's agent as written.
    pub fn deputy_words(&self) -> Vec<String> {
        non_empty(self.deputy.as_ref().map(CommandLine::words), || {
            self.agent_words()
        })
    }

    pub fn auto_trust(&self) -> bool {
        self.auto_trust.unwrap_or(false)
    }

    /// The editor command.
    pub fn editor_command(&self) -> Vec<String> {
        non_empty(self.editor.as_ref().map(CommandLine::words), || {
            let env = std::env::var("EDITOR").unwrap_or_default();
            let words: Vec<String> = env.split_whitespace().map(str::to_string).collect();
            if words.is_empty() {
                vec!["vim".into()]
            } else {
                words
            }
        })
    }

    /// The shell command.
    pub fn shell_command(&self) -> Vec<String> {
        non_empty(self.shell.as_ref().map(CommandLine::words), || {
            vec![
                std::env::var("SHELL")
                    .ok()
                    .filter(|s| !s.is_empty())
                    .unwrap_or_else(|| "sh".into()),
            ]
        })
    }

    /// The lock timeout: `ORC_LOCK_TIMEOUT_MS`, else the setting, else 10 s.
    pub fn lock_timeout(&self) -> Duration {
        let from_env = std::env::var("ORC_LOCK_TIMEOUT_MS")
            .ok()
            .and_then(|v| v.parse().ok());
        Duration::from_millis(from_env.or(self.lock_timeout_ms).unwrap_or(10_000))
    }
}

/// Expands a leading `~/` to the home directory.
fn expand(path: &str) -> Result<PathBuf> {
    if path == "~" {
        return home_dir();
    }
    match path.strip_prefix("~/") {
        Some(rest) => Ok(home_dir()?.join(rest)),
        None => Ok(PathBuf::from(path)),
    }
}

fn non_empty(words: Option<Vec<String>>, default: impl FnOnce() -> Vec<String>) -> Vec<String> {
    match words {
        Some(w) if !w.is_empty() => w,
        _ => default(),
    }
}
