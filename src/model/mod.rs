//! Pure types of orc: ids, timestamps, the status machine, the file formats
//! and their validation. No I/O happens here.

pub mod actor;
pub mod assignment;
pub mod config;
pub mod decode;
pub mod grove;
pub mod id;
pub mod message;
pub mod mission;
pub mod review;
pub mod status;
pub mod time;
pub mod work_order;

pub use assignment::{Assignment, AssignmentStatus};
pub use config::{Counters, DirConfig, DirKind, LedgerInfo};
pub use grove::{Grove, GroveStatus};
pub use id::{Counter, GroveId, MessageId, MissionId, WorkOrderId};
pub use message::Message;
pub use mission::{Mission, MissionStatus};
pub use review::{Approval, ApprovalState, ArtifactRef, Evidence, Landed, ReviewPolicy};
pub use status::{Priority, Shown, Status};
pub use time::Timestamp;
pub use work_order::{Note, WorkOrder};

use serde::Serialize;

/// Serialises a record the way orc writes every file: pretty-printed with
/// two-space indentation, keys in the struct's order, a trailing newline.
pub fn to_file_bytes<T: Serialize>(value: &T) -> Vec<u8> {
    let mut out = serde_json::to_vec_pretty(value).expect("orc records always serialise");
    out.push(b'\n');
    out
}

/// Checks a ledger branch name (without `refs/heads/`), a subset of what
/// `git check-ref-format` accepts.
pub fn check_branch_name(name: &str) -> Result<(), String> {
    let bad = name.is_empty()
        || name == "HEAD"
        || name == "@"
        || name.len() > 100
        || name.starts_with(['-', '/', '.'])
        || name.ends_with(['/', '.'])
        || name.ends_with(".lock")
        || name.contains("..")
        || name.contains("//")
        || name.contains("@{")
        || name
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || "~^:?*[\\".contains(c));
    if bad {
        Err(format!(
            "{:?} is not a usable branch name",
            id::shorten(name)
        ))
    } else {
        Ok(())
    }
}

/// The kinds of file orc reads, for validating a file's bytes without
/// knowing where it came from (fixtures, `orc doctor`, the watcher, fuzzing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// `.orc/config.json`
    Config,
    /// `mission.json`
    Mission,
    /// `work-orders/WO-<n>.json`
    WorkOrder,
    /// The ledger's `orc.json`
    LedgerInfo,
    /// The ledger's `counters.json`
    Counters,
    /// `grove.json`
    Grove,
    /// `assigned-work.json`
    Assignment,
    /// `inbox/MSG-<n>.json`
    Message,
}

impl FileKind {
    pub const ALL: [FileKind; 8] = [
        FileKind::Config,
        FileKind::Mission,
        FileKind::WorkOrder,
        FileKind::LedgerInfo,
        FileKind::Counters,
        FileKind::Grove,
        FileKind::Assignment,
        FileKind::Message,
    ];

    /// The name used in `fixtures/` and `spec/` (`work-order`, ...).
    pub fn name(self) -> &'static str {
        match self {
            FileKind::Config => "config",
            FileKind::Mission => "mission",
            FileKind::WorkOrder => "work-order",
            FileKind::LedgerInfo => "ledger-info",
            FileKind::Counters => "counters",
            FileKind::Grove => "grove",
            FileKind::Assignment => "assignment",
            FileKind::Message => "message",
        }
    }

    pub fn from_name(name: &str) -> Option<FileKind> {
        FileKind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// Decodes and validates `bytes` as this kind of file named `file_name`.
    /// The error says where (line, column, field) and what is wrong.
    pub fn check(self, file_name: &str, bytes: &[u8]) -> Result<(), String> {
        match self {
            FileKind::Config => decode::decode::<DirConfig>(bytes)?.validate(),
            FileKind::Mission => decode::decode::<Mission>(bytes)?.validate(None),
            FileKind::WorkOrder => decode::decode::<WorkOrder>(bytes)?.validate(file_name),
            FileKind::LedgerInfo => {
                let info = decode::decode::<LedgerInfo>(bytes)?;
                if info.format == 0 || info.format > 1 {
                    return Err(format!(
                        "field `format`: unsupported format version {}",
                        info.format
                    ));
                }
                Ok(())
            }
            FileKind::Counters => decode::decode::<Counters>(bytes).map(|_| ()),
            FileKind::Grove => decode::decode::<Grove>(bytes)?.validate(None),
            FileKind::Assignment => decode::decode::<Assignment>(bytes)?.validate(),
            FileKind::Message => decode::decode::<Message>(bytes)?.validate(file_name),
        }
    }
}
