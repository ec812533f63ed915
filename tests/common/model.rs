//! A scripted model server on loopback, for tests that run the real Claude
//! Code and Codex CLI binaries: it speaks enough of the Anthropic Messages
//! API (`POST /v1/messages`, streamed) and the OpenAI Responses API (`POST
//! /v1/responses`, streamed) for them, records every request, and answers
//! each with what a script decides from the conversation so far. Nothing
//! leaves the machine.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

/// Which API a request came through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    Anthropic,
    OpenAi,
}

/// A request as the script sees it.
#[derive(Debug, Clone)]
pub struct Turn {
    pub api: Api,
    /// The agent's working directory, from its system prompt (Claude Code)
    /// or its environment context (Codex).
    pub cwd: Option<String>,
    /// The last thing the user (or orc, typing into the agent) said.
    pub prompt: String,
    /// The results of the tools run since then, in order.
    pub results: Vec<String>,
    /// A side request (a title for the session), not the agent's turn.
    pub side: bool,
    /// The whole request body.
    pub body: Value,
}

/// What the model answers.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    Text(String),
    /// Run a shell command (Claude Code's Bash tool, Codex's exec_command).
    Shell(String),
    /// Write a file (Claude Code's Write tool; Codex: a shell command).
    Write {
        path: String,
        content: String,
    },
}

pub type Script = Arc<dyn Fn(&Turn) -> Reply + Send + Sync>;

/// A request the server received.
#[derive(Debug, Clone)]
pub struct Logged {
    pub method: String,
    pub path: String,
    pub body: Value,
    pub at: std::time::Instant,
}

pub struct ModelServer {
    pub port: u16,
    pub requests: Arc<Mutex<Vec<Logged>>>,
}

impl ModelServer {
    pub fn start(script: Script) -> ModelServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests: Arc<Mutex<Vec<Logged>>> = Arc::default();
        let log = requests.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let (script, log) = (script.clone(), log.clone());
                std::thread::spawn(move || {
                    let _ = serve(conn, &script, &log);
                });
            }
        });
        ModelServer { port, requests }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn requests(&self) -> Vec<Logged> {
        self.requests.lock().unwrap().clone()
    }
}

fn serve(conn: TcpStream, script: &Script, log: &Mutex<Vec<Logged>>) -> std::io::Result<()> {
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut out = conn;
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let path = parts.next().unwrap_or("").to_string();
    let mut length = 0usize;
    let mut chunked = false;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h == "\r\n" || h == "\n" {
            break;
        }
        let lower = h.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
        if lower.starts_with("transfer-encoding:") && lower.contains("chunked") {
            chunked = true;
        }
    }
    let mut raw = Vec::new();
    if chunked {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size)?;
            let n = usize::from_str_radix(size.trim().split(';').next().unwrap_or("0"), 16)
                .unwrap_or(0);
            if n == 0 {
                let mut end = String::new();
                reader.read_line(&mut end)?;
                break;
            }
            let mut chunk = vec![0; n + 2];
            reader.read_exact(&mut chunk)?;
            raw.extend_from_slice(&chunk[..n]);
        }
    } else {
        raw.resize(length, 0);
        reader.read_exact(&mut raw)?;
    }
    let body: Value = serde_json::from_slice(&raw).unwrap_or(Value::Null);
    log.lock().unwrap().push(Logged {
        method: method.clone(),
        path: path.clone(),
        body: body.clone(),
        at: std::time::Instant::now(),
    });
    let route = path.split('?').next().unwrap_or("");
    let (status, kind, payload) = match (method.as_str(), route) {
        ("POST", "/v1/messages") => {
            let turn = anthropic_turn(&body);
            let reply = if turn.side {
                Reply::Text("{\"title\": \"Orc work\"}".into())
            } else {
                script(&turn)
            };
            ("200 OK", "text/event-stream", anthropic_sse(&body, &reply))
        }
        ("POST", "/v1/messages/count_tokens") => (
            "200 OK",
            "application/json",
            json!({"input_tokens": 1000}).to_string(),
        ),
        ("POST", "/v1/responses") => {
            let turn = openai_turn(&body);
            let reply = if turn.side {
                Reply::Text("{\"title\": \"Orc work\"}".into())
            } else {
                script(&turn)
            };
            ("200 OK", "text/event-stream", openai_sse(&body, &reply))
        }
        ("GET", "/v1/models") => (
            "200 OK",
            "application/json",
            json!({"object": "list", "data": [{"id": "scripted", "object": "model", "created": 0, "owned_by": "orc-tests"}]})
                .to_string(),
        ),
        _ => ("404 Not Found", "application/json", "{}".to_string()),
    };
    write!(
        out,
        "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nCache-Control: no-cache\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{payload}",
        payload.len()
    )?;
    out.flush()
}

fn text_of(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

fn strip_reminders(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("<system-reminder>") {
        out.push_str(&rest[..start]);
        match rest[start..].find("</system-reminder>") {
            Some(end) => rest = &rest[start + end + "</system-reminder>".len()..],
            None => {
                rest = "";
                break;
            }
        }
    }
    out.push_str(rest);
    out.trim().to_string()
}

fn find_cwd(text: &str) -> Option<String> {
    for marker in ["Primary working directory: ", "<cwd>"] {
        if let Some(i) = text.find(marker) {
            let rest = &text[i + marker.len()..];
            let end = rest.find(['\n', '<', '\\']).unwrap_or(rest.len());
            return Some(rest[..end].trim().to_string());
        }
    }
    None
}

fn anthropic_turn(body: &Value) -> Turn {
    let empty = Vec::new();
    let messages = body["messages"].as_array().unwrap_or(&empty);
    let side = body["tools"].as_array().is_none_or(|t| t.is_empty());
    let mut prompt = String::new();
    let mut results = Vec::new();
    for m in messages {
        if m["role"] != "user" {
            continue;
        }
        let parts: Vec<Value> = match &m["content"] {
            Value::Array(p) => p.clone(),
            Value::String(s) => vec![json!({"type": "text", "text": s})],
            _ => Vec::new(),
        };
        for p in parts {
            match p["type"].as_str() {
                Some("tool_result") => results.push(text_of(&p["content"])),
                Some("text") => {
                    let t = strip_reminders(p["text"].as_str().unwrap_or(""));
                    if !t.is_empty() {
                        prompt = t;
                        results.clear();
                    }
                }
                _ => {}
            }
        }
    }
    let all = body.to_string();
    Turn {
        api: Api::Anthropic,
        cwd: find_cwd(&all.replace("\\n", "\n")),
        prompt,
        results,
        side,
        body: body.clone(),
    }
}

fn openai_turn(body: &Value) -> Turn {
    let empty = Vec::new();
    let input = body["input"].as_array().unwrap_or(&empty);
    let mut prompt = String::new();
    let mut results = Vec::new();
    for item in input {
        match item["type"].as_str().unwrap_or("message") {
            "message" if item["role"] == "user" => {
                let t = text_of(&item["content"]);
                // Codex sends its instructions and environment as user
                // messages too; the prompt is what came last.
                if !t.starts_with("# AGENTS.md") && !t.starts_with("<environment_context>") {
                    prompt = t;
                    results.clear();
                }
            }
            "function_call_output" => results.push(match &item["output"] {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            }),
            _ => {}
        }
    }
    let all = body.to_string();
    let side = body["tools"].as_array().is_none_or(|t| t.is_empty())
        || prompt.starts_with("Generate a concise, single-line task title");
    Turn {
        api: Api::OpenAi,
        cwd: find_cwd(&all.replace("\\n", "\n")),
        prompt,
        results,
        side,
        body: body.clone(),
    }
}

fn sse(out: &mut String, event: &str, data: Value) {
    out.push_str(&format!("event: {event}\ndata: {data}\n\n"));
}

fn anthropic_sse(body: &Value, reply: &Reply) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(1);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let model = body["model"].as_str().unwrap_or("scripted");
    let mut out = String::new();
    sse(
        &mut out,
        "message_start",
        json!({"type": "message_start", "message": {"id": format!("msg_{n}"), "type": "message", "role": "assistant", "model": model, "content": [], "stop_reason": null, "stop_sequence": null, "usage": {"input_tokens": 10, "output_tokens": 1, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}}}),
    );
    let (block, delta, stop) = match reply {
        Reply::Text(t) => (
            json!({"type": "text", "text": ""}),
            json!({"type": "text_delta", "text": t}),
            "end_turn",
        ),
        Reply::Shell(cmd) => (
            json!({"type": "tool_use", "id": format!("toolu_{n}"), "name": "Bash", "input": {}}),
            json!({"type": "input_json_delta", "partial_json": json!({"command": cmd, "description": "orc work"}).to_string()}),
            "tool_use",
        ),
        Reply::Write { path, content } => (
            json!({"type": "tool_use", "id": format!("toolu_{n}"), "name": "Write", "input": {}}),
            json!({"type": "input_json_delta", "partial_json": json!({"file_path": path, "content": content}).to_string()}),
            "tool_use",
        ),
    };
    sse(
        &mut out,
        "content_block_start",
        json!({"type": "content_block_start", "index": 0, "content_block": block}),
    );
    sse(
        &mut out,
        "content_block_delta",
        json!({"type": "content_block_delta", "index": 0, "delta": delta}),
    );
    sse(
        &mut out,
        "content_block_stop",
        json!({"type": "content_block_stop", "index": 0}),
    );
    sse(
        &mut out,
        "message_delta",
        json!({"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": null}, "usage": {"output_tokens": 5}}),
    );
    sse(&mut out, "message_stop", json!({"type": "message_stop"}));
    out
}

fn openai_sse(body: &Value, reply: &Reply) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(1);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let model = body["model"].as_str().unwrap_or("scripted");
    let item = match reply {
        Reply::Text(t) => {
            json!({"type": "message", "id": format!("msg_{n}"), "role": "assistant", "status": "completed", "content": [{"type": "output_text", "text": t, "annotations": []}]})
        }
        Reply::Shell(cmd) => {
            json!({"type": "function_call", "id": format!("fc_{n}"), "call_id": format!("call_{n}"), "name": "exec_command", "arguments": json!({"cmd": cmd}).to_string(), "status": "completed"})
        }
        Reply::Write { path, content } => {
            let cmd = format!(
                "mkdir -p \"$(dirname '{path}')\" && printf '%s\\n' '{}' > '{path}'",
                content.replace('\'', "")
            );
            json!({"type": "function_call", "id": format!("fc_{n}"), "call_id": format!("call_{n}"), "name": "exec_command", "arguments": json!({"cmd": cmd}).to_string(), "status": "completed"})
        }
    };
    let response = |status: &str, output: Value| {
        json!({"id": format!("resp_{n}"), "object": "response", "created_at": 0, "status": status, "model": model, "output": output,
               "usage": {"input_tokens": 10, "input_tokens_details": {"cached_tokens": 0}, "output_tokens": 5, "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": 15}})
    };
    let mut out = String::new();
    sse(
        &mut out,
        "response.created",
        json!({"type": "response.created", "response": response("in_progress", json!([]))}),
    );
    sse(
        &mut out,
        "response.output_item.done",
        json!({"type": "response.output_item.done", "output_index": 0, "item": item}),
    );
    sse(
        &mut out,
        "response.completed",
        json!({"type": "response.completed", "response": response("completed", json!([item]))}),
    );
    out
}

/// The scripted IMP: on any prompt, take the next work order of the
/// assignment (`orc work start`), write a file for it, `git add` and `git
/// commit` it, report it done, and go on with the next until none is left.
pub fn imp_script() -> Script {
    Arc::new(|turn: &Turn| {
        let wo = |text: &str| -> Option<String> {
            let i = text.find("WO-")?;
            let digits: String = text[i + 3..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            (!digits.is_empty()).then(|| format!("WO-{digits}"))
        };
        // Each work order takes five steps; the results since the prompt
        // say how far this turn has come.
        let step = turn.results.len() % 5;
        let start = turn.results.len() - step;
        if step == 0 {
            return Reply::Shell("orc work start".into());
        }
        let started = &turn.results[start];
        let Some(id) = wo(started).filter(|_| started.contains(" in_progress")) else {
            return Reply::Text("No work to start now.".into());
        };
        let file = format!("work/{id}.txt");
        match step {
            1 => Reply::Write {
                path: match &turn.cwd {
                    Some(cwd) if turn.api == Api::Anthropic => format!("{cwd}/{file}"),
                    _ => file,
                },
                content: format!("{id} was done by the scripted model"),
            },
            2 => Reply::Shell(format!("git add {file}")),
            3 => Reply::Shell(format!("git commit -q -m \"{id}: done\"")),
            _ => Reply::Shell(format!("orc work done --summary \"{id} done\"")),
        }
    })
}

/// The scripted deputy: acknowledges whatever it is told.
pub fn deputy_script() -> Script {
    Arc::new(|_turn: &Turn| Reply::Text("Noted.".into()))
}

/// Runs `imp` for turns in a directory whose path contains `/worktrees/`
/// (groves), `deputy` for the others.
pub fn by_role(imp: Script, deputy: Script) -> Script {
    Arc::new(move |turn: &Turn| {
        if turn
            .cwd
            .as_deref()
            .is_some_and(|c| c.contains("/worktrees/"))
        {
            imp(turn)
        } else {
            deputy(turn)
        }
    })
}
