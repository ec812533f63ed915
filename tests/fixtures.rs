//! `fixtures/valid/` loads; each case in `fixtures/invalid/<kind>/` is
//! refused with the message in its `.expected` file.

mod common;

use std::path::{Path, PathBuf};

use common::TestEnv;
use orc::model::FileKind;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// The kind of a valid fixture, from where it sits.
fn kind_of(path: &Path) -> FileKind {
    let name = path.file_name().unwrap().to_str().unwrap();
    let parent = path
        .parent()
        .unwrap()
        .file_name()
        .unwrap()
        .to_str()
        .unwrap();
    match (parent, name) {
        (_, "config.json") => FileKind::Config,
        (_, "mission.json") => FileKind::Mission,
        ("work-orders", _) => FileKind::WorkOrder,
        ("ledger", "orc.json") => FileKind::LedgerInfo,
        ("ledger", "counters.json") => FileKind::Counters,
        (_, "grove.json") => FileKind::Grove,
        (_, "assigned-work.json") => FileKind::Assignment,
        ("inbox", _) => FileKind::Message,
        _ => panic!("no kind known for fixture {}", path.display()),
    }
}

#[test]
fn every_valid_fixture_loads() {
    let files = files_under(&fixtures().join("valid"));
    assert!(files.len() >= 12, "{files:?}");
    for path in files {
        let bytes = std::fs::read(&path).unwrap();
        let name = path.file_name().unwrap().to_str().unwrap();
        // Files that are not records of the ledger's kinds: an agent's own
        // report (local) and the repository settings.
        if name == "agent.json" {
            let st: orc::agent::state::AgentState = serde_json::from_slice(&bytes)
                .unwrap_or_else(|e| panic!("{} should load: {e}", path.display()));
            assert_eq!(st.format, 1);
            continue;
        }
        if name == "settings.json" {
            let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
            for (section, leaves) in v.as_object().unwrap() {
                if section == "format" {
                    continue;
                }
                if !leaves.is_object() {
                    orc::ops::config::validate(section, leaves)
                        .unwrap_or_else(|e| panic!("{}: {section}: {e}", path.display()));
                    continue;
                }
                for (leaf, value) in leaves.as_object().unwrap() {
                    let key = format!("{section}.{leaf}");
                    orc::ops::config::validate(&key, value)
                        .unwrap_or_else(|e| panic!("{}: {key}: {e}", path.display()));
                }
            }
            continue;
        }
        kind_of(&path)
            .check(name, &bytes)
            .unwrap_or_else(|e| panic!("{} should load: {e}", path.display()));
    }
}

#[test]
fn every_invalid_fixture_is_refused_with_its_expected_message() {
    let mut seen = 0;
    for dir in std::fs::read_dir(fixtures().join("invalid")).unwrap() {
        let dir = dir.unwrap().path();
        let kind_name = dir.file_name().unwrap().to_str().unwrap().to_string();
        let kind = FileKind::from_name(&kind_name)
            .unwrap_or_else(|| panic!("fixtures/invalid/{kind_name} is not a file kind"));
        for path in files_under(&dir) {
            if path.extension().is_some_and(|e| e == "expected") {
                continue;
            }
            let expected = std::fs::read_to_string(path.with_extension("expected"))
                .unwrap_or_else(|_| panic!("{} has no .expected file", path.display()));
            let bytes = std::fs::read(&path).unwrap();
            let file_name = match kind {
                FileKind::WorkOrder => "WO-001.json",
                FileKind::Message => "MSG-001.json",
                _ => "x.json",
            };
            let err = kind
                .check(file_name, &bytes)
                .expect_err(&format!("{} should be refused", path.display()));
            assert!(
                err.contains(expected.trim()),
                "{}: expected {:?} in {err:?}",
                path.display(),
                expected.trim()
            );
            seen += 1;
        }
    }
    assert!(seen >= 49, "only {seen} invalid fixtures");
}

#[test]
fn the_example_workspace_reads_through_the_cli() {
    let env = TestEnv::with_mission();
    let target = env.workspace("MISSION-001").join(".orc/work-orders");
    std::fs::create_dir_all(&target).unwrap();
    for file in files_under(&fixtures().join("valid/mission-workspace/.orc/work-orders")) {
        std::fs::copy(&file, target.join(file.file_name().unwrap())).unwrap();
    }
    let list = env.orc(&["wo", "list", "--json"]).ok().json();
    assert_eq!(list["errors"].as_array().unwrap().len(), 0, "{list}");
    let shown: Vec<(&str, &str)> = list["work_orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| (w["id"].as_str().unwrap(), w["shown"].as_str().unwrap()))
        .collect();
    assert_eq!(
        shown,
        [
            ("WO-001", "in_progress"),
            ("WO-002", "done"),
            ("WO-003", "blocked"),
            ("WO-004", "waiting")
        ]
    );
}
