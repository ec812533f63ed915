//! A save that orc's guarded write displaced is never dropped: for
//! `assigned-work.json` it is merged with the writer's newest save, else
//! kept in `.orc/rejected/`. The race itself (a save landing between two
//! system calls, then a read before the third) cannot be timed from a
//! test, so this calls the rescue directly with the three versions the
//! race leaves behind; `tests/torture.rs` races it for real.
//!
//! One test in this binary: it sets the process environment for the
//! library (`HOME`, `ORC_NOW`), which is only safe with no other thread.

mod common;

use std::path::{Path, PathBuf};

use common::{TestEnv, note_texts};
use serde_json::{Value, json};

fn with_note(bytes: &[u8], text: &str) -> Vec<u8> {
    let mut a: Value = serde_json::from_slice(bytes).unwrap();
    a["work_orders"][0]["notes"]
        .as_array_mut()
        .unwrap()
        .push(json!({ "text": text }));
    serde_json::to_vec_pretty(&a).unwrap()
}

fn with_status(bytes: &[u8], status: &str, reason: Option<&str>) -> Vec<u8> {
    let mut a: Value = serde_json::from_slice(bytes).unwrap();
    a["work_orders"][0]["status"] = json!(status);
    if let Some(r) = reason {
        a["work_orders"][0]["blocked_reason"] = json!(r);
    }
    serde_json::to_vec_pretty(&a).unwrap()
}

fn session(grove: &Path) -> orc::ops::Session {
    orc::ops::Session::open(&orc::ops::Options {
        cwd: Some(grove.to_path_buf()),
        ..Default::default()
    })
    .unwrap()
}

fn rejected(grove: &Path) -> Vec<PathBuf> {
    let dir = grove.join(".orc/rejected");
    let mut out: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).collect())
        .unwrap_or_default();
    out.sort();
    out
}

#[test]
fn a_displaced_save_is_merged_with_the_newest_or_kept() {
    let env = TestEnv::with_mission();
    env.orc(&["wo", "create", "long work"]).ok();
    env.orc(&["grove", "create", "g"]).ok();
    env.orc(&["assign", "WO-001", "--grove", "g"]).ok();
    let grove = PathBuf::from(
        env.orc(&["grove", "show", "g", "--json"]).ok().json()["grove"]["path"]
            .as_str()
            .unwrap(),
    );
    // SAFETY: the only test of this binary; no other thread reads the
    // environment.
    unsafe {
        std::env::set_var("HOME", &env.home);
        std::env::set_var("GIT_CONFIG_GLOBAL", "/dev/null");
        std::env::set_var("GIT_CONFIG_NOSYSTEM", "1");
        std::env::set_var("GIT_CEILING_DIRECTORIES", &env.root);
        std::env::set_var("ORC_NOW", common::NOW);
    }
    let file = grove.join(".orc/assigned-work.json");
    let s = session(&grove);
    let dir = orc::store::OrcDir::in_dir(&grove);

    // orc's version was briefly in place; the agent's earlier save (with
    // "first") was displaced, and its newest, built on orc's version, has
    // "second" only.
    let ours = std::fs::read(&file).unwrap();
    let displaced = with_note(&ours, "first");
    let newest = with_note(&ours, "second");
    std::fs::write(&file, &newest).unwrap();
    orc::ops::aside::rescue_displaced(&s, &dir, "assigned-work.json", &ours, &displaced).unwrap();
    let now: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(
        note_texts(&now["work_orders"][0]["notes"]),
        ["first", "second"],
        "both saves' notes are in place"
    );
    assert!(rejected(&grove).is_empty(), "nothing needed keeping aside");
    // Applied as one edit: both notes reach the ledger.
    env.orc_in(&grove, &["apply"]).ok();
    let wo: Value =
        serde_json::from_str(&env.ledger_file("missions/MISSION-001/work-orders/WO-001.json"))
            .unwrap();
    assert_eq!(note_texts(&wo["notes"]), ["first", "second"]);

    // Two saves that changed the same field differently cannot be merged:
    // the displaced one is kept aside, byte for byte, with the reason, and
    // the newest stays in place.
    let ours = std::fs::read(&file).unwrap();
    let displaced = with_status(&ours, "blocked", Some("waiting for the API key"));
    let newest = with_status(&ours, "done", None);
    std::fs::write(&file, &newest).unwrap();
    let s = session(&grove);
    orc::ops::aside::rescue_displaced(&s, &dir, "assigned-work.json", &ours, &displaced).unwrap();
    assert_eq!(
        std::fs::read(&file).unwrap(),
        newest,
        "the newest save wins"
    );
    let kept = rejected(&grove);
    assert_eq!(kept.len(), 2, "{kept:?}");
    assert_eq!(std::fs::read(&kept[0]).unwrap(), displaced);
    let reason = std::fs::read_to_string(&kept[1]).unwrap();
    assert!(
        reason.contains("replaced with a newer one while orc was writing"),
        "{reason}"
    );
}
