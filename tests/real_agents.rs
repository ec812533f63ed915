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
    env.orc(&["deploy", "--dispatch", "--interval", "200ms"])
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
    eprintln!(
        "deploy -> first work started: {first_start:?}; -> mission done: {:?}",
        t0.elapsed()
    );
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
