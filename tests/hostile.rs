//! Where orc meets git, tmux, the filesystem and the environment, tried as
//! a hostile user would (spec section 19, "Hostile cases"). Each test is
//! one case: what is done to orc, and what orc must do instead of what it
//! did before.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{TestEnv, TmuxServer, code, fixtures, wait_until};
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(15);

fn grove_path(env: &TestEnv, name: &str) -> PathBuf {
    PathBuf::from(
        env.orc(&["grove", "show", name, "--json"]).ok().json()["grove"]["path"]
            .as_str()
            .unwrap(),
    )
}

/// Scripted agents in the panes, a private tmux socket.
fn with_tmux(env: &mut TestEnv) -> TmuxServer {
    let tmux = TmuxServer::new();
    env.set_env("ORC_TMUX_SOCKET", &tmux.socket);
    let logs = env.root.join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    env.set_env("ORC_AGENT_LOG_DIR", logs.to_str().unwrap());
    std::fs::create_dir_all(env.home.join(".orc")).unwrap();
    let agent = fixtures().join("agents/log-agent.sh");
    std::fs::write(
        env.home.join(".orc/orc.toml"),
        format!(
            "agent = [\"sh\", {:?}]\neditor = [\"cat\"]\nshell = [\"cat\"]\n",
            agent.display().to_string()
        ),
    )
    .unwrap();
    tmux
}

// ---------------------------------------------------------------------
// tmux

/// A grove name or path reaches tmux where it expands formats (`-n`,
/// `-c`): `#(...)` would run a command, `#{...}` would expand. They must
/// deploy literally.
#[test]
fn tmux_formats_in_grove_names_and_paths_are_not_expanded() {
    let mut env = TestEnv::with_mission();
    let tmux = with_tmux(&mut env);
    // A name cannot hold `/`: the command would touch PWNED in the
    // directory of the tmux server or of the pane, both inside the test's.
    let name = "#(touch${IFS}PWNED)".to_string();
    env.orc(&["grove", "create", &name, "--no-hooks"]).ok();
    let odd = env.root.join("p#{session_name}");
    env.orc(&[
        "grove",
        "create",
        "x#{pane_id}",
        "--path",
        odd.to_str().unwrap(),
        "--no-hooks",
    ])
    .ok();
    env.orc(&["deploy"]).ok();
    wait_until("every pane to report its directory", WAIT, || {
        let panes = tmux.panes();
        if panes.len() == 8 && panes.iter().all(|p| !p[5].is_empty()) {
            Ok(())
        } else {
            Err(format!("{panes:?}"))
        }
    });
    let panes = tmux.panes();
    let windows: Vec<&str> = panes.iter().map(|p| p[9].as_str()).collect();
    assert!(windows.contains(&name.as_str()), "{windows:?}");
    assert!(windows.contains(&"x#{pane_id}"), "{windows:?}");
    let paths: Vec<PathBuf> = panes.iter().map(|p| PathBuf::from(&p[5])).collect();
    assert!(
        paths.contains(&odd),
        "panes start in {odd:?} literally: {paths:?}"
    );
    std::thread::sleep(Duration::from_millis(500));
    let touched: Vec<_> = walk(&env.root)
        .into_iter()
        .filter(|p| p.file_name().is_some_and(|n| n == "PWNED"))
        .filter(|p| p.is_file())
        .collect();
    assert!(
        touched.is_empty(),
        "tmux ran a command from a name: {touched:?}"
    );
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() && !p.is_symlink() {
                stack.push(p.clone());
            }
            out.push(p);
        }
    }
    out
}

// ---------------------------------------------------------------------
// git's locks, refs and branches

/// A live git process holds `refs/heads/orc.lock`: orc waits for it, then
/// fails naming the file, and never removes it.
#[test]
fn a_ref_lock_held_by_another_process_is_never_taken() {
    let mut env = TestEnv::with_mission();
    env.set_env("ORC_LOCK_TIMEOUT_MS", "400");
    let lock = env.repo.join(".git/refs/heads/orc.lock");
    std::fs::write(&lock, "0000000000000000000000000000000000000000\n").unwrap();
    let tip = env.tip();
    let out = env.orc(&["wo", "create", "x"]).code(7);
    assert!(out.stderr.contains("orc.lock exists"), "{}", out.stderr);
    assert!(
        out.stderr.contains("if no git process is running"),
        "{}",
        out.stderr
    );
    assert!(lock.exists(), "orc removed another process's lock");
    assert_eq!(env.tip(), tip);
    // Once its holder is done, orc goes on.
    std::fs::remove_file(&lock).unwrap();
    env.orc(&["wo", "create", "x"]).ok();
}

/// A leftover `packed-refs.lock` (git's own update-ref ignores it) does not
/// stop orc, with the ledger ref loose or packed.
#[test]
fn a_stale_packed_refs_lock_does_not_stop_commits() {
    let mut env = TestEnv::with_mission();
    env.set_env("ORC_LOCK_TIMEOUT_MS", "400");
    std::fs::write(env.repo.join(".git/packed-refs.lock"), "").unwrap();
    env.orc(&["wo", "create", "loose"]).ok();
    std::fs::remove_file(env.repo.join(".git/packed-refs.lock")).unwrap();
    env.git(&["pack-refs", "--all"]).ok();
    assert!(
        !env.repo.join(".git/refs/heads/orc").exists(),
        "the ref is packed"
    );
    std::fs::write(env.repo.join(".git/packed-refs.lock"), "").unwrap();
    env.orc(&["wo", "create", "packed"]).ok();
    let subjects = env.git(&["log", "--format=%s", "orc"]).ok().stdout;
    assert!(subjects.contains("created \"packed\""), "{subjects}");
    assert!(subjects.contains("created \"loose\""), "{subjects}");
    // The reflog records each move, as git's own would.
    let reflog = env
        .git(&["reflog", "show", "--format=%gs", "orc"])
        .ok()
        .stdout;
    assert!(
        reflog.contains("orc: WO-002: created \"packed\""),
        "{reflog}"
    );
    let fsck = env.git(&["fsck", "--strict", "--no-dangling"]);
    assert_eq!(fsck.code, 0, "{}", fsck.stderr);
}

/// A ledger setting that names a code branch never makes orc commit onto
/// it: refused, whichever way it is named.
#[test]
fn a_ledger_setting_naming_a_code_branch_is_refused() {
    let env = TestEnv::with_mission();
    let main = env.git(&["rev-parse", "main"]).ok().line();
    let check = |out: common::Output| {
        assert_eq!(out.code, code::ENVIRONMENT, "{out:#?}");
        assert!(
            out.stderr.contains("\"main\" is not an orc ledger"),
            "{}",
            out.stderr
        );
        assert_eq!(
            env.git(&["rev-parse", "main"]).ok().line(),
            main,
            "main moved"
        );
        assert_eq!(env.git(&["status", "--porcelain"]).ok().stdout, "");
    };
    check(env.orc(&["wo", "create", "x", "--ledger", "main"]));
    let mut cmd = env.command(TestEnv::bin(), &env.repo);
    cmd.env("ORC_LEDGER", "main").args(["wo", "create", "x"]);
    check(common::run(cmd, "ORC_LEDGER=main orc wo create".into()));
    env.git(&["config", "orc.ledger", "main"]).ok();
    check(env.orc(&["wo", "create", "x"]));
    env.git(&["config", "--unset", "orc.ledger"]).ok();
    let ws = env.workspace("MISSION-001");
    let config = ws.join(".orc/config.json");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replace("\"ledger\": \"orc\"", "\"ledger\": \"main\""),
    )
    .unwrap();
    check(env.orc_in(&ws, &["wo", "create", "x"]));
}

/// Someone checked the ledger branch out in a worktree to look around: orc
/// refuses to move it (the next commit there would undo orc's commits) and
/// says how to leave it.
#[test]
fn a_checked_out_ledger_is_never_moved() {
    let env = TestEnv::with_mission();
    env.orc(&["wo", "create", "before"]).ok();
    let look = env.root.join("look");
    env.git(&["worktree", "add", "-q", look.to_str().unwrap(), "orc"])
        .ok();
    let tip = env.tip();
    let out = env.orc(&["wo", "create", "after"]).code(code::ENVIRONMENT);
    assert!(
        out.stderr
            .contains("the ledger branch \"orc\" is checked out in")
            && out.stderr.contains("look"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("git -C"), "{}", out.stderr);
    assert_eq!(env.tip(), tip);
    // Reading still works.
    env.orc(&["wo", "list"]).ok();
    // Leaving it: orc goes on, and the worktree's commit would not revert it.
    env.git_in(&look, &["checkout", "-q", "--detach"]).ok();
    env.orc(&["wo", "create", "after"]).ok();
    // Also in the main worktree.
    env.git(&["worktree", "remove", look.to_str().unwrap()])
        .ok();
    env.git(&["checkout", "-q", "orc"]).ok();
    env.orc(&["wo", "create", "again"]).code(code::ENVIRONMENT);
    env.git(&["checkout", "-q", "main"]).ok();
    env.orc(&["wo", "create", "again"]).ok();
}

/// A repository owned by another user: git refuses it ("dubious
/// ownership"), because its hooks and config would run as you; so does
/// orc, with git's remedy, and no hook of it runs.
#[test]
fn a_repository_owned_by_another_user_is_refused_as_git_does() {
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("SKIPPED: changing a repository's owner needs root");
        return;
    }
    let mut env = TestEnv::with_mission();
    let marker = env.root.join("hook-ran");
    let hook = env.repo.join(".git/hooks/post-checkout");
    std::fs::write(&hook, format!("#!/bin/sh\ntouch '{}'\n", marker.display())).unwrap();
    std::fs::set_permissions(&hook, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let repo = env.repo.clone();
    let chown = |uid: u32| {
        let out = std::process::Command::new("chown")
            .args(["-R", &uid.to_string(), repo.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(out.status.success());
    };
    chown(65534);
    let out = env.orc(&["grove", "create", "g1"]).code(code::ENVIRONMENT);
    assert!(out.stderr.contains("dubious ownership"), "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!(
            "git config --global --add safe.directory {}",
            env.repo.display()
        )),
        "{}",
        out.stderr
    );
    assert!(!marker.exists(), "the repository's hook ran");
    env.orc(&["wo", "list"]).code(code::ENVIRONMENT);
    // With git's exception, orc works there as git does.
    let global = env.root.join("gitconfig");
    std::fs::write(
        &global,
        format!("[safe]\n\tdirectory = {}\n", env.repo.display()),
    )
    .unwrap();
    env.set_env("GIT_CONFIG_GLOBAL", global.to_str().unwrap());
    env.orc(&["wo", "list"]).ok();
    chown(0);
}

// ---------------------------------------------------------------------
// The watcher's catching up

/// `orc watch` as a child process without tmux (it prints every event),
/// its output collected.
struct Watching {
    child: std::process::Child,
    out: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Watching {
    fn start(env: &TestEnv) -> Watching {
        use std::io::BufRead;
        let mut cmd = env.command(TestEnv::bin(), &env.repo);
        cmd.args(["watch", "--interval", "100ms"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null());
        let mut child = cmd.spawn().unwrap();
        let out: std::sync::Arc<std::sync::Mutex<String>> = Default::default();
        let (stdout, sink) = (child.stdout.take().unwrap(), out.clone());
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
            {
                let mut o = sink.lock().unwrap();
                o.push_str(&line);
                o.push('\n');
            }
        });
        let w = Watching { child, out };
        w.wait_for("orc watch: ledger");
        w
    }

    fn text(&self) -> String {
        self.out.lock().unwrap().clone()
    }

    #[track_caller]
    fn wait_for(&self, what: &str) {
        wait_until(what, WAIT, || {
            let t = self.text();
            if t.contains(what) { Ok(()) } else { Err(t) }
        });
    }

    fn stop(mut self) -> String {
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGTERM);
        }
        let _ = self.child.wait();
        std::thread::sleep(Duration::from_millis(100));
        self.text()
    }
}

/// `n` commits on the ledger that change nothing anyone is told about.
fn filler_commits(env: &TestEnv, n: usize) {
    let repo = orc::ledger::open_repo(&env.repo.join(".git")).unwrap();
    let ledger = orc::ledger::Ledger::new(repo, "orc", Duration::from_secs(10)).unwrap();
    let mut counters: serde_json::Map<String, Value> =
        serde_json::from_slice(&ledger.read("counters.json").unwrap().unwrap()).unwrap();
    let author = orc::ledger::Author {
        name: "filler".into(),
        email: "filler@orc".into(),
        time: 1_800_000_000,
    };
    for i in 0..n {
        counters.insert("FILLER".into(), Value::from(i + 1));
        let bytes = serde_json::to_vec_pretty(&counters).unwrap();
        ledger
            .commit(
                &[orc::ledger::Change::Put {
                    path: "counters.json".into(),
                    bytes,
                }],
                &author,
                &format!("filler {i}"),
            )
            .unwrap();
    }
}

/// Far behind: the watcher catches up on every commit, not only the last
/// thousand.
#[test]
fn the_watcher_catches_up_exactly_however_far_behind() {
    let env = TestEnv::with_mission();
    env.orc(&["grove", "create", "g1", "--no-hooks"]).ok();
    env.orc(&["wo", "create", "old work"]).ok();
    Watching::start(&env).stop();
    env.orc(&["assign", "WO-001", "--grove", "g1"]).ok();
    filler_commits(&env, 1200);
    let w = Watching::start(&env);
    w.wait_for("orc: WO-001 assigned to you");
    w.stop();
}

/// A ledger moved back (`git branch -f orc orc~3`) is noticed and not
/// replayed; what comes after is notified as usual.
#[test]
fn a_rewound_ledger_is_not_replayed() {
    let env = TestEnv::with_mission();
    env.orc(&["grove", "create", "g1", "--no-hooks"]).ok();
    env.orc(&["wo", "create", "a"]).ok();
    env.orc(&["wo", "create", "b"]).ok();
    env.orc(&["assign", "WO-001", "--grove", "g1"]).ok();
    let w = Watching::start(&env);
    // The first start nudges the active assignment once.
    w.wait_for("orc: WO-001 assigned to you");
    let before = w.stop();
    assert_eq!(
        before.matches("WO-001 assigned to you").count(),
        1,
        "{before}"
    );
    env.git(&["branch", "-f", "orc", "orc~3"]).ok();
    let w = Watching::start(&env);
    w.wait_for("the ledger was moved back");
    // The working copies hold what the discarded commits had: they get
    // the ledger's version back instead of being committed again.
    w.wait_for("held a version from discarded ledger history");
    std::thread::sleep(Duration::from_millis(500));
    // After the rewind, new commits are notified as usual.
    env.orc(&["wo", "create", "c"]).ok();
    env.orc(&["assign", "WO-001", "--grove", "g1"]).ok();
    w.wait_for("orc: WO-001 assigned to you");
    let after = w.stop();
    assert_eq!(
        after.matches("WO-001 assigned to you").count(),
        1,
        "replayed:\n{after}"
    );
    assert!(
        !after.contains("applied a direct edit"),
        "re-committed:\n{after}"
    );
    let ws = env.workspace("MISSION-001");
    assert!(
        !ws.join(".orc/work-orders/WO-002.json").exists(),
        "WO-002 was created after the commit the ledger went back to"
    );
}

// ---------------------------------------------------------------------
// Lost working copies and ways out

/// A busy grove whose `.orc/` is gone (`git clean -fdx` in it): its work
/// can be taken back, the grove removed, or its `.orc/` restored from the
/// ledger — and doctor names the fix.
#[test]
fn a_busy_grove_whose_orc_dir_is_gone_has_ways_out() {
    let env = TestEnv::with_mission();
    env.orc(&["grove", "create", "g1", "--no-hooks"]).ok();
    env.orc(&["wo", "create", "work"]).ok();
    env.orc(&["assign", "WO-001", "--grove", "g1"]).ok();
    let g1 = grove_path(&env, "g1");
    env.git_in(&g1, &["clean", "-q", "-fdx"]).ok();
    assert!(!g1.join(".orc").exists());
    let doctor = env
        .orc(&["doctor", "--json"])
        .code(code::ENVIRONMENT)
        .json();
    let fixes: Vec<String> = doctor["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["ok"] == false)
        .map(|c| c["fix"].as_str().unwrap_or("").to_string())
        .collect();
    assert!(
        fixes.iter().any(|f| f.contains("orc restore GROVE-001")),
        "{fixes:?}"
    );
    // Restore brings the files back from the ledger.
    env.orc(&["restore", "g1"]).ok();
    let a: Value =
        serde_json::from_slice(&std::fs::read(g1.join(".orc/assigned-work.json")).unwrap())
            .unwrap();
    assert_eq!(a["work_order"], "WO-001");
    env.orc_in(&g1, &["work", "start"]).ok();
    // Gone again: the work can be taken back and the grove removed.
    env.git_in(&g1, &["clean", "-q", "-fdx"]).ok();
    env.orc(&["unassign", "g1"]).ok();
    assert_eq!(
        env.orc(&["wo", "show", "WO-001", "--json"]).ok().json()["status"],
        "ready"
    );
    let on_ledger: Value =
        serde_json::from_str(&env.ledger_file("groves/GROVE-001/assigned-work.json")).unwrap();
    assert_eq!(on_ledger["status"], "released");
    env.orc(&["grove", "remove", "g1"]).ok();
}

/// The worktree deleted by hand and pruned: `orc restore` adds it again
/// from the grove's branch; the work order's history is intact.
#[test]
fn a_deleted_worktree_is_restored_from_its_branch() {
    let env = TestEnv::with_mission();
    env.orc(&["grove", "create", "g1", "--no-hooks"]).ok();
    env.orc(&["wo", "create", "work"]).ok();
    env.orc(&["assign", "WO-001", "--grove", "g1"]).ok();
    let g1 = grove_path(&env, "g1");
    std::fs::write(g1.join("file.txt"), "work\n").unwrap();
    env.git_in(&g1, &["add", "file.txt"]).ok();
    env.git_in(&g1, &["commit", "-q", "-m", "work"]).ok();
    std::fs::remove_dir_all(&g1).unwrap();
    env.git(&["worktree", "prune"]).ok();
    let out = env
        .orc(&["assign", "WO-001", "--grove", "g1"])
        .code(code::ENVIRONMENT);
    assert!(
        out.stderr.contains("orc restore GROVE-001"),
        "{}",
        out.stderr
    );
    let restored = env.orc(&["restore", "GROVE-001", "--json"]).ok().json();
    assert_eq!(restored["worktree_added"], true);
    assert_eq!(
        std::fs::read_to_string(g1.join("file.txt")).unwrap(),
        "work\n"
    );
    env.orc_in(&g1, &["work", "done"]).ok();
    let doctor = env.orc(&["doctor", "--json"]).json();
    let grove_ok = doctor["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["check"] == "grove" || c["check"] == "config")
        .all(|c| c["ok"] == true);
    assert!(grove_ok, "{doctor:#}");
}

/// A mission workspace deleted by hand comes back, work orders and all.
#[test]
fn a_deleted_mission_workspace_is_restored() {
    let env = TestEnv::with_mission();
    env.orc(&["wo", "create", "a"]).ok();
    env.orc(&["wo", "create", "b", "--parent", "WO-001"]).ok();
    let ws = env.workspace("MISSION-001");
    std::fs::remove_dir_all(&ws).unwrap();
    let out = env.orc(&["wo", "list"]).code(code::ENVIRONMENT);
    assert!(
        out.stderr.contains("orc restore MISSION-001"),
        "{}",
        out.stderr
    );
    env.orc(&["restore", "MISSION-001"]).ok();
    let list = env.orc(&["wo", "list", "--json"]).ok().json();
    assert_eq!(list["work_orders"].as_array().unwrap().len(), 2);
    assert_eq!(env.orc_in(&ws, &["context", "role"]).ok().line(), "deputy");
    // A file holding an edit not yet applied is left, unless --force.
    let f = ws.join(".orc/work-orders/WO-001.json");
    let text = std::fs::read_to_string(&f).unwrap();
    std::fs::write(&f, text.replace("\"medium\"", "\"high\"")).unwrap();
    let out = env.orc(&["restore", "MISSION-001", "--json"]).ok().json();
    assert_eq!(out["left"], serde_json::json!(["work-orders/WO-001.json"]));
    let out = env
        .orc(&["restore", "MISSION-001", "--force", "--json"])
        .ok()
        .json();
    assert_eq!(
        out["written"],
        serde_json::json!(["work-orders/WO-001.json"])
    );
    let kept = out["kept"][0].as_str().unwrap();
    assert!(std::fs::read_to_string(kept).unwrap().contains("\"high\""));
}

/// A failing `post-checkout` hook makes `git worktree add` fail after it
/// made the worktree and the branch: nothing is left, and a retry works.
#[test]
fn a_grove_whose_checkout_hook_fails_leaves_nothing() {
    let env = TestEnv::with_mission();
    let hook = env.repo.join(".git/hooks/post-checkout");
    std::fs::write(&hook, "#!/bin/sh\necho 'hook says no' >&2\nexit 1\n").unwrap();
    std::fs::set_permissions(&hook, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let tip = env.tip();
    let out = env.orc(&["grove", "create", "g1", "--no-hooks"]);
    assert_ne!(out.code, 0, "{out:#?}");
    assert_eq!(env.tip(), tip);
    env.git(&["rev-parse", "--verify", "-q", "refs/heads/g1"])
        .code(1);
    let list = env.git(&["worktree", "list"]).ok().stdout;
    assert_eq!(list.lines().count(), 1, "{list}");
    std::fs::remove_file(&hook).unwrap();
    env.orc(&["grove", "create", "g1", "--no-hooks"]).ok();
}

/// A grove whose directory is gone: a deputy's change of a work order of
/// its assignment still updates the ledger's copy of the assignment (a
/// command that exits 0 has its whole effect on the ledger).
#[test]
fn a_change_to_work_of_a_missing_grove_updates_the_ledgers_assignment() {
    let env = TestEnv::with_mission();
    env.orc(&["grove", "create", "g1", "--no-hooks"]).ok();
    env.orc(&["wo", "create", "work"]).ok();
    env.orc(&["assign", "WO-001", "--grove", "g1"]).ok();
    let g1 = grove_path(&env, "g1");
    std::fs::rename(&g1, env.root.join("moved")).unwrap();
    env.orc(&["wo", "update", "WO-001", "--priority", "critical"])
        .ok();
    let on_ledger: Value =
        serde_json::from_str(&env.ledger_file("groves/GROVE-001/assigned-work.json")).unwrap();
    assert_eq!(
        on_ledger["work_orders"][0]["priority"], "critical",
        "{on_ledger:#}"
    );
    env.orc(&["wo", "cancel", "WO-001"]).ok();
    let on_ledger: Value =
        serde_json::from_str(&env.ledger_file("groves/GROVE-001/assigned-work.json")).unwrap();
    assert_eq!(on_ledger["status"], "complete", "{on_ledger:#}");
}

// ---------------------------------------------------------------------
// Lost updates and misleading answers

/// `orc work block --reason NEW` on blocked work records the new reason;
/// a report that changes only the summary says so in its subject.
#[test]
fn a_new_block_reason_and_a_summary_alone_are_recorded() {
    let env = TestEnv::with_mission();
    env.orc(&["grove", "create", "g1", "--no-hooks"]).ok();
    env.orc(&["wo", "create", "work"]).ok();
    env.orc(&["assign", "WO-001", "--grove", "g1"]).ok();
    let g1 = grove_path(&env, "g1");
    env.orc_in(&g1, &["work", "block", "--reason", "first"])
        .ok();
    let tip = env.tip();
    env.orc_in(&g1, &["work", "block", "--reason", "second"])
        .ok();
    assert_ne!(env.tip(), tip, "the new reason was not recorded");
    let wo = env.orc(&["wo", "show", "WO-001", "--json"]).ok().json();
    assert_eq!(wo["blocked_reason"], "second");
    let notes: Vec<&str> = wo["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["text"].as_str().unwrap())
        .collect();
    assert_eq!(notes, ["blocked: first", "blocked: second"]);
    // The same reason again changes nothing.
    let tip = env.tip();
    env.orc_in(&g1, &["work", "block", "--reason", "second"])
        .ok();
    assert_eq!(env.tip(), tip);
    env.orc(&["wo", "cancel", "WO-001"]).ok();
    // Done work reported done again with a better summary: the summary is
    // recorded, and the commit says what changed.
    env.orc(&["wo", "create", "parent"]).ok();
    env.orc(&["wo", "create", "a", "--parent", "WO-002"]).ok();
    env.orc(&["wo", "create", "b", "--parent", "WO-002"]).ok();
    env.orc(&["assign", "WO-002", "--grove", "g1"]).ok();
    env.orc_in(&g1, &["work", "done", "WO-003", "--summary", "did it"])
        .ok();
    env.orc_in(
        &g1,
        &["work", "done", "WO-003", "--summary", "did it better"],
    )
    .ok();
    assert_eq!(
        env.orc(&["wo", "show", "WO-003", "--json"]).ok().json()["summary"],
        "did it better"
    );
    let subject = env.git(&["log", "-1", "--format=%s", "orc"]).ok().line();
    assert_eq!(subject, "WO-003: summary");
}

/// Errors name the real cause, with the right exit code.
#[test]
fn a_deleted_ledger_branch_is_reported_as_no_ledger() {
    let env = TestEnv::with_mission();
    env.orc(&["wo", "create", "w"]).ok();
    env.git(&["branch", "-D", "-q", "orc"]).ok();
    for args in [
        vec!["wo", "show", "WO-001"],
        vec!["wo", "list"],
        vec!["grove", "list"],
        vec!["mission", "show", "MISSION-001"],
    ] {
        let out = env.orc(&args).code(code::ENVIRONMENT);
        assert!(
            out.stderr.contains("no orc ledger"),
            "{args:?}: {}",
            out.stderr
        );
        assert!(out.stderr.contains("orc init"), "{}", out.stderr);
    }
}

#[test]
fn a_file_in_place_of_the_work_orders_directory_is_named() {
    let env = TestEnv::with_mission();
    env.orc(&["wo", "create", "w"]).ok();
    let dir = env.workspace("MISSION-001").join(".orc/work-orders");
    std::fs::rename(&dir, env.root.join("aside")).unwrap();
    std::fs::write(&dir, "junk").unwrap();
    for args in [
        vec!["wo", "show", "WO-001"],
        vec!["wo", "list"],
        vec!["wo", "create", "x"],
    ] {
        let out = env.orc(&args).code(code::INVALID);
        assert!(
            out.stderr
                .contains("is a file where the work-orders directory should be"),
            "{args:?}: {}",
            out.stderr
        );
    }
    assert_eq!(std::fs::read_to_string(&dir).unwrap(), "junk", "kept");
}

#[test]
fn repository_formats_orc_cannot_handle_are_named() {
    let env = TestEnv::bare();
    for (flag, expect) in [
        ("--object-format=sha256", "SHA-256"),
        ("--ref-format=reftable", "reftable"),
    ] {
        let dir = env
            .root
            .join(flag.trim_start_matches("--").replace('=', "-"));
        std::fs::create_dir_all(&dir).unwrap();
        let init = env.git_in(&dir, &["init", "-q", flag]);
        if init.code != 0 {
            eprintln!(
                "SKIPPED {flag}: this git cannot make such a repository: {}",
                init.stderr
            );
            continue;
        }
        env.git_in(&dir, &["commit", "-q", "--allow-empty", "-m", "x"])
            .ok();
        for args in [vec!["init"], vec!["wo", "list"]] {
            let out = env.orc_in(&dir, &args).code(code::ENVIRONMENT);
            assert!(
                out.stderr.contains("orc cannot work with the repository")
                    && out.stderr.contains(expect),
                "{flag} {args:?}: {}",
                out.stderr
            );
        }
        env.git_in(&dir, &["show-ref"]).ok();
    }
}

/// A full disk on the repository's side is said to be one (exit 6), and
/// nothing is half done.
#[test]
fn a_full_disk_is_reported_as_such() {
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("SKIPPED: mounting a small file system needs root");
        return;
    }
    let mut env = TestEnv::bare();
    let small = env.root.join("small");
    std::fs::create_dir_all(&small).unwrap();
    let mount = std::process::Command::new("mount")
        .args([
            "-t",
            "tmpfs",
            "-o",
            "size=600k",
            "tmpfs",
            small.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    if !mount.status.success() {
        eprintln!(
            "SKIPPED: cannot mount a tmpfs: {}",
            String::from_utf8_lossy(&mount.stderr)
        );
        return;
    }
    struct Unmount(PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = std::process::Command::new("umount")
                .arg("-l")
                .arg(&self.0)
                .status();
        }
    }
    let _unmount = Unmount(small.clone());
    let repo = small.join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    env.repo = repo.clone();
    env.git(&["init", "-q", "-b", "main"]).ok();
    env.git(&["commit", "-q", "--allow-empty", "-m", "x"]).ok();
    env.orc(&["init"]).ok();
    env.orc(&["mission", "create", "m"]).ok();
    let tip = env.tip();
    let filler = small.join("filler");
    let _ = std::process::Command::new("dd")
        .args([
            "if=/dev/zero",
            &format!("of={}", filler.display()),
            "bs=1k",
            "count=4000",
        ])
        .output();
    let out = env.orc(&["wo", "create", "x"]).code(code::ENVIRONMENT);
    assert!(
        out.stderr.contains("No space left on device"),
        "{}",
        out.stderr
    );
    assert_eq!(env.tip(), tip);
    std::fs::remove_file(&filler).unwrap();
    env.orc(&["wo", "create", "x"]).ok();
    let list = env.orc(&["wo", "list", "--json"]).ok().json();
    assert_eq!(list["work_orders"].as_array().unwrap().len(), 1);
}

#[test]
fn argument_errors_follow_json() {
    let env = TestEnv::with_mission();
    let out = env
        .orc(&["wo", "create", "--json", "--bogus"])
        .code(code::USAGE);
    let e = out.json();
    assert_eq!(e["error"]["kind"], "usage");
    assert!(
        e["error"]["message"].as_str().unwrap().contains("--bogus"),
        "{e}"
    );
    let out = env.orc(&["--json", "wo", "show"]).code(code::USAGE);
    assert!(
        out.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("<ID>")
    );
    // Without --json, as before: text on stderr.
    let out = env.orc(&["wo", "show"]).code(code::USAGE);
    assert!(out.stdout.is_empty() && out.stderr.contains("<ID>"));
}

#[test]
fn invalid_environment_values_are_errors_not_defaults() {
    let mut env = TestEnv::with_mission();
    for (var, value, expect) in [
        (
            "ORC_LOCK_TIMEOUT_MS",
            "abc",
            "ORC_LOCK_TIMEOUT_MS: \"abc\" is not a number",
        ),
        ("ORC_TMUX_SOCKET", "../other", "is not a tmux socket name"),
        (
            "ORC_HOME",
            "relative/dir",
            "ORC_HOME: \"relative/dir\" is not an absolute path",
        ),
        ("ORC_LEDGER", "bad..name", "is not a usable branch name"),
        ("ORC_NOW", "yesterday", "ORC_NOW"),
        ("ORC_ACTOR", "a\u{7}b", "ORC_ACTOR"),
    ] {
        let mut cmd = env.command(TestEnv::bin(), &env.repo);
        cmd.env(var, value).args(["wo", "list"]);
        let out = common::run(cmd, format!("{var}={value} orc wo list"));
        assert_eq!(out.code, code::USAGE, "{var}: {out:#?}");
        assert!(out.stderr.contains(expect), "{var}: {}", out.stderr);
    }
    let out = env.orc(&["deploy", "--socket", "a/b"]).code(code::USAGE);
    assert!(out.stderr.contains("--socket"), "{}", out.stderr);
    env.set_env("ORC_LOCK_TIMEOUT_MS", "500");
    env.orc(&["wo", "list"]).ok();
}

/// `git repack` and `git prune-packed` run again and again beside orc's
/// commits (prune-packed removes the object fan-out directories it
/// empties, perhaps the one orc is moving an object into): every commit
/// lands, and the repository stays sound.
#[test]
fn commits_survive_concurrent_repack_and_prune_packed() {
    let env = TestEnv::with_mission();
    env.orc(&["wo", "create", "w"]).ok();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let packer = {
        let (stop, repo) = (stop.clone(), env.repo.clone());
        let git = move |args: &[&str]| {
            let _ = std::process::Command::new("git")
                .args(args)
                .current_dir(&repo)
                .env("GIT_CONFIG_GLOBAL", "/dev/null")
                .output();
        };
        std::thread::spawn(move || {
            let mut rounds = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                git(&["repack", "-a", "-d", "-q"]);
                git(&["prune-packed"]);
                rounds += 1;
            }
            rounds
        })
    };
    for i in 0..120 {
        env.orc(&["wo", "note", "WO-001", &format!("n{i}")]).ok();
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let rounds = packer.join().unwrap();
    assert!(rounds > 3, "the packer ran {rounds} times");
    let wo = env.orc(&["wo", "show", "WO-001", "--json"]).ok().json();
    assert_eq!(wo["notes"].as_array().unwrap().len(), 120);
    let fsck = env.git(&["fsck", "--strict", "--no-dangling"]);
    assert_eq!(fsck.code, 0, "{}", fsck.stderr);
}

/// An agent saving `assigned-work.json` without the lock, every 1–2 ms,
/// each save building on what it just read: none of its valid edits is
/// refused (orc must not take its own rewrite of the file, which the agent
/// built on, for an edit of the fields it maintains).
#[test]
fn a_burst_of_unlocked_saves_loses_no_valid_edit() {
    let mut env = TestEnv::with_mission();
    // The real clock: orc keeps `updated_at` current while the agent saves.
    env.set_env("ORC_NOW", "");
    env.orc(&["grove", "create", "g1", "--no-hooks"]).ok();
    env.orc(&["wo", "create", "work"]).ok();
    env.orc(&["assign", "WO-001", "--grove", "g1"]).ok();
    let g1 = grove_path(&env, "g1");
    let w = Watching::start(&env);
    let file = g1.join(".orc/assigned-work.json");
    const SAVES: usize = 60;
    for i in 0..SAVES {
        let mut a: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
        a["work_orders"][0]["notes"]
            .as_array_mut()
            .unwrap()
            .push(serde_json::json!({"text": format!("save {i}")}));
        // The agent takes a moment between reading and saving.
        std::thread::sleep(Duration::from_micros(1000 + (i as u64 % 2) * 1000));
        let tmp = g1.join(".orc/.assigned-work.json.agent");
        std::fs::write(&tmp, serde_json::to_vec_pretty(&a).unwrap()).unwrap();
        std::fs::rename(&tmp, &file).unwrap();
    }
    let settled = std::time::Instant::now() + WAIT;
    while std::time::Instant::now() < settled {
        let on_ledger: Value =
            serde_json::from_str(&env.ledger_file("groves/GROVE-001/assigned-work.json")).unwrap();
        if on_ledger["work_orders"][0]["notes"]
            .as_array()
            .unwrap()
            .len()
            >= SAVES
        {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = w.stop();
    let rejected: Vec<String> = std::fs::read_dir(g1.join(".orc/rejected"))
        .map(|d| {
            d.flatten()
                .filter(|e| e.path().extension().is_some_and(|x| x == "reason"))
                .map(|e| std::fs::read_to_string(e.path()).unwrap())
                .collect()
        })
        .unwrap_or_default();
    assert!(
        rejected.is_empty(),
        "valid saves were refused: {rejected:?}\n{out}"
    );
    let wo = env.orc(&["wo", "show", "WO-001", "--json"]).ok().json();
    let texts = common::note_texts(&wo["notes"]);
    for i in 0..SAVES {
        assert!(
            texts.contains(&format!("save {i}")),
            "save {i} is missing: {texts:?}"
        );
    }
}

// ---------------------------------------------------------------------
// More of git's states

/// A grove locked with `git worktree lock`: `grove remove` says so (git
/// refuses to remove it) and records nothing; `--force` removes it.
#[test]
fn a_locked_worktree_is_not_removed_without_force() {
    let env = TestEnv::with_mission();
    env.orc(&["grove", "create", "g1", "--no-hooks"]).ok();
    let g1 = grove_path(&env, "g1");
    env.git(&[
        "worktree",
        "lock",
        "--reason",
        "on a usb stick",
        g1.to_str().unwrap(),
    ])
    .ok();
    let out = env.orc(&["grove", "remove", "g1"]);
    assert_ne!(out.code, 0, "{out:#?}");
    assert!(out.stderr.contains("locked"), "{}", out.stderr);
    assert_eq!(
        env.orc(&["grove", "show", "g1", "--json"]).ok().json()["grove"]["status"],
        "active"
    );
    assert!(g1.exists());
    env.orc(&["grove", "remove", "g1", "--force"]).ok();
    assert!(!g1.exists());
}

/// A grove moved with `git worktree move`: doctor names it and the way
/// back; orc does not work on the old path.
#[test]
fn a_moved_worktree_is_named_by_doctor() {
    let env = TestEnv::with_mission();
    env.orc(&["grove", "create", "g1", "--no-hooks"]).ok();
    let g1 = grove_path(&env, "g1");
    let moved = env.root.join("moved-g1");
    env.git(&[
        "worktree",
        "move",
        g1.to_str().unwrap(),
        moved.to_str().unwrap(),
    ])
    .ok();
    let report = env
        .orc(&["doctor", "--json"])
        .code(code::ENVIRONMENT)
        .json();
    let grove = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "grove" && c["ok"] == false)
        .cloned()
        .unwrap_or_else(|| panic!("{report:#}"));
    assert!(
        grove["message"]
            .as_str()
            .unwrap()
            .contains("does not exist"),
        "{grove}"
    );
    assert!(
        grove["fix"]
            .as_str()
            .unwrap()
            .contains("orc restore GROVE-001"),
        "{grove}"
    );
    // Restoring refuses to check the branch out twice: git says where it is.
    let out = env.orc(&["restore", "g1"]);
    assert_ne!(out.code, 0);
    assert!(
        out.stderr.contains("moved-g1") || out.stderr.contains("already"),
        "{}",
        out.stderr
    );
    // Moving it back is the way.
    env.git(&[
        "worktree",
        "move",
        moved.to_str().unwrap(),
        g1.to_str().unwrap(),
    ])
    .ok();
    env.orc(&["grove", "show", "g1"]).ok();
}

/// `GIT_DIR` and `GIT_INDEX_FILE` left in the environment by a hook or a
/// script point at another repository: orc acts on the grove's own
/// repository (its config names it), and git's worktree commands too.
#[test]
fn git_environment_variables_do_not_redirect_orc() {
    let env = TestEnv::with_mission();
    env.orc(&["grove", "create", "g1", "--no-hooks"]).ok();
    env.orc(&["wo", "create", "w"]).ok();
    env.orc(&["assign", "WO-001", "--grove", "g1"]).ok();
    let other = env.root.join("other");
    std::fs::create_dir_all(&other).unwrap();
    env.git_in(&other, &["init", "-q"]).ok();
    let g1 = grove_path(&env, "g1");
    let mut cmd = env.command(TestEnv::bin(), &g1);
    cmd.env("GIT_DIR", other.join(".git"))
        .env("GIT_INDEX_FILE", other.join("index"))
        .args(["work", "start"]);
    common::run(cmd, "orc work start with GIT_DIR elsewhere".into()).ok();
    assert_eq!(
        env.orc(&["wo", "show", "WO-001", "--json"]).ok().json()["status"],
        "in_progress"
    );
    let mut cmd = env.command(TestEnv::bin(), &env.repo);
    cmd.env("GIT_INDEX_FILE", other.join("index"))
        .args(["grove", "create", "g2", "--no-hooks"]);
    common::run(cmd, "orc grove create with GIT_INDEX_FILE elsewhere".into()).ok();
    env.git_in(&grove_path(&env, "g2"), &["status", "--porcelain"])
        .ok();
    assert!(!other.join(".git/refs/heads/orc").exists());
}

/// Config that changes how git commits (signing with a program that does
/// not exist) does not stop orc, which writes its commits itself; git's
/// `fsck` still finds them sound.
#[test]
fn commit_signing_config_does_not_break_ledger_commits() {
    let env = TestEnv::with_mission();
    env.git(&["config", "commit.gpgsign", "true"]).ok();
    env.git(&["config", "gpg.program", "/nonexistent/gpg"]).ok();
    env.orc(&["wo", "create", "signed?"]).ok();
    env.orc(&["grove", "create", "g1", "--no-hooks"]).ok();
    let fsck = env.git(&["fsck", "--strict", "--no-dangling"]);
    assert_eq!(fsck.code, 0, "{}", fsck.stderr);
}

/// A bare repository: orc keeps its ledger there, groves are worktrees of
/// it.
#[test]
fn a_bare_repository_works() {
    let env = TestEnv::new();
    let bare = env.root.join("bare.git");
    env.git(&[
        "clone",
        "-q",
        "--bare",
        env.repo.to_str().unwrap(),
        bare.to_str().unwrap(),
    ])
    .ok();
    env.orc_in(&bare, &["init"]).ok();
    env.orc_in(&bare, &["mission", "create", "m"]).ok();
    env.orc_in(
        &bare,
        &["grove", "create", "g1", "--base", "main", "--no-hooks"],
    )
    .ok();
    env.orc_in(&bare, &["wo", "create", "w"]).ok();
    env.orc_in(&bare, &["assign", "WO-001", "--grove", "g1"])
        .ok();
    let g = PathBuf::from(
        env.orc_in(&bare, &["grove", "show", "g1", "--json"])
            .ok()
            .json()["grove"]["path"]
            .as_str()
            .unwrap(),
    );
    std::fs::write(g.join("work.txt"), "work\n").unwrap();
    env.git_in(&g, &["add", "work.txt"]).ok();
    env.git_in(&g, &["commit", "-q", "-m", "work"]).ok();
    env.orc_in(&g, &["work", "done"]).ok();
    // The work lands, and the mission lands on the branch the bare
    // repository's HEAD names (no checkout: moved by compare-and-swap).
    env.orc_in(&bare, &["merge"]).ok();
    let out = env
        .orc_in(&bare, &["mission", "land", "--json"])
        .ok()
        .json();
    assert_eq!(out["how"], "fast-forward", "{out:#}");
    let main = env.git_in(&bare, &["rev-parse", "main"]).ok().line();
    let integration = env
        .git_in(&bare, &["rev-parse", "orc-mission/MISSION-001"])
        .ok()
        .line();
    assert_eq!(main, integration);
    let files = env
        .git_in(&bare, &["ls-tree", "--name-only", "main"])
        .ok()
        .stdout;
    assert!(files.contains("work.txt"), "{files}");
    let fsck = env.git_in(&bare, &["fsck", "--strict", "--no-dangling"]);
    assert_eq!(fsck.code, 0, "{}", fsck.stderr);
}

/// Names git forbids as branches are refused before anything is made.
#[test]
fn grove_names_git_forbids_are_refused_first() {
    let env = TestEnv::with_mission();
    let tip = env.tip();
    for name in ["HEAD", "-rf", "a.lock", "x@{1}", "@"] {
        let out = env.orc(&["grove", "create", "--no-hooks", "--", name]);
        assert_eq!(out.code, code::USAGE, "{name}: {out:#?}");
    }
    assert_eq!(env.tip(), tip);
    assert_eq!(
        env.git(&["worktree", "list"]).ok().stdout.lines().count(),
        1
    );
}

/// A clock before 1970 would make commit dates git's `fsck` rejects
/// (`badDate`): refused. (Year 9999 is fine for git.)
#[test]
fn commit_dates_git_rejects_are_refused() {
    let env = TestEnv::with_mission();
    for now in ["1969-12-31T23:59:59Z", "0001-01-01T00:00:00Z"] {
        let mut cmd = env.command(TestEnv::bin(), &env.repo);
        cmd.env("ORC_NOW", now).args(["wo", "create", "x"]);
        let out = common::run(cmd, format!("ORC_NOW={now} orc wo create"));
        assert_eq!(out.code, code::USAGE, "{now}: {out:#?}");
    }
    let fsck = env.git(&["fsck", "--strict", "--no-dangling"]);
    assert_eq!(fsck.code, 0, "{}", fsck.stderr);
}

// ---------------------------------------------------------------------
// The environment

#[test]
fn a_home_that_is_missing_or_unusable_is_named() {
    let env = TestEnv::with_mission();
    let mut cmd = env.command(TestEnv::bin(), &env.repo);
    cmd.env_remove("HOME").args(["wo", "list"]);
    let out = common::run(cmd, "orc without HOME".into());
    assert_eq!(out.code, code::ENVIRONMENT, "{out:#?}");
    assert!(out.stderr.contains("HOME"), "{}", out.stderr);
    // orc.toml is a directory.
    std::fs::create_dir_all(env.home.join(".orc/orc.toml")).unwrap();
    let out = env.orc(&["wo", "list"]);
    assert_ne!(out.code, 0);
    assert!(
        out.stderr.contains("orc.toml") && out.stderr.contains("directory"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_read_only_orc_home_is_named_when_orc_must_write_there() {
    if unsafe { libc::geteuid() } == 0 {
        // root writes anywhere; make the directory a file's child instead.
        let mut env = TestEnv::with_mission();
        let blocker = env.root.join("not-a-dir");
        std::fs::write(&blocker, "").unwrap();
        env.set_env("ORC_HOME", blocker.join("orc").to_str().unwrap());
        let out = env.orc(&["hooks", "trust"]);
        assert_ne!(out.code, 0, "{out:#?}");
        assert!(out.stderr.contains("not-a-dir"), "{}", out.stderr);
        return;
    }
    let mut env = TestEnv::with_mission();
    let home = env.root.join("ro-home");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::set_permissions(&home, std::os::unix::fs::PermissionsExt::from_mode(0o555)).unwrap();
    env.set_env("ORC_HOME", home.to_str().unwrap());
    let out = env.orc(&["hooks", "trust"]);
    assert_eq!(out.code, code::ENVIRONMENT, "{out:#?}");
}

/// The tmux server killed under a running watcher: it carries on (and
/// says there is no pane), it does not crash.
#[test]
fn the_watcher_survives_its_tmux_server_going_away() {
    let mut env = TestEnv::with_mission();
    let tmux = with_tmux(&mut env);
    env.orc(&["grove", "create", "g1", "--no-hooks"]).ok();
    env.orc(&["wo", "create", "w"]).ok();
    env.orc(&["deploy"]).ok();
    wait_until("the watcher pane", WAIT, || {
        tmux.pane("watch", None)
            .map(|_| ())
            .ok_or_else(|| "no pane".to_string())
    });
    // A second watcher outside tmux, so its fate can be observed.
    env.orc(&["teardown"]).ok();
    let mut cmd = env.command(TestEnv::bin(), &env.repo);
    cmd.args(["watch", "--socket", &tmux.socket, "--interval", "100ms"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null());
    let mut child = cmd.spawn().unwrap();
    std::thread::sleep(Duration::from_millis(500));
    tmux.run(&["kill-server"]);
    env.orc(&["assign", "WO-001", "--grove", "g1"]).ok();
    std::thread::sleep(Duration::from_millis(800));
    assert!(
        child.try_wait().unwrap().is_none(),
        "the watcher died with tmux"
    );
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("WO-001 assigned to you"), "{text}");
}

/// Paths with spaces and quotes reach panes as they are.
#[test]
fn grove_paths_with_spaces_and_quotes_deploy() {
    let mut env = TestEnv::with_mission();
    let tmux = with_tmux(&mut env);
    let odd = env.root.join("it's a \"grove\"");
    env.orc(&[
        "grove",
        "create",
        "g1",
        "--path",
        odd.to_str().unwrap(),
        "--no-hooks",
    ])
    .ok();
    env.orc(&["deploy"]).ok();
    wait_until("the grove's panes in their directory", WAIT, || {
        let panes = tmux.panes();
        let n = panes.iter().filter(|p| Path::new(&p[5]) == odd).count();
        if n == 3 {
            Ok(())
        } else {
            Err(format!("{panes:?}"))
        }
    });
}
