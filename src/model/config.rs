//! `.orc/config.json`: tells a directory who it is (a mission workspace, a
//! grove, or the global `$ORC_HOME`) and where its ledger is. It is local to
//! the machine (it holds paths) and is not recorded on the ledger.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::id::{GroveId, MissionId};

pub const FORMAT: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DirKind {
    Mission,
    Grove,
    Global,
}

impl std::str::FromStr for DirKind {
    type Err = crate::error::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "mission" => Ok(DirKind::Mission),
            "grove" => Ok(DirKind::Grove),
            "global" => Ok(DirKind::Global),
            _ => Err(crate::error::Error::invalid(format!(
                "unknown directory type {:?} (expected mission, grove or global)",
                super::id::shorten(s)
            ))),
        }
    }
}

super::status::deserialize_from_str!(DirKind);

impl fmt::Display for DirKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DirKind::Mission => "mission",
            DirKind::Grove => "grove",
            DirKind::Global => "global",
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DirConfig {
    pub format: u32,
    #[serde(rename = "type")]
    pub kind: DirKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mission: Option<MissionId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grove: Option<GroveId>,
    /// The repository's common git directory (`<repo>/.git`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repo: Option<String>,
    /// The ledger branch, without `refs/heads/`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ledger: Option<String>,
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

impl DirConfig {
    pub fn validate(&self) -> Result<(), String> {
        if self.format == 0 || self.format > FORMAT {
            return Err(format!(
                "field `format`: unsupported format version {} (this orc reads version {FORMAT})",
                self.format
            ));
        }
        let need = |field: &str, present: bool| {
            if present {
                Ok(())
            } else {
                Err(format!(
                    "field `{field}` is required in a config of type {}",
                    self.kind
                ))
            }
        };
        match self.kind {
            DirKind::Mission => {
                need("mission", self.mission.is_some())?;
                need("repo", self.repo.is_some())?;
            }
            DirKind::Grove => {
                need("grove", self.grove.is_some())?;
                need("mission", self.mission.is_some())?;
                need("repo", self.repo.is_some())?;
            }
            DirKind::Global => {}
        }
        if let Some(repo) = &self.repo
            && !repo.starts_with('/')
        {
            return Err(format!(
                "field `repo`: {:?} is not an absolute path",
                super::id::shorten(repo)
            ));
        }
        if let Some(ledger) = &self.ledger {
            super::check_branch_name(ledger).map_err(|e| format!("field `ledger`: {e}"))?;
        }
        Ok(())
    }
}

/// The ledger's own `orc.json`, written by `orc init`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LedgerInfo {
    pub format: u32,
    pub created_at: super::time::Timestamp,
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// The ledger's `counters.json`: the last number handed out per id prefix.
pub type Counters = BTreeMap<String, u32>;
