//! The ledger: a branch (default `orc`) of the project's own repository
//! that records every change to orc's files as a commit.
//!
//! This is plumbing: a change set goes in, a commit id comes out. Commits
//! are built in the object database (blobs, a tree edit, a commit object)
//! and published by a compare-and-swap update of the branch ref; HEAD, the
//! index and the working tree are never touched, and the branch is never
//! checked out. Writers on one machine are queued by a lock file in the
//! common git directory; the compare-and-swap still guards against anyone
//! else (a `git push` into the repository, a `git update-ref` by hand), and
//! a lost race re-applies the change set on the new tip.
//!
//! Nothing above this module knows about trees and blobs.

use std::path::{Path, PathBuf};
use std::time::Duration;

use gix::ObjectId;
use gix::bstr::ByteSlice;
use gix::objs::tree::EntryKind;
use gix::refs::FullName;

use crate::error::{Error, Result};
use crate::store::FileLock;

pub mod branches;
pub mod merge;
pub mod refs;
pub mod worktree;

/// The default ledger branch.
pub const DEFAULT_BRANCH: &str = "orc";
/// The ledger's marker file at the root of its tree.
pub const INFO_FILE: &str = "orc.json";

/// One path changed by a commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Put { path: String, bytes: Vec<u8> },
    Delete { path: String },
}

impl Change {
    pub fn path(&self) -> &str {
        match self {
            Change::Put { path, .. } | Change::Delete { path } => path,
        }
    }
}

/// A precondition of a commit: what a transaction read at `path` (a file
/// or a directory of the ledger) is still what the tip holds. `since` is
/// the tip the transaction's view was read at; if anything at `path`
/// changed between `since` and the tip the commit would go on, the commit
/// is refused with an error ending in [`STALE`], and the transaction reads
/// again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unchanged {
    pub path: String,
    pub since: ObjectId,
}

/// The end of the message of a commit refused because its view is stale
/// (see [`Unchanged`]).
pub const STALE: &str = "changed on the ledger since it was read";

/// Who made a commit, and when.
#[derive(Debug, Clone)]
pub struct Author {
    pub name: String,
    pub email: String,
    /// Seconds since the Unix epoch.
    pub time: i64,
}

/// A commit of the ledger, as `orc log` shows it.
#[derive(Debug, Clone)]
pub struct CommitInfo {
    pub id: ObjectId,
    pub author: String,
    pub email: String,
    pub time: i64,
    pub message: String,
    pub parent: Option<ObjectId>,
}

impl CommitInfo {
    pub fn subject(&self) -> &str {
        self.message.lines().next().unwrap_or("")
    }
}

/// An entry of a ledger directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirEntry {
    pub name: String,
    pub is_dir: bool,
}

pub struct Ledger {
    repo: gix::Repository,
    branch: String,
    refname: FullName,
    lock_dir: PathBuf,
    lock_timeout: Duration,
    /// The last tip found to hold `orc.json` (so the check is made once per
    /// tip, not once per read).
    verified: std::sync::Mutex<Option<ObjectId>>,
}

/// Finds the git repository that contains `start` (honouring `GIT_DIR` and
/// `GIT_CEILING_DIRECTORIES` like git does).
pub fn discover(start: &Path) -> Result<gix::Repository> {
    let repo = gix::ThreadSafeRepository::discover_with_environment_overrides(start)
        .map(gix::Repository::from)
        .map_err(|_| {
            // A repository gix cannot open may still be one: say what it is.
            if let Some(e) = start.ancestors().find_map(|d| unsupported(&d.join(".git"))) {
                return e;
            }
            Error::environment(format!(
                "{} is not inside a git repository (or a mission workspace or grove)",
                start.display()
            ))
            .with_hint("run orc inside your project's repository, or `git init` one first")
        })?;
    check_repository(&repo)?;
    Ok(repo)
}

/// The reason orc cannot work with the repository whose git directory is
/// `git_dir` (a `.git` directory, or a `.git` file pointing at one), if it
/// uses a format orc does not handle.
fn unsupported(git_dir: &Path) -> Option<Error> {
    let dir = if git_dir.is_file() {
        let text = std::fs::read_to_string(git_dir).ok()?;
        let target = PathBuf::from(text.trim().strip_prefix("gitdir:")?.trim());
        let target = if target.is_absolute() {
            target
        } else {
            git_dir.parent()?.join(target)
        };
        // A worktree's git directory: its `commondir` names the shared one.
        match std::fs::read_to_string(target.join("commondir")) {
            Ok(c) => target.join(c.trim()),
            Err(_) => target,
        }
    } else {
        git_dir.to_path_buf()
    };
    let config = std::fs::read_to_string(dir.join("config")).ok()?;
    let value = |key: &str| {
        config.lines().find_map(|l| {
            let (k, v) = l.split_once('=')?;
            (k.trim().eq_ignore_ascii_case(key)).then(|| v.trim().to_ascii_lowercase())
        })
    };
    let what = if value("objectformat").as_deref() == Some("sha256") {
        "it names objects with SHA-256 (extensions.objectFormat = sha256); orc handles SHA-1 repositories only"
    } else if value("refstorage").as_deref() == Some("reftable") {
        "it keeps its refs in a reftable (extensions.refStorage = reftable); orc handles the files ref storage only"
    } else {
        return None;
    };
    Some(
        Error::environment(format!(
            "orc cannot work with the repository at {}: {what}",
            dir.display()
        ))
        .with_hint("use orc in a repository made with git's defaults (`git init` without --object-format or --ref-format)"),
    )
}

/// Opens the repository at `git_dir` (a `.git` directory or a bare repository).
pub fn open_repo(git_dir: &Path) -> Result<gix::Repository> {
    let repo = gix::open(git_dir).map_err(|e| {
        Error::environment(format!(
            "cannot open the git repository at {}: {e}",
            git_dir.display()
        ))
        .with_hint("the repository may have moved; check `repo` in .orc/config.json")
    })?;
    check_repository(&repo)?;
    Ok(repo)
}

/// What orc requires of a repository it opened: a format it handles, and
/// the current user as its owner.
fn check_repository(repo: &gix::Repository) -> Result<()> {
    if let Some(e) = unsupported(repo.common_dir()) {
        return Err(e);
    }
    check_ownership(repo)
}

/// Refuses a repository owned by another user, as git does ("dubious
/// ownership"): its hooks and configuration would run as the current user.
/// A directory listed in `safe.directory` of the global or system git
/// configuration (or `*`) is accepted, as git accepts it.
fn check_ownership(repo: &gix::Repository) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    // SAFETY: geteuid has no preconditions.
    let mut me = unsafe { libc::geteuid() };
    if me == 0
        && let Some(uid) = std::env::var("SUDO_UID").ok().and_then(|u| u.parse().ok())
    {
        me = uid;
    }
    let mut places: Vec<PathBuf> = Vec::new();
    places.extend(repo.workdir().map(Path::to_path_buf));
    places.push(repo.git_dir().to_path_buf());
    places.push(repo.common_dir().to_path_buf());
    let foreign = places
        .iter()
        .find(|p| std::fs::metadata(p).is_ok_and(|m| m.uid() != me && !(me == 0 && m.uid() == 0)));
    let Some(foreign) = foreign else {
        return Ok(());
    };
    // What git shows and matches: the worktree's top, else the git dir.
    let shown = repo
        .workdir()
        .unwrap_or(repo.git_dir())
        .canonicalize()
        .unwrap_or_else(|_| foreign.clone());
    if safe_directories().iter().any(|d| {
        d == "*"
            || Path::new(d) == shown
            || d.strip_suffix("/*")
                .is_some_and(|pre| shown.starts_with(pre))
    }) {
        return Ok(());
    }
    let owner = std::fs::metadata(foreign).map(|m| m.uid()).unwrap_or(0);
    Err(Error::environment(format!(
        "detected dubious ownership in repository at '{}': {} is owned by uid {owner}, not by you (uid {me}); git refuses to work in it, and so does orc",
        shown.display(),
        foreign.display()
    ))
    .with_hint(format!(
        "if you trust it, add an exception as git says: git config --global --add safe.directory {}",
        shown.display()
    )))
}

/// `safe.directory` from the global and system git configuration (where
/// git reads it; a repository's own configuration cannot vouch for
/// itself).
fn safe_directories() -> Vec<String> {
    let mut out = Vec::new();
    for scope in ["--global", "--system"] {
        if scope == "--system" && std::env::var_os("GIT_CONFIG_NOSYSTEM").is_some() {
            continue;
        }
        if let Ok(o) = std::process::Command::new("git")
            .args(["config", scope, "--get-all", "safe.directory"])
            .stdin(std::process::Stdio::null())
            .output()
        {
            out.extend(
                String::from_utf8_lossy(&o.stdout)
                    .lines()
                    .map(|l| l.trim().to_string())
                    .filter(|l| !l.is_empty()),
            );
        }
    }
    out
}

impl Ledger {
    /// The ledger on `branch` of `repo`. It need not exist yet.
    pub fn new(mut repo: gix::Repository, branch: &str, lock_timeout: Duration) -> Result<Ledger> {
        crate::model::check_branch_name(branch).map_err(Error::usage)?;
        let refname: FullName = format!("refs/heads/{branch}")
            .try_into()
            .map_err(|e| Error::usage(format!("{branch:?} is not a usable branch name: {e}")))?;
        repo.object_cache_size_if_unset(4 * 1024 * 1024);
        let lock_dir = repo.common_dir().join("orc").join("locks").join(branch);
        Ok(Ledger {
            repo,
            branch: branch.to_string(),
            refname,
            lock_dir,
            lock_timeout,
            verified: std::sync::Mutex::new(None),
        })
    }

    pub fn branch(&self) -> &str {
        &self.branch
    }

    pub fn repo(&self) -> &gix::Repository {
        &self.repo
    }

    /// The repository's common git directory (shared by all worktrees).
    pub fn common_dir(&self) -> PathBuf {
        let dir = self.repo.common_dir();
        dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf())
    }

    /// The branch's ref, moved with git's lock-file protocol.
    fn ref_file(&self) -> refs::RefFile<'_> {
        let reflog = self
            .repo
            .config_snapshot()
            .boolean("core.logAllRefUpdates")
            .unwrap_or(!self.repo.is_bare());
        refs::RefFile {
            common: self.repo.common_dir(),
            name: self.refname.as_bstr().to_str().unwrap_or(""),
            record: self.lock_path("ref").with_extension("json"),
            timeout: self.lock_timeout,
            reflog,
        }
    }

    /// The lock file `name` shared by every process using this ledger.
    pub fn lock_path(&self, name: &str) -> PathBuf {
        self.lock_dir.join(format!("{name}.lock"))
    }

    /// Resolves a revision (`HEAD`, a branch, a commit id) to a commit.
    pub fn resolve_commit(&self, spec: &str) -> Result<ObjectId> {
        let not_found = || {
            Error::not_found(format!(
                "{:?} does not name a commit in this repository",
                crate::model::id::shorten(spec)
            ))
        };
        let id = self.repo.rev_parse_single(spec).map_err(|_| not_found())?;
        let object = id.object().map_err(|_| not_found())?;
        object
            .peel_to_commit()
            .map(|c| c.id)
            .map_err(|_| not_found())
    }

    /// Whether `refs/heads/<branch>` exists.
    pub fn branch_exists(&self, branch: &str) -> Result<bool> {
        let name = format!("refs/heads/{branch}");
        self.repo
            .try_find_reference(name.as_str())
            .map(|r| r.is_some())
            .map_err(|e| Error::git(&format!("cannot read {name}"), e))
    }

    /// Makes git ignore `patterns` in every worktree of the repository, via
    /// `info/exclude` of the common git directory (idempotent).
    pub fn exclude(&self, patterns: &[&str]) -> Result<()> {
        let path = self.repo.common_dir().join("info").join("exclude");
        let current = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(Error::io("cannot read", &path, e)),
        };
        let missing: Vec<&str> = patterns
            .iter()
            .copied()
            .filter(|p| !current.lines().any(|l| l.trim() == *p))
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        let mut text = current;
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str("# orc: local coordination files\n");
        for p in missing {
            text.push_str(p);
            text.push('\n');
        }
        if let Some(dir) = path.parent() {
            crate::store::fsio::create_dir_all(dir)?;
        }
        crate::store::fsio::write_atomic(&path, text.as_bytes())
    }

    /// Whether git ignores `pattern` through `info/exclude`.
    pub fn excludes(&self, pattern: &str) -> bool {
        let path = self.repo.common_dir().join("info").join("exclude");
        std::fs::read_to_string(path).is_ok_and(|t| t.lines().any(|l| l.trim() == pattern))
    }

    /// The commit the branch points at, if the branch exists. A branch
    /// that exists but is not an orc ledger (it has no `orc.json`: a code
    /// branch named by `--ledger main`, say) is an error: orc never reads
    /// it as its ledger, nor commits onto it.
    pub fn tip(&self) -> Result<Option<ObjectId>> {
        let Some(tip) = self.raw_tip()? else {
            return Ok(None);
        };
        let mut verified = self.verified.lock().unwrap_or_else(|e| e.into_inner());
        if *verified != Some(tip) {
            if self.read_at(tip, INFO_FILE)?.is_none() {
                return Err(self.not_a_ledger());
            }
            *verified = Some(tip);
        }
        Ok(Some(tip))
    }

    fn not_a_ledger(&self) -> Error {
        Error::environment(format!(
            "branch {:?} is not an orc ledger (it has no {INFO_FILE}); orc reads and commits only its own ledger",
            self.branch
        ))
        .with_hint(
            "check --ledger, ORC_LEDGER, `git config orc.ledger` and `ledger` in .orc/config.json; \
             the ledger is `orc` unless `orc init --branch NAME` made another",
        )
    }

    /// The branch's commit, whatever the branch holds.
    fn raw_tip(&self) -> Result<Option<ObjectId>> {
        let reference = self
            .repo
            .try_find_reference(&self.refname)
            .map_err(|e| Error::git(&format!("cannot read {}", self.refname.as_bstr()), e))?;
        match reference {
            None => Ok(None),
            Some(mut r) => r
                .peel_to_id()
                .map(|id| Some(id.detach()))
                .map_err(|e| Error::git(&format!("cannot resolve {}", self.refname.as_bstr()), e)),
        }
    }

    /// The tip, or an error telling the user to run `orc init`.
    pub fn require_tip(&self) -> Result<ObjectId> {
        self.tip()?.ok_or_else(|| {
            Error::environment(format!(
                "this repository has no orc ledger (no branch {:?})",
                self.branch
            ))
            .with_hint("run `orc init` first")
        })
    }

    /// Creates the branch with a first commit holding `orc.json`. Returns
    /// false when the ledger already exists.
    pub fn init(&self, info: &[u8], author: &Author, message: &str) -> Result<bool> {
        let _lock = FileLock::acquire(&self.lock_path("ledger"), "the ledger", self.lock_timeout)?;
        if let Some(tip) = self.raw_tip()? {
            if self.read_at(tip, INFO_FILE)?.is_some() {
                return Ok(false);
            }
            return Err(Error::conflict(format!(
                "branch {:?} exists but is not an orc ledger (it has no {INFO_FILE})",
                self.branch
            ))
            .with_hint("choose another ledger branch with `orc init --branch NAME`"));
        }
        let empty = ObjectId::empty_tree(self.repo.object_hash());
        let tree = self.write_tree(
            empty,
            &[Change::Put {
                path: INFO_FILE.into(),
                bytes: info.to_vec(),
            }],
        )?;
        let commit = self.write_commit(tree, None, author, message)?;
        if !self.publish(None, commit, author, message)? {
            return Err(Error::conflict(format!(
                "branch {:?} was created by someone else meanwhile",
                self.branch
            )));
        }
        Ok(true)
    }

    /// Commits `changes` on top of the tip, as one commit. Returns `None`
    /// (and writes nothing) when the changes leave the tree as it was.
    pub fn commit(
        &self,
        changes: &[Change],
        author: &Author,
        message: &str,
    ) -> Result<Option<ObjectId>> {
        self.commit_checked(changes, author, message, &[])
    }

    /// Like [`Ledger::commit`], only if every [`Unchanged`] precondition
    /// holds on the tip the commit goes on (checked under the ledger lock,
    /// so no commit can slip in between the check and the publish).
    pub fn commit_checked(
        &self,
        changes: &[Change],
        author: &Author,
        message: &str,
        unchanged: &[Unchanged],
    ) -> Result<Option<ObjectId>> {
        for change in changes {
            check_path(change.path())?;
        }
        let _lock = FileLock::acquire(&self.lock_path("ledger"), "the ledger", self.lock_timeout)?;
        const ATTEMPTS: usize = 20;
        if let Some(worktree) = self.checked_out_in()? {
            return Err(Error::environment(format!(
                "the ledger branch {:?} is checked out in {}; orc does not move a branch checked out in a worktree (git does not either: the next commit there would undo orc's)",
                self.branch,
                worktree.display()
            ))
            .with_hint(format!(
                "leave it with `git -C '{}' checkout --detach` (or switch to another branch); read the ledger with `git log {0}` and `git show {0}:PATH` instead",
                worktree.display(),
            ).replace("{0}", &self.branch)));
        }
        for attempt in 0..ATTEMPTS {
            let tip = self.require_tip()?;
            for u in unchanged {
                if u.since != tip
                    && self.entry_at(u.since, &u.path)? != self.entry_at(tip, &u.path)?
                {
                    return Err(Error::conflict(format!("{}: {STALE}", u.path)));
                }
            }
            let old_tree = self.tree_of(tip)?;
            let tree = self.write_tree(old_tree, changes)?;
            if tree == old_tree {
                return Ok(None);
            }
            let commit = self.write_commit(tree, Some(tip), author, message)?;
            if self.publish(Some(tip), commit, author, message)? {
                return Ok(Some(commit));
            }
            // Someone outside orc's lock moved the branch: re-apply on the
            // new tip.
            tracing::debug!(attempt, "ledger compare-and-swap lost");
            std::thread::sleep(Duration::from_millis(1 << attempt.min(6)));
        }
        Err(Error::busy(format!(
            "the ledger branch {:?} kept moving under orc ({ATTEMPTS} tries)",
            self.branch
        ))
        .with_hint("something else is updating it in a loop; stop it and try again"))
    }

    /// The bytes of `path` at the tip (None if absent).
    pub fn read(&self, path: &str) -> Result<Option<Vec<u8>>> {
        match self.tip()? {
            Some(tip) => self.read_at(tip, path),
            None => Ok(None),
        }
    }

    /// The bytes of the file `path` in `commit` (None if absent or a directory).
    pub fn read_at(&self, commit: ObjectId, path: &str) -> Result<Option<Vec<u8>>> {
        match self.entry_at(commit, path)? {
            Some((id, false)) => {
                let blob = self
                    .repo
                    .find_blob(id)
                    .map_err(|e| Error::git(&format!("cannot read {path} from the ledger"), e))?;
                Ok(Some(blob.data.clone()))
            }
            _ => Ok(None),
        }
    }

    /// The object id of `path` in `commit` and whether it is a directory.
    pub fn entry_at(&self, commit: ObjectId, path: &str) -> Result<Option<(ObjectId, bool)>> {
        let tree_id = self.tree_of(commit)?;
        let tree = self
            .repo
            .find_tree(tree_id)
            .map_err(|e| Error::git("cannot read a ledger tree", e))?;
        let entry = tree
            .lookup_entry_by_path(Path::new(path))
            .map_err(|e| Error::git(&format!("cannot look up {path} in the ledger"), e))?;
        Ok(entry.map(|e| (e.object_id(), e.mode().is_tree())))
    }

    /// The distinct contents `path` had in the last `commits` commits,
    /// newest first (the tip's first).
    pub fn versions(&self, path: &str, commits: usize) -> Result<Vec<Vec<u8>>> {
        let mut seen: Vec<ObjectId> = Vec::new();
        let mut out = Vec::new();
        let mut next = self.tip()?;
        for _ in 0..commits {
            let Some(id) = next else { break };
            if let Some((blob, false)) = self.entry_at(id, path)?
                && !seen.contains(&blob)
            {
                seen.push(blob);
                out.push(self.blob(blob)?);
            }
            next = self
                .repo
                .find_commit(id)
                .ok()
                .and_then(|c| c.parent_ids().next().map(|p| p.detach()));
        }
        Ok(out)
    }

    /// The entries of the directory `path` at the tip, sorted by name.
    pub fn list(&self, path: &str) -> Result<Vec<DirEntry>> {
        let Some(tip) = self.tip()? else {
            return Ok(Vec::new());
        };
        let tree_id = if path.is_empty() {
            self.tree_of(tip)?
        } else {
            match self.entry_at(tip, path)? {
                Some((id, true)) => id,
                _ => return Ok(Vec::new()),
            }
        };
        let tree = self
            .repo
            .find_tree(tree_id)
            .map_err(|e| Error::git("cannot read a ledger tree", e))?;
        let mut out = Vec::new();
        for entry in tree.iter() {
            let entry = entry.map_err(|e| Error::git("cannot decode a ledger tree", e))?;
            out.push(DirEntry {
                name: entry.filename().to_str_lossy().into_owned(),
                is_dir: entry.mode().is_tree(),
            });
        }
        Ok(out)
    }

    /// The commit `id`.
    pub fn commit_info(&self, id: ObjectId) -> Result<CommitInfo> {
        let commit = self
            .repo
            .find_commit(id)
            .map_err(|e| Error::git(&format!("cannot read ledger commit {id}"), e))?;
        let author = commit
            .author()
            .map_err(|e| Error::git(&format!("cannot decode commit {id}"), e))?;
        let time = author.time().map(|t| t.seconds).unwrap_or(0);
        let message = commit.message_raw_sloppy().to_str_lossy().into_owned();
        Ok(CommitInfo {
            id,
            author: author.name.to_str_lossy().into_owned(),
            email: author.email.to_str_lossy().into_owned(),
            time,
            message,
            parent: commit.parent_ids().next().map(|p| p.detach()),
        })
    }

    /// Walks the first-parent history from the tip, newest first.
    pub fn history(&self) -> Result<History<'_>> {
        Ok(History {
            ledger: self,
            next: self.tip()?,
        })
    }

    fn tree_of(&self, commit: ObjectId) -> Result<ObjectId> {
        let commit = self
            .repo
            .find_commit(commit)
            .map_err(|e| Error::git(&format!("cannot read ledger commit {commit}"), e))?;
        commit
            .tree_id()
            .map(|id| id.detach())
            .map_err(|e| Error::git("cannot decode a ledger commit", e))
    }

    fn write_tree(&self, base: ObjectId, changes: &[Change]) -> Result<ObjectId> {
        // gix's plumbing editor: the porcelain one checks that every entry
        // of every rewritten tree exists (a stat per loose object), which
        // would make each commit cost O(entries). Ours exist: the blobs were
        // just written, the rest come from the tree being edited.
        let mut editor = self
            .repo
            .edit_tree(base)
            .map_err(|e| Error::git("cannot edit the ledger tree", e))?
            .detach();
        for change in changes {
            let components = change.path().split('/');
            match change {
                Change::Put { path, bytes } => {
                    let blob = retry_object_write(|| self.repo.write_blob(bytes))
                        .map_err(|e| Error::git(&format!("cannot store {path}"), e))?;
                    editor
                        .upsert(components, EntryKind::Blob, blob.detach())
                        .map_err(|e| Error::git(&format!("cannot record {path}"), e))?;
                }
                Change::Delete { path } => {
                    editor
                        .remove(components)
                        .map_err(|e| Error::git(&format!("cannot remove {path}"), e))?;
                }
            }
        }
        editor
            .write(|tree| retry_object_write(|| self.repo.write_object(tree)).map(|id| id.detach()))
            .map_err(|e| Error::git("cannot write the ledger tree", e))
    }

    fn write_commit(
        &self,
        tree: ObjectId,
        parent: Option<ObjectId>,
        author: &Author,
        message: &str,
    ) -> Result<ObjectId> {
        let signature = gix::actor::Signature {
            name: author.name.as_str().into(),
            email: author.email.as_str().into(),
            time: gix::date::Time {
                seconds: author.time,
                offset: 0,
            },
        };
        let commit = gix::objs::Commit {
            tree,
            parents: parent.into_iter().collect(),
            author: signature.clone(),
            committer: signature,
            encoding: None,
            message: message.into(),
            extra_headers: Vec::new(),
        };
        retry_object_write(|| self.repo.write_object(&commit))
            .map(|id| id.detach())
            .map_err(|e| Error::git("cannot write a ledger commit", e))
    }

    /// The worktree that has the ledger branch checked out, if one does.
    fn checked_out_in(&self) -> Result<Option<PathBuf>> {
        self.worktree_on(&self.branch)
    }

    /// The worktree that has `branch` checked out, if one does — as git
    /// counts it: on the branch, or rebasing it or bisecting it (HEAD is
    /// detached then, and git puts the branch back when it is done). A
    /// bare repository's HEAD is not a checkout.
    fn worktree_on(&self, branch: &str) -> Result<Option<PathBuf>> {
        let common = self.repo.common_dir();
        let full = format!("refs/heads/{branch}");
        let wanted = format!("ref: {full}");
        let read = |p: PathBuf| std::fs::read_to_string(p).unwrap_or_default();
        let holds = |gitdir: &Path| {
            read(gitdir.join("HEAD")).trim() == wanted
                || read(gitdir.join("rebase-merge/head-name")).trim() == full
                || read(gitdir.join("rebase-apply/head-name")).trim() == full
                || read(gitdir.join("BISECT_START")).trim() == branch
        };
        if !self.repo.is_bare() && holds(common) {
            return Ok(Some(common.parent().unwrap_or(common).to_path_buf()));
        }
        let Ok(entries) = std::fs::read_dir(common.join("worktrees")) else {
            return Ok(None);
        };
        for e in entries.flatten() {
            if holds(&e.path()) {
                // `gitdir` names the worktree's `.git` file.
                let dir = std::fs::read_to_string(e.path().join("gitdir"))
                    .ok()
                    .map(|g| PathBuf::from(g.trim()))
                    .and_then(|g| g.parent().map(Path::to_path_buf))
                    .unwrap_or_else(|| e.path());
                return Ok(Some(dir));
            }
        }
        Ok(None)
    }

    /// Points the branch at `new` if it still points at `old`; false when
    /// it did not (someone else moved it).
    fn publish(
        &self,
        old: Option<ObjectId>,
        new: ObjectId,
        author: &Author,
        message: &str,
    ) -> Result<bool> {
        let who = format!("{} <{}>", author.name, author.email);
        let subject = format!("orc: {}", message.lines().next().unwrap_or(""));
        match self
            .ref_file()
            .update(old, new, &who, author.time, &subject)?
        {
            refs::Moved::Done => Ok(true),
            refs::Moved::Lost => Ok(false),
        }
    }
}

/// What happened on the ledger branch since a commit a reader handled.
#[derive(Debug)]
pub enum Catchup {
    /// These commits followed it, oldest first.
    Commits(Vec<CommitInfo>),
    /// The branch was moved back to an older commit: nothing is new.
    Rewound,
    /// The branch was rewritten after a common commit: these commits,
    /// oldest first, are on the new line only.
    Rewritten(Vec<CommitInfo>),
    /// The branch now shares no history with it.
    Unrelated,
}

/// A file that differs between two ledger trees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileChange {
    pub path: String,
    pub old: Option<ObjectId>,
    pub new: Option<ObjectId>,
}

impl Ledger {
    /// What happened on the branch between `since` and `tip`, exactly,
    /// however many commits lie between (first-parent history).
    pub fn since(&self, since: ObjectId, tip: ObjectId) -> Result<Catchup> {
        let mut ahead = Vec::new();
        let mut next = Some(tip);
        while let Some(id) = next {
            if id == since {
                ahead.reverse();
                return Ok(Catchup::Commits(ahead));
            }
            let info = self.commit_info(id)?;
            next = info.parent;
            ahead.push(info);
        }
        // `since` is not behind the tip: the branch was moved back or
        // rewritten. Where do the two lines meet?
        let mut behind = std::collections::HashSet::new();
        let mut next = Some(since);
        while let Some(id) = next {
            behind.insert(id);
            next = match self.repo.find_commit(id) {
                Ok(c) => c.parent_ids().next().map(|p| p.detach()),
                // The old tip may be gone (pruned): nothing to compare.
                Err(_) => None,
            };
        }
        if behind.contains(&tip) {
            return Ok(Catchup::Rewound);
        }
        match ahead
            .iter()
            .position(|c| c.parent.is_some_and(|p| behind.contains(&p)))
        {
            Some(i) => {
                let mut new: Vec<CommitInfo> = ahead.drain(..=i).collect();
                new.reverse();
                Ok(Catchup::Rewritten(new))
            }
            None => Ok(Catchup::Unrelated),
        }
    }

    /// The files that differ between the trees of two commits (`old` None:
    /// every file of `new`). Only subtrees whose ids differ are read.
    pub fn changed_files(&self, old: Option<ObjectId>, new: ObjectId) -> Result<Vec<FileChange>> {
        let old_tree = match old {
            Some(c) => Some(self.tree_of(c)?),
            None => None,
        };
        let new_tree = self.tree_of(new)?;
        let mut out = Vec::new();
        self.diff_trees(String::new(), old_tree, Some(new_tree), &mut out)?;
        Ok(out)
    }

    fn tree_entries(&self, tree: Option<ObjectId>) -> Result<Vec<(String, ObjectId, bool)>> {
        let Some(tree) = tree else {
            return Ok(Vec::new());
        };
        let tree = self
            .repo
            .find_tree(tree)
            .map_err(|e| Error::git("cannot read a ledger tree", e))?;
        let mut out = Vec::new();
        for entry in tree.iter() {
            let entry = entry.map_err(|e| Error::git("cannot decode a ledger tree", e))?;
            out.push((
                entry.filename().to_str_lossy().into_owned(),
                entry.object_id(),
                entry.mode().is_tree(),
            ));
        }
        Ok(out)
    }

    fn diff_trees(
        &self,
        prefix: String,
        old: Option<ObjectId>,
        new: Option<ObjectId>,
        out: &mut Vec<FileChange>,
    ) -> Result<()> {
        if old == new {
            return Ok(());
        }
        let old_entries = self.tree_entries(old)?;
        let new_entries = self.tree_entries(new)?;
        // Git sorts tree entries (directories as if their name ended in
        // `/`); comparing by that key lets one pass walk both lists.
        let key = |e: &(String, ObjectId, bool)| {
            let mut k = e.0.clone().into_bytes();
            if e.2 {
                k.push(b'/');
            }
            k
        };
        let (mut i, mut j) = (0, 0);
        while i < old_entries.len() || j < new_entries.len() {
            let o = old_entries.get(i);
            let n = new_entries.get(j);
            let (o, n) = match (o, n) {
                (Some(a), Some(b)) => match key(a).cmp(&key(b)) {
                    std::cmp::Ordering::Less => {
                        i += 1;
                        (Some(a), None)
                    }
                    std::cmp::Ordering::Greater => {
                        j += 1;
                        (None, Some(b))
                    }
                    std::cmp::Ordering::Equal => {
                        i += 1;
                        j += 1;
                        (Some(a), Some(b))
                    }
                },
                (Some(a), None) => {
                    i += 1;
                    (Some(a), None)
                }
                (None, b) => {
                    j += 1;
                    (None, b)
                }
            };
            if o.map(|e| e.1) == n.map(|e| e.1) {
                continue;
            }
            let name = o.or(n).map(|e| e.0.clone()).unwrap_or_default();
            let path = if prefix.is_empty() {
                name
            } else {
                format!("{prefix}/{name}")
            };
            let o_dir = o.filter(|e| e.2).map(|e| e.1);
            let n_dir = n.filter(|e| e.2).map(|e| e.1);
            if o_dir.is_some() || n_dir.is_some() {
                self.diff_trees(path.clone(), o_dir, n_dir, out)?;
            }
            let o_file = o.filter(|e| !e.2).map(|e| e.1);
            let n_file = n.filter(|e| !e.2).map(|e| e.1);
            if o_file.is_some() || n_file.is_some() {
                out.push(FileChange {
                    path,
                    old: o_file,
                    new: n_file,
                });
            }
        }
        Ok(())
    }

    /// The bytes of a blob.
    pub fn blob(&self, id: ObjectId) -> Result<Vec<u8>> {
        self.repo
            .find_blob(id)
            .map(|b| b.data.clone())
            .map_err(|e| Error::git(&format!("cannot read blob {id}"), e))
    }
}

/// First-parent history of the ledger, newest first.
pub struct History<'a> {
    ledger: &'a Ledger,
    next: Option<ObjectId>,
}

impl Iterator for History<'_> {
    type Item = Result<CommitInfo>;
    fn next(&mut self) -> Option<Self::Item> {
        let id = self.next.take()?;
        let info = self.ledger.commit_info(id);
        if let Ok(info) = &info {
            self.next = info.parent;
        }
        Some(info)
    }
}

/// Runs an object write again when it failed the way a concurrent `git
/// prune-packed` or `git gc` makes it fail: the fan-out directory
/// (`objects/ab/`) the object was being moved into was removed in between.
/// git retries such a write itself; so does orc (a few times, then the
/// error stands).
fn retry_object_write<T, E: std::error::Error + 'static>(
    mut write: impl FnMut() -> Result<T, E>,
) -> Result<T, E> {
    let mut attempt = 0;
    loop {
        match write() {
            Err(e) if attempt < 5 && vanished_dir(&e) => {
                attempt += 1;
                std::thread::sleep(Duration::from_millis(1 << attempt));
            }
            other => return other,
        }
    }
}

/// Whether an error's cause is a file or directory that is not there.
fn vanished_dir(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cause {
        if let Some(io) = c.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::NotFound
        {
            return true;
        }
        if c.to_string().contains("persist") {
            return true;
        }
        cause = c.source();
    }
    false
}

/// Ledger paths are relative, `/`-separated, without empty, `.` or `..`
/// components. They are built from validated ids; this is the last guard.
fn check_path(path: &str) -> Result<()> {
    let bad = path.is_empty()
        || path
            .split('/')
            .any(|c| c.is_empty() || c == "." || c == ".." || c.contains('\0'));
    if bad {
        return Err(Error::internal(format!("refusing ledger path {path:?}")));
    }
    Ok(())
}

/// Records `orc.ledger = <branch>` in the repository's own git config, so
/// that later commands find a ledger on a branch other than the default.
pub fn remember_branch(repo: &gix::Repository, branch: &str) -> Result<()> {
    let path = repo.common_dir().join("config");
    let mut file =
        gix::config::File::from_path_no_includes(path.clone(), gix::config::Source::Local)
            .map_err(|e| Error::git(&format!("cannot read {}", path.display()), e))?;
    file.set_raw_value_by("orc", None, "ledger", branch)
        .map_err(|e| Error::git(&format!("cannot set orc.ledger in {}", path.display()), e))?;
    let mut out = Vec::new();
    file.write_to(&mut out)
        .map_err(|e| Error::io("cannot render", &path, e))?;
    crate::store::fsio::write_atomic(&path, &out)
}
