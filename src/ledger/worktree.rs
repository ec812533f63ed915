//! The git command line, for the few things gix cannot do: adding and
//! removing worktrees, and deleting a branch with git's "is it merged?"
//! check. Every call passes argv (never a shell string), names the
//! repository explicitly, and clears the `GIT_*` variables a hook may have
//! set, so the command acts on the repository orc means.

use std::path::Path;
use std::process::{Command, Output};

use gix::ObjectId;

use crate::error::{Error, Result};

/// The oldest git orc supports (worktrees with `worktree remove`).
pub const MIN_GIT: (u32, u32) = (2, 17);

/// The variables through which a caller's environment (a git hook that
/// runs orc, say) would point git or a check at another repository.
const GIT_LOCATION_VARS: [&str; 7] = [
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_COMMON_DIR",
    "GIT_PREFIX",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
];

/// Clears [`GIT_LOCATION_VARS`] from `cmd` and gives it no stdin.
pub(crate) fn isolated(cmd: &mut Command) -> &mut Command {
    for var in GIT_LOCATION_VARS {
        cmd.env_remove(var);
    }
    cmd.stdin(std::process::Stdio::null())
}

/// git on the repository whose common directory is `common_dir`.
pub(crate) fn git(common_dir: &Path) -> Command {
    let mut cmd = Command::new("git");
    cmd.arg("--git-dir").arg(common_dir);
    isolated(&mut cmd);
    cmd
}

fn run(mut cmd: Command, what: &str) -> Result<Output> {
    let out = cmd.output().map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            Error::environment("git is not installed or not on PATH")
                .with_hint("install git (Debian: apt-get install git)")
        } else {
            Error::internal(format!("cannot run git to {what}: {e}"))
        }
    })?;
    Ok(out)
}

fn stderr_line(out: &Output) -> String {
    let text = String::from_utf8_lossy(&out.stderr);
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            l.trim_start_matches("fatal: ")
                .trim_start_matches("error: ")
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// `git worktree add <path> <branch>`: a worktree for a branch that
/// exists (bringing a grove's worktree back).
pub fn add_existing(common_dir: &Path, path: &Path, branch: &str) -> Result<()> {
    let mut cmd = git(common_dir);
    cmd.args(["worktree", "add", "--quiet"])
        .arg(path)
        .arg(branch);
    let out = run(cmd, "add a worktree")?;
    if !out.status.success() {
        return Err(Error::environment(format!(
            "git worktree add {} {branch} failed: {}",
            path.display(),
            stderr_line(&out)
        )));
    }
    Ok(())
}

/// `git update-ref -d <name> <old>`: deletes a ref only if it still
/// points at `old`.
pub fn delete_ref_if(common_dir: &Path, name: &str, old: &str) -> Result<()> {
    let mut cmd = git(common_dir);
    cmd.args(["update-ref", "-d", name, old]);
    let out = run(cmd, "delete a ref")?;
    if !out.status.success() {
        return Err(Error::environment(format!(
            "git update-ref -d {name} failed: {}",
            stderr_line(&out)
        )));
    }
    Ok(())
}

/// `git worktree add -b <branch> <path> <base>`.
pub fn add(common_dir: &Path, path: &Path, branch: &str, base: &str) -> Result<()> {
    let mut cmd = git(common_dir);
    cmd.args(["worktree", "add", "--quiet", "-b", branch])
        .arg(path)
        .arg(base);
    let out = run(cmd, "add a worktree")?;
    if !out.status.success() {
        return Err(Error::environment(format!(
            "git worktree add {} failed: {}",
            path.display(),
            stderr_line(&out)
        )));
    }
    Ok(())
}

/// `git worktree remove [--force] <path>`.
pub fn remove(common_dir: &Path, path: &Path, force: bool) -> Result<()> {
    let mut cmd = git(common_dir);
    cmd.args(["worktree", "remove"]);
    if force {
        // Twice: also remove a locked worktree.
        cmd.args(["--force", "--force"]);
    }
    cmd.arg(path);
    let out = run(cmd, "remove a worktree")?;
    if !out.status.success() {
        return Err(Error::conflict(format!(
            "git worktree remove {} failed: {}",
            path.display(),
            stderr_line(&out)
        ))
        .with_hint("commit or discard the changes in the grove first, or pass --force"));
    }
    Ok(())
}

/// `git worktree prune`: forgets worktrees whose directory is gone.
pub fn prune(common_dir: &Path) -> Result<()> {
    let mut cmd = git(common_dir);
    cmd.args(["worktree", "prune"]);
    run(cmd, "prune worktrees").map(|_| ())
}

/// Deletes `refs/heads/<branch>` if it still points at `tip`
/// (`git update-ref -d`, a compare-and-swap). Returns git's refusal (it
/// moved), if any, instead of failing. Unlike `git branch -d` this does
/// not look at worktrees: the caller makes sure none has it checked out.
pub fn delete_branch_at(common_dir: &Path, branch: &str, tip: ObjectId) -> Result<Option<String>> {
    let mut cmd = git(common_dir);
    cmd.args(["update-ref", "-d"])
        .arg(format!("refs/heads/{branch}"))
        .arg(tip.to_string());
    let out = run(cmd, "delete a branch")?;
    if out.status.success() {
        Ok(None)
    } else {
        Ok(Some(stderr_line(&out)))
    }
}

/// The installed git's version, as (major, minor).
pub fn version() -> Result<(u32, u32)> {
    let mut cmd = Command::new("git");
    cmd.arg("--version");
    let out = run(cmd, "read its version")?;
    let text = String::from_utf8_lossy(&out.stdout);
    parse_version(&text).ok_or_else(|| {
        Error::environment(format!(
            "cannot read the git version from {:?}",
            text.trim()
        ))
    })
}

fn parse_version(text: &str) -> Option<(u32, u32)> {
    let v = text
        .split_whitespace()
        .find(|w| w.starts_with(|c: char| c.is_ascii_digit()))?;
    let mut parts = v.split('.');
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

#[cfg(test)]
mod tests {
    #[test]
    fn versions() {
        assert_eq!(super::parse_version("git version 2.47.3\n"), Some((2, 47)));
        assert_eq!(
            super::parse_version("git version 2.39.2 (Apple Git-143)"),
            Some((2, 39))
        );
        assert_eq!(super::parse_version("nonsense"), None);
    }
}
