//! Entity ids: `MISSION-001`, `WO-001`, `GROVE-001`, `MSG-001`.
//!
//! An id is a fixed prefix, a dash and 1 to 9 ASCII digits, and is parsed
//! before any path is built from it, so `../x` or `WO-1/../../etc` can never
//! reach the file system. The canonical spelling pads the number to three
//! digits (`WO-7` and `WO-007` name the same work order; files and output
//! always use `WO-007`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::Error;

/// Longest number an id may carry (9 digits fit in a `u32`).
const MAX_DIGITS: usize = 9;

macro_rules! define_id {
    ($(#[$meta:meta])* $name:ident, $prefix:literal, $what:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(u32);

        impl $name {
            pub const PREFIX: &'static str = $prefix;

            pub fn new(number: u32) -> Self {
                $name(number)
            }

            pub fn number(self) -> u32 {
                self.0
            }

            /// Parses `text`, refusing anything that is not `PREFIX-<digits>`.
            pub fn parse(text: &str) -> Result<Self, Error> {
                parse_number($prefix, text).map($name).ok_or_else(|| {
                    Error::invalid(format!(
                        "{:?} is not a {} id (expected {}-<digits>, such as {}-001)",
                        shorten(text),
                        $what,
                        $prefix,
                        $prefix
                    ))
                })
            }

            /// The file name of this entity's JSON file, such as `WO-007.json`.
            pub fn file_name(self) -> String {
                format!("{self}.json")
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}-{:03}", $prefix, self.0)
            }
        }

        impl FromStr for $name {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self, Error> {
                Self::parse(s)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = crate::model::decode::text(d)?;
                $name::parse(&text).map_err(serde::de::Error::custom)
            }
        }
    };
}

define_id!(
    /// A mission: `MISSION-001`.
    MissionId,
    "MISSION",
    "mission"
);
define_id!(
    /// A work order: `WO-001`.
    WorkOrderId,
    "WO",
    "work order"
);
define_id!(
    /// A grove (worktree): `GROVE-001`.
    GroveId,
    "GROVE",
    "grove"
);
define_id!(
    /// A mail message: `MSG-001`.
    MessageId,
    "MSG",
    "message"
);

fn parse_number(prefix: &str, text: &str) -> Option<u32> {
    let digits = text.strip_prefix(prefix)?.strip_prefix('-')?;
    if digits.is_empty() || digits.len() > MAX_DIGITS || !digits.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    digits.parse().ok()
}

/// Keeps an absurdly long or hostile argument from flooding an error message.
pub(crate) fn shorten(text: &str) -> String {
    const MAX: usize = 40;
    if text.chars().count() <= MAX {
        text.to_string()
    } else {
        let head: String = text.chars().take(MAX).collect();
        format!("{head}...")
    }
}

/// The kinds of entity whose ids come from the ledger's counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counter {
    Mission,
    WorkOrder,
    Grove,
    Message,
}

impl Counter {
    /// The key of this counter in the ledger's `counters.json`.
    pub fn key(self) -> &'static str {
        match self {
            Counter::Mission => MissionId::PREFIX,
            Counter::WorkOrder => WorkOrderId::PREFIX,
            Counter::Grove => GroveId::PREFIX,
            Counter::Message => MessageId::PREFIX,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_ids_parse_and_print_padded() {
        assert_eq!(WorkOrderId::parse("WO-7").unwrap().to_string(), "WO-007");
        assert_eq!(WorkOrderId::parse("WO-0012").unwrap().to_string(), "WO-012");
        assert_eq!(
            MissionId::parse("MISSION-1234").unwrap().to_string(),
            "MISSION-1234"
        );
        assert_eq!(
            GroveId::parse("GROVE-001").unwrap().file_name(),
            "GROVE-001.json"
        );
    }

    #[test]
    fn hostile_ids_are_refused() {
        for bad in [
            "",
            "WO-",
            "WO",
            "wo-1",
            "WO-1/../../etc",
            "../x",
            "WO-+1",
            "WO--1",
            "WO-1 ",
            " WO-1",
            "WO-1\n",
            "WO-1234567890",
            "MISSION-1",
            "WO-١",
        ] {
            let err = WorkOrderId::parse(bad).unwrap_err();
            assert_eq!(err.kind, crate::error::Kind::Invalid, "{bad:?}");
            assert!(err.message.contains("expected WO-<digits>"), "{bad:?}");
        }
        let long = "WO-".to_string() + &"9".repeat(5000);
        let err = WorkOrderId::parse(&long).unwrap_err();
        assert!(err.message.len() < 200, "error message is bounded");
    }
}
