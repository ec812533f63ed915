//! Merging with git, in a worktree orc owns: the plumbing of the merge
//! train (commits in, a merged commit out), and the measures of work an IMP
//! hands in. Like [`super::worktree`], this runs the git command line for
//! what gix cannot do (merges, rebases, a check in a real checkout), with
//! argv only, the repository named explicitly and `GIT_*` cleared.
//!
//! Nothing here moves a branch: the train works on a detached HEAD in its
//! own worktree; the caller moves the integration branch by
//! compare-and-swap once the result passed its check.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use gix::ObjectId;

use crate::error::{Error, Result};

/// How the train brings a work order's commits onto the integration branch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// A merge commit (`git merge --no-ff`).
    Merge,
    /// The commits replayed on top (`git cherry-pick`).
    Rebase,
    /// One commit with all of the work (`git merge --squash`).
    Squash,
}

impl Strategy {
    pub fn parse(text: &str) -> Option<Strategy> {
        match text {
            "merge" => Some(Strategy::Merge),
            "rebase" => Some(Strategy::Rebase),
            "squash" => Some(Strategy::Squash),
            _ => None,
        }
    }
}

fn git_in(dir: &Path) -> Command {
    let mut cmd = Command::new("git");
    cmd.arg("-C").arg(dir);
    // Never the repository of a directory above: a worktree whose `.git`
    // is gone must fail, not let `reset --hard` loose on what encloses it.
    if let Some(parent) = dir.parent() {
        cmd.env("GIT_CEILING_DIRECTORIES", parent);
    }
    super::worktree::isolated(&mut cmd);
    cmd
}

fn git_common(common: &Path) -> Command {
    super::worktree::git(common)
}

fn run(mut cmd: Command, what: &str) -> Result<Output> {
    cmd.output()
        .map_err(|e| Error::environment(format!("cannot run git to {what}: {e}")))
}

fn text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn errors(out: &Output) -> String {
    let mut t = String::from_utf8_lossy(&out.stderr).trim().to_string();
    if t.is_empty() {
        t = String::from_utf8_lossy(&out.stdout).trim().to_string();
    }
    t.lines().take(6).collect::<Vec<_>>().join("; ")
}

fn ok(out: Output, what: &str) -> Result<Output> {
    if out.status.success() {
        Ok(out)
    } else {
        Err(Error::environment(format!(
            "git failed to {what}: {}",
            errors(&out)
        )))
    }
}

/// How much work `head` holds that `base` has not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Size {
    pub commits: u32,
    pub files: u32,
    pub insertions: u32,
    pub deletions: u32,
}

/// The commits and the diff of `base...head` (what `head` adds since the
/// two parted).
pub fn size(common: &Path, base: ObjectId, head: ObjectId) -> Result<Size> {
    let mut cmd = git_common(common);
    cmd.args(["rev-list", "--count"])
        .arg(format!("{base}..{head}"));
    let commits = text(&ok(run(cmd, "count commits")?, "count commits")?)
        .parse()
        .unwrap_or(0);
    let mut cmd = git_common(common);
    cmd.args(["diff", "--shortstat"])
        .arg(format!("{base}...{head}"));
    let stat = text(&ok(run(cmd, "measure a diff")?, "measure a diff")?);
    // " 3 files changed, 10 insertions(+), 2 deletions(-)"
    let number = |word: &str| -> u32 {
        stat.split(',')
            .find(|p| p.contains(word))
            .and_then(|p| p.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    Ok(Size {
        commits,
        files: number("file"),
        insertions: number("insertion"),
        deletions: number("deletion"),
    })
}

/// How many commits `head` has that none of `exclude` has
/// (`git rev-list --count head ^exclude...`).
pub fn count(common: &Path, head: ObjectId, exclude: &[ObjectId]) -> Result<u32> {
    let mut cmd = git_common(common);
    cmd.args(["rev-list", "--count"]).arg(head.to_string());
    for e in exclude {
        cmd.arg(format!("^{e}"));
    }
    let t = text(&ok(run(cmd, "count commits")?, "count commits")?);
    t.parse()
        .map_err(|_| Error::internal(format!("git rev-list --count printed {t:?}")))
}

/// Those of `commits` that no other of them contains (`git merge-base
/// --independent`).
pub fn independent(common: &Path, commits: &[ObjectId]) -> Result<Vec<ObjectId>> {
    if commits.len() < 2 {
        return Ok(commits.to_vec());
    }
    let mut cmd = git_common(common);
    cmd.args(["merge-base", "--independent"]);
    for c in commits {
        cmd.arg(c.to_string());
    }
    let t = text(&ok(run(cmd, "compare commits")?, "compare commits")?);
    Ok(t.lines()
        .filter_map(|l| ObjectId::from_hex(l.trim().as_bytes()).ok())
        .collect())
}

/// Those of `ids` the repository has as commits (one `git cat-file
/// --batch-check` for all of them).
pub fn existing(common: &Path, ids: &[ObjectId]) -> Result<Vec<ObjectId>> {
    use std::io::Write;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut cmd = git_common(common);
    cmd.args(["cat-file", "--batch-check=%(objectname) %(objecttype)"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd
        .spawn()
        .map_err(|e| Error::environment(format!("cannot run git to look for commits: {e}")))?;
    let mut input = String::new();
    for id in ids {
        input.push_str(&format!("{id}\n"));
    }
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(input.as_bytes())
            .map_err(|e| Error::environment(format!("cannot talk to git: {e}")))?;
    }
    let out = ok(
        child
            .wait_with_output()
            .map_err(|e| Error::environment(format!("cannot run git to look for commits: {e}")))?,
        "look for commits",
    )?;
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.strip_suffix(" commit"))
        .filter_map(|h| ObjectId::from_hex(h.as_bytes()).ok())
        .collect())
}

/// Whether the repository has commit `id` (`git cat-file -e id^{commit}`).
pub fn has_commit(common: &Path, id: ObjectId) -> Result<bool> {
    let mut cmd = git_common(common);
    cmd.args(["cat-file", "-e"]).arg(format!("{id}^{{commit}}"));
    Ok(run(cmd, "look for a commit")?.status.success())
}

/// The best common ancestor of `a` and `b`.
pub fn merge_base(common: &Path, a: ObjectId, b: ObjectId) -> Result<ObjectId> {
    let mut cmd = git_common(common);
    cmd.arg("merge-base").arg(a.to_string()).arg(b.to_string());
    let t = text(&run(cmd, "find a merge base")?);
    ObjectId::from_hex(t.as_bytes()).map_err(|_| {
        Error::conflict(format!(
            "{a} and {b} share no history; there is nothing to merge from"
        ))
    })
}

/// The patch of `base...head`, for a reviewer (cut at `max` bytes).
pub fn diff(common: &Path, base: ObjectId, head: ObjectId, max: usize) -> Result<String> {
    let mut cmd = git_common(common);
    cmd.args(["diff", "--stat", "--patch"])
        .arg(format!("{base}...{head}"));
    let out = ok(run(cmd, "show a diff")?, "show a diff")?;
    let mut t = String::from_utf8_lossy(&out.stdout).into_owned();
    if t.len() > max {
        let mut cut = max;
        while !t.is_char_boundary(cut) {
            cut -= 1;
        }
        t.truncate(cut);
        t.push_str("\n[... cut; `git diff BASE...HEAD` shows it all]\n");
    }
    Ok(t)
}

/// The commit `HEAD` of the worktree at `dir` is on.
pub fn head(dir: &Path) -> Result<ObjectId> {
    let mut cmd = git_in(dir);
    cmd.args(["rev-parse", "HEAD"]);
    let t = text(&ok(run(cmd, "read HEAD")?, "read HEAD")?);
    ObjectId::from_hex(t.as_bytes())
        .map_err(|_| Error::internal(format!("git rev-parse HEAD printed {t:?}")))
}

/// The branch checked out in the worktree at `dir` (None: HEAD is
/// detached, as during a rebase or bisection).
pub fn branch_of(dir: &Path) -> Result<Option<String>> {
    let mut cmd = git_in(dir);
    cmd.args(["symbolic-ref", "-q", "--short", "HEAD"]);
    let out = run(cmd, "read HEAD")?;
    Ok(out.status.success().then(|| text(&out)))
}

/// Whether the worktree at `dir` has no change (tracked or untracked, as
/// `git status --porcelain` sees it).
pub fn is_clean(dir: &Path) -> Result<bool> {
    let mut cmd = git_in(dir);
    cmd.args(["status", "--porcelain", "--untracked-files=normal"]);
    Ok(text(&ok(
        run(cmd, "read a worktree's status")?,
        "read a worktree's status",
    )?)
    .is_empty())
}

/// The paths `git status` shows as changed or untracked in the worktree
/// at `dir` (ignored and excluded files are not).
pub fn changed_paths(dir: &Path) -> Result<Vec<String>> {
    let mut cmd = git_in(dir);
    cmd.args(["status", "--porcelain", "-z", "--untracked-files=normal"]);
    let out = ok(
        run(cmd, "read a worktree's status")?,
        "read a worktree's status",
    )?;
    let mut paths = Vec::new();
    let mut entries = out.stdout.split(|b| *b == 0).filter(|e| !e.is_empty());
    while let Some(e) = entries.next() {
        if e.len() > 3 {
            paths.push(String::from_utf8_lossy(&e[3..]).into_owned());
        }
        // A rename or copy is followed by its source path.
        if matches!(e.first(), Some(b'R' | b'C')) {
            entries.next();
        }
    }
    Ok(paths)
}

/// `git merge --ff-only <commit>` in the worktree at `dir`.
pub fn fast_forward(dir: &Path, commit: ObjectId) -> Result<()> {
    let mut cmd = git_in(dir);
    cmd.args(["merge", "--ff-only", "-q"])
        .arg(commit.to_string());
    ok(run(cmd, "fast-forward")?, "fast-forward").map(|_| ())
}

/// Puts the branch checked out in the clean worktree at `dir` on `commit`
/// (`git reset --keep`: refused rather than losing a change).
pub fn recreate(dir: &Path, commit: ObjectId) -> Result<()> {
    let mut cmd = git_in(dir);
    cmd.args(["reset", "-q", "--keep"]).arg(commit.to_string());
    ok(run(cmd, "move the branch")?, "move the branch").map(|_| ())
}

/// The train's worktree for a mission: made (detached) if it is not there.
pub fn train_worktree(common: &Path, path: &Path, at: ObjectId) -> Result<PathBuf> {
    if !path.join(".git").exists() {
        let mut cmd = git_common(common);
        cmd.args(["worktree", "prune"]);
        let _ = run(cmd, "prune worktrees");
        if let Some(parent) = path.parent() {
            crate::store::fsio::create_dir_all(parent)?;
        }
        let mut cmd = git_common(common);
        cmd.args(["worktree", "add", "--detach", "--quiet"])
            .arg(path)
            .arg(at.to_string());
        ok(
            run(cmd, "add the merge train's worktree")?,
            "add the merge train's worktree",
        )?;
    }
    Ok(path.to_path_buf())
}

/// Puts the train's worktree on `at`, detached, with no changes and no
/// untracked files (ignored ones, such as build caches, are kept). Cheap
/// when it is there already (as a landing leaves it): one look at HEAD and
/// one status.
pub fn reset(dir: &Path, at: ObjectId) -> Result<()> {
    let gitdir = worktree_git_dir(dir);
    let pending = |name: &str| gitdir.as_ref().is_none_or(|g| g.join(name).exists());
    if pending("MERGE_HEAD") {
        let mut cmd = git_in(dir);
        cmd.args(["merge", "--abort"]);
        let _ = run(cmd, "abort");
    }
    if pending("CHERRY_PICK_HEAD") || pending("sequencer") {
        let mut cmd = git_in(dir);
        cmd.args(["cherry-pick", "--abort"]);
        let _ = run(cmd, "abort");
    }
    if gitdir.is_some() && head(dir).ok() == Some(at) && !pending("MERGE_HEAD") {
        let mut cmd = git_in(dir);
        cmd.args(["status", "--porcelain", "--untracked-files=all"]);
        if text(&ok(
            run(cmd, "read a worktree's status")?,
            "read a worktree's status",
        )?)
        .is_empty()
        {
            return Ok(());
        }
    }
    let mut cmd = git_in(dir);
    cmd.args(["checkout", "-q", "--detach", "--force"])
        .arg(at.to_string());
    ok(
        run(cmd, "check out the integration branch's tip")?,
        "check out",
    )?;
    let mut cmd = git_in(dir);
    cmd.args(["reset", "-q", "--hard"]).arg(at.to_string());
    ok(run(cmd, "reset")?, "reset")?;
    // Ignored files (a build's cache, such as `target/`) stay: the check
    // builds on them as it would in a person's checkout.
    let mut cmd = git_in(dir);
    cmd.args(["clean", "-q", "-fd"]);
    ok(run(cmd, "clean")?, "clean").map(|_| ())
}

/// The private git directory of the worktree at `dir` (from its `.git`
/// file), if it can be read.
fn worktree_git_dir(dir: &Path) -> Option<std::path::PathBuf> {
    let text = std::fs::read_to_string(dir.join(".git")).ok()?;
    let path = text.strip_prefix("gitdir:")?.trim();
    let p = std::path::PathBuf::from(path);
    Some(if p.is_absolute() { p } else { dir.join(p) })
}

/// What bringing one piece of work in did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Brought {
    /// HEAD is now the new commit.
    Done(ObjectId),
    /// It conflicts with what is there; the files in conflict (the worktree
    /// is back as it was).
    Conflict(Vec<String>),
    /// Nothing to bring (already there).
    Nothing,
}

/// Brings `head` (a grove's work, whose commits since `base` are the work)
/// onto the train worktree's HEAD with `strategy`, committing as `who`
/// with `message`.
pub fn bring(
    dir: &Path,
    strategy: Strategy,
    base: ObjectId,
    head: ObjectId,
    who: (&str, &str),
    time: i64,
    message: &str,
) -> Result<Brought> {
    let before = self::head(dir)?;
    let ident = |cmd: &mut Command| {
        let date = format!("{time} +0000");
        cmd.env("GIT_AUTHOR_NAME", who.0)
            .env("GIT_AUTHOR_EMAIL", who.1)
            .env("GIT_COMMITTER_NAME", who.0)
            .env("GIT_COMMITTER_EMAIL", who.1)
            .env("GIT_AUTHOR_DATE", &date)
            .env("GIT_COMMITTER_DATE", &date)
            // The user's hooks and signing are for people's commits.
            .args([
                "-c",
                "core.hooksPath=/dev/null",
                "-c",
                "commit.gpgsign=false",
            ]);
    };
    let result = match strategy {
        Strategy::Merge => {
            let mut cmd = git_in(dir);
            ident(&mut cmd);
            cmd.args(["merge", "--no-ff", "--no-edit", "-q", "-m", message])
                .arg(head.to_string());
            run(cmd, "merge")?
        }
        Strategy::Squash => squash(dir, base, head, &ident, message)?,
        Strategy::Rebase => {
            let mut cmd = git_common_of(dir)?;
            cmd.args(["rev-list", "--reverse"])
                .arg(format!("{base}..{head}"));
            let list = text(&ok(run(cmd, "list commits")?, "list commits")?);
            let commits: Vec<&str> = list.lines().filter(|l| !l.is_empty()).collect();
            if commits.is_empty() {
                return Ok(Brought::Nothing);
            }
            if has_merges(dir, base, head)? {
                // A merge in the work (a conflict resolved by merging the
                // integration branch in): replaying its other commits
                // would drop the resolution, so it comes as one commit.
                squash(dir, base, head, &ident, message)?
            } else {
                let mut cmd = git_in(dir);
                ident(&mut cmd);
                cmd.args([
                    "cherry-pick",
                    "--allow-empty",
                    "--keep-redundant-commits",
                    "-x",
                ])
                .args(&commits);
                run(cmd, "cherry-pick")?
            }
        }
    };
    if result.status.success() {
        let after = self::head(dir)?;
        return Ok(if after == before {
            Brought::Nothing
        } else {
            Brought::Done(after)
        });
    }
    // A conflict: which files, then back to where it was.
    let mut cmd = git_in(dir);
    cmd.args(["diff", "--name-only", "--diff-filter=U"]);
    let files: Vec<String> = run(cmd, "list conflicts")
        .map(|o| text(&o))
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect();
    reset(dir, before)?;
    if files.is_empty() {
        // Not a conflict: the work itself may be what git refuses (no
        // history in common), which is the work's to fix, not the train's.
        if let Ok(mut cmd) = git_common_of(dir) {
            cmd.arg("merge-base")
                .arg(before.to_string())
                .arg(head.to_string());
            if run(cmd, "find a merge base").is_ok_and(|o| o.status.code() == Some(1)) {
                return Err(Error::conflict(format!(
                    "{head} shares no history with the integration branch"
                )));
            }
        }
        return Err(Error::environment(format!(
            "git could not bring the work in: {}",
            errors(&result)
        )));
    }
    Ok(Brought::Conflict(files))
}

/// Brings the change from `base` to `head` onto HEAD as one commit: a
/// three-way merge whose base is `base`, not where the two branches
/// parted (work stacked on work that landed by rebase or squash parted
/// before that work). A commit with `head`'s tree and `base` as its only
/// parent is made and cherry-picked without committing, then committed.
fn squash(
    dir: &Path,
    base: ObjectId,
    head: ObjectId,
    ident: &dyn Fn(&mut Command),
    message: &str,
) -> Result<Output> {
    let mut cmd = git_in(dir);
    ident(&mut cmd);
    cmd.args(["commit-tree", "-p"])
        .arg(base.to_string())
        .args(["-m", message])
        .arg(format!("{head}^{{tree}}"));
    let change = text(&ok(run(cmd, "describe the work")?, "describe the work")?);
    let mut cmd = git_in(dir);
    ident(&mut cmd);
    cmd.args(["cherry-pick", "--no-commit", "--allow-empty"])
        .arg(&change);
    let out = run(cmd, "bring the work in")?;
    if !out.status.success() || is_clean(dir)? {
        return Ok(out);
    }
    let mut cmd = git_in(dir);
    ident(&mut cmd);
    cmd.args(["commit", "-q", "--no-verify", "-m", message]);
    run(cmd, "commit")
}

/// Whether `base..head` has a merge commit.
fn has_merges(dir: &Path, base: ObjectId, head: ObjectId) -> Result<bool> {
    let mut cmd = git_common_of(dir)?;
    cmd.args(["rev-list", "--merges", "--max-count=1"])
        .arg(format!("{base}..{head}"));
    Ok(!text(&ok(run(cmd, "list merges")?, "list merges")?).is_empty())
}

fn git_common_of(dir: &Path) -> Result<Command> {
    let mut cmd = git_in(dir);
    cmd.args(["rev-parse", "--git-common-dir"]);
    let common = text(&ok(
        run(cmd, "find the repository")?,
        "find the repository",
    )?);
    let common = if Path::new(&common).is_absolute() {
        PathBuf::from(common)
    } else {
        dir.join(common)
    };
    Ok(git_common(&common))
}

/// What a check did.
#[derive(Debug, Clone)]
pub struct Checked {
    /// Its exit code (None: killed by a signal, or stopped by orc).
    pub exit: Option<i32>,
    pub duration: Duration,
    /// The end of what it printed (stdout and stderr, interleaved as they
    /// came), at most `tail` bytes.
    pub output: Vec<u8>,
    /// It ran over its time and orc stopped it.
    pub timed_out: bool,
}

impl Checked {
    /// How it ended, for a message: `exit 1`, `killed`, `timed out after 30m`.
    pub fn outcome(&self, timeout: Duration) -> String {
        match self.exit {
            _ if self.timed_out => format!("timed out after {}", show_duration(timeout)),
            Some(e) => format!("exit {e}"),
            None => "killed".to_string(),
        }
    }
}

/// `90s` → `1m30s`, `1800s` → `30m`, `250ms` → `250ms`.
pub fn show_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if !ms.is_multiple_of(1000) {
        return format!("{ms}ms");
    }
    let s = d.as_secs();
    let (h, m, s) = (s / 3600, s / 60 % 60, s % 60);
    let mut out = String::new();
    for (n, unit) in [(h, "h"), (m, "m"), (s, "s")] {
        if n > 0 {
            out.push_str(&format!("{n}{unit}"));
        }
    }
    if out.is_empty() { "0s".into() } else { out }
}

/// Runs `command` with `sh -c` in `dir`, with its output captured (only
/// the last `tail` bytes are kept), in a process group of its own: past
/// `timeout` the whole group (its children too) is killed, and whatever it
/// left running in that group when it ended is killed too. It runs
/// without the `GIT_*` variables that would point git elsewhere (orc may
/// itself run from a git hook).
pub fn check(dir: &Path, command: &str, tail: usize, timeout: Duration) -> Result<Checked> {
    use std::io::{Read, Seek, SeekFrom};
    use std::os::unix::process::CommandExt;
    let start = Instant::now();
    let log = tempfile_path(dir);
    let file = std::fs::File::create(&log).map_err(|e| Error::io("cannot create", &log, e))?;
    let err = file
        .try_clone()
        .map_err(|e| Error::io("cannot open", &log, e))?;
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(command)
        .current_dir(dir)
        .stdout(file)
        .stderr(err)
        .process_group(0);
    super::worktree::isolated(&mut cmd);
    // The check runs in a process group of its own, so a Ctrl-C at the
    // terminal reaches orc only: orc then stops the check with it.
    let interrupts = Interrupts::catch();
    let mut child = cmd
        .spawn()
        .map_err(|e| Error::environment(format!("cannot run the check `{command}`: {e}")))?;
    let group = child.id() as libc::pid_t;
    let (tx, rx) = std::sync::mpsc::channel();
    // Waits for the check to end without reaping it: while its first
    // process is a zombie, neither its pid nor its group's id can be given
    // to another process, so the group can be signalled safely after.
    std::thread::spawn(move || {
        // SAFETY: waitid(2) writes only into `info`, a zeroed siginfo_t
        // owned by this frame.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        loop {
            let r = unsafe {
                libc::waitid(
                    libc::P_PID,
                    group as libc::id_t,
                    &mut info,
                    libc::WEXITED | libc::WNOWAIT,
                )
            };
            if r == 0 || std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted {
                break;
            }
        }
        let _ = tx.send(());
    });
    let deadline = Instant::now() + timeout;
    let mut timed_out = false;
    let mut interrupted = None;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            timed_out = true;
            break;
        }
        match rx.recv_timeout(left.min(Duration::from_millis(100))) {
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                if let Some(sig) = interrupts.caught() {
                    interrupted = Some(sig);
                    break;
                }
            }
            _ => break,
        }
    }
    // Past its time the whole group goes; and what it left running in the
    // background (a server a test started) goes with it when it ended, so
    // the next check does not find it holding a port.
    // SAFETY: kill(2) with a negative pid signals the process group the
    // check was started in (still ours: its leader is not reaped yet); it
    // touches no memory.
    unsafe {
        libc::kill(-group, libc::SIGKILL);
    }
    let status = child
        .wait()
        .map_err(|e| Error::environment(format!("cannot wait for the check `{command}`: {e}")))?;
    drop(interrupts);
    if let Some(sig) = interrupted {
        let _ = std::fs::remove_file(&log);
        return Err(Error::environment(format!(
            "interrupted (signal {sig}): the check `{command}` was stopped with everything it started"
        )));
    }
    // The note on a stopped check counts against `tail` too: the whole is
    // stored as an artifact under a size limit.
    let note = if timed_out {
        format!(
            "\n[orc: the check ran longer than check_timeout ({}) and was stopped]\n",
            show_duration(timeout)
        )
    } else {
        String::new()
    };
    let keep = tail.saturating_sub(note.len());
    let mut output = Vec::new();
    if let Ok(mut f) = std::fs::File::open(&log) {
        let len = f.metadata().map(|m| m.len()).unwrap_or(0);
        let from = len.saturating_sub(keep as u64);
        if f.seek(SeekFrom::Start(from)).is_ok() {
            let _ = f.take(keep as u64).read_to_end(&mut output);
        }
    }
    let _ = std::fs::remove_file(&log);
    output.extend_from_slice(&note.as_bytes()[..note.len().min(tail)]);
    Ok(Checked {
        exit: if timed_out { None } else { status.code() },
        duration: start.elapsed(),
        output,
        timed_out,
    })
}

/// The last of SIGINT, SIGTERM, SIGHUP that arrived while a check ran.
static SIGNALLED: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(0);

extern "C" fn note_signal(sig: libc::c_int) {
    // Async-signal-safe: an atomic store and nothing else.
    SIGNALLED.store(sig, std::sync::atomic::Ordering::SeqCst);
}

/// While a check runs, SIGINT, SIGTERM and SIGHUP are noted instead of
/// ending orc at once, so orc can stop the check's process group first;
/// the previous handlers are put back when this is dropped.
struct Interrupts {
    old: Vec<(libc::c_int, libc::sigaction)>,
}

impl Interrupts {
    fn catch() -> Interrupts {
        SIGNALLED.store(0, std::sync::atomic::Ordering::SeqCst);
        let mut old = Vec::new();
        for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
            // SAFETY: sigaction(2) with zero-initialised structs owned by
            // this frame; the handler only stores to an atomic.
            unsafe {
                let mut new: libc::sigaction = std::mem::zeroed();
                new.sa_sigaction = note_signal as *const () as libc::sighandler_t;
                libc::sigemptyset(&mut new.sa_mask);
                let mut prev: libc::sigaction = std::mem::zeroed();
                if libc::sigaction(sig, &new, &mut prev) == 0 {
                    old.push((sig, prev));
                }
            }
        }
        Interrupts { old }
    }

    fn caught(&self) -> Option<i32> {
        match SIGNALLED.load(std::sync::atomic::Ordering::SeqCst) {
            0 => None,
            sig => Some(sig),
        }
    }
}

impl Drop for Interrupts {
    fn drop(&mut self) {
        for (sig, prev) in &self.old {
            // SAFETY: puts back the handler sigaction(2) returned.
            unsafe {
                libc::sigaction(*sig, prev, std::ptr::null_mut());
            }
        }
    }
}

fn tempfile_path(dir: &Path) -> PathBuf {
    let base = std::env::temp_dir();
    let _ = dir;
    base.join(format!(
        "orc-check-{}-{}.log",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    ))
}
