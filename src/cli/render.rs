//! Rendering: text for people, `--json` for programs. Shapes of the JSON
//! output are documented in `spec/README.md`, "JSON output".

use std::io::Write;

use serde_json::{Value, json};

use crate::error::Error;
use crate::ops::records::Problem;
use crate::ops::work_order::Row;

/// Where command output goes, and in which form.
pub struct Out {
    pub json: bool,
}

impl Out {
    pub fn new(json: bool) -> Self {
        Out { json }
    }

    /// Prints a JSON value (pretty, one document per command).
    pub fn json(&self, value: &Value) {
        let mut text = serde_json::to_string_pretty(value).expect("values serialise");
        text.push('\n');
        self.raw(&text);
    }

    /// Prints text as is.
    pub fn raw(&self, text: &str) {
        let mut stdout = std::io::stdout().lock();
        // A closed pipe (`orc log | head`) is not an error worth reporting.
        let _ = stdout.write_all(text.as_bytes());
        let _ = stdout.flush();
    }

    pub fn line(&self, text: impl AsRef<str>) {
        self.raw(&format!("{}\n", text.as_ref()));
    }

    /// Reports an error: JSON on stdout with `--json`, text on stderr
    /// otherwise.
    pub fn error(&self, err: &Error) {
        if self.json && err.reported {
            return;
        }
        if self.json {
            self.json(&json!({
                "error": {
                    "kind": err.kind.name(),
                    "code": err.exit_code(),
                    "message": err.message,
                    "hint": err.hint,
                }
            }));
        } else {
            let mut stderr = std::io::stderr().lock();
            let _ = writeln!(stderr, "error: {}", err.message);
            if let Some(hint) = &err.hint {
                let _ = writeln!(stderr, "hint: {hint}");
            }
        }
    }
}

/// A work order as JSON: the record as stored, plus `shown` (the status a
/// reader sees, `waiting` included).
pub fn row_json(row: &Row) -> Value {
    let mut value = super::to_json(&row.work_order);
    if let Value::Object(map) = &mut value {
        map.insert("shown".into(), Value::String(row.shown.to_string()));
    }
    value
}

pub fn problems_json(problems: &[Problem]) -> Value {
    super::to_json(&problems)
}

/// Text that must stay on one line of a table: control characters are
/// shown as escapes (`\n`, `\u{1b}`), everything else is kept.
pub fn one_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&c.escape_unicode().to_string()),
            c => out.push(c),
        }
    }
    out
}

/// Text shown in full (a title or description in `show`): newlines are
/// kept, other control characters (terminal escapes) are made visible.
pub fn multi_line(text: &str) -> String {
    text.split('\n')
        .map(one_line)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Rows as an aligned table: id, status, priority, assignee, title. Each
/// row's `prefix` (tree drawing) goes before its id.
pub fn rows_text(rows: &[&Row], prefixes: &[String]) -> Vec<String> {
    let first: Vec<String> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let pre = prefixes.get(i).map_or("", String::as_str);
            format!("{pre}{}", r.work_order.id)
        })
        .collect();
    let assignees: Vec<String> = rows
        .iter()
        .map(|r| {
            r.work_order
                .assignee
                .as_deref()
                .map_or("-".to_string(), one_line)
        })
        .collect();
    let id_w = first.iter().map(|f| f.chars().count()).max().unwrap_or(0);
    let st_w = rows
        .iter()
        .map(|r| r.shown.as_str().len())
        .max()
        .unwrap_or(0);
    let pr_w = rows
        .iter()
        .map(|r| r.work_order.priority.as_str().len())
        .max()
        .unwrap_or(0);
    let as_w = assignees
        .iter()
        .map(|a| a.chars().count())
        .max()
        .unwrap_or(0);
    rows.iter()
        .zip(first.iter().zip(&assignees))
        .map(|(r, (first, assignee))| {
            // `{:<w$}` pads by chars, which keeps box-drawing prefixes aligned.
            format!(
                "{first:<id_w$}  {:<st_w$}  {:<pr_w$}  {assignee:<as_w$}  {}{}",
                r.shown.as_str(),
                r.work_order.priority.as_str(),
                one_line(&r.work_order.title),
                homecoming(&r.work_order).map_or(String::new(), |h| format!("  [{h}]")),
            )
            .trim_end()
            .to_string()
        })
        .collect()
}

/// Where handed-in work stands on its way home, for a row: what it waits
/// for in review, that it was sent back, or the commit it landed as.
pub fn homecoming(wo: &crate::model::WorkOrder) -> Option<String> {
    use crate::model::Status;
    use crate::model::review::ApprovalState;
    if let Some(l) = &wo.landed {
        return Some(format!("landed {}", short(&l.commit)));
    }
    let a = wo.approval.as_ref()?;
    match (wo.status, a.state) {
        (Status::Review, ApprovalState::Approved) => {
            Some("approved, waits for the merge train".into())
        }
        (Status::Review, _) => Some(format!("waits for review ({})", a.policy)),
        (s, ApprovalState::Rejected) if !s.is_closed() => Some("sent back".into()),
        _ => None,
    }
}

fn short(commit: &str) -> &str {
    commit.get(..7).unwrap_or(commit)
}

/// Problem rows: `error  <file>: <what>`.
pub fn problems_text(problems: &[Problem]) -> Vec<String> {
    problems
        .iter()
        .map(|p| format!("error  {}: {}", p.file.display(), one_line(&p.error)))
        .collect()
}
