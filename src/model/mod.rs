//! Pure types of orc: ids, timestamps, the status machine, the file formats
//! and their validation. No I/O happens here.

pub mod actor;
pub mod config;
pub mod decode;
pub mod id;
pub mod mission;
pub mod status;
pub mod time;
pub mod work_order;

pub use config::{Counters, DirConfig, DirKind, LedgerInfo};
pub use id::{Counter, GroveId, MessageId, MissionId, WorkOrderId};
pub use mission::{Mission, MissionStatus};
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
