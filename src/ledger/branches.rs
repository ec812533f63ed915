//! Code branches orc moves: a mission's integration branch (which orc
//! owns), its target (on `orc mission land`), and the archive refs that
//! keep a removed grove's unmerged work. Every move is a compare-and-swap
//! with git's lock-file protocol ([`super::refs`]), and a branch checked
//! out in any worktree is never moved this way (the worktree would then
//! show changes nobody made; git refuses too).

use std::path::PathBuf;

use gix::ObjectId;

use super::refs::{Moved, RefFile};
use super::{Author, Ledger};
use crate::error::{Error, Result};

impl Ledger {
    fn code_ref<'a>(&'a self, full: &'a str) -> RefFile<'a> {
        let reflog = self
            .repo
            .config_snapshot()
            .boolean("core.logAllRefUpdates")
            .unwrap_or(!self.repo.is_bare());
        RefFile {
            common: self.repo.common_dir(),
            name: full,
            record: self
                .lock_path(&format!("ref-{}", full.replace('/', "-")))
                .with_extension("json"),
            timeout: self.lock_timeout,
            reflog,
        }
    }

    /// The commit `refs/heads/<branch>` points at (read afresh).
    pub fn branch_tip(&self, branch: &str) -> Result<Option<ObjectId>> {
        let full = format!("refs/heads/{branch}");
        self.code_ref(&full).read()
    }

    /// Moves `refs/heads/<branch>` from `old` (None: it must not exist) to
    /// `new`, unless it is checked out somewhere; false if it did not
    /// point at `old`.
    pub fn set_branch(
        &self,
        branch: &str,
        old: Option<ObjectId>,
        new: ObjectId,
        author: &Author,
        message: &str,
    ) -> Result<bool> {
        crate::model::check_branch_name(branch).map_err(Error::usage)?;
        if let Some(wt) = self.checked_out(branch)? {
            return Err(Error::conflict(format!(
                "branch {branch:?} is checked out in {}; orc does not move a branch checked out in a worktree",
                wt.display()
            ))
            .with_hint(format!(
                "leave it there (`git -C {} checkout --detach`, or check out another branch), then run this again",
                wt.display()
            )));
        }
        let full = format!("refs/heads/{branch}");
        self.set_ref(&full, old, new, author, message)
    }

    /// Moves any ref (`refs/orc/archive/...`) by compare-and-swap.
    pub fn set_ref(
        &self,
        full: &str,
        old: Option<ObjectId>,
        new: ObjectId,
        author: &Author,
        message: &str,
    ) -> Result<bool> {
        let who = format!("{} <{}>", author.name, author.email);
        Ok(matches!(
            self.code_ref(full)
                .update(old, new, &who, author.time, message)?,
            Moved::Done
        ))
    }

    /// The worktree that has `branch` checked out, if one has.
    pub fn checked_out(&self, branch: &str) -> Result<Option<PathBuf>> {
        self.worktree_on(branch)
    }

    /// Whether `ancestor` is an ancestor of (or the same as) `commit`.
    pub fn is_ancestor(&self, ancestor: ObjectId, commit: ObjectId) -> Result<bool> {
        if ancestor == commit {
            return Ok(true);
        }
        let out = std::process::Command::new("git")
            .arg("--git-dir")
            .arg(self.repo.common_dir())
            .args(["merge-base", "--is-ancestor"])
            .arg(ancestor.to_string())
            .arg(commit.to_string())
            .stdin(std::process::Stdio::null())
            .output()
            .map_err(|e| Error::environment(format!("cannot run git: {e}")))?;
        match out.status.code() {
            Some(0) => Ok(true),
            Some(1) => Ok(false),
            _ => Err(Error::internal(format!(
                "git merge-base --is-ancestor failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ))),
        }
    }
}
