//! `orc restore`: rebuilding a grove's or a mission workspace's `.orc/`
//! from the ledger, after it was lost or damaged (`git clean -fdx` in a
//! grove, a workspace deleted by hand, a file broken beyond use).
//!
//! The ledger holds every recorded file; `config.json` (the directory's
//! identity) is written from the ledger's record of the grove or mission.
//! A file that is missing or unreadable gets the ledger's version; a file
//! that differs from the ledger but is valid holds an edit not yet applied
//! and is left alone, unless `force` (then it is kept in `.orc/rejected/`
//! first). A grove whose worktree is gone gets it back first (`git
//! worktree add` of its branch).

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::session::Session;
use crate::error::{Error, Result};
use crate::ledger::worktree;
use crate::model::{self, DirConfig, DirKind, FileKind, GroveId, GroveStatus, MissionId};
use crate::store::orcdir::{CONFIG_FILE, grove_prefix, mission_prefix};
use crate::store::{FileLock, OrcDir, fsio};

/// What a restore did.
#[derive(Debug, Clone, Serialize)]
pub struct Restored {
    /// The directory holding the `.orc/`.
    pub dir: PathBuf,
    /// Whether the grove's worktree had to be added again.
    pub worktree_added: bool,
    /// Files written (relative to `.orc/`).
    pub written: Vec<String>,
    /// Files that hold an edit not yet applied, left as they are.
    pub left: Vec<String>,
    /// Where files replaced with `force` were kept.
    pub kept: Vec<PathBuf>,
}

pub fn grove(s: &Session, id: GroveId, force: bool) -> Result<Restored> {
    let g = s.ledger_grove(id)?;
    if g.status != GroveStatus::Active {
        return Err(Error::conflict(format!(
            "{id} is removed; there is nothing to restore"
        )));
    }
    let path = PathBuf::from(&g.path);
    let common = s.ledger.common_dir();
    let mut worktree_added = false;
    if !path.is_dir() {
        if !s.ledger.branch_exists(&g.branch)? {
            return Err(Error::environment(format!(
                "{id}'s worktree {} and its branch {} are both gone",
                path.display(),
                g.branch
            ))
            .with_hint(format!("`orc grove remove {id} --force` forgets the grove")));
        }
        worktree::prune(&common)?;
        if let Some(parent) = path.parent() {
            fsio::create_dir_all(parent)?;
        }
        worktree::add_existing(&common, &path, &g.branch)?;
        worktree_added = true;
    }
    let config = DirConfig {
        format: model::config::FORMAT,
        kind: DirKind::Grove,
        mission: Some(g.mission),
        grove: Some(id),
        repo: Some(common.display().to_string()),
        ledger: Some(s.ledger.branch().to_string()),
        extra: Default::default(),
    };
    let mut out = fill(s, &OrcDir::in_dir(&path), &grove_prefix(id), &config, force)?;
    out.worktree_added = worktree_added;
    Ok(out)
}

pub fn mission(s: &Session, id: MissionId, force: bool) -> Result<Restored> {
    let m = s.ledger_mission(id)?;
    let path = PathBuf::from(&m.workspace);
    fsio::create_dir_all(&path)?;
    let config = DirConfig {
        format: model::config::FORMAT,
        kind: DirKind::Mission,
        mission: Some(id),
        grove: None,
        repo: Some(s.ledger.common_dir().display().to_string()),
        ledger: Some(s.ledger.branch().to_string()),
        extra: Default::default(),
    };
    fill(
        s,
        &OrcDir::of_mission(&path, id),
        &mission_prefix(id),
        &config,
        force,
    )
}

/// Writes `config` and every ledger file under `prefix` into `dir`.
fn fill(
    s: &Session,
    dir: &OrcDir,
    prefix: &str,
    config: &DirConfig,
    force: bool,
) -> Result<Restored> {
    if !dir.present()? {
        fsio::create_dir_all(dir.root())?;
    }
    let mut out = Restored {
        dir: dir.owner().to_path_buf(),
        worktree_added: false,
        written: Vec::new(),
        left: Vec::new(),
        kept: Vec::new(),
    };
    let config_ok = dir.read_config().is_ok_and(|c| {
        c.kind == config.kind && c.mission == config.mission && c.grove == config.grove
    });
    if !config_ok {
        dir.write_config(config)?;
        out.written.push(CONFIG_FILE.to_string());
    }
    for rel in ledger_files(s, prefix)? {
        let ledger_path = format!("{prefix}/{rel}");
        let Some(want) = s.ledger.read(&ledger_path)? else {
            continue;
        };
        let path = dir.path(&rel);
        let _lock = FileLock::acquire(&dir.lock_path(&rel), &rel, s.settings.lock_timeout())?;
        let have = fsio::read_regular(&path);
        let usable = match &have {
            Ok(bytes) => {
                bytes == &want
                    || file_kind(&rel).is_some_and(|k| {
                        let name = Path::new(&rel)
                            .file_name()
                            .and_then(|n| n.to_str())
                            .unwrap_or("");
                        k.check(name, bytes).is_ok()
                    })
            }
            Err(_) => false,
        };
        match have {
            Ok(bytes) if bytes == want => continue,
            Ok(_) if usable && !force => {
                out.left.push(rel.clone());
                continue;
            }
            // Forced, or unusable: kept aside, never dropped.
            Ok(bytes) => out.kept.push(keep(dir, &rel, &bytes)?),
            Err(fsio::ReadError::Missing) => {}
            // A directory, a link, something huge in the way: moved aside.
            Err(_) => {
                let aside = dir.path(crate::store::orcdir::REJECTED_DIR);
                fsio::create_dir_all(&aside)?;
                let target = aside.join(format!(
                    "restore-{}-{}",
                    std::process::id(),
                    rel.replace('/', "_")
                ));
                std::fs::rename(&path, &target)
                    .map_err(|e| Error::io("cannot move aside", &path, e))?;
                out.kept.push(target);
            }
        }
        if let Some(parent) = path.parent() {
            fsio::create_dir_all(parent)?;
        }
        fsio::write_atomic(&path, &want)?;
        out.written.push(rel);
    }
    Ok(out)
}

fn keep(dir: &OrcDir, rel: &str, bytes: &[u8]) -> Result<PathBuf> {
    let aside = dir.path(crate::store::orcdir::REJECTED_DIR);
    fsio::create_dir_all(&aside)?;
    let target = aside.join(format!(
        "restore-{}-{}",
        std::process::id(),
        rel.replace('/', "_")
    ));
    fsio::write_atomic(&target, bytes)?;
    Ok(target)
}

/// The kind of a recorded file, from its path inside `.orc/`.
fn file_kind(rel: &str) -> Option<FileKind> {
    let parts: Vec<&str> = rel.split('/').collect();
    match parts.as_slice() {
        ["mission.json"] => Some(FileKind::Mission),
        ["work-orders", _] => Some(FileKind::WorkOrder),
        ["inbox", _] => Some(FileKind::Message),
        ["grove.json"] => Some(FileKind::Grove),
        ["assigned-work.json"] => Some(FileKind::Assignment),
        _ => None,
    }
}

/// Every file under `prefix` on the ledger, relative to it.
fn ledger_files(s: &Session, prefix: &str) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let mut stack = vec![String::new()];
    while let Some(sub) = stack.pop() {
        let at = if sub.is_empty() {
            prefix.to_string()
        } else {
            format!("{prefix}/{sub}")
        };
        for e in s.ledger.list(&at)? {
            let rel = if sub.is_empty() {
                e.name.clone()
            } else {
                format!("{sub}/{}", e.name)
            };
            if e.is_dir {
                stack.push(rel);
            } else {
                out.push(rel);
            }
        }
    }
    out.sort();
    Ok(out)
}
