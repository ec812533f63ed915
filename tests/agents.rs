//! Mail, `prime` for both roles (snapshots), Claude Code hooks, and
//! `orc doctor` with each failure it detects.

mod common;

use std::path::{Path, PathBuf};

use common::{TestEnv, code};
use serde_json::{Value, json};

fn setup() -> (TestEnv, PathBuf, PathBuf) {
    let env = TestEnv::with_mission();
    env.orc(&[
        "wo",
        "create",
        "Echo endpoint",
        "-d",
        "Serve /echo.",
        "--priority",
        "high",
    ])
    .ok();
    env.orc(&[
        "wo",
        "create",
        "Implement the handler",
        "--parent",
        "WO-001",
        "-d",
        "Write it in src/echo.rs.\nKeep it small.",
        "--acceptance",
        "GET /echo?msg=hi returns hi",
    ])
    .ok();
    env.orc(&[
        "wo",
        "create",
        "Test the handler",
        "--parent",
        "WO-001",
        "--depends-on",
        "WO-002",
    ])
    .ok();
    env.orc(&["wo", "create", "Write the changelog", "--priority", "low"])
        .ok();
    env.orc(&["grove", "create", "echo"]).ok();
    env.orc(&["grove", "create", "docs"]).ok();
    let path = |g: &str| {
        PathBuf::from(
            env.orc(&["grove", "show", g, "--json"]).ok().json()["grove"]["path"]
                .as_str()
                .unwrap(),
        )
    };
    let (echo, docs) = (path("echo"), path("docs"));
    (env, echo, docs)
}

/// Replaces the temporary root in output with `$ROOT` and the repository
/// hash in paths with `<hash>`, so snapshots are stable.
fn normalise(env: &TestEnv, text: &str) -> String {
    let mut out = text.replace(&env.root.display().to_string(), "$ROOT");
    while let Some(i) = out.find("repo-") {
        let end = i + 5 + 8;
        if out.len() >= end && out[i + 5..end].chars().all(|c| c.is_ascii_hexdigit()) {
            out.replace_range(i..end, "repo-<hash>");
        } else {
            break;
        }
    }
    out
}

#[test]
fn mail_goes_to_the_recipients_inbox_on_the_ledger_and_read_state_is_kept() {
    let (env, echo, _) = setup();
    let ws = env.workspace("MISSION-001");
    let id = env
        .orc_in(
            &echo,
            &[
                "mail",
                "send",
                "--to",
                "deputy",
                "Which port does the server use?",
                "--wo",
                "WO-003",
            ],
        )
        .ok()
        .line();
    assert_eq!(id, "MSG-001");
    assert_eq!(
        env.git(&["log", "-1", "--format=%an|%s", "orc"])
            .ok()
            .line(),
        "IMP-GROVE-001|MSG-001: mail from IMP-GROVE-001 to deputy"
    );
    let on_ledger: Value =
        serde_json::from_str(&env.ledger_file("missions/MISSION-001/inbox/MSG-001.json")).unwrap();
    assert_eq!(on_ledger["from"], "IMP-GROVE-001");
    assert_eq!(on_ledger["to"], "deputy");
    assert_eq!(on_ledger["work_order"], "WO-003");
    assert_eq!(on_ledger["read_at"], Value::Null);
    assert!(ws.join(".orc/inbox/MSG-001.json").exists());

    let inbox = env.orc_in(&ws, &["mail", "inbox"]).ok().stdout;
    assert_eq!(
        inbox,
        "MSG-001  from IMP-GROVE-001 about WO-003 (unread): Which port does the server use?\n"
    );
    let read = env.orc_in(&ws, &["mail", "read", "MSG-001"]).ok().stdout;
    assert!(read.contains("Which port does the server use?"), "{read}");
    assert_eq!(
        env.git(&["log", "-1", "--format=%an|%s", "orc"])
            .ok()
            .line(),
        "DEPUTY-MISSION-001|MSG-001: read by DEPUTY-MISSION-001"
    );
    assert_eq!(
        env.orc_in(&ws, &["mail", "inbox"]).ok().stdout,
        "",
        "nothing unread"
    );
    assert_eq!(
        env.orc_in(&ws, &["mail", "inbox", "--all"])
            .ok()
            .stdout
            .lines()
            .count(),
        1
    );
    // Reading again changes nothing.
    let tip = env.tip();
    env.orc_in(&ws, &["mail", "read", "MSG-001"]).ok();
    assert_eq!(env.tip(), tip);

    // The answer goes to the grove.
    env.orc_in(
        &ws,
        &[
            "mail",
            "send",
            "--to",
            "GROVE-001",
            "Port 8080.",
            "--reply-to",
            "MSG-001",
        ],
    )
    .ok();
    assert!(echo.join(".orc/inbox/MSG-002.json").exists());
    let check = env.orc_in(&echo, &["mail", "check", "--hook"]).ok().json();
    assert_eq!(
        check["hookSpecificOutput"]["hookEventName"],
        "UserPromptSubmit"
    );
    let context = check["hookSpecificOutput"]["additionalContext"]
        .as_str()
        .unwrap();
    assert!(
        context.contains("MSG-002  from DEPUTY-MISSION-001 (unread): Port 8080."),
        "{context}"
    );
    env.orc_in(&echo, &["mail", "read", "MSG-002"]).ok();
    assert_eq!(
        env.orc_in(&echo, &["mail", "check", "--hook"]).ok().stdout,
        "",
        "silent without mail"
    );
    // Bad input.
    env.orc_in(&echo, &["mail", "send", "--to", "deputy", "  "])
        .code(code::USAGE);
    env.orc_in(&echo, &["mail", "send", "--to", "GROVE-999", "x"])
        .code(code::NOT_FOUND);
    env.orc_in(&echo, &["mail", "read", "MSG-001"])
        .code(code::NOT_FOUND);
}

#[test]
fn prime_for_an_imp() {
    let (env, echo, docs) = setup();
    env.orc(&[
        "assign",
        "WO-001",
        "--grove",
        "echo",
        "--as",
        "DEPUTY-MISSION-001",
    ])
    .ok();
    env.orc(&[
        "mail",
        "send",
        "--to",
        "echo",
        "Use port 8080.",
        "--as",
        "DEPUTY-MISSION-001",
    ])
    .ok();
    let text = normalise(&env, &env.orc_in(&echo, &["prime"]).ok().stdout);
    let expected = "\
# orc: you are IMP-GROVE-001, the implementation agent (IMP) of grove GROVE-001 (echo)
Mission MISSION-001. Commit your work on branch echo in $ROOT/home/src/worktrees/repo-<hash>/MISSION-001/echo.

## Your assignment: WO-001 \"Echo endpoint\" (from DEPUTY-MISSION-001 at 2026-11-21T09:30:00Z)
Next: WO-002 \"Implement the handler\"
  Write it in src/echo.rs.
  Keep it small.
  Acceptance:
  - GET /echo?msg=hi returns hi
Work orders, in the order to do them:
  WO-001  assigned     Echo endpoint
  WO-002  assigned     Implement the handler  (<- next)
  WO-003  assigned     Test the handler  (after WO-002)

## How to report (each is one ledger commit; the deputy is told)
  orc work start [WO]                   when you begin a work order
  orc work done [WO] --summary TEXT     when it is finished and committed
  orc work block [WO] --reason TEXT     when you are stuck
  orc work note [WO] TEXT               to leave a note
  orc mail send --to deputy TEXT        to ask the deputy
Or edit .orc/assigned-work.json: set work_orders[].status to in_progress, review,
done or blocked (with blocked_reason), set summary, append {\"text\": ...} to notes.
Work you hand in with commits goes to review; it is done once it has landed on the
mission's integration branch. Work sent back (rejected, a conflict, a failed check)
returns here in_progress, with the reason in its notes.

## Mail: 1 unread
  MSG-001 from DEPUTY-MISSION-001: Use port 8080.
  Read one with `orc mail read MSG-...`.
";
    assert_eq!(text, expected);
    assert!(text.lines().count() <= 60);
    // The hook form carries the same text.
    let hook = env.orc_in(&echo, &["prime", "--hook"]).ok().json();
    assert_eq!(hook["hookSpecificOutput"]["hookEventName"], "SessionStart");
    assert_eq!(
        normalise(
            &env,
            hook["hookSpecificOutput"]["additionalContext"]
                .as_str()
                .unwrap()
        ),
        expected
    );
    let data = env.orc_in(&echo, &["prime", "--json"]).ok().json();
    assert_eq!(data["role"], "imp");
    assert_eq!(data["data"]["next"], "WO-002");
    // An idle grove says so.
    let idle = normalise(&env, &env.orc_in(&docs, &["prime"]).ok().stdout);
    assert!(
        idle.contains("No work is assigned to this grove right now."),
        "{idle}"
    );
}

#[test]
fn prime_for_a_deputy() {
    let (env, echo, _) = setup();
    env.orc(&["assign", "WO-001", "--grove", "echo"]).ok();
    env.orc_in(&echo, &["work", "block", "--reason", "which port?"])
        .ok();
    env.orc_in(
        &echo,
        &[
            "mail",
            "send",
            "--to",
            "deputy",
            "Which port?",
            "--wo",
            "WO-002",
        ],
    )
    .ok();
    let ws = env.workspace("MISSION-001");
    let text = normalise(&env, &env.orc_in(&ws, &["prime"]).ok().stdout);
    let expected = "\
# orc: you are DEPUTY-MISSION-001, the deputy of MISSION-001 \"Echo service\"
Workspace $ROOT/home/src/missions/repo-<hash>/MISSION-001 · ledger branch orc

## Work: 4 work orders: 2 assigned, 1 blocked, 1 ready
Ready to assign:
  WO-004  low       Write the changelog
Blocked:
  WO-002  IMP-GROVE-001  which port?

## Groves
  GROVE-001  echo  busy with WO-001
  GROVE-002  docs  idle

## Mail: 1 unread
  MSG-001 from IMP-GROVE-001 about WO-002: Which port?
  Read one with `orc mail read MSG-...`.

## Commands
  orc wo create TITLE [--parent WO] [--depends-on WO]   orc summary
  orc assign WO --grove GROVE   orc discover [--auto-claim]   orc unassign GROVE
  orc mail send --to GROVE TEXT   orc mail read MSG
  orc review WO   orc approve WO   orc reject WO --reason T   orc merge   orc mission land
";
    assert_eq!(text, expected);
    assert!(text.lines().count() <= 60);
    assert_eq!(env.orc(&["prime", "--json"]).ok().json()["role"], "none");
}

fn settings(dir: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(dir.join(".claude/settings.local.json")).unwrap())
        .unwrap()
}

fn item<'v>(status: &'v Value, kind: &str, name: &str) -> &'v Value {
    status["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["kind"] == kind && i["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name} in {status:#}"))
}

#[test]
fn hooks_install_merges_into_existing_settings_and_status_detects_drift() {
    let env = TestEnv::with_mission();
    let ws = env.workspace("MISSION-001");
    // mission create installed them already.
    let status = env.orc_in(&ws, &["hooks", "status", "--json"]).ok().json();
    assert_eq!(status["agent"], "claude");
    assert_eq!(item(&status, "hook", "SessionStart")["state"], "installed");
    // An existing settings file with the user's own settings and hooks.
    let mine = json!({
        "permissions": {"allow": ["Bash(cargo test:*)"], "defaultMode": "default"},
        "hooks": {
            "SessionStart": [{"hooks": [{"type": "command", "command": "echo hello"}]}],
            "PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "audit.sh"}]}]
        },
        "model": "opus"
    });
    std::fs::write(
        ws.join(".claude/settings.local.json"),
        serde_json::to_vec_pretty(&mine).unwrap(),
    )
    .unwrap();
    let status = env
        .orc_in(&ws, &["hooks", "status", "--json"])
        .code(code::NOT_FOUND)
        .json();
    assert_eq!(item(&status, "hook", "SessionStart")["state"], "missing");
    assert_eq!(
        item(&status, "permission", "Bash(orc *)")["state"],
        "missing"
    );
    // The user's own mode applies allow rules by itself: it stays.
    assert_eq!(item(&status, "mode", "defaultMode")["state"], "installed");
    env.orc_in(&ws, &["hooks", "install"]).ok();
    let s = settings(&ws);
    assert_eq!(s["model"], "opus");
    assert_eq!(s["permissions"]["defaultMode"], "default");
    let allow: Vec<&str> = s["permissions"]["allow"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    let orc = TestEnv::bin().canonicalize().unwrap();
    assert_eq!(
        allow,
        [
            "Bash(cargo test:*)",
            "Bash(orc *)",
            &format!("Bash({} *)", orc.display())
        ],
        "the deputy may run orc, nothing more by default"
    );
    assert_eq!(
        s["hooks"]["PreToolUse"][0]["hooks"][0]["command"],
        "audit.sh"
    );
    let start = s["hooks"]["SessionStart"].as_array().unwrap();
    assert_eq!(start.len(), 2, "the user's hook stays, orc's is added");
    assert_eq!(start[0]["hooks"][0]["command"], "echo hello");
    assert_eq!(
        start[1]["hooks"][0]["command"],
        format!("{} hook SessionStart", orc.display())
    );
    assert_eq!(start[1]["matcher"], "startup|resume|clear|compact");
    for event in [
        "UserPromptSubmit",
        "PostToolUse",
        "PermissionRequest",
        "Notification",
        "Stop",
        "SessionEnd",
    ] {
        assert_eq!(
            s["hooks"][event][0]["hooks"][0]["command"],
            format!("{} hook {event}", orc.display()),
            "{event}"
        );
    }
    // Installing again changes nothing; status is clean.
    let again = env.orc_in(&ws, &["hooks", "install", "--json"]).ok().json();
    assert_eq!(again["changed"], false);
    env.orc_in(&ws, &["hooks", "status"]).ok();
    // A hook an older orc installed has drifted, and install replaces it
    // without duplicating it.
    let mut s = settings(&ws);
    s["hooks"]["SessionStart"][1]["hooks"][0]["command"] = json!("/old/bin/orc prime --hook");
    std::fs::write(
        ws.join(".claude/settings.local.json"),
        serde_json::to_vec_pretty(&s).unwrap(),
    )
    .unwrap();
    let status = env
        .orc_in(&ws, &["hooks", "status", "--json"])
        .code(code::NOT_FOUND)
        .json();
    let start = item(&status, "hook", "SessionStart");
    assert_eq!(start["state"], "drifted");
    assert_eq!(start["found"], "/old/bin/orc prime --hook");
    env.orc_in(&ws, &["hooks", "install"]).ok();
    assert_eq!(
        settings(&ws)["hooks"]["SessionStart"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    env.orc_in(&ws, &["hooks", "status"]).ok();
    // Garbage in the settings file is named and left alone.
    std::fs::write(ws.join(".claude/settings.local.json"), "{oops").unwrap();
    let out = env.orc_in(&ws, &["hooks", "install"]).code(code::INVALID);
    assert!(out.stderr.contains("settings.local.json"), "{}", out.stderr);
    assert_eq!(
        std::fs::read_to_string(ws.join(".claude/settings.local.json")).unwrap(),
        "{oops"
    );
    env.orc(&["hooks", "install"]).code(code::USAGE);
}

/// Entries Claude Code rejects (it skips them with a warning that waits for
/// a keypress at start) are named by `hooks status` and `doctor`, whoever
/// wrote them; `hooks install` leaves them and says so.
#[test]
fn hook_entries_claude_code_rejects_are_reported() {
    let env = TestEnv::with_mission();
    let ws = env.workspace("MISSION-001");
    let path = ws.join(".claude/settings.local.json");
    let mut s = settings(&ws);
    s["hooks"]["UserPromptSubmit"]
        .as_array_mut()
        .unwrap()
        .push(json!({"hooks": [{"type": "cmd", "command": "x"}]}));
    s["hooks"]["FooBar"] = json!([]);
    std::fs::write(&path, serde_json::to_vec_pretty(&s).unwrap()).unwrap();
    let status = env
        .orc_in(&ws, &["hooks", "status", "--json"])
        .code(code::NOT_FOUND)
        .json();
    let bad = item(
        &status,
        "invalid",
        "hooks.UserPromptSubmit[1].hooks[0].type",
    );
    assert_eq!(bad["found"], "\"cmd\"");
    assert!(bad["expected"].as_str().unwrap().contains("command"));
    item(&status, "invalid", "hooks.FooBar");
    let out = env.orc_in(&ws, &["hooks", "install"]).code(code::INVALID);
    assert!(out.stderr.contains("rejects"), "{}", out.stderr);
    assert_eq!(settings(&ws)["hooks"]["FooBar"], json!([]), "left alone");
}

/// A test environment where doctor passes: hooks installed everywhere and
/// the roots trusted.
fn healthy() -> (TestEnv, PathBuf) {
    let mut env = TestEnv::new();
    common::fake_agent(&mut env, "claude", "2.1.332 (Claude Code)");
    env.orc(&["init"]).ok();
    env.orc(&["mission", "create", "Echo service"]).ok();
    env.orc(&["grove", "create", "echo"]).ok();
    env.orc(&["hooks", "trust"]).ok();
    let echo = PathBuf::from(
        env.orc(&["grove", "show", "echo", "--json"]).ok().json()["grove"]["path"]
            .as_str()
            .unwrap(),
    );
    (env, echo)
}

fn doctor_fails(env: &TestEnv, check: &str, expect: &str) {
    let out = env.orc(&["doctor", "--json"]).code(code::ENVIRONMENT);
    let report = out.json();
    assert_eq!(report["ok"], false);
    let failed: Vec<&Value> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["ok"] == false)
        .collect();
    assert!(
        failed.iter().any(|c| c["check"] == check
            && c["message"].as_str().unwrap().contains(expect)
            && c["fix"].is_string()),
        "expected a failed {check} check mentioning {expect:?}: {failed:#?}"
    );
}

#[test]
fn doctor_passes_when_everything_is_in_place() {
    let (env, _) = healthy();
    let out = env.orc(&["doctor"]).ok().stdout;
    assert!(out.contains("0 failed"), "{out}");
    assert!(
        out.contains("claude 2.1.332 (Claude Code) (claude)"),
        "{out}"
    );
    for check in [
        "git", "tmux", "ledger", "grove", "config", "hooks", "trust", "agent",
    ] {
        assert!(
            out.lines()
                .any(|l| l.starts_with("ok") && l.contains(&format!(" {check} "))),
            "{check}: {out}"
        );
    }
}

#[test]
fn doctor_detects_missing_tools() {
    let (mut env, _) = healthy();
    // A PATH with git but without tmux.
    let bin = env.root.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let git = String::from_utf8(
        std::process::Command::new("sh")
            .args(["-c", "command -v git"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    std::os::unix::fs::symlink(git.trim(), bin.join("git")).unwrap();
    env.set_env("PATH", bin.to_str().unwrap());
    doctor_fails(&env, "tmux", "tmux is not installed");
    // An old git.
    std::fs::remove_file(bin.join("git")).unwrap();
    std::fs::write(bin.join("git"), "#!/bin/sh\necho 'git version 2.1.0'\n").unwrap();
    std::fs::set_permissions(
        bin.join("git"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    doctor_fails(&env, "git", "git 2.1 is older than 2.17");
}

#[test]
fn doctor_detects_an_invalid_file_on_the_ledger() {
    let (env, _) = healthy();
    // Commit a broken work order straight onto the ledger with git plumbing.
    let blob = {
        let mut cmd = env.command("git", &env.repo);
        cmd.args(["hash-object", "-w", "--stdin"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(b"{\"format\": 1, \"id\": \"WO-001\"")
            .unwrap();
        String::from_utf8(child.wait_with_output().unwrap().stdout)
            .unwrap()
            .trim()
            .to_string()
    };
    let index = env.root.join("tmp-index");
    let with_index = |args: &[&str]| {
        let mut cmd = env.command("git", &env.repo);
        cmd.env("GIT_INDEX_FILE", &index).args(args);
        common::run(cmd, args.join(" ")).ok()
    };
    with_index(&["read-tree", "orc"]);
    with_index(&[
        "update-index",
        "--add",
        "--cacheinfo",
        &format!("100644,{blob},missions/MISSION-001/work-orders/WO-001.json"),
    ]);
    let tree = with_index(&["write-tree"]).line();
    let commit = env
        .git(&["commit-tree", &tree, "-p", "orc", "-m", "broken by hand"])
        .ok()
        .line();
    env.git(&["update-ref", "refs/heads/orc", &commit]).ok();
    doctor_fails(
        &env,
        "ledger",
        "missions/MISSION-001/work-orders/WO-001.json: line 1, column 28: EOF while parsing",
    );
}

#[test]
fn doctor_detects_grove_problems() {
    let (env, echo) = healthy();
    // Not on its branch.
    env.git_in(&echo, &["switch", "-q", "-c", "elsewhere"]).ok();
    doctor_fails(&env, "grove", "not on its branch echo");
    env.git_in(&echo, &["switch", "-q", "echo"]).ok();
    // .orc/ no longer hidden.
    let exclude = env.repo.join(".git/info/exclude");
    let kept = std::fs::read_to_string(&exclude).unwrap();
    std::fs::write(&exclude, "").unwrap();
    doctor_fails(&env, "grove", ".orc/ is not hidden from git");
    std::fs::write(&exclude, kept).unwrap();
    // The directory is gone.
    std::fs::rename(&echo, env.root.join("moved")).unwrap();
    doctor_fails(&env, "grove", "the directory does not exist");
}

#[test]
fn doctor_detects_bad_configs() {
    let (env, echo) = healthy();
    let config = echo.join(".orc/config.json");
    let good = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, good.replace("GROVE-001", "GROVE-007")).unwrap();
    doctor_fails(
        &env,
        "config",
        "does not match the ledger's record of GROVE-001",
    );
    std::fs::write(&config, "{").unwrap();
    doctor_fails(&env, "config", "config.json: line 1");
    std::fs::write(&config, good).unwrap();
    let ws = env.workspace("MISSION-001");
    let wconfig = ws.join(".orc/config.json");
    let good = std::fs::read_to_string(&wconfig).unwrap();
    std::fs::write(
        &wconfig,
        good.replace("\"type\": \"mission\"", "\"type\": \"global\""),
    )
    .unwrap();
    doctor_fails(
        &env,
        "config",
        "does not match the ledger's record of MISSION-001",
    );
}

#[test]
fn doctor_detects_missing_and_drifted_hooks_and_untrusted_roots() {
    let (env, echo) = healthy();
    std::fs::remove_file(echo.join(".claude/settings.local.json")).unwrap();
    doctor_fails(
        &env,
        "hooks",
        "GROVE-001: hook SessionStart missing, hook UserPromptSubmit missing",
    );
    env.orc_in(&echo, &["hooks", "install"]).ok();
    let path = echo.join(".claude/settings.local.json");
    let text = std::fs::read_to_string(&path).unwrap();
    let orc = TestEnv::bin().canonicalize().unwrap().display().to_string();
    std::fs::write(
        &path,
        text.replace(&format!("{orc} hook SessionStart"), "/old/orc prime --hook"),
    )
    .unwrap();
    doctor_fails(&env, "hooks", "hook SessionStart drifted");
    env.orc_in(&echo, &["hooks", "install"]).ok();
    // Trust as Claude Code decides it: per grove and workspace.
    env.orc(&["hooks", "untrust"]).ok();
    doctor_fails(&env, "trust", "GROVE-001: claude does not trust");
    doctor_fails(&env, "trust", "MISSION-001: claude does not trust");
    env.orc(&["hooks", "trust"]).ok();
    env.orc(&["doctor"]).ok();
    // The agent's command must be installed.
    std::fs::remove_file(env.root.join("bin/claude")).unwrap();
    doctor_fails(
        &env,
        "agent",
        "\"claude\" (profile \"claude\") is not installed",
    );
}
