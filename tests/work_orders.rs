//! Work orders: fields, the status machine, dependencies, parents, multi-id
//! updates, Unicode, unknown fields, the on-disk format.

mod common;

use common::{NOW, TestEnv, code};
use serde_json::Value;

fn status_of(env: &TestEnv, wo: &str) -> Value {
    env.orc(&["wo", "show", wo, "--json"]).ok().json()
}

#[test]
fn create_records_every_field() {
    let env = TestEnv::with_mission();
    env.orc(&["wo", "create", "Parent"]).ok();
    env.orc(&["wo", "create", "Dep"]).ok();
    let wo = env
        .orc(&[
            "wo",
            "create",
            "Add /echo handler",
            "-d",
            "Return the body.",
            "--parent",
            "WO-001",
            "--depends-on",
            "WO-002",
            "--priority",
            "high",
            "--type",
            "feature",
            "--acceptance",
            "GET /echo?x=1 returns x=1",
            "--acceptance",
            "has a test",
            "--label",
            "api",
            "--json",
        ])
        .ok()
        .json();
    let keys: Vec<&str> = wo.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "format",
            "id",
            "mission",
            "title",
            "description",
            "type",
            "priority",
            "status",
            "parent",
            "depends_on",
            "acceptance",
            "labels",
            "assignee",
            "notes",
            "created_by",
            "created_at",
            "updated_at",
            "claimed_at",
            "completed_at",
            "pinned"
        ]
    );
    assert_eq!(wo["id"], "WO-003");
    assert_eq!(wo["mission"], "MISSION-001");
    assert_eq!(wo["type"], "feature");
    assert_eq!(wo["priority"], "high");
    assert_eq!(wo["status"], "ready");
    assert_eq!(wo["parent"], "WO-001");
    assert_eq!(wo["depends_on"], serde_json::json!(["WO-002"]));
    assert_eq!(wo["acceptance"][1], "has a test");
    assert_eq!(wo["labels"], serde_json::json!(["api"]));
    assert_eq!(wo["created_at"], NOW);
    assert_eq!(wo["created_by"], "operator");
    // The file on disk is the record, pretty-printed with a trailing newline,
    // and the ledger holds the same bytes.
    let file = std::fs::read_to_string(env.wo_file("MISSION-001", "WO-003")).unwrap();
    assert!(
        file.starts_with("{\n  \"format\": 1,\n  \"id\": \"WO-003\",\n"),
        "{file}"
    );
    assert!(file.ends_with("}\n"));
    assert_eq!(
        file,
        env.ledger_file("missions/MISSION-001/work-orders/WO-003.json")
    );
}

#[test]
fn the_documented_path_ready_assigned_in_progress_review_done() {
    let env = TestEnv::with_mission();
    env.orc(&["wo", "create", "w"]).ok();
    for (to, expect) in [
        ("assigned", "assigned"),
        ("implement", "in_progress"),
        ("review", "review"),
        ("in_progress", "in_progress"),
        ("review", "review"),
        ("done", "done"),
    ] {
        let out = env
            .orc(&["wo", "update", "WO-001", "--status", to, "--json"])
            .ok()
            .json();
        assert_eq!(out["work_orders"][0]["status"], expect, "to {to}");
    }
    let subjects = env.git(&["log", "--format=%s", "-6", "orc"]).ok().stdout;
    assert_eq!(
        subjects,
        "WO-001: review -> done\nWO-001: in_progress -> review\nWO-001: review -> in_progress\n\
         WO-001: in_progress -> review\nWO-001: assigned -> in_progress\nWO-001: ready -> assigned\n"
    );
    let wo = status_of(&env, "WO-001");
    assert_eq!(wo["completed_at"], NOW);
}

#[test]
fn a_refused_transition_names_the_allowed_next_states() {
    let env = TestEnv::with_mission();
    env.orc(&["wo", "create", "w"]).ok();
    let tip = env.tip();
    let out = env
        .orc(&["wo", "update", "WO-001", "--status", "done"])
        .code(code::CONFLICT);
    assert_eq!(
        out.stderr,
        "error: WO-001: cannot go from ready to done (from ready it can go to: assigned, in_progress, cancelled)\n"
    );
    let out = env.orc(&["wo", "complete", "WO-001"]).code(code::CONFLICT);
    assert!(
        out.stderr.contains("cannot go from ready to done"),
        "{}",
        out.stderr
    );
    let out = env
        .orc(&["wo", "block", "WO-001", "--reason", "x"])
        .code(code::CONFLICT);
    assert!(
        out.stderr.contains("cannot go from ready to blocked"),
        "{}",
        out.stderr
    );
    assert_eq!(env.tip(), tip, "a refused transition commits nothing");
    env.orc(&["wo", "update", "WO-001", "--status", "bogus"])
        .code(code::USAGE);
}

#[test]
fn blocked_goes_back_to_where_it_came_from() {
    let env = TestEnv::with_mission();
    env.orc(&["wo", "create", "a"]).ok();
    env.orc(&["wo", "create", "b"]).ok();
    env.orc(&["wo", "update", "WO-001", "--status", "assigned"])
        .ok();
    env.orc(&["wo", "claim", "WO-002"]).ok();
    env.orc(&["wo", "block", "WO-001", "--reason", "needs a decision"])
        .ok();
    env.orc(&["wo", "block", "WO-002", "--reason", "flaky CI"])
        .ok();
    let a = status_of(&env, "WO-001");
    assert_eq!(a["status"], "blocked");
    assert_eq!(a["blocked_reason"], "needs a decision");
    assert_eq!(a["blocked_from"], "assigned");
    assert_eq!(a["notes"][0]["text"], "blocked: needs a decision");
    env.orc(&["wo", "unblock", "WO-001"]).ok();
    env.orc(&["wo", "unblock", "WO-002"]).ok();
    assert_eq!(status_of(&env, "WO-001")["status"], "assigned");
    let b = status_of(&env, "WO-002");
    assert_eq!(b["status"], "in_progress");
    assert!(b.get("blocked_reason").is_none());
    env.orc(&["wo", "unblock", "WO-002"]).code(code::CONFLICT);
}

#[test]
fn cancel_from_anything_but_done() {
    let env = TestEnv::with_mission();
    for t in ["a", "b", "c"] {
        env.orc(&["wo", "create", t]).ok();
    }
    env.orc(&["wo", "claim", "WO-002"]).ok();
    env.orc(&["wo", "claim", "WO-003"]).ok();
    env.orc(&["wo", "complete", "WO-003"]).ok();
    env.orc(&["wo", "cancel", "WO-001", "--reason", "not needed"])
        .ok();
    env.orc(&["wo", "cancel", "WO-002"]).ok();
    let out = env.orc(&["wo", "cancel", "WO-003"]).code(code::CONFLICT);
    assert!(out.stderr.contains("done is final"), "{}", out.stderr);
    assert_eq!(
        status_of(&env, "WO-001")["notes"][0]["text"],
        "cancelled: not needed"
    );
}

#[test]
fn waiting_work_is_not_ready() {
    let env = TestEnv::with_mission();
    env.orc(&["wo", "create", "first"]).ok();
    env.orc(&["wo", "create", "second", "--depends-on", "WO-001"])
        .ok();
    env.orc(&["wo", "create", "urgent", "--priority", "critical"])
        .ok();
    let ready = env.orc(&["wo", "ready", "--json"]).ok().json();
    let ids: Vec<&str> = ready["work_orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        ["WO-003", "WO-001"],
        "by priority, without waiting work"
    );
    let listed = env
        .orc(&["wo", "list", "--status", "ready", "--json"])
        .ok()
        .json();
    assert_eq!(listed["work_orders"].as_array().unwrap().len(), 2);
    let waiting = env
        .orc(&["wo", "list", "--status", "waiting", "--json"])
        .ok()
        .json();
    assert_eq!(waiting["work_orders"][0]["id"], "WO-002");
    assert_eq!(waiting["work_orders"][0]["status"], "ready");
    assert_eq!(waiting["work_orders"][0]["shown"], "waiting");
    let out = env.orc(&["wo", "claim", "WO-002"]).code(code::CONFLICT);
    assert!(
        out.stderr.contains("WO-002 is waiting on WO-001 (ready)"),
        "{}",
        out.stderr
    );
    env.orc(&["wo", "claim", "WO-001"]).ok();
    env.orc(&["wo", "complete", "WO-001"]).ok();
    let ready = env.orc(&["wo", "ready"]).ok().stdout;
    assert!(ready.contains("WO-002"), "{ready}");
}

#[test]
fn dependency_cycles_and_self_dependencies_are_refused() {
    let env = TestEnv::with_mission();
    env.orc(&["wo", "create", "a"]).ok();
    env.orc(&["wo", "create", "b", "--depends-on", "WO-001"])
        .ok();
    env.orc(&["wo", "create", "c", "--depends-on", "WO-002"])
        .ok();
    let tip = env.tip();
    let out = env
        .orc(&["wo", "update", "WO-001", "--add-dep", "WO-003"])
        .code(code::CONFLICT);
    assert!(
        out.stderr
            .contains("dependencies would form a cycle: WO-001 -> WO-003 -> WO-002 -> WO-001"),
        "{}",
        out.stderr
    );
    let out = env
        .orc(&["wo", "update", "WO-001", "--add-dep", "WO-001"])
        .code(code::CONFLICT);
    assert!(
        out.stderr.contains("cannot depend on itself"),
        "{}",
        out.stderr
    );
    let out = env
        .orc(&["wo", "update", "WO-001", "--add-dep", "WO-050"])
        .code(code::NOT_FOUND);
    assert!(
        out.stderr.contains("WO-050 does not exist"),
        "{}",
        out.stderr
    );
    let out = env
        .orc(&["wo", "create", "d", "--depends-on", "WO-077"])
        .code(code::NOT_FOUND);
    assert!(
        out.stderr.contains("--depends-on WO-077 does not exist"),
        "{}",
        out.stderr
    );
    assert_eq!(env.tip(), tip);
    env.orc(&["wo", "update", "WO-003", "--remove-dep", "WO-002"])
        .ok();
    env.orc(&["wo", "update", "WO-001", "--add-dep", "WO-003"])
        .ok();
}

#[test]
fn a_parent_cannot_close_while_a_child_is_open() {
    let env = TestEnv::with_mission();
    env.orc(&["wo", "create", "parent"]).ok();
    env.orc(&["wo", "create", "child", "--parent", "WO-001"])
        .ok();
    env.orc(&["wo", "claim", "WO-001"]).ok();
    let out = env.orc(&["wo", "complete", "WO-001"]).code(code::CONFLICT);
    assert!(
        out.stderr
            .contains("WO-001 cannot be done while its children are open: WO-002 (ready)"),
        "{}",
        out.stderr
    );
    env.orc(&["wo", "cancel", "WO-001"]).code(code::CONFLICT);
    env.orc(&["wo", "claim", "WO-002"]).ok();
    // Closing child and parent together in one update is fine.
    env.orc(&["wo", "update", "WO-001,WO-002", "--status", "done"])
        .ok();
    assert_eq!(status_of(&env, "WO-001")["status"], "done");
    let out = env
        .orc(&["wo", "create", "late child", "--parent", "WO-001"])
        .code(code::CONFLICT);
    assert!(
        out.stderr
            .contains("closed work order cannot take new children"),
        "{}",
        out.stderr
    );
}

#[test]
fn several_ids_in_one_update_are_one_commit() {
    let env = TestEnv::with_mission();
    for t in ["a", "b", "c"] {
        env.orc(&["wo", "create", t]).ok();
    }
    let before = env.ledger_commits();
    let out = env
        .orc(&[
            "wo",
            "update",
            "WO-001,WO-002",
            "WO-003",
            "--priority",
            "critical",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(out["work_orders"].as_array().unwrap().len(), 3);
    assert_eq!(env.ledger_commits(), before + 1);
    let subject = env.git(&["log", "-1", "--format=%s", "orc"]).ok().line();
    assert_eq!(
        subject,
        "WO-001, WO-002, WO-003: priority medium -> critical"
    );
    let stat = env.git(&["diff", "--stat", "orc~1", "orc"]).ok().stdout;
    assert!(stat.contains("3 files changed"), "{stat}");
    // A failing member aborts the whole update.
    env.orc(&["wo", "claim", "WO-001"]).ok();
    let before = env.tip();
    env.orc(&["wo", "update", "WO-001,WO-002", "--status", "review"])
        .code(code::CONFLICT);
    assert_eq!(env.tip(), before);
    assert_eq!(status_of(&env, "WO-001")["status"], "in_progress");
}

#[test]
fn unicode_is_stored_and_shown_intact() {
    let env = TestEnv::with_mission();
    let title = "Fix \"quotes\" 'and' emoji 🦀🚀 — שלום עולם — 日本語";
    let note = "line one\nline two with tab\there and ¿qué?";
    env.orc(&["wo", "create", title]).ok();
    env.orc(&["wo", "note", "WO-001", note]).ok();
    let wo = status_of(&env, "WO-001");
    assert_eq!(wo["title"], title);
    assert_eq!(wo["notes"][0]["text"], note);
    let shown = env.orc(&["wo", "show", "WO-001"]).ok().stdout;
    assert!(shown.contains(title), "{shown}");
    assert!(shown.contains("line one\nline two"), "{shown}");
    let on_ledger: Value =
        serde_json::from_str(&env.ledger_file("missions/MISSION-001/work-orders/WO-001.json"))
            .unwrap();
    assert_eq!(on_ledger["title"], title);
    // A one-line listing keeps the row on one line.
    env.orc(&["wo", "create", "two\nlines"]).ok();
    let list = env.orc(&["wo", "list"]).ok().stdout;
    assert_eq!(list.lines().count(), 2, "{list}");
    assert!(list.contains("two\\nlines"), "{list}");
}

#[test]
fn unknown_fields_written_by_an_agent_are_kept() {
    let env = TestEnv::with_mission();
    env.orc(&["wo", "create", "w"]).ok();
    let path = env.wo_file("MISSION-001", "WO-001");
    let mut value: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    value["x_agent_estimate"] = serde_json::json!({"hours": 3});
    value["zz_tag"] = serde_json::json!("keep me");
    std::fs::write(&path, serde_json::to_vec_pretty(&value).unwrap()).unwrap();
    env.orc(&["wo", "claim", "WO-001"]).ok();
    let after = std::fs::read_to_string(&path).unwrap();
    let parsed: Value = serde_json::from_str(&after).unwrap();
    assert_eq!(parsed["x_agent_estimate"]["hours"], 3);
    assert_eq!(parsed["zz_tag"], "keep me");
    assert_eq!(parsed["status"], "in_progress");
    // Known fields first in their order, unknown ones after, sorted.
    let keys: Vec<&str> = parsed
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(&keys[keys.len() - 2..], ["x_agent_estimate", "zz_tag"]);
    assert!(
        env.ledger_file("missions/MISSION-001/work-orders/WO-001.json")
            .contains("keep me")
    );
}

#[test]
fn notes_carry_who_and_when() {
    let env = TestEnv::with_mission();
    env.orc(&["wo", "create", "w"]).ok();
    env.orc(&["wo", "note", "WO-001", "first", "--as", "IMP-GROVE-002"])
        .ok();
    let wo = status_of(&env, "WO-001");
    assert_eq!(
        wo["notes"][0],
        serde_json::json!({"at": NOW, "by": "IMP-GROVE-002", "text": "first"})
    );
    env.orc(&["wo", "note", "WO-001", "  "]).code(code::USAGE);
}

#[test]
fn update_fields_title_description_append_labels_pin() {
    let env = TestEnv::with_mission();
    env.orc(&["wo", "create", "w", "-d", "first paragraph"])
        .ok();
    env.orc(&[
        "wo",
        "update",
        "WO-001",
        "--append",
        "second paragraph",
        "--title",
        "renamed",
        "--label",
        "api",
        "--pin",
    ])
    .ok();
    let wo = status_of(&env, "WO-001");
    assert_eq!(wo["title"], "renamed");
    assert_eq!(wo["description"], "first paragraph\nsecond paragraph");
    assert_eq!(wo["labels"], serde_json::json!(["api"]));
    assert_eq!(wo["pinned"], true);
    env.orc(&["wo", "update", "WO-001", "-d", "x", "--append", "y"])
        .code(code::USAGE);
    env.orc(&["wo", "update", "WO-001"]).code(code::USAGE);
    let listed = env
        .orc(&["wo", "list", "--label", "api", "--json"])
        .ok()
        .json();
    assert_eq!(listed["work_orders"].as_array().unwrap().len(), 1);
}

#[test]
fn list_filters_by_parent_and_assignee() {
    let env = TestEnv::with_mission();
    env.orc(&["wo", "create", "p"]).ok();
    env.orc(&["wo", "create", "c1", "--parent", "WO-001"]).ok();
    env.orc(&["wo", "create", "c2", "--parent", "WO-001"]).ok();
    env.orc(&["wo", "claim", "WO-003", "--as", "IMP-GROVE-001"])
        .ok();
    let kids = env
        .orc(&["wo", "list", "--parent", "WO-001", "--json"])
        .ok()
        .json();
    assert_eq!(kids["work_orders"].as_array().unwrap().len(), 2);
    let mine = env
        .orc(&["wo", "list", "--assignee", "IMP-GROVE-001", "--json"])
        .ok()
        .json();
    assert_eq!(mine["work_orders"][0]["id"], "WO-003");
    let shown = env.orc(&["wo", "show", "WO-001", "--json"]).ok().json();
    assert_eq!(
        shown["children"],
        serde_json::json!([
            {"id": "WO-002", "shown": "ready"}, {"id": "WO-003", "shown": "in_progress"}
        ])
    );
}

#[test]
fn ids_are_sequential_and_never_reused() {
    let env = TestEnv::with_mission();
    for _ in 0..3 {
        env.orc(&["wo", "create", "x"]).ok();
    }
    env.orc(&["wo", "cancel", "WO-003"]).ok();
    // Even with a file removed by hand, its number is not handed out again.
    std::fs::remove_file(env.wo_file("MISSION-001", "WO-002")).unwrap();
    assert_eq!(env.orc(&["wo", "create", "y"]).ok().line(), "WO-004");
    // A number already taken by a file written by hand is skipped.
    let mut hand: Value =
        serde_json::from_slice(&std::fs::read(env.wo_file("MISSION-001", "WO-001")).unwrap())
            .unwrap();
    hand["id"] = "WO-005".into();
    std::fs::write(
        env.wo_file("MISSION-001", "WO-005"),
        serde_json::to_vec_pretty(&hand).unwrap(),
    )
    .unwrap();
    assert_eq!(env.orc(&["wo", "create", "z"]).ok().line(), "WO-006");
    let counters: Value = serde_json::from_str(&env.ledger_file("counters.json")).unwrap();
    assert_eq!(counters["WO"], 6);
    assert_eq!(counters["MISSION"], 1);
}
