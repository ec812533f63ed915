//! `orc doctor`: checks that the loop can close — tools present, the ledger
//! readable, every grove a healthy worktree with `.orc/` hidden, every
//! config consistent with the ledger, hooks installed and current, and the
//! directories trusted by Claude Code. Each failure says how to fix it.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::agent::hooks;
use crate::error::Result;
use crate::ledger::worktree;
use crate::model::{DirKind, FileKind, GroveStatus, MissionStatus};
use crate::ops::Session;
use crate::store::OrcDir;

#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// A stable name: `git`, `tmux`, `ledger`, `grove`, `config`, `hooks`, `trust`.
    pub check: &'static str,
    pub ok: bool,
    pub message: String,
    /// How to fix it, when it failed.
    pub fix: Option<String>,
}

fn pass(check: &'static str, message: impl Into<String>) -> Check {
    Check {
        check,
        ok: true,
        message: message.into(),
        fix: None,
    }
}

fn fail(check: &'static str, message: impl Into<String>, fix: impl Into<String>) -> Check {
    Check {
        check,
        ok: false,
        message: message.into(),
        fix: Some(fix.into()),
    }
}

pub fn run(s: &Session) -> Result<Vec<Check>> {
    let mut checks = Vec::new();
    tools(&mut checks);
    if s.ledger.tip()?.is_none() {
        // Nothing is broken before `orc init`: there is nothing to check yet.
        checks.push(pass(
            "ledger",
            format!(
                "no ledger branch {:?} yet; `orc init` creates it",
                s.ledger.branch()
            ),
        ));
        trust_check(s, &mut checks);
        return Ok(checks);
    }
    ledger_files(s, &mut checks)?;
    let orc = hooks::orc_binary();
    let (missions, _) = s.missions()?;
    for m in missions
        .iter()
        .filter(|m| m.status == MissionStatus::Active)
    {
        let dir = OrcDir::of_mission(Path::new(&m.workspace), m.id);
        config_check(
            s,
            &mut checks,
            &dir,
            DirKind::Mission,
            m.id.to_string(),
            |c| c.mission == Some(m.id),
        );
        hooks_check(&mut checks, dir.owner(), &orc, &m.id.to_string());
    }
    let (groves, _) = s.groves()?;
    for g in groves.iter().filter(|g| g.status == GroveStatus::Active) {
        let path = Path::new(&g.path);
        grove_check(s, &mut checks, g, path);
        let dir = OrcDir::in_dir(path);
        if path.exists() {
            config_check(
                s,
                &mut checks,
                &dir,
                DirKind::Grove,
                g.id.to_string(),
                |c| c.grove == Some(g.id) && c.mission == Some(g.mission),
            );
            hooks_check(&mut checks, path, &orc, &g.id.to_string());
        }
    }
    trust_check(s, &mut checks);
    Ok(checks)
}

fn tools(checks: &mut Vec<Check>) {
    let (min_major, min_minor) = worktree::MIN_GIT;
    checks.push(match worktree::version() {
        Ok(v) if v >= worktree::MIN_GIT => pass("git", format!("git {}.{}", v.0, v.1)),
        Ok(v) => fail(
            "git",
            format!("git {}.{} is older than {min_major}.{min_minor}", v.0, v.1),
            format!("install git {min_major}.{min_minor} or newer"),
        ),
        Err(e) => fail("git", e.message, e.hint.unwrap_or_default()),
    });
    let (min_major, min_minor) = crate::tmux::MIN_TMUX;
    checks.push(match crate::tmux::version() {
        Ok(v) if v >= crate::tmux::MIN_TMUX => pass("tmux", format!("tmux {}.{}", v.0, v.1)),
        Ok(v) => fail(
            "tmux",
            format!("tmux {}.{} is older than {min_major}.{min_minor}", v.0, v.1),
            format!("install tmux {min_major}.{min_minor} or newer"),
        ),
        Err(e) => fail("tmux", e.message, e.hint.unwrap_or_default()),
    });
}

/// The kind of a ledger file, from its path.
pub fn ledger_kind(path: &str) -> Option<FileKind> {
    let parts: Vec<&str> = path.split('/').collect();
    match parts.as_slice() {
        ["orc.json"] => Some(FileKind::LedgerInfo),
        ["counters.json"] => Some(FileKind::Counters),
        ["missions", _, "mission.json"] => Some(FileKind::Mission),
        ["missions", _, "work-orders", _] => Some(FileKind::WorkOrder),
        ["missions", _, "inbox", _] | ["groves", _, "inbox", _] => Some(FileKind::Message),
        ["groves", _, "grove.json"] => Some(FileKind::Grove),
        ["groves", _, "assigned-work.json"] => Some(FileKind::Assignment),
        _ => None,
    }
}

fn ledger_files(s: &Session, checks: &mut Vec<Check>) -> Result<()> {
    let mut count = 0;
    let mut bad = Vec::new();
    let mut stack = vec![String::new()];
    while let Some(dir) = stack.pop() {
        for entry in s.ledger.list(&dir)? {
            let path = if dir.is_empty() {
                entry.name.clone()
            } else {
                format!("{dir}/{}", entry.name)
            };
            if entry.is_dir {
                stack.push(path);
                continue;
            }
            count += 1;
            let Some(kind) = ledger_kind(&path) else {
                bad.push(format!("{path}: not a file orc knows"));
                continue;
            };
            let bytes = s.ledger.read(&path)?.unwrap_or_default();
            if let Err(e) = kind.check(&entry.name, &bytes) {
                bad.push(format!("{path}: {e}"));
            }
        }
    }
    let branch = s.ledger.branch();
    if bad.is_empty() {
        checks.push(pass(
            "ledger",
            format!("branch {branch}: {count} files, all valid"),
        ));
    } else {
        for b in bad {
            checks.push(fail(
                "ledger",
                format!("{branch}:{b}"),
                "fix the file in its .orc/ directory; orc commits the fix with its next change to it",
            ));
        }
    }
    Ok(())
}

fn grove_check(s: &Session, checks: &mut Vec<Check>, g: &crate::model::Grove, path: &Path) {
    let name = format!("{} ({})", g.id, g.path);
    if !path.is_dir() {
        checks.push(fail(
            "grove",
            format!("{name}: the directory does not exist"),
            format!("`orc grove remove {} --force` forgets it", g.id),
        ));
        return;
    }
    let Some(head) = worktree_head(path) else {
        checks.push(fail(
            "grove",
            format!("{name}: not a git worktree of this repository"),
            format!("`orc grove remove {} --force`, then create it again", g.id),
        ));
        return;
    };
    let expected = format!("ref: refs/heads/{}", g.branch);
    if head.trim() != expected {
        checks.push(fail(
            "grove",
            format!(
                "{name}: not on its branch {} (HEAD is {:?})",
                g.branch,
                head.trim()
            ),
            format!("in the grove: git switch {}", g.branch),
        ));
        return;
    }
    if !s.ledger.excludes(".orc/") {
        checks.push(fail(
            "grove",
            format!("{name}: .orc/ is not hidden from git"),
            format!(
                "add `.orc/` to {}",
                s.ledger.common_dir().join("info/exclude").display()
            ),
        ));
        return;
    }
    checks.push(pass(
        "grove",
        format!("{name}: worktree on {}, .orc/ hidden", g.branch),
    ));
}

/// The HEAD of the worktree at `path`, if it is a linked worktree.
fn worktree_head(path: &Path) -> Option<String> {
    let link = std::fs::read_to_string(path.join(".git")).ok()?;
    let gitdir = link.strip_prefix("gitdir:")?.trim();
    std::fs::read_to_string(PathBuf::from(gitdir).join("HEAD")).ok()
}

fn config_check(
    s: &Session,
    checks: &mut Vec<Check>,
    dir: &OrcDir,
    kind: DirKind,
    who: String,
    matches: impl Fn(&crate::model::DirConfig) -> bool,
) {
    let path = dir.path(crate::store::orcdir::CONFIG_FILE);
    match dir.read_config() {
        Err(e) => checks.push(fail(
            "config",
            e.message,
            format!(
                "restore {} (see spec/README.md, config.json)",
                path.display()
            ),
        )),
        Ok(c) => {
            let repo_ok = c
                .repo
                .as_deref()
                .is_some_and(|r| Path::new(r) == s.ledger.common_dir());
            let ledger_ok = c.ledger.as_deref().is_none_or(|l| l == s.ledger.branch());
            if c.kind != kind || !matches(&c) || !repo_ok || !ledger_ok {
                checks.push(fail(
                    "config",
                    format!(
                        "{}: does not match the ledger's record of {who} (type {}, mission {:?}, grove {:?}, repo {:?})",
                        path.display(),
                        c.kind,
                        c.mission.map(|m| m.to_string()),
                        c.grove.map(|g| g.to_string()),
                        c.repo
                    ),
                    format!(
                        "set type {kind}, the ids of {who} and repo {} in it",
                        s.ledger.common_dir().display()
                    ),
                ));
            } else {
                checks.push(pass("config", format!("{}: {kind} {who}", path.display())));
            }
        }
    }
}

fn hooks_check(checks: &mut Vec<Check>, dir: &Path, orc: &Path, who: &str) {
    match hooks::status(dir, orc) {
        Err(e) => checks.push(fail("hooks", e.message, "fix the settings file by hand")),
        Ok(st) if st.ok() => checks.push(pass(
            "hooks",
            format!("{who}: SessionStart and UserPromptSubmit hooks installed"),
        )),
        Ok(st) => {
            let wrong: Vec<String> = st
                .hooks
                .iter()
                .filter(|h| h.state != "installed")
                .map(|h| format!("{} {}", h.event, h.state))
                .collect();
            checks.push(fail(
                "hooks",
                format!("{who}: {} ({})", wrong.join(", "), st.settings.display()),
                format!("run `orc hooks install` in {}", dir.display()),
            ));
        }
    }
}

fn trust_check(s: &Session, checks: &mut Vec<Check>) {
    let roots = match (s.settings.missions_root(), s.settings.worktrees_root()) {
        (Ok(a), Ok(b)) => vec![a, b],
        _ => return,
    };
    match hooks::untrusted(&roots) {
        Ok(missing) if missing.is_empty() => checks.push(pass(
            "trust",
            "Claude Code trusts the missions and worktrees roots",
        )),
        Ok(missing) => checks.push(fail(
            "trust",
            format!(
                "Claude Code does not trust {} (permissions.additionalDirectories in ~/.claude/settings.json)",
                missing
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            "run `orc hooks trust`",
        )),
        Err(e) => checks.push(fail("trust", e.message, "fix ~/.claude/settings.json by hand")),
    }
}
