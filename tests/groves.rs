//! Groves on real worktrees: create, list, show, remove; names and paths
//! checked before anything is created; the main worktree untouched.

mod common;

use common::{TestEnv, code};

fn env() -> TestEnv {
    TestEnv::with_mission()
}

fn grove_path(env: &TestEnv, grove: &str) -> std::path::PathBuf {
    let g = env.orc(&["grove", "show", grove, "--json"]).ok().json();
    std::path::PathBuf::from(g["grove"]["path"].as_str().unwrap())
}

#[test]
fn create_makes_a_worktree_on_its_branch_with_a_hidden_orc_dir() {
    let env = env();
    let head = env.git(&["rev-parse", "HEAD"]).ok().line();
    let status = env
        .git(&["status", "--porcelain=v2", "--branch"])
        .ok()
        .stdout;
    assert_eq!(
        env.orc(&["grove", "create", "echo"]).ok().line(),
        "GROVE-001"
    );
    let path = grove_path(&env, "GROVE-001");
    assert!(
        path.starts_with(env.home.join("src/worktrees")) && path.ends_with("MISSION-001/echo"),
        "{}",
        path.display()
    );
    // A real worktree on branch `echo`, starting at HEAD.
    let list = env.git(&["worktree", "list", "--porcelain"]).ok().stdout;
    assert!(
        list.contains(&format!("worktree {}", path.display())),
        "{list}"
    );
    assert!(list.contains("branch refs/heads/echo"), "{list}");
    assert_eq!(env.git_in(&path, &["rev-parse", "HEAD"]).ok().line(), head);
    assert_eq!(
        env.git_in(&path, &["symbolic-ref", "HEAD"]).ok().line(),
        "refs/heads/echo"
    );
    // .orc/ (and the hooks' settings) are there but git does not see them.
    assert!(path.join(".orc/config.json").exists());
    assert!(path.join(".orc/grove.json").exists());
    assert!(path.join(".claude/settings.local.json").exists());
    assert_eq!(
        env.git_in(&path, &["status", "--porcelain"]).ok().stdout,
        ""
    );
    let config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(path.join(".orc/config.json")).unwrap()).unwrap();
    assert_eq!(config["type"], "grove");
    assert_eq!(config["grove"], "GROVE-001");
    assert_eq!(config["mission"], "MISSION-001");
    // Recorded on the ledger.
    let on_ledger: serde_json::Value =
        serde_json::from_str(&env.ledger_file("groves/GROVE-001/grove.json")).unwrap();
    assert_eq!(on_ledger["branch"], "echo");
    assert_eq!(on_ledger["base"], head);
    assert_eq!(
        env.git(&["log", "-1", "--format=%s", "orc"]).ok().line(),
        "GROVE-001: created \"echo\" on branch echo"
    );
    // The main worktree is untouched.
    assert_eq!(env.git(&["rev-parse", "HEAD"]).ok().line(), head);
    assert_eq!(
        env.git(&["status", "--porcelain=v2", "--branch"])
            .ok()
            .stdout,
        status
    );
    // Context in the grove.
    assert_eq!(env.orc_in(&path, &["context", "role"]).ok().line(), "imp");
    assert_eq!(
        env.orc_in(&path, &["context", "grove-id"]).ok().line(),
        "GROVE-001"
    );
    assert_eq!(
        env.orc_in(&path.join(".orc"), &["context", "actor"])
            .ok()
            .line(),
        "IMP-GROVE-001"
    );
}

#[test]
fn bad_names_paths_branches_and_bases_are_refused_before_anything_is_created() {
    let env = env();
    let tip = env.tip();
    for bad in [
        "a/b",
        "..",
        "x..y",
        "-rf",
        "a b",
        "tab\there",
        "esc\u{1b}x",
        "",
    ] {
        let out = env.orc(&["grove", "create", "--", bad]).code(code::USAGE);
        assert!(out.stderr.contains("grove name"), "{bad:?}: {}", out.stderr);
    }
    env.git(&["branch", "taken"]).ok();
    let out = env.orc(&["grove", "create", "taken"]).code(code::CONFLICT);
    assert!(
        out.stderr.contains("branch \"taken\" already exists"),
        "{}",
        out.stderr
    );
    let occupied = env.root.join("occupied");
    std::fs::create_dir_all(&occupied).unwrap();
    let out = env
        .orc(&[
            "grove",
            "create",
            "fresh",
            "--path",
            occupied.to_str().unwrap(),
        ])
        .code(code::CONFLICT);
    assert!(out.stderr.contains("already exists"), "{}", out.stderr);
    let out = env
        .orc(&["grove", "create", "fresh", "--base", "no-such-ref"])
        .code(code::NOT_FOUND);
    assert!(
        out.stderr
            .contains("\"no-such-ref\" does not name a commit"),
        "{}",
        out.stderr
    );
    assert_eq!(env.tip(), tip, "nothing was recorded");
    assert_eq!(
        env.git(&["worktree", "list"]).ok().stdout.lines().count(),
        1
    );
    assert!(
        !env.home.join("src/worktrees").exists()
            || std::fs::read_dir(env.home.join("src/worktrees"))
                .unwrap()
                .count()
                == 0
    );
    env.git(&["rev-parse", "--verify", "fresh"]).code(128);
    env.orc(&["grove", "create", "echo"]).ok();
    let out = env
        .orc(&["grove", "create", "echo", "--branch", "other"])
        .code(code::CONFLICT);
    assert!(
        out.stderr
            .contains("a grove named \"echo\" exists: GROVE-001"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_grove_needs_a_commit_to_start_from() {
    let env = TestEnv::bare();
    env.git(&["init", "-q", "-b", "main"]).ok();
    env.orc(&["init"]).ok();
    env.orc(&["mission", "create", "M"]).ok();
    let out = env.orc(&["grove", "create", "g"]).code(code::NOT_FOUND);
    assert!(out.stderr.contains("no commit yet"), "{}", out.stderr);
}

#[test]
fn list_show_and_remove() {
    let env = env();
    env.orc(&["grove", "create", "echo"]).ok();
    env.orc(&["grove", "create", "tests", "--base", "main"])
        .ok();
    let list = env.orc(&["grove", "list", "--json"]).ok().json();
    assert_eq!(list["groves"].as_array().unwrap().len(), 2);
    let text = env.orc(&["grove", "list"]).ok().stdout;
    assert!(text.contains("GROVE-002  tests  tests  idle"), "{text}");
    let path = grove_path(&env, "tests");
    let head = env.git(&["rev-parse", "HEAD"]).ok().line();
    let out = env.orc(&["grove", "remove", "tests"]).ok();
    assert!(out.stdout.contains("GROVE-002 removed"), "{}", out.stdout);
    assert!(!path.exists());
    let worktrees = env.git(&["worktree", "list"]).ok().stdout;
    assert!(!worktrees.contains("tests"), "{worktrees}");
    env.git(&["rev-parse", "--verify", "refs/heads/tests"])
        .code(128);
    assert_eq!(env.git(&["rev-parse", "HEAD"]).ok().line(), head);
    let on_ledger: serde_json::Value =
        serde_json::from_str(&env.ledger_file("groves/GROVE-002/grove.json")).unwrap();
    assert_eq!(on_ledger["status"], "removed");
    assert_eq!(env.orc(&["grove", "list"]).ok().stdout.lines().count(), 1);
    assert_eq!(
        env.orc(&["grove", "list", "--all"])
            .ok()
            .stdout
            .lines()
            .count(),
        2
    );
    env.orc(&["grove", "remove", "GROVE-002"])
        .code(code::CONFLICT);
}

#[test]
fn remove_refuses_unmerged_work_keeps_it_under_an_archive_ref_when_forced_and_honours_keep_branch()
{
    let env = env();
    env.orc(&["grove", "create", "work"]).ok();
    let path = grove_path(&env, "work");
    std::fs::write(path.join("new.txt"), "x\n").unwrap();
    env.git_in(&path, &["add", "new.txt"]).ok();
    env.git_in(&path, &["commit", "-q", "-m", "work"]).ok();
    let tip = env.git_in(&path, &["rev-parse", "HEAD"]).ok().line();
    // Custody: work that is not on the integration branch is not thrown
    // away by accident.
    let out = env.orc(&["grove", "remove", "work"]).code(code::CONFLICT);
    assert!(
        out.stderr
            .contains("has 1 commit(s) that have not landed on orc-mission/MISSION-001")
            && out.stderr.contains("--force"),
        "{}",
        out.stderr
    );
    assert!(path.exists(), "nothing was removed");
    env.git(&["rev-parse", "--verify", "refs/heads/work"]).ok();
    // Forced: the branch goes, its work stays under an archive ref.
    let out = env
        .orc(&["grove", "remove", "work", "--force", "--json"])
        .ok()
        .json();
    let archived = out["archived"].as_str().unwrap().to_string();
    assert!(archived.starts_with("refs/orc/archive/work/"), "{archived}");
    assert_eq!(env.git(&["rev-parse", &archived]).ok().line(), tip);
    env.git(&["rev-parse", "--verify", "refs/heads/work"])
        .code(128);
    assert!(!path.exists());
    let body = env.git(&["log", "-1", "--format=%B", "orc"]).ok().stdout;
    assert!(body.contains(&format!("kept as {archived}")), "{body}");

    // A branch without unmerged work is deleted; --keep-branch keeps it.
    env.orc(&["grove", "create", "keep"]).ok();
    env.orc(&["grove", "remove", "keep", "--keep-branch"]).ok();
    env.git(&["rev-parse", "--verify", "refs/heads/keep"]).ok();
    env.orc(&["grove", "create", "plain"]).ok();
    let out = env.orc(&["grove", "remove", "plain", "--json"]).ok().json();
    assert!(out["archived"].is_null(), "{out}");
    env.git(&["rev-parse", "--verify", "refs/heads/plain"])
        .code(128);
}

#[test]
fn remove_is_refused_while_work_is_assigned_unless_forced() {
    let env = env();
    env.orc(&["grove", "create", "echo"]).ok();
    env.orc(&["wo", "create", "w"]).ok();
    env.orc(&["assign", "WO-001", "--grove", "echo"]).ok();
    let out = env.orc(&["grove", "remove", "echo"]).code(code::CONFLICT);
    assert!(
        out.stderr
            .contains("GROVE-001 holds an active assignment (WO-001)"),
        "{}",
        out.stderr
    );
    env.orc(&["grove", "remove", "echo", "--force"]).ok();
    let wo = env.orc(&["wo", "show", "WO-001", "--json"]).ok().json();
    assert_eq!(wo["status"], "ready", "forced removal returns the work");
    assert_eq!(wo["assignee"], serde_json::Value::Null);
}
