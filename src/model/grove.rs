//! Groves: git worktrees where one IMP works on its own branch. One file,
//! `grove.json`, at the top of the grove's `.orc/`.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::actor::check_actor;
use super::id::{GroveId, MissionId};
use super::time::Timestamp;
use crate::error::Error;

pub const FORMAT: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GroveStatus {
    Active,
    Removed,
}

impl GroveStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            GroveStatus::Active => "active",
            GroveStatus::Removed => "removed",
        }
    }
}

impl fmt::Display for GroveStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for GroveStatus {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        match s {
            "active" => Ok(GroveStatus::Active),
            "removed" => Ok(GroveStatus::Removed),
            _ => Err(Error::invalid(format!(
                "unknown grove status {:?} (expected active or removed)",
                super::id::shorten(s)
            ))),
        }
    }
}

super::status::deserialize_from_str!(GroveStatus);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Grove {
    pub format: u32,
    pub id: GroveId,
    /// The name given at creation; also the default branch name.
    pub name: String,
    pub mission: MissionId,
    /// The absolute path of the worktree.
    pub path: String,
    /// The grove's own branch, without `refs/heads/`.
    pub branch: String,
    /// The commit the branch started from.
    pub base: String,
    /// The agent profile its IMP runs (`grove create --agent`); absent:
    /// `agent` of the user's `orc.toml`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    pub status: GroveStatus,
    pub created_by: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    #[serde(default)]
    pub removed_at: Option<Timestamp>,
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

impl Grove {
    pub fn validate(&self, expected: Option<GroveId>) -> Result<(), String> {
        if self.format == 0 || self.format > FORMAT {
            return Err(format!(
                "field `format`: unsupported format version {} (this orc reads version {FORMAT})",
                self.format
            ));
        }
        if let Some(expected) = expected
            && expected != self.id
        {
            return Err(format!(
                "field `id`: {} does not match the grove's directory {expected}",
                self.id
            ));
        }
        check_grove_name(&self.name).map_err(|e| format!("field `name`: {e}"))?;
        if let Some(agent) = &self.agent {
            super::work_order::check_word("agent", agent)?;
        }
        super::check_branch_name(&self.branch).map_err(|e| format!("field `branch`: {e}"))?;
        if !self.path.starts_with('/') {
            return Err(format!(
                "field `path`: {:?} is not an absolute path",
                super::id::shorten(&self.path)
            ));
        }
        check_actor(&self.created_by).map_err(|e| format!("field `created_by`: {e}"))
    }
}

/// A grove name becomes a directory name and a branch name: 1 to 64
/// characters, no `/`, no `..`, no whitespace or control characters, and
/// no leading `-` or `.`.
pub fn check_grove_name(name: &str) -> Result<(), String> {
    let problem = if name.is_empty() {
        Some("must not be empty")
    } else if name.chars().count() > 64 {
        Some("is longer than 64 characters")
    } else if name.contains('/') || name.contains('\\') {
        Some("must not contain `/` or `\\`")
    } else if name.contains("..") {
        Some("must not contain `..`")
    } else if name.chars().any(|c| c.is_control() || c.is_whitespace()) {
        Some("must not contain spaces or control characters")
    } else if name.starts_with('-') || name.starts_with('.') {
        Some("must not start with `-` or `.`")
    } else if super::check_branch_name(name).is_err() {
        Some("must be usable as a git branch name (no ~ ^ : ? * [ @{ or trailing .lock)")
    } else {
        None
    };
    match problem {
        Some(p) => Err(format!("grove name {:?} {p}", super::id::shorten(name))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grove_names() {
        for ok in ["echo", "echo-2", "IMP_1", "a.b"] {
            assert!(check_grove_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "", "a/b", "..", "a..b", "-x", ".x", "a b", "a\tb", "x\u{1b}", "a:b", "x.lock",
        ] {
            assert!(check_grove_name(bad).is_err(), "{bad:?}");
        }
        assert!(check_grove_name(&"g".repeat(65)).is_err());
    }
}
