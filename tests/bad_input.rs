//! Bad input gets a clear error and loses nothing: hostile ids are refused
//! before any file is touched; a bad file is named with the position and the
//! problem, listings keep working around it, and nothing is rewritten.

mod common;

use std::path::Path;

use common::{TestEnv, code};

/// A mission with three work orders; WO-002 is the one tests break.
fn env_with_orders() -> TestEnv {
    let env = TestEnv::with_mission();
    for t in ["one", "two", "three"] {
        env.orc(&["wo", "create", t]).ok();
    }
    env
}

/// Snapshot of every file under a directory (path, bytes), symlinks as
/// their target.
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            let name = path.strip_prefix(dir).unwrap().display().to_string();
            if name.starts_with("locks") {
                continue;
            }
            if meta.file_type().is_symlink() {
                out.push((
                    name,
                    std::fs::read_link(&path)
                        .unwrap()
                        .display()
                        .to_string()
                        .into_bytes(),
                ));
            } else if meta.is_dir() {
                out.push((name, b"<dir>".to_vec()));
                stack.push(path);
            } else {
                out.push((name, std::fs::read(&path).unwrap()));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn hostile_ids_are_refused_before_anything_is_touched() {
    let env = env_with_orders();
    let tip = env.tip();
    let ws = env.workspace("MISSION-001");
    let before = snapshot(&ws);
    let long = format!("WO-{}", "9".repeat(10_000));
    for bad in [
        "../x",
        "WO-1/../../etc",
        "",
        "WO-",
        "wo-1",
        "WO-1;rm",
        long.as_str(),
        "/etc/passwd",
    ] {
        for args in [
            vec!["wo", "show", bad],
            vec!["wo", "claim", bad],
            vec!["wo", "update", bad, "--title", "x"],
            vec!["wo", "note", bad, "x"],
            vec!["wo", "create", "x", "--parent", bad],
            vec!["mission", "show", bad],
            vec!["log", bad],
        ] {
            let out = env.orc(&args).code(code::USAGE);
            assert!(
                out.stderr.starts_with("error: "),
                "{args:?}: {}",
                out.stderr
            );
            assert!(out.stderr.len() < 300, "{args:?}: the message is bounded");
        }
    }
    let out = env.orc(&["wo", "show", "WO-1/../../etc"]).code(code::USAGE);
    assert!(
        out.stderr
            .contains("is not a work order id (expected WO-<digits>"),
        "{}",
        out.stderr
    );
    assert_eq!(env.tip(), tip);
    assert_eq!(snapshot(&ws), before);
}

struct Case {
    name: &'static str,
    /// Breaks the file at the given path.
    make: fn(&Path),
    /// Expected in the error.
    expect: &'static str,
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "truncated JSON",
            make: |p| {
                let b = std::fs::read(p).unwrap();
                std::fs::write(p, &b[..b.len() / 2]).unwrap();
            },
            expect: "(the file looks truncated)",
        },
        Case {
            name: "wrong types",
            make: |p| std::fs::write(p, br#"{"format": "one", "id": 2}"#).unwrap(),
            expect: "line 1, column 16: field `format`: invalid type: string \"one\"",
        },
        Case {
            name: "unknown status",
            make: |p| {
                let s = std::fs::read_to_string(p)
                    .unwrap()
                    .replace("\"ready\"", "\"finished\"");
                std::fs::write(p, s).unwrap();
            },
            expect: "field `status`: unknown status \"finished\"",
        },
        Case {
            name: "a directory",
            make: |p| {
                std::fs::remove_file(p).unwrap();
                std::fs::create_dir(p).unwrap();
            },
            expect: "is a directory where a file should be",
        },
        Case {
            name: "a symlink",
            make: |p| {
                std::fs::remove_file(p).unwrap();
                std::os::unix::fs::symlink("/etc/hostname", p).unwrap();
            },
            expect: "is a symbolic link",
        },
        Case {
            name: "over 1 MiB",
            make: |p| {
                let mut b = std::fs::read(p).unwrap();
                b.truncate(b.len() - 2);
                b.extend_from_slice(b",\n  \"padding\": \"");
                b.extend(std::iter::repeat_n(b'x', 1_100_000));
                b.extend_from_slice(b"\"\n}\n");
                std::fs::write(p, b).unwrap();
            },
            expect: "over the limit of 1048576 bytes (1 MiB)",
        },
        Case {
            name: "invalid UTF-8",
            make: |p| {
                let b = std::fs::read(p).unwrap();
                let s = String::from_utf8(b)
                    .unwrap()
                    .replace("\"two\"", "\"t\u{1}wo\"");
                let mut b = s.into_bytes();
                let i = b.iter().position(|&c| c == 1).unwrap();
                b[i] = 0xff;
                std::fs::write(p, b).unwrap();
            },
            expect: "invalid UTF-8",
        },
    ]
}

#[test]
fn a_bad_file_is_named_listings_go_on_and_nothing_is_rewritten() {
    for case in cases() {
        let env = env_with_orders();
        let path = env.wo_file("MISSION-001", "WO-002");
        (case.make)(&path);
        let ws = env.workspace("MISSION-001");
        let before = snapshot(&ws);
        let tip = env.tip();

        let out = env.orc(&["wo", "show", "WO-002"]).code(code::INVALID);
        assert!(
            out.stderr.contains(&path.display().to_string()) && out.stderr.contains(case.expect),
            "{}: {}",
            case.name,
            out.stderr
        );

        let list = env.orc(&["wo", "list", "--json"]).ok().json();
        let ids: Vec<&str> = list["work_orders"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["WO-001", "WO-003"], "{}", case.name);
        assert_eq!(
            list["errors"][0]["file"],
            path.display().to_string(),
            "{}",
            case.name
        );
        assert!(
            list["errors"][0]["error"]
                .as_str()
                .unwrap()
                .contains(case.expect),
            "{}: {}",
            case.name,
            list["errors"][0]
        );
        let text = env.orc(&["wo", "list"]).ok().stdout;
        assert!(
            text.contains(&format!("error  {}", path.display())),
            "{}: {text}",
            case.name
        );
        let summary = env.orc(&["summary"]).ok().stdout;
        assert!(
            summary.contains("WO-003") && summary.contains("error  "),
            "{}: {summary}",
            case.name
        );
        env.orc(&["status"]).ok();

        for args in [
            vec!["wo", "claim", "WO-002"],
            vec!["wo", "note", "WO-002", "hello"],
            vec!["wo", "update", "WO-002,WO-001", "--priority", "high"],
        ] {
            let out = env.orc(&args).code(code::INVALID);
            assert!(
                out.stderr.contains(case.expect),
                "{}: {args:?}: {}",
                case.name,
                out.stderr
            );
        }
        // Other work orders still change.
        env.orc(&["wo", "claim", "WO-003"]).ok();
        let mut after = snapshot(&ws);
        let mut expected = before.clone();
        // WO-003 changed on purpose; everything else is as it was.
        after.retain(|(n, _)| !n.ends_with("WO-003.json"));
        expected.retain(|(n, _)| !n.ends_with("WO-003.json"));
        assert_eq!(
            after, expected,
            "{}: a bad file must not be touched",
            case.name
        );
        assert_eq!(env.ledger_commits(), {
            let count: usize = env
                .git(&["rev-list", "--count", &tip])
                .ok()
                .line()
                .parse()
                .unwrap();
            count + 1
        });
    }
}

#[test]
fn a_broken_workspace_config_is_named_with_a_fix() {
    let env = TestEnv::with_mission();
    let ws = env.workspace("MISSION-001");
    std::fs::write(
        ws.join(".orc/config.json"),
        "{\"format\": 1, \"type\": \"grove\"}",
    )
    .unwrap();
    let out = env.orc_in(&ws, &["wo", "list"]).code(code::INVALID);
    assert!(out.stderr.contains(".orc/config.json"), "{}", out.stderr);
    assert!(
        out.stderr.contains("field `grove` is required"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("hint: fix"), "{}", out.stderr);
}

#[test]
fn a_lock_file_that_is_a_directory_is_named() {
    let env = env_with_orders();
    let lock = env
        .workspace("MISSION-001")
        .join(".orc/locks/work-orders/WO-001.json.lock");
    std::fs::remove_file(&lock).ok();
    std::fs::create_dir_all(&lock).unwrap();
    let out = env.orc(&["wo", "claim", "WO-001"]).code(code::INVALID);
    assert!(
        out.stderr.contains("is a directory; remove it"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_held_lock_times_out_with_an_error_naming_the_file() {
    use fs2::FileExt;
    let mut env = env_with_orders();
    env.set_env("ORC_LOCK_TIMEOUT_MS", "200");
    let lock = env
        .workspace("MISSION-001")
        .join(".orc/locks/work-orders/WO-001.json.lock");
    let held = std::fs::File::create(&lock).unwrap();
    held.lock_exclusive().unwrap();
    let out = env.orc(&["wo", "claim", "WO-001"]).code(7);
    assert!(
        out.stderr
            .contains("could not lock work-orders/WO-001.json within 200 ms"),
        "{}",
        out.stderr
    );
    FileExt::unlock(&held).unwrap();
    env.orc(&["wo", "claim", "WO-001"]).ok();
}
