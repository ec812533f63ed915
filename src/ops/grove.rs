//! Grove use cases: create, list, show, remove. A grove is a git worktree
//! on its own branch where one IMP works; its `.orc/` is the working copy of
//! the ledger subtree `groves/GROVE-<n>/` and is hidden from git.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::assign;
use super::records::{grove_ledger_path, repo_slug};
use super::session::Session;
use super::tx::{self, Message};
use super::workset::last_good_assignment;
use crate::error::{Error, Kind, Result};
use crate::ledger::worktree;
use crate::model::{
    self, Assignment, Counter, DirConfig, DirKind, Grove, GroveId, GroveStatus, MissionId,
    MissionStatus, grove::check_grove_name,
};
use crate::store::orcdir::{CONFIG_FILE, GROVE_FILE};
use crate::store::{OrcDir, fsio};

/// What git must ignore in every worktree for groves to stay clean.
pub const EXCLUDES: [&str; 2] = [".orc/", ".claude/settings.local.json"];

#[derive(Debug, Clone, Default)]
pub struct NewGrove {
    pub name: String,
    pub mission: Option<MissionId>,
    /// The commit the branch starts from (default `HEAD`).
    pub base: Option<String>,
    /// The worktree directory (default under the worktrees root).
    pub path: Option<PathBuf>,
    /// The branch (default: the grove's name).
    pub branch: Option<String>,
}

pub fn create(s: &Session, new: &NewGrove) -> Result<Grove> {
    check_grove_name(&new.name).map_err(Error::usage)?;
    let branch = new.branch.clone().unwrap_or_else(|| new.name.clone());
    model::check_branch_name(&branch).map_err(|e| Error::usage(format!("--branch: {e}")))?;
    s.ledger.require_tip()?;
    let mission = s.resolve_mission(new.mission)?;
    let record = super::mission::show(s, mission)?;
    if record.status != MissionStatus::Active {
        return Err(Error::conflict(format!(
            "{mission} is {}; groves serve active missions",
            record.status
        )));
    }
    let (groves, _) = s.groves()?;
    if let Some(g) = groves
        .iter()
        .find(|g| g.name == new.name && g.status == GroveStatus::Active)
    {
        return Err(Error::conflict(format!(
            "a grove named {:?} exists: {}",
            new.name, g.id
        )));
    }
    if s.ledger.branch_exists(&branch)? {
        return Err(Error::conflict(format!("branch {branch:?} already exists"))
            .with_hint("choose another name, or pass --branch"));
    }
    let path = match &new.path {
        Some(p) if p.is_absolute() => p.clone(),
        Some(p) => s.cwd.join(p),
        None => s
            .settings
            .worktrees_root()?
            .join(repo_slug(&s.ledger.common_dir()))
            .join(mission.to_string())
            .join(&new.name),
    };
    if std::fs::symlink_metadata(&path).is_ok() {
        return Err(
            Error::conflict(format!("{} already exists", path.display()))
                .with_hint("choose another name, or pass --path"),
        );
    }
    let base_spec = new.base.clone().unwrap_or_else(|| "HEAD".into());
    let base = s.ledger.resolve_commit(&base_spec).map_err(|e| {
        if new.base.is_none() {
            Error::not_found("the repository has no commit yet to base a grove on")
                .with_hint("commit something first, or pass --base")
        } else {
            e.with_hint("pass an existing branch, tag or commit to --base")
        }
    })?;
    s.ledger.exclude(&EXCLUDES)?;
    let common = s.ledger.common_dir();
    let mut added = false;
    let result = tx::run(s, |tx| {
        let number = super::ids::allocate(tx, Counter::Grove, |_| false)?;
        let id = GroveId::new(number);
        let dir = OrcDir::in_dir(&path);
        let ledger_path = grove_ledger_path(id, GROVE_FILE);
        tx.lock(
            &ledger_path,
            &grove_lock(s, id),
            &format!("{id}'s {GROVE_FILE}"),
        )?;
        if !added {
            if let Some(parent) = path.parent() {
                fsio::create_dir_all(parent)?;
            }
            worktree::add(&common, &path, &branch, &base.to_string())?;
            added = true;
        }
        dir.write_config(&DirConfig {
            format: model::config::FORMAT,
            kind: DirKind::Grove,
            mission: Some(mission),
            grove: Some(id),
            repo: Some(common.display().to_string()),
            ledger: Some(s.ledger.branch().to_string()),
            extra: Default::default(),
        })?;
        let grove = Grove {
            format: model::grove::FORMAT,
            id,
            name: new.name.clone(),
            mission,
            path: path.display().to_string(),
            branch: branch.clone(),
            base: base.to_string(),
            status: GroveStatus::Active,
            created_by: s.actor.clone(),
            created_at: s.now.clone(),
            updated_at: s.now.clone(),
            removed_at: None,
            extra: Default::default(),
        };
        tx.stage(
            dir.path(GROVE_FILE),
            ledger_path,
            model::to_file_bytes(&grove),
        )?;
        let message = Message::new(
            "grove.create",
            format!("{id}: created {:?} on branch {branch}", new.name),
        )
        .line(format!("mission: {mission}"))
        .line(format!("path: {}", path.display()));
        Ok((grove, message))
    });
    if result.is_err() && added {
        let _ = worktree::remove(&common, &path, true);
        let _ = worktree::delete_branch(&common, &branch, true);
    }
    result
}

/// A grove with its current assignment, for listings.
#[derive(Debug, Clone, Serialize)]
pub struct GroveRow {
    #[serde(flatten)]
    pub grove: Grove,
    pub assignment: Option<Assignment>,
}

pub fn list(s: &Session, all: bool) -> Result<Vec<GroveRow>> {
    let (groves, _) = s.groves()?;
    let mut rows = Vec::new();
    for grove in groves {
        if !all && grove.status != GroveStatus::Active {
            continue;
        }
        let assignment = last_good_assignment(s, grove.id).unwrap_or(None);
        rows.push(GroveRow { grove, assignment });
    }
    Ok(rows)
}

/// What `grove remove` did.
#[derive(Debug, Clone, Serialize)]
pub struct Removed {
    pub grove: Grove,
    /// Set when the branch was kept because git refused to delete it.
    pub branch_kept: Option<String>,
}

/// Removes a grove: its worktree (with git), its branch (unless
/// `keep_branch`), and marks it removed on the ledger. Refused while the
/// grove holds an active assignment, unless `force` (the work then
/// returns to `ready` first).
pub fn remove(s: &Session, id: GroveId, force: bool, keep_branch: bool) -> Result<Removed> {
    let grove = s.ledger_grove(id)?;
    if grove.status == GroveStatus::Removed {
        return Err(Error::conflict(format!("{id} is already removed")));
    }
    if let Some(a) = last_good_assignment(s, id)?
        && a.is_active()
    {
        if !force {
            return Err(Error::conflict(format!(
                "{id} holds an active assignment ({})",
                a.work_order
            ))
            .with_hint(format!("`orc unassign {id}` first, or pass --force")));
        }
        assign::unassign(s, id)?;
    }
    let common = s.ledger.common_dir();
    let path = Path::new(&grove.path);
    if path.exists() {
        worktree::remove(&common, path, force)?;
    } else {
        worktree::prune(&common)?;
    }
    let mut branch_kept = None;
    if !keep_branch && s.ledger.branch_exists(&grove.branch)? {
        branch_kept = worktree::delete_branch(&common, &grove.branch, force)?;
    }
    let removed = tx::run(s, |tx| {
        let ledger_path = grove_ledger_path(id, GROVE_FILE);
        tx.lock(
            &ledger_path,
            &grove_lock(s, id),
            &format!("{id}'s {GROVE_FILE}"),
        )?;
        let mut g = s.ledger_grove(id)?;
        g.status = GroveStatus::Removed;
        g.removed_at = Some(s.now.clone());
        g.updated_at = s.now.clone();
        tx.stage_ledger_only(ledger_path, model::to_file_bytes(&g));
        let mut message = Message::new("grove.remove", format!("{id}: removed {:?}", g.name));
        if let Some(why) = &branch_kept {
            message = message.line(format!("branch {} kept: {why}", g.branch));
        }
        Ok((g, message))
    })?;
    Ok(Removed {
        grove: removed,
        branch_kept,
    })
}

/// The lock of a grove's `grove.json`. It lives with the ledger's locks,
/// not in the grove, because the grove's directory does not exist yet when
/// the file is first written and is gone when it is last written.
fn grove_lock(s: &Session, id: GroveId) -> PathBuf {
    s.ledger.lock_path(&format!("{id}-{GROVE_FILE}"))
}

/// Reads a grove's `.orc/config.json`, if the grove's directory exists.
pub fn read_config(grove: &Grove) -> Result<Option<DirConfig>> {
    let dir = OrcDir::in_dir(Path::new(&grove.path));
    match dir.read_config() {
        Ok(c) => Ok(Some(c)),
        Err(e) if e.kind == Kind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// The path of a grove's config (for messages).
pub fn config_path(grove: &Grove) -> PathBuf {
    OrcDir::in_dir(Path::new(&grove.path)).path(CONFIG_FILE)
}
