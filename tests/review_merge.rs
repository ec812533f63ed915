//! The work comes home: hand-in with evidence, review gates, the merge
//! train onto the mission's integration branch, `orc mission land`, and
//! artifacts — with real repositories, real worktrees and real processes.

mod common;

use std::path::{Path, PathBuf};

use common::{TestEnv, fixtures};
use serde_json::Value;

const INTEGRATION: &str = "orc-mission/MISSION-001";

mod code {
    pub const USAGE: i32 = 2;
    pub const NOT_FOUND: i32 = 3;
    pub const CONFLICT: i32 = 4;
    pub const INVALID: i32 = 5;
}

fn grove(env: &TestEnv, name: &str) -> PathBuf {
    env.orc(&["grove", "create", name]).ok();
    let g = env.orc(&["grove", "show", name, "--json"]).ok().json();
    PathBuf::from(g["grove"]["path"].as_str().unwrap())
}

/// Writes `file` in the grove and commits it, as an IMP does.
fn commit(env: &TestEnv, dir: &Path, file: &str, text: &str) {
    if let Some(parent) = Path::new(file).parent() {
        std::fs::create_dir_all(dir.join(parent)).unwrap();
    }
    std::fs::write(dir.join(file), text).unwrap();
    env.git_in(dir, &["add", "-A"]).ok();
    env.git_in(dir, &["commit", "-q", "-m", &format!("write {file}")])
        .ok();
}

/// The IMP of the grove at `dir` starts and finishes `wo`.
fn hand_in(env: &TestEnv, dir: &Path, wo: &str) -> Value {
    let w = env.orc(&["wo", "show", wo, "--json"]).ok().json();
    if w["work_order"]["status"] == "assigned" || w["status"] == "assigned" {
        env.orc_in(dir, &["work", "start", wo]).ok();
    }
    env.orc_in(dir, &["work", "done", wo, "--summary", "did it", "--json"])
        .ok()
        .json()
}

fn wo(env: &TestEnv, id: &str) -> Value {
    let v = env.orc(&["wo", "show", id, "--json"]).ok().json();
    if v.get("work_order").is_some() {
        v["work_order"].clone()
    } else {
        v
    }
}

/// The head commit work order `id` was handed in with.
fn handed_head(env: &TestEnv, id: &str) -> String {
    wo(env, id)["evidence"]["head"]
        .as_str()
        .unwrap_or_else(|| panic!("{id} has no evidence"))
        .to_string()
}

fn tip(env: &TestEnv, branch: &str) -> String {
    env.git(&["rev-parse", "--verify", branch]).ok().line()
}

fn files_at(env: &TestEnv, rev: &str) -> String {
    env.git(&["ls-tree", "-r", "--name-only", rev]).ok().stdout
}

/// One grove per work order, each assigned and handed in with one commit
/// writing `<name>.txt`.
fn handed_in(env: &TestEnv, names: &[&str]) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    for name in names {
        let id = env
            .orc(&["wo", "create", &format!("Write {name}")])
            .ok()
            .line();
        let dir = grove(env, name);
        env.orc(&["assign", &id, "--grove", name]).ok();
        commit(env, &dir, &format!("{name}.txt"), "ok\n");
        hand_in(env, &dir, &id);
        dirs.push(dir);
    }
    dirs
}

#[test]
fn a_clean_train_lands_approved_work_by_compare_and_swap_and_never_touches_main() {
    let env = TestEnv::with_mission();
    let mission = env.orc(&["mission", "show", "--json"]).ok().json();
    assert_eq!(mission["target"], "main");
    assert_eq!(mission["integration"], INTEGRATION);
    let start = tip(&env, "main");
    assert_eq!(tip(&env, INTEGRATION), start, "started from the target");
    env.orc(&[
        "config",
        "set",
        "check",
        "for f in *.txt; do grep -q ok $f || exit 1; done",
    ])
    .ok();
    // A person is working in the main checkout: staged and untracked
    // changes, main checked out.
    std::fs::write(env.repo.join("README.md"), "hello, edited\n").unwrap();
    std::fs::write(env.repo.join("staged.txt"), "staged\n").unwrap();
    env.git(&["add", "staged.txt"]).ok();
    std::fs::write(env.repo.join("untracked.txt"), "mine\n").unwrap();
    let status_before = env.git(&["status", "--porcelain"]).ok().stdout;
    let index_before = env.git(&["diff", "--cached"]).ok().stdout;
    let worktree_before = env.git(&["diff"]).ok().stdout;

    handed_in(&env, &["alpha", "beta", "gamma"]);
    env.orc(&["wo", "update", "WO-003", "--priority", "high"])
        .ok();
    for id in ["WO-001", "WO-002", "WO-003"] {
        let w = wo(&env, id);
        assert_eq!(w["status"], "review", "{w:#}");
        assert_eq!(w["evidence"]["commits"], 1);
        assert_eq!(w["evidence"]["files"], 1);
        assert_eq!(w["evidence"]["check"]["exit"], 0, "{w:#}");
        assert_eq!(w["approval"]["state"], "approved", "policy none");
        assert_eq!(w["approval"]["policy"], "none");
        assert!(w["artifacts"][0]["name"] == "check.log", "{w:#}");
    }
    // Handed in is not landed: the integration branch has not moved.
    assert_eq!(tip(&env, INTEGRATION), start);

    let out = env.orc(&["merge", "--json"]).ok().json();
    let landed: Vec<&str> = out["trains"][0]["landed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l[0].as_str().unwrap())
        .collect();
    assert_eq!(
        landed,
        ["WO-003", "WO-001", "WO-002"],
        "priority first, then id"
    );
    let integration = tip(&env, INTEGRATION);
    assert_ne!(integration, start);
    for f in ["alpha.txt", "beta.txt", "gamma.txt"] {
        assert!(files_at(&env, INTEGRATION).contains(f), "{f}");
    }
    // Each landing moved the branch once, from the commit before (the
    // reflog records orc's compare-and-swap moves).
    let reflog = env
        .git(&["reflog", "show", "--format=%gs", INTEGRATION])
        .ok()
        .stdout;
    assert_eq!(
        reflog
            .lines()
            .filter(|l| l.starts_with("orc: landed"))
            .count(),
        3,
        "{reflog}"
    );
    for id in ["WO-001", "WO-002", "WO-003"] {
        let w = wo(&env, id);
        assert_eq!(w["status"], "done", "{w:#}");
        assert_eq!(w["landed"]["integration"], INTEGRATION);
        let at = w["landed"]["commit"].as_str().unwrap();
        env.git(&["merge-base", "--is-ancestor", at, INTEGRATION])
            .ok();
    }
    // Nothing of the person's changed.
    assert_eq!(tip(&env, "main"), start);
    assert_eq!(env.git(&["rev-parse", "HEAD"]).ok().line(), start);
    assert_eq!(
        env.git(&["symbolic-ref", "HEAD"]).ok().line(),
        "refs/heads/main"
    );
    assert_eq!(
        env.git(&["status", "--porcelain"]).ok().stdout,
        status_before
    );
    assert_eq!(env.git(&["diff", "--cached"]).ok().stdout, index_before);
    assert_eq!(env.git(&["diff"]).ok().stdout, worktree_before);
    // The ledger tells it, by the train.
    let log = env.git(&["log", "--format=%an|%s", "orc"]).ok().stdout;
    assert!(
        log.contains(
            "TRAIN-MISSION-001|WO-001: review -> done (landed on orc-mission/MISSION-001)"
        ),
        "{log}"
    );
    // Nothing left: a second run does nothing.
    let again = env.orc(&["merge"]).ok();
    assert!(
        again.stdout.contains("nothing approved to merge"),
        "{}",
        again.stdout
    );
    assert_eq!(tip(&env, INTEGRATION), integration);
}

#[test]
/// With every strategy: the IMP resolves by merging the integration branch
/// into its grove, and the train brings that resolution in.
fn a_conflict_goes_back_with_a_child_work_order_that_the_scripted_imp_resolves() {
    for strategy in ["merge", "rebase", "squash"] {
        let env = TestEnv::with_mission();
        env.orc(&["config", "set", "merge.strategy", strategy]).ok();
        env.orc(&["wo", "create", "One"]).ok();
        env.orc(&["wo", "create", "Two"]).ok();
        let one = grove(&env, "one");
        let two = grove(&env, "two");
        env.orc(&["assign", "WO-001", "--grove", "one"]).ok();
        env.orc(&["assign", "WO-002", "--grove", "two"]).ok();
        commit(&env, &one, "shared.txt", "from one\n");
        commit(&env, &two, "shared.txt", "from two\n");
        hand_in(&env, &one, "WO-001");
        hand_in(&env, &two, "WO-002");

        let out = env.orc(&["merge", "--json"]).ok().json();
        let train = &out["trains"][0];
        assert_eq!(train["landed"][0][0], "WO-001", "{out:#}");
        assert_eq!(train["sent_back"][0][0], "WO-002", "{out:#}");
        assert!(
            train["sent_back"][0][1]
                .as_str()
                .unwrap()
                .contains("shared.txt"),
            "{out:#}"
        );
        let two_wo = wo(&env, "WO-002");
        assert_eq!(two_wo["status"], "in_progress");
        let child = wo(&env, "WO-003");
        assert_eq!(child["type"], "conflict");
        assert_eq!(child["parent"], "WO-002");
        assert_eq!(child["status"], "assigned");
        assert_eq!(child["assignee"], "IMP-GROVE-002");
        assert!(
            child["description"]
                .as_str()
                .unwrap()
                .contains("shared.txt"),
            "{child:#}"
        );
        // The IMP finds it in its assignment: next, with the files named.
        let assigned: Value =
            serde_json::from_slice(&std::fs::read(two.join(".orc/assigned-work.json")).unwrap())
                .unwrap();
        assert_eq!(assigned["next"], "WO-003", "{assigned:#}");

        // The scripted IMP does what the child says, nudged once.
        let mut imp = env.command("sh", &two);
        imp.arg(fixtures().join("agents/imp.sh"))
            .env("ORC", TestEnv::bin())
            .stdin(std::process::Stdio::piped());
        let mut child_proc = imp.spawn().unwrap();
        {
            use std::io::Write;
            let mut stdin = child_proc.stdin.take().unwrap();
            writeln!(
                stdin,
                "orc: your assignment changed; read .orc/assigned-work.json"
            )
            .unwrap();
        }
        let status = child_proc.wait().unwrap();
        assert!(status.success());
        let resolved = wo(&env, "WO-003");
        assert_eq!(resolved["status"], "review", "{resolved:#}");

        // Merged on the retry; the work order it was made for lands with it.
        env.orc(&["merge"]).ok();
        assert_eq!(wo(&env, "WO-003")["status"], "done");
        let two_wo = wo(&env, "WO-002");
        assert_eq!(two_wo["status"], "done", "{two_wo:#}");
        assert!(two_wo["landed"]["commit"].is_string());
        let shared = env
            .git(&["show", &format!("{INTEGRATION}:shared.txt")])
            .ok()
            .stdout;
        assert!(
            shared.contains("from one") && shared.contains("from two"),
            "{shared}"
        );
    }
}

#[test]
fn a_failing_check_sends_the_work_back_with_its_output_and_bisection_lands_the_rest() {
    let env = TestEnv::with_mission();
    env.orc(&["config", "set", "check", "! grep -rl BAD --include=*.txt ."])
        .ok();
    env.orc(&["config", "set", "merge.batch", "3"]).ok();
    env.orc(&["wo", "create", "Good one"]).ok();
    env.orc(&["wo", "create", "Bad"]).ok();
    env.orc(&["wo", "create", "Good two"]).ok();
    for (i, name) in ["good1", "bad", "good2"].iter().enumerate() {
        let dir = grove(&env, name);
        env.orc(&["assign", &format!("WO-{:03}", i + 1), "--grove", name])
            .ok();
        let text = if *name == "bad" { "BAD\n" } else { "fine\n" };
        commit(&env, &dir, &format!("{name}.txt"), text);
        hand_in(&env, &dir, &format!("WO-{:03}", i + 1));
    }
    // The check ran at hand-in too: the IMP's evidence shows it failing.
    let bad = wo(&env, "WO-002");
    assert_eq!(bad["evidence"]["check"]["exit"], 1, "{bad:#}");

    let out = env.orc(&["merge", "--json"]).ok().json();
    let train = &out["trains"][0];
    let mut landed: Vec<&str> = train["landed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l[0].as_str().unwrap())
        .collect();
    landed.sort();
    assert_eq!(landed, ["WO-001", "WO-003"], "{out:#}");
    assert_eq!(train["sent_back"][0][0], "WO-002", "{out:#}");
    let files = files_at(&env, INTEGRATION);
    assert!(files.contains("good1.txt") && files.contains("good2.txt"));
    assert!(!files.contains("bad.txt"), "{files}");
    // Back to the grove, with the check's output as an artifact.
    let bad = wo(&env, "WO-002");
    assert_eq!(bad["status"], "in_progress");
    assert_eq!(bad["approval"]["state"], "rejected");
    let log = env
        .orc(&["artifact", "get", "WO-002", "train-check.log"])
        .ok()
        .stdout;
    assert!(log.contains("bad.txt"), "{log}");
    let names: Vec<String> = env
        .orc(&["artifact", "list", "WO-002", "--json"])
        .ok()
        .json()["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap().to_string())
        .collect();
    assert!(names.contains(&"train-check.log".to_string()), "{names:?}");
    let dir = env.orc(&["grove", "show", "bad", "--json"]).ok().json()["grove"]["path"]
        .as_str()
        .unwrap()
        .to_string();
    let assigned =
        std::fs::read_to_string(Path::new(&dir).join(".orc/assigned-work.json")).unwrap();
    assert!(
        assigned.contains("train-check.log"),
        "the IMP reads why: {assigned}"
    );
}

#[test]
fn a_rejection_sends_the_work_back_and_it_is_reviewed_again() {
    let env = TestEnv::with_mission();
    env.orc(&["config", "set", "review", "deputy"]).ok();
    env.orc(&["wo", "create", "Feature"]).ok();
    let dir = grove(&env, "one");
    grove(&env, "two");
    env.orc(&["assign", "WO-001", "--grove", "one"]).ok();
    commit(&env, &dir, "feature.txt", "v1\n");
    hand_in(&env, &dir, "WO-001");
    let w = wo(&env, "WO-001");
    assert_eq!(w["status"], "review");
    assert_eq!(w["approval"]["state"], "pending");
    assert_eq!(w["approval"]["policy"], "deputy");
    // Pending work does not land.
    env.orc(&["merge"]).ok();
    assert_eq!(wo(&env, "WO-001")["status"], "review");
    // Not its author, not another IMP.
    let own = env
        .orc_in(&dir, &["approve", "WO-001"])
        .code(code::CONFLICT);
    assert!(
        own.stderr.contains("someone else reviews it"),
        "{}",
        own.stderr
    );
    let other = env
        .orc(&["approve", "WO-001", "--as", "IMP-GROVE-002"])
        .code(code::CONFLICT);
    assert!(
        other.stderr.contains("reviewed by the deputy"),
        "{}",
        other.stderr
    );
    // The review shows what a reviewer needs.
    let review = env.orc(&["review", "WO-001"]).ok().stdout;
    assert!(
        review.contains("feature.txt")
            && review.contains("+v1")
            && review.contains("review:   deputy"),
        "{review}"
    );
    // Rejected: back in the grove, the reason in its file.
    env.orc(&[
        "reject",
        "WO-001",
        "--reason",
        "feature.txt needs a second line",
        "--as",
        "DEPUTY-MISSION-001",
    ])
    .ok();
    let w = wo(&env, "WO-001");
    assert_eq!(w["status"], "in_progress");
    assert_eq!(w["approval"]["state"], "rejected");
    let assigned: Value =
        serde_json::from_slice(&std::fs::read(dir.join(".orc/assigned-work.json")).unwrap())
            .unwrap();
    assert_eq!(assigned["next"], "WO-001");
    let notes = assigned["work_orders"][0]["notes"].to_string();
    assert!(notes.contains("feature.txt needs a second line"), "{notes}");
    env.orc(&[
        "reject",
        "WO-001",
        "--reason",
        "again",
        "--as",
        "DEPUTY-MISSION-001",
    ])
    .code(code::CONFLICT);
    // Done again, reviewed again, approved, landed.
    commit(&env, &dir, "feature.txt", "v1\nv2\n");
    env.orc_in(&dir, &["work", "done", "WO-001"]).ok();
    let w = wo(&env, "WO-001");
    assert_eq!(w["status"], "review");
    assert_eq!(
        w["approval"]["state"], "pending",
        "a new hand-in is reviewed anew"
    );
    assert_eq!(w["evidence"]["commits"], 2);
    env.orc(&[
        "approve",
        "WO-001",
        "--note",
        "good",
        "--as",
        "DEPUTY-MISSION-001",
    ])
    .ok();
    env.orc(&["merge"]).ok();
    let w = wo(&env, "WO-001");
    assert_eq!(w["status"], "done");
    assert_eq!(
        env.git(&["show", &format!("{INTEGRATION}:feature.txt")])
            .ok()
            .stdout,
        "v1\nv2\n"
    );
    let story = env
        .git(&["log", "--reverse", "--format=%an|%s", "orc"])
        .ok()
        .stdout;
    let lines: Vec<&str> = story
        .lines()
        .filter(|l| l.contains("|WO-001: "))
        .map(|l| l.split_once("|WO-001: ").unwrap().1)
        .collect();
    assert_eq!(
        lines,
        [
            "created \"Feature\"",
            "ready -> assigned to GROVE-001",
            "assigned -> in_progress",
            "in_progress -> review",
            "review -> in_progress (rejected by DEPUTY-MISSION-001)",
            "in_progress -> review",
            "approved by DEPUTY-MISSION-001",
            "review -> done (landed on orc-mission/MISSION-001)",
        ],
        "{story}"
    );
}

#[test]
fn a_human_gate_is_never_passed_by_an_agent() {
    let env = TestEnv::with_mission();
    env.orc(&["config", "set", "agents", "build-bot"]).ok();
    env.orc(&["wo", "create", "Payments", "--review", "human"])
        .ok();
    let dir = grove(&env, "one");
    env.orc(&["assign", "WO-001", "--grove", "one"]).ok();
    commit(&env, &dir, "pay.txt", "pay\n");
    hand_in(&env, &dir, "WO-001");
    assert_eq!(wo(&env, "WO-001")["approval"]["policy"], "human");
    for actor in ["IMP-GROVE-002", "DEPUTY-MISSION-001", "build-bot"] {
        let out = env
            .orc(&["approve", "WO-001", "--as", actor])
            .code(code::CONFLICT);
        assert!(
            out.stderr
                .contains("needs a person's review (policy human)"),
            "{actor}: {}",
            out.stderr
        );
    }
    // Not by its author either, and not from the deputy's workspace.
    env.orc_in(&dir, &["approve", "WO-001"])
        .code(code::CONFLICT);
    let ws = env.workspace("MISSION-001");
    env.orc_in(&ws, &["approve", "WO-001"]).code(code::CONFLICT);
    env.orc(&["merge"]).ok();
    assert_eq!(wo(&env, "WO-001")["status"], "review", "nothing lands");
    // A person can.
    env.orc(&["approve", "WO-001", "--as", "Ada Lovelace"]).ok();
    let w = wo(&env, "WO-001");
    assert_eq!(w["approval"]["by"], "Ada Lovelace");
    env.orc(&["merge"]).ok();
    assert_eq!(wo(&env, "WO-001")["status"], "done");
}

#[test]
fn agent_review_goes_to_another_grove_which_approves() {
    let env = TestEnv::with_mission();
    env.orc(&["config", "set", "review", "agent"]).ok();
    env.orc(&[
        "wo",
        "create",
        "Parser",
        "--acceptance",
        "parses empty input",
    ])
    .ok();
    let one = grove(&env, "one");
    let two = grove(&env, "two");
    env.orc(&["assign", "WO-001", "--grove", "one"]).ok();
    commit(&env, &one, "parser.txt", "parse\n");
    hand_in(&env, &one, "WO-001");
    let review = wo(&env, "WO-002");
    assert_eq!(review["type"], "review");
    assert_eq!(review["reviews"], "WO-001");
    assert_eq!(review["status"], "ready");
    // Never to the grove whose work it reviews.
    let out = env
        .orc(&["assign", "WO-002", "--grove", "one"])
        .code(code::CONFLICT);
    assert!(
        out.stderr.contains("another grove reviews it"),
        "{}",
        out.stderr
    );
    let found = env.orc(&["discover", "--auto-claim", "--json"]).ok().json();
    assert_eq!(found["assigned"]["grove"], "GROVE-002", "{found:#}");
    let assigned: Value =
        serde_json::from_slice(&std::fs::read(two.join(".orc/assigned-work.json")).unwrap())
            .unwrap();
    assert_eq!(assigned["work_orders"][0]["reviews"], "WO-001");
    // The reviewer sees the criteria and the diff, and approves.
    let shown = env.orc_in(&two, &["review", "WO-001"]).ok().stdout;
    assert!(
        shown.contains("parses empty input") && shown.contains("+parse"),
        "{shown}"
    );
    env.orc_in(&two, &["approve", "WO-001"]).ok();
    let w = wo(&env, "WO-001");
    assert_eq!(w["approval"]["by"], "IMP-GROVE-002");
    assert_eq!(wo(&env, "WO-002")["status"], "done");
    env.orc(&["merge"]).ok();
    assert_eq!(wo(&env, "WO-001")["status"], "done");
}

#[test]
fn a_grove_waiting_on_review_reviews_the_other_groves_work_meanwhile() {
    let env = TestEnv::with_mission();
    env.orc(&["config", "set", "review", "agent"]).ok();
    handed_in(&env, &["one", "two"]);
    // Both groves wait on review; each review goes to the other.
    let listed = env.orc(&["wo", "list", "--json"]).ok().json();
    let plan: Vec<(String, String)> = listed["work_orders"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["type"] == "review")
        .map(|w| {
            (
                w["reviews"].as_str().unwrap().to_string(),
                w["id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(plan.len(), 2);
    for _ in 0..2 {
        env.orc(&["discover", "--auto-claim"]).ok();
    }
    for (reviewed, review) in &plan {
        let r = wo(&env, review);
        let author = wo(&env, reviewed)["assignee"].as_str().unwrap().to_string();
        assert_eq!(r["status"], "assigned", "{r:#}");
        assert_ne!(r["assignee"].as_str().unwrap(), author, "{r:#}");
    }
}

#[test]
fn dependent_work_starts_from_the_integration_branch_with_its_dependency() {
    let env = TestEnv::with_mission();
    env.orc(&["wo", "create", "Library"]).ok();
    env.orc(&["wo", "create", "User", "--depends-on", "WO-001"])
        .ok();
    let one = grove(&env, "one");
    let two = grove(&env, "two");
    env.orc(&["assign", "WO-001", "--grove", "one"]).ok();
    commit(&env, &one, "lib.txt", "library\n");
    hand_in(&env, &one, "WO-001");
    // Reported is not landed: the dependency is not met yet.
    let out = env
        .orc(&["assign", "WO-002", "--grove", "two"])
        .code(code::CONFLICT);
    assert!(out.stderr.contains("waiting on WO-001"), "{}", out.stderr);
    env.orc(&["merge"]).ok();
    env.orc(&["assign", "WO-002", "--grove", "two"]).ok();
    assert!(
        two.join("lib.txt").exists(),
        "the grove starts from the landed work"
    );
    assert_eq!(
        env.git_in(&two, &["rev-parse", "HEAD"]).ok().line(),
        tip(&env, INTEGRATION)
    );
    assert_eq!(
        env.git_in(&two, &["symbolic-ref", "--short", "HEAD"])
            .ok()
            .line(),
        "two",
        "on its own branch"
    );
    // A grove holding unmerged work is not moved.
    let three = grove(&env, "three");
    commit(&env, &three, "mine.txt", "mine\n");
    let before = env.git_in(&three, &["rev-parse", "HEAD"]).ok().line();
    env.orc(&["wo", "create", "More"]).ok();
    env.orc(&["assign", "WO-003", "--grove", "three"]).ok();
    assert_eq!(
        env.git_in(&three, &["rev-parse", "HEAD"]).ok().line(),
        before
    );
}

#[test]
fn concurrent_approvals_and_racing_trains_never_lose_a_merge() {
    let env = TestEnv::with_mission();
    env.orc(&["config", "set", "review", "deputy"]).ok();
    const GROVES: usize = 4;
    let names: Vec<String> = (1..=GROVES).map(|i| format!("g{i}")).collect();
    let dirs: Vec<PathBuf> = names.iter().map(|n| grove(&env, n)).collect();
    let mut outside = Vec::new();
    for round in 0..3 {
        let mut ids = Vec::new();
        for (i, dir) in dirs.iter().enumerate() {
            let id = env
                .orc(&["wo", "create", &format!("r{round} g{i}")])
                .ok()
                .line();
            env.orc(&["assign", &id, "--grove", &names[i]]).ok();
            commit(&env, dir, &format!("r{round}/g{i}.txt"), "ok\n");
            hand_in(&env, dir, &id);
            ids.push(id);
        }
        // All at once: the approvals, two trains, and someone else moving
        // the integration branch (another machine's train).
        std::thread::scope(|scope| {
            for id in &ids {
                let env = &env;
                scope.spawn(move || {
                    env.orc(&["approve", id, "--as", "DEPUTY-MISSION-001"]).ok();
                });
            }
            for _ in 0..2 {
                let env = &env;
                scope.spawn(move || {
                    for _ in 0..3 {
                        env.orc(&["merge"]).ok();
                    }
                });
            }
            let env = &env;
            let outside = &mut outside;
            scope.spawn(move || {
                let old = tip(env, INTEGRATION);
                let tree = env
                    .git(&["rev-parse", &format!("{old}^{{tree}}")])
                    .ok()
                    .line();
                let c = env
                    .git(&[
                        "commit-tree",
                        &tree,
                        "-p",
                        &old,
                        "-m",
                        &format!("outside {round}"),
                    ])
                    .ok()
                    .line();
                // A compare-and-swap like orc's: lost races are fine.
                let moved = env
                    .git(&["update-ref", &format!("refs/heads/{INTEGRATION}"), &c, &old])
                    .code;
                if moved == 0 {
                    outside.push(c);
                }
            });
        });
        env.orc(&["merge"]).ok();
        let files = files_at(&env, INTEGRATION);
        for i in 0..GROVES {
            assert!(
                files.contains(&format!("r{round}/g{i}.txt")),
                "round {round}: {files}"
            );
        }
        for id in &ids {
            let w = wo(&env, id);
            assert_eq!(w["status"], "done", "{w:#}");
            env.git(&[
                "merge-base",
                "--is-ancestor",
                w["landed"]["commit"].as_str().unwrap(),
                INTEGRATION,
            ])
            .ok();
        }
        for c in &outside {
            env.git(&["merge-base", "--is-ancestor", c, INTEGRATION])
                .ok();
        }
    }
    // One landing commit on the ledger per work order.
    let landings = env
        .git(&["log", "--format=%s", "orc"])
        .ok()
        .stdout
        .lines()
        .filter(|l| l.contains("(landed on"))
        .count();
    assert_eq!(landings, 3 * GROVES);
    env.git(&["fsck", "--no-progress"]).ok();
}

#[test]
fn the_rebase_and_squash_strategies_bring_the_work_in_without_merge_commits() {
    for strategy in ["rebase", "squash"] {
        let env = TestEnv::with_mission();
        env.orc(&["config", "set", "merge.strategy", strategy]).ok();
        env.orc(&["wo", "create", "Two steps"]).ok();
        let dir = grove(&env, "one");
        env.orc(&["assign", "WO-001", "--grove", "one"]).ok();
        commit(&env, &dir, "a.txt", "a\n");
        commit(&env, &dir, "b.txt", "b\n");
        hand_in(&env, &dir, "WO-001");
        let start = tip(&env, INTEGRATION);
        env.orc(&["merge"]).ok();
        let log = env
            .git(&[
                "log",
                "--format=%P|%an|%s",
                &format!("{start}..{INTEGRATION}"),
            ])
            .ok()
            .stdout;
        let lines: Vec<&str> = log.lines().collect();
        assert!(
            lines
                .iter()
                .all(|l| l.split('|').next().unwrap().split(' ').count() == 1),
            "{strategy}: no merge commits: {log}"
        );
        if strategy == "rebase" {
            assert_eq!(lines.len(), 2, "{log}");
            assert!(
                lines.iter().all(|l| l.contains("|Test Person|write ")),
                "authors kept: {log}"
            );
        } else {
            assert_eq!(lines.len(), 1, "{log}");
            assert!(lines[0].contains("WO-001: Two steps"), "{log}");
        }
        let files = files_at(&env, INTEGRATION);
        assert!(
            files.contains("a.txt") && files.contains("b.txt"),
            "{files}"
        );
        assert_eq!(wo(&env, "WO-001")["status"], "done");
    }
}

/// A mission whose work (`work.txt`) has landed on its integration branch.
fn landed_env() -> TestEnv {
    let env = TestEnv::with_mission();
    env.orc(&["wo", "create", "Work"]).ok();
    let dir = grove(&env, "one");
    env.orc(&["assign", "WO-001", "--grove", "one"]).ok();
    commit(&env, &dir, "work.txt", "work\n");
    hand_in(&env, &dir, "WO-001");
    env.orc(&["merge"]).ok();
    env
}

#[test]
fn mission_land_fast_forwards_a_clean_checked_out_target() {
    let env = landed_env();
    let integration = tip(&env, INTEGRATION);
    let out = env.orc(&["mission", "land", "--json"]).ok().json();
    assert_eq!(out["how"], "fast-forward", "{out:#}");
    assert_eq!(tip(&env, "main"), integration);
    assert_eq!(env.git(&["rev-parse", "HEAD"]).ok().line(), integration);
    assert!(
        env.repo.join("work.txt").exists(),
        "updated as git merge --ff-only would"
    );
    assert!(env.git(&["status", "--porcelain"]).ok().stdout.is_empty());
    let m = env.orc(&["mission", "show", "--json"]).ok().json();
    assert_eq!(m["landed"]["commit"], integration.as_str());
    let commits = env.ledger_commits();
    let again = env.orc(&["mission", "land"]).ok();
    assert!(again.stdout.contains("already on main"), "{}", again.stdout);
    assert_eq!(env.ledger_commits(), commits, "recorded once");
}

#[test]
fn mission_land_refuses_a_target_checked_out_with_changes() {
    let env = landed_env();
    let main = tip(&env, "main");
    std::fs::write(env.repo.join("README.md"), "my edit\n").unwrap();
    let out = env.orc(&["mission", "land"]).code(code::CONFLICT);
    assert!(
        out.stderr.contains("which has changes")
            && out
                .stderr
                .contains(&format!("merge --ff-only {INTEGRATION}")),
        "{}",
        out.stderr
    );
    assert_eq!(tip(&env, "main"), main);
    assert_eq!(
        std::fs::read_to_string(env.repo.join("README.md")).unwrap(),
        "my edit\n"
    );
    // The person follows the hint; landing again records where it is.
    env.git(&["merge", "-q", "--ff-only", INTEGRATION]).ok();
    env.orc(&["mission", "land"]).ok();
    let m = env.orc(&["mission", "show", "--json"]).ok().json();
    assert_eq!(
        m["landed"]["commit"],
        tip(&env, INTEGRATION).as_str(),
        "{m:#}"
    );
}

#[test]
fn mission_land_moves_a_target_that_is_not_checked_out_and_merges_one_that_moved() {
    let env = landed_env();
    env.git(&["switch", "-q", "-c", "elsewhere"]).ok();
    std::fs::write(env.repo.join("other.txt"), "x\n").unwrap();
    let head = env.git(&["rev-parse", "HEAD"]).ok().line();
    // main moves on meanwhile (a commit that does not conflict).
    let old_main = tip(&env, "main");
    let tree = env.git(&["rev-parse", "main^{tree}"]).ok().line();
    let moved = env
        .git(&["commit-tree", &tree, "-p", &old_main, "-m", "hotfix"])
        .ok()
        .line();
    env.git(&["update-ref", "refs/heads/main", &moved]).ok();
    let out = env.orc(&["mission", "land", "--json"]).ok().json();
    assert_eq!(out["how"], "merge", "{out:#}");
    let new_main = tip(&env, "main");
    let parents = env
        .git(&["log", "-1", "--format=%P", &new_main])
        .ok()
        .line();
    assert_eq!(parents, format!("{moved} {}", tip(&env, INTEGRATION)));
    // Nothing of the checkout moved.
    assert_eq!(env.git(&["rev-parse", "HEAD"]).ok().line(), head);
    assert!(env.repo.join("other.txt").exists());
    assert!(!env.repo.join("work.txt").exists());
}

#[test]
fn mission_land_refuses_a_target_that_conflicts() {
    let env = TestEnv::with_mission();
    env.orc(&["wo", "create", "Work"]).ok();
    let dir = grove(&env, "one");
    env.orc(&["assign", "WO-001", "--grove", "one"]).ok();
    commit(&env, &dir, "README.md", "from the mission\n");
    hand_in(&env, &dir, "WO-001");
    env.orc(&["merge"]).ok();
    std::fs::write(env.repo.join("README.md"), "from main\n").unwrap();
    env.git(&["commit", "-q", "-am", "main moves"]).ok();
    let main = tip(&env, "main");
    let out = env.orc(&["mission", "land"]).code(code::CONFLICT);
    assert!(
        out.stderr.contains("conflicts with main in README.md"),
        "{}",
        out.stderr
    );
    assert_eq!(tip(&env, "main"), main);
    assert!(env.git(&["status", "--porcelain"]).ok().stdout.is_empty());
}

#[test]
fn artifacts_are_blobs_on_the_ledger_with_a_size_limit() {
    let env = TestEnv::with_mission();
    env.orc(&["wo", "create", "Work"]).ok();
    let report = env.root.join("report.txt");
    std::fs::write(&report, "all good\n").unwrap();
    let added = env
        .orc(&[
            "artifact",
            "add",
            "WO-001",
            report.to_str().unwrap(),
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(added["name"], "report.txt");
    assert_eq!(added["size"], 9);
    let blob = env
        .git(&["rev-parse", "orc:artifacts/WO-001/report.txt"])
        .ok()
        .line();
    assert_eq!(added["blob"], blob.as_str(), "content-addressed");
    assert_eq!(
        env.orc(&["artifact", "get", "WO-001", "report.txt"])
            .ok()
            .stdout,
        "all good\n"
    );
    let listed = env.orc(&["artifact", "list", "WO-001"]).ok().stdout;
    assert!(listed.starts_with("report.txt  9 bytes"), "{listed}");
    env.orc(&["artifact", "get", "WO-001", "nope.txt"])
        .code(code::NOT_FOUND);
    env.orc(&[
        "artifact",
        "add",
        "WO-001",
        report.to_str().unwrap(),
        "--name",
        "../x",
    ])
    .code(2);
    env.orc(&["config", "set", "artifacts.max_bytes", "4"]).ok();
    let out = env
        .orc(&[
            "artifact",
            "add",
            "WO-001",
            report.to_str().unwrap(),
            "--name",
            "big.txt",
        ])
        .code(code::INVALID);
    assert!(
        out.stderr.contains("over the artifact limit of 4 bytes")
            && out.stderr.contains("artifacts.max_bytes"),
        "{}",
        out.stderr
    );
    env.git(&["rev-parse", "--verify", "orc:artifacts/WO-001/big.txt"])
        .code(128);
    // Doctor accepts the ledger's artifacts and settings.
    env.orc(&["config", "set", "check", "true"]).ok();
    let doctor = env.orc(&["doctor", "--json"]).json();
    let ledger: Vec<&Value> = doctor["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["check"] == "ledger")
        .collect();
    assert!(!ledger.is_empty(), "{doctor:#}");
    assert!(ledger.iter().all(|c| c["ok"] == true), "{ledger:#?}");
}

#[test]
fn the_trains_check_keeps_ignored_build_caches_between_runs() {
    let env = TestEnv::with_mission();
    env.orc(&[
        "config",
        "set",
        "check",
        "mkdir -p cache && echo run >> cache/runs",
    ])
    .ok();
    env.orc(&["wo", "create", "Ignore the cache"]).ok();
    env.orc(&["wo", "create", "More"]).ok();
    let dir = grove(&env, "one");
    env.orc(&["assign", "WO-001", "--grove", "one"]).ok();
    commit(&env, &dir, ".gitignore", "cache/\n");
    hand_in(&env, &dir, "WO-001");
    env.orc(&["merge"]).ok();
    env.orc(&["assign", "WO-002", "--grove", "one"]).ok();
    commit(&env, &dir, "more.txt", "more\n");
    hand_in(&env, &dir, "WO-002");
    env.orc(&["merge"]).ok();
    assert_eq!(wo(&env, "WO-002")["status"], "done");
    let train = env.root.join("home/src/worktrees");
    let runs: Vec<PathBuf> = std::fs::read_dir(&train)
        .unwrap()
        .map(|e| e.unwrap().path().join("MISSION-001/.train/cache/runs"))
        .filter(|p| p.exists())
        .collect();
    assert_eq!(runs.len(), 1, "{train:?}");
    let text = std::fs::read_to_string(&runs[0]).unwrap();
    assert_eq!(
        text.lines().count(),
        2,
        "both merges checked on one cache: {text}"
    );
}

/// With `rebase` and `squash` the integration branch gets new commits, not
/// the grove's: the grove's own commits never become its ancestors. Work
/// that has landed that way still counts as landed — in the next hand-in's
/// evidence and diff, for a parent without commits of its own, at the next
/// assignment (the branch is recreated at the integration branch), and for
/// custody at `grove remove`.
#[test]
fn work_landed_by_rebase_or_squash_counts_as_landed_for_the_grove_that_did_it() {
    for strategy in ["rebase", "squash"] {
        let env = TestEnv::with_mission();
        env.orc(&["config", "set", "merge.strategy", strategy]).ok();
        env.orc(&["wo", "create", "Parent"]).ok();
        env.orc(&["wo", "create", "First", "--parent", "WO-001"])
            .ok();
        env.orc(&["wo", "create", "Second", "--parent", "WO-001"])
            .ok();
        let one = grove(&env, "one");
        env.orc(&["assign", "WO-001", "--grove", "one"]).ok();
        commit(&env, &one, "a.txt", "a\n");
        commit(&env, &one, "b.txt", "b\n");
        hand_in(&env, &one, "WO-002");
        env.orc(&["merge"]).ok();
        assert_eq!(wo(&env, "WO-002")["status"], "done", "{strategy}");
        let first = tip(&env, INTEGRATION);
        assert!(
            env.git(&[
                "merge-base",
                "--is-ancestor",
                &env.git_in(&one, &["rev-parse", "HEAD"]).ok().line(),
                &first
            ])
            .code
                != 0,
            "{strategy}: the grove's commits are not on the integration branch"
        );

        // The grove goes on on top of the landed commits.
        commit(&env, &one, "b.txt", "b2\n");
        commit(&env, &one, "c.txt", "c\n");
        hand_in(&env, &one, "WO-003");
        let w = wo(&env, "WO-003");
        assert_eq!(w["status"], "review", "{strategy}: {w:#}");
        assert_eq!(w["evidence"]["commits"], 2, "{strategy}: {w:#}");
        assert_eq!(w["evidence"]["files"], 2, "{strategy}: {w:#}");
        let view = env.orc(&["review", "WO-003", "--json"]).ok().json();
        let diff = view["diff"].as_str().unwrap();
        assert!(diff.contains("c.txt"), "{strategy}: {diff}");
        assert!(
            !diff.contains("a.txt") && diff.contains("-b\n+b2"),
            "{strategy}: landed work is not shown again: {diff}"
        );
        env.orc(&["merge"]).ok();
        assert_eq!(wo(&env, "WO-003")["status"], "done", "{strategy}");

        // Both children landed: the parent is done with them.
        assert_eq!(wo(&env, "WO-001")["status"], "done", "{strategy}");
        let files = files_at(&env, INTEGRATION);
        for f in ["a.txt", "b.txt", "c.txt"] {
            assert!(files.contains(f), "{strategy}: {files}");
        }
        let b = env
            .git(&["show", &format!("{INTEGRATION}:b.txt")])
            .ok()
            .stdout;
        assert_eq!(b, "b2\n", "{strategy}: the change on landed work lands");

        // Work that commits nothing, in a grove that could not catch up (a
        // stray file): nothing has not landed, so it is done at once.
        std::fs::write(one.join("stray.txt"), "stray\n").unwrap();
        env.orc(&["wo", "create", "Look around"]).ok();
        env.orc(&["assign", "WO-004", "--grove", "one"]).ok();
        env.orc_in(&one, &["work", "done", "WO-004", "--allow-uncommitted"])
            .ok();
        let w = wo(&env, "WO-004");
        assert_eq!(w["status"], "done", "{strategy}: {w:#}");
        assert!(w["evidence"].is_null(), "{strategy}: {w:#}");
        std::fs::remove_file(one.join("stray.txt")).unwrap();

        // New work: the grove's branch is recreated at the integration
        // branch (its old tip is on it in substance, not in history).
        env.orc(&["wo", "create", "Third"]).ok();
        env.orc(&["assign", "WO-005", "--grove", "one"]).ok();
        assert_eq!(
            env.git_in(&one, &["rev-parse", "HEAD"]).ok().line(),
            tip(&env, INTEGRATION),
            "{strategy}: recreated at the integration branch"
        );
        assert_eq!(
            env.git_in(&one, &["symbolic-ref", "--short", "HEAD"])
                .ok()
                .line(),
            "one"
        );
        env.orc_in(&one, &["work", "start", "WO-005"]).ok();
        env.orc_in(&one, &["work", "block", "WO-005", "--reason", "stop"])
            .ok();

        // Custody: everything on the branch has landed, so it goes
        // without --force and without an archive ref. A grove that did
        // not catch up (its branch still holds the rewritten commits) too.
        let two = grove(&env, "two");
        env.orc(&["wo", "create", "Fourth"]).ok();
        env.orc(&["assign", "WO-006", "--grove", "two"]).ok();
        commit(&env, &two, "d.txt", "d\n");
        hand_in(&env, &two, "WO-006");
        env.orc(&["merge"]).ok();
        assert_eq!(wo(&env, "WO-006")["status"], "done", "{strategy}");
        let out = env.orc(&["grove", "remove", "two", "--json"]).ok().json();
        assert!(out["archived"].is_null(), "{strategy}: {out:#}");
        // Not yet landed work is still refused.
        commit(&env, &one, "e.txt", "e\n");
        env.orc(&["unassign", "one"]).ok();
        let out = env.orc(&["grove", "remove", "one"]).code(code::CONFLICT);
        assert!(
            out.stderr.contains("1 commit"),
            "{strategy}: {}",
            out.stderr
        );
    }
}

/// An IMP that forgot to commit is told so, and nothing is lost: only
/// committed work is handed in and lands.
#[test]
fn a_hand_in_with_uncommitted_changes_is_refused_and_loses_nothing() {
    let env = TestEnv::with_mission();
    env.orc(&["wo", "create", "Write it"]).ok();
    let dir = grove(&env, "one");
    env.orc(&["assign", "WO-001", "--grove", "one"]).ok();
    env.orc_in(&dir, &["work", "start"]).ok();
    // The check says whether it ran; it passes on the committed work only
    // (the half edit left in the grove would fail it).
    let ran = env.root.join("check-ran");
    env.orc(&[
        "config",
        "set",
        "check",
        &format!(
            "touch '{}'; test -f forgot.txt && ! grep -q 'half an edit' README.md",
            ran.display()
        ),
    ])
    .ok();
    // Nothing committed at all: `done` would land nothing.
    std::fs::write(dir.join("forgot.txt"), "work\n").unwrap();
    let out = env
        .orc_in(&dir, &["work", "done", "--summary", "did it"])
        .code(code::CONFLICT);
    assert!(
        out.stderr
            .contains("GROVE-001 has 1 change(s) that are not committed (forgot.txt)")
            && out.stderr.contains("git add -A && git commit")
            && out.stderr.contains("--allow-uncommitted"),
        "{}",
        out.stderr
    );
    assert_eq!(wo(&env, "WO-001")["status"], "in_progress");
    assert_eq!(
        std::fs::read_to_string(dir.join("forgot.txt")).unwrap(),
        "work\n"
    );
    assert!(!ran.exists(), "refused before the check ran");
    let out = env.orc_in(&dir, &["work", "review"]).code(code::CONFLICT);
    assert!(out.stderr.contains("forgot.txt"), "{}", out.stderr);

    // Committed, with a change to a tracked file left over: still refused;
    // with --allow-uncommitted the commit is handed in and a note says
    // what stayed behind.
    env.git_in(&dir, &["add", "forgot.txt"]).ok();
    env.git_in(&dir, &["commit", "-q", "-m", "write it"]).ok();
    std::fs::write(dir.join("README.md"), "half an edit\n").unwrap();
    env.orc_in(&dir, &["work", "done"]).code(code::CONFLICT);
    env.orc_in(&dir, &["work", "done", "--allow-uncommitted"])
        .ok();
    let w = wo(&env, "WO-001");
    assert_eq!(w["status"], "review", "{w:#}");
    assert_eq!(w["evidence"]["commits"], 1, "{w:#}");
    assert!(ran.exists());
    assert_eq!(w["evidence"]["check"]["exit"], 0, "{w:#}");
    let notes = w["notes"].to_string();
    assert!(
        notes.contains("1 uncommitted change(s)") && notes.contains("README.md"),
        "{w:#}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("README.md")).unwrap(),
        "half an edit\n",
        "left where it was"
    );
    env.orc(&["merge"]).ok();
    let files = files_at(&env, INTEGRATION);
    assert!(files.contains("forgot.txt"), "{files}");
    let readme = env
        .git(&["show", &format!("{INTEGRATION}:README.md")])
        .ok()
        .stdout;
    assert!(!readme.contains("half an edit"), "{readme}");

    // By file edit (nothing to answer an error to): applied, with the note.
    env.orc(&["wo", "create", "More"]).ok();
    env.git_in(&dir, &["checkout", "-q", "--", "README.md"])
        .ok();
    env.orc(&["assign", "WO-002", "--grove", "one"]).ok();
    env.orc_in(&dir, &["work", "start"]).ok();
    commit(&env, &dir, "more.txt", "more\n");
    std::fs::write(dir.join("scratch.txt"), "scratch\n").unwrap();
    let path = dir.join(".orc/assigned-work.json");
    let mut a: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    for w in a["work_orders"].as_array_mut().unwrap() {
        if w["id"] == "WO-002" {
            w["status"] = Value::from("done");
        }
    }
    std::fs::write(&path, serde_json::to_vec_pretty(&a).unwrap()).unwrap();
    env.orc_in(&dir, &["apply"]).ok();
    let w = wo(&env, "WO-002");
    assert_eq!(w["status"], "review", "{w:#}");
    assert!(w["notes"].to_string().contains("scratch.txt"), "{w:#}");
}

/// Whether process `pid` is gone (a zombie counts: it runs no more).
fn gone(pid: &str) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| rest.starts_with('Z')),
    }
}

/// Waits for process `pid`, killed by orc, to be gone: SIGKILL is
/// delivered asynchronously, so it may take a moment on a busy machine —
/// but not the 30 or 60 seconds it would run if nobody killed it.
#[track_caller]
fn killed(pid: &str, what: &str) {
    common::wait_until(what, std::time::Duration::from_secs(10), || {
        if gone(pid) {
            Ok(())
        } else {
            Err(format!("{pid} still runs"))
        }
    });
}

/// A check that hangs does not hang the train: past `check_timeout` it is
/// stopped with everything it started, and the work goes back saying so. A
/// check that ends leaves nothing running behind it either.
#[test]
fn a_check_over_its_timeout_is_stopped_with_what_it_started() {
    let env = TestEnv::with_mission();
    let pids = env.root.join("pids");
    let started = |n: usize| -> String {
        let text = std::fs::read_to_string(&pids).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), n, "{text}");
        lines[n - 1].to_string()
    };
    // Ends at once, leaving a process in the background.
    env.orc(&[
        "config",
        "set",
        "check",
        &format!("sleep 60 & echo $! >> '{}'; exit 0", pids.display()),
    ])
    .ok();
    handed_in(&env, &["alpha"]);
    let leftover = started(1);
    killed(
        &leftover,
        "what the hand-in's check left running to be stopped",
    );
    env.orc(&["merge"]).ok();
    assert_eq!(wo(&env, "WO-001")["status"], "done");
    let leftover = started(2);
    killed(
        &leftover,
        "what the train's check left running to be stopped",
    );

    // Never ends.
    for bad in ["0s", "soon", "-1m"] {
        let out = env
            .orc(&["config", "set", "check_timeout", "--", bad])
            .code(code::USAGE);
        assert!(out.stderr.contains("check_timeout"), "{}", out.stderr);
    }
    env.orc(&["config", "set", "check_timeout", "1s"]).ok();
    env.orc(&[
        "config",
        "set",
        "check",
        &format!("sleep 60 & echo $! >> '{}'; wait", pids.display()),
    ])
    .ok();
    handed_in(&env, &["beta"]);
    let w = wo(&env, "WO-002");
    assert_eq!(w["evidence"]["check"]["timed_out"], true, "{w:#}");
    assert!(w["evidence"]["check"]["exit"].is_null(), "{w:#}");
    let hung = started(3);
    killed(&hung, "the hand-in's hung check to be stopped");
    let out = env.orc(&["merge", "--json"]).ok().json();
    let why = out["trains"][0]["sent_back"][0][1].as_str().unwrap_or("");
    assert!(why.contains("timed out after 1s"), "{out:#}");
    assert_eq!(wo(&env, "WO-002")["status"], "in_progress");
    let hung = started(4);
    killed(&hung, "the train's hung check to be stopped");
    let log = env
        .orc(&["artifact", "get", "WO-002", "train-check.log"])
        .ok()
        .stdout;
    assert!(
        log.contains("ran longer than check_timeout (1s) and was stopped"),
        "{log}"
    );
}

/// `orc summary` and `orc wo list` say at a glance where handed-in work
/// stands: waiting for which review, approved and waiting for the train,
/// sent back, or landed as which commit.
#[test]
fn the_summary_shows_where_handed_in_work_stands() {
    let env = TestEnv::with_mission();
    env.orc(&["config", "set", "review", "deputy"]).ok();
    handed_in(&env, &["alpha", "beta"]);
    let line = |id: &str| -> String {
        let text = env.orc(&["summary"]).ok().stdout;
        text.lines()
            .find(|l| l.starts_with(id))
            .unwrap_or_else(|| panic!("{id} in {text}"))
            .to_string()
    };
    assert!(
        line("WO-001").ends_with("[waits for review (deputy)]"),
        "{}",
        line("WO-001")
    );
    env.orc(&["approve", "WO-001"]).ok();
    env.orc(&["reject", "WO-002", "--reason", "no tests"]).ok();
    assert!(
        line("WO-001").ends_with("[approved, waits for the merge train]"),
        "{}",
        line("WO-001")
    );
    assert!(
        line("WO-002").ends_with("[sent back]"),
        "{}",
        line("WO-002")
    );
    env.orc(&["merge"]).ok();
    let landed = wo(&env, "WO-001")["landed"]["commit"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        line("WO-001").ends_with(&format!("[landed {}]", &landed[..7])),
        "{}",
        line("WO-001")
    );
    let list = env.orc(&["wo", "list"]).ok().stdout;
    assert!(
        list.contains(&format!("[landed {}]", &landed[..7])),
        "{list}"
    );
}

/// A check command that, in the train's worktree only, says it started
/// and waits for `go` (so a test can act while the train checks).
fn gated_check(env: &TestEnv) -> (PathBuf, PathBuf) {
    let started = env.root.join("started");
    let go = env.root.join("go");
    env.orc(&[
        "config",
        "set",
        "check",
        &format!(
            "case \"$PWD\" in */.train) touch '{}'; while [ ! -f '{}' ]; do sleep 0.05; done;; esac; true",
            started.display(),
            go.display()
        ),
    ])
    .ok();
    (started, go)
}

/// `orc merge` in the background, once its check has started.
fn train_in_check(env: &TestEnv, started: &Path) -> std::process::Child {
    let mut cmd = env.command(TestEnv::bin(), &env.repo);
    cmd.args(["merge", "--json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let child = cmd.spawn().unwrap();
    common::wait_until(
        "the train's check started",
        std::time::Duration::from_secs(60),
        || {
            if started.exists() {
                Ok(())
            } else {
                Err("not yet".into())
            }
        },
    );
    std::fs::remove_file(started).unwrap();
    child
}

/// Work handed in again while the train checks the earlier head is not
/// recorded as landed with a head that is not on the branch: the train
/// notices, looks again, and lands the new head.
#[test]
fn work_handed_in_again_during_the_trains_check_lands_as_handed_in_last() {
    let env = TestEnv::with_mission();
    let (started, go) = gated_check(&env);
    let dirs = handed_in(&env, &["alpha"]);
    let first = handed_head(&env, "WO-001");
    let train = train_in_check(&env, &started);
    // Meanwhile the IMP goes on and hands in more (policy none: approved).
    env.orc_in(&dirs[0], &["work", "start", "WO-001"]).ok();
    commit(&env, &dirs[0], "more.txt", "ok\n");
    hand_in(&env, &dirs[0], "WO-001");
    let second = handed_head(&env, "WO-001");
    assert_ne!(first, second);
    std::fs::write(&go, "").unwrap();
    let out = train.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let w = wo(&env, "WO-001");
    assert_eq!(w["status"], "done", "{w:#}");
    assert_eq!(w["evidence"]["head"], second.as_str());
    env.git(&["merge-base", "--is-ancestor", &second, INTEGRATION])
        .ok();
    assert!(files_at(&env, INTEGRATION).contains("more.txt"));
}

/// Work rejected while the train checks it does not land: the integration
/// branch does not move, and the rejection stands.
#[test]
fn work_rejected_during_the_trains_check_does_not_land() {
    let env = TestEnv::with_mission();
    env.orc(&["config", "set", "review", "deputy"]).ok();
    let (started, go) = gated_check(&env);
    handed_in(&env, &["alpha"]);
    env.orc(&["approve", "WO-001"]).ok();
    let before = tip(&env, INTEGRATION);
    let train = train_in_check(&env, &started);
    env.orc(&["reject", "WO-001", "--reason", "not this"]).ok();
    std::fs::write(&go, "").unwrap();
    let out = train.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(tip(&env, INTEGRATION), before, "nothing landed");
    let w = wo(&env, "WO-001");
    assert_eq!(w["status"], "in_progress", "{w:#}");
    assert_eq!(w["approval"]["state"], "rejected");
    assert!(w["landed"].is_null(), "{w:#}");
}

/// In a batch, work that depends on work the train sends back waits for
/// it: neither a conflict nor a failing check lets it land alone.
#[test]
fn in_a_batch_work_waits_for_a_dependency_that_is_sent_back() {
    for failure in ["conflict", "check"] {
        let env = TestEnv::with_mission();
        env.orc(&["config", "set", "merge.batch", "4"]).ok();
        env.orc(&["config", "set", "check", "! test -f bad.txt"])
            .ok();
        let one = grove(&env, "one");
        let two = grove(&env, "two");
        if failure == "conflict" {
            // Something on the integration branch that the base conflicts
            // with (landed after grove one was made).
            let other = grove(&env, "other");
            env.orc(&["wo", "create", "Other"]).ok();
            env.orc(&["assign", "WO-001", "--grove", "other"]).ok();
            commit(&env, &other, "shared.txt", "from other\n");
            hand_in(&env, &other, "WO-001");
            env.orc(&["merge"]).ok();
            assert_eq!(wo(&env, "WO-001")["status"], "done");
        }
        let base = env.orc(&["wo", "create", "Base"]).ok().line();
        let top = env.orc(&["wo", "create", "On top"]).ok().line();
        // (Committed before the assignment, so the grove is not brought up
        // to the integration branch first.)
        if failure == "conflict" {
            commit(&env, &one, "shared.txt", "from one\n");
        } else {
            commit(&env, &one, "bad.txt", "bad\n");
        }
        env.orc(&["assign", &base, "--grove", "one"]).ok();
        env.orc(&["assign", &top, "--grove", "two"]).ok();
        commit(&env, &two, "top.txt", "top\n");
        // (A failing check at hand-in does not block review.)
        hand_in(&env, &one, &base);
        hand_in(&env, &two, &top);
        // The deputy decides the second needs the first after all.
        env.orc(&["wo", "update", &top, "--add-dep", &base]).ok();
        let before = tip(&env, INTEGRATION);
        let out = env.orc(&["merge", "--json"]).ok().json();
        let train = &out["trains"][0];
        assert_eq!(
            train["sent_back"][0][0],
            base.as_str(),
            "{failure}: {out:#}"
        );
        assert!(
            train["landed"].as_array().unwrap().is_empty(),
            "{failure}: nothing lands without its dependency: {out:#}"
        );
        assert_eq!(tip(&env, INTEGRATION), before, "{failure}");
        assert_eq!(wo(&env, &top)["status"], "review", "{failure}");
        assert_eq!(train["waiting"], serde_json::json!([top]), "{failure}");
    }
}

/// Work whose handed-in head the repository does not have (a grove on
/// another machine, a branch rewritten and pruned) goes back saying so,
/// and the rest of the train goes on.
#[test]
fn work_the_train_cannot_bring_in_goes_back_and_the_train_goes_on() {
    let env = TestEnv::with_mission();
    let dirs = handed_in(&env, &["alpha", "beta"]);
    let lost = handed_head(&env, "WO-001");
    env.git_in(&dirs[0], &["reset", "-q", "--hard", "HEAD~1"])
        .ok();
    env.git(&["reflog", "expire", "--expire=now", "--all"]).ok();
    env.git(&["gc", "-q", "--prune=now"]).ok();
    assert_ne!(env.git(&["cat-file", "-e", &lost]).code, 0, "pruned");
    let out = env.orc(&["merge", "--json"]).ok().json();
    let train = &out["trains"][0];
    assert_eq!(train["sent_back"][0][0], "WO-001", "{out:#}");
    let why = train["sent_back"][0][1].as_str().unwrap();
    assert!(why.contains("not in this repository"), "{why}");
    assert_eq!(train["landed"][0][0], "WO-002", "{out:#}");
    let w = wo(&env, "WO-001");
    assert_eq!(w["status"], "in_progress", "{w:#}");
    assert!(w["notes"].to_string().contains(&lost), "{w:#}");
}

/// The train's git commands never reach a repository above the directory
/// they are pointed at: a train worktree whose `.git` vanished (removed
/// half-way) inside a person's checkout is an error, not a `reset --hard`
/// of that checkout.
#[test]
fn the_trains_git_never_reaches_a_repository_above_its_worktree() {
    let env = TestEnv::with_mission();
    let inside = env.repo.join("half-gone");
    std::fs::create_dir(&inside).unwrap();
    std::fs::write(inside.join("leftover.txt"), "x\n").unwrap();
    std::fs::write(env.repo.join("README.md"), "a person's edit\n").unwrap();
    let head = env.git(&["rev-parse", "HEAD~0"]).ok().line();
    let id = gix::ObjectId::from_hex(head.as_bytes()).unwrap();
    let before = env.git(&["status", "--porcelain"]).ok().stdout;
    assert!(orc::ledger::merge::reset(&inside, id).is_err());
    assert!(orc::ledger::merge::head(&inside).is_err());
    assert_eq!(env.git(&["status", "--porcelain"]).ok().stdout, before);
    assert_eq!(
        std::fs::read_to_string(env.repo.join("README.md")).unwrap(),
        "a person's edit\n"
    );
    assert!(inside.join("leftover.txt").exists());
}

/// `orc approve --head` approves what the reviewer saw: a hand-in that
/// came after `orc review` is not approved unseen.
#[test]
fn approve_with_head_refuses_work_handed_in_again_since() {
    let env = TestEnv::with_mission();
    env.orc(&["config", "set", "review", "deputy"]).ok();
    let dirs = handed_in(&env, &["alpha"]);
    let seen = handed_head(&env, "WO-001");
    let text = env.orc(&["review", "WO-001"]).ok().stdout;
    assert!(
        text.contains(&format!("orc approve WO-001 --head {}", &seen[..12])),
        "{text}"
    );
    // The IMP hands in more before the reviewer decides.
    env.orc_in(&dirs[0], &["work", "start", "WO-001"]).ok();
    commit(&env, &dirs[0], "more.txt", "ok\n");
    hand_in(&env, &dirs[0], "WO-001");
    let now = handed_head(&env, "WO-001");
    let out = env
        .orc(&["approve", "WO-001", "--head", &seen[..12]])
        .code(code::CONFLICT);
    assert!(
        out.stderr.contains("was handed in again") && out.stderr.contains(&now[..10]),
        "{}",
        out.stderr
    );
    assert_eq!(wo(&env, "WO-001")["approval"]["state"], "pending");
    env.orc(&["approve", "WO-001", "--head", "xyz"])
        .code(code::USAGE);
    env.orc(&["approve", "WO-001", "--head", &now[..7].to_uppercase()])
        .ok();
    assert_eq!(wo(&env, "WO-001")["approval"]["state"], "approved");
}

/// Custody covers the worktree's HEAD too: commits made on a detached
/// HEAD (or another branch) in a grove are not dropped with its worktree.
#[test]
fn grove_remove_keeps_unlanded_work_of_a_detached_head() {
    let env = TestEnv::with_mission();
    let dir = grove(&env, "one");
    env.git_in(&dir, &["checkout", "-q", "--detach"]).ok();
    commit(&env, &dir, "adrift.txt", "adrift\n");
    let adrift = env.git_in(&dir, &["rev-parse", "HEAD"]).ok().line();
    let out = env.orc(&["grove", "remove", "one"]).code(code::CONFLICT);
    assert!(
        out.stderr.contains("its worktree's HEAD")
            && out.stderr.contains("has 1 commit(s) that have not landed"),
        "{}",
        out.stderr
    );
    assert!(dir.exists(), "nothing removed");
    // --keep-branch keeps the branch, not the detached work: still refused.
    env.orc(&["grove", "remove", "one", "--keep-branch"])
        .code(code::CONFLICT);
    let out = env
        .orc(&["grove", "remove", "one", "--force", "--json"])
        .ok()
        .json();
    let kept = out["archived_head"].as_str().unwrap();
    assert!(
        kept.starts_with("refs/orc/archive/one/") && kept.ends_with("-head"),
        "{out:#}"
    );
    assert!(out["archived"].is_null(), "the branch had nothing: {out:#}");
    assert_eq!(env.git(&["rev-parse", kept]).ok().line(), adrift);
}

/// A target being rebased (HEAD detached, the branch named in
/// `rebase-merge/head-name`) counts as checked out, as git counts it:
/// `mission land` does not move it under the rebase.
#[test]
fn mission_land_leaves_a_target_that_is_being_rebased() {
    let env = landed_env();
    let main = tip(&env, "main");
    let mut rebase = env.command("git", &env.repo);
    rebase
        .args(["rebase", "-q", "-i", "--root"])
        .env("GIT_SEQUENCE_EDITOR", "sed -i 1s/^pick/edit/")
        .env("GIT_EDITOR", "true");
    let out = rebase.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(env.repo.join(".git/rebase-merge/head-name").exists());
    let out = env.orc(&["mission", "land"]).code(code::CONFLICT);
    assert!(
        out.stderr.contains(env.repo.to_str().unwrap()),
        "{}",
        out.stderr
    );
    assert_eq!(tip(&env, "main"), main, "not moved under the rebase");
    env.git(&["rebase", "--abort"]).ok();
    assert_eq!(tip(&env, "main"), main);
}

/// A person decides for a reviewer that got stuck (its review work order
/// blocked), and work asked for review with nothing to land is done once
/// approved.
#[test]
fn a_person_decides_for_a_stuck_reviewer_and_review_without_commits_finishes() {
    let env = TestEnv::with_mission();
    env.orc(&["config", "set", "review", "agent"]).ok();
    env.orc(&["wo", "create", "Parser"]).ok();
    let one = grove(&env, "one");
    let two = grove(&env, "two");
    env.orc(&["assign", "WO-001", "--grove", "one"]).ok();
    commit(&env, &one, "parser.txt", "parse\n");
    hand_in(&env, &one, "WO-001");
    env.orc(&["assign", "WO-002", "--grove", "two"]).ok();
    env.orc_in(
        &two,
        &[
            "work",
            "block",
            "WO-002",
            "--reason",
            "cannot read the diff",
        ],
    )
    .ok();
    assert_eq!(wo(&env, "WO-002")["status"], "blocked");
    env.orc(&["approve", "WO-001"]).ok();
    assert_eq!(wo(&env, "WO-002")["status"], "done");
    assert_eq!(wo(&env, "WO-001")["approval"]["state"], "approved");

    // Nothing committed, review asked for: a person looks, approves, done.
    env.orc(&["config", "set", "review", "deputy"]).ok();
    env.orc(&["wo", "create", "Check the logs"]).ok();
    let three = grove(&env, "three");
    env.orc(&["assign", "WO-003", "--grove", "three"]).ok();
    env.orc_in(&three, &["work", "start"]).ok();
    env.orc_in(&three, &["work", "review"]).ok();
    let w = wo(&env, "WO-003");
    assert_eq!(w["status"], "review", "{w:#}");
    assert!(w["evidence"].is_null());
    env.orc(&["approve", "WO-003"]).ok();
    assert_eq!(wo(&env, "WO-003")["status"], "done");
}

/// Unassigning a grove (as the watcher does when its agent died) leaves
/// its work in review: it still lands from the grove's branch.
#[test]
fn unassigning_a_grove_leaves_its_handed_in_work_on_the_train() {
    let env = TestEnv::with_mission();
    env.orc(&["config", "set", "review", "deputy"]).ok();
    env.orc(&["wo", "create", "Parent"]).ok();
    env.orc(&["wo", "create", "Done part", "--parent", "WO-001"])
        .ok();
    env.orc(&["wo", "create", "Open part", "--parent", "WO-001"])
        .ok();
    let dir = grove(&env, "one");
    env.orc(&["assign", "WO-001", "--grove", "one"]).ok();
    commit(&env, &dir, "done.txt", "done\n");
    hand_in(&env, &dir, "WO-002");
    env.orc(&["unassign", "one"]).ok();
    assert_eq!(wo(&env, "WO-002")["status"], "review");
    assert_eq!(wo(&env, "WO-003")["status"], "ready");
    env.orc(&["approve", "WO-002"]).ok();
    env.orc(&["merge"]).ok();
    assert_eq!(wo(&env, "WO-002")["status"], "done");
    assert!(files_at(&env, INTEGRATION).contains("done.txt"));
}

/// Ctrl-C on `orc merge` (the check runs in a process group of its own,
/// out of the terminal's reach) stops the check with everything it
/// started; the work stays approved for the next train.
#[test]
fn interrupting_the_train_stops_its_check() {
    let env = TestEnv::with_mission();
    let started = env.root.join("started");
    let pids = env.root.join("pids");
    handed_in(&env, &["alpha"]);
    env.orc(&[
        "config",
        "set",
        "check",
        &format!(
            "sleep 60 & echo $! > '{}'; touch '{}'; wait",
            pids.display(),
            started.display()
        ),
    ])
    .ok();
    let train = train_in_check(&env, &started);
    let sleeper = std::fs::read_to_string(&pids).unwrap().trim().to_string();
    assert!(!gone(&sleeper), "the check is running");
    // SAFETY: kill(2) on the orc process this test started.
    unsafe {
        libc::kill(train.id() as i32, libc::SIGINT);
    }
    let out = train.wait_with_output().unwrap();
    // (`--json`: the error is the JSON on stdout.)
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{:?} {said}", out.status);
    assert!(said.contains("interrupted (signal 2)"), "{said}");
    killed(&sleeper, "the interrupted check to be stopped");
    let w = wo(&env, "WO-001");
    assert_eq!(w["status"], "review", "{w:#}");
    assert_eq!(w["approval"]["state"], "approved");
}

/// Landed heads the repository pruned (with `squash` nothing but the
/// ledger names them once the grove moved on) are not needed: hand-in,
/// review and removal go on.
#[test]
fn pruned_landed_heads_do_not_break_the_grove_that_made_them() {
    let env = TestEnv::with_mission();
    env.orc(&["config", "set", "merge.strategy", "squash"]).ok();
    let dirs = handed_in(&env, &["alpha"]);
    env.orc(&["merge"]).ok();
    let old = handed_head(&env, "WO-001");
    env.orc(&["wo", "create", "More"]).ok();
    env.orc(&["assign", "WO-002", "--grove", "alpha"]).ok();
    env.git(&["reflog", "expire", "--expire=now", "--all"]).ok();
    env.git(&["gc", "-q", "--prune=now"]).ok();
    assert_ne!(env.git(&["cat-file", "-e", &old]).code, 0, "pruned");
    commit(&env, &dirs[0], "more.txt", "more\n");
    hand_in(&env, &dirs[0], "WO-002");
    assert_eq!(wo(&env, "WO-002")["evidence"]["commits"], 1);
    env.orc(&["review", "WO-002"]).ok();
    env.orc(&["merge"]).ok();
    assert_eq!(wo(&env, "WO-002")["status"], "done");
    env.orc(&["grove", "remove", "alpha"]).ok();
}

/// A stopped check's note counts against `artifacts.max_bytes`: the log
/// is cut to fit, never refused.
#[test]
fn a_stopped_checks_log_fits_a_small_artifact_limit() {
    let env = TestEnv::with_mission();
    env.orc(&["config", "set", "artifacts.max_bytes", "1000"])
        .ok();
    env.orc(&["config", "set", "check_timeout", "1s"]).ok();
    env.orc(&[
        "config",
        "set",
        "check",
        "head -c 5000 /dev/zero | tr '\\0' x; sleep 30",
    ])
    .ok();
    handed_in(&env, &["alpha"]);
    let w = wo(&env, "WO-001");
    assert_eq!(w["evidence"]["check"]["timed_out"], true, "{w:#}");
    let log = env
        .orc(&["artifact", "get", "WO-001", "check.log"])
        .ok()
        .stdout;
    assert!(log.len() <= 1000, "{}", log.len());
    assert!(log.ends_with("and was stopped]\n"), "{log}");
    let out = env.orc(&["merge", "--json"]).ok().json();
    assert_eq!(out["trains"][0]["sent_back"][0][0], "WO-001", "{out:#}");
}
