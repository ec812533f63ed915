//! The loop closed by the agents people actually run: the real Claude Code
//! and Codex CLI binaries (installed from npm by `.ci/run`), in real tmux
//! panes, talking to a scripted model server of ours on loopback
//! (`tests/common/model.rs`), from a fresh home directory that has only a
//! completed login.
//!
//! Where a binary is missing, its tests say so loudly and pass without
//! running; with `ORC_REQUIRE_REAL_AGENTS=1` (set by `.ci/run`) they fail
//! instead. Binaries are found as `ORC_TEST_CLAUDE` / `ORC_TEST_CODEX`, else
//! in `.ci/tools/node_modules/.bin/`, else on PATH.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::model::{self, ModelServer, Script};
use common::{TestEnv, TmuxServer, wait_until};
use serde_json::{Value, json};

const KEY: &str = "sk-ant-test-0123456789abcdefghijKLMNOP";
const LONG: Duration = Duration::from_secs(120);

fn binary(name: &str, var: &str) -> Option<PathBuf> {
    if let Ok(p) = std::env::var(var)
        && !p.is_empty()
    {
        return Some(PathBuf::from(p));
    }
    let local = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(".ci/tools/node_modules/.bin")
        .join(name);
    if local.exists() {
        return Some(local);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// The binary, or None after saying loudly why the test does not run.
fn require(name: &str, var: &str) -> Option<PathBuf> {
    match binary(name, var) {
        Some(p) => Some(p),
        None if std::env::var("ORC_REQUIRE_REAL_AGENTS").is_ok_and(|v| v == "1") => {
            panic!(
                "{name} is not installed, and ORC_REQUIRE_REAL_AGENTS=1 requires it (see .ci/run)"
            )
        }
        None => {
            eprintln!(
                "\n!!! SKIPPED: the real `{name}` is not installed ({var}, .ci/tools or PATH); \
                 run `bash .ci/run` once to install it\n"
            );
            None
        }
    }
}

/// A repository, a mission and groves, a private tmux socket, a model
/// server, and a home directory that has only a completed login.
struct Stage {
    env: TestEnv,
    tmux: TmuxServer,
    server: ModelServer,
}

/// With `ORC_TEST_SHOW_PANES=1`, every pane's screen is printed when a
/// scenario ends (run with `--nocapture` to read what the agents showed).
impl Drop for Stage {
    fn drop(&mut self) {
        if std::env::var_os("ORC_TEST_SHOW_PANES").is_some() {
            eprintln!("{}", self.screens());
        }
    }
}

impl Stage {
    fn new(script: Script, agents: &[(&str, &Path)], toml: &str) -> Stage {
        let mut env = TestEnv::new();
        let tmux = TmuxServer::new();
        let server = ModelServer::start(script);
        // The real clock: agents and the watcher measure time.
        env.set_env("ORC_NOW", "");
        env.set_env("ORC_TMUX_SOCKET", &tmux.socket);
        env.set_env("ORC_LOG", "info");
        let bin = env.root.join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        for (name, path) in agents {
            std::os::unix::fs::symlink(path, bin.join(name)).unwrap();
        }
        let path = format!(
            "{}:{}",
            bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        env.set_env("PATH", &path);
        // Claude Code: a completed login against our server.
        env.set_env("ANTHROPIC_BASE_URL", &server.url());
        env.set_env("ANTHROPIC_API_KEY", KEY);
        env.set_env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1");
        env.set_env("DISABLE_AUTOUPDATER", "1");
        std::fs::write(
            env.home.join(".claude.json"),
            serde_json::to_vec_pretty(&json!({
                "hasCompletedOnboarding": true,
                "customApiKeyResponses": {"approved": [&KEY[KEY.len() - 20..]], "rejected": []}
            }))
            .unwrap(),
        )
        .unwrap();
        // Codex: a provider configured and a key, as after `codex login`.
        let codex_home = env.home.join(".codex");
        std::fs::create_dir_all(&codex_home).unwrap();
        std::fs::write(
            codex_home.join("config.toml"),
            format!(
                "model = \"scripted\"\nmodel_provider = \"scripted\"\n\n[model_providers.scripted]\nname = \"Scripted\"\nbase_url = \"{}/v1\"\nwire_api = \"responses\"\nenv_key = \"ORC_TEST_MODEL_KEY\"\n\n[analytics]\nenabled = false\n\n[features]\nplugins = false\napps = false\n",
                server.url()
            ),
        )
        .unwrap();
        env.set_env("ORC_TEST_MODEL_KEY", "test-key");
        std::fs::create_dir_all(env.home.join(".orc")).unwrap();
        std::fs::write(
            env.home.join(".orc/orc.toml"),
            format!("editor = [\"cat\"]\nshell = [\"cat\"]\n{toml}"),
        )
        .unwrap();
        Stage { env, tmux, server }
    }

    fn wo(&self, id: &str) -> Value {
        self.env.orc(&["wo", "show", id, "--json"]).ok().json()
    }

    fn grove_path(&self, name: &str) -> PathBuf {
        PathBuf::from(
            self.env.orc(&["grove", "show", name, "--json"]).ok().json()["grove"]["path"]
                .as_str()
                .unwrap(),
        )
    }

    /// Every pane's screen, for failure messages.
    fn screens(&self) -> String {
        let mut out = String::new();
        for p in self.tmux.panes() {
            out.push_str(&format!("\n===== {} {} {}\n", p[0], p[1], p[2]));
            out.push_str(&self.tmux.capture(&p[0]));
        }
        out
    }

    /// The mission: a parent and four children with dependencies.
    fn mission(&self) {
        let env = &self.env;
        env.orc(&["wo", "create", "Echo endpoint", "--priority", "high"])
            .ok();
        env.orc(&["wo", "create", "Handler", "--parent", "WO-001"])
            .ok();
        env.orc(&[
            "wo",
            "create",
            "Test",
            "--parent",
            "WO-001",
            "--depends-on",
            "WO-002",
        ])
        .ok();
        env.orc(&[
            "wo",
            "create",
            "Docs",
            "--parent",
            "WO-001",
            "--depends-on",
            "WO-002",
        ])
        .ok();
        env.orc(&[
            "wo",
            "create",
            "Check",
            "--parent",
            "WO-001",
            "--depends-on",
            "WO-003",
            "--depends-on",
            "WO-004",
        ])
        .ok();
    }

    /// Waits for the parent to be done, failing with every screen.
    fn wait_done(&self, timeout: Duration) {
        let start = Instant::now();
        loop {
            if self.wo("WO-001")["status"] == "done" {
                return;
            }
            if start.elapsed() > timeout {
                let statuses: Vec<String> = (1..=5)
                    .map(|n| {
                        let w = self.wo(&format!("WO-{n:03}"));
                        format!("{} {} {}", w["id"], w["status"], w["assignee"])
                    })
                    .collect();
                panic!(
                    "the mission did not complete in {timeout:?}: {statuses:?}\n{}",
                    self.screens()
                );
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// Turns the model received that were not side requests, per agent
    /// working directory.
    fn turns(&self) -> Vec<(Option<String>, Value)> {
        self.server
            .requests()
            .into_iter()
            .filter(|r| r.method == "POST")
            .map(|r| {
                let text = r.body.to_string().replace("\\n", "\n");
                let cwd = ["Primary working directory: ", "<cwd>"]
                    .iter()
                    .find_map(|m| {
                        let i = text.find(m)?;
                        let rest = &text[i + m.len()..];
                        let end = rest.find(['\n', '<', '\\']).unwrap_or(rest.len());
                        Some(rest[..end].trim().to_string())
                    });
                (cwd, r.body)
            })
            .collect()
    }
}

/// No pane shows a trust question or a permission prompt.
fn no_dialogs(st: &Stage) {
    for p in st.tmux.panes() {
        let text = st.tmux.capture(&p[0]);
        for dialog in [
            "trust this folder",
            "Do you want to proceed?",
            "Do you want to create",
            "Do you want to make this edit",
            "Auto mode can't check",
            "Settings Warning",
        ] {
            assert!(
                !text.contains(dialog),
                "pane {} ({} {}) shows {dialog:?}:\n{text}",
                p[0],
                p[1],
                p[2]
            );
        }
    }
}

#[test]
fn claude_code_runs_a_mission_by_itself() {
    let Some(claude) = require("claude", "ORC_TEST_CLAUDE") else {
        return;
    };
    let script = model::by_role(model::imp_script(), model::deputy_script());
    let st = Stage::new(script, &[("claude", &claude)], "");
    let env = &st.env;
    env.orc(&["init"]).ok();
    env.orc(&["mission", "create", "Echo service"]).ok();
    env.orc(&["grove", "create", "one"]).ok();
    env.orc(&["grove", "create", "two"]).ok();
    env.orc(&["hooks", "trust"]).ok();
    env.orc(&["doctor"]).ok();
    st.mission();
    let t0 = Instant::now();
    env.orc(&["deploy", "--dispatch", "--merge", "--interval", "200ms"])
        .ok();
    let first_start = {
        let mut at = None;
        wait_until("the first work order to start", LONG, || {
            let any = (2..=5).any(|n| {
                matches!(
                    st.wo(&format!("WO-{n:03}"))["status"].as_str(),
                    Some("in_progress" | "done")
                )
            });
            if any {
                at = Some(t0.elapsed());
                Ok(())
            } else {
                no_dialogs(&st);
                Err(st.screens())
            }
        });
        at.unwrap()
    };
    st.wait_done(LONG);
    let (delivered, stranded) = deliveries(&st);
    eprintln!(
        "deploy -> first work started: {first_start:?}; -> mission done: {:?}; deliveries (ms, Enters): {delivered:?}",
        t0.elapsed()
    );
    assert!(stranded.is_empty(), "no nudge was stranded: {stranded:?}");
    no_dialogs(&st);
    // Every child was done by an IMP, with a commit on its grove's branch.
    for n in 2..=5 {
        let w = st.wo(&format!("WO-{n:03}"));
        assert_eq!(w["status"], "done", "{w:#}");
        let grove = w["assignee"]
            .as_str()
            .unwrap()
            .trim_start_matches("IMP-")
            .to_string();
        let g = env.orc(&["grove", "show", &grove, "--json"]).ok().json();
        let branch = g["grove"]["branch"].as_str().unwrap();
        let log = env.git(&["log", "--format=%s", branch]).ok().stdout;
        assert!(log.contains(&format!("WO-{n:03}: done")), "{branch}: {log}");
    }
    // The SessionStart context reached each IMP's model.
    for name in ["one", "two"] {
        let dir = st.grove_path(name).display().to_string();
        let primed = st.turns().iter().any(|(cwd, body)| {
            cwd.as_deref() == Some(dir.as_str())
                && body
                    .to_string()
                    .contains("SessionStart hook additional context")
                && body.to_string().contains("# orc: you are IMP-GROVE-")
        });
        assert!(primed, "the model never saw {name}'s orc prime");
    }
}

#[test]
fn a_mission_with_a_codex_grove_and_a_claude_code_grove() {
    let (Some(claude), Some(codex)) = (
        require("claude", "ORC_TEST_CLAUDE"),
        require("codex", "ORC_TEST_CODEX"),
    ) else {
        return;
    };
    let script = model::by_role(model::imp_script(), model::deputy_script());
    let st = Stage::new(script, &[("claude", &claude), ("codex", &codex)], "");
    let env = &st.env;
    env.orc(&["init"]).ok();
    env.orc(&["mission", "create", "Echo service"]).ok();
    env.orc(&["grove", "create", "cx", "--agent", "codex"]).ok();
    env.orc(&["grove", "create", "cl"]).ok();
    env.orc(&["hooks", "trust"]).ok();
    env.orc(&["doctor"]).ok();
    st.mission();
    env.orc(&["deploy", "--dispatch", "--merge", "--interval", "200ms"])
        .ok();
    st.wait_done(LONG);
    no_dialogs(&st);
    // Both agents did work: each grove's branch has a commit of its own.
    let mut by: Vec<String> = (2..=5)
        .map(|n| {
            st.wo(&format!("WO-{n:03}"))["assignee"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    by.sort();
    by.dedup();
    assert_eq!(by, ["IMP-GROVE-001", "IMP-GROVE-002"], "both groves worked");
    for name in ["cx", "cl"] {
        let log = env.git(&["log", "--format=%s", name]).ok().stdout;
        let outputs: Vec<String> = st
            .server
            .requests()
            .iter()
            .flat_map(|r| r.body["input"].as_array().cloned().unwrap_or_default())
            .filter(|i| i["type"] == "function_call_output")
            .map(|i| i["output"].to_string())
            .collect();
        assert!(
            log.contains(": done"),
            "{name}: {log}\ncodex's tool outputs: {outputs:#?}"
        );
    }
    // The Codex agent reached the model through the Responses API, with
    // orc's instructions.
    let codex_turns: Vec<Value> = st
        .server
        .requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/v1/responses"))
        .map(|r| r.body)
        .collect();
    assert!(
        codex_turns.iter().any(|b| b
            .to_string()
            .contains("You are an implementation agent (IMP) coordinated by orc")),
        "the Codex agent never saw orc's AGENTS.md"
    );
}

/// The watcher's log of deliveries: (milliseconds, Enters) per delivered
/// nudge, and the lines of nudges it could not deliver.
fn deliveries(st: &Stage) -> (Vec<(u64, u32)>, Vec<String>) {
    let pane = st.tmux.pane("watch", None).expect("a watch pane");
    let text = st.tmux.capture_all(&pane);
    let mut ok = Vec::new();
    let mut stranded = Vec::new();
    for line in text.lines() {
        if line.contains(" NOT delivered to ") {
            stranded.push(line.to_string());
        } else if let Some(rest) = line.split(" delivered to ").nth(1) {
            // "%3 in 1529 ms (2 Enters)"
            let words: Vec<&str> = rest.split_whitespace().collect();
            let ms = words.get(2).and_then(|w| w.parse().ok()).unwrap_or(0);
            let enters = words
                .get(4)
                .and_then(|w| w.trim_start_matches('(').parse().ok())
                .unwrap_or(0);
            ok.push((ms, enters));
        }
    }
    (ok, stranded)
}

/// A nudge sent while Claude Code is still starting gets through; one sent
/// while a person's text sits in the input line waits for it; one that
/// cannot be delivered (the agent waits at its trust question) is not typed
/// into the dialog but recorded as stranded, and the deputy is told.
#[test]
fn nudges_wait_for_a_starting_agent_a_typing_person_and_a_dialog() {
    let Some(claude) = require("claude", "ORC_TEST_CLAUDE") else {
        return;
    };
    let script = model::by_role(model::imp_script(), model::deputy_script());
    let st = Stage::new(script, &[("claude", &claude)], "");
    let env = &st.env;
    env.orc(&["init"]).ok();
    env.orc(&["mission", "create", "Echo service"]).ok();
    env.orc(&["grove", "create", "one"]).ok();
    env.orc(&["grove", "create", "two"]).ok();
    env.orc(&["grove", "create", "untrusted"]).ok();
    env.orc(&["hooks", "trust"]).ok();
    let untrusted = st.grove_path("untrusted");
    env.orc(&["hooks", "untrust"]).ok();
    // Trust all but one grove (as a person would have left it).
    env.orc(&["hooks", "trust"]).ok();
    let key = untrusted.display().to_string();
    let mut state: Value =
        serde_json::from_slice(&std::fs::read(env.home.join(".claude.json")).unwrap()).unwrap();
    state["projects"].as_object_mut().unwrap().remove(&key);
    std::fs::write(env.home.join(".claude.json"), state.to_string()).unwrap();
    for title in ["a", "b", "c"] {
        env.orc(&["wo", "create", title]).ok();
    }
    // 1. Assigned at once, while the agents start.
    env.orc(&[
        "deploy",
        "--merge",
        "--interval",
        "200ms",
        "--nudge-timeout",
        "8s",
    ])
    .ok();
    env.orc(&["assign", "WO-001", "--grove", "one"]).ok();
    wait_until("WO-001 done by an agent that was starting", LONG, || {
        let s = st.wo("WO-001")["status"].clone();
        if s == "done" {
            Ok(())
        } else {
            Err(format!("{s}\n{}", st.screens()))
        }
    });
    // 2. A person types into GROVE-002's agent and has not pressed Enter.
    let two = st.tmux.pane("imp", Some("GROVE-002")).unwrap();
    wait_until("GROVE-002's agent to be ready", LONG, || {
        let t = st.tmux.capture(&two);
        if t.contains("\u{276f}\u{a0}") {
            Ok(())
        } else {
            Err(t)
        }
    });
    st.tmux
        .run(&["send-keys", "-t", &two, "-l", "let me think about this"]);
    // (A loaded machine may still be starting the agent: its input box
    // shows the person's text once it takes keys.)
    wait_until("the person's text in the input line", LONG, || {
        let t = st.tmux.capture(&two);
        if t.contains("\u{276f}\u{a0}let me think about this") {
            Ok(())
        } else {
            if !t.contains("let me think") {
                st.tmux
                    .run(&["send-keys", "-t", &two, "-l", "let me think about this"]);
            }
            std::thread::sleep(Duration::from_millis(300));
            Err(t)
        }
    });
    env.orc(&["assign", "WO-002", "--grove", "two"]).ok();
    std::thread::sleep(Duration::from_secs(3));
    let screen = st.tmux.capture(&two);
    assert!(
        screen.contains("let me think about this") && !screen.contains("WO-002 assigned"),
        "the nudge must wait while a person types:\n{screen}"
    );
    assert_eq!(st.wo("WO-002")["status"], "assigned");
    // The person sends their line; the nudge follows, and the work is done.
    st.tmux.run(&["send-keys", "-t", &two, "Enter"]);
    wait_until("WO-002 done after the person's line", LONG, || {
        let s = st.wo("WO-002")["status"].clone();
        if s == "done" {
            Ok(())
        } else {
            Err(format!("{s}\n{}", st.screens()))
        }
    });
    let prompts: Vec<String> = st
        .server
        .requests()
        .iter()
        .filter_map(|r| {
            // A request carries the conversation so far: the newest
            // prompt decides.
            let t = r.body.to_string();
            if t.contains("orc: WO-002 assigned to you") {
                Some("nudge".to_string())
            } else if t.contains("let me think about this") {
                Some("person".to_string())
            } else {
                None
            }
        })
        .collect();
    assert_eq!(
        prompts.first().map(String::as_str),
        Some("person"),
        "{prompts:?}"
    );
    assert!(prompts.iter().any(|p| p == "nudge"), "{prompts:?}");
    // 3. The untrusted grove's agent waits at Claude Code's trust question:
    // the nudge is never typed into it (Enter would choose "No, exit").
    let three = st.tmux.pane("imp", Some("GROVE-003")).unwrap();
    wait_until("the trust question", LONG, || {
        let t = st.tmux.capture(&three);
        if t.contains("trust this folder") {
            Ok(())
        } else {
            Err(t)
        }
    });
    env.orc(&["assign", "WO-003", "--grove", "untrusted"]).ok();
    wait_until("the nudge to be stranded and the deputy told", LONG, || {
        let (_, stranded) = deliveries(&st);
        let deputy = st.tmux.capture(&st.tmux.pane("deputy", None).unwrap());
        if !stranded.is_empty() && deputy.contains("a nudge to GROVE-003 was not delivered") {
            Ok(())
        } else {
            Err(format!("{stranded:?}\n{}", st.screens()))
        }
    });
    let screen = st.tmux.capture(&three);
    assert!(
        screen.contains("trust this folder"),
        "the dialog is still there:\n{screen}"
    );
    assert!(!screen.contains("WO-003 assigned"), "{screen}");
    let (_, stranded) = deliveries(&st);
    assert!(
        stranded[0].contains("waits at a trust prompt"),
        "{stranded:?}"
    );
    let status = env.orc(&["status", "--json"]).ok().json();
    let agent = status["agents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["who"] == "GROVE-003")
        .unwrap()
        .clone();
    assert_eq!(
        agent["state"]["stranded"][0]["reason"], "the agent waits at a trust prompt",
        "{agent:#}"
    );
    let text = env.orc(&["status"]).ok().stdout;
    assert!(
        text.contains("GROVE-003 claude: ") && text.contains("1 nudge(s) not delivered"),
        "{text}"
    );
    let (ok, _) = deliveries(&st);
    let ms: Vec<u64> = ok.iter().map(|d| d.0).collect();
    eprintln!("deliveries (ms, Enters): {ok:?}; {ms:?}");
}

/// An agent stuck at a permission prompt is reported to the deputy, with
/// what it waits for in `orc status`.
#[test]
fn an_agent_waiting_at_a_permission_prompt_is_reported_to_the_deputy() {
    let Some(claude) = require("claude", "ORC_TEST_CLAUDE") else {
        return;
    };
    // This IMP wants to fetch something from the network: not allowed.
    let imp: Script = std::sync::Arc::new(|turn: &model::Turn| {
        if turn.results.is_empty() {
            model::Reply::Shell("curl -s http://127.0.0.1:9/status".into())
        } else {
            model::Reply::Text("done".into())
        }
    });
    let st = Stage::new(
        model::by_role(imp, model::deputy_script()),
        &[("claude", &claude)],
        "",
    );
    let env = &st.env;
    env.orc(&["init"]).ok();
    env.orc(&["mission", "create", "Echo service"]).ok();
    env.orc(&["grove", "create", "one"]).ok();
    env.orc(&["hooks", "trust"]).ok();
    env.orc(&["wo", "create", "fetch"]).ok();
    env.orc(&["deploy", "--merge", "--interval", "200ms"]).ok();
    env.orc(&["assign", "WO-001", "--grove", "one"]).ok();
    let deputy = st.tmux.pane("deputy", None).unwrap();
    wait_until("the deputy to hear of the permission prompt", LONG, || {
        let t = st.tmux.capture(&deputy);
        if t.contains("the agent of GROVE-001 waits at a permission prompt") {
            Ok(())
        } else {
            Err(st.screens())
        }
    });
    let status = env.orc(&["status"]).ok().stdout;
    assert!(
        status.contains("GROVE-001 claude: waiting since")
            && status.contains("for permission (Bash: curl -s http://127.0.0.1:9/status)"),
        "{status}"
    );
    // Claude Code asks its hook first, then shows the prompt.
    let imp = st.tmux.pane("imp", Some("GROVE-001")).unwrap();
    wait_until("the prompt on the agent's screen", LONG, || {
        let t = st.tmux.capture(&imp);
        if t.contains("Do you want to proceed?") {
            Ok(())
        } else {
            Err(t)
        }
    });
}
