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
