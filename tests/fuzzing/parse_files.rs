//! Fuzz harness: every file parser orc has, on arbitrary bytes: it must never panic, and
//! a file it accepts must survive a rewrite (serialise, parse again, same
//! value) — what orc does to every file it changes.
//!
//! Shared by `fuzz/fuzz_targets/parse_files.rs` (cargo-fuzz) and
//! `tests/fuzz_regressions.rs`.

use orc::model::{
    Assignment, DirConfig, FileKind, Grove, Message, Mission, WorkOrder, decode, to_file_bytes,
};

fn round_trip<T>(bytes: &[u8])
where
    T: serde::de::DeserializeOwned + serde::Serialize + PartialEq + std::fmt::Debug,
{
    if let Ok(value) = decode::decode::<T>(bytes) {
        let again: T = decode::decode(&to_file_bytes(&value)).expect("orc reads what it writes");
        assert_eq!(again, value, "a rewrite changed the value");
    }
}

/// Runs one input; panics on a broken invariant.
pub fn run(data: &[u8]) {
    for kind in FileKind::ALL {
        let _ = kind.check("WO-001.json", data);
        let _ = kind.check("MSG-001.json", data);
    }
    round_trip::<WorkOrder>(data);
    round_trip::<Mission>(data);
    round_trip::<DirConfig>(data);
    round_trip::<Grove>(data);
    round_trip::<Assignment>(data);
    round_trip::<Message>(data);
}
