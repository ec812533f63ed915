//! Mission use cases: create, list, show, update, complete, archive.

use std::path::{Path, PathBuf};

use super::records::{check_mission_file, mission_ledger_path, repo_slug};
use super::session::Session;
use super::tx::{self, Message};
use crate::error::{Error, Result};
use crate::model::{self, Counter, DirConfig, DirKind, Mission, MissionId, MissionStatus};
use crate::store::orcdir::{MISSION_FILE, read_record};
use crate::store::{OrcDir, fsio};

/// What `mission create` needs.
#[derive(Debug, Clone, Default)]
pub struct NewMission {
    pub title: String,
    pub description: String,
    /// The workspace directory; by default one under the missions root.
    pub workspace: Option<PathBuf>,
    /// The branch the mission lands on (default: the branch checked out
    /// where the mission is created).
    pub target: Option<String>,
    /// Who approves its work (default: the repository's `review`).
    pub review: Option<model::ReviewPolicy>,
}

/// The integration branch of a mission: orc's own, beside the ledger
/// (`orc/MISSION-001` cannot be: `orc` is the ledger branch's name, and git
/// cannot have both `orc` and `orc/...`).
pub fn integration_branch(id: MissionId) -> String {
    format!("orc-mission/{id}")
}

/// The target of a new mission and the commit it points at: `--target`,
/// else the branch checked out here; None for a repository without a
/// commit on it yet (the mission then has no integration branch).
fn resolve_target(s: &Session, explicit: Option<&str>) -> Result<Option<(String, gix::ObjectId)>> {
    match explicit {
        Some(t) => {
            let t = t.strip_prefix("refs/heads/").unwrap_or(t);
            model::check_branch_name(t).map_err(|e| Error::usage(format!("--target: {e}")))?;
            match s.ledger.branch_tip(t)? {
                Some(tip) => Ok(Some((t.to_string(), tip))),
                None => Err(
                    Error::not_found(format!("--target: there is no branch {t:?}"))
                        .with_hint("name an existing branch, such as main"),
                ),
            }
        }
        None => {
            let head = s
                .ledger
                .repo()
                .head_name()
                .ok()
                .flatten()
                .map(|n| n.shorten().to_string());
            let Some(branch) = head.filter(|b| b != s.ledger.branch()) else {
                return Ok(None);
            };
            Ok(s.ledger.branch_tip(&branch)?.map(|tip| (branch, tip)))
        }
    }
}

/// Creates a mission, its workspace and the workspace's `.orc/config.json`.
pub fn create(s: &Session, new: &NewMission) -> Result<Mission> {
    s.ledger.require_tip()?;
    model::work_order::check_title(&new.title)
        .map_err(|e| Error::usage(e.replace("field `title`", "the title")))?;
    let explicit = new.workspace.as_ref().map(|dir| absolute(s, dir));
    let target = resolve_target(s, new.target.as_deref())?;
    let mut created_dir: Option<PathBuf> = None;
    let mut config_written: Option<PathBuf> = None;
    let mut created_branch: Option<(String, gix::ObjectId)> = None;
    let result = tx::run(s, |tx| {
        let slug_root = s
            .settings
            .missions_root()?
            .join(repo_slug(&s.ledger.common_dir()));
        let number = super::ids::allocate(tx, Counter::Mission, |n| {
            explicit.is_none()
                && slug_root
                    .join(MissionId::new(n).to_string())
                    .join(".orc")
                    .exists()
        })?;
        let id = MissionId::new(number);
        let workspace = explicit
            .clone()
            .unwrap_or_else(|| slug_root.join(id.to_string()));
        let dir = OrcDir::of_mission(&workspace, id);
        if dir.path(crate::store::orcdir::CONFIG_FILE).exists() {
            return Err(Error::conflict(format!(
                "{} is already an orc directory",
                workspace.display()
            ))
            .with_hint("choose another --workspace"));
        }
        if !dir.exists() {
            fsio::create_dir_all(dir.root())?;
            created_dir = Some(dir.root().to_path_buf());
        }
        config_written = Some(dir.path(crate::store::orcdir::CONFIG_FILE));
        dir.write_config(&DirConfig {
            format: model::config::FORMAT,
            kind: DirKind::Mission,
            mission: Some(id),
            grove: None,
            repo: Some(s.ledger.common_dir().display().to_string()),
            ledger: Some(s.ledger.branch().to_string()),
            extra: Default::default(),
        })?;
        // The integration branch, from the target's tip (once: the body
        // may run again).
        let integration = match &target {
            Some((t, tip)) => {
                let name = integration_branch(id);
                if created_branch.as_ref().map(|(n, _)| n) != Some(&name) {
                    if s.ledger.branch_tip(&name)?.is_some() {
                        return Err(Error::conflict(format!(
                            "branch {name:?} already exists; orc makes it for the mission"
                        ))
                        .with_hint("delete or rename it (`git branch -m`), then try again"));
                    }
                    let msg = format!("orc: {id} integration branch from {t}");
                    if !s.ledger.set_branch(&name, None, *tip, &s.author(), &msg)? {
                        return Err(Error::conflict(format!(
                            "branch {name:?} appeared meanwhile"
                        )));
                    }
                    created_branch = Some((name.clone(), *tip));
                }
                Some(name)
            }
            None => None,
        };
        let mission = Mission {
            format: model::mission::FORMAT,
            id,
            title: new.title.clone(),
            description: new.description.clone(),
            status: MissionStatus::Active,
            workspace: workspace.display().to_string(),
            created_by: s.actor.clone(),
            created_at: s.now.clone(),
            updated_at: s.now.clone(),
            completed_at: None,
            archived_at: None,
            target: target.as_ref().map(|(t, _)| t.clone()),
            integration,
            review: new.review,
            landed: None,
            extra: Default::default(),
        };
        tx.lock(
            &mission_ledger_path(id),
            &dir.lock_path(MISSION_FILE),
            &format!("{id}'s {MISSION_FILE}"),
        )?;
        tx.stage(
            dir.path(MISSION_FILE),
            mission_ledger_path(id),
            model::to_file_bytes(&mission),
        )?;
        let message = Message::new(
            "mission.create",
            format!("{id}: created {:?}", tx::one_line(&mission.title, 60)),
        );
        Ok((mission, message))
    });
    if result.is_err() {
        if let Some((name, tip)) = &created_branch {
            let _ = crate::ledger::worktree::delete_ref_if(
                &s.ledger.common_dir(),
                &format!("refs/heads/{name}"),
                &tip.to_string(),
            );
        }
        if let Some(config) = config_written {
            let _ = fsio::remove_file_if_exists(&config);
        }
        if let Some(dir) = created_dir {
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
    result
}

/// Reads a mission from its workspace (the working copy), falling back to
/// the ledger when the workspace is gone.
pub fn show(s: &Session, id: MissionId) -> Result<Mission> {
    match s.mission_dir(id) {
        Ok(dir) => read_record(&dir.path(MISSION_FILE), |m: &Mission| {
            check_mission_file(m, id, &dir)
        }),
        Err(e) if e.kind == crate::error::Kind::Environment => s.ledger_mission(id),
        Err(e) => Err(e),
    }
}

/// What `mission update` may change.
#[derive(Debug, Clone, Default)]
pub struct MissionChanges {
    pub title: Option<String>,
    pub description: Option<String>,
}

pub fn update(s: &Session, id: MissionId, changes: &MissionChanges) -> Result<Mission> {
    if let Some(title) = &changes.title {
        model::work_order::check_title(title)
            .map_err(|e| Error::usage(e.replace("field `title`", "--title")))?;
    }
    mutate(s, id, "mission.update", |_, m, _| {
        let mut what = Vec::new();
        if let Some(title) = &changes.title {
            m.title = title.clone();
            what.push("title");
        }
        if let Some(description) = &changes.description {
            m.description = description.clone();
            what.push("description");
        }
        if what.is_empty() {
            return Err(Error::usage(
                "nothing to update: give --title or --description",
            ));
        }
        Ok(format!("{id}: updated {}", what.join(", ")))
    })
}

/// Marks a mission completed. Refused while work orders are open, unless
/// `force`.
pub fn complete(s: &Session, id: MissionId, force: bool) -> Result<Mission> {
    let m = complete_record(s, id, force)?;
    remove_train_worktree(s, id);
    Ok(m)
}

fn complete_record(s: &Session, id: MissionId, force: bool) -> Result<Mission> {
    let dir = s.mission_dir(id)?;
    mutate(s, id, "mission.complete", |tx, m, now| {
        if m.status != MissionStatus::Active {
            return Err(Error::conflict(format!("{id} is {}, not active", m.status)));
        }
        if !force {
            // Decided from every work order of the mission: the commit is
            // made only if none changed (none was created) meanwhile.
            let loaded = super::workset::read_shape(tx, id, &dir)?;
            let open: Vec<String> = loaded
                .orders
                .iter()
                .filter(|wo| !wo.status.is_closed())
                .map(|wo| wo.id.to_string())
                .collect();
            if !open.is_empty() {
                return Err(Error::conflict(format!(
                    "{id} still has open work orders: {}",
                    open.join(", ")
                ))
                .with_hint("finish or cancel them first, or pass --force"));
            }
        }
        m.status = MissionStatus::Completed;
        m.completed_at = Some(now.clone());
        Ok(format!("{id}: active -> completed"))
    })
}

/// Removes the merge train's worktree of a mission that no longer merges
/// (best effort: it holds nothing that is not on a branch), once no train
/// or landing of the mission uses it.
fn remove_train_worktree(s: &Session, id: MissionId) {
    if let Ok(path) = super::train::worktree_path(s, id)
        && path.exists()
        && let Ok(_lock) = super::train::lock(s, id)
    {
        let _ = crate::ledger::worktree::remove(&s.ledger.common_dir(), &path, true);
    }
}

pub fn archive(s: &Session, id: MissionId) -> Result<Mission> {
    let m = archive_record(s, id)?;
    remove_train_worktree(s, id);
    Ok(m)
}

fn archive_record(s: &Session, id: MissionId) -> Result<Mission> {
    mutate(s, id, "mission.archive", |_, m, now| {
        if m.status == MissionStatus::Archived {
            return Err(Error::conflict(format!("{id} is already archived")));
        }
        let from = m.status;
        m.status = MissionStatus::Archived;
        m.archived_at = Some(now.clone());
        Ok(format!("{id}: {from} -> archived"))
    })
}

/// Locks, re-reads, changes and commits a mission's record.
pub(super) fn mutate(
    s: &Session,
    id: MissionId,
    op: &'static str,
    mut change: impl FnMut(&mut tx::Tx, &mut Mission, &model::Timestamp) -> Result<String>,
) -> Result<Mission> {
    let dir = s.mission_dir(id)?;
    tx::run(s, |tx| {
        tx.lock(
            &mission_ledger_path(id),
            &dir.lock_path(MISSION_FILE),
            &format!("{id}'s {MISSION_FILE}"),
        )?;
        let mut mission = read_record(&dir.path(MISSION_FILE), |m: &Mission| {
            check_mission_file(m, id, &dir)
        })?;
        let subject = change(tx, &mut mission, &s.now)?;
        mission.updated_at = s.now.clone();
        tx.stage(
            dir.path(MISSION_FILE),
            mission_ledger_path(id),
            model::to_file_bytes(&mission),
        )?;
        Ok((mission, Message::new(op, subject)))
    })
}

fn absolute(s: &Session, dir: &Path) -> PathBuf {
    if dir.is_absolute() {
        dir.to_path_buf()
    } else {
        s.cwd.join(dir)
    }
}
