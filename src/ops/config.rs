//! Repository settings that every machine and person must share, kept on
//! the ledger in `settings.json` at its root, read and changed with
//! `orc config get|set|unset|list` (as `git config` is); each change is one
//! commit.
//!
//! Only known keys are accepted, so a typo is an error, not a silent no-op.

use serde_json::{Map, Value};

use super::session::Session;
use super::tx::{self, Message};
use crate::error::{Error, Result};
use crate::model::decode;

/// The ledger file.
pub const FILE: &str = "settings.json";

/// What a key holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// A list of strings (`set` takes one or more values).
    List,
    /// One string.
    Text,
}

/// A key orc knows: its dotted name, what it holds, and what it does.
pub struct Key {
    pub name: &'static str,
    pub shape: Shape,
    pub about: &'static str,
}

/// Every key orc knows.
pub const KEYS: [Key; 9] = [
    Key {
        name: "check",
        shape: Shape::Text,
        about: "the project's check, a command run with sh -c (in the grove when an IMP reports work, on the merge result before the integration branch moves)",
    },
    Key {
        name: "check_timeout",
        shape: Shape::Text,
        about: "how long the check may run before orc stops it (and what it started): 30m by default; 90s, 2h, ...",
    },
    Key {
        name: "review",
        shape: Shape::Text,
        about: "who approves work before it is merged: none (default), deputy, human or agent",
    },
    Key {
        name: "agents",
        shape: Shape::List,
        about: "actors that are agents (besides DEPUTY-… and IMP-…): they may never pass a `human` review",
    },
    Key {
        name: "merge.strategy",
        shape: Shape::Text,
        about: "how the merge train brings work onto the integration branch: merge (default, a merge commit), rebase or squash",
    },
    Key {
        name: "merge.batch",
        shape: Shape::Text,
        about: "how many approved work orders the train merges and checks together (default 1); a failing batch is bisected",
    },
    Key {
        name: "artifacts.max_bytes",
        shape: Shape::Text,
        about: "the largest artifact the ledger takes (default 10485760, 10 MiB)",
    },
    Key {
        name: "grove.copy",
        shape: Shape::List,
        about: "files copied from the main worktree into every new grove (paths relative to the repository root, such as .env)",
    },
    Key {
        name: "grove.setup",
        shape: Shape::List,
        about: "commands run (with sh -c) in every new grove, in order, such as `npm ci`; a failing one undoes the grove",
    },
];

fn key(name: &str) -> Result<&'static Key> {
    KEYS.iter().find(|k| k.name == name).ok_or_else(|| {
        Error::usage(format!("unknown setting {name:?}")).with_hint(format!(
            "orc knows: {}",
            KEYS.iter().map(|k| k.name).collect::<Vec<_>>().join(", ")
        ))
    })
}

/// The settings on the ledger (empty before any was set).
pub fn read(s: &Session) -> Result<Map<String, Value>> {
    match s.ledger.read(FILE)? {
        None => Ok(Map::new()),
        Some(bytes) => {
            let shown = format!("{}:{FILE}", s.ledger.branch());
            let value: Value =
                decode::decode(&bytes).map_err(|e| Error::invalid(format!("{shown}: {e}")))?;
            let Value::Object(mut map) = value else {
                return Err(Error::invalid(format!("{shown}: expected a JSON object")));
            };
            map.remove("format");
            Ok(map)
        }
    }
}

fn lookup<'m>(map: &'m Map<String, Value>, name: &str) -> Option<&'m Value> {
    match name.split_once('.') {
        Some((section, leaf)) => map.get(section)?.get(leaf),
        None => map.get(name),
    }
}

/// Checks a value against what its key allows (beyond its shape).
fn allowed(name: &str, v: &Value) -> std::result::Result<(), String> {
    let text = v.as_str().unwrap_or("");
    match name {
        "review" => text
            .parse::<crate::model::ReviewPolicy>()
            .map(|_| ())
            .map_err(|e| e.message),
        "merge.strategy" if !["merge", "rebase", "squash"].contains(&text) => Err(format!(
            "{text:?} is not a strategy (merge, rebase or squash)"
        )),
        "check_timeout" => match crate::model::time::parse_duration(text) {
            Ok(d) if d.is_zero() => Err(format!("{text:?} is not a positive duration")),
            Ok(_) => Ok(()),
            Err(e) => Err(e.message),
        },
        "merge.batch" | "artifacts.max_bytes" if text.parse::<u64>().map_or(true, |n| n == 0) => {
            Err(format!("{text:?} is not a positive whole number"))
        }
        _ => Ok(()),
    }
}

/// Whether `value` is what setting `name` may hold (its shape and its
/// allowed values), as `orc config set` and every reader check it.
pub fn validate(name: &str, value: &Value) -> std::result::Result<(), String> {
    let k = key(name).map_err(|e| e.message)?;
    check(k, value)?;
    allowed(name, value)
}

/// A text setting (None when unset).
pub fn text(s: &Session, name: &str) -> Result<Option<String>> {
    Ok(get(s, name)?.and_then(|v| v.as_str().map(str::to_string)))
}

/// The value of `name`, checked against its shape (None: not set).
pub fn get(s: &Session, name: &str) -> Result<Option<Value>> {
    let k = key(name)?;
    let map = read(s)?;
    match lookup(&map, name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => {
            check(k, v).map_err(|e| {
                Error::invalid(format!("{}:{FILE}: `{name}` {e}", s.ledger.branch()))
                    .with_hint(format!("fix it with `orc config set {name} ...`"))
            })?;
            Ok(Some(v.clone()))
        }
    }
}

/// A list setting (empty when unset).
pub fn list(s: &Session, name: &str) -> Result<Vec<String>> {
    Ok(match get(s, name)? {
        Some(Value::Array(items)) => items
            .into_iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    })
}

fn check(k: &Key, v: &Value) -> std::result::Result<(), String> {
    match (k.shape, v) {
        (Shape::Text, Value::String(_)) => Ok(()),
        (Shape::List, Value::Array(items)) if items.iter().all(Value::is_string) => Ok(()),
        (Shape::Text, _) => Err("must be a string".into()),
        (Shape::List, _) => Err("must be a list of strings".into()),
    }
}

/// Sets `name` to `values` (one value for a text key); `values` empty
/// removes the key. One commit.
pub fn set(s: &Session, name: &str, values: &[String]) -> Result<Option<Value>> {
    let k = key(name)?;
    let value = match (k.shape, values) {
        (_, []) => None,
        (Shape::Text, [one]) => Some(Value::String(one.clone())),
        (Shape::Text, _) => {
            return Err(Error::usage(format!("{name} takes one value")));
        }
        (Shape::List, many) => Some(Value::Array(
            many.iter().cloned().map(Value::String).collect(),
        )),
    };
    if let Some(Value::Array(items)) = &value
        && items.iter().any(|i| {
            i.as_str()
                .is_some_and(|t| t.trim().is_empty() || t.contains('\0'))
        })
    {
        return Err(Error::usage(format!(
            "{name}: empty values are not allowed"
        )));
    }
    if let Some(v) = &value {
        allowed(name, v).map_err(|e| Error::usage(format!("{name}: {e}")))?;
    }
    let ledger = &s.ledger;
    tx::run(s, |tx| {
        tx.lock(
            "!settings",
            &ledger.lock_path("settings"),
            "the shared settings",
        )?;
        let mut map = read(s)?;
        let before = lookup(&map, name).cloned();
        match name.split_once('.') {
            Some((section, leaf)) => {
                let sect = map
                    .entry(section.to_string())
                    .or_insert_with(|| Value::Object(Map::new()));
                let Value::Object(sect) = sect else {
                    return Err(Error::invalid(format!(
                        "{}:{FILE}: `{section}` is not an object",
                        ledger.branch()
                    )));
                };
                match &value {
                    Some(v) => {
                        sect.insert(leaf.to_string(), v.clone());
                    }
                    None => {
                        sect.remove(leaf);
                    }
                }
                if sect.is_empty() {
                    map.remove(section);
                }
            }
            None => match &value {
                Some(v) => {
                    map.insert(name.to_string(), v.clone());
                }
                None => {
                    map.remove(name);
                }
            },
        }
        let mut out = Map::new();
        out.insert("format".into(), Value::from(1));
        let mut keys: Vec<String> = map.keys().cloned().collect();
        keys.sort();
        for k in keys {
            out.insert(k.clone(), map[&k].clone());
        }
        tx.stage_ledger_only(
            FILE.to_string(),
            crate::model::to_file_bytes(&Value::Object(out)),
        );
        let show = |v: &Option<Value>| v.as_ref().map_or("(unset)".to_string(), Value::to_string);
        let subject = format!("settings: {name} = {}", tx::one_line(&show(&value), 80));
        let message = Message::new("config.set", subject).line(format!("was: {}", show(&before)));
        Ok((value.clone(), message))
    })
}

/// Every known key with its value (None: unset); an unknown key or a
/// value of the wrong shape is an error naming it.
pub fn all(s: &Session) -> Result<Vec<(&'static Key, Option<Value>)>> {
    let map = read(s)?;
    let shown = format!("{}:{FILE}", s.ledger.branch());
    for (section, v) in &map {
        // A top-level setting (`check`, `review`, `agents`).
        if let Ok(k) = key(section)
            && !section.contains('.')
        {
            check(k, v).map_err(|e| Error::invalid(format!("{shown}: `{section}` {e}")))?;
            continue;
        }
        let Value::Object(leaves) = v else {
            return Err(Error::invalid(format!(
                "{shown}: `{section}` is not an object"
            )));
        };
        for (leaf, v) in leaves {
            let name = format!("{section}.{leaf}");
            let k = key(&name)
                .map_err(|_| Error::invalid(format!("{shown}: unknown setting `{name}`")))?;
            check(k, v).map_err(|e| Error::invalid(format!("{shown}: `{name}` {e}")))?;
        }
    }
    Ok(KEYS
        .iter()
        .map(|k| (k, lookup(&map, k.name).filter(|v| !v.is_null()).cloned()))
        .collect())
}
