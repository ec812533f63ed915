//! Missions: what the operator asks for, split by a deputy into work
//! orders. One file, `mission.json`, at the top of the mission's `.orc/`.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::actor::check_actor;
use super::id::MissionId;
use super::time::Timestamp;
use super::work_order::check_title;
use crate::error::Error;

pub const FORMAT: u32 = 1;

/// What `orc mission land` last did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MissionLanded {
    /// The branch landed on.
    pub target: String,
    /// The target's commit afterwards.
    pub commit: String,
    /// `fast-forward` or `merge`.
    pub how: String,
    pub at: Timestamp,
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MissionStatus {
    Active,
    Completed,
    Archived,
}

impl MissionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            MissionStatus::Active => "active",
            MissionStatus::Completed => "completed",
            MissionStatus::Archived => "archived",
        }
    }
}

impl fmt::Display for MissionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for MissionStatus {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        match s {
            "active" => Ok(MissionStatus::Active),
            "completed" => Ok(MissionStatus::Completed),
            "archived" => Ok(MissionStatus::Archived),
            _ => Err(Error::usage(format!(
                "unknown mission status {:?} (expected active, completed or archived)",
                super::id::shorten(s)
            ))),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mission {
    pub format: u32,
    pub id: MissionId,
    pub title: String,
    #[serde(default)]
    pub description: String,
    pub status: MissionStatus,
    /// The absolute path of the mission workspace (the directory holding
    /// this mission's `.orc/`).
    pub workspace: String,
    pub created_by: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    #[serde(default)]
    pub completed_at: Option<Timestamp>,
    #[serde(default)]
    pub archived_at: Option<Timestamp>,
    /// The branch the mission's work lands on (`orc mission land`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// The branch orc merges approved work onto, started from the target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integration: Option<String>,
    /// Who must approve the mission's work (overrides the repository's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review: Option<super::review::ReviewPolicy>,
    /// The last `orc mission land`: the target's commit after it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub landed: Option<MissionLanded>,
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

impl Mission {
    pub fn validate(&self, expected: Option<MissionId>) -> Result<(), String> {
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
                "field `id`: {} does not match the mission's directory {expected}",
                self.id
            ));
        }
        check_title(&self.title)?;
        if !self.workspace.starts_with('/') {
            return Err(format!(
                "field `workspace`: {:?} is not an absolute path",
                super::id::shorten(&self.workspace)
            ));
        }
        check_actor(&self.created_by).map_err(|e| format!("field `created_by`: {e}"))
    }
}

super::status::deserialize_from_str!(MissionStatus);
