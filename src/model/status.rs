//! The work order status machine and priorities.
//!
//! The table in [`Status::allowed_next`] is the whole state machine; it is
//! reproduced in `spec/README.md` and a test checks the two agree.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use crate::error::Error;

/// The status of a work order as stored in its file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Ready,
    Assigned,
    /// Also accepted as `implement`.
    InProgress,
    Review,
    Blocked,
    Done,
    Cancelled,
}

impl Status {
    pub const ALL: [Status; 7] = [
        Status::Ready,
        Status::Assigned,
        Status::InProgress,
        Status::Review,
        Status::Blocked,
        Status::Done,
        Status::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ready => "ready",
            Status::Assigned => "assigned",
            Status::InProgress => "in_progress",
            Status::Review => "review",
            Status::Blocked => "blocked",
            Status::Done => "done",
            Status::Cancelled => "cancelled",
        }
    }

    /// The statuses a work order in this status may move to.
    pub fn allowed_next(self) -> &'static [Status] {
        use Status::*;
        match self {
            Ready => &[Assigned, InProgress, Cancelled],
            Assigned => &[InProgress, Blocked, Ready, Cancelled],
            InProgress => &[Review, Done, Blocked, Ready, Cancelled],
            Review => &[Done, InProgress, Cancelled],
            Blocked => &[Assigned, InProgress, Ready, Cancelled],
            Done => &[],
            Cancelled => &[],
        }
    }

    /// Whether the work is finished one way or the other.
    pub fn is_closed(self) -> bool {
        matches!(self, Status::Done | Status::Cancelled)
    }

    /// Checks the move `self -> to`; a refusal names the allowed next states.
    pub fn check_transition(self, to: Status, what: &str) -> Result<(), Error> {
        if self.allowed_next().contains(&to) {
            return Ok(());
        }
        let allowed = self.allowed_next();
        let next = if allowed.is_empty() {
            format!("{self} is final")
        } else {
            let names: Vec<&str> = allowed.iter().map(|s| s.as_str()).collect();
            format!("from {self} it can go to: {}", names.join(", "))
        };
        Err(Error::conflict(format!(
            "{what}: cannot go from {self} to {to} ({next})"
        )))
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Status {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        if s == "implement" {
            return Ok(Status::InProgress);
        }
        Status::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| {
                Error::usage(format!(
                    "unknown status {:?} (expected one of: {}, or implement)",
                    super::id::shorten(s),
                    Status::ALL.map(Status::as_str).join(", ")
                ))
            })
    }
}

/// What a work order looks like to a reader: its stored status, except that
/// a `ready` work order whose dependencies are not all done is `waiting`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Shown {
    Waiting,
    Is(Status),
}

impl Shown {
    pub fn as_str(self) -> &'static str {
        match self {
            Shown::Waiting => "waiting",
            Shown::Is(s) => s.as_str(),
        }
    }

    /// Parses a status filter: any status, or `waiting`.
    pub fn parse_filter(s: &str) -> Result<Self, Error> {
        if s == "waiting" {
            Ok(Shown::Waiting)
        } else {
            s.parse().map(Shown::Is).map_err(|_| {
                Error::usage(format!(
                    "unknown status {:?} (expected one of: {}, waiting)",
                    super::id::shorten(s),
                    Status::ALL.map(Status::as_str).join(", ")
                ))
            })
        }
    }
}

impl fmt::Display for Shown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How urgent a work order is; `critical` goes first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    Low,
    #[default]
    Medium,
    High,
    Critical,
}

impl Priority {
    pub const ALL: [Priority; 4] = [
        Priority::Low,
        Priority::Medium,
        Priority::High,
        Priority::Critical,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Low => "low",
            Priority::Medium => "medium",
            Priority::High => "high",
            Priority::Critical => "critical",
        }
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Priority {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Priority::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| {
                Error::usage(format!(
                    "unknown priority {:?} (expected one of: low, medium, high, critical)",
                    super::id::shorten(s)
                ))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_path_is_allowed() {
        use Status::*;
        for (from, to) in [
            (Ready, Assigned),
            (Assigned, InProgress),
            (InProgress, Review),
            (Review, Done),
            (Ready, InProgress),
            (InProgress, Done),
            (Review, InProgress),
            (Assigned, Blocked),
            (Blocked, Assigned),
            (InProgress, Blocked),
            (Blocked, InProgress),
            (Ready, Cancelled),
            (Review, Cancelled),
            (Blocked, Cancelled),
        ] {
            assert!(
                from.check_transition(to, "WO-001").is_ok(),
                "{from} -> {to}"
            );
        }
    }

    #[test]
    fn refusals_name_the_allowed_next_states() {
        let err = Status::Ready
            .check_transition(Status::Done, "WO-001")
            .unwrap_err();
        assert_eq!(err.kind, crate::error::Kind::Conflict);
        assert_eq!(
            err.message,
            "WO-001: cannot go from ready to done (from ready it can go to: assigned, in_progress, cancelled)"
        );
        let err = Status::Done
            .check_transition(Status::Cancelled, "WO-001")
            .unwrap_err();
        assert!(err.message.contains("done is final"), "{}", err.message);
        assert!(
            Status::Ready
                .check_transition(Status::Blocked, "x")
                .is_err()
        );
        assert!(
            Status::Cancelled
                .check_transition(Status::Ready, "x")
                .is_err()
        );
    }

    #[test]
    fn implement_is_another_name_for_in_progress() {
        assert_eq!("implement".parse::<Status>().unwrap(), Status::InProgress);
        let s: Status = serde_json::from_str("\"implement\"").unwrap();
        assert_eq!(s, Status::InProgress);
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"in_progress\"");
    }
}

/// Deserialises a string-valued enum through its `FromStr`, so a wrong
/// value gets the same message as on the command line ("unknown status
/// \"finished\" (expected one of: ...)") and a wrong type says a string
/// was expected.
pub(crate) fn deserialize_via_str<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: FromStr<Err = Error>,
{
    let text = crate::model::decode::text(d)?;
    text.parse()
        .map_err(|e: Error| serde::de::Error::custom(e.message))
}

macro_rules! deserialize_from_str {
    ($($t:ty),*) => {$(
        impl<'de> serde::Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                $crate::model::status::deserialize_via_str(d)
            }
        }
    )*};
}
pub(crate) use deserialize_from_str;

deserialize_from_str!(Status, Priority);
