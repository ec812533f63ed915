//! Claude Code: the settings orc installs in a grove or mission workspace
//! (`.claude/settings.local.json`: hooks and permissions), the checks of
//! that file against what Claude Code accepts, and workspace trust in
//! Claude Code's own state file (`~/.claude.json`).
//!
//! What Claude Code 2.1 does, which this module follows (checked with the
//! real binary, see spec section 14):
//! - Hooks and permission rules of a project load only once the workspace
//!   is trusted; trust is `projects[<path>].hasTrustDialogAccepted` in
//!   `~/.claude.json` (or `$CLAUDE_CONFIG_DIR/.claude.json`). Claude Code
//!   looks at the entry of the main repository's root and at every entry
//!   from the directory up to its git (or worktree) root; outside git, at
//!   every ancestor.
//! - It writes that file itself while it runs, under a `proper-lockfile`
//!   lock (the directory `<file>.lock`), and re-reads it when another
//!   process changed it. orc takes the same lock, re-reads, changes only
//!   its keys, and writes atomically.
//! - A hook entry it does not accept (an unknown event or `type`) is
//!   skipped with a "Settings Warning" that waits for a keypress at start,
//!   and a settings file with a schema error is skipped whole: either
//!   stalls an unattended agent, so orc reports both.
//! - Its default permission mode (`auto`) asks the model provider's server
//!   to check actions; behind a gateway that check cannot run. orc sets
//!   `acceptEdits`, where allow rules apply by themselves.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::{Map, Value, json};

use super::profile::{AgentRole, Profile};
use crate::error::{Error, Result};
use crate::model::decode;
use crate::store::fsio::{self, ReadError};

/// The settings file orc writes, relative to a workspace or grove.
pub const SETTINGS: &str = ".claude/settings.local.json";

/// The hooks orc installs, with their matchers. Each runs
/// `orc hook <event>`, which records the agent's state in
/// `.orc/agent.json`; SessionStart also prints the agent's context and
/// UserPromptSubmit its unread mail.
pub const HOOKS: [(&str, Option<&str>); 7] = [
    ("SessionStart", Some("startup|resume|clear|compact")),
    ("UserPromptSubmit", None),
    ("PostToolUse", None),
    ("PermissionRequest", None),
    ("Notification", None),
    ("Stop", None),
    ("SessionEnd", None),
];

/// Hook events Claude Code 2.1 accepts.
pub const EVENTS: [&str; 34] = [
    "PreToolUse",
    "PostToolUse",
    "PostToolUseFailure",
    "PostToolBatch",
    "Notification",
    "UserPromptSubmit",
    "UserPromptExpansion",
    "SessionStart",
    "SessionEnd",
    "Stop",
    "StopFailure",
    "SubagentStart",
    "SubagentStop",
    "PreCompact",
    "PostCompact",
    "PreModelSwitch",
    "PostModelSwitch",
    "PermissionRequest",
    "PermissionDenied",
    "Setup",
    "TeammateIdle",
    "TaskCreated",
    "TaskCompleted",
    "Elicitation",
    "ElicitationResult",
    "ConfigChange",
    "WorktreeCreate",
    "WorktreeRemove",
    "InstructionsLoaded",
    "CwdChanged",
    "FileChanged",
    "DirectoryAdded",
    "MessageDisplay",
    "PreSkillShellCommand",
];

/// Hook types Claude Code 2.1 accepts.
pub const HOOK_TYPES: [&str; 5] = ["command", "prompt", "agent", "http", "mcp_tool"];

/// Permission modes Claude Code 2.1 accepts in `permissions.defaultMode`.
pub const MODES: [&str; 6] = [
    "acceptEdits",
    "auto",
    "bypassPermissions",
    "default",
    "dontAsk",
    "plan",
];

/// The mode orc sets, and the modes it leaves alone because allow rules
/// apply in them without the provider's server.
pub const MODE: &str = "acceptEdits";
const LOCAL_MODES: [&str; 3] = ["acceptEdits", "default", "dontAsk"];

/// The permission rules orc wants for `role`: `orc` (all of it), and for
/// an IMP reading and editing its grove and `git add`/`git commit`; then
/// the profile's own.
pub fn rules(role: AgentRole, profile: &Profile, orc: &Path) -> Vec<String> {
    let mut out = vec!["Bash(orc *)".to_string()];
    let path = orc.display().to_string();
    if path != "orc" && !path.contains(char::is_whitespace) {
        out.push(format!("Bash({path} *)"));
    }
    if role == AgentRole::Imp {
        out.extend(
            [
                "Read(./**)",
                "Edit(./**)",
                "Bash(git add *)",
                "Bash(git commit *)",
            ]
            .map(str::to_string),
        );
    }
    for r in &profile.allow {
        if !out.contains(r) {
            out.push(r.clone());
        }
    }
    out
}

/// The hook command for `event`.
pub fn hook_command(orc: &Path, event: &str) -> String {
    super::hooks::command(orc, &format!("hook {event}"))
}

/// Whether a hook command is orc's for `event`: `orc hook <event>` with any
/// orc binary, or what older orc versions installed.
fn is_orc_hook(command: &str, event: &str) -> bool {
    let legacy = match event {
        "SessionStart" => Some("prime --hook"),
        "UserPromptSubmit" => Some("mail check --hook"),
        _ => None,
    };
    super::hooks::is_orc_command(command, &format!("hook {event}"))
        || legacy.is_some_and(|args| super::hooks::is_orc_command(command, args))
}

/// One thing orc installs (or checks) in the settings file.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Item {
    /// `hook`, `permission`, `mode` or `invalid` (an entry Claude Code
    /// rejects, orc's or not).
    pub kind: &'static str,
    /// The hook event, the rule, `defaultMode`, or the JSON path.
    pub name: String,
    /// `installed`, `missing`, `drifted` or `invalid`.
    pub state: &'static str,
    pub found: Option<String>,
    pub expected: Option<String>,
}

/// Reads a JSON settings file as an object (absent: empty).
pub fn read_object(path: &Path) -> Result<Map<String, Value>> {
    match fsio::read_regular(path) {
        Ok(bytes) => match decode::decode::<Value>(&bytes)
            .map_err(|e| Error::invalid(format!("{}: {e}", path.display())))?
        {
            Value::Object(map) => Ok(map),
            _ => Err(Error::invalid(format!(
                "{}: expected a JSON object (Claude Code settings)",
                path.display()
            ))),
        },
        Err(ReadError::Missing) => Ok(Map::new()),
        Err(e) => Err(e.into_error(path)),
    }
}

fn write_object(path: &Path, map: Map<String, Value>) -> Result<()> {
    if let Some(parent) = path.parent() {
        fsio::create_dir_all(parent)?;
    }
    let mut bytes = serde_json::to_vec_pretty(&Value::Object(map)).expect("JSON serialises");
    bytes.push(b'\n');
    fsio::write_atomic(path, &bytes)
}

/// The entries of `settings` Claude Code would reject: unknown hook events
/// and types, malformed entries, an unknown permission mode.
pub fn invalid_entries(settings: &Map<String, Value>) -> Vec<Item> {
    let mut out = Vec::new();
    let mut bad = |name: String, found: &Value, expected: &str| {
        out.push(Item {
            kind: "invalid",
            name,
            state: "invalid",
            found: Some(found.to_string()),
            expected: Some(expected.to_string()),
        })
    };
    if let Some(hooks) = settings.get("hooks") {
        match hooks {
            Value::Object(events) => {
                for (event, entries) in events {
                    let at = format!("hooks.{event}");
                    if !EVENTS.contains(&event.as_str()) {
                        bad(
                            at,
                            &Value::String(event.clone()),
                            "a hook event Claude Code knows",
                        );
                        continue;
                    }
                    let Value::Array(entries) = entries else {
                        bad(at, entries, "a list of entries");
                        continue;
                    };
                    for (i, e) in entries.iter().enumerate() {
                        let at = format!("{at}[{i}]");
                        if let Some(m) = e.get("matcher")
                            && !m.is_string()
                        {
                            bad(format!("{at}.matcher"), m, "a string");
                        }
                        let Some(Value::Array(hs)) = e.get("hooks") else {
                            bad(
                                format!("{at}.hooks"),
                                e.get("hooks").unwrap_or(&Value::Null),
                                "a list of hooks",
                            );
                            continue;
                        };
                        for (j, h) in hs.iter().enumerate() {
                            let at = format!("{at}.hooks[{j}]");
                            let ty = h.get("type").and_then(Value::as_str);
                            match ty {
                                Some(t) if HOOK_TYPES.contains(&t) => {}
                                _ => bad(
                                    format!("{at}.type"),
                                    h.get("type").unwrap_or(&Value::Null),
                                    "one of command, prompt, agent, http, mcp_tool",
                                ),
                            }
                            if ty == Some("command")
                                && !h.get("command").is_some_and(Value::is_string)
                            {
                                bad(
                                    format!("{at}.command"),
                                    h.get("command").unwrap_or(&Value::Null),
                                    "the command to run, a string",
                                );
                            }
                        }
                    }
                }
            }
            other => bad("hooks".into(), other, "an object of hook events"),
        }
    }
    if let Some(mode) = settings
        .get("permissions")
        .and_then(|p| p.get("defaultMode"))
        && !mode.as_str().is_some_and(|m| MODES.contains(&m))
    {
        bad(
            "permissions.defaultMode".into(),
            mode,
            "one of acceptEdits, auto, bypassPermissions, default, dontAsk, plan",
        );
    }
    out
}

/// What orc's settings in `dir` look like against what it would write.
pub fn status(dir: &Path, role: AgentRole, profile: &Profile, orc: &Path) -> Result<Vec<Item>> {
    let settings = read_object(&dir.join(SETTINGS))?;
    let mut items = Vec::new();
    for (event, matcher) in HOOKS {
        let expected = hook_command(orc, event);
        let mut found = None;
        let mut exact = false;
        for e in settings
            .get("hooks")
            .and_then(|h| h.get(event))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            for h in e
                .get("hooks")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(cmd) = h.get("command").and_then(Value::as_str)
                    && is_orc_hook(cmd, event)
                {
                    let same = e.get("matcher").and_then(Value::as_str) == matcher
                        && h.get("type").and_then(Value::as_str) == Some("command");
                    exact |= cmd == expected && same;
                    found = Some(cmd.to_string());
                }
            }
        }
        let state = match (exact, &found) {
            (true, _) => "installed",
            (false, Some(_)) => "drifted",
            (false, None) => "missing",
        };
        items.push(Item {
            kind: "hook",
            name: event.to_string(),
            state,
            found: if exact { None } else { found },
            expected: Some(expected),
        });
    }
    let allow: Vec<&str> = settings
        .get("permissions")
        .and_then(|p| p.get("allow"))
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    for rule in rules(role, profile, orc) {
        let state = if allow.contains(&rule.as_str()) {
            "installed"
        } else {
            "missing"
        };
        items.push(Item {
            kind: "permission",
            name: rule,
            state,
            found: None,
            expected: None,
        });
    }
    let mode = settings
        .get("permissions")
        .and_then(|p| p.get("defaultMode"))
        .and_then(Value::as_str);
    items.push(Item {
        kind: "mode",
        name: "defaultMode".into(),
        state: match mode {
            Some(m) if LOCAL_MODES.contains(&m) => "installed",
            Some(_) => "drifted",
            None => "missing",
        },
        found: mode.map(str::to_string),
        expected: Some(MODE.into()),
    });
    items.extend(invalid_entries(&settings));
    Ok(items)
}

/// Installs (or repairs) orc's hooks and permissions in `dir`'s settings,
/// keeping every other setting, hook and rule. Returns whether the file
/// changed. Entries of others that Claude Code rejects are left as they
/// are and reported by [`status`].
pub fn install(dir: &Path, role: AgentRole, profile: &Profile, orc: &Path) -> Result<bool> {
    let path = dir.join(SETTINGS);
    let mut settings = read_object(&path)?;
    let before = settings.clone();
    let not = |what: &str, is: &str| {
        Error::invalid(format!(
            "{}: `{what}` is not {is}; fix it by hand",
            path.display()
        ))
    };
    {
        let hooks = settings
            .entry("hooks")
            .or_insert_with(|| Value::Object(Map::new()));
        let Value::Object(hooks) = hooks else {
            return Err(not("hooks", "an object"));
        };
        for (event, matcher) in HOOKS {
            let list = hooks
                .entry(event)
                .or_insert_with(|| Value::Array(Vec::new()));
            let Value::Array(list) = list else {
                return Err(not(&format!("hooks.{event}"), "a list"));
            };
            // Drop orc's own entries (an old binary, an old command) and
            // keep the rest.
            list.retain(|e| {
                !e.get("hooks").and_then(Value::as_array).is_some_and(|hs| {
                    hs.iter().any(|h| {
                        h.get("command")
                            .and_then(Value::as_str)
                            .is_some_and(|c| is_orc_hook(c, event))
                    })
                })
            });
            let mut e = Map::new();
            if let Some(m) = matcher {
                e.insert("matcher".into(), Value::String(m.into()));
            }
            e.insert(
                "hooks".into(),
                json!([{ "type": "command", "command": hook_command(orc, event) }]),
            );
            list.push(Value::Object(e));
        }
    }
    let permissions = settings
        .entry("permissions")
        .or_insert_with(|| Value::Object(Map::new()));
    let Value::Object(permissions) = permissions else {
        return Err(not("permissions", "an object"));
    };
    let mode_ok = permissions
        .get("defaultMode")
        .and_then(Value::as_str)
        .is_some_and(|m| LOCAL_MODES.contains(&m));
    if !mode_ok {
        permissions.insert("defaultMode".into(), Value::String(MODE.into()));
    }
    let allow = permissions
        .entry("allow")
        .or_insert_with(|| Value::Array(Vec::new()));
    let Value::Array(allow) = allow else {
        return Err(not("permissions.allow", "a list"));
    };
    // Rules naming another orc binary (an old install) go.
    let orc_path = orc.display().to_string();
    allow.retain(|r| {
        !r.as_str().is_some_and(|r| {
            r.starts_with("Bash(/") && r.ends_with("/orc *)") && r != format!("Bash({orc_path} *)")
        })
    });
    for rule in rules(role, profile, orc) {
        if !allow.iter().any(|r| r.as_str() == Some(&rule)) {
            allow.push(Value::String(rule));
        }
    }
    if settings == before {
        return Ok(false);
    }
    write_object(&path, settings)?;
    Ok(true)
}

// ---------------------------------------------------------------------
// Trust, in Claude Code's state file.

/// Claude Code's state file: `$CLAUDE_CONFIG_DIR/.claude.json`, else
/// `~/.claude.json`.
pub fn state_file() -> Result<PathBuf> {
    match std::env::var_os("CLAUDE_CONFIG_DIR") {
        Some(dir) if !dir.is_empty() => Ok(PathBuf::from(dir).join(".claude.json")),
        _ => Ok(crate::store::settings::home_dir()?.join(".claude.json")),
    }
}

/// Where Claude Code looks for the trust of a directory.
#[derive(Debug, Clone)]
pub struct TrustScope {
    /// The directory the agent runs in.
    pub dir: PathBuf,
    /// The top of the git worktree holding it, if any.
    pub worktree_top: Option<PathBuf>,
    /// The main worktree's root of that repository, if any.
    pub main_root: Option<PathBuf>,
}

impl TrustScope {
    /// The scope of `dir`, from git's view of it.
    pub fn of(dir: &Path) -> TrustScope {
        let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
        let repo = gix::discover(&dir).ok();
        let worktree_top = repo
            .as_ref()
            .and_then(|r| r.workdir().map(Path::to_path_buf))
            .map(|p| p.canonicalize().unwrap_or(p));
        let main_root = repo.as_ref().and_then(|r| {
            let common = r.common_dir().canonicalize().ok()?;
            (common.file_name()? == ".git").then(|| common.parent().map(Path::to_path_buf))?
        });
        TrustScope {
            dir,
            worktree_top,
            main_root,
        }
    }

    /// The project keys Claude Code consults, nearest first.
    fn keys(&self) -> Vec<PathBuf> {
        let mut out = Vec::new();
        let mut at = Some(self.dir.as_path());
        while let Some(d) = at {
            out.push(d.to_path_buf());
            if self.worktree_top.as_deref() == Some(d) {
                break;
            }
            at = d.parent();
        }
        if let Some(root) = &self.main_root
            && !out.contains(root)
        {
            out.push(root.clone());
        }
        out
    }
}

/// Whether Claude Code trusts `scope`, given its state file's content.
pub fn trusted_in(state: &Map<String, Value>, scope: &TrustScope) -> bool {
    let Some(projects) = state.get("projects").and_then(Value::as_object) else {
        return false;
    };
    scope.keys().iter().any(|k| {
        projects
            .get(&k.display().to_string())
            .and_then(|p| p.get("hasTrustDialogAccepted"))
            .and_then(Value::as_bool)
            == Some(true)
    })
}

/// Reads Claude Code's state file (absent: empty). It may be large; it is
/// not one of orc's files, so orc's 1 MiB limit does not apply.
pub fn read_state(path: &Path) -> Result<Map<String, Value>> {
    match std::fs::read(path) {
        Ok(bytes) if bytes.iter().all(u8::is_ascii_whitespace) => Ok(Map::new()),
        Ok(bytes) => match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Object(map)) => Ok(map),
            Ok(_) => Err(Error::invalid(format!(
                "{}: expected a JSON object (Claude Code's state)",
                path.display()
            ))),
            Err(e) => Err(Error::invalid(format!(
                "{}: not valid JSON ({e}); orc leaves it alone",
                path.display()
            ))
            .with_hint("start `claude` once to let it repair the file, or fix it by hand")),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Map::new()),
        Err(e) => Err(Error::io("cannot read", path, e)),
    }
}

/// How long a `proper-lockfile` lock may go without being refreshed before
/// its holder is taken for dead (the library's default, which Claude Code
/// uses).
const STALE_LOCK: Duration = Duration::from_secs(10);

/// Holds Claude Code's lock on its state file (the directory
/// `<file>.lock`, as `proper-lockfile` makes it) while alive.
struct StateLock(PathBuf);

impl StateLock {
    fn acquire(file: &Path, timeout: Duration) -> Result<StateLock> {
        let lock = PathBuf::from(format!("{}.lock", file.display()));
        let start = Instant::now();
        loop {
            match std::fs::create_dir(&lock) {
                Ok(()) => return Ok(StateLock(lock)),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    // proper-lockfile's holder refreshes the lock's mtime;
                    // one that stopped doing so long ago is dead, and the
                    // library's own rule is to take its lock over.
                    let stale = std::fs::metadata(&lock)
                        .and_then(|m| m.modified())
                        .ok()
                        .and_then(|t| t.elapsed().ok())
                        .is_some_and(|age| age > STALE_LOCK);
                    if stale {
                        let _ = std::fs::remove_dir(&lock);
                        continue;
                    }
                    if start.elapsed() > timeout {
                        return Err(Error::busy(format!(
                            "{} is held by Claude Code (or another program) for more than {}s",
                            lock.display(),
                            timeout.as_secs()
                        ))
                        .with_hint("try again; if no claude is running and it stays, remove that directory"));
                    }
                    std::thread::sleep(Duration::from_millis(25));
                }
                Err(e) => return Err(Error::io("cannot lock", &lock, e)),
            }
        }
    }
}

impl Drop for StateLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir(&self.0);
    }
}

/// Sets `projects[<dir>].hasTrustDialogAccepted` for each of `dirs` to the
/// given value (`None`: removes the key, as if it had never been set), in
/// Claude Code's state file, under its lock, keeping everything else.
/// Returns, per directory, the value it had before.
pub fn set_trust(
    file: &Path,
    dirs: &[(PathBuf, Option<bool>)],
    timeout: Duration,
) -> Result<Vec<Option<bool>>> {
    if let Some(parent) = file.parent() {
        fsio::create_dir_all(parent)?;
    }
    let _lock = StateLock::acquire(file, timeout)?;
    let mut state = read_state(file)?;
    let before = state.clone();
    let projects = state
        .entry("projects")
        .or_insert_with(|| Value::Object(Map::new()));
    let Value::Object(projects) = projects else {
        return Err(Error::invalid(format!(
            "{}: `projects` is not an object; orc leaves it alone",
            file.display()
        )));
    };
    let mut previous = Vec::new();
    for (dir, value) in dirs {
        let key = dir.display().to_string();
        let entry = projects
            .entry(key)
            .or_insert_with(|| Value::Object(Map::new()));
        let Value::Object(entry) = entry else {
            previous.push(None);
            continue;
        };
        previous.push(entry.get("hasTrustDialogAccepted").and_then(Value::as_bool));
        match value {
            Some(v) => {
                entry.insert("hasTrustDialogAccepted".into(), Value::Bool(*v));
            }
            None => {
                entry.remove("hasTrustDialogAccepted");
            }
        }
    }
    // An entry orc made that holds nothing else goes again.
    projects.retain(|_, v| v.as_object().is_none_or(|o| !o.is_empty()));
    if state != before {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(file)
            .map(|m| m.permissions().mode() & 0o777)
            .unwrap_or(0o600);
        let mut bytes = serde_json::to_vec_pretty(&Value::Object(state)).expect("JSON serialises");
        bytes.push(b'\n');
        fsio::write_atomic_mode(file, &bytes, mode)?;
    }
    Ok(previous)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_orc_hooks_old_and_new() {
        assert!(is_orc_hook("/usr/bin/orc hook Stop", "Stop"));
        assert!(is_orc_hook("'/a b/orc' hook Stop", "Stop"));
        assert!(is_orc_hook("/x/orc prime --hook", "SessionStart"));
        assert!(!is_orc_hook("/x/orc prime --hook", "Stop"));
        assert!(!is_orc_hook("/x/other hook Stop", "Stop"));
    }

    #[test]
    fn finds_what_claude_code_rejects() {
        let settings: Map<String, Value> = serde_json::from_str(
            r#"{"hooks": {"UserPromptSubmit": [{"hooks": [{"type": "cmd", "command": "x"}]}],
                          "FooBar": [],
                          "Stop": [{"hooks": [{"type": "command"}]}]},
                "permissions": {"defaultMode": "bogus"}}"#,
        )
        .unwrap();
        let names: Vec<String> = invalid_entries(&settings)
            .into_iter()
            .map(|i| i.name)
            .collect();
        assert_eq!(
            names,
            [
                "hooks.UserPromptSubmit[0].hooks[0].type",
                "hooks.FooBar",
                "hooks.Stop[0].hooks[0].command",
                "permissions.defaultMode"
            ]
        );
    }

    #[test]
    fn trust_follows_claude_codes_lookup() {
        let scope = TrustScope {
            dir: "/w/repo-wt/sub".into(),
            worktree_top: Some("/w/repo-wt".into()),
            main_root: Some("/w/repo".into()),
        };
        let with = |key: &str| -> Map<String, Value> {
            serde_json::from_value(json!({"projects": {key: {"hasTrustDialogAccepted": true}}}))
                .unwrap()
        };
        assert!(trusted_in(&with("/w/repo-wt/sub"), &scope));
        assert!(trusted_in(&with("/w/repo-wt"), &scope));
        assert!(trusted_in(&with("/w/repo"), &scope));
        assert!(
            !trusted_in(&with("/w"), &scope),
            "a parent above the worktree does not count"
        );
        let outside = TrustScope {
            dir: "/m/missions/M1".into(),
            worktree_top: None,
            main_root: None,
        };
        assert!(
            trusted_in(&with("/m"), &outside),
            "outside git any ancestor counts"
        );
    }
}
