//! Workspace trust: letting an agent work in a directory orc made for it
//! without a person answering the agent's "trust this folder?" question.
//!
//! orc trusts exactly the groves and mission workspaces it created, in the
//! agent's own state (Claude Code's `~/.claude.json`, Codex's
//! `config.toml`), and only when asked (`orc hooks trust`, or
//! `auto_trust = true` for new ones). Every change is recorded with the
//! value it replaced in `$ORC_HOME/trust.json`, so `orc hooks untrust`
//! puts back exactly what was there.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::claude::{self, TrustScope};
use super::codex;
use super::profile::AgentKind;
use crate::error::{Error, Result};
use crate::store::FileLock;
use crate::store::fsio::{self, ReadError};

/// The record of what orc trusted.
pub const RECORD: &str = "trust.json";

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Record {
    format: u32,
    entries: Vec<Entry>,
}

/// One directory orc trusted for one agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub agent: AgentKind,
    pub path: PathBuf,
    /// The agent's file orc changed.
    pub file: PathBuf,
    /// The value orc replaced (null: there was none).
    pub previous: Value,
}

impl<'de> Deserialize<'de> for AgentKind {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        AgentKind::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("unknown agent {s:?}")))
    }
}

fn record_path() -> Result<PathBuf> {
    Ok(crate::store::settings::orc_home()?.join(RECORD))
}

fn read_record(path: &Path) -> Result<Record> {
    match fsio::read_regular(path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
            Error::invalid(format!("{}: {e}", path.display()))
                .with_hint("it lists what `orc hooks trust` changed; fix or remove it")
        }),
        Err(ReadError::Missing) => Ok(Record {
            format: 1,
            entries: Vec::new(),
        }),
        Err(e) => Err(e.into_error(path)),
    }
}

fn write_record(path: &Path, record: &Record) -> Result<()> {
    if let Some(parent) = path.parent() {
        fsio::create_dir_all(parent)?;
    }
    let mut bytes = serde_json::to_vec_pretty(record).expect("JSON serialises");
    bytes.push(b'\n');
    fsio::write_atomic(path, &bytes)
}

/// Whether the agent of `kind` trusts `dir` the way it decides it.
pub fn is_trusted(kind: AgentKind, dir: &Path) -> Result<bool> {
    let scope = TrustScope::of(dir);
    match kind {
        AgentKind::Claude => Ok(claude::trusted_in(
            &claude::read_state(&claude::state_file()?)?,
            &scope,
        )),
        AgentKind::Codex => {
            let file = codex::config_file()?;
            let text = match std::fs::read_to_string(&file) {
                Ok(t) => t,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
                Err(e) => return Err(Error::io("cannot read", &file, e)),
            };
            Ok(codex::trusted_in(&text, &scope))
        }
        AgentKind::Plain => Ok(true),
    }
}

/// Trusts each `(kind, dir)` for its agent; returns the directories whose
/// trust orc changed (already trusted ones are left alone).
pub fn trust(targets: &[(AgentKind, PathBuf)], lock_timeout: Duration) -> Result<Vec<Entry>> {
    let path = record_path()?;
    let _lock = FileLock::acquire(
        &PathBuf::from(format!("{}.lock", path.display())),
        "orc's trust record",
        lock_timeout,
    )?;
    let mut record = read_record(&path)?;
    let mut added = Vec::new();
    for (kind, dir) in targets {
        let dir = dir.canonicalize().unwrap_or_else(|_| dir.clone());
        if *kind == AgentKind::Plain || is_trusted(*kind, &dir)? {
            continue;
        }
        let entry = match kind {
            AgentKind::Claude => {
                let file = claude::state_file()?;
                let before = claude::set_trust(&file, &[(dir.clone(), Some(true))], lock_timeout)?;
                Entry {
                    agent: *kind,
                    path: dir.clone(),
                    file,
                    previous: before[0].map_or(Value::Null, Value::Bool),
                }
            }
            AgentKind::Codex => {
                let file = codex::config_file()?;
                let before = codex::set_trust(&file, &[(dir.clone(), Some("trusted".into()))])?;
                Entry {
                    agent: *kind,
                    path: dir.clone(),
                    file,
                    previous: before[0].clone().map_or(Value::Null, Value::String),
                }
            }
            AgentKind::Plain => continue,
        };
        // The first change is the one to undo: keep its previous value.
        if !record
            .entries
            .iter()
            .any(|e| e.agent == entry.agent && e.path == entry.path)
        {
            record.entries.push(entry.clone());
        }
        added.push(entry);
    }
    if !added.is_empty() {
        record.format = 1;
        write_record(&path, &record)?;
    }
    Ok(added)
}

/// Puts back what orc changed for the directories `which` selects; returns
/// the entries undone.
pub fn untrust(which: impl Fn(&Entry) -> bool, lock_timeout: Duration) -> Result<Vec<Entry>> {
    let path = record_path()?;
    let _lock = FileLock::acquire(
        &PathBuf::from(format!("{}.lock", path.display())),
        "orc's trust record",
        lock_timeout,
    )?;
    let mut record = read_record(&path)?;
    let mut undone = Vec::new();
    let mut kept = Vec::new();
    for entry in record.entries.drain(..) {
        if !which(&entry) {
            kept.push(entry);
            continue;
        }
        match entry.agent {
            AgentKind::Claude => {
                claude::set_trust(
                    &entry.file,
                    &[(entry.path.clone(), entry.previous.as_bool())],
                    lock_timeout,
                )?;
            }
            AgentKind::Codex => {
                codex::set_trust(
                    &entry.file,
                    &[(
                        entry.path.clone(),
                        entry.previous.as_str().map(str::to_string),
                    )],
                )?;
            }
            AgentKind::Plain => {}
        }
        undone.push(entry);
    }
    record.entries = kept;
    if !undone.is_empty() {
        record.format = 1;
        write_record(&path, &record)?;
    }
    Ok(undone)
}
