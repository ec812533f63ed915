//! Claude Code hooks: orc registers `orc prime --hook` for SessionStart (so
//! an agent learns its work when its session starts) and `orc mail check
//! --hook` for UserPromptSubmit (so unread mail reaches it), in the
//! directory's `.claude/settings.local.json`, merged with whatever else is
//! there. `orc hooks status` (and `orc doctor`) tell whether the hooks are
//! installed and whether they have drifted from what orc would write.

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::error::{Error, Result};
use crate::model::decode;
use crate::store::fsio::{self, ReadError};

/// The settings file orc writes, relative to a workspace or grove.
pub const SETTINGS: &str = ".claude/settings.local.json";

/// The hooks orc installs: (event, matcher, orc arguments).
const HOOKS: [(&str, Option<&str>, &str); 2] = [
    (
        "SessionStart",
        Some("startup|resume|clear|compact"),
        "prime --hook",
    ),
    ("UserPromptSubmit", None, "mail check --hook"),
];

/// The shell command that runs `orc <args>` with this very binary.
pub fn command(orc: &Path, args: &str) -> String {
    format!("{} {args}", shell_quote(&orc.display().to_string()))
}

/// The orc binary hooks should run: this one.
pub fn orc_binary() -> PathBuf {
    std::env::current_exe()
        .and_then(|p| p.canonicalize())
        .unwrap_or_else(|_| PathBuf::from("orc"))
}

fn shell_quote(text: &str) -> String {
    if text
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-+=:,@".contains(c))
    {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

/// Whether a hook command is one of orc's (for `args`), whatever binary
/// path it names.
fn is_orc_command(command: &str, args: &str) -> bool {
    command.ends_with(&format!(" {args}"))
        && command
            .trim_end_matches(&format!(" {args}"))
            .trim_matches('\'')
            .rsplit('/')
            .next()
            .is_some_and(|name| name == "orc")
}

fn entry(matcher: Option<&str>, command: &str) -> Value {
    let mut e = Map::new();
    if let Some(m) = matcher {
        e.insert("matcher".into(), Value::String(m.into()));
    }
    e.insert(
        "hooks".into(),
        json!([{ "type": "command", "command": command }]),
    );
    Value::Object(e)
}

/// What is installed for one hook.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct HookState {
    pub event: String,
    /// `installed`, `missing` or `drifted`.
    pub state: String,
    /// What is there now (for a drifted hook).
    pub found: Option<String>,
    pub expected: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct HooksStatus {
    pub settings: PathBuf,
    pub hooks: Vec<HookState>,
}

impl HooksStatus {
    pub fn ok(&self) -> bool {
        self.hooks.iter().all(|h| h.state == "installed")
    }
}

fn read_settings(path: &Path) -> Result<Map<String, Value>> {
    match fsio::read_regular(path) {
        Ok(bytes) => {
            let value: Value = decode::decode(&bytes)
                .map_err(|e| Error::invalid(format!("{}: {e}", path.display())))?;
            match value {
                Value::Object(map) => Ok(map),
                _ => Err(Error::invalid(format!(
                    "{}: expected a JSON object (Claude Code settings)",
                    path.display()
                ))),
            }
        }
        Err(ReadError::Missing) => Ok(Map::new()),
        Err(e) => Err(e.into_error(path)),
    }
}

/// The state of orc's hooks in `dir`'s settings.
pub fn status(dir: &Path, orc: &Path) -> Result<HooksStatus> {
    let path = dir.join(SETTINGS);
    let settings = read_settings(&path)?;
    let mut hooks = Vec::new();
    for (event, matcher, args) in HOOKS {
        let expected = command(orc, args);
        let mut found = None;
        let mut exact = false;
        if let Some(entries) = settings
            .get("hooks")
            .and_then(|h| h.get(event))
            .and_then(Value::as_array)
        {
            for e in entries {
                for h in e
                    .get("hooks")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    if let Some(cmd) = h.get("command").and_then(Value::as_str)
                        && is_orc_command(cmd, args)
                    {
                        let same_matcher = e.get("matcher").and_then(Value::as_str) == matcher;
                        exact |= cmd == expected && same_matcher;
                        found = Some(cmd.to_string());
                    }
                }
            }
        }
        let state = if exact {
            "installed"
        } else if found.is_some() {
            "drifted"
        } else {
            "missing"
        };
        hooks.push(HookState {
            event: event.into(),
            state: state.into(),
            found: if exact { None } else { found },
            expected,
        });
    }
    Ok(HooksStatus {
        settings: path,
        hooks,
    })
}

/// Installs (or repairs) orc's hooks in `dir`'s settings, keeping every
/// other setting and hook. Returns whether the file changed.
pub fn install(dir: &Path, orc: &Path) -> Result<bool> {
    let path = dir.join(SETTINGS);
    let mut settings = read_settings(&path)?;
    let before = Value::Object(settings.clone());
    let hooks = settings
        .entry("hooks")
        .or_insert_with(|| Value::Object(Map::new()));
    let Value::Object(hooks) = hooks else {
        return Err(Error::invalid(format!(
            "{}: `hooks` is not an object; fix it by hand",
            path.display()
        )));
    };
    for (event, matcher, args) in HOOKS {
        let wanted = entry(matcher, &command(orc, args));
        let list = hooks
            .entry(event)
            .or_insert_with(|| Value::Array(Vec::new()));
        let Value::Array(list) = list else {
            return Err(Error::invalid(format!(
                "{}: `hooks.{event}` is not an array; fix it by hand",
                path.display()
            )));
        };
        // Drop orc's own entries (perhaps naming an old binary), keep the rest.
        list.retain(|e| {
            !e.get("hooks").and_then(Value::as_array).is_some_and(|hs| {
                hs.iter().any(|h| {
                    h.get("command")
                        .and_then(Value::as_str)
                        .is_some_and(|c| is_orc_command(c, args))
                })
            })
        });
        list.push(wanted);
    }
    let after = Value::Object(settings);
    if after == before {
        return Ok(false);
    }
    if let Some(parent) = path.parent() {
        fsio::create_dir_all(parent)?;
    }
    let mut bytes = serde_json::to_vec_pretty(&after).expect("JSON values serialise");
    bytes.push(b'\n');
    fsio::write_atomic(&path, &bytes)?;
    Ok(true)
}

/// Claude Code's user settings, where directories are trusted.
pub fn user_settings() -> Result<PathBuf> {
    Ok(crate::store::settings::home_dir()?.join(".claude/settings.json"))
}

/// The roots Claude Code must trust (missions and worktrees), and those of
/// them missing from `permissions.additionalDirectories`.
pub fn untrusted(roots: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let settings = read_settings(&user_settings()?)?;
    let listed: Vec<String> = settings
        .get("permissions")
        .and_then(|p| p.get("additionalDirectories"))
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let home = crate::store::settings::home_dir()?;
    let expand = |s: &str| match s.strip_prefix("~/") {
        Some(rest) => home.join(rest),
        None => PathBuf::from(s),
    };
    Ok(roots
        .iter()
        .filter(|root| {
            !listed
                .iter()
                .any(|l| root.starts_with(expand(l.trim_end_matches('/'))))
        })
        .cloned()
        .collect())
}

/// Adds `roots` to `permissions.additionalDirectories` of the user's
/// Claude Code settings, keeping everything else. Returns what was added.
pub fn trust(roots: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let missing = untrusted(roots)?;
    if missing.is_empty() {
        return Ok(missing);
    }
    let path = user_settings()?;
    let mut settings = read_settings(&path)?;
    let permissions = settings
        .entry("permissions")
        .or_insert_with(|| Value::Object(Map::new()));
    let Value::Object(permissions) = permissions else {
        return Err(Error::invalid(format!(
            "{}: `permissions` is not an object; fix it by hand",
            path.display()
        )));
    };
    let dirs = permissions
        .entry("additionalDirectories")
        .or_insert_with(|| Value::Array(Vec::new()));
    let Value::Array(dirs) = dirs else {
        return Err(Error::invalid(format!(
            "{}: `permissions.additionalDirectories` is not an array; fix it by hand",
            path.display()
        )));
    };
    for root in &missing {
        dirs.push(Value::String(root.display().to_string()));
    }
    if let Some(parent) = path.parent() {
        fsio::create_dir_all(parent)?;
    }
    let mut bytes =
        serde_json::to_vec_pretty(&Value::Object(settings)).expect("JSON values serialise");
    bytes.push(b'\n');
    fsio::write_atomic(&path, &bytes)?;
    Ok(missing)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_orc_commands_with_any_binary_path() {
        assert!(is_orc_command("/usr/bin/orc prime --hook", "prime --hook"));
        assert!(is_orc_command("'/my dir/orc' prime --hook", "prime --hook"));
        assert!(is_orc_command("orc prime --hook", "prime --hook"));
        assert!(!is_orc_command(
            "/usr/bin/other prime --hook",
            "prime --hook"
        ));
        assert!(!is_orc_command("orc mail check --hook", "prime --hook"));
        assert_eq!(command(Path::new("/my dir/orc"), "x"), "'/my dir/orc' x");
    }
}
