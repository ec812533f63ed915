//! What orc installs for real agents, checked on the files the agents read:
//! trust in Claude Code's `~/.claude.json` and Codex's `config.toml`
//! (merged, reversible, safe against the agent writing at the same time),
//! Codex's instructions, the state agents report through `orc hook`,
//! repository settings on the ledger and the grove setup they drive.

mod common;

use std::path::{Path, PathBuf};

use common::{TestEnv, code};
use serde_json::{Value, json};

fn grove_path(env: &TestEnv, name: &str) -> PathBuf {
    PathBuf::from(
        env.orc(&["grove", "show", name, "--json"]).ok().json()["grove"]["path"]
            .as_str()
            .unwrap(),
    )
}

fn claude_state(env: &TestEnv) -> Value {
    serde_json::from_slice(&std::fs::read(env.home.join(".claude.json")).unwrap()).unwrap()
}

fn trusted(state: &Value, dir: &Path) -> Value {
    state["projects"][dir.display().to_string()]["hasTrustDialogAccepted"].clone()
}

#[test]
fn trust_records_claude_codes_own_key_per_directory_merged_and_reversible() {
    let env = TestEnv::with_mission();
    env.orc(&["grove", "create", "echo"]).ok();
    let echo = grove_path(&env, "echo");
    let ws = env.workspace("MISSION-001");
    // What Claude Code already wrote: other keys, a project it knows, and
    // the grove explicitly not trusted.
    let before = json!({
        "numStartups": 7,
        "hasCompletedOnboarding": true,
        "projects": {
            "/somewhere/else": {"hasTrustDialogAccepted": true, "allowedTools": []},
            echo.display().to_string(): {"hasTrustDialogAccepted": false, "history": ["x"]}
        }
    });
    let file = env.home.join(".claude.json");
    std::fs::write(&file, serde_json::to_vec_pretty(&before).unwrap()).unwrap();
    std::fs::set_permissions(&file, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let out = env.orc(&["hooks", "trust", "--json"]).ok().json();
    assert_eq!(out["trusted"].as_array().unwrap().len(), 2, "{out:#}");
    let after = claude_state(&env);
    assert_eq!(trusted(&after, &echo), true);
    assert_eq!(trusted(&after, &ws), true);
    assert_eq!(after["numStartups"], 7);
    assert_eq!(
        after["projects"]["/somewhere/else"],
        before["projects"]["/somewhere/else"]
    );
    assert_eq!(
        after["projects"][echo.display().to_string()]["history"],
        json!(["x"])
    );
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    // Idempotent: nothing more to do, the file is not rewritten.
    let text = std::fs::read(&file).unwrap();
    let again = env.orc(&["hooks", "trust", "--json"]).ok().json();
    assert_eq!(again["trusted"], json!([]));
    assert_eq!(std::fs::read(&file).unwrap(), text);
    assert!(
        !env.home.join(".claude.json.lock").exists(),
        "the lock is released"
    );
    // Reversible: exactly what was there comes back.
    env.orc(&["hooks", "untrust"]).ok();
    let undone = claude_state(&env);
    assert_eq!(undone, before);
    env.orc(&["hooks", "untrust", "--json"]).ok();
}

/// Claude Code writes its state file while it runs, under its lock (the
/// directory `~/.claude.json.lock`). A stand-in takes the same lock and
/// adds a key each round while orc trusts and untrusts: no write of either
/// side is lost.
#[test]
fn trust_never_clobbers_what_claude_code_writes_meanwhile() {
    let env = TestEnv::with_mission();
    env.orc(&["grove", "create", "echo"]).ok();
    let echo = grove_path(&env, "echo");
    let file = env.home.join(".claude.json");
    std::fs::write(&file, "{\"projects\": {}}\n").unwrap();
    let writer = {
        let file = file.clone();
        std::thread::spawn(move || {
            let lock = PathBuf::from(format!("{}.lock", file.display()));
            for i in 0..150 {
                // proper-lockfile: mkdir is the lock.
                while std::fs::create_dir(&lock).is_err() {
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
                let mut v: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
                v[format!("key{i}")] = json!(i);
                let tmp = file.with_extension("tmp-writer");
                std::fs::write(&tmp, serde_json::to_vec(&v).unwrap()).unwrap();
                std::fs::rename(&tmp, &file).unwrap();
                std::fs::remove_dir(&lock).unwrap();
                std::thread::sleep(std::time::Duration::from_micros(300));
            }
        })
    };
    for _ in 0..10 {
        env.orc(&["hooks", "trust"]).ok();
        env.orc(&["hooks", "untrust"]).ok();
    }
    env.orc(&["hooks", "trust"]).ok();
    writer.join().unwrap();
    let v = claude_state(&env);
    for i in 0..150 {
        assert_eq!(v[format!("key{i}")], i, "the writer's key{i} was lost");
    }
    assert_eq!(trusted(&v, &echo), true);
}

#[test]
fn auto_trust_trusts_new_groves_and_workspaces_and_remove_takes_it_back() {
    let env = TestEnv::new();
    std::fs::create_dir_all(env.home.join(".orc")).unwrap();
    std::fs::write(env.home.join(".orc/orc.toml"), "auto_trust = true\n").unwrap();
    env.orc(&["init"]).ok();
    env.orc(&["mission", "create", "m"]).ok();
    env.orc(&["grove", "create", "echo"]).ok();
    let echo = grove_path(&env, "echo");
    let v = claude_state(&env);
    assert_eq!(trusted(&v, &echo), true);
    assert_eq!(trusted(&v, &env.workspace("MISSION-001")), true);
    env.orc(&["grove", "remove", "echo"]).ok();
    assert_eq!(trusted(&claude_state(&env), &echo), Value::Null);
}

#[test]
fn a_codex_grove_gets_instructions_hidden_from_git_and_trust_in_its_config() {
    let env = TestEnv::with_mission();
    env.orc(&["grove", "create", "cx", "--agent", "codex"]).ok();
    env.orc(&["grove", "create", "cl"]).ok();
    let cx = grove_path(&env, "cx");
    let agents = std::fs::read_to_string(cx.join("AGENTS.md")).unwrap();
    assert!(agents.contains("orc work start"), "{agents}");
    assert!(agents.starts_with("<!-- written by orc"));
    assert!(!grove_path(&env, "cl").join("AGENTS.md").exists());
    assert!(
        grove_path(&env, "cl")
            .join(".claude/settings.local.json")
            .exists()
    );
    let status = env.git_in(&cx, &["status", "--porcelain"]).ok().stdout;
    assert_eq!(status, "", "orc's files are hidden from git status");
    let st = env.orc_in(&cx, &["hooks", "status", "--json"]).ok().json();
    assert_eq!(st["agent"], "codex");
    let listed = env.orc(&["grove", "list", "--json"]).ok().json();
    assert_eq!(listed["groves"][0]["agent"], "codex");
    assert_eq!(listed["groves"][0]["agent_status"]["kind"], "codex");
    // Trust, in the user's config, keeping its comments.
    let codex_home = env.home.join(".codex");
    std::fs::create_dir_all(&codex_home).unwrap();
    let mine =
        "# my settings\nmodel = \"o9\"\n\n[projects.\"/elsewhere\"]\ntrust_level = \"trusted\"\n";
    std::fs::write(codex_home.join("config.toml"), mine).unwrap();
    env.orc(&["hooks", "trust"]).ok();
    let text = std::fs::read_to_string(codex_home.join("config.toml")).unwrap();
    assert!(text.starts_with(mine), "{text}");
    assert!(
        text.contains(&format!(
            "[projects.\"{}\"]\ntrust_level = \"trusted\"",
            cx.display()
        )),
        "{text}"
    );
    env.orc(&["hooks", "untrust"]).ok();
    assert_eq!(
        std::fs::read_to_string(codex_home.join("config.toml")).unwrap(),
        mine
    );
    // A project's own AGENTS.md is never overwritten.
    std::fs::write(cx.join("AGENTS.md"), "project rules\n").unwrap();
    let out = env.orc_in(&cx, &["hooks", "install"]).code(code::CONFLICT);
    assert!(out.stderr.contains("does not overwrite"), "{}", out.stderr);
    assert_eq!(
        std::fs::read_to_string(cx.join("AGENTS.md")).unwrap(),
        "project rules\n"
    );
    env.orc(&["grove", "create", "x", "--agent", "nope"])
        .code(code::NOT_FOUND);
}

#[test]
fn hooks_report_the_agents_state_and_session_start_primes_it() {
    let env = TestEnv::with_mission();
    env.orc(&["grove", "create", "echo"]).ok();
    let echo = grove_path(&env, "echo");
    let hook = |event: &str, payload: Value| {
        let mut cmd = env.command(TestEnv::bin(), &echo);
        cmd.args(["hook", event])
            .env("CLAUDE_PID", "4242")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(payload.to_string().as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap()
    };
    let state = || -> Value {
        serde_json::from_slice(&std::fs::read(echo.join(".orc/agent.json")).unwrap()).unwrap()
    };
    let primed = hook(
        "SessionStart",
        json!({"session_id": "s1", "source": "startup"}),
    );
    let primed: Value = serde_json::from_str(&primed).unwrap();
    assert!(
        primed["hookSpecificOutput"]["additionalContext"]
            .as_str()
            .unwrap()
            .contains("IMP-GROVE-001")
    );
    assert_eq!(state()["state"], "ready");
    assert_eq!(state()["pid"], 4242);
    assert_eq!(state()["session"], "s1");
    hook("UserPromptSubmit", json!({"prompt": "go"}));
    assert_eq!(state()["state"], "working");
    hook(
        "PermissionRequest",
        json!({"tool_name": "Bash", "tool_input": {"command": "curl example.com"}}),
    );
    let st = state();
    assert_eq!(st["state"], "waiting");
    assert_eq!(st["waiting_for"], "permission");
    assert_eq!(st["detail"], "Bash: curl example.com");
    let listed = env.orc(&["grove", "list"]).ok().stdout;
    assert!(
        listed.contains("GROVE-001 claude: waiting since")
            && listed.contains("for permission (Bash: curl example.com)"),
        "{listed}"
    );
    let status = env.orc(&["status", "--json"]).ok().json();
    let agents = status["agents"].as_array().unwrap();
    assert!(
        agents
            .iter()
            .any(|a| a["who"] == "GROVE-001" && a["state"]["state"] == "waiting")
    );
    hook("PostToolUse", json!({}));
    assert_eq!(state()["state"], "working");
    hook("Stop", json!({}));
    assert_eq!(state()["state"], "ready");
    hook("SessionEnd", json!({"reason": "prompt_input_exit"}));
    assert_eq!(state()["state"], "gone");
    // Codex's notify passes its JSON as an argument; the title side
    // conversation is not a turn of the agent.
    let notify = |payload: Value| {
        env.orc_in(
            &echo,
            &["hook", "Notify", "--agent", "codex", &payload.to_string()],
        )
        .ok();
    };
    notify(
        json!({"type": "agent-turn-complete", "input-messages": ["Generate a concise, single-line task title"]}),
    );
    assert_eq!(state()["state"], "gone");
    notify(json!({"type": "agent-turn-complete", "input-messages": ["orc: WO-001 assigned"]}));
    assert_eq!(state()["state"], "ready");
    assert_eq!(state()["agent"], "codex");
    // The state file is local: never a direct edit, never on the ledger.
    assert_eq!(
        env.orc_in(&echo, &["apply", "--json"]).ok().json()["result"],
        "nothing"
    );
    env.git(&["cat-file", "-e", "orc:groves/GROVE-001/agent.json"])
        .code(128);
    // Garbage on stdin or outside orc's directories: nothing breaks.
    env.orc(&["hook", "Stop"]).ok();
    env.orc_in(&echo, &["hook", "Stop", "{not json"]).ok();
}

#[test]
fn settings_on_the_ledger_drive_grove_setup_all_or_nothing() {
    let env = TestEnv::with_mission();
    env.orc(&["config", "get", "grove.copy"])
        .code(code::NOT_FOUND);
    env.orc(&["config", "set", "nope.key", "x"])
        .code(code::USAGE);
    std::fs::write(env.repo.join(".env"), "SECRET=1\n").unwrap();
    std::fs::write(env.repo.join(".git/info/exclude"), ".env\n").unwrap();
    env.orc(&["config", "set", "grove.copy", ".env"]).ok();
    env.orc(&[
        "config",
        "set",
        "grove.setup",
        "echo ran > setup.out",
        "test -f .env",
    ])
    .ok();
    let got = env
        .orc(&["config", "get", "grove.setup", "--json"])
        .ok()
        .json();
    assert_eq!(
        got["grove.setup"],
        json!(["echo ran > setup.out", "test -f .env"])
    );
    let subject = env.git(&["log", "-1", "--format=%s", "orc"]).ok().line();
    assert_eq!(
        subject,
        "settings: grove.setup = [\"echo ran > setup.out\",\"test -f .env\"]"
    );
    let listed = env.orc(&["config", "list"]).ok().stdout;
    assert!(listed.contains("grove.copy = [\".env\"]"), "{listed}");
    env.orc(&["grove", "create", "g1"]).ok();
    let g1 = grove_path(&env, "g1");
    assert_eq!(
        std::fs::read_to_string(g1.join(".env")).unwrap(),
        "SECRET=1\n"
    );
    assert_eq!(
        std::fs::read_to_string(g1.join("setup.out")).unwrap(),
        "ran\n"
    );
    // A failing command: the error says which and what it printed, and
    // nothing is left: no worktree, no branch, no ledger record.
    env.orc(&["config", "set", "grove.setup", "echo about to fail; exit 3"])
        .ok();
    let tip = env.tip();
    let out = env.orc(&["grove", "create", "g2"]).code(code::ENVIRONMENT);
    assert!(
        out.stderr
            .contains("`echo about to fail; exit 3` failed (exit 3)"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("about to fail"), "{}", out.stderr);
    assert_eq!(env.tip(), tip);
    env.git(&["rev-parse", "--verify", "refs/heads/g2"])
        .code(128);
    let worktrees = env.git(&["worktree", "list"]).ok().stdout;
    assert!(!worktrees.contains("g2"), "{worktrees}");
    // ...so a retry after fixing it works.
    env.orc(&["config", "unset", "grove.setup"]).ok();
    env.orc(&["grove", "create", "g2"]).ok();
    // A missing file to copy is named.
    env.orc(&["config", "set", "grove.copy", "missing.txt"])
        .ok();
    let out = env.orc(&["grove", "create", "g3"]).code(code::NOT_FOUND);
    assert!(out.stderr.contains("missing.txt"), "{}", out.stderr);
    env.git(&["rev-parse", "--verify", "refs/heads/g3"])
        .code(128);
    env.orc(&["doctor", "--json"]);
}

#[test]
fn a_grove_whose_profile_is_gone_is_named_by_doctor_and_refused_by_deploy() {
    let mut env = TestEnv::with_mission();
    common::fake_agent(&mut env, "claude", "2.1.332 (Claude Code)");
    let toml = env.home.join(".orc/orc.toml");
    std::fs::create_dir_all(env.home.join(".orc")).unwrap();
    std::fs::write(
        &toml,
        "[profiles.fast]\ncommand = \"claude --model haiku\"\n",
    )
    .unwrap();
    env.orc(&["grove", "create", "quick", "--agent", "fast"])
        .ok();
    let g = env.orc(&["grove", "show", "quick", "--json"]).ok().json();
    assert_eq!(g["grove"]["agent"], "fast");
    std::fs::write(&toml, "").unwrap();
    let report = env
        .orc(&["doctor", "--json"])
        .code(code::ENVIRONMENT)
        .json();
    let failed: Vec<&Value> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["check"] == "agent" && c["ok"] == false)
        .collect();
    assert!(
        failed.iter().any(|c| c["message"]
            .as_str()
            .unwrap()
            .contains("GROVE-001: no agent profile named \"fast\"")),
        "{failed:#?}"
    );
    let out = env
        .orc(&["deploy", "--socket", "orc-test-none"])
        .code(code::NOT_FOUND);
    assert!(
        out.stderr.contains("no agent profile named \"fast\""),
        "{}",
        out.stderr
    );
    // The rest still works: the grove shows, status shows the other agents.
    env.orc(&["status", "--json"]).ok();
}
