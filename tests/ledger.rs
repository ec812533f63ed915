//! `orc init`, missions, context detection, and the promises about the
//! ledger branch: one commit per mutation, readable history, HEAD, index
//! and working tree untouched, `git fsck` clean.

mod common;

use common::{NOW, TestEnv, code};
use serde_json::Value;

#[test]
fn init_creates_the_ledger_branch_with_orc_json() {
    let env = TestEnv::new();
    let out = env.orc(&["init"]).ok();
    assert!(
        out.stdout.contains("initialised ledger branch \"orc\""),
        "{}",
        out.stdout
    );
    let info: Value = serde_json::from_str(&env.ledger_file("orc.json")).unwrap();
    assert_eq!(info["format"], 1);
    assert_eq!(info["created_at"], NOW);
    assert_eq!(env.ledger_commits(), 1);
    let files = env
        .git(&["ls-tree", "-r", "--name-only", "orc"])
        .ok()
        .stdout;
    assert_eq!(files, "orc.json\n");
}

#[test]
fn init_is_idempotent() {
    let env = TestEnv::new();
    env.orc(&["init"]).ok();
    let tip = env.tip();
    let out = env.orc(&["init", "--json"]).ok().json();
    assert_eq!(out["created"], false);
    assert_eq!(env.tip(), tip, "a second init must not commit");
}

#[test]
fn init_works_in_a_repository_without_commits_and_leaves_head_unborn() {
    let env = TestEnv::bare();
    env.git(&["init", "-q", "-b", "main"]).ok();
    env.orc(&["init"]).ok();
    env.git(&["rev-parse", "--verify", "orc"]).ok();
    // HEAD still points at an unborn main.
    env.git(&["rev-parse", "--verify", "HEAD"]).code(128);
    assert_eq!(
        env.git(&["symbolic-ref", "HEAD"]).ok().line(),
        "refs/heads/main"
    );
}

#[test]
fn init_in_a_worktree_creates_the_branch_for_the_whole_repository() {
    let env = TestEnv::new();
    let wt = env.root.join("wt");
    env.git(&["worktree", "add", "-q", "-b", "side", wt.to_str().unwrap()])
        .ok();
    env.orc_in(&wt, &["init"]).ok();
    // Seen from the main worktree too.
    env.git(&["rev-parse", "--verify", "orc"]).ok();
    env.orc(&["init", "--json"]).ok();
}

#[test]
fn init_outside_a_repository_is_a_clear_environment_error() {
    let env = TestEnv::bare();
    let out = env.orc(&["init"]).code(code::ENVIRONMENT);
    assert!(
        out.stderr.contains("is not inside a git repository"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("hint:"), "{}", out.stderr);
}

#[test]
fn commands_before_init_say_to_run_init() {
    let env = TestEnv::new();
    let out = env.orc(&["mission", "create", "x"]).code(code::ENVIRONMENT);
    assert!(out.stderr.contains("no orc ledger"), "{}", out.stderr);
    assert!(
        out.stderr.contains("run `orc init` first"),
        "{}",
        out.stderr
    );
    let out = env
        .orc(&["status", "--json"])
        .code(code::ENVIRONMENT)
        .json();
    assert_eq!(out["error"]["kind"], "environment");
    assert_eq!(out["error"]["code"], 6);
}

#[test]
fn init_with_another_branch_is_remembered() {
    let env = TestEnv::new();
    env.orc(&["init", "--branch", "coord"]).ok();
    env.git(&["rev-parse", "--verify", "coord"]).ok();
    env.git(&["rev-parse", "--verify", "orc"]).code(128);
    env.orc(&["mission", "create", "On coord"]).ok();
    let files = env
        .git(&["ls-tree", "-r", "--name-only", "coord"])
        .ok()
        .stdout;
    assert!(
        files.contains("missions/MISSION-001/mission.json"),
        "{files}"
    );
    assert_eq!(env.orc(&["context", "ledger"]).ok().line(), "coord");
}

#[test]
fn init_refuses_a_foreign_branch_of_the_same_name() {
    let env = TestEnv::new();
    env.git(&["branch", "orc"]).ok();
    let out = env.orc(&["init"]).code(code::CONFLICT);
    assert!(
        out.stderr.contains("is not an orc ledger"),
        "{}",
        out.stderr
    );
}

#[test]
fn mission_create_makes_a_workspace_that_points_back_to_the_repository() {
    let env = TestEnv::new();
    env.orc(&["init"]).ok();
    let out = env
        .orc(&[
            "mission",
            "create",
            "Echo service",
            "-d",
            "an /echo endpoint",
        ])
        .ok();
    assert_eq!(out.stdout, "MISSION-001\n");
    let shown = env
        .orc(&["mission", "show", "MISSION-001", "--json"])
        .ok()
        .json();
    let workspace = std::path::PathBuf::from(shown["workspace"].as_str().unwrap());
    assert!(
        workspace.starts_with(env.home.join("src/missions")),
        "{}",
        workspace.display()
    );
    assert!(workspace.ends_with("MISSION-001"));
    assert_eq!(shown["status"], "active");
    assert_eq!(shown["description"], "an /echo endpoint");
    let config: Value =
        serde_json::from_slice(&std::fs::read(workspace.join(".orc/config.json")).unwrap())
            .unwrap();
    assert_eq!(config["type"], "mission");
    assert_eq!(config["mission"], "MISSION-001");
    assert_eq!(config["ledger"], "orc");
    assert_eq!(config["repo"], env.repo.join(".git").display().to_string());
    // The record on the ledger equals the workspace file.
    assert_eq!(
        env.ledger_file("missions/MISSION-001/mission.json"),
        std::fs::read_to_string(workspace.join(".orc/mission.json")).unwrap()
    );
    // config.json is local and not recorded.
    let files = env
        .git(&["ls-tree", "-r", "--name-only", "orc"])
        .ok()
        .stdout;
    assert!(!files.contains("config.json"), "{files}");
}

#[test]
fn missions_of_two_repositories_never_share_a_workspace() {
    let env = TestEnv::new();
    env.orc(&["init"]).ok();
    env.orc(&["mission", "create", "A"]).ok();
    let other = env.root.join("other/repo");
    std::fs::create_dir_all(&other).unwrap();
    env.git_in(&other, &["init", "-q"]).ok();
    env.orc_in(&other, &["init"]).ok();
    assert_eq!(
        env.orc_in(&other, &["mission", "create", "B"]).ok().line(),
        "MISSION-001"
    );
    let a = env.workspace("MISSION-001");
    let b = env
        .orc_in(&other, &["mission", "show", "--json"])
        .ok()
        .json()["workspace"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(a.display().to_string(), b);
    assert!(a.join(".orc/mission.json").exists());
    assert!(std::path::Path::new(&b).join(".orc/mission.json").exists());
}

#[test]
fn the_missions_root_comes_from_orc_toml() {
    let env = TestEnv::new();
    std::fs::create_dir_all(env.home.join(".orc")).unwrap();
    let root = env.root.join("elsewhere");
    std::fs::write(
        env.home.join(".orc/orc.toml"),
        format!("missions_root = {:?}\n", root.display().to_string()),
    )
    .unwrap();
    env.orc(&["init"]).ok();
    env.orc(&["mission", "create", "A"]).ok();
    assert!(env.workspace("MISSION-001").starts_with(&root));
}

#[test]
fn a_broken_orc_toml_is_named() {
    let env = TestEnv::new();
    std::fs::create_dir_all(env.home.join(".orc")).unwrap();
    std::fs::write(env.home.join(".orc/orc.toml"), "missions_root = [\n").unwrap();
    let out = env.orc(&["init"]).code(code::INVALID);
    assert!(out.stderr.contains("orc.toml"), "{}", out.stderr);
}

#[test]
fn an_explicit_workspace_is_used() {
    let env = TestEnv::new();
    env.orc(&["init"]).ok();
    let dir = env.root.join("ws");
    env.orc(&[
        "mission",
        "create",
        "A",
        "--workspace",
        dir.to_str().unwrap(),
    ])
    .ok();
    assert_eq!(env.workspace("MISSION-001"), dir);
    let out = env
        .orc(&[
            "mission",
            "create",
            "B",
            "--workspace",
            dir.to_str().unwrap(),
        ])
        .code(code::CONFLICT);
    assert!(
        out.stderr.contains("already an orc directory"),
        "{}",
        out.stderr
    );
    // The refused mission took no id and made no commit.
    assert_eq!(env.ledger_commits(), 2);
}

#[test]
fn mission_lifecycle_update_complete_archive() {
    let env = TestEnv::with_mission();
    let m = env
        .orc(&[
            "mission",
            "update",
            "MISSION-001",
            "--title",
            "Echo v2",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(m["title"], "Echo v2");
    env.orc(&["wo", "create", "open work"]).ok();
    let out = env.orc(&["mission", "complete"]).code(code::CONFLICT);
    assert!(
        out.stderr.contains("still has open work orders: WO-001"),
        "{}",
        out.stderr
    );
    env.orc(&["wo", "cancel", "WO-001"]).ok();
    let m = env.orc(&["mission", "complete", "--json"]).ok().json();
    assert_eq!(m["status"], "completed");
    assert_eq!(m["completed_at"], NOW);
    let out = env
        .orc(&["wo", "create", "late", "--mission", "MISSION-001"])
        .code(code::CONFLICT);
    assert!(
        out.stderr.contains("MISSION-001 is completed"),
        "{}",
        out.stderr
    );
    env.orc(&["mission", "archive", "MISSION-001"]).ok();
    assert_eq!(env.orc(&["mission", "list"]).ok().stdout, "");
    assert!(
        env.orc(&["mission", "list", "--all"])
            .ok()
            .stdout
            .contains("archived")
    );
}

#[test]
fn commands_default_to_the_workspace_mission_or_the_only_active_one() {
    let env = TestEnv::with_mission();
    // From the repository: the only active mission.
    env.orc(&["wo", "create", "from repo"]).ok();
    env.orc(&["mission", "create", "Second"]).ok();
    // Two active missions: ask.
    let out = env.orc(&["wo", "create", "ambiguous"]).code(code::USAGE);
    assert!(
        out.stderr.contains("MISSION-001, MISSION-002"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("--mission"), "{}", out.stderr);
    // Inside a workspace: that mission, and the deputy role.
    let ws2 = env.workspace("MISSION-002");
    let created = env
        .orc_in(&ws2, &["wo", "create", "in workspace", "--json"])
        .ok()
        .json();
    assert_eq!(created["mission"], "MISSION-002");
    assert_eq!(created["created_by"], "DEPUTY-MISSION-002");
    assert_eq!(
        env.orc_in(&ws2.join(".orc"), &["context", "mission-id"])
            .ok()
            .line(),
        "MISSION-002"
    );
    assert_eq!(env.orc_in(&ws2, &["context", "role"]).ok().line(), "deputy");
    assert_eq!(env.orc(&["context", "role"]).ok().line(), "none");
    env.orc(&["context", "mission-id"]).code(code::NOT_FOUND);
}

#[test]
fn the_legacy_mission_marker_is_read() {
    let env = TestEnv::with_mission();
    env.orc(&["mission", "create", "Second"]).ok();
    // A directory of the repository marked the old way (JSON or plain id).
    let plain = env.repo.join("plain");
    std::fs::create_dir_all(&plain).unwrap();
    std::fs::write(plain.join(".orc-mission"), "MISSION-002\n").unwrap();
    assert_eq!(
        env.orc_in(&plain, &["context", "mission-id"]).ok().line(),
        "MISSION-002"
    );
    let inside = env.repo.join("old-mission");
    std::fs::create_dir_all(&inside).unwrap();
    std::fs::write(
        inside.join(".orc-mission"),
        "{\"mission_id\": \"MISSION-002\"}\n",
    )
    .unwrap();
    assert_eq!(
        env.orc_in(&inside, &["context", "mission-id"]).ok().line(),
        "MISSION-002"
    );
    let wo = env
        .orc_in(&inside, &["wo", "create", "via marker", "--json"])
        .ok()
        .json();
    assert_eq!(wo["mission"], "MISSION-002");
}

#[test]
fn every_mutation_is_one_commit_authored_by_the_actor_with_trailers() {
    let env = TestEnv::with_mission();
    let before = env.ledger_commits();
    env.orc(&["wo", "create", "Add /echo handler"]).ok();
    env.orc(&["wo", "claim", "WO-001", "--as", "IMP-GROVE-007"])
        .ok();
    env.orc(&["wo", "note", "WO-001", "halfway", "--as", "IMP-GROVE-007"])
        .ok();
    env.orc(&["wo", "complete", "WO-001", "--as", "IMP-GROVE-007"])
        .ok();
    assert_eq!(env.ledger_commits(), before + 4);
    let log = env
        .git(&["log", "--format=%an|%ae|%s", "-4", "orc"])
        .ok()
        .stdout;
    assert_eq!(
        log,
        "IMP-GROVE-007|imp-grove-007@orc|WO-001: in_progress -> done\n\
         IMP-GROVE-007|imp-grove-007@orc|WO-001: note by IMP-GROVE-007\n\
         IMP-GROVE-007|imp-grove-007@orc|WO-001: ready -> in_progress\n\
         operator|operator@orc|WO-001: created \"Add /echo handler\"\n"
    );
    let body = env.git(&["log", "-1", "--format=%B", "orc"]).ok().stdout;
    assert!(
        body.contains("Orc-Actor: IMP-GROVE-007\nOrc-Op: work-order.complete"),
        "{body}"
    );
    let trailers = env
        .git(&[
            "log",
            "-1",
            "--format=%(trailers:key=Orc-Op,valueonly)",
            "orc",
        ])
        .ok()
        .line();
    assert_eq!(trailers, "work-order.complete");
    // `git diff orc~1 orc` shows exactly the work order's file.
    let diff = env.git(&["diff", "--stat", "orc~1", "orc"]).ok().stdout;
    assert!(
        diff.contains("missions/MISSION-001/work-orders/WO-001.json"),
        "{diff}"
    );
    assert!(diff.contains("1 file changed"), "{diff}");
    let shortlog = env.git(&["shortlog", "-s", "orc"]).ok().stdout;
    assert!(shortlog.contains("3\tIMP-GROVE-007"), "{shortlog}");
}

#[test]
fn head_index_and_working_tree_are_untouched_and_fsck_is_clean() {
    let env = TestEnv::new();
    std::fs::write(env.repo.join("dirty.txt"), "uncommitted\n").unwrap();
    std::fs::write(env.repo.join("README.md"), "changed, not staged\n").unwrap();
    let head = env.git(&["rev-parse", "HEAD"]).ok().line();
    let status = env
        .git(&["status", "--porcelain=v2", "--branch"])
        .ok()
        .stdout;
    let index = std::fs::read(env.repo.join(".git/index")).unwrap();
    let listing = || {
        let mut names: Vec<String> = std::fs::read_dir(&env.repo)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    let files_before = listing();

    env.orc(&["init"]).ok();
    env.orc(&["mission", "create", "M"]).ok();
    for i in 0..5 {
        env.orc(&["wo", "create", &format!("task {i}")]).ok();
    }
    env.orc(&["wo", "claim", "WO-001"]).ok();
    env.orc(&["wo", "update", "WO-002,WO-003", "--priority", "high"])
        .ok();
    env.orc(&["wo", "block", "WO-001", "--reason", "waiting for review"])
        .ok();
    env.orc(&["wo", "unblock", "WO-001"]).ok();
    env.orc(&["wo", "complete", "WO-001"]).ok();

    assert_eq!(env.git(&["rev-parse", "HEAD"]).ok().line(), head);
    assert_eq!(
        env.git(&["symbolic-ref", "HEAD"]).ok().line(),
        "refs/heads/main"
    );
    assert_eq!(
        env.git(&["status", "--porcelain=v2", "--branch"])
            .ok()
            .stdout,
        status
    );
    assert_eq!(std::fs::read(env.repo.join(".git/index")).unwrap(), index);
    assert_eq!(listing(), files_before);
    assert_eq!(
        std::fs::read_to_string(env.repo.join("README.md")).unwrap(),
        "changed, not staged\n"
    );
    let fsck = env.git(&["fsck", "--strict", "--no-dangling"]).ok();
    assert_eq!(fsck.stdout, "", "{}", fsck.stderr);
}

#[test]
fn orc_log_shows_the_history_of_one_entity_or_all() {
    let env = TestEnv::with_mission();
    env.orc(&["wo", "create", "one"]).ok();
    env.orc(&["wo", "create", "two"]).ok();
    env.orc(&["wo", "claim", "WO-001"]).ok();
    let log = env.orc(&["log", "WO-001", "--json"]).ok().json();
    let subjects: Vec<&str> = log["commits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["subject"].as_str().unwrap())
        .collect();
    assert_eq!(
        subjects,
        ["WO-001: ready -> in_progress", "WO-001: created \"one\""]
    );
    assert_eq!(log["commits"][0]["trailers"]["Orc-Op"], "work-order.claim");
    assert_eq!(log["commits"][0]["author"], "operator");
    let all = env.orc(&["log", "-n", "2"]).ok().stdout;
    assert_eq!(all.lines().count(), 2, "{all}");
    assert!(
        all.lines()
            .next()
            .unwrap()
            .ends_with("WO-001: ready -> in_progress"),
        "{all}"
    );
    let mission = env.orc(&["log", "MISSION-001", "--json"]).ok().json();
    assert_eq!(mission["commits"].as_array().unwrap().len(), 4);
    env.orc(&["log", "WO-999"]).code(code::NOT_FOUND);
    env.orc(&["log", "nonsense"]).code(code::USAGE);
}

#[test]
fn status_and_summary_show_the_mission() {
    let env = TestEnv::with_mission();
    env.orc(&["wo", "create", "Parent"]).ok();
    env.orc(&["wo", "create", "Child A", "--parent", "WO-001"])
        .ok();
    env.orc(&[
        "wo",
        "create",
        "Child B",
        "--parent",
        "WO-001",
        "--depends-on",
        "WO-002",
    ])
    .ok();
    env.orc(&["wo", "claim", "WO-002", "--as", "IMP-GROVE-001"])
        .ok();
    let status = env.orc(&["status"]).ok().stdout;
    assert!(
        status.contains("mission  MISSION-001 active  Echo service"),
        "{status}"
    );
    assert!(
        status.contains("3 work orders: 1 in_progress, 1 ready, 1 waiting"),
        "{status}"
    );
    let summary = env.orc(&["summary", "--scope", "current"]).ok().stdout;
    assert_eq!(
        summary,
        "MISSION-001  active  Echo service\n\
         WO-001      ready        medium  -              Parent\n\
         ├── WO-002  in_progress  medium  IMP-GROVE-001  Child A\n\
         └── WO-003  waiting      medium  -              Child B\n"
    );
    let json = env.orc(&["summary", "--json"]).ok().json();
    let root = &json["missions"][0]["work_orders"][0];
    assert_eq!(root["id"], "WO-001");
    assert_eq!(root["children"][1]["shown"], "waiting");
    env.orc(&["mission", "create", "Other"]).ok();
    let all = env.orc(&["summary", "--scope", "all"]).ok().stdout;
    assert!(all.contains("MISSION-002  active  Other"), "{all}");
}
