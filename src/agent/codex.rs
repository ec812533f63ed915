//! The Codex CLI: what orc installs for it and how it runs it.
//!
//! Codex has no project settings file orc could merge into, and its hooks
//! run only after a person approved their exact content, so orc reaches it
//! in the ways that need nobody (checked with Codex 0.171, spec section 14):
//! - its instruction file, `AGENTS.md` in the grove or workspace (hidden
//!   from `git status` through `info/exclude`; a project's own `AGENTS.md`
//!   is never overwritten);
//! - its launch arguments (`-c key=value`): no approval prompts, the
//!   workspace-write sandbox with the repository's git directory and the
//!   mission workspace writable (so `orc`, `git add` and `git commit`
//!   work), no paste-burst detection (which turns a typed Enter into a
//!   newline), no update prompt, no login shell (it would reset `PATH`),
//!   and `notify` calling `orc hook` after each turn;
//! - trust, `[projects."<dir>"] trust_level = "trusted"` in
//!   `$CODEX_HOME/config.toml`, edited as text so that the user's comments
//!   and layout stay;
//! - `prefix_rule`s in `$CODEX_HOME/rules/orc-<profile>.rules` for `git
//!   add` and `git commit` (the sandbox keeps a worktree's git directory
//!   read-only) and the profile's `allow` entries. Codex reads rules only
//!   there, so they apply to every Codex session of the user.

use std::path::{Path, PathBuf};

use super::claude::Item;
use super::profile::{AgentRole, Profile};
use crate::error::{Error, Result};
use crate::store::fsio::{self, ReadError};

/// The instruction file orc writes.
pub const INSTRUCTIONS: &str = "AGENTS.md";
/// The first line of an instruction file orc wrote.
const MARKER: &str = "<!-- written by orc (orc hooks install --agent codex); orc rewrites it -->";
/// The `info/exclude` pattern that hides orc's instruction file.
pub const EXCLUDE: &str = "/AGENTS.md";

/// `$CODEX_HOME`, else `~/.codex`.
pub fn home() -> Result<PathBuf> {
    match std::env::var_os("CODEX_HOME") {
        Some(h) if !h.is_empty() => Ok(PathBuf::from(h)),
        _ => Ok(crate::store::settings::home_dir()?.join(".codex")),
    }
}

/// The rules file of a profile: `$CODEX_HOME/rules/orc-<profile>.rules`.
fn rules_file(profile: &Profile) -> Result<PathBuf> {
    let name: String = profile
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    Ok(home()?.join("rules").join(format!("orc-{name}.rules")))
}

/// The files orc writes for Codex in `dir` (and in `$CODEX_HOME`).
pub fn files(dir: &Path, profile: &Profile) -> Vec<PathBuf> {
    let mut out = vec![dir.join(INSTRUCTIONS)];
    if let Ok(r) = rules_file(profile) {
        out.push(r);
    }
    out
}

/// What orc tells a Codex agent once and for all; what changes (the work)
/// it reads from `.orc/` when nudged.
pub fn instructions(role: AgentRole) -> String {
    let body = match role {
        AgentRole::Imp => {
            "You are an implementation agent (IMP) coordinated by orc, working in this git \
worktree (a grove) on its own branch.\n\n\
- Your work is in `.orc/assigned-work.json`; `orc prime` prints it with how to report. \
A line starting with `orc:` typed into your input is a notification from orc: act on it.\n\
- Start the next work order with `orc work start`, do the work here, commit it with \
`git add` and `git commit` on this branch, then report `orc work done --summary \"...\"` \
(or `orc work block --reason \"...\"`, `orc work review`).\n\
- Work you hand in with commits goes to review and is done once it has landed on the \
mission's integration branch; work sent back returns to you with the reason in its notes.\n\
- A review work order (it has `reviews`) asks you to review another's work: `orc review WO`, \
then `orc approve WO` or `orc reject WO --reason \"...\"`.\n\
- Then take the next work order of the assignment the same way until none is left.\n\
- Ask the deputy with `orc mail send --to deputy \"...\"`; read answers with `orc mail inbox`.\n"
        }
        AgentRole::Deputy => {
            "You are the deputy of an orc mission, working in its mission workspace.\n\n\
- `orc prime` prints the mission: work by status, ready work, groves and questions.\n\
- A line starting with `orc:` typed into your input is a notification from orc: act on it.\n\
- Split the mission with `orc wo create`, assign with `orc assign WO --grove G` or \
`orc discover --auto-claim`, answer IMPs with `orc mail send --to GROVE \"...\"`.\n"
        }
    };
    format!("{MARKER}\n# orc\n\n{body}")
}

/// The `-c` arguments orc adds to the Codex command line for an agent
/// whose writable places are `writable` (its directory is writable anyway).
pub fn launch_args(orc: &Path, writable: &[PathBuf]) -> Vec<String> {
    let quote = |s: &str| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""));
    let roots: Vec<String> = writable
        .iter()
        .map(|p| quote(&p.display().to_string()))
        .collect();
    let notify = [
        orc.display().to_string(),
        "hook".into(),
        "Notify".into(),
        "--agent".into(),
        "codex".into(),
    ];
    let notify: Vec<String> = notify.iter().map(|w| quote(w)).collect();
    let mut out = Vec::new();
    for kv in [
        "approval_policy=\"never\"".to_string(),
        "sandbox_mode=\"workspace-write\"".to_string(),
        format!(
            "sandbox_workspace_write.writable_roots=[{}]",
            roots.join(",")
        ),
        "disable_paste_burst=true".to_string(),
        "check_for_update_on_startup=false".to_string(),
        // A login shell would reset PATH from /etc/profile, and `orc`
        // (first on the pane's PATH) would not be found.
        "allow_login_shell=false".to_string(),
        format!("notify=[{}]", notify.join(",")),
    ] {
        out.push("-c".to_string());
        out.push(kv);
    }
    out
}

fn read_text(path: &Path) -> Result<Option<String>> {
    match fsio::read_regular(path) {
        Ok(bytes) => Ok(Some(String::from_utf8_lossy(&bytes).into_owned())),
        Err(ReadError::Missing) => Ok(None),
        Err(e) => Err(e.into_error(path)),
    }
}

/// The prefix rules of a profile: `git add` and `git commit` (Codex's
/// sandbox keeps a worktree's git directory read-only, so they must run
/// outside it; a rule lets them without asking), then the profile's own.
fn rules(profile: &Profile) -> String {
    let mut out = String::from(
        "# written by orc (orc hooks install --agent codex) from its own rules and\n\
         # the profile's `allow` in orc.toml; orc rewrites it\n",
    );
    let mut prefixes: Vec<String> = vec!["git add".into(), "git commit".into()];
    prefixes.extend(profile.allow.iter().cloned());
    for prefix in prefixes {
        let words: Vec<String> = prefix
            .split_whitespace()
            .map(|w| format!("{w:?}"))
            .collect();
        out.push_str(&format!(
            "prefix_rule(pattern=[{}], decision=\"allow\")\n",
            words.join(", ")
        ));
    }
    out
}

pub fn status(dir: &Path, role: AgentRole, profile: &Profile, _orc: &Path) -> Result<Vec<Item>> {
    let mut items = Vec::new();
    let path = dir.join(INSTRUCTIONS);
    let expected = instructions(role);
    let found = read_text(&path)?;
    let state = match &found {
        None => "missing",
        Some(t) if *t == expected => "installed",
        Some(t) if t.starts_with(MARKER) => "drifted",
        // The project's own file: orc leaves it, and its agent lacks orc's
        // instructions.
        Some(_) => "invalid",
    };
    items.push(Item {
        kind: "instructions",
        name: INSTRUCTIONS.into(),
        state,
        found: None,
        expected: (state == "invalid")
            .then(|| "an AGENTS.md written by orc (this one is the project's)".into()),
    });
    {
        let want = rules(profile);
        let file = rules_file(profile)?;
        let have = read_text(&file)?;
        items.push(Item {
            kind: "permission",
            name: file.display().to_string(),
            state: match have {
                Some(h) if h == want => "installed",
                Some(_) => "drifted",
                None => "missing",
            },
            found: None,
            expected: None,
        });
    }
    Ok(items)
}

pub fn install(dir: &Path, role: AgentRole, profile: &Profile, _orc: &Path) -> Result<bool> {
    let path = dir.join(INSTRUCTIONS);
    let want = instructions(role);
    let mut changed = false;
    match read_text(&path)? {
        Some(t) if t == want => {}
        Some(t) if !t.starts_with(MARKER) => {
            return Err(Error::conflict(format!(
                "{}: the project's own instruction file; orc does not overwrite it",
                path.display()
            ))
            .with_hint("add orc's instructions to it by hand (`orc hooks status` shows them missing until then)"));
        }
        _ => {
            fsio::write_atomic(&path, want.as_bytes())?;
            changed = true;
        }
    }
    {
        let want = rules(profile);
        let file = rules_file(profile)?;
        if read_text(&file)?.as_deref() != Some(&want) {
            if let Some(parent) = file.parent() {
                fsio::create_dir_all(parent)?;
            }
            fsio::write_atomic(&file, want.as_bytes())?;
            changed = true;
        }
    }
    Ok(changed)
}

// ---------------------------------------------------------------------
// Trust, in `$CODEX_HOME/config.toml`.

/// Codex's user configuration.
pub fn config_file() -> Result<PathBuf> {
    Ok(home()?.join("config.toml"))
}

fn header(dir: &Path) -> String {
    let key = dir.display().to_string();
    format!(
        "[projects.\"{}\"]",
        key.replace('\\', "\\\\").replace('"', "\\\"")
    )
}

/// The trust level Codex has for `dir` in `text` (its config).
pub fn trust_level(text: &str, dir: &Path) -> Option<String> {
    let value: toml::Table = toml::from_str(text).ok()?;
    value
        .get("projects")?
        .get(dir.display().to_string().as_str())?
        .get("trust_level")?
        .as_str()
        .map(str::to_string)
}

/// Whether Codex trusts `dir`: an entry for the directory, or for the main
/// repository's root of the worktree it is in (a parent does not count).
pub fn trusted_in(text: &str, scope: &super::claude::TrustScope) -> bool {
    let mut keys = vec![scope.dir.clone()];
    keys.extend(scope.worktree_top.clone());
    keys.extend(scope.main_root.clone());
    keys.iter()
        .any(|k| trust_level(text, k).as_deref() == Some("trusted"))
}

/// `text` with `dir` trusted (`Some(level)`) or orc's trust line removed
/// (`None`), edited as text: other tables, comments and layout stay. The
/// result is parsed back to check it.
pub fn edit_trust(text: &str, dir: &Path, level: Option<&str>) -> Result<String> {
    let head = header(dir);
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.iter().position(|l| l.trim() == head);
    let mut out: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    match (start, level) {
        (None, None) => return Ok(text.to_string()),
        (None, Some(level)) => {
            if !out.is_empty() && !out.last().is_some_and(|l| l.trim().is_empty()) {
                out.push(String::new());
            }
            out.push(head.clone());
            out.push(format!("trust_level = \"{level}\""));
        }
        (Some(at), level) => {
            let end = (at + 1..lines.len())
                .find(|&i| lines[i].trim_start().starts_with('['))
                .unwrap_or(lines.len());
            let line = (at + 1..end).find(|&i| {
                lines[i]
                    .split('=')
                    .next()
                    .is_some_and(|k| k.trim() == "trust_level")
            });
            match (line, level) {
                (Some(i), Some(level)) => out[i] = format!("trust_level = \"{level}\""),
                (None, Some(level)) => out.insert(at + 1, format!("trust_level = \"{level}\"")),
                (Some(i), None) => {
                    out.remove(i);
                    let rest_empty = (at + 1..end - 1).all(|j| out[j].trim().is_empty());
                    if rest_empty {
                        out.drain(at..end - 1);
                        while out.last().is_some_and(|l| l.trim().is_empty()) {
                            out.pop();
                        }
                    }
                }
                (None, None) => {}
            }
        }
    }
    let mut result = out.join("\n");
    if !result.is_empty() {
        result.push('\n');
    }
    let parsed = trust_level(&result, dir);
    if parsed.as_deref() != level || toml::from_str::<toml::Table>(&result).is_err() {
        return Err(Error::invalid(
            "cannot record trust in Codex's config.toml without breaking it; orc left it alone",
        )
        .with_hint("add [projects.\"<dir>\"] trust_level = \"trusted\" by hand"));
    }
    Ok(result)
}

/// Sets or removes trust for `dirs` in Codex's config, keeping the rest.
/// Returns each directory's trust level before.
pub fn set_trust(file: &Path, dirs: &[(PathBuf, Option<String>)]) -> Result<Vec<Option<String>>> {
    for _ in 0..20 {
        let before = match std::fs::read_to_string(file) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(Error::io("cannot read", file, e)),
        };
        if !before.trim().is_empty() && toml::from_str::<toml::Table>(&before).is_err() {
            return Err(Error::invalid(format!(
                "{}: not valid TOML; orc leaves it alone",
                file.display()
            )));
        }
        let mut text = before.clone();
        let mut previous = Vec::new();
        for (dir, level) in dirs {
            previous.push(trust_level(&text, dir));
            text = edit_trust(&text, dir, level.as_deref())?;
        }
        if text == before {
            return Ok(previous);
        }
        if let Some(parent) = file.parent() {
            fsio::create_dir_all(parent)?;
        }
        // Codex may save its config at any moment (it takes no lock):
        // write only over what was read.
        match fsio::write_atomic_swap(
            file,
            text.as_bytes(),
            (!before.is_empty() || file.exists()).then_some(before.as_bytes()),
        )? {
            fsio::Swap::Written => return Ok(previous),
            _ => std::thread::sleep(std::time::Duration::from_millis(10)),
        }
    }
    Err(Error::busy(format!(
        "{} keeps changing; try again",
        file.display()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trust_is_added_and_removed_as_text() {
        let text = "# mine\nmodel = \"x\"\n\n[projects.\"/a\"]\ntrust_level = \"untrusted\"\n";
        let dir = Path::new("/w/g 1");
        let added = edit_trust(text, dir, Some("trusted")).unwrap();
        assert!(added.starts_with("# mine\nmodel = \"x\"\n"), "{added}");
        assert_eq!(trust_level(&added, dir).as_deref(), Some("trusted"));
        assert_eq!(
            trust_level(&added, Path::new("/a")).as_deref(),
            Some("untrusted")
        );
        let removed = edit_trust(&added, dir, None).unwrap();
        assert_eq!(removed, text);
        let changed = edit_trust(text, Path::new("/a"), Some("trusted")).unwrap();
        assert_eq!(
            trust_level(&changed, Path::new("/a")).as_deref(),
            Some("trusted")
        );
    }

    #[test]
    fn allow_entries_become_prefix_rules() {
        let p = Profile {
            name: "codex".into(),
            kind: super::super::profile::AgentKind::Codex,
            command: vec!["codex".into()],
            allow: vec!["cargo test".into()],
        };
        let r = rules(&p);
        assert!(r.contains("prefix_rule(pattern=[\"git\", \"commit\"], decision=\"allow\")"));
        assert!(r.contains("prefix_rule(pattern=[\"cargo\", \"test\"], decision=\"allow\")"));
    }
}
