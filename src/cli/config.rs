//! `orc config get|set|unset|list`: repository settings on the ledger.

use clap::Subcommand;
use serde_json::{Value, json};

use super::{Out, to_json};
use crate::error::{Error, Result};
use crate::ops::Session;
use crate::ops::config;

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print a setting (exit 3 when it is not set).
    Get { key: String },
    /// Set a setting (a list setting takes one or more values); one commit.
    Set {
        key: String,
        #[arg(required = true)]
        values: Vec<String>,
    },
    /// Remove a setting; one commit.
    Unset { key: String },
    /// Every setting orc knows, with its value.
    List,
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(items) => items
            .iter()
            .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_string))
            .collect::<Vec<_>>()
            .join("\n"),
        other => other.to_string(),
    }
}

pub fn run(s: &Session, cmd: &ConfigCommand, out: &Out) -> Result<()> {
    match cmd {
        ConfigCommand::Get { key } => {
            let value = config::get(s, key)?;
            match value {
                None => {
                    return Err(Error::not_found(format!("{key} is not set"))
                        .with_hint(format!("`orc config set {key} ...` sets it")));
                }
                Some(v) if out.json => out.json(&json!({ key.clone(): v })),
                Some(v) => out.line(text(&v)),
            }
        }
        ConfigCommand::Set { key, values } => {
            let v = config::set(s, key, values)?;
            if out.json {
                out.json(&json!({ key.clone(): v }));
            } else {
                out.line(format!("{key} set"));
            }
        }
        ConfigCommand::Unset { key } => {
            config::set(s, key, &[])?;
            if out.json {
                out.json(&json!({ key.clone(): Value::Null }));
            } else {
                out.line(format!("{key} unset"));
            }
        }
        ConfigCommand::List => {
            let all = config::all(s)?;
            if out.json {
                let map: serde_json::Map<String, Value> = all
                    .iter()
                    .map(|(k, v)| (k.name.to_string(), v.clone().unwrap_or(Value::Null)))
                    .collect();
                out.json(&json!({ "settings": to_json(&map) }));
            } else {
                for (k, v) in all {
                    match v {
                        Some(v) => out.line(format!("{} = {}", k.name, v)),
                        None => out.line(format!("{} (unset): {}", k.name, k.about)),
                    }
                }
            }
        }
    }
    Ok(())
}
