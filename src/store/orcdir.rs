//! One `.orc/` directory: where its files are, where their locks are, and
//! how its records are read.
//!
//! A mission workspace's `.orc/` is the working copy of the ledger subtree
//! `missions/MISSION-001/`; a grove's `.orc/` is the working copy of
//! `groves/GROVE-001/`. The relative path of a file inside `.orc/` is the
//! same as inside its ledger subtree. `config.json`, `locks/`, `rejected/`
//! and dot files are local and never recorded.

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

use super::fsio::{self, ReadError};
use crate::error::{Error, Result};
use crate::model::{DirConfig, GroveId, MissionId, WorkOrderId, decode};

/// The name of the directory orc keeps its files in.
pub const DIR_NAME: &str = ".orc";
/// The local identity file of an `.orc/` directory.
pub const CONFIG_FILE: &str = "config.json";
/// The mission record inside a mission's `.orc/`.
pub const MISSION_FILE: &str = "mission.json";
/// The directory of work orders inside a mission's `.orc/`.
pub const WORK_ORDERS_DIR: &str = "work-orders";
/// The directory of lock files inside every `.orc/`.
pub const LOCKS_DIR: &str = "locks";
/// The grove record inside a grove's `.orc/`.
pub const GROVE_FILE: &str = "grove.json";
/// The assignment file inside a grove's `.orc/`.
pub const ASSIGNMENT_FILE: &str = "assigned-work.json";
/// Messages to the owner of an `.orc/` (the deputy or the grove's IMP).
pub const INBOX_DIR: &str = "inbox";
/// Where invalid direct edits are kept, with the reason.
pub const REJECTED_DIR: &str = "rejected";

/// The ledger subtree of a mission.
pub fn mission_prefix(id: MissionId) -> String {
    format!("missions/{id}")
}

/// The ledger subtree of a grove.
pub fn grove_prefix(id: GroveId) -> String {
    format!("groves/{id}")
}

/// The path of a work order inside its mission's `.orc/`.
pub fn work_order_rel(id: WorkOrderId) -> String {
    format!("{WORK_ORDERS_DIR}/{}", id.file_name())
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrcDir {
    root: PathBuf,
    /// The mission whose workspace this is, when known: its files must
    /// belong to it.
    mission: Option<MissionId>,
}

impl OrcDir {
    /// The `.orc/` inside `dir`.
    pub fn in_dir(dir: &Path) -> Self {
        OrcDir {
            root: dir.join(DIR_NAME),
            mission: None,
        }
    }

    /// The `.orc/` of mission `id`'s workspace `dir`.
    pub fn of_mission(dir: &Path, id: MissionId) -> Self {
        OrcDir {
            root: dir.join(DIR_NAME),
            mission: Some(id),
        }
    }

    /// The mission whose workspace this is, if known.
    pub fn mission(&self) -> Option<MissionId> {
        self.mission
    }

    /// The `.orc/` directory itself.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The directory that holds `.orc/` (a workspace or a grove).
    pub fn owner(&self) -> &Path {
        self.root.parent().unwrap_or(&self.root)
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    /// The lock file that guards `rel`: `locks/<rel>.lock`.
    pub fn lock_path(&self, rel: &str) -> PathBuf {
        self.root.join(LOCKS_DIR).join(format!("{rel}.lock"))
    }

    pub fn exists(&self) -> bool {
        self.root.is_dir()
    }

    /// Whether the directory is there; a symbolic link in its place is an
    /// error (orc never follows one: it could lead anywhere).
    pub fn present(&self) -> Result<bool> {
        match std::fs::symlink_metadata(&self.root) {
            Ok(meta) if meta.file_type().is_symlink() => Err(Error::invalid(format!(
                "{}: is a symbolic link; orc does not follow a linked {DIR_NAME}/ (replace it with a directory)",
                self.root.display()
            ))),
            Ok(meta) => Ok(meta.is_dir()),
            Err(_) => Ok(false),
        }
    }

    pub fn read_config(&self) -> Result<DirConfig> {
        read_record(&self.path(CONFIG_FILE), |c: &DirConfig| c.validate())
    }

    pub fn write_config(&self, config: &DirConfig) -> Result<()> {
        fsio::create_dir_all(&self.root)?;
        fsio::write_atomic(
            &self.path(CONFIG_FILE),
            &crate::model::to_file_bytes(config),
        )
    }

    /// The names of the entries of a subdirectory, sorted; an absent
    /// directory is empty. Dot files (temporary files) are skipped.
    pub fn list(&self, rel_dir: &str) -> Result<Vec<String>> {
        let dir = self.path(rel_dir);
        self.check_subdir(rel_dir)?;
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::io("cannot list", &dir, e)),
        };
        let mut names = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| Error::io("cannot list", &dir, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if !name.starts_with('.') {
                names.push(name);
            }
        }
        names.sort();
        Ok(names)
    }
}

impl OrcDir {
    /// Refuses something other than a directory (or nothing) where the
    /// subdirectory `rel_dir` (`work-orders`, `inbox`) should be.
    pub fn check_subdir(&self, rel_dir: &str) -> Result<()> {
        let dir = self.path(rel_dir);
        match std::fs::symlink_metadata(&dir) {
            Ok(m) if !m.is_dir() => Err(Error::invalid(format!(
                "{}: is {} where the {rel_dir} directory should be (move it away; `orc restore` rebuilds the directory from the ledger)",
                dir.display(),
                if m.file_type().is_symlink() {
                    "a symbolic link"
                } else {
                    "a file"
                }
            ))),
            _ => Ok(()),
        }
    }
}

/// Reads, decodes and validates one record file. Every failure names the
/// file; a missing file is `NotFound`, anything unusable is `Invalid`.
pub fn read_record<T: DeserializeOwned>(
    path: &Path,
    validate: impl FnOnce(&T) -> std::result::Result<(), String>,
) -> Result<T> {
    let bytes = fsio::read_regular(path).map_err(|e| e.into_error(path))?;
    decode_record(path, &bytes, validate)
}

/// Like [`read_record`], but an absent file is `Ok(None)`.
pub fn read_record_opt<T: DeserializeOwned>(
    path: &Path,
    validate: impl FnOnce(&T) -> std::result::Result<(), String>,
) -> Result<Option<T>> {
    match fsio::read_regular(path) {
        Ok(bytes) => decode_record(path, &bytes, validate).map(Some),
        Err(ReadError::Missing) => Ok(None),
        Err(e) => Err(e.into_error(path)),
    }
}

/// Decodes and validates bytes that came from `path`.
pub fn decode_record<T: DeserializeOwned>(
    path: &Path,
    bytes: &[u8],
    validate: impl FnOnce(&T) -> std::result::Result<(), String>,
) -> Result<T> {
    let value = decode::decode::<T>(bytes)
        .map_err(|msg| Error::invalid(format!("{}: {msg}", path.display())))?;
    validate(&value).map_err(|msg| Error::invalid(format!("{}: {msg}", path.display())))?;
    Ok(value)
}
