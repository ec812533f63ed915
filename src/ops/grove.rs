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
    /// The agent profile its IMP runs (checked by the caller).
    pub agent: Option<String>,
}

/// Creates a grove, all or nothing: checks everything, adds the worktree,
/// copies the files and runs the commands of the repository's grove setup
/// (`grove.copy`, `grove.setup` in `orc config`), lets `prepare` make the
/// directory ready for its agent, then records the grove on the ledger. If
/// any step fails, the worktree and the branch are removed again and the
/// error says which step failed.
pub fn create(
    s: &Session,
    new: &NewGrove,
    prepare: &mut dyn FnMut(&Path) -> Result<()>,
) -> Result<Grove> {
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
    let copy = super::config::list(s, "grove.copy")?;
    let setup_commands = super::config::list(s, "grove.setup")?;
    s.ledger.exclude(&EXCLUDES)?;
    let common = s.ledger.common_dir();
    if let Some(parent) = path.parent() {
        fsio::create_dir_all(parent)?;
    }
    let result = worktree::add(&common, &path, &branch, &base.to_string())
        .and_then(|()| setup(&common, &path, &copy, &setup_commands))
        .and_then(|()| prepare(&path))
        .and_then(|()| record_new(s, new, mission, &path, &branch, &base.to_string(), &common));
    if result.is_err() {
        let _ = worktree::remove(&common, &path, true);
        // Only a branch no worktree has checked out any more (the removal
        // above may have failed) and that still is where it was made.
        if s.ledger.checked_out(&branch).ok().flatten().is_none() {
            let _ = worktree::delete_branch_at(&common, &branch, base);
        }
        let _ = worktree::prune(&common);
    }
    result
}

/// Records a new grove whose worktree exists: its `.orc/config.json` and,
/// in one ledger commit, `grove.json`.
fn record_new(
    s: &Session,
    new: &NewGrove,
    mission: MissionId,
    path: &Path,
    branch: &str,
    base: &str,
    common: &Path,
) -> Result<Grove> {
    tx::run(s, |tx| {
        let number = super::ids::allocate(tx, Counter::Grove, |_| false)?;
        let id = GroveId::new(number);
        let dir = OrcDir::in_dir(path);
        let ledger_path = grove_ledger_path(id, GROVE_FILE);
        tx.lock(
            &ledger_path,
            &grove_lock(s, id),
            &format!("{id}'s {GROVE_FILE}"),
        )?;
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
            branch: branch.to_string(),
            base: base.to_string(),
            agent: new.agent.clone(),
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
        let mut message = Message::new(
            "grove.create",
            format!("{id}: created {:?} on branch {branch}", new.name),
        )
        .line(format!("mission: {mission}"))
        .line(format!("path: {}", path.display()));
        if let Some(agent) = &new.agent {
            message = message.line(format!("agent: {agent}"));
        }
        Ok((grove, message))
    })
}

/// The repository's grove setup in a new worktree: copies `copy` (paths
/// relative to the main worktree) and runs `commands` with `sh -c`, in
/// order. A missing file or a failing command is an error naming it, with
/// the end of what the command printed.
pub fn setup(common: &Path, grove: &Path, copy: &[String], commands: &[String]) -> Result<()> {
    if !copy.is_empty() {
        let main = main_worktree(common).ok_or_else(|| {
            Error::environment(format!(
                "grove.copy: the repository at {} has no main worktree to copy from",
                common.display()
            ))
        })?;
        for rel in copy {
            let rel_path = Path::new(rel);
            if rel_path.is_absolute()
                || rel_path
                    .components()
                    .any(|c| matches!(c, std::path::Component::ParentDir))
            {
                return Err(Error::invalid(format!(
                    "grove.copy: {rel:?} must be a path inside the repository"
                ))
                .with_hint("fix it with `orc config set grove.copy ...`"));
            }
            let from = main.join(rel_path);
            let to = grove.join(rel_path);
            if let Some(parent) = to.parent() {
                fsio::create_dir_all(parent)?;
            }
            std::fs::copy(&from, &to).map_err(|e| {
                Error::io("grove.copy: cannot copy", &from, e)
                    .with_hint("create the file in the main worktree, or change `orc config set grove.copy ...`")
            })?;
        }
    }
    for command in commands {
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(command)
            .current_dir(grove)
            .stdin(std::process::Stdio::null())
            .output()
            .map_err(|e| Error::environment(format!("grove.setup: cannot run sh: {e}")))?;
        if !out.status.success() {
            let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
            text.push_str(&String::from_utf8_lossy(&out.stderr));
            let tail: Vec<&str> = text.lines().rev().take(8).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            return Err(Error::environment(format!(
                "grove.setup: `{}` failed ({}) in the new grove; it was removed again{}",
                tx::one_line(command, 120),
                match out.status.code() {
                    Some(c) => format!("exit {c}"),
                    None => "killed by a signal".into(),
                },
                if tail.is_empty() {
                    String::new()
                } else {
                    format!(":\n  {}", tail.join("\n  "))
                }
            ))
            .with_hint(
                "fix the command or the project, or change `orc config set grove.setup ...`",
            ));
        }
    }
    Ok(())
}

/// The main worktree of the repository whose common git directory is
/// `common`, if it has one (not a bare repository).
pub fn main_worktree(common: &Path) -> Option<PathBuf> {
    let common = common.canonicalize().ok()?;
    if common.file_name()? == ".git" {
        common.parent().map(Path::to_path_buf)
    } else {
        None
    }
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
    /// The ref that keeps the branch's unlanded work (`--force`).
    pub archived: Option<String>,
    /// The ref that keeps unlanded work only the worktree's HEAD had
    /// (detached, or on another branch; `--force`).
    pub archived_head: Option<String>,
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
    // Custody: work on the branch that is not on the integration branch is
    // never lost. Refused without --force; with it, kept under an archive
    // ref.
    let mut archived = None;
    let mut archived_head = None;
    let checked = custody(s, &grove, keep_branch)?;
    if checked.unlanded() > 0 {
        if !force {
            let mut what = Vec::new();
            if let Some((_, n)) = checked.tip.filter(|t| t.1 > 0) {
                what.push(format!("its branch {} has {n} commit(s)", grove.branch));
            }
            if let Some((h, n)) = checked.head.filter(|h| h.1 > 0) {
                what.push(format!(
                    "its worktree's HEAD (at {}, not on {}) has {n} commit(s)",
                    &h.to_string()[..10],
                    grove.branch
                ));
            }
            return Err(Error::conflict(format!(
                "{id}: {} that have not landed on {}",
                what.join(" and "),
                checked.base
            ))
            .with_hint(format!(
                "let them land (`orc review`, `orc approve`, `orc merge`), keep the branch (--keep-branch), or pass --force: orc then keeps them under refs/orc/archive/{}/...",
                grove.branch
            )));
        }
        let name = format!("refs/orc/archive/{}/{}", grove.branch, s.now.unix());
        let keep = |r: String, commit: gix::ObjectId| -> Result<Option<String>> {
            if s.ledger.set_ref(
                &r,
                None,
                commit,
                &s.author(),
                &format!("orc: {id} removed with unlanded work"),
            )? {
                Ok(Some(r))
            } else {
                Err(Error::conflict(format!("{r} exists already; try again")))
            }
        };
        if let Some((tip, _)) = checked.tip.filter(|t| t.1 > 0) {
            archived = keep(name.clone(), tip)?;
        }
        if let Some((head, _)) = checked.head.filter(|h| h.1 > 0) {
            archived_head = keep(format!("{name}-head"), head)?;
        }
    }
    let common = s.ledger.common_dir();
    let path = Path::new(&grove.path);
    if path.exists() {
        worktree::remove(&common, path, force)?;
    } else {
        worktree::prune(&common)?;
    }
    // Custody checked the tip: the branch is deleted only from there (a
    // commit made meanwhile keeps it).
    let mut branch_kept = None;
    if let Some((tip, _)) = checked.tip {
        branch_kept = match s.ledger.checked_out(&grove.branch)? {
            Some(wt) => Some(format!("it is checked out in {}", wt.display())),
            None => worktree::delete_branch_at(&common, &grove.branch, tip)?,
        };
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
        if let Some(r) = &archived {
            message = message.line(format!("unmerged work of {} kept as {r}", g.branch));
        }
        if let Some(r) = &archived_head {
            message = message.line(format!("unmerged work of its worktree's HEAD kept as {r}"));
        }
        Ok((g, message))
    })?;
    Ok(Removed {
        grove: removed,
        branch_kept,
        archived,
        archived_head,
    })
}

/// What custody found on a grove's branch and in its worktree.
struct Custody {
    /// The branch's tip that was checked (the branch is deleted only from
    /// there), and how many of its commits have not landed.
    tip: Option<(gix::ObjectId, u32)>,
    /// The worktree's HEAD when it is not on the branch (detached, or on
    /// another branch), and how many commits only it has that have not
    /// landed: removing the worktree would drop them.
    head: Option<(gix::ObjectId, u32)>,
    /// What they were compared with.
    base: String,
}

impl Custody {
    fn unlanded(&self) -> u32 {
        self.tip.map_or(0, |t| t.1) + self.head.map_or(0, |h| h.1)
    }
}

/// Custody of a grove: the commits of its branch (unless it is kept) and
/// of its worktree's HEAD that have not landed on the mission's
/// integration branch ([`super::landed`]; for a mission without one, that
/// are not on the ledger's repository HEAD).
fn custody(s: &Session, grove: &Grove, keep_branch: bool) -> Result<Custody> {
    let common = s.ledger.common_dir();
    let integration = s.ledger_mission(grove.mission)?.integration;
    let (mut landed, base) = match super::landed::Bases::read(s, grove.mission, &grove.branch)? {
        Some(b) => {
            let mut all = b.heads.clone();
            all.push(b.tip);
            (all, integration.unwrap_or_default())
        }
        // Its integration branch is gone: nothing counts as landed.
        None if integration.is_some() => (Vec::new(), integration.unwrap_or_default()),
        None => (
            s.ledger
                .repo()
                .head_id()
                .ok()
                .map(|h| h.detach())
                .into_iter()
                .collect(),
            "HEAD".to_string(),
        ),
    };
    let branch_tip = s.ledger.branch_tip(&grove.branch)?;
    let tip = match branch_tip {
        Some(t) if !keep_branch => Some((t, crate::ledger::merge::count(&common, t, &landed)?)),
        _ => None,
    };
    // The branch (kept, or archived when it has unlanded work) holds its
    // own commits; what only the worktree's HEAD has is counted apart.
    landed.extend(branch_tip);
    let path = Path::new(&grove.path);
    let head = match path
        .join(".git")
        .exists()
        .then(|| crate::ledger::merge::head(path).ok())
        .flatten()
    {
        Some(h) if Some(h) != branch_tip => {
            Some((h, crate::ledger::merge::count(&common, h, &landed)?))
        }
        _ => None,
    };
    Ok(Custody { tip, head, base })
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
