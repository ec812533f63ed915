//! Mail: a message is a file in the recipient's `.orc/inbox/`, such as
//! `inbox/MSG-003.json` in a grove (to its IMP) or in the mission workspace
//! (to the deputy).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::actor::check_actor;
use super::id::{MessageId, MissionId, WorkOrderId};
use super::time::Timestamp;

pub const FORMAT: u32 = 1;

/// The longest message text orc accepts.
pub const MAX_TEXT: usize = 64 * 1024;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub format: u32,
    pub id: MessageId,
    pub mission: MissionId,
    /// The sender's actor name.
    pub from: String,
    /// `deputy` or a grove id.
    pub to: String,
    pub text: String,
    /// The work order the message is about, if any.
    #[serde(default)]
    pub work_order: Option<WorkOrderId>,
    /// The message this one answers, if any.
    #[serde(default)]
    pub in_reply_to: Option<MessageId>,
    pub sent_at: Timestamp,
    #[serde(default)]
    pub read_at: Option<Timestamp>,
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

impl Message {
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
        check_actor(&self.from).map_err(|e| format!("field `from`: {e}"))?;
        if self.to != "deputy" && super::GroveId::parse(&self.to).is_err() {
            return Err(format!(
                "field `to`: {:?} is neither `deputy` nor a grove id",
                super::id::shorten(&self.to)
            ));
        }
        check_text(&self.text).map_err(|e| format!("field `text`: {e}"))
    }

    pub fn is_read(&self) -> bool {
        self.read_at.is_some()
    }
}

pub fn check_text(text: &str) -> Result<(), String> {
    if text.trim().is_empty() {
        return Err("must not be empty".into());
    }
    if text.len() > MAX_TEXT {
        return Err(format!("is longer than {MAX_TEXT} bytes"));
    }
    Ok(())
}
