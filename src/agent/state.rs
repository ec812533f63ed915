//! What an agent is doing, from the agent itself: its hooks (Claude Code)
//! or its turn notifications (Codex) run `orc hook <event>`, which records
//! the agent's state in the local file `.orc/agent.json` of its grove or
//! mission workspace. The watcher adds the nudges it could not deliver.
//! `orc status`, `orc grove list` and the watcher read it.
//!
//! The file is local (like `config.json`): it describes a process on this
//! machine and changes with every tool call, so it is never committed.

use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::Result;
use crate::model::{Timestamp, decode};
use crate::store::fsio::{self, ReadError};
use crate::store::{FileLock, OrcDir};

/// The state file, inside `.orc/`.
pub const FILE: &str = "agent.json";

/// What the agent is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activity {
    /// At its prompt, waiting for input: a nudge is read at once.
    Ready,
    /// Working on a prompt (a nudge typed now is queued by the agent).
    Working,
    /// Waiting for a person: a permission prompt or a dialog.
    Waiting,
    /// The session ended.
    Gone,
}

impl Activity {
    pub fn as_str(self) -> &'static str {
        match self {
            Activity::Ready => "ready",
            Activity::Working => "working",
            Activity::Waiting => "waiting",
            Activity::Gone => "gone",
        }
    }
}

/// A nudge the watcher could not deliver.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stranded {
    pub text: String,
    pub at: Timestamp,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentState {
    pub format: u32,
    /// The agent's kind (`claude`, `codex`).
    pub agent: String,
    pub state: Activity,
    /// What a waiting agent waits for: `permission` or `dialog`.
    #[serde(default)]
    pub waiting_for: Option<String>,
    /// What the agent said about it (one line, cut), for people; never
    /// typed into a pane.
    #[serde(default)]
    pub detail: Option<String>,
    /// The last event (`SessionStart`, `Stop`, `Notification`, ...).
    pub event: String,
    #[serde(default)]
    pub session: Option<String>,
    /// The agent's process id, when the agent says (Claude Code does).
    #[serde(default)]
    pub pid: Option<u32>,
    /// When the last event came.
    pub at: Timestamp,
    /// Since when the agent is in `state`.
    pub since: Timestamp,
    /// Nudges that could not be delivered since the last one that was.
    #[serde(default)]
    pub stranded: Vec<Stranded>,
}

/// Reads the state file of `dir` (None if there is none or it is garbage:
/// it is rewritten by the next event).
pub fn read(dir: &OrcDir) -> Option<AgentState> {
    match fsio::read_regular(&dir.path(FILE)) {
        Ok(bytes) => decode::decode(&bytes).ok(),
        Err(ReadError::Missing) | Err(_) => None,
    }
}

/// Changes the state file of `dir` under its lock.
pub fn update(
    dir: &OrcDir,
    timeout: Duration,
    f: impl FnOnce(Option<AgentState>) -> Option<AgentState>,
) -> Result<Option<AgentState>> {
    let _lock = FileLock::acquire(&dir.lock_path(FILE), FILE, timeout)?;
    let before = read(dir);
    let after = f(before.clone());
    if let Some(state) = &after
        && Some(state) != before.as_ref()
    {
        fsio::write_atomic(&dir.path(FILE), &crate::model::to_file_bytes(state))?;
    }
    Ok(after)
}

/// What one hook event says about the agent: its new activity (None: no
/// change), what it waits for, and a detail.
pub fn interpret(
    event: &str,
    payload: &Value,
) -> Option<(Activity, Option<String>, Option<String>)> {
    let s = |k: &str| payload.get(k).and_then(Value::as_str);
    let cut = |t: &str| crate::ops::tx::one_line(t, 160);
    match event {
        "SessionStart" | "Stop" => Some((Activity::Ready, None, None)),
        "UserPromptSubmit" | "PostToolUse" | "PreToolUse" => Some((Activity::Working, None, None)),
        "PermissionRequest" => {
            let tool = s("tool_name").unwrap_or("a tool");
            let what = payload
                .get("tool_input")
                .and_then(|i| i.get("command").or_else(|| i.get("file_path")))
                .and_then(Value::as_str)
                .map(|c| format!("{tool}: {}", cut(c)))
                .unwrap_or_else(|| tool.to_string());
            Some((Activity::Waiting, Some("permission".into()), Some(what)))
        }
        "Notification" => match s("notification_type") {
            Some("permission_prompt") | Some("worker_permission_prompt") => Some((
                Activity::Waiting,
                Some("permission".into()),
                s("message").map(cut),
            )),
            Some("elicitation_dialog")
            | Some("elicitation_url_dialog")
            | Some("agent_needs_input") => Some((
                Activity::Waiting,
                Some("dialog".into()),
                s("message").map(cut),
            )),
            Some("idle_prompt") => Some((Activity::Ready, None, None)),
            _ => None,
        },
        "SessionEnd" => Some((Activity::Gone, None, s("reason").map(cut))),
        // Codex's notify: a turn is complete (its hidden title-making side
        // conversation is not the agent's turn).
        "Notify" => {
            let title = payload
                .get("input-messages")
                .and_then(Value::as_array)
                .and_then(|m| m.first())
                .and_then(Value::as_str)
                .is_some_and(|t| t.starts_with("Generate a concise, single-line task title"));
            match s("type") {
                Some("agent-turn-complete") if !title => Some((Activity::Ready, None, None)),
                _ => None,
            }
        }
        _ => None,
    }
}

/// Records `event` (with its JSON payload) for the agent in `dir`.
pub fn record(
    dir: &OrcDir,
    agent: &str,
    event: &str,
    payload: &Value,
    now: &Timestamp,
    timeout: Duration,
) -> Result<Option<AgentState>> {
    let change = interpret(event, payload);
    let session = payload
        .get("session_id")
        .or_else(|| payload.get("thread-id"))
        .and_then(Value::as_str)
        .map(str::to_string);
    let pid = std::env::var("CLAUDE_PID")
        .ok()
        .and_then(|p| p.parse().ok());
    update(dir, timeout, |before| {
        let mut st = before.unwrap_or(AgentState {
            format: 1,
            agent: agent.to_string(),
            state: Activity::Ready,
            waiting_for: None,
            detail: None,
            event: String::new(),
            session: None,
            pid: None,
            at: now.clone(),
            since: now.clone(),
            stranded: Vec::new(),
        });
        st.agent = agent.to_string();
        st.event = event.to_string();
        st.at = now.clone();
        if session.is_some() {
            st.session = session;
        }
        if pid.is_some() {
            st.pid = pid;
        }
        if let Some((activity, waiting_for, detail)) = change {
            if activity != st.state || waiting_for != st.waiting_for {
                st.since = now.clone();
            }
            st.state = activity;
            st.waiting_for = waiting_for;
            st.detail = detail;
        }
        Some(st)
    })
}

/// Whether `path` (relative to `.orc/`) is the state file.
pub fn is_state_file(rel: &str) -> bool {
    rel == FILE
}

/// Records a nudge the watcher could not deliver to the agent of `dir`.
pub fn strand(
    dir: &Path,
    text: &str,
    reason: &str,
    now: &Timestamp,
    timeout: Duration,
) -> Result<()> {
    let dir = OrcDir::in_dir(dir);
    update(&dir, timeout, |before| {
        let mut st = before.unwrap_or(AgentState {
            format: 1,
            agent: String::new(),
            state: Activity::Ready,
            waiting_for: None,
            detail: None,
            event: String::new(),
            session: None,
            pid: None,
            at: now.clone(),
            since: now.clone(),
            stranded: Vec::new(),
        });
        st.stranded.push(Stranded {
            text: text.to_string(),
            at: now.clone(),
            reason: reason.to_string(),
        });
        // Keep the last few.
        let n = st.stranded.len();
        if n > 10 {
            st.stranded.drain(..n - 10);
        }
        Some(st)
    })
    .map(|_| ())
}

/// Clears the stranded nudges of `dir` (a nudge got through).
pub fn delivered(dir: &Path, timeout: Duration) -> Result<()> {
    let dir = OrcDir::in_dir(dir);
    if read(&dir).is_none_or(|s| s.stranded.is_empty()) {
        return Ok(());
    }
    update(&dir, timeout, |before| {
        before.map(|mut st| {
            st.stranded.clear();
            st
        })
    })
    .map(|_| ())
}

/// An agent as `orc status` and `orc grove list` show it.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// `MISSION-001` (the deputy) or `GROVE-001`.
    pub who: String,
    pub profile: String,
    pub kind: String,
    /// What the agent last reported (null: nothing yet, or a kind without
    /// hooks).
    pub state: Option<AgentState>,
}

impl Report {
    pub fn of(site: &super::hooks::Site) -> Report {
        Report {
            who: site.who(),
            profile: site.profile.name.clone(),
            kind: site.profile.kind.as_str().to_string(),
            state: read(&OrcDir::in_dir(&site.dir)),
        }
    }

    /// One line for people: `working since 09:30:00`,
    /// `waiting (permission: Bash: curl ...)`, `1 nudge stranded`.
    pub fn line(&self) -> String {
        let mut out = match &self.state {
            None => "no report yet".to_string(),
            Some(st) => {
                let mut t = format!("{} since {}", st.state.as_str(), st.since);
                if let Some(w) = &st.waiting_for {
                    t.push_str(&format!(" for {w}"));
                }
                if let Some(d) = &st.detail {
                    t.push_str(&format!(" ({d})"));
                }
                t
            }
        };
        if let Some(st) = &self.state
            && !st.stranded.is_empty()
        {
            let last = st.stranded.last().expect("not empty");
            out.push_str(&format!(
                "; {} nudge(s) not delivered, last at {}: {}",
                st.stranded.len(),
                last.at,
                last.reason
            ));
        }
        format!("{} {}: {out}", self.who, self.kind)
    }
}
