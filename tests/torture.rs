//! Torture: many processes racing for one claim, writers killed with
//! SIGKILL at random moments, and a watcher killed and restarted while an
//! agent keeps editing. Bounded in time; the figures are in the names.

mod common;

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::{TestEnv, code, note_texts, wait_until};
use fs2::FileExt;
use orc::model::FileKind;
use serde_json::{Value, json};

/// A small deterministic generator.
struct Rng(u64);
impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn spawn(env: &TestEnv, args: &[String]) -> Child {
    let mut cmd = env.command(TestEnv::bin(), &env.repo);
    cmd.args(args).stdout(Stdio::null()).stderr(Stdio::piped());
    cmd.spawn().unwrap()
}

#[test]
fn thirty_two_claimers_two_hundred_rounds_one_winner_each() {
    const RACERS: usize = 32;
    const ROUNDS: usize = 200;
    let env = TestEnv::with_mission();
    let gate_path = env.root.join("gate");
    let mut winners: Vec<String> = Vec::new();
    for round in 0..ROUNDS {
        let wo = env
            .orc(&["wo", "create", &format!("round {round}")])
            .ok()
            .line();
        let gate = File::create(&gate_path).unwrap();
        gate.lock_exclusive().unwrap();
        let racers: Vec<(String, Child)> = (0..RACERS)
            .map(|i| {
                let actor = format!("R{round}-{i}");
                let mut cmd = env.command("flock", &env.repo);
                cmd.arg("-s").arg(&gate_path).arg(TestEnv::bin());
                cmd.args(["wo", "claim", &wo, "--as", &actor]);
                cmd.stdout(Stdio::null()).stderr(Stdio::piped());
                (actor, cmd.spawn().unwrap())
            })
            .collect();
        std::thread::sleep(Duration::from_millis(30));
        FileExt::unlock(&gate).unwrap();
        let mut won = Vec::new();
        for (actor, child) in racers {
            let out = child.wait_with_output().unwrap();
            match out.status.code() {
                Some(0) => won.push(actor),
                Some(c) if c == code::CONFLICT => {
                    let err = String::from_utf8_lossy(&out.stderr);
                    assert!(
                        err.contains("is already claimed by R"),
                        "round {round}: {err}"
                    );
                }
                other => panic!(
                    "round {round}: {actor} exited {other:?}: {}",
                    String::from_utf8_lossy(&out.stderr)
                ),
            }
        }
        assert_eq!(won.len(), 1, "round {round}: winners {won:?}");
        winners.push(won.remove(0));
    }
    // The ledger agrees with every round's winner.
    let list = env
        .orc(&["wo", "list", "--status", "in_progress", "--json"])
        .ok()
        .json();
    let by_title: HashMap<String, String> = list["work_orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            (
                w["title"].as_str().unwrap().to_string(),
                w["assignee"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    for (round, winner) in winners.iter().enumerate() {
        assert_eq!(
            by_title.get(&format!("round {round}")),
            Some(winner),
            "round {round}"
        );
    }
    let claims = env.git(&["log", "--format=%s", "orc"]).ok().stdout;
    assert_eq!(claims.matches("ready -> in_progress").count(), ROUNDS);
}

/// Every lock file under `dir` can be taken (nobody holds one).
fn assert_no_lock_held(dir: &Path) {
    let mut stack = vec![dir.to_path_buf()];
    let mut checked = 0;
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "lock") {
                let f = File::open(&p).unwrap();
                assert!(
                    f.try_lock_exclusive().is_ok(),
                    "{} is still held",
                    p.display()
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 0, "no lock files under {}", dir.display());
}

#[test]
fn writers_killed_at_random_moments_lose_nothing_that_exited_zero() {
    const OPS: usize = 520;
    const PARALLEL: usize = 6;
    let env = TestEnv::with_mission();
    for i in 0..8 {
        env.orc(&["wo", "create", &format!("target {i}")]).ok();
    }
    let mut rng = Rng(0xdecafbad);
    // (kind, key, child): kind "note" -> key is the note text on WO-xxx,
    // kind "create" -> key is the title.
    let mut done: Vec<(String, String, String, bool)> = Vec::new();
    let mut killed = 0;
    let mut started = 0;
    while started < OPS {
        let mut batch: Vec<(String, String, String, Child, u64)> = Vec::new();
        for _ in 0..PARALLEL {
            started += 1;
            let (kind, target, key, args) = if rng.below(4) == 0 {
                let title = format!("created {started}");
                (
                    "create".to_string(),
                    String::new(),
                    title.clone(),
                    vec!["wo".into(), "create".into(), title],
                )
            } else {
                let wo = format!("WO-{:03}", 1 + rng.below(8));
                let text = format!("note {started}");
                (
                    "note".to_string(),
                    wo.clone(),
                    text.clone(),
                    vec!["wo".into(), "note".into(), wo, text],
                )
            };
            let delay = rng.below(25);
            batch.push((kind, target, key, spawn(&env, &args), delay));
        }
        let t0 = Instant::now();
        for (kind, target, key, mut child, delay) in batch {
            let kill = delay < 15;
            if kill {
                let at = t0 + Duration::from_millis(delay);
                if let Some(wait) = at.checked_duration_since(Instant::now()) {
                    std::thread::sleep(wait);
                }
                unsafe {
                    libc::kill(child.id() as i32, libc::SIGKILL);
                }
            }
            let status = child.wait().unwrap();
            if status.code().is_none() {
                killed += 1;
            }
            done.push((kind, target, key, status.success()));
        }
    }
    assert!(killed > 50, "only {killed} processes were killed");
    // Everything parses: the files...
    let list = env.orc(&["wo", "list", "--json"]).ok().json();
    assert_eq!(list["errors"], json!([]), "{list}");
    // ...and every file on the ledger.
    let files = env
        .git(&["ls-tree", "-r", "--name-only", "orc"])
        .ok()
        .stdout;
    for path in files.lines() {
        let bytes = env.git(&["show", &format!("orc:{path}")]).ok().stdout;
        let kind = orc::doctor::ledger_kind(path).unwrap_or_else(|| panic!("unknown file {path}"));
        let name = path.rsplit('/').next().unwrap();
        kind.check(name, bytes.as_bytes())
            .unwrap_or_else(|e| panic!("{path}: {e}"));
        let _ = FileKind::WorkOrder;
    }
    let fsck = env.git(&["fsck", "--strict", "--no-dangling"]);
    assert_eq!(fsck.code, 0, "{}", fsck.stderr);
    assert_eq!(fsck.stdout, "");
    // Every operation that exited 0 is on the ledger.
    let ledger: Vec<Value> = files
        .lines()
        .filter(|p| p.contains("/work-orders/"))
        .map(|p| {
            serde_json::from_str(&env.git(&["show", &format!("orc:{p}")]).ok().stdout).unwrap()
        })
        .collect();
    let mut confirmed = 0;
    for (kind, target, key, ok) in &done {
        if !ok {
            continue;
        }
        confirmed += 1;
        let found = match kind.as_str() {
            "create" => ledger.iter().any(|w| w["title"] == key.as_str()),
            _ => ledger.iter().any(|w| {
                w["id"] == target.as_str()
                    && w["notes"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|n| n["text"] == key.as_str())
            }),
        };
        assert!(
            found,
            "{kind} {target} {key:?} exited 0 but is not on the ledger"
        );
    }
    assert!(confirmed > 100, "only {confirmed} operations completed");
    // No lock is left held, and orc still works.
    assert_no_lock_held(&env.workspace("MISSION-001").join(".orc/locks"));
    assert_no_lock_held(&env.repo.join(".git/orc/locks"));
    env.orc(&["wo", "note", "WO-001", "after the storm"]).ok();
    env.orc(&["wo", "create", "after the storm"]).ok();
}

fn watcher(env: &TestEnv, ws: &Path) -> Child {
    let mut cmd = env.command(TestEnv::bin(), ws);
    cmd.args(["watch", "--interval", "100ms", "--reconcile", "300ms"]);
    cmd.stdout(Stdio::null()).stderr(Stdio::null());
    cmd.spawn().unwrap()
}

/// An agent's edit: append a note to the first work order of the file, and
/// save it the way an editor does (a copy renamed over the file).
fn append_note(file: &Path, text: &str) {
    let mut a: Value = loop {
        if let Ok(bytes) = std::fs::read(file)
            && let Ok(v) = serde_json::from_slice::<Value>(&bytes)
        {
            break v;
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    a["work_orders"][0]["notes"]
        .as_array_mut()
        .unwrap()
        .push(json!({ "text": text }));
    let tmp = file.with_file_name(".agent-edit.tmp");
    std::fs::write(&tmp, serde_json::to_vec_pretty(&a).unwrap()).unwrap();
    std::fs::rename(&tmp, file).unwrap();
}

#[test]
fn a_watcher_killed_and_restarted_loses_no_edit_and_commits_each_once() {
    const EDITS: usize = 60;
    let env = TestEnv::with_mission();
    env.orc(&["wo", "create", "long work"]).ok();
    env.orc(&["grove", "create", "g"]).ok();
    env.orc(&["assign", "WO-001", "--grove", "g"]).ok();
    let grove = PathBuf::from(
        env.orc(&["grove", "show", "g", "--json"]).ok().json()["grove"]["path"]
            .as_str()
            .unwrap(),
    );
    let ws = env.workspace("MISSION-001");
    let file = grove.join(".orc/assigned-work.json");
    let done = std::sync::atomic::AtomicBool::new(false);
    let mut restarts = 0;
    std::thread::scope(|scope| {
        // The agent keeps editing.
        scope.spawn(|| {
            let mut rng = Rng(0xabcdef);
            for i in 0..EDITS {
                append_note(&file, &format!("edit {i}"));
                std::thread::sleep(Duration::from_millis(5 + rng.below(40)));
            }
            done.store(true, std::sync::atomic::Ordering::SeqCst);
        });
        // The watcher is killed at random moments and started again.
        let mut rng = Rng(0xfeed);
        let mut w = watcher(&env, &ws);
        while !done.load(std::sync::atomic::Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(30 + rng.below(200)));
            unsafe {
                libc::kill(w.id() as i32, libc::SIGKILL);
            }
            let _ = w.wait();
            restarts += 1;
            w = watcher(&env, &ws);
        }
        // Let the last watcher catch up, then stop it.
        let expected: Vec<String> = (0..EDITS).map(|i| format!("edit {i}")).collect();
        let rejected = grove.join(".orc/rejected");
        wait_until("every edit on the ledger", Duration::from_secs(30), || {
            if rejected.exists() {
                let reasons: Vec<String> = std::fs::read_dir(&rejected)
                    .unwrap()
                    .filter_map(|e| e.ok())
                    .filter(|e| e.path().extension().is_some_and(|x| x == "reason"))
                    .map(|e| std::fs::read_to_string(e.path()).unwrap())
                    .collect();
                panic!("edits were set aside: {reasons:?}");
            }
            let wo: Value = serde_json::from_str(
                &env.ledger_file("missions/MISSION-001/work-orders/WO-001.json"),
            )
            .map_err(|e| e.to_string())?;
            let notes = note_texts(&wo["notes"]);
            if expected.iter().all(|e| notes.contains(e)) {
                Ok(())
            } else {
                Err(format!("{notes:?}"))
            }
        });
        unsafe {
            libc::kill(w.id() as i32, libc::SIGTERM);
        }
        let _ = w.wait();
    });
    assert!(
        restarts >= 5,
        "the watcher was restarted only {restarts} times"
    );
    // Each edit committed exactly once, in the work order and in the file.
    let wo: Value =
        serde_json::from_str(&env.ledger_file("missions/MISSION-001/work-orders/WO-001.json"))
            .unwrap();
    let notes = note_texts(&wo["notes"]);
    for i in 0..EDITS {
        let text = format!("edit {i}");
        assert_eq!(
            notes.iter().filter(|n| **n == text).count(),
            1,
            "{text} in {notes:?}"
        );
    }
    assert_eq!(notes.len(), EDITS);
    let a: Value =
        serde_json::from_str(&env.ledger_file("groves/GROVE-001/assigned-work.json")).unwrap();
    assert_eq!(
        a["work_orders"][0]["notes"].as_array().unwrap().len(),
        EDITS
    );
    // Nothing was refused along the way.
    assert!(
        !grove.join(".orc/rejected").exists(),
        "an edit was set aside"
    );
}
