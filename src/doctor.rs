//! `orc doctor`: checks that the loop can close — tools present, the ledger
//! readable, every grove a healthy worktree with `.orc/` hidden, every
//! config consistent with the ledger, hooks installed and current, and the
//! directories trusted by Claude Code. Each failure says how to fix it.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::agent::hooks::{self, Site};
use crate::agent::profile::{AgentKind, Profile};
use crate::agent::trust;
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
        agent_checks(s, &mut checks, &[]);
        return Ok(checks);
    }
    ledger_files(s, &mut checks)?;
    let (sites, errors) = hooks::sites(s).unwrap_or_default();
    for e in errors {
        checks.push(fail("agent", e.message, e.hint.unwrap_or_default()));
    }
    agent_checks(
        s,
        &mut checks,
        &sites.iter().map(|x| x.profile.clone()).collect::<Vec<_>>(),
    );
    let site_of = |who: String| sites.iter().find(|x| x.who() == who);
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
        if let Some(site) = site_of(m.id.to_string()) {
            hooks_check(&mut checks, site);
            trust_check(&mut checks, site);
        }
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
            if let Some(site) = site_of(g.id.to_string()) {
                hooks_check(&mut checks, site);
                trust_check(&mut checks, site);
            }
        }
    }
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
            if path == crate::ops::config::FILE {
                if let Err(e) = crate::ops::config::all(s) {
                    bad.push(
                        e.message
                            .trim_start_matches(&format!("{}:", s.ledger.branch()))
                            .to_string(),
                    );
                }
                continue;
            }
            // Artifacts: any bytes, listed by their work order.
            if let ["artifacts", wo, name] = path.split('/').collect::<Vec<_>>().as_slice() {
                if crate::model::WorkOrderId::parse(wo).is_err()
                    || crate::model::review::check_artifact_name(name).is_err()
                {
                    bad.push(format!("{path}: not an artifact orc would write"));
                }
                continue;
            }
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
            format!(
                "`orc restore {0}` adds its worktree again from its branch; `orc grove remove {0} --force` forgets it",
                g.id
            ),
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
                "`orc restore {who}` rebuilds {} from the ledger",
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

fn hooks_check(checks: &mut Vec<Check>, site: &Site) {
    let who = site.who();
    if site.profile.kind == AgentKind::Plain {
        return;
    }
    match hooks::status(&site.dir, site.role, &site.profile) {
        Err(e) => checks.push(fail(
            "hooks",
            format!("{who}: {}", e.message),
            "fix the file by hand",
        )),
        Ok(st) if st.ok() => checks.push(pass(
            "hooks",
            format!(
                "{who}: {} hooks, permissions and context installed ({})",
                st.agent,
                st.items.len()
            ),
        )),
        Ok(st) => {
            let wrong: Vec<String> = st
                .items
                .iter()
                .filter(|i| i.state != "installed")
                .map(|i| format!("{} {} {}", i.kind, i.name, i.state))
                .collect();
            let invalid = st.items.iter().any(|i| i.state == "invalid");
            checks.push(fail(
                "hooks",
                format!("{who}: {} ({})", wrong.join(", "), st.files.first().map(|f| f.display().to_string()).unwrap_or_default()),
                if invalid {
                    format!(
                        "fix or remove the entries {} rejects (it stops at start to complain about them), then run `orc hooks install` in {}",
                        st.agent,
                        site.dir.display()
                    )
                } else {
                    format!("run `orc hooks install` in {}", site.dir.display())
                },
            ));
        }
    }
}

/// Trust, per grove and workspace, decided the way the agent decides it.
fn trust_check(checks: &mut Vec<Check>, site: &Site) {
    if site.profile.kind == AgentKind::Plain {
        return;
    }
    let who = site.who();
    match trust::is_trusted(site.profile.kind, &site.dir) {
        Ok(true) => checks.push(pass(
            "trust",
            format!("{who}: {} trusts {}", site.profile.kind, site.dir.display()),
        )),
        Ok(false) => checks.push(fail(
            "trust",
            format!(
                "{who}: {} does not trust {}; it would ask a person first and run no hooks until then",
                site.profile.kind,
                site.dir.display()
            ),
            "run `orc hooks trust` (or set auto_trust = true in ~/.orc/orc.toml for new groves)",
        )),
        Err(e) => checks.push(fail("trust", format!("{who}: {}", e.message), e.hint.unwrap_or_else(|| "fix the file by hand".into()))),
    }
}

/// Each configured agent's command is installed; its version is shown.
fn agent_checks(s: &Session, checks: &mut Vec<Check>, extra: &[Profile]) {
    let mut profiles: Vec<Profile> = Vec::new();
    let mut push = |p: Profile| {
        if !profiles.iter().any(|q| q.command == p.command) {
            profiles.push(p);
        }
    };
    match Profile::for_imp(&s.settings, None) {
        Ok(p) => push(p),
        Err(e) => checks.push(fail("agent", e.message, e.hint.unwrap_or_default())),
    }
    match Profile::for_deputy(&s.settings) {
        Ok(p) => push(p),
        Err(e) => checks.push(fail("agent", e.message, e.hint.unwrap_or_default())),
    }
    for p in extra {
        push(p.clone());
    }
    for p in profiles {
        match p.program() {
            Err(e) => checks.push(fail("agent", e.message, e.hint.unwrap_or_default())),
            Ok(program) if p.kind == AgentKind::Plain => {
                checks.push(pass("agent", format!("{} ({})", p.name, program.display())))
            }
            Ok(program) => {
                let version = agent_version(&program);
                checks.push(pass(
                    "agent",
                    format!(
                        "{} {} ({}): {}",
                        p.kind,
                        version.unwrap_or_else(|| "(version unknown)".into()),
                        p.name,
                        program.display()
                    ),
                ));
            }
        }
    }
}

/// What `PROGRAM --version` prints first, within 10 seconds.
fn agent_version(program: &Path) -> Option<String> {
    let mut child = std::process::Command::new(program)
        .arg("--version")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .ok()?;
    let start = std::time::Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if start.elapsed() < std::time::Duration::from_secs(10) => {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    }
    let mut text = String::new();
    use std::io::Read;
    child.stdout.take()?.read_to_string(&mut text).ok()?;
    text.lines()
        .next()
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
}
