//! The bad-input corpus of `fixtures/bad/`: one directory per case, with a
//! `meta.json` saying which file it breaks, how, what orc must answer (the
//! exit code and a piece of the message), and for content cases the raw
//! bytes in `content`. Every case is run through the CLI in a fresh
//! environment, and the content cases once more through a running watcher:
//! bad input gets a clear error, is never committed, and loses nothing.
//!
//! A case orc gets wrong may carry `known_bug` (the CLI) or
//! `"watcher": "known-bug"` with `watcher_bug` (the watcher): it is then
//! skipped here, and should get its own `#[ignore]`d test asserting the
//! right behaviour until the bug is fixed. No case carries one now.

mod common;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::{TestEnv, wait_until};
use serde::Deserialize;
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(15);

/// The ledger paths of the files the cases break.
const WO_LEDGER: &str = "missions/MISSION-001/work-orders/WO-002.json";
const MISSION_LEDGER: &str = "missions/MISSION-001/mission.json";
const ASSIGNMENT_LEDGER: &str = "groves/GROVE-001/assigned-work.json";
const MESSAGE_LEDGER: &str = "missions/MISSION-001/inbox/MSG-009.json";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Meta {
    /// `work-order`, `mission`, `config`, `assignment`, `message` or `lock`.
    target: String,
    /// `content`, `symlink-outside`, `directory`, `fifo`, `big`, `deleted`,
    /// `readonly-dir`, `lock-directory`, `lock-symlink` or `orc-symlink`.
    kind: String,
    /// A piece of the error (stderr or the JSON error); for a case that
    /// succeeds, a piece of stdout or stderr.
    expect: String,
    code: i32,
    /// The orc argv (default by target).
    #[serde(default)]
    command: Option<Vec<String>>,
    /// `repo`, `workspace` or `grove` (default by target).
    #[serde(default)]
    cwd: Option<String>,
    /// What the `.reason` of a set-aside edit holds (default: `expect`).
    #[serde(default)]
    reason: Option<String>,
    /// Assignment cases: whether the edit is set aside (default true).
    #[serde(default)]
    kept: Option<bool>,
    /// What the watcher does with it: `rejected`, `normalised`, `skip` or
    /// `known-bug`.
    watcher: String,
    /// Set when the CLI gets this case wrong: what it does instead.
    #[serde(default)]
    known_bug: Option<String>,
    /// Set when the watcher gets this case wrong: what it does instead.
    #[serde(default)]
    watcher_bug: Option<String>,
    description: String,
}

#[derive(Debug, Clone)]
struct Case {
    name: String,
    meta: Meta,
    content: Option<Vec<u8>>,
}

impl Case {
    fn reason(&self) -> &str {
        self.meta.reason.as_deref().unwrap_or(&self.meta.expect)
    }
}

fn corpus_dir() -> PathBuf {
    common::fixtures().join("bad")
}

fn cases() -> Vec<Case> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(corpus_dir()).unwrap() {
        let dir = entry.unwrap().path();
        let name = dir.file_name().unwrap().to_str().unwrap().to_string();
        let meta: Meta = serde_json::from_slice(&std::fs::read(dir.join("meta.json")).unwrap())
            .unwrap_or_else(|e| panic!("{name}/meta.json: {e}"));
        let content = std::fs::read(dir.join("content")).ok();
        assert_eq!(
            content.is_some(),
            meta.kind == "content",
            "{name}: a `content` file goes with kind content, and only with it"
        );
        out.push(Case {
            name,
            meta,
            content,
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

fn is_root() -> bool {
    unsafe { libc::geteuid() == 0 }
}

/// A mission with three work orders and a grove `g` holding WO-001.
struct Base {
    env: TestEnv,
    ws: PathBuf,
    grove: PathBuf,
}

impl Base {
    fn new() -> Base {
        let env = TestEnv::with_mission();
        for t in ["one", "two", "three"] {
            env.orc(&["wo", "create", t]).ok();
        }
        env.orc(&["grove", "create", "g"]).ok();
        env.orc(&["assign", "WO-001", "--grove", "g"]).ok();
        let ws = env.workspace("MISSION-001");
        let grove = PathBuf::from(
            env.orc(&["grove", "show", "g", "--json"]).ok().json()["grove"]["path"]
                .as_str()
                .unwrap(),
        );
        Base { env, ws, grove }
    }

    fn path(&self, target: &str) -> PathBuf {
        let orc = self.ws.join(".orc");
        match target {
            "work-order" => orc.join("work-orders/WO-002.json"),
            "mission" => orc.join("mission.json"),
            "config" => orc.join("config.json"),
            "message" => orc.join("inbox/MSG-009.json"),
            "lock" => orc.join("locks/work-orders/WO-002.json.lock"),
            "assignment" => self.grove.join(".orc/assigned-work.json"),
            other => panic!("unknown target {other}"),
        }
    }

    fn ledger_path(target: &str) -> Option<&'static str> {
        match target {
            "work-order" => Some(WO_LEDGER),
            "mission" => Some(MISSION_LEDGER),
            "assignment" => Some(ASSIGNMENT_LEDGER),
            "message" => Some(MESSAGE_LEDGER),
            _ => None,
        }
    }

    fn dir(&self, cwd: &str) -> PathBuf {
        match cwd {
            "repo" => self.env.repo.clone(),
            "workspace" => self.ws.clone(),
            "grove" => self.grove.clone(),
            other => panic!("unknown cwd {other}"),
        }
    }

    /// The case's bytes with the environment's paths filled in.
    fn content(&self, case: &Case) -> Vec<u8> {
        let bytes = case.content.clone().unwrap();
        let repo_git = self.env.repo.join(".git");
        let bytes = replace(&bytes, b"@WORKSPACE@", self.ws.to_str().unwrap().as_bytes());
        replace(&bytes, b"@REPO_GIT@", repo_git.to_str().unwrap().as_bytes())
    }

    /// A file's content on the ledger tip (None: absent).
    fn on_ledger(&self, path: &str) -> Option<Vec<u8>> {
        let mut cmd = self.env.command("git", &self.env.repo);
        cmd.args(["cat-file", "blob", &format!("orc:{path}")]);
        let out = cmd.output().unwrap();
        out.status.success().then_some(out.stdout)
    }

    fn outside(&self) -> PathBuf {
        let dir = self.env.root.join("outside");
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}

fn replace(haystack: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(haystack.len());
    let mut i = 0;
    while i < haystack.len() {
        if haystack[i..].starts_with(from) {
            out.extend_from_slice(to);
            i += from.len();
        } else {
            out.push(haystack[i]);
            i += 1;
        }
    }
    out
}

/// A valid file padded to 5 MB with an extra field.
fn padded_to_5mb(good: &[u8]) -> Vec<u8> {
    let text = std::str::from_utf8(good).unwrap().trim_end();
    let body = text.strip_suffix('}').unwrap().trim_end();
    let mut out = body.as_bytes().to_vec();
    out.extend_from_slice(b",\n  \"x_pad\": \"");
    out.extend(std::iter::repeat_n(b'x', 5 * 1024 * 1024));
    out.extend_from_slice(b"\"\n}\n");
    out
}

/// What is at a path, without following a link.
#[derive(Debug, PartialEq)]
enum State {
    Missing,
    File(Vec<u8>),
    Dir,
    Link(PathBuf),
    Other,
}

fn state(path: &Path) -> State {
    match std::fs::symlink_metadata(path) {
        Err(_) => State::Missing,
        Ok(m) if m.file_type().is_symlink() => State::Link(std::fs::read_link(path).unwrap()),
        Ok(m) if m.is_dir() => State::Dir,
        Ok(m) if m.is_file() => State::File(std::fs::read(path).unwrap()),
        Ok(_) => State::Other,
    }
}

/// Every file under a directory (path, bytes), lock files left out.
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            let name = path.strip_prefix(dir).unwrap().display().to_string();
            if name.starts_with("locks") {
                continue;
            }
            if path.is_dir() {
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

/// Breaks the target as the case says; returns the bad bytes written, if
/// the case writes any.
fn apply(base: &Base, case: &Case, path: &Path) -> Option<Vec<u8>> {
    let remove = |p: &Path| {
        if std::fs::symlink_metadata(p).is_ok() {
            std::fs::remove_file(p).unwrap();
        }
    };
    match case.meta.kind.as_str() {
        "content" => {
            let bytes = base.content(case);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, &bytes).unwrap();
            Some(bytes)
        }
        "big" => {
            let bytes = padded_to_5mb(&std::fs::read(path).unwrap());
            std::fs::write(path, &bytes).unwrap();
            Some(bytes)
        }
        "deleted" => {
            std::fs::remove_file(path).unwrap();
            Some(Vec::new())
        }
        "symlink-outside" => {
            // A valid copy outside: only the link is wrong.
            let copy = base.outside().join(path.file_name().unwrap());
            std::fs::copy(path, &copy).unwrap();
            std::fs::remove_file(path).unwrap();
            std::os::unix::fs::symlink(&copy, path).unwrap();
            None
        }
        "directory" | "lock-directory" => {
            remove(path);
            std::fs::create_dir_all(path).unwrap();
            None
        }
        "fifo" => {
            remove(path);
            let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
            assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
            None
        }
        "lock-symlink" => {
            remove(path);
            std::os::unix::fs::symlink(base.outside().join("WO-002.json.lock"), path).unwrap();
            None
        }
        "readonly-dir" => {
            set_mode(path.parent().unwrap(), 0o555);
            None
        }
        "orc-symlink" => {
            let orc = base.ws.join(".orc");
            let moved = base.outside().join("orc");
            std::fs::rename(&orc, &moved).unwrap();
            std::os::unix::fs::symlink(&moved, &orc).unwrap();
            None
        }
        other => panic!("{}: unknown kind {other}", case.name),
    }
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn default_command(target: &str) -> (Vec<&'static str>, &'static str) {
    match target {
        "work-order" => (vec!["wo", "show", "WO-002"], "repo"),
        "mission" => (vec!["mission", "show", "MISSION-001"], "repo"),
        "config" => (vec!["wo", "list"], "workspace"),
        "assignment" => (vec!["work", "show"], "grove"),
        "message" => (vec!["mail", "inbox", "--all"], "workspace"),
        "lock" => (vec!["wo", "claim", "WO-002"], "repo"),
        other => panic!("unknown target {other}"),
    }
}

/// The path after `kept at ` in orc's message about a set-aside edit.
fn kept_path(text: &str) -> Option<PathBuf> {
    let start = text.find("kept at ")? + "kept at ".len();
    let rest = &text[start..];
    let end = rest.find([';', '\n', '"']).unwrap_or(rest.len());
    Some(PathBuf::from(rest[..end].trim()))
}

/// Runs one case through the CLI in a fresh environment and checks
/// everything the corpus promises about it.
fn run_case(case: &Case) {
    let name = &case.name;
    let meta = &case.meta;
    let base = Base::new();
    let env = &base.env;
    let path = base.path(&meta.target);
    let good = state(&path);
    let tip = env.tip();
    let outside_orc = base.env.root.join("outside/orc");

    let bad = apply(&base, case, &path);
    let bad_state = state(&path);
    let outside_before = (meta.kind == "orc-symlink").then(|| snapshot(&outside_orc));
    let outside_copy = base.env.root.join("outside/WO-002.json");
    let copy_before = std::fs::read(&outside_copy).ok();

    let (default_args, default_cwd) = default_command(&meta.target);
    let args: Vec<&str> = match &meta.command {
        Some(c) => c.iter().map(String::as_str).collect(),
        None => default_args,
    };
    let cwd = base.dir(meta.cwd.as_deref().unwrap_or(default_cwd));
    let out = env.orc_in(&cwd, &args);
    let shown = format!(
        "{name} ({}): orc {}\nexit {}\nstdout:\n{}\nstderr:\n{}",
        meta.description,
        args.join(" "),
        out.code,
        out.stdout,
        out.stderr
    );

    if meta.kind == "readonly-dir" {
        set_mode(path.parent().unwrap(), 0o755);
        if is_root() {
            // chmod does not stop root: the note is written and committed,
            // and the file and the ledger agree.
            println!(
                "{name}: running as root, where chmod 555 stops no write; asserting that orc wrote and committed the note"
            );
            assert_eq!(out.code, 0, "{shown}");
            let on_ledger = base.on_ledger(WO_LEDGER).unwrap();
            assert_eq!(state(&path), State::File(on_ledger.clone()), "{shown}");
            let wo: Value = serde_json::from_slice(&on_ledger).unwrap();
            assert_eq!(wo["notes"][0]["text"], "hello", "{shown}");
            assert_ne!(env.tip(), tip, "{shown}");
            return;
        }
    }

    // The exit code and the message.
    assert_eq!(out.code, meta.code, "{name}: exit code\n{shown}");
    let json_error = serde_json::from_str::<Value>(&out.stdout)
        .ok()
        .and_then(|v| v["error"]["message"].as_str().map(str::to_string))
        .unwrap_or_default();
    let found = if meta.code == 0 {
        out.stdout.contains(&meta.expect) || out.stderr.contains(&meta.expect)
    } else {
        out.stderr.contains(&meta.expect) || json_error.contains(&meta.expect)
    };
    assert!(found, "{name}: expected {:?}\n{shown}", meta.expect);
    if meta.code != 0 {
        assert!(
            out.stderr.starts_with("error: ") || !json_error.is_empty(),
            "{name}: an error is `error: ...` on stderr or a JSON error\n{shown}"
        );
    }

    // The bad input is left as it was, or, for the assignment, set aside
    // and the last good version restored.
    if meta.target == "assignment" {
        let good_bytes = match &good {
            State::File(b) => b.clone(),
            other => panic!("{name}: the assignment was {other:?}"),
        };
        assert_eq!(
            state(&path),
            State::File(good_bytes),
            "{name}: the last good version is restored\n{shown}"
        );
        let rejected = base.grove.join(".orc/rejected");
        if meta.kept.unwrap_or(true) {
            let bad = bad.clone().expect("an assignment case writes bytes");
            let kept = kept_path(&out.stderr)
                .or_else(|| kept_path(&json_error))
                .unwrap_or_else(|| {
                    panic!("{name}: orc does not say where the edit is kept\n{shown}")
                });
            assert!(kept.starts_with(&rejected), "{name}: kept at {kept:?}");
            assert!(
                state(&kept) == State::File(bad.clone()),
                "{name}: {} must hold the edit as it was ({} bytes); it holds {:?} bytes; rejected/ holds {:?}\n{shown}",
                kept.display(),
                bad.len(),
                std::fs::metadata(&kept).map(|m| m.len()).ok(),
                listing(&rejected),
            );
            let reason = std::fs::read_to_string(format!("{}.reason", kept.display()))
                .unwrap_or_else(|e| panic!("{name}: no .reason beside {kept:?}: {e}"));
            assert!(
                reason.contains(case.reason()),
                "{name}: the reason {reason:?} should contain {:?}",
                case.reason()
            );
        } else {
            assert!(
                !rejected.exists(),
                "{name}: a valid layout is not set aside\n{shown}"
            );
        }
    } else {
        assert!(
            state(&path) == bad_state,
            "{name}: the bad input must be left exactly as it was\n{shown}"
        );
        if let Some(before) = outside_before {
            assert_eq!(
                snapshot(&outside_orc),
                before,
                "{name}: nothing is written through a linked .orc/\n{shown}"
            );
        }
        if meta.kind == "symlink-outside" {
            assert_eq!(std::fs::read(&outside_copy).ok(), copy_before, "{shown}");
        }
        if meta.kind == "lock-symlink" {
            assert!(
                !base.env.root.join("outside/WO-002.json.lock").exists(),
                "{name}: orc created the link's target\n{shown}"
            );
        }
    }

    // Nothing was committed.
    assert_eq!(env.tip(), tip, "{name}: the ledger moved\n{shown}");
    if let Some(ledger) = Base::ledger_path(&meta.target) {
        let on_ledger = base.on_ledger(ledger);
        if let Some(bad) = &bad {
            assert_ne!(on_ledger.as_ref(), Some(bad), "{name}: committed");
        }
    }

    // The others are still listed (behind a linked .orc/ there are none
    // to list).
    if meta.kind == "orc-symlink" {
        return;
    }
    let list = env.orc(&["wo", "list", "--json"]);
    assert_eq!(list.code, 0, "{name}: wo list\n{}", list.stderr);
    let list = list.json();
    let ids: Vec<&str> = list["work_orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&"WO-001") && ids.contains(&"WO-003"),
        "{name}: {list}"
    );
    let broken_wo = meta.target == "work-order"
        && meta.code != 0
        && !matches!(meta.kind.as_str(), "readonly-dir" | "orc-symlink")
        && meta.known_bug.is_none();
    if broken_wo {
        assert!(!ids.contains(&"WO-002"), "{name}: {list}");
        assert_eq!(
            list["errors"][0]["file"],
            path.display().to_string(),
            "{name}: {list}"
        );
    }
}

/// Runs the cases on two threads and reports every failure at once.
fn run_all(cases: Vec<Case>) {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let failures = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let Some(case) = cases.get(i) else { break };
                    let t0 = Instant::now();
                    let result = std::panic::catch_unwind(|| run_case(case));
                    println!("{:<44} {:>5} ms", case.name, t0.elapsed().as_millis());
                    if let Err(e) = result {
                        let msg = e
                            .downcast_ref::<String>()
                            .cloned()
                            .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                            .unwrap_or_default();
                        failures
                            .lock()
                            .unwrap()
                            .push(format!("{}: {msg}", case.name));
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn every_case_through_the_cli() {
    let all = cases();
    assert!(all.len() >= 40, "only {} cases in fixtures/bad", all.len());
    let t0 = Instant::now();
    let (bugs, run): (Vec<Case>, Vec<Case>) =
        all.into_iter().partition(|c| c.meta.known_bug.is_some());
    for c in &bugs {
        println!(
            "{}: skipped here, a known bug with its own ignored test: {}",
            c.name,
            c.meta.known_bug.as_deref().unwrap()
        );
    }
    let n = run.len();
    run_all(run);
    println!("{n} cases through the CLI in {:?}", t0.elapsed());
}

// ---------------------------------------------------------------- watcher

/// Starts `orc watch` in the mission workspace, its output in a log file.
fn watcher(env: &TestEnv, ws: &Path, log: &Path, settle: Option<&str>) -> Child {
    let mut cmd = env.command(TestEnv::bin(), ws);
    cmd.args(["watch", "--interval", "100ms", "--reconcile", "300ms"]);
    if let Some(settle) = settle {
        cmd.args(["--settle", settle]);
    }
    cmd.stdout(Stdio::from(File::create(log).unwrap()))
        .stderr(Stdio::from(
            File::create(log.with_extension("err")).unwrap(),
        ));
    cmd.spawn().unwrap()
}

fn stop(mut child: Child) {
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    let _ = child.wait();
}

/// The `.reason` files of a `rejected/` directory.
fn reasons(rejected: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(rejected)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "reason"))
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// Writes a file the way an editor saves: a copy renamed over it.
fn save(path: &Path, bytes: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let tmp = path.with_file_name(".bad-corpus.tmp");
    std::fs::write(&tmp, bytes).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

/// Puts the case's bad input in place for the watcher to see, in one step.
fn apply_for_watcher(base: &Base, case: &Case, path: &Path) -> Option<Vec<u8>> {
    match case.meta.kind.as_str() {
        "content" => {
            let bytes = base.content(case);
            save(path, &bytes);
            Some(bytes)
        }
        "big" => {
            let bytes = padded_to_5mb(&std::fs::read(path).unwrap());
            save(path, &bytes);
            Some(bytes)
        }
        "deleted" => {
            std::fs::remove_file(path).unwrap();
            Some(Vec::new())
        }
        "symlink-outside" => {
            let copy = base.outside().join(path.file_name().unwrap());
            std::fs::copy(path, &copy).unwrap();
            let tmp = path.with_file_name(".bad-corpus.link");
            std::os::unix::fs::symlink(&copy, &tmp).unwrap();
            std::fs::rename(&tmp, path).unwrap();
            None
        }
        other => panic!("{}: kind {other} is not run through the watcher", case.name),
    }
}

/// One environment with a watcher running in the workspace.
struct Watched {
    base: Base,
    child: Option<Child>,
    log: PathBuf,
}

impl Watched {
    /// `settle`: the watcher's `--settle` (default: its own).
    fn new(settle: Option<&str>) -> Watched {
        let base = Base::new();
        let log = base.env.root.join("watch.log");
        let child = watcher(&base.env, &base.ws, &log, settle);
        let w = Watched {
            base,
            child: Some(child),
            log,
        };
        // The watcher is up once it has handled a first direct edit.
        let wo3 = w.base.env.wo_file("MISSION-001", "WO-003");
        let mut v: Value = serde_json::from_slice(&std::fs::read(&wo3).unwrap()).unwrap();
        v["x_watched"] = Value::Bool(true);
        save(&wo3, &serde_json::to_vec_pretty(&v).unwrap());
        wait_until("the watcher to commit a first edit", WAIT, || {
            let on = w
                .base
                .on_ledger("missions/MISSION-001/work-orders/WO-003.json")
                .unwrap_or_default();
            if String::from_utf8_lossy(&on).contains("x_watched") {
                Ok(())
            } else {
                Err(w.log_text())
            }
        });
        w
    }

    fn log_text(&self) -> String {
        let out = std::fs::read_to_string(&self.log).unwrap_or_default();
        let err = std::fs::read_to_string(self.log.with_extension("err")).unwrap_or_default();
        format!("watcher stdout:\n{out}\nwatcher stderr:\n{err}")
    }

    fn rejected_dir(&self, target: &str) -> PathBuf {
        if target == "assignment" {
            self.base.grove.join(".orc/rejected")
        } else {
            self.base.ws.join(".orc/rejected")
        }
    }

    /// Puts the case in place and waits until the watcher has handled it;
    /// checks that nothing was committed, that the last good version is
    /// back and (for a rejected case) that the content and reason are kept.
    fn handle(&self, case: &Case) {
        let name = &case.name;
        let meta = &case.meta;
        let env = &self.base.env;
        let path = self.base.path(&meta.target);
        let ledger = Base::ledger_path(&meta.target).unwrap();
        let good_on_ledger = self.base.on_ledger(ledger);
        let good = match state(&path) {
            State::File(b) => Some(b),
            State::Missing => None,
            other => panic!("{name}: the target is {other:?} before the case"),
        };
        assert_eq!(
            good, good_on_ledger,
            "{name}: the file matches the ledger before"
        );
        let rejected = self.rejected_dir(&meta.target);
        let seen = reasons(&rejected);
        let tip = env.tip();

        let bad = apply_for_watcher(&self.base, case, &path);

        let restored = |now: &State| match &good {
            Some(b) => *now == State::File(b.clone()),
            None => *now == State::Missing,
        };
        match meta.watcher.as_str() {
            "normalised" => {
                wait_until(&format!("{name}: the layout normalised"), WAIT, || {
                    let now = state(&path);
                    if restored(&now) {
                        Ok(())
                    } else {
                        Err(format!("{now:?}\n{}", self.log_text()))
                    }
                });
                assert_eq!(
                    reasons(&rejected),
                    seen,
                    "{name}: a valid layout is not set aside"
                );
            }
            _ => {
                let mut new = Vec::new();
                wait_until(
                    &format!("{name}: the edit set aside and the file restored"),
                    WAIT,
                    || {
                        new = reasons(&rejected)
                            .into_iter()
                            .filter(|r| !seen.contains(r))
                            .collect();
                        let now = state(&path);
                        let moved = env.tip();
                        assert_eq!(
                            moved,
                            tip,
                            "{name}: the watcher committed it: {}\n{}",
                            env.git(&["log", "-1", "--format=%an|%s", "orc"])
                                .ok()
                                .line(),
                            self.log_text()
                        );
                        if !new.is_empty() && restored(&now) {
                            Ok(())
                        } else {
                            Err(format!(
                                "new reasons {new:?}, file {:?}\n{}",
                                short(&now),
                                self.log_text()
                            ))
                        }
                    },
                );
                assert_eq!(new.len(), 1, "{name}: set aside once: {new:?}");
                let reason = std::fs::read_to_string(&new[0]).unwrap();
                assert!(
                    reason.contains(case.reason()),
                    "{name}: the reason {reason:?} should contain {:?}\n{}",
                    case.reason(),
                    self.log_text()
                );
                let kept = PathBuf::from(new[0].to_str().unwrap().strip_suffix(".reason").unwrap());
                if let Some(bad) = &bad {
                    assert!(
                        state(&kept) == State::File(bad.clone()),
                        "{name}: {} must hold the edit as it was ({} bytes), it holds {:?} bytes (reason {reason:?}); rejected/ holds {:?}",
                        kept.display(),
                        bad.len(),
                        std::fs::metadata(&kept).map(|m| m.len()).ok(),
                        listing(&rejected),
                    );
                }
            }
        }
        assert_eq!(
            env.tip(),
            tip,
            "{name}: the ledger moved\n{}",
            self.log_text()
        );
        assert_eq!(
            self.base.on_ledger(ledger),
            good_on_ledger,
            "{name}: the ledger's {ledger} changed"
        );
    }

    fn still_running(&mut self) {
        let status = self.child.as_mut().unwrap().try_wait().unwrap();
        assert!(
            status.is_none(),
            "the watcher exited: {status:?}\n{}",
            self.log_text()
        );
    }
}

impl Drop for Watched {
    fn drop(&mut self) {
        if let Some(child) = self.child.take() {
            stop(child);
        }
    }
}

/// The names in a directory, for messages.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

fn short(s: &State) -> String {
    match s {
        State::File(b) if b.len() > 200 => format!("File({} bytes)", b.len()),
        State::File(b) => format!("File({:?})", String::from_utf8_lossy(b)),
        other => format!("{other:?}"),
    }
}

#[test]
fn every_case_through_the_watcher() {
    let t0 = Instant::now();
    // Every case is saved in one step: nothing needs to settle.
    let mut w = Watched::new(Some("0s"));
    let tip = w.base.env.tip();
    let all = cases();
    let mut handled = 0;
    for case in &all {
        match case.meta.watcher.as_str() {
            "rejected" | "normalised" => {
                let t = Instant::now();
                w.handle(case);
                w.still_running();
                handled += 1;
                println!("{:<44} {:>5} ms", case.name, t.elapsed().as_millis());
            }
            "known-bug" => println!(
                "{}: skipped here, a known watcher bug with its own ignored test: {}",
                case.name,
                case.meta.watcher_bug.as_deref().unwrap_or("?")
            ),
            _ => println!(
                "{}: not a watcher case (kind {})",
                case.name, case.meta.kind
            ),
        }
    }
    assert!(
        handled >= 40,
        "only {handled} cases went through the watcher"
    );
    assert_eq!(w.base.env.tip(), tip, "nothing bad was committed");
    w.still_running();

    // Still at work: a command's change and a direct edit are committed.
    let env = &w.base.env;
    env.orc(&["wo", "note", "WO-001", "still-alive"]).ok();
    let wo1: Value =
        serde_json::from_str(&env.ledger_file("missions/MISSION-001/work-orders/WO-001.json"))
            .unwrap();
    assert_eq!(wo1["notes"][0]["text"], "still-alive");
    let wo3 = env.wo_file("MISSION-001", "WO-003");
    let mut v: Value = serde_json::from_slice(&std::fs::read(&wo3).unwrap()).unwrap();
    v["priority"] = Value::String("critical".into());
    save(&wo3, &serde_json::to_vec_pretty(&v).unwrap());
    wait_until(
        "a valid direct edit committed after the corpus",
        WAIT,
        || {
            let last = env
                .git(&["log", "-1", "--format=%an|%s", "orc"])
                .ok()
                .line();
            if last == "DEPUTY-MISSION-001|WO-003: edited (priority)" {
                Ok(())
            } else {
                Err(format!("{last}\n{}", w.log_text()))
            }
        },
    );
    w.still_running();
    println!("{handled} cases through the watcher in {:?}", t0.elapsed());
}

/// Not a corpus case but found with it: a valid edit written in place
/// (`cmd > file`: the shell truncates the file, the command writes later)
/// must not be lost. The watcher sees the empty file, sets it aside,
/// "restores" the old version by renaming over it, and the writer's bytes
/// go to the unlinked inode: the edit is neither in the file, nor on the
/// ledger, nor in rejected/.
#[test]
fn watcher_keeps_an_edit_written_in_place() {
    use std::io::Write;
    // The default settle time (1 s): longer than the writer takes.
    let w = Watched::new(None);
    let wo2 = w.base.path("work-order");
    let mut v: Value = serde_json::from_slice(&std::fs::read(&wo2).unwrap()).unwrap();
    v["priority"] = Value::String("high".into());
    let edited = serde_json::to_vec_pretty(&v).unwrap();
    {
        let mut f = File::create(&wo2).unwrap(); // truncates, like `>`
        std::thread::sleep(Duration::from_millis(300)); // the command runs
        f.write_all(&edited).unwrap();
    }
    wait_until("the edit written in place committed", WAIT, || {
        let on: Value = serde_json::from_slice(&w.base.on_ledger(WO_LEDGER).unwrap()).unwrap();
        if on["priority"] == "high" {
            Ok(())
        } else {
            Err(format!(
                "file: {}\n{}",
                String::from_utf8_lossy(&std::fs::read(&wo2).unwrap()),
                w.log_text()
            ))
        }
    });
}
