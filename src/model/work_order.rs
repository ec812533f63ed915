//! Work orders: the unit of work a deputy hands to an IMP.
//!
//! One file per work order, `work-orders/WO-007.json` in the mission's
//! `.orc/`. Field order in the struct is the key order in the file; fields
//! orc does not know are kept in `extra` and written back after the known
//! ones, sorted by name.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::actor::check_actor;
use super::id::{MissionId, WorkOrderId};
use super::review::{Approval, ArtifactRef, Evidence, Landed, ReviewPolicy};
use super::status::{Priority, Shown, Status};
use super::time::Timestamp;

/// The current format version of work order files.
pub const FORMAT: u32 = 1;

/// A note on a work order: who said what, when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Note {
    pub at: Timestamp,
    pub by: String,
    pub text: String,
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkOrder {
    pub format: u32,
    pub id: WorkOrderId,
    pub mission: MissionId,
    pub title: String,
    #[serde(default)]
    pub description: String,
    #[serde(rename = "type", default = "default_type")]
    pub kind: String,
    #[serde(default)]
    pub priority: Priority,
    pub status: Status,
    #[serde(default)]
    pub parent: Option<WorkOrderId>,
    #[serde(default)]
    pub depends_on: Vec<WorkOrderId>,
    #[serde(default)]
    pub acceptance: Vec<String>,
    #[serde(default)]
    pub labels: Vec<String>,
    #[serde(default)]
    pub assignee: Option<String>,
    #[serde(default)]
    pub notes: Vec<Note>,
    pub created_by: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    #[serde(default)]
    pub claimed_at: Option<Timestamp>,
    #[serde(default)]
    pub completed_at: Option<Timestamp>,
    #[serde(default)]
    pub pinned: bool,
    /// Why the work is blocked; set while `status` is `blocked`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocked_reason: Option<String>,
    /// The status to return to on unblock; set while `status` is `blocked`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocked_from: Option<Status>,
    /// What the finished work amounts to, given on completion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// Who must approve it (overrides the mission's and the repository's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review: Option<ReviewPolicy>,
    /// For a review work order: the work order it reviews.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reviews: Option<WorkOrderId>,
    /// What the IMP's report of the work recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<Evidence>,
    /// The review of the reported work.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<Approval>,
    /// Where the work landed on the integration branch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub landed: Option<Landed>,
    /// Files attached on the ledger (`orc artifact add`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub artifacts: Vec<ArtifactRef>,
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

pub fn default_type() -> String {
    "task".to_string()
}

impl WorkOrder {
    /// A `ready` task of medium priority, with nothing else set.
    pub fn new(
        id: WorkOrderId,
        mission: MissionId,
        title: String,
        created_by: String,
        at: Timestamp,
    ) -> WorkOrder {
        WorkOrder {
            format: FORMAT,
            id,
            mission,
            title,
            description: String::new(),
            kind: default_type(),
            priority: Priority::Medium,
            status: Status::Ready,
            parent: None,
            depends_on: Vec::new(),
            acceptance: Vec::new(),
            labels: Vec::new(),
            assignee: None,
            notes: Vec::new(),
            created_by,
            created_at: at.clone(),
            updated_at: at,
            claimed_at: None,
            completed_at: None,
            pinned: false,
            blocked_reason: None,
            blocked_from: None,
            summary: None,
            review: None,
            reviews: None,
            evidence: None,
            approval: None,
            landed: None,
            artifacts: Vec::new(),
            extra: Default::default(),
        }
    }

    /// What a reader sees: `waiting` for a ready work order with open
    /// dependencies. `dep_done` tells whether a dependency is done.
    pub fn shown(&self, dep_done: impl Fn(WorkOrderId) -> bool) -> Shown {
        if self.status == Status::Ready && !self.depends_on.iter().all(|&d| dep_done(d)) {
            Shown::Waiting
        } else {
            Shown::Is(self.status)
        }
    }

    /// Checks what the schema cannot: the id agrees with the file name, the
    /// text fields are sensible, the references are well-formed.
    pub fn validate(&self, file_name: &str) -> Result<(), String> {
        if self.format == 0 || self.format > FORMAT {
            return Err(format!(
                "field `format`: unsupported format version {} (this orc reads version {FORMAT})",
                self.format
            ));
        }
        if file_name != self.id.file_name() {
            return Err(format!(
                "field `id`: {} does not match the file name {file_name:?} (expected {})",
                self.id,
                self.id.file_name()
            ));
        }
        check_title(&self.title)?;
        check_word("type", &self.kind)?;
        for (i, label) in self.labels.iter().enumerate() {
            check_word(&format!("labels[{i}]"), label)?;
        }
        if self.parent == Some(self.id) {
            return Err(format!(
                "field `parent`: {} cannot be its own parent",
                self.id
            ));
        }
        for (i, dep) in self.depends_on.iter().enumerate() {
            if *dep == self.id {
                return Err(format!(
                    "field `depends_on[{i}]`: {} cannot depend on itself",
                    self.id
                ));
            }
            if self.depends_on[..i].contains(dep) {
                return Err(format!("field `depends_on[{i}]`: {dep} is listed twice"));
            }
        }
        if let Some(a) = &self.assignee {
            check_actor(a).map_err(|e| format!("field `assignee`: {e}"))?;
        }
        check_actor(&self.created_by).map_err(|e| format!("field `created_by`: {e}"))?;
        for (i, note) in self.notes.iter().enumerate() {
            check_actor(&note.by).map_err(|e| format!("field `notes[{i}].by`: {e}"))?;
        }
        if let Some(from) = self.blocked_from
            && !matches!(from, Status::Assigned | Status::InProgress)
        {
            return Err(format!(
                "field `blocked_from`: must be assigned or in_progress, not {from}"
            ));
        }
        if self.reviews == Some(self.id) {
            return Err(format!("field `reviews`: {} cannot review itself", self.id));
        }
        for (i, a) in self.artifacts.iter().enumerate() {
            super::review::check_artifact_name(&a.name)
                .map_err(|e| format!("field `artifacts[{i}].name`: {e}"))?;
        }
        if let Some(a) = &self.approval
            && let Some(by) = &a.by
        {
            check_actor(by).map_err(|e| format!("field `approval.by`: {e}"))?;
        }
        Ok(())
    }
}

/// A title is required, and bounded so that lists stay readable.
pub fn check_title(title: &str) -> Result<(), String> {
    const MAX: usize = 1000;
    if title.trim().is_empty() {
        return Err("field `title`: must not be empty".into());
    }
    if title.chars().count() > MAX {
        return Err(format!("field `title`: longer than {MAX} characters"));
    }
    Ok(())
}

/// Types and labels are short words: letters, digits, `-`, `_`, `.`, `:`, `/`.
pub fn check_word(field: &str, word: &str) -> Result<(), String> {
    let ok = !word.is_empty()
        && word.chars().count() <= 64
        && word
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | ':' | '/'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "field `{field}`: {:?} must be 1 to 64 letters, digits or - _ . : /",
            super::id::shorten(word)
        ))
    }
}
