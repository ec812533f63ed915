//! User settings: `$ORC_HOME/orc.toml` (`ORC_HOME` defaults to `~/.orc`).

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
        Some(h) if !h.is_empty() => Ok(PathBuf::from(h)),
        _ => Ok(home_dir()?.join(".orc")),
    }
}

impl Settings {
    /// Reads `$ORC_HOME/orc.toml`; an absent file gives the defaults.
    pub fn load() -> Result<Settings> {
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
