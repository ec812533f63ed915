//! How work comes home: the review policy that gates it, the evidence an
//! IMP's report records, the approval a reviewer gives, and where the work
//! landed. All of it lives in the work order's file (optional fields: a
//! mission without an integration branch has none of them).

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::id::WorkOrderId;
use super::time::Timestamp;
use crate::error::Error;

/// Who must approve work before it is merged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewPolicy {
    /// Reported done means approved: the merge train takes it.
    None,
    /// The deputy (or a person) approves.
    Deputy,
    /// A person approves: never an agent.
    Human,
    /// Another grove's agent reviews it (a review work order is made and
    /// dispatched to another grove).
    Agent,
}

impl ReviewPolicy {
    pub const ALL: [ReviewPolicy; 4] = [
        ReviewPolicy::None,
        ReviewPolicy::Deputy,
        ReviewPolicy::Human,
        ReviewPolicy::Agent,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReviewPolicy::None => "none",
            ReviewPolicy::Deputy => "deputy",
            ReviewPolicy::Human => "human",
            ReviewPolicy::Agent => "agent",
        }
    }
}

impl fmt::Display for ReviewPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ReviewPolicy {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        ReviewPolicy::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| {
                Error::usage(format!(
                    "unknown review policy {:?} (expected none, deputy, human or agent)",
                    super::id::shorten(s)
                ))
            })
    }
}

super::status::deserialize_from_str!(ReviewPolicy);

/// The check's result recorded with an IMP's report or a merge.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckResult {
    pub command: String,
    /// The exit code (null: killed by a signal, or could not run).
    pub exit: Option<i32>,
    pub duration_ms: u64,
    /// The artifact holding the end of what it printed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact: Option<String>,
    /// It ran over the `check_timeout` setting and orc stopped it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub timed_out: bool,
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

impl CheckResult {
    pub fn passed(&self) -> bool {
        self.exit == Some(0)
    }

    /// How it ended, for a message: `exit 1`, `killed`, `timed out`.
    pub fn outcome(&self) -> String {
        match self.exit {
            _ if self.timed_out => "timed out".to_string(),
            Some(e) => format!("exit {e}"),
            None => "killed".to_string(),
        }
    }
}

/// What an IMP's report of `review` or `done` says was done.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// The grove's branch and its head commit when the work was reported.
    pub branch: String,
    pub head: String,
    /// The commit the unlanded work starts from (where the branch parted
    /// from the integration branch, or the head of its latest landed work
    /// it contains): the diff is `base..head`.
    pub base: String,
    /// Commits on the branch that have not landed.
    pub commits: u32,
    pub files: u32,
    pub insertions: u32,
    pub deletions: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check: Option<CheckResult>,
    pub at: Timestamp,
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// Where a review stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalState {
    Pending,
    Approved,
    Rejected,
}

impl ApprovalState {
    pub fn as_str(self) -> &'static str {
        match self {
            ApprovalState::Pending => "pending",
            ApprovalState::Approved => "approved",
            ApprovalState::Rejected => "rejected",
        }
    }
}

impl fmt::Display for ApprovalState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ApprovalState {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        [
            ApprovalState::Pending,
            ApprovalState::Approved,
            ApprovalState::Rejected,
        ]
        .into_iter()
        .find(|p| p.as_str() == s)
        .ok_or_else(|| {
            Error::invalid(format!(
                "unknown approval state {:?} (expected pending, approved or rejected)",
                super::id::shorten(s)
            ))
        })
    }
}

super::status::deserialize_from_str!(ApprovalState);

/// The review of the work as reported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Approval {
    pub state: ApprovalState,
    /// The policy that applied.
    pub policy: ReviewPolicy,
    /// Who approved or rejected (null while pending; `policy` for `none`).
    #[serde(default)]
    pub by: Option<String>,
    #[serde(default)]
    pub at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// Where the work landed on the integration branch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Landed {
    pub integration: String,
    /// The commit that brought it there.
    pub commit: String,
    pub at: Timestamp,
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// An artifact attached to a work order: a blob on the ledger at
/// `artifacts/<WO>/<name>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArtifactRef {
    pub name: String,
    pub size: u64,
    /// The blob's id (content-addressed).
    pub blob: String,
    pub by: String,
    pub at: Timestamp,
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// An artifact name: 1 to 100 letters, digits or `- _ .`, not starting
/// with `.`.
pub fn check_artifact_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 100
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{:?} is not an artifact name (1 to 100 letters, digits, - _ . ; not starting with .)",
            super::id::shorten(name)
        ))
    }
}

/// The review work order of `reviewed` is recognised by its `reviews`.
pub type Reviews = Option<WorkOrderId>;
