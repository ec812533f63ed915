//! The one error type of orc.
//!
//! Every error has a [`Kind`] that decides the process exit code (see
//! `spec/README.md`, "Exit codes"), a one-line message that says what was
//! being done and on which file or id, and an optional hint that says how to
//! fix it. Errors are values for users and agents, not for debugging: no
//! backtraces, no `Debug` dumps.

use std::fmt;
use std::path::Path;

/// What went wrong, as far as the caller's next step is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The command line was wrong: a missing argument, an unknown flag, an
    /// ambiguous default. Exit code 2 (the same as clap's).
    Usage,
    /// An id, file or entity does not exist. Exit code 3.
    NotFound,
    /// The request is valid but the state refuses it: a lost claim, a
    /// refused transition, a duplicate. Exit code 4.
    Conflict,
    /// A file or a value is malformed or violates the schema. Exit code 5.
    Invalid,
    /// The environment is not usable: no git repository, no ledger, a
    /// missing tool. Exit code 6.
    Environment,
    /// A lock could not be had in time. Exit code 7.
    Busy,
    /// A bug or an unexpected I/O failure. Exit code 1.
    Internal,
}

impl Kind {
    /// The process exit code for this kind (documented in `spec/README.md`).
    pub fn exit_code(self) -> i32 {
        match self {
            Kind::Internal => 1,
            Kind::Usage => 2,
            Kind::NotFound => 3,
            Kind::Conflict => 4,
            Kind::Invalid => 5,
            Kind::Environment => 6,
            Kind::Busy => 7,
        }
    }

    /// The stable name used in `--json` error output.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Internal => "internal",
            Kind::Usage => "usage",
            Kind::NotFound => "not_found",
            Kind::Conflict => "conflict",
            Kind::Invalid => "invalid",
            Kind::Environment => "environment",
            Kind::Busy => "busy",
        }
    }
}

/// An orc error: a kind, a message and an optional hint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub kind: Kind,
    pub message: String,
    pub hint: Option<String>,
    /// The command already printed a full report of this failure (as
    /// `orc doctor --json` does); with `--json`, nothing more is printed.
    pub reported: bool,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(kind: Kind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            hint: None,
            reported: false,
        }
    }

    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(Kind::Usage, message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(Kind::NotFound, message)
    }
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(Kind::Conflict, message)
    }
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(Kind::Invalid, message)
    }
    pub fn environment(message: impl Into<String>) -> Self {
        Self::new(Kind::Environment, message)
    }
    pub fn busy(message: impl Into<String>) -> Self {
        Self::new(Kind::Busy, message)
    }
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(Kind::Internal, message)
    }

    /// An I/O failure while doing `what` on `path`.
    pub fn io(what: &str, path: &Path, err: std::io::Error) -> Self {
        let kind = match err.kind() {
            std::io::ErrorKind::NotFound => Kind::NotFound,
            _ => io_kind(&err).unwrap_or(Kind::Internal),
        };
        Self::new(kind, format!("{what} {}: {err}", path.display()))
    }

    /// A failure of the git object database or refs (gix), with every
    /// cause in its chain that adds something (so that "No space left on
    /// device" is not lost behind "could not write loose object").
    pub fn git(what: &str, err: impl std::error::Error) -> Self {
        let mut message = format!("{what}: {err}");
        let mut kind = Kind::Internal;
        let mut source = err.source();
        while let Some(cause) = source {
            let text = cause.to_string();
            if !message.contains(&text) {
                message.push_str(": ");
                message.push_str(&text);
            }
            if let Some(io) = cause.downcast_ref::<std::io::Error>() {
                kind = io_kind(io).unwrap_or(kind);
            }
            source = cause.source();
        }
        let mut e = Self::new(kind, message);
        if kind == Kind::Environment && e.message.contains("No space left") {
            e.hint = Some("free some space on the repository's file system, then try again".into());
        }
        e
    }

    /// Marks the failure as already reported by the command's own output.
    pub fn reported(mut self) -> Self {
        self.reported = true;
        self
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Prefixes the message with what was being done.
    pub fn context(mut self, what: impl fmt::Display) -> Self {
        self.message = format!("{what}: {}", self.message);
        self
    }

    pub fn exit_code(&self) -> i32 {
        self.kind.exit_code()
    }
}

/// The kind of an I/O failure the environment causes (no space, no right
/// to write, a read-only file system): not orc's bug, exit 6.
fn io_kind(err: &std::io::Error) -> Option<Kind> {
    use std::io::ErrorKind as K;
    match err.kind() {
        K::PermissionDenied | K::ReadOnlyFilesystem | K::StorageFull | K::QuotaExceeded => {
            Some(Kind::Environment)
        }
        _ => None,
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}
