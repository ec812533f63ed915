//! Real processes racing for real locks.
//!
//! Racers are started behind a gate: the test holds an exclusive `flock`
//! on a gate file and every racer waits for a shared lock on it (`flock -s
//! gate orc ...`), so all of them are ready before any starts, and they
//! start together when the test lets go.

mod common;

use std::collections::{BTreeSet, HashMap};
use std::fs::File;
use std::process::Child;

use common::{TestEnv, code};
use fs2::FileExt;
use serde_json::Value;

/// Starts `racers` commands behind a gate, opens it, and waits for all.
fn race(env: &TestEnv, racers: Vec<Vec<String>>) -> Vec<common::Output> {
    let gate_path = env.root.join("gate");
    let gate = File::create(&gate_path).unwrap();
    gate.lock_exclusive().unwrap();
    let children: Vec<(String, Child)> = racers
        .into_iter()
        .map(|args| {
            let mut cmd = env.command("flock", &env.repo);
            cmd.arg("-s")
                .arg(&gate_path)
                .arg(TestEnv::bin())
                .args(&args);
            cmd.stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped());
            (args.join(" "), cmd.spawn().unwrap())
        })
        .collect();
    // Give every racer time to reach the gate; correctness does not depend
    // on it, only how hard they collide.
    std::thread::sleep(std::time::Duration::from_millis(100));
    FileExt::unlock(&gate).unwrap();
    children
        .into_iter()
        .map(|(what, child)| {
            let out = child.wait_with_output().unwrap();
            common::Output {
                code: out.status.code().unwrap_or(-1),
                stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
                stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
                what,
            }
        })
        .collect()
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[test]
fn sixteen_claimers_one_winner_every_round() {
    const RACERS: usize = 16;
    const ROUNDS: usize = 12;
    let env = TestEnv::with_mission();
    for round in 1..=ROUNDS {
        let wo = env
            .orc(&["wo", "create", &format!("round {round}")])
            .ok()
            .line();
        let racers = (0..RACERS)
            .map(|i| args(&["wo", "claim", &wo, "--as", &format!("IMP-R{i:02}")]))
            .collect();
        let outs = race(&env, racers);
        let winners: Vec<&common::Output> = outs.iter().filter(|o| o.code == 0).collect();
        assert_eq!(winners.len(), 1, "round {round}: {outs:#?}");
        let winner = winners[0]
            .what
            .split_whitespace()
            .last()
            .unwrap()
            .to_string();
        for loser in outs.iter().filter(|o| o.code != 0) {
            assert_eq!(loser.code, code::CONFLICT, "round {round}: {loser:#?}");
            assert!(
                loser
                    .stderr
                    .contains(&format!("already claimed by {winner}")),
                "round {round}: the refusal names the winner {winner}: {}",
                loser.stderr
            );
        }
        let on_ledger: Value = serde_json::from_str(
            &env.ledger_file(&format!("missions/MISSION-001/work-orders/{wo}.json")),
        )
        .unwrap();
        assert_eq!(on_ledger["assignee"], winner.as_str());
        assert_eq!(on_ledger["status"], "in_progress");
        let claims = env
            .git(&[
                "log",
                "--format=%s",
                "orc",
                "--",
                &format!("missions/MISSION-001/work-orders/{wo}.json"),
            ])
            .ok()
            .stdout;
        assert_eq!(
            claims.matches("ready -> in_progress").count(),
            1,
            "{claims}"
        );
    }
}

#[test]
fn concurrent_creation_never_duplicates_an_id() {
    const RACERS: usize = 16;
    const EACH: usize = 4;
    let env = TestEnv::with_mission();
    let racers: Vec<Vec<String>> = (0..RACERS * EACH)
        .map(|i| args(&["wo", "create", &format!("racer {i}")]))
        .collect();
    let mut ids = BTreeSet::new();
    for chunk in racers.chunks(RACERS) {
        for out in race(&env, chunk.to_vec()) {
            let out = out.ok();
            assert!(ids.insert(out.line()), "duplicate id {}", out.line());
        }
    }
    let expected: BTreeSet<String> = (1..=RACERS * EACH).map(|n| format!("WO-{n:03}")).collect();
    assert_eq!(ids, expected);
    let files = env
        .git(&[
            "ls-tree",
            "--name-only",
            "orc:missions/MISSION-001/work-orders",
        ])
        .ok()
        .stdout;
    assert_eq!(files.lines().count(), RACERS * EACH);
    let counters: Value = serde_json::from_str(&env.ledger_file("counters.json")).unwrap();
    assert_eq!(counters["WO"], RACERS * EACH);
}

#[test]
fn concurrent_updates_of_different_work_orders_all_land() {
    const RACERS: usize = 16;
    const ROUNDS: usize = 3;
    let env = TestEnv::with_mission();
    for i in 0..RACERS {
        env.orc(&["wo", "create", &format!("w{i}")]).ok();
    }
    let before = env.ledger_commits();
    for round in 0..ROUNDS {
        let racers = (1..=RACERS)
            .map(|n| {
                args(&[
                    "wo",
                    "note",
                    &format!("WO-{n:03}"),
                    &format!("round {round}"),
                ])
            })
            .collect();
        for out in race(&env, racers) {
            out.ok();
        }
    }
    assert_eq!(env.ledger_commits(), before + RACERS * ROUNDS);
    let mut notes: HashMap<String, usize> = HashMap::new();
    for n in 1..=RACERS {
        let wo = format!("WO-{n:03}");
        let on_ledger: Value = serde_json::from_str(
            &env.ledger_file(&format!("missions/MISSION-001/work-orders/{wo}.json")),
        )
        .unwrap();
        let on_disk: Value =
            serde_json::from_slice(&std::fs::read(env.wo_file("MISSION-001", &wo)).unwrap())
                .unwrap();
        assert_eq!(on_ledger, on_disk, "{wo}");
        notes.insert(wo, on_ledger["notes"].as_array().unwrap().len());
    }
    assert!(notes.values().all(|&n| n == ROUNDS), "{notes:?}");
    let fsck = env.git(&["fsck", "--strict", "--no-dangling"]).ok();
    assert_eq!(fsck.stdout, "");
}

#[test]
fn racing_multi_id_updates_in_opposite_orders_do_not_deadlock() {
    let env = TestEnv::with_mission();
    for i in 0..4 {
        env.orc(&["wo", "create", &format!("w{i}")]).ok();
    }
    let racers = (0..12)
        .map(|i| {
            let ids = if i % 2 == 0 {
                "WO-001,WO-002,WO-003,WO-004"
            } else {
                "WO-004,WO-003,WO-002,WO-001"
            };
            args(&["wo", "update", ids, "--append", &format!("racer {i}")])
        })
        .collect();
    for out in race(&env, racers) {
        out.ok();
    }
    let wo: Value =
        serde_json::from_str(&env.ledger_file("missions/MISSION-001/work-orders/WO-004.json"))
            .unwrap();
    assert_eq!(wo["description"].as_str().unwrap().lines().count(), 12);
}
