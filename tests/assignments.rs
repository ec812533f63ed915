//! The assignment protocol: assign writes the work orders and the grove's
//! assigned-work.json in one commit; the IMP reports by command or by
//! editing the file, each one commit updating both; the file stays in sync
//! with changes made anywhere; invalid edits are set aside.

mod common;

use std::path::{Path, PathBuf};

use common::{NOW, TestEnv, code};
use serde_json::{Value, json};

/// A mission with a parent (WO-001) and children WO-002, WO-003 (after
/// WO-002), and two groves, echo (GROVE-001) and tests (GROVE-002).
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
        "In src/echo.rs.",
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
    env.orc(&["grove", "create", "echo"]).ok();
    env.orc(&["grove", "create", "tests"]).ok();
    let path = |g: &str| {
        PathBuf::from(
            env.orc(&["grove", "show", g, "--json"]).ok().json()["grove"]["path"]
                .as_str()
                .unwrap(),
        )
    };
    let (echo, tests) = (path("echo"), path("tests"));
    (env, echo, tests)
}

fn assignment(grove: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(grove.join(".orc/assigned-work.json")).unwrap()).unwrap()
}

fn wo(env: &TestEnv, id: &str) -> Value {
    env.orc(&["wo", "show", id, "--json"]).ok().json()
}

fn edit(grove: &Path, f: impl FnOnce(&mut Value)) {
    let mut a = assignment(grove);
    f(&mut a);
    std::fs::write(
        grove.join(".orc/assigned-work.json"),
        serde_json::to_vec_pretty(&a).unwrap(),
    )
    .unwrap();
}

/// The paths the last ledger commit changed.
fn last_commit_paths(env: &TestEnv) -> Vec<String> {
    let out = env
        .git(&["diff", "--name-only", "orc~1", "orc"])
        .ok()
        .stdout;
    out.lines().map(str::to_string).collect()
}

#[test]
fn assign_writes_work_orders_and_the_assignment_in_one_commit() {
    let (env, echo, _) = setup();
    let before = env.ledger_commits();
    let out = env
        .orc(&[
            "assign",
            "WO-001",
            "--grove",
            "echo",
            "--as",
            "DEPUTY-MISSION-001",
        ])
        .ok();
    assert!(
        out.stdout
            .starts_with("GROVE-001: WO-001 (active), branch echo, next WO-002"),
        "{}",
        out.stdout
    );
    assert_eq!(env.ledger_commits(), before + 1);
    assert_eq!(
        last_commit_paths(&env),
        [
            "groves/GROVE-001/assigned-work.json",
            "missions/MISSION-001/work-orders/WO-001.json",
            "missions/MISSION-001/work-orders/WO-002.json",
            "missions/MISSION-001/work-orders/WO-003.json",
        ]
    );
    assert_eq!(
        env.git(&["log", "-1", "--format=%an|%s", "orc"])
            .ok()
            .line(),
        "DEPUTY-MISSION-001|WO-001: ready -> assigned to GROVE-001 with 2 children"
    );
    for id in ["WO-001", "WO-002", "WO-003"] {
        let w = wo(&env, id);
        assert_eq!(w["status"], "assigned", "{id}");
        assert_eq!(w["assignee"], "IMP-GROVE-001", "{id}");
    }
    // Everything the IMP needs, without running a command.
    let a = assignment(&echo);
    assert_eq!(a["grove"], "GROVE-001");
    assert_eq!(a["mission"], "MISSION-001");
    assert_eq!(a["branch"], "echo");
    assert_eq!(a["status"], "active");
    assert_eq!(a["work_order"], "WO-001");
    assert_eq!(a["assigned_by"], "DEPUTY-MISSION-001");
    assert_eq!(a["assigned_at"], NOW);
    assert_eq!(a["next"], "WO-002");
    let ids: Vec<&str> = a["work_orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        ["WO-001", "WO-002", "WO-003"],
        "the assigned one first, then dependency order"
    );
    let impl_ = &a["work_orders"][1];
    assert_eq!(impl_["title"], "Implement the handler");
    assert_eq!(impl_["description"], "In src/echo.rs.");
    assert_eq!(impl_["acceptance"], json!(["GET /echo?msg=hi returns hi"]));
    assert_eq!(impl_["status"], "assigned");
    assert_eq!(a["work_orders"][2]["depends_on"], json!(["WO-002"]));
    let protocol = &a["protocol"];
    assert_eq!(
        protocol["commands"]["done"],
        "orc work done [WO] --summary TEXT"
    );
    assert_eq!(
        protocol["editable"]["work_orders[].status"],
        json!(["in_progress", "review", "done", "blocked"])
    );
    // Identical on the ledger.
    assert_eq!(
        std::fs::read_to_string(echo.join(".orc/assigned-work.json")).unwrap(),
        env.ledger_file("groves/GROVE-001/assigned-work.json")
    );
}

#[test]
fn a_grove_holds_one_assignment_and_only_ready_work_is_assigned() {
    let (env, _, _) = setup();
    env.orc(&["wo", "create", "Other"]).ok();
    env.orc(&["assign", "WO-001", "--grove", "echo"]).ok();
    let out = env
        .orc(&["assign", "WO-004", "--grove", "echo"])
        .code(code::CONFLICT);
    assert!(
        out.stderr
            .contains("GROVE-001 already holds an active assignment: WO-001 (assigned)"),
        "{}",
        out.stderr
    );
    let out = env
        .orc(&["assign", "WO-002", "--grove", "tests"])
        .code(code::CONFLICT);
    assert!(
        out.stderr
            .contains("WO-002 is assigned (held by IMP-GROVE-001)"),
        "{}",
        out.stderr
    );
    env.orc(&["wo", "create", "Later", "--depends-on", "WO-004"])
        .ok();
    let out = env
        .orc(&["assign", "WO-005", "--grove", "tests"])
        .code(code::CONFLICT);
    assert!(
        out.stderr.contains("WO-005 is waiting on WO-004"),
        "{}",
        out.stderr
    );
    env.orc(&["assign", "WO-404", "--grove", "tests"])
        .code(code::NOT_FOUND);
    env.orc(&["assign", "WO-004", "--grove", "nope"])
        .code(code::NOT_FOUND);
}

#[test]
fn reporting_by_command_is_one_commit_updating_both_files() {
    let (env, echo, _) = setup();
    env.orc(&["assign", "WO-001", "--grove", "echo"]).ok();
    let before = env.ledger_commits();
    let out = env.orc_in(&echo, &["work", "start"]).ok();
    assert_eq!(out.line(), "WO-002 in_progress  Implement the handler");
    assert_eq!(env.ledger_commits(), before + 1);
    assert_eq!(
        last_commit_paths(&env),
        [
            "groves/GROVE-001/assigned-work.json",
            "missions/MISSION-001/work-orders/WO-002.json"
        ]
    );
    assert_eq!(
        env.git(&["log", "-1", "--format=%an|%s", "orc"])
            .ok()
            .line(),
        "IMP-GROVE-001|WO-002: assigned -> in_progress"
    );
    assert_eq!(assignment(&echo)["work_orders"][1]["status"], "in_progress");
    env.orc_in(&echo, &["work", "note", "handler written"]).ok();
    env.orc_in(&echo, &["work", "done", "--summary", "echo handler added"])
        .ok();
    assert_eq!(env.ledger_commits(), before + 3);
    let w = wo(&env, "WO-002");
    assert_eq!(w["status"], "done");
    assert_eq!(w["summary"], "echo handler added");
    assert_eq!(w["notes"][0]["text"], "handler written");
    assert_eq!(w["notes"][0]["by"], "IMP-GROVE-001");
    let a = assignment(&echo);
    assert_eq!(a["work_orders"][1]["status"], "done");
    assert_eq!(a["next"], "WO-003");
    // The last child done: the parent is done in the same commit, and the
    // assignment is complete.
    env.orc_in(&echo, &["work", "start", "WO-003"]).ok();
    env.orc_in(&echo, &["work", "done", "WO-003"]).ok();
    assert_eq!(
        last_commit_paths(&env),
        [
            "groves/GROVE-001/assigned-work.json",
            "missions/MISSION-001/work-orders/WO-001.json",
            "missions/MISSION-001/work-orders/WO-003.json",
        ]
    );
    let body = env.git(&["log", "-1", "--format=%B", "orc"]).ok().stdout;
    assert!(body.starts_with("WO-003: in_progress -> done\n"), "{body}");
    assert!(
        body.contains("WO-001: assigned -> done (all children closed)"),
        "{body}"
    );
    assert!(
        body.contains("GROVE-001: assignment of WO-001 complete; the grove is idle"),
        "{body}"
    );
    assert_eq!(wo(&env, "WO-001")["status"], "done");
    assert_eq!(assignment(&echo)["status"], "complete");
    let idle = env.orc(&["discover", "--json"]).ok().json();
    assert_eq!(idle["idle_groves"], json!(["GROVE-001", "GROVE-002"]));
    env.orc_in(&echo, &["work", "start"]).code(code::CONFLICT);
}

#[test]
fn reporting_by_direct_edit_is_the_same_one_commit() {
    let (env, echo, _) = setup();
    env.orc(&["assign", "WO-001", "--grove", "echo"]).ok();
    let before = env.ledger_commits();
    edit(&echo, |a| {
        a["work_orders"][1]["status"] = json!("in_progress")
    });
    env.orc_in(&echo, &["apply"]).ok();
    assert_eq!(env.ledger_commits(), before + 1);
    assert_eq!(
        env.git(&["log", "-1", "--format=%an|%s", "orc"])
            .ok()
            .line(),
        "IMP-GROVE-001|WO-002: assigned -> in_progress"
    );
    assert_eq!(
        last_commit_paths(&env),
        [
            "groves/GROVE-001/assigned-work.json",
            "missions/MISSION-001/work-orders/WO-002.json"
        ]
    );
    assert_eq!(wo(&env, "WO-002")["status"], "in_progress");
    // Done with a summary and a new note, picked up by any command in the grove.
    edit(&echo, |a| {
        a["work_orders"][1]["status"] = json!("done");
        a["work_orders"][1]["summary"] = json!("via the file");
        a["work_orders"][1]["notes"]
            .as_array_mut()
            .unwrap()
            .push(json!({"text": "edited by hand"}));
    });
    env.orc_in(&echo, &["work", "show"]).ok();
    assert_eq!(env.ledger_commits(), before + 2);
    let w = wo(&env, "WO-002");
    assert_eq!(w["status"], "done");
    assert_eq!(w["summary"], "via the file");
    assert_eq!(
        w["notes"][0],
        json!({"at": NOW, "by": "IMP-GROVE-001", "text": "edited by hand"})
    );
    // The file is rewritten as orc writes it (the note got at and by).
    let file = std::fs::read_to_string(echo.join(".orc/assigned-work.json")).unwrap();
    assert_eq!(file, env.ledger_file("groves/GROVE-001/assigned-work.json"));
    assert_eq!(
        assignment(&echo)["work_orders"][1]["notes"][0]["by"],
        "IMP-GROVE-001"
    );
    // Nothing pending: apply says so.
    assert_eq!(
        env.orc_in(&echo, &["apply"]).ok().line(),
        "nothing to apply"
    );
    // Blocking by editing needs a reason, and reaches the work order.
    edit(&echo, |a| {
        a["work_orders"][2]["status"] = json!("blocked");
        a["work_orders"][2]["blocked_reason"] = json!("which port?");
    });
    env.orc_in(&echo, &["apply"]).ok();
    let w = wo(&env, "WO-003");
    assert_eq!(w["status"], "blocked");
    assert_eq!(w["blocked_reason"], "which port?");
    assert_eq!(w["blocked_from"], "assigned");
}

#[test]
fn a_change_made_anywhere_shows_up_in_the_imps_file_in_the_same_commit() {
    let (env, echo, _) = setup();
    env.orc(&["assign", "WO-001", "--grove", "echo"]).ok();
    env.orc(&[
        "wo",
        "update",
        "WO-003",
        "--title",
        "Test /echo thoroughly",
        "--append",
        "Cover errors too.",
    ])
    .ok();
    assert_eq!(
        last_commit_paths(&env),
        [
            "groves/GROVE-001/assigned-work.json",
            "missions/MISSION-001/work-orders/WO-003.json"
        ]
    );
    let a = assignment(&echo);
    assert_eq!(a["work_orders"][2]["title"], "Test /echo thoroughly");
    assert_eq!(a["work_orders"][2]["description"], "Cover errors too.");
    // A child added under the assigned parent joins the assignment.
    let child = env
        .orc(&[
            "wo",
            "create",
            "Document it",
            "--parent",
            "WO-001",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(child["status"], "assigned");
    assert_eq!(child["assignee"], "IMP-GROVE-001");
    let ids: Vec<String> = assignment(&echo)["work_orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, ["WO-001", "WO-002", "WO-003", "WO-004"]);
    // A deputy's cancel reaches the file too.
    env.orc(&["wo", "cancel", "WO-004"]).ok();
    assert_eq!(assignment(&echo)["work_orders"][3]["status"], "cancelled");
}

#[test]
fn a_pending_edit_is_applied_before_a_deputy_change_so_nothing_is_lost() {
    let (env, echo, _) = setup();
    env.orc(&["assign", "WO-001", "--grove", "echo"]).ok();
    edit(&echo, |a| {
        a["work_orders"][1]["status"] = json!("in_progress")
    });
    // The deputy changes another work order of the same assignment.
    env.orc(&["wo", "update", "WO-003", "--priority", "critical"])
        .ok();
    let subjects = env
        .git(&["log", "-2", "--format=%an|%s", "orc"])
        .ok()
        .stdout;
    assert_eq!(
        subjects,
        "operator|WO-003: priority medium -> critical\nIMP-GROVE-001|WO-002: assigned -> in_progress\n"
    );
    let a = assignment(&echo);
    assert_eq!(a["work_orders"][1]["status"], "in_progress");
    assert_eq!(a["work_orders"][2]["priority"], "critical");
}

#[test]
fn an_invalid_edit_is_not_applied_kept_aside_and_the_last_good_version_restored() {
    let (env, echo, _) = setup();
    env.orc(&["assign", "WO-001", "--grove", "echo"]).ok();
    let good = std::fs::read_to_string(echo.join(".orc/assigned-work.json")).unwrap();
    let tip = env.tip();
    for (what, change, expect) in [
        (
            "a title",
            Box::new(|a: &mut Value| a["work_orders"][1]["title"] = json!("mine now"))
                as Box<dyn Fn(&mut Value)>,
            "field `work_orders[1].title` (WO-002) is maintained by orc",
        ),
        (
            "a refused transition",
            Box::new(|a: &mut Value| a["work_orders"][1]["status"] = json!("ready")),
            "may be set to in_progress, review, done or blocked, not ready",
        ),
        (
            "blocked without a reason",
            Box::new(|a: &mut Value| a["work_orders"][1]["status"] = json!("blocked")),
            "say why the work is blocked",
        ),
        (
            "a key orc would lose",
            Box::new(|a: &mut Value| a["work_orders"][1]["x_mine"] = json!(1)),
            "unknown field `x_mine`",
        ),
        (
            "an unknown status",
            Box::new(|a: &mut Value| a["work_orders"][1]["status"] = json!("finished")),
            "unknown status \"finished\"",
        ),
    ] {
        edit(&echo, change);
        let edited = std::fs::read(echo.join(".orc/assigned-work.json")).unwrap();
        let out = env.orc_in(&echo, &["apply"]).code(code::INVALID);
        assert!(out.stderr.contains(expect), "{what}: {}", out.stderr);
        assert!(
            out.stderr.contains("your edit was not applied"),
            "{what}: {}",
            out.stderr
        );
        assert_eq!(env.tip(), tip, "{what}: nothing committed");
        assert_eq!(
            std::fs::read_to_string(echo.join(".orc/assigned-work.json")).unwrap(),
            good,
            "{what}"
        );
        // The edited content is kept, with the reason.
        let kept = out
            .stderr
            .split("kept at ")
            .nth(1)
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .trim()
            .to_string();
        assert_eq!(std::fs::read(&kept).unwrap(), edited, "{what}");
        let reason = std::fs::read_to_string(format!("{kept}.reason")).unwrap();
        assert!(reason.contains(expect), "{what}: {reason}");
        std::fs::remove_file(&kept).unwrap();
    }
    // Garbage: also set aside, and other commands say so and go on.
    std::fs::write(echo.join(".orc/assigned-work.json"), "{ not json").unwrap();
    let out = env.orc_in(&echo, &["work", "show"]).ok();
    assert!(
        out.stderr
            .contains("your edit of .orc/assigned-work.json was not applied"),
        "{}",
        out.stderr
    );
    assert!(
        out.stdout.contains("GROVE-001: WO-001 (active)"),
        "{}",
        out.stdout
    );
    assert_eq!(
        std::fs::read_to_string(echo.join(".orc/assigned-work.json")).unwrap(),
        good
    );
    assert_eq!(env.tip(), tip);
    assert!(
        env.git_in(&echo, &["status", "--porcelain"])
            .ok()
            .stdout
            .is_empty()
    );
}

#[test]
fn unassign_returns_the_work_to_ready() {
    let (env, echo, _) = setup();
    env.orc(&["assign", "WO-001", "--grove", "echo"]).ok();
    env.orc_in(&echo, &["work", "start"]).ok();
    let before = env.ledger_commits();
    env.orc(&["unassign", "echo"]).ok();
    assert_eq!(env.ledger_commits(), before + 1);
    for id in ["WO-001", "WO-002", "WO-003"] {
        let w = wo(&env, id);
        assert_eq!(w["status"], "ready", "{id}");
        assert_eq!(w["assignee"], Value::Null, "{id}");
    }
    let a = assignment(&echo);
    assert_eq!(a["status"], "released");
    assert_eq!(a["work_orders"][1]["status"], "ready");
    env.orc(&["unassign", "echo"]).code(code::CONFLICT);
    env.orc(&["assign", "WO-001", "--grove", "tests"]).ok();
}

#[test]
fn discover_lists_ready_work_and_idle_groves_and_auto_claim_assigns_the_most_urgent() {
    let (env, _, tests) = setup();
    env.orc(&["wo", "create", "Low", "--priority", "low"]).ok();
    env.orc(&["wo", "create", "Critical", "--priority", "critical"])
        .ok();
    let d = env.orc(&["discover", "--json"]).ok().json();
    let ready: Vec<&str> = d["ready"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["id"].as_str().unwrap())
        .collect();
    // Leaves only (WO-001 has open children; WO-003 waits on WO-002).
    assert_eq!(ready, ["WO-005", "WO-002", "WO-004"]);
    assert_eq!(d["idle_groves"], json!(["GROVE-001", "GROVE-002"]));
    let d = env.orc(&["discover", "--auto-claim", "--json"]).ok().json();
    assert_eq!(d["assigned"]["work_order"], "WO-005");
    assert_eq!(d["assigned"]["grove"], "GROVE-001");
    assert_eq!(wo(&env, "WO-005")["assignee"], "IMP-GROVE-001");
    let d = env.orc(&["discover", "--auto-claim", "--json"]).ok().json();
    assert_eq!(d["assigned"]["work_order"], "WO-002");
    assert_eq!(d["assigned"]["grove"], "GROVE-002");
    assert_eq!(assignment(&tests)["work_order"], "WO-002");
    let d = env.orc(&["discover", "--auto-claim", "--json"]).ok().json();
    assert_eq!(d["assigned"], Value::Null, "no idle grove left");
    assert_eq!(d["idle_groves"], json!([]));
}
