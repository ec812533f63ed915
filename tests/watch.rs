//! The watcher and the tmux session, in a real tmux server on a private
//! socket: deploy layout, idempotent redeploy, teardown; notifications
//! reaching the right pane and no other; direct edits committed or
//! refused; catching up after a restart; one watcher per ledger; dispatch;
//! a dead agent; and hostile text never typed into a pane.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::Duration;

use common::{TestEnv, TmuxServer, code, fixtures, wait_until};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(15);

struct World {
    env: TestEnv,
    tmux: TmuxServer,
    logs: PathBuf,
}

impl World {
    /// A mission with two groves (echo, tests) and work orders, orc.toml
    /// pointing the panes at scripted stand-ins, and a private tmux socket.
    fn new() -> World {
        let mut env = TestEnv::with_mission();
        let tmux = TmuxServer::new();
        let logs = env.root.join("logs");
        std::fs::create_dir_all(&logs).unwrap();
        env.set_env("ORC_AGENT_LOG_DIR", logs.to_str().unwrap());
        env.set_env("ORC_TMUX_SOCKET", &tmux.socket);
        env.set_env("ORC_LOG", "warn");
        std::fs::create_dir_all(env.home.join(".orc")).unwrap();
        let agent = fixtures().join("agents/log-agent.sh");
        std::fs::write(
            env.home.join(".orc/orc.toml"),
            format!(
                "agent = [\"sh\", {agent:?}]\neditor = [\"cat\"]\nshell = [\"cat\"]\n",
                agent = agent.display().to_string()
            ),
        )
        .unwrap();
        env.orc(&["wo", "create", "Echo endpoint", "--priority", "high"])
            .ok();
        env.orc(&["wo", "create", "Implement", "--parent", "WO-001"])
            .ok();
        env.orc(&[
            "wo",
            "create",
            "Test",
            "--parent",
            "WO-001",
            "--depends-on",
            "WO-002",
        ])
        .ok();
        env.orc(&["grove", "create", "echo"]).ok();
        env.orc(&["grove", "create", "tests"]).ok();
        World { env, tmux, logs }
    }

    fn grove(&self, g: &str) -> PathBuf {
        PathBuf::from(
            self.env.orc(&["grove", "show", g, "--json"]).ok().json()["grove"]["path"]
                .as_str()
                .unwrap(),
        )
    }

    fn deploy(&self, extra: &[&str]) -> common::Output {
        let mut args = vec!["deploy", "--interval", "100ms"];
        args.extend(extra);
        self.env.orc(&args).ok()
    }

    /// Lines typed into the agent pane of the directory named `name`.
    fn log(&self, name: &str) -> Vec<String> {
        std::fs::read_to_string(self.logs.join(format!("{name}.log")))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }

    #[track_caller]
    fn wait_log(&self, name: &str, line: &str) {
        wait_until(&format!("{line:?} in {name}'s pane"), WAIT, || {
            let log = self.log(name);
            if log.iter().any(|l| l == line) {
                Ok(())
            } else {
                Err(format!("{log:?}"))
            }
        });
    }

    /// A deployed session whose watcher runs and has told the IMP of
    /// echo that WO-001 is assigned to it.
    fn assigned() -> World {
        let w = World::new();
        w.deploy(&[]);
        w.wait_watcher();
        w.env.orc(&["assign", "WO-001", "--grove", "echo"]).ok();
        w.wait_log(
            "echo",
            "orc: WO-001 assigned to you; read .orc/assigned-work.json",
        );
        w
    }

    /// Waits until the watcher runs (its pane says so).
    fn wait_watcher(&self) {
        wait_until("the watcher to start", WAIT, || {
            let pane = self.tmux.pane("watch", None).ok_or("no watch pane")?;
            let text = self.tmux.capture(&pane);
            if text.contains("orc watch: ledger") {
                Ok(())
            } else {
                Err(text)
            }
        });
    }

    fn wo(&self, id: &str) -> Value {
        self.env.orc(&["wo", "show", id, "--json"]).ok().json()
    }

    /// Starts `orc watch` as a child process (outside tmux, notifying the
    /// private server).
    fn spawn_watcher(&self, extra: &[&str]) -> Child {
        let mut cmd = self
            .env
            .command(TestEnv::bin(), &self.env.workspace("MISSION-001"));
        cmd.args([
            "watch",
            "--socket",
            &self.tmux.socket,
            "--interval",
            "100ms",
        ])
        .args(extra);
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        cmd.spawn().unwrap()
    }
}

fn stop(child: Child) -> String {
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "the watcher stops cleanly on SIGTERM: {out:?}"
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn deploy_lays_out_the_session_redeploys_idempotently_and_tears_down() {
    let w = World::new();
    let out = w.deploy(&[]);
    assert!(
        out.stdout
            .contains("session orc-MISSION-001: added deputy, watch, GROVE-001 editor"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains(&format!(
        "attach with: tmux -L {} attach -t orc-MISSION-001",
        w.tmux.socket
    )));
    let ws = w.env.workspace("MISSION-001");
    let (echo, tests) = (w.grove("echo"), w.grove("tests"));
    // tmux learns a pane's directory from its process, once it has started.
    wait_until("every pane to report its directory", WAIT, || {
        let panes = w.tmux.panes();
        if panes.len() == 8 && panes.iter().all(|p| !p[5].is_empty()) {
            Ok(())
        } else {
            Err(format!("{panes:?}"))
        }
    });
    let panes = w.tmux.panes();
    assert_eq!(panes.len(), 8, "{panes:#?}");
    let find = |role: &str, grove: &str| {
        panes
            .iter()
            .find(|p| p[1] == role && p[2] == grove)
            .unwrap_or_else(|| panic!("no {role} {grove}: {panes:#?}"))
    };
    for p in &panes {
        assert_eq!(p[8], "orc-MISSION-001");
        assert_eq!(p[3], "MISSION-001");
    }
    let deputy = find("deputy", "");
    let watch = find("watch", "");
    assert_eq!(
        (deputy[9].as_str(), watch[9].as_str()),
        ("deputy", "deputy")
    );
    assert_eq!(PathBuf::from(&deputy[5]), ws);
    assert!(deputy[10].contains("log-agent.sh"), "{}", deputy[10]);
    assert!(watch[10].contains("watch MISSION-001"), "{}", watch[10]);
    for (grove, name, path) in [("GROVE-001", "echo", &echo), ("GROVE-002", "tests", &tests)] {
        let editor = find("editor", grove);
        let imp = find("imp", grove);
        let shell = find("shell", grove);
        for p in [editor, imp, shell] {
            assert_eq!(p[9], name, "window named after the grove");
            assert_eq!(PathBuf::from(&p[5]), *path);
        }
        assert!(imp[10].contains("log-agent.sh"));
        assert!(editor[10].contains("cat"));
        // Editor on the left, about 60%; agent and shell on the right.
        let (ew, iw): (u32, u32) = (editor[6].parse().unwrap(), imp[6].parse().unwrap());
        assert_eq!(editor[7], "0");
        assert!(imp[7].parse::<u32>().unwrap() > 0 && shell[7] == imp[7]);
        let share = ew as f64 / (ew + iw) as f64;
        assert!((0.55..0.65).contains(&share), "editor share {share}");
    }
    w.wait_watcher();
    // Again: nothing to add, nothing duplicated.
    let again = w.deploy(&[]);
    assert!(again.stdout.contains("nothing to add"), "{}", again.stdout);
    assert_eq!(w.tmux.panes().len(), 8);
    // A grove created since gets its window, and only that.
    w.env.orc(&["grove", "create", "docs"]).ok();
    let more = w.deploy(&[]);
    assert!(
        more.stdout
            .contains("added GROVE-003 editor, GROVE-003 imp, GROVE-003 shell"),
        "{}",
        more.stdout
    );
    assert_eq!(w.tmux.panes().len(), 11);
    // Teardown leaves no session.
    w.env.orc(&["teardown"]).ok();
    assert_eq!(
        w.tmux.run(&["has-session", "-t", "=orc-MISSION-001"]).code,
        1
    );
    assert!(w.env.orc(&["teardown"]).ok().stdout.contains("no session"));
}

#[test]
fn a_notification_reaches_the_right_pane_and_no_other() {
    let w = World::assigned();
    // The IMP reports; the deputy hears of it.
    let echo = w.grove("echo");
    w.env.orc_in(&echo, &["work", "start"]).ok();
    w.env.orc_in(&echo, &["work", "done"]).ok();
    w.wait_log("MISSION-001", "orc: GROVE-001 finished WO-002");
    w.env
        .orc_in(&echo, &["mail", "send", "--to", "deputy", "a question"])
        .ok();
    w.wait_log(
        "MISSION-001",
        "orc: new mail MSG-001; run orc mail read MSG-001",
    );
    // Nobody else was nudged: not the other grove, not editors or shells.
    assert_eq!(w.log("tests"), Vec::<String>::new());
    assert!(
        w.log("echo").iter().all(|l| !l.contains("finished")),
        "{:?}",
        w.log("echo")
    );
    assert!(
        w.log("MISSION-001")
            .iter()
            .all(|l| !l.contains("assigned to you"))
    );
    for p in w.tmux.panes() {
        if p[1] == "editor" || p[1] == "shell" {
            assert!(!w.tmux.capture(&p[0]).contains("orc:"), "{} {}", p[1], p[2]);
        }
    }
    // Every event is a line in the watcher's pane, and the agent pane's
    // @orc_status is current.
    let watch = w.tmux.pane("watch", None).unwrap();
    wait_until("the watcher's pane to log the mail", WAIT, || {
        let text = w.tmux.capture(&watch);
        if text.contains("orc: new mail MSG-001") {
            Ok(())
        } else {
            Err(text)
        }
    });
    let imp = w.tmux.pane("imp", Some("GROVE-001")).unwrap();
    let status = w
        .tmux
        .run(&["show-options", "-p", "-v", "-t", &imp, "@orc_status"])
        .stdout;
    assert_eq!(
        status.trim(),
        "orc: WO-001 assigned to you; read .orc/assigned-work.json"
    );
}

fn edit(path: &Path, f: impl FnOnce(&mut Value)) {
    let mut v: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    f(&mut v);
    // Like an editor that saves with a rename.
    let tmp = path.with_extension("swp");
    std::fs::write(&tmp, serde_json::to_vec_pretty(&v).unwrap()).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

#[test]
fn direct_edits_are_committed_and_propagated_both_ways() {
    let w = World::new();
    w.env.orc(&["assign", "WO-001", "--grove", "echo"]).ok();
    let watcher = w.spawn_watcher(&[]);
    let echo = w.grove("echo");
    let assignment = echo.join(".orc/assigned-work.json");
    // The IMP edits its file: the work order follows, in one commit by the IMP.
    edit(&assignment, |a| {
        a["work_orders"][1]["status"] = json!("in_progress")
    });
    wait_until("the IMP's edit committed", WAIT, || {
        let last = w
            .env
            .git(&["log", "-1", "--format=%an|%s", "orc"])
            .ok()
            .line();
        if last == "IMP-GROVE-001|WO-002: assigned -> in_progress" {
            Ok(())
        } else {
            Err(last)
        }
    });
    assert_eq!(w.wo("WO-002")["status"], "in_progress");
    // The deputy edits a work order file: committed, and the IMP's file follows.
    let wo3 = w.env.wo_file("MISSION-001", "WO-003");
    edit(&wo3, |wo| wo["priority"] = json!("critical"));
    wait_until("the deputy's edit committed", WAIT, || {
        let last = w
            .env
            .git(&["log", "-1", "--format=%an|%s", "orc"])
            .ok()
            .line();
        if last == "DEPUTY-MISSION-001|WO-003: edited (priority)" {
            Ok(())
        } else {
            Err(last)
        }
    });
    let a: Value = serde_json::from_slice(&std::fs::read(&assignment).unwrap()).unwrap();
    assert_eq!(
        a["work_orders"][2]["priority"], "critical",
        "the IMP's file follows"
    );
    let on_ledger: Value =
        serde_json::from_str(&w.env.ledger_file("groves/GROVE-001/assigned-work.json")).unwrap();
    assert_eq!(on_ledger["work_orders"][2]["priority"], "critical");
    stop(watcher);
}

#[test]
fn an_invalid_edit_is_refused_kept_restored_and_reported() {
    let w = World::assigned();
    let echo = w.grove("echo");
    let assignment = echo.join(".orc/assigned-work.json");
    let good = std::fs::read_to_string(&assignment).unwrap();
    let tip = w.env.tip();
    edit(&assignment, |a| {
        a["work_orders"][1]["title"] = json!("mine")
    });
    w.wait_log(
        "echo",
        "orc: your edit of .orc/assigned-work.json was refused; see .orc/rejected/",
    );
    wait_until("the last good version restored", WAIT, || {
        let now = std::fs::read_to_string(&assignment).unwrap();
        if now == good { Ok(()) } else { Err(now) }
    });
    assert_eq!(w.env.tip(), tip, "nothing committed");
    let kept: Vec<PathBuf> = std::fs::read_dir(echo.join(".orc/rejected"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    let content = kept
        .iter()
        .find(|p| p.to_string_lossy().ends_with("assigned-work.json"))
        .unwrap();
    assert!(
        std::fs::read_to_string(content)
            .unwrap()
            .contains("\"mine\"")
    );
    let reason = kept
        .iter()
        .find(|p| p.to_string_lossy().ends_with(".reason"))
        .unwrap();
    assert!(std::fs::read_to_string(reason).unwrap().contains("title"));
    // Garbage in a work order file does not stop the watcher either.
    let wo3 = w.env.wo_file("MISSION-001", "WO-003");
    let good3 = std::fs::read_to_string(&wo3).unwrap();
    std::fs::write(&wo3, "{ truncated").unwrap();
    wait_until("the work order restored", WAIT, || {
        let now = std::fs::read_to_string(&wo3).unwrap();
        if now == good3 { Ok(()) } else { Err(now) }
    });
    w.wait_log(
        "MISSION-001",
        "orc: a direct edit was refused; see .orc/rejected/",
    );
    // Still running: a new assignment is still notified.
    w.env.orc(&["wo", "create", "More"]).ok();
    w.env.orc(&["assign", "WO-004", "--grove", "tests"]).ok();
    w.wait_log(
        "tests",
        "orc: WO-004 assigned to you; read .orc/assigned-work.json",
    );
}

#[test]
fn changes_made_while_the_watcher_was_stopped_are_caught_up_after_restart() {
    let w = World::new();
    w.deploy(&[]);
    w.wait_watcher();
    // Stop the deployed watcher; run one by hand later.
    let watch = w.tmux.pane("watch", None).unwrap();
    w.tmux.run(&["send-keys", "-t", &watch, "C-c"]);
    wait_until("the deployed watcher to stop", WAIT, || {
        let text = w.tmux.capture(&watch);
        if text.contains("orc watch: stopped") {
            Ok(())
        } else {
            Err(text)
        }
    });
    // While it is down: an assignment (a commit) and a direct edit (a file).
    w.env.orc(&["assign", "WO-001", "--grove", "echo"]).ok();
    let echo = w.grove("echo");
    edit(&echo.join(".orc/assigned-work.json"), |a| {
        a["work_orders"][1]["status"] = json!("in_progress")
    });
    assert!(w.log("echo").is_empty());
    let watcher = w.spawn_watcher(&[]);
    w.wait_log(
        "echo",
        "orc: WO-001 assigned to you; read .orc/assigned-work.json",
    );
    wait_until("the edit committed", WAIT, || {
        let last = w
            .env
            .git(&["log", "-1", "--format=%an|%s", "orc"])
            .ok()
            .line();
        if last == "IMP-GROVE-001|WO-002: assigned -> in_progress" {
            Ok(())
        } else {
            Err(last)
        }
    });
    let log = stop(watcher);
    assert!(log.contains("orc: WO-001 assigned to you"), "{log}");
    // Each event once.
    assert_eq!(
        w.log("echo")
            .iter()
            .filter(|l| l.contains("assigned to you"))
            .count(),
        1
    );
}

#[test]
fn a_second_watcher_is_refused() {
    let w = World::new();
    let first = w.spawn_watcher(&[]);
    let info = w.env.repo.join(".git/orc/locks/orc/watch.json");
    wait_until("the first watcher to hold the lock", WAIT, || {
        if info.exists() {
            Ok(())
        } else {
            Err("no watch.json".into())
        }
    });
    let second = w
        .env
        .orc_in(
            &w.env.workspace("MISSION-001"),
            &["watch", "--socket", &w.tmux.socket],
        )
        .code(code::CONFLICT);
    assert!(
        second.stderr.contains(&format!(
            "a watcher is already running for ledger \"orc\" (pid {}",
            first.id()
        )),
        "{}",
        second.stderr
    );
    stop(first);
    assert!(!info.exists(), "a clean stop removes its record");
}

#[test]
fn dispatch_assigns_ready_work_to_an_idle_grove_and_not_to_a_busy_one() {
    let w = World::new();
    // echo is busy with WO-004; WO-002 (a leaf, ready) waits for a grove.
    w.env.orc(&["wo", "create", "Busy work"]).ok();
    w.env.orc(&["assign", "WO-004", "--grove", "echo"]).ok();
    w.deploy(&["--dispatch"]);
    w.wait_log(
        "tests",
        "orc: WO-002 assigned to you; read .orc/assigned-work.json",
    );
    w.wait_log("MISSION-001", "orc: dispatched WO-002 to GROVE-002");
    assert_eq!(w.wo("WO-002")["assignee"], "IMP-GROVE-002");
    assert_eq!(w.wo("WO-004")["assignee"], "IMP-GROVE-001");
    assert_eq!(w.wo("WO-003")["status"], "ready", "WO-003 waits on WO-002");
    assert!(
        w.log("echo").iter().all(|l| !l.contains("WO-002")),
        "{:?}",
        w.log("echo")
    );
    assert_eq!(
        w.env
            .git(&[
                "log",
                "--format=%an|%s",
                "orc",
                "-1",
                "--",
                "groves/GROVE-002/assigned-work.json"
            ])
            .ok()
            .line(),
        "DEPUTY-MISSION-001|WO-002: ready -> assigned to GROVE-002"
    );
}

#[test]
fn a_dead_agent_pane_is_reported_to_the_deputy() {
    let w = World::new();
    w.deploy(&[]);
    w.wait_watcher();
    let imp = w.tmux.pane("imp", Some("GROVE-002")).unwrap();
    wait_until("the watcher to see the agent", WAIT, || {
        if w.log("tests").is_empty() && std::fs::metadata(w.logs.join("tests.log")).is_ok() {
            Ok(())
        } else {
            Err("no log yet".into())
        }
    });
    // The agent exits (end of input); the pane stays, dead.
    w.tmux.run(&["send-keys", "-t", &imp, "C-d"]);
    w.wait_log("MISSION-001", "orc: the agent of GROVE-002 has exited");
    // Gone altogether.
    let imp1 = w.tmux.pane("imp", Some("GROVE-001")).unwrap();
    w.tmux.run(&["kill-pane", "-t", &imp1]);
    w.wait_log("MISSION-001", "orc: the agent pane of GROVE-001 is gone");
}

#[test]
fn nothing_of_a_hostile_title_is_typed_into_any_pane() {
    let w = World::new();
    let pwned = w.env.root.join("pwned");
    let title = format!(
        "$(touch {}); rm -rf ~\nsecond line `id` \u{1b}[31mred\u{1b}[0m \u{7} ;exit",
        pwned.display()
    );
    w.env.orc(&["wo", "create", &title, "-d", &title]).ok();
    w.deploy(&[]);
    w.wait_watcher();
    w.env.orc(&["assign", "WO-004", "--grove", "echo"]).ok();
    w.wait_log(
        "echo",
        "orc: WO-004 assigned to you; read .orc/assigned-work.json",
    );
    let echo = w.grove("echo");
    w.env
        .orc_in(&echo, &["work", "block", "--reason", &title])
        .ok();
    w.wait_log(
        "MISSION-001",
        "orc: GROVE-001 is blocked on WO-004; run orc wo show WO-004",
    );
    for name in ["echo", "tests", "MISSION-001"] {
        for line in w.log(name) {
            assert!(
                line.starts_with("orc: ") && line.is_ascii(),
                "{name}: {line:?}"
            );
            assert!(
                !line.contains("touch") && !line.contains("rm -rf") && !line.contains('$'),
                "{name}: {line:?}"
            );
        }
    }
    for p in w.tmux.panes() {
        let text = w.tmux.capture(&p[0]);
        assert!(
            !text.contains("touch") && !text.contains("rm -rf"),
            "pane {} {}: {text}",
            p[1],
            p[2]
        );
    }
    assert!(!pwned.exists(), "no command from the title ran");
}

#[test]
fn a_grove_created_after_the_watcher_started_is_watched() {
    let w = World::new();
    w.deploy(&[]);
    w.wait_watcher();
    w.env.orc(&["grove", "create", "late"]).ok();
    w.deploy(&[]);
    w.env.orc(&["wo", "create", "Late work"]).ok();
    w.env.orc(&["assign", "WO-004", "--grove", "late"]).ok();
    w.wait_log(
        "late",
        "orc: WO-004 assigned to you; read .orc/assigned-work.json",
    );
    // Its direct edits are picked up too.
    let late = w.grove("late");
    edit(&late.join(".orc/assigned-work.json"), |a| {
        a["work_orders"][0]["status"] = json!("in_progress")
    });
    wait_until("the edit in the new grove committed", WAIT, || {
        let last = w
            .env
            .git(&["log", "-1", "--format=%an|%s", "orc"])
            .ok()
            .line();
        if last == "IMP-GROVE-003|WO-004: assigned -> in_progress" {
            Ok(())
        } else {
            Err(last)
        }
    });
}

#[test]
fn an_assignment_without_a_report_is_reported_to_the_deputy_once() {
    let w = World::new();
    w.deploy(&["--idle-after", "1s"]);
    w.wait_watcher();
    w.env.orc(&["assign", "WO-001", "--grove", "echo"]).ok();
    w.wait_log(
        "MISSION-001",
        "orc: no report from GROVE-001 on WO-002 for 1s",
    );
    // Twice the idle time later, still reported only once.
    std::thread::sleep(Duration::from_millis(2200));
    let count = w
        .log("MISSION-001")
        .iter()
        .filter(|l| l.contains("no report from GROVE-001"))
        .count();
    assert_eq!(count, 1, "{:?}", w.log("MISSION-001"));
    // A report resets it: silence after it is reported again.
    w.env.orc_in(&w.grove("echo"), &["work", "start"]).ok();
    wait_until("a second silence report after the new report", WAIT, || {
        let n = w
            .log("MISSION-001")
            .iter()
            .filter(|l| l.contains("no report from GROVE-001"))
            .count();
        if n == 2 { Ok(()) } else { Err(format!("{n}")) }
    });
}

#[test]
fn a_watcher_whose_repository_is_deleted_stops_with_an_environment_error() {
    let env = TestEnv::with_mission();
    let ws = env.workspace("MISSION-001");
    let mut cmd = env.command(TestEnv::bin(), &ws);
    cmd.args(["watch", "--interval", "50ms"]);
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let lock = env.repo.join(".git/orc/locks/orc/watch.json");
    wait_until("the watcher to start", WAIT, || {
        if lock.exists() {
            Ok(())
        } else {
            Err("no watch.json".into())
        }
    });
    std::fs::remove_dir_all(&env.repo).unwrap();
    std::fs::remove_dir_all(&ws).unwrap();
    let mut status = None;
    wait_until("the watcher to stop", WAIT, || {
        status = child.try_wait().unwrap();
        status
            .map(|_| ())
            .ok_or_else(|| "still running".to_string())
    });
    let out = child.wait_with_output().unwrap();
    assert_eq!(status.unwrap().code(), Some(6), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("is gone; the watcher stops"), "{stderr}");
}

/// An agent that is not installed is named before anything is created; an
/// agent that exits at once leaves its pane on screen with what it said.
#[test]
fn deploy_checks_the_agents_first_and_keeps_a_failing_agent_visible() {
    let w = World::new();
    let toml = w.env.home.join(".orc/orc.toml");
    let before = std::fs::read_to_string(&toml).unwrap();
    // The default agent, `claude`, on a machine without it.
    std::fs::write(&toml, "editor = [\"cat\"]\nshell = [\"cat\"]\n").unwrap();
    let out = w.env.orc(&["deploy"]).code(code::ENVIRONMENT);
    assert!(
        out.stderr
            .contains("the agent command \"claude\" (profile \"claude\") is not installed"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("npm install -g @anthropic-ai/claude-code"),
        "{}",
        out.stderr
    );
    assert!(w.tmux.panes().is_empty(), "nothing was created");
    // One grove runs a profile whose command is missing: named with it.
    std::fs::write(
        &toml,
        format!("{before}[profiles.ghost]\nkind = \"plain\"\ncommand = \"no-such-agent-x\"\n"),
    )
    .unwrap();
    w.env
        .orc(&["grove", "create", "ghosts", "--agent", "ghost"])
        .ok();
    let out = w.env.orc(&["deploy"]).code(code::ENVIRONMENT);
    assert!(out.stderr.contains("GROVE-003 (ghosts)"), "{}", out.stderr);
    assert!(out.stderr.contains("no-such-agent-x"), "{}", out.stderr);
    assert!(w.tmux.panes().is_empty());
    w.env.orc(&["grove", "remove", "ghosts"]).ok();
    // An agent that prints something and exits at once.
    std::fs::write(
        &toml,
        "agent = [\"sh\", \"-c\", \"echo agent says: bad flag; exit 3\"]\neditor = [\"cat\"]\nshell = [\"cat\"]\n",
    )
    .unwrap();
    w.deploy(&[]);
    let imp = w
        .tmux
        .pane("imp", Some("GROVE-001"))
        .expect("the pane stays");
    // Dead (tmux's own flag: the "Pane is dead" line it draws can lag
    // behind under load) and still showing what the agent said.
    wait_until("the dead pane to show what the agent said", WAIT, || {
        let text = w.tmux.capture_all(&imp);
        let dead = w.tmux.panes().iter().any(|p| p[0] == imp && p[4] == "1");
        if text.contains("agent says: bad flag") && dead {
            Ok(())
        } else {
            Err(format!("dead: {dead}; {text}"))
        }
    });
}

/// The review and merge record of a work order (approval, evidence,
/// landed, artifacts, reviews) is orc's to write: a direct edit that sets
/// it — an agent approving its own gate — is refused and kept aside.
#[test]
fn a_direct_edit_of_the_review_record_is_refused() {
    let w = World::new();
    let watcher = w.spawn_watcher(&[]);
    let wo3 = w.env.wo_file("MISSION-001", "WO-003");
    let good = std::fs::read_to_string(&wo3).unwrap();
    let tip = w.env.tip();
    edit(&wo3, |wo| {
        wo["approval"] = json!({
            "state": "approved",
            "policy": "human",
            "by": "DEPUTY-MISSION-001",
            "at": "2026-11-21T09:30:00Z"
        })
    });
    wait_until("the work order restored", WAIT, || {
        let now = std::fs::read_to_string(&wo3).unwrap();
        if now == good { Ok(()) } else { Err(now) }
    });
    assert_eq!(w.env.tip(), tip, "nothing committed");
    let rejected = w.env.workspace("MISSION-001").join(".orc/rejected");
    let reason = std::fs::read_dir(&rejected)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with(".reason"))
        .unwrap();
    let text = std::fs::read_to_string(reason).unwrap();
    assert!(
        text.contains("field `approval` is maintained by orc") && text.contains("orc approve"),
        "{text}"
    );
    assert!(w.wo("WO-003")["approval"].is_null());
    // An ordinary edit of the same file still goes through.
    edit(&wo3, |wo| wo["priority"] = json!("high"));
    wait_until("the priority committed", WAIT, || {
        let p = w.wo("WO-003")["priority"].clone();
        if p == "high" {
            Ok(())
        } else {
            Err(p.to_string())
        }
    });
    stop(watcher);
}

/// The deputy hears what handed-in work waits for: nothing it must do
/// (approved by policy none) or a review under a named policy.
#[test]
fn the_deputy_hears_what_a_hand_in_waits_for() {
    let w = World::assigned();
    let echo = w.grove("echo");
    let commit = |file: &str| {
        std::fs::write(echo.join(file), "work\n").unwrap();
        w.env.git_in(&echo, &["add", file]).ok();
        w.env.git_in(&echo, &["commit", "-q", "-m", file]).ok();
    };
    w.env.orc_in(&echo, &["work", "start"]).ok();
    commit("a.txt");
    w.env.orc_in(&echo, &["work", "done"]).ok();
    w.wait_log(
        "MISSION-001",
        "orc: GROVE-001 handed in WO-002; approved (policy none), the merge train lands it",
    );
    w.env.orc(&["config", "set", "review", "deputy"]).ok();
    w.env.orc_in(&echo, &["work", "start", "WO-003"]).ok();
    commit("b.txt");
    w.env.orc_in(&echo, &["work", "done", "WO-003"]).ok();
    w.wait_log(
        "MISSION-001",
        "orc: GROVE-001 asks for review of WO-003 (policy deputy); run orc review WO-003",
    );
}
