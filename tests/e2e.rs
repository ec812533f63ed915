//! End to end: a mission runs itself. Scripted agents (fixtures/agents) in
//! a real tmux server complete a parent work order and its children on a
//! real project (fixtures/repos/echo); nobody types. The main run is
//! checked phase by phase and prints one line per checkpoint.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{TestEnv, TmuxServer, fixtures};
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(30);

/// Prints each checkpoint and stops at the first unmet one.
struct Checkpoints {
    passed: usize,
    phase: String,
    start: Instant,
}

impl Checkpoints {
    fn new() -> Self {
        Checkpoints {
            passed: 0,
            phase: String::new(),
            start: Instant::now(),
        }
    }

    fn phase(&mut self, name: &str) {
        self.phase = name.to_string();
        println!("== {name}");
    }

    #[track_caller]
    fn check(&mut self, what: &str, result: Result<(), String>) {
        match result {
            Ok(()) => {
                self.passed += 1;
                println!(
                    "  ok  {:>2}. {what} ({:.1}s)",
                    self.passed,
                    self.start.elapsed().as_secs_f64()
                );
            }
            Err(seen) => {
                println!("  FAIL    {what}");
                if let Ok(dir) = std::env::var("ORC_E2E_DUMP") {
                    let _ = std::fs::write(dir, &seen);
                }
                panic!("[{}] checkpoint {:?} failed: {seen}", self.phase, what);
            }
        }
    }

    /// Polls `cond` until it holds (the checkpoint passes) or `WAIT` ends.
    #[track_caller]
    fn wait(&mut self, what: &str, mut cond: impl FnMut() -> Result<(), String>) {
        let start = Instant::now();
        let result = loop {
            match cond() {
                Ok(()) => break Ok(()),
                Err(seen) if start.elapsed() > WAIT => {
                    break Err(format!("after {WAIT:?}, saw: {seen}"));
                }
                Err(_) => std::thread::sleep(Duration::from_millis(25)),
            }
        };
        self.check(what, result);
    }
}

fn expect(cond: bool, seen: impl std::fmt::Display) -> Result<(), String> {
    if cond { Ok(()) } else { Err(seen.to_string()) }
}

/// A hermetic environment whose repository is the fixture project, whose
/// panes run the scripted agents, on a private tmux socket.
struct Stage {
    env: TestEnv,
    tmux: TmuxServer,
    logs: PathBuf,
}

impl Stage {
    fn new() -> Stage {
        let mut env = TestEnv::bare();
        let tmux = TmuxServer::new();
        let logs = env.root.join("logs");
        std::fs::create_dir_all(&logs).unwrap();
        env.set_env("ORC_AGENT_LOG_DIR", logs.to_str().unwrap());
        env.set_env("ORC_TMUX_SOCKET", &tmux.socket);
        env.set_env("ORC", TestEnv::bin().to_str().unwrap());
        env.set_env("ORC_ACTOR", "");
        std::fs::create_dir_all(env.home.join(".orc")).unwrap();
        let agents = fixtures().join("agents");
        std::fs::write(
            env.home.join(".orc/orc.toml"),
            format!(
                "agent = [\"sh\", {:?}]\ndeputy = [\"sh\", {:?}]\neditor = [\"cat\"]\nshell = [\"cat\"]\n",
                agents.join("imp.sh").display().to_string(),
                agents.join("deputy.sh").display().to_string()
            ),
        )
        .unwrap();
        copy_dir(&fixtures().join("repos/echo"), &env.repo);
        env.git(&["init", "-q", "-b", "main"]).ok();
        env.git(&["add", "-A"]).ok();
        env.git(&["commit", "-q", "-m", "echo-server"]).ok();
        Stage { env, tmux, logs }
    }

    fn log(&self, name: &str) -> String {
        std::fs::read_to_string(self.logs.join(format!("{name}.log"))).unwrap_or_default()
    }

    /// A work order as the ledger has it (files are written just before
    /// their commit, so waiting on a file can get ahead of the ledger).
    fn wo(&self, id: &str) -> Value {
        let out = self.env.git(&[
            "show",
            &format!("orc:missions/MISSION-001/work-orders/{id}.json"),
        ]);
        serde_json::from_str(&out.stdout).unwrap_or(Value::Null)
    }

    fn grove_path(&self, name: &str) -> PathBuf {
        PathBuf::from(
            self.env.orc(&["grove", "show", name, "--json"]).ok().json()["grove"]["path"]
                .as_str()
                .unwrap(),
        )
    }

    /// (author, subject, op) of every ledger commit, oldest first.
    fn story(&self) -> Vec<(String, String, String)> {
        self.env
            .git(&[
                "log",
                "--reverse",
                "--format=%an%x09%s%x09%(trailers:key=Orc-Op,valueonly,separator=)",
                "orc",
            ])
            .ok()
            .stdout
            .lines()
            .map(|l| {
                let f: Vec<&str> = l.split('\t').collect();
                (
                    f[0].to_string(),
                    f[1].to_string(),
                    f.get(2).unwrap_or(&"").trim().to_string(),
                )
            })
            .collect()
    }
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[test]
fn a_mission_runs_itself() {
    let st = Stage::new();
    let env = &st.env;
    let mut cp = Checkpoints::new();
    let head = env.git(&["rev-parse", "HEAD"]).ok().line();

    cp.phase("0. Preflight");
    env.orc(&["hooks", "trust"]).ok();
    let doctor = env.orc(&["doctor"]);
    cp.check(
        "orc doctor exits 0 in the prepared environment",
        expect(doctor.code == 0, &doctor.stdout),
    );

    cp.phase("1. Setup");
    env.orc(&["init"]).ok();
    cp.check(
        "the ledger branch exists",
        expect(
            env.git(&["rev-parse", "--verify", "orc"]).code == 0,
            "no orc branch",
        ),
    );
    env.orc(&["config", "set", "check", "sh ./check.sh"]).ok();
    env.orc(&["config", "set", "review", "agent"]).ok();
    let mission = env
        .orc(&[
            "mission",
            "create",
            "Echo endpoint",
            "-d",
            "Add GET /echo to the server.",
        ])
        .line();
    cp.check(
        "the mission is created",
        expect(mission == "MISSION-001", &mission),
    );
    let record = env.orc(&["mission", "show", "--json"]).json();
    let integration_tip = env
        .git(&["rev-parse", "--verify", "orc-mission/MISSION-001"])
        .line();
    cp.check(
        "it has an integration branch started from main, its target",
        expect(
            record["target"] == "main"
                && record["integration"] == "orc-mission/MISSION-001"
                && integration_tip == head,
            &record,
        ),
    );
    let ws = env.workspace("MISSION-001");
    let config: Value =
        serde_json::from_slice(&std::fs::read(ws.join(".orc/config.json")).unwrap_or_default())
            .unwrap_or_default();
    cp.check(
        "the workspace has a valid mission config",
        expect(
            config["type"] == "mission" && config["mission"] == "MISSION-001",
            &config,
        ),
    );
    let role = env.orc_in(&ws, &["context", "role"]).line();
    let id = env.orc_in(&ws, &["context", "mission-id"]).line();
    cp.check(
        "the context is detected in the workspace",
        expect(
            role == "deputy" && id == "MISSION-001",
            format!("{role} {id}"),
        ),
    );

    cp.phase("2. Deploy");
    env.orc(&["grove", "create", "echo-cmd"]).ok();
    env.orc(&["grove", "create", "echo-edit"]).ok();
    let (g1, g2) = (st.grove_path("echo-cmd"), st.grove_path("echo-edit"));
    let branches = env.git(&["branch", "--list", "echo-*"]).ok().stdout;
    cp.check(
        "two groves: worktrees and branches exist",
        expect(
            g1.join(".git").exists() && g2.join(".git").exists() && branches.lines().count() == 2,
            &branches,
        ),
    );
    let clean = env.git_in(&g1, &["status", "--porcelain"]).ok().stdout
        + &env.git_in(&g2, &["status", "--porcelain"]).ok().stdout;
    cp.check(
        "their .orc/ is hidden from git",
        expect(clean.is_empty(), &clean),
    );
    env.orc(&["deploy", "--interval", "100ms", "--idle-after", "60s"])
        .ok();
    let panes = st.tmux.panes();
    let roles: Vec<(String, String)> = panes.iter().map(|p| (p[1].clone(), p[2].clone())).collect();
    cp.check(
        "the session has the deputy window with the deputy and the watcher",
        expect(
            panes.iter().filter(|p| p[9] == "deputy").count() == 2
                && roles.contains(&("deputy".into(), String::new()))
                && roles.contains(&("watch".into(), String::new())),
            format!("{roles:?}"),
        ),
    );
    for (g, name) in [("GROVE-001", "echo-cmd"), ("GROVE-002", "echo-edit")] {
        let mine: Vec<&Vec<String>> = panes.iter().filter(|p| p[2] == g).collect();
        let mut r: Vec<&str> = mine.iter().map(|p| p[1].as_str()).collect();
        r.sort();
        cp.check(
            &format!("window {name} has editor, agent and shell panes with roles"),
            expect(
                mine.len() == 3
                    && r == ["editor", "imp", "shell"]
                    && mine.iter().all(|p| p[9] == name),
                format!("{mine:?}"),
            ),
        );
    }
    cp.wait("the agents and the watcher are running", || {
        let ready = st.log("MISSION-001").contains("ready")
            && st.log("echo-cmd").contains("ready")
            && st.log("echo-edit").contains("ready");
        let watch = st
            .tmux
            .pane("watch", None)
            .map(|p| st.tmux.capture(&p))
            .unwrap_or_default();
        expect(ready && watch.contains("orc watch: ledger"), watch)
    });

    cp.phase("3. Deputy");
    let status = env.orc_in(&ws, &["status"]).stdout;
    cp.check(
        "status shows the mission",
        expect(
            status.contains("mission  MISSION-001 active  Echo endpoint"),
            &status,
        ),
    );
    let summary = env.orc_in(&ws, &["summary", "--scope", "current"]).stdout;
    cp.check(
        "summary --scope current shows the mission",
        expect(
            summary.starts_with("MISSION-001  active  Echo endpoint"),
            &summary,
        ),
    );
    let parent = env
        .orc_in(
            &ws,
            &[
                "wo",
                "create",
                "Add the /echo endpoint",
                "--type",
                "feature",
                "--json",
            ],
        )
        .json();
    cp.check(
        "the deputy creates a work order",
        expect(
            parent["id"] == "WO-001" && parent["created_by"] == "DEPUTY-MISSION-001",
            &parent,
        ),
    );

    cp.phase("4. Work");
    let children = [
        ("Implement the /echo handler", "handler", vec![]),
        ("Test the /echo handler", "test", vec!["WO-002"]),
        ("Document /echo", "docs", vec!["WO-002"]),
        ("Run the project's check", "check", vec!["WO-003", "WO-004"]),
    ];
    for (title, kind, deps) in &children {
        let mut args = vec!["wo", "create", title, "--parent", "WO-001", "--type", kind];
        for d in deps {
            args.push("--depends-on");
            args.push(d);
        }
        env.orc_in(&ws, &args).ok();
    }
    let listed = env.orc_in(&ws, &["wo", "list", "--json"]).json();
    let shown: Vec<String> = listed["work_orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["shown"].as_str().unwrap().to_string())
        .collect();
    cp.check(
        "one parent and four children with dependencies",
        expect(
            shown == ["ready", "ready", "waiting", "waiting", "waiting"],
            format!("{shown:?}"),
        ),
    );

    cp.phase("5. Autonomous execution");
    let before = st.story().len();
    env.orc(&[
        "deploy",
        "--interval",
        "100ms",
        "--idle-after",
        "60s",
        "--dispatch",
        "--merge",
    ])
    .ok();
    cp.wait(
        "the watcher with --dispatch assigns the first work order",
        || {
            expect(
                st.wo("WO-002")["status"] != "ready",
                st.wo("WO-002")["status"].clone(),
            )
        },
    );
    cp.wait("the IMP is nudged", || {
        let log = st.log("echo-cmd") + &st.log("echo-edit");
        expect(
            log.contains("orc: WO-002 assigned to you; read .orc/assigned-work.json"),
            log,
        )
    });
    let t0 = Instant::now();
    cp.wait("the parent completes with nobody typing", || {
        let wo = st.wo("WO-001");
        expect(wo["status"] == "done", wo["status"].clone())
    });
    if t0.elapsed() > Duration::from_secs(5) {
        let w = st.tmux.pane("watch", None).unwrap();
        eprintln!(
            "SLOW\nWATCH:\n{}\nCMD:\n{}\nEDIT:\n{}\nDEPUTY:\n{}",
            st.tmux.capture(&w),
            st.log("echo-cmd"),
            st.log("echo-edit"),
            st.log("MISSION-001")
        );
        for g in ["echo-cmd", "echo-edit"] {
            let p = st
                .tmux
                .pane(
                    "imp",
                    Some(if g == "echo-cmd" {
                        "GROVE-001"
                    } else {
                        "GROVE-002"
                    }),
                )
                .unwrap();
            eprintln!("PANE {g}:\n{}", st.tmux.capture(&p));
        }
    }
    let story = st.story()[before..].to_vec();
    let done_order: Vec<String> = story
        .iter()
        .filter(|(_, s, _)| s.contains("-> done"))
        .map(|(_, s, _)| s[..6].to_string())
        .filter(|id| ["WO-002", "WO-003", "WO-004", "WO-005"].contains(&id.as_str()))
        .collect();
    let pos = |id: &str| {
        done_order
            .iter()
            .position(|d| d == id)
            .unwrap_or(usize::MAX)
    };
    cp.check(
        "children finish in dependency order",
        expect(
            done_order.len() == 4
                && pos("WO-002") < pos("WO-003")
                && pos("WO-002") < pos("WO-004")
                && pos("WO-003") < pos("WO-005")
                && pos("WO-004") < pos("WO-005"),
            format!("{done_order:?} in {story:#?}"),
        ),
    );
    let last_body = env
        .git(&[
            "log",
            "-1",
            "--format=%B",
            "orc",
            "--",
            "missions/MISSION-001/work-orders/WO-001.json",
        ])
        .ok()
        .stdout;
    cp.check(
        "the parent is done in the same commit as its last child",
        expect(
            last_body.starts_with("WO-005: ")
                && last_body.contains("WO-001: ready -> done (all children closed)"),
            &last_body,
        ),
    );
    let ops: Vec<&str> = story.iter().map(|(_, _, op)| op.as_str()).collect();
    cp.check(
        "both groves worked, one by commands and one by editing its file",
        expect(
            ops.contains(&"work.report")
                && ops.contains(&"work.edit")
                && story.iter().any(|(a, _, _)| a == "IMP-GROVE-001")
                && story.iter().any(|(a, _, _)| a == "IMP-GROVE-002"),
            format!("{story:?}"),
        ),
    );

    cp.phase("6. Review and merge");
    let mut reviews_ok = true;
    let mut seen = String::new();
    for id in ["WO-002", "WO-003", "WO-004"] {
        let w = st.wo(id);
        let author = w["assignee"].as_str().unwrap_or("").to_string();
        let by = w["approval"]["by"].as_str().unwrap_or("").to_string();
        seen.push_str(&format!("{id}: {w}\n"));
        reviews_ok &= w["evidence"]["commits"].as_u64().unwrap_or(0) >= 1
            && w["evidence"]["check"]["exit"] == 0
            && w["approval"]["state"] == "approved"
            && w["approval"]["policy"] == "agent"
            && by.starts_with("IMP-GROVE-")
            && by != author
            && w["landed"]["integration"] == "orc-mission/MISSION-001";
    }
    cp.check(
        "each piece of work was handed in with evidence, approved by the other grove's IMP, and landed",
        expect(reviews_ok, &seen),
    );
    let reviewers: Vec<(String, String)> = env.orc(&["wo", "list", "--json"]).json()["work_orders"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["type"] == "review")
        .map(|w| {
            (
                w["status"].as_str().unwrap().to_string(),
                w["reviews"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    cp.check(
        "a review work order per piece of work, all done",
        expect(
            reviewers.len() == 3 && reviewers.iter().all(|(s, _)| s == "done"),
            format!("{reviewers:?}"),
        ),
    );
    let landed = env
        .git(&["log", "--format=%s", "main..orc-mission/MISSION-001"])
        .ok()
        .stdout;
    cp.check(
        "the integration branch holds the work, merged by the train",
        expect(
            [
                "add the /echo handler",
                "test the /echo handler",
                "document /echo",
                "WO-002: Implement the /echo handler",
                "WO-004: Document /echo",
            ]
            .iter()
            .all(|w| landed.contains(w)),
            &landed,
        ),
    );
    let trains = story
        .iter()
        .filter(|(a, s, _)| {
            a == "TRAIN-MISSION-001" && s.contains("landed on orc-mission/MISSION-001")
        })
        .count();
    cp.check(
        "the ledger records each landing, by the train",
        expect(trains == 3, format!("{story:#?}")),
    );
    let main_now = env.git(&["rev-parse", "main"]).ok().line();
    let status = env.git(&["status", "--porcelain"]).ok().stdout;
    cp.check(
        "main, HEAD and the main worktree are untouched",
        expect(
            main_now == head && status.is_empty(),
            format!("{main_now} {status}"),
        ),
    );
    let mut transitions_ok = true;
    let mut seen = String::new();
    for id in ["WO-002", "WO-003", "WO-004", "WO-005"] {
        let subjects: Vec<&(String, String, String)> = story
            .iter()
            .filter(|(_, s, _)| s.starts_with(&format!("{id}: ")))
            .collect();
        let kinds: Vec<String> = subjects
            .iter()
            .map(|(a, s, _)| format!("{a} {}", &s[8..]))
            .collect();
        seen.push_str(&format!("{id}: {kinds:?}\n"));
        let assigned = subjects
            .iter()
            .filter(|(a, s, _)| {
                s.contains("ready -> assigned to GROVE-") && a == "DEPUTY-MISSION-001"
            })
            .count();
        let started = subjects
            .iter()
            .filter(|(a, s, _)| {
                s.ends_with("assigned -> in_progress") && a.starts_with("IMP-GROVE-")
            })
            .count();
        let done = if id == "WO-005" {
            subjects
                .iter()
                .filter(|(a, s, _)| {
                    s.ends_with("in_progress -> done") && a.starts_with("IMP-GROVE-")
                })
                .count()
        } else {
            let handed_in = subjects
                .iter()
                .filter(|(a, s, _)| {
                    s.ends_with("in_progress -> review") && a.starts_with("IMP-GROVE-")
                })
                .count();
            let approved = subjects
                .iter()
                .filter(|(a, s, _)| {
                    s.contains("approved by IMP-GROVE-") && a.starts_with("IMP-GROVE-")
                })
                .count();
            let landed = subjects
                .iter()
                .filter(|(a, s, _)| {
                    s.contains("review -> done (landed on") && a == "TRAIN-MISSION-001"
                })
                .count();
            usize::from(handed_in == 1 && approved == 1 && landed == 1)
        };
        transitions_ok &= assigned == 1 && started == 1 && done == 1;
    }
    cp.check(
        "the ledger tells the story: one commit per transition, authored by the actor who acted",
        expect(transitions_ok, &seen),
    );
    let open = env.orc(&["wo", "list", "--json"]).json()["work_orders"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["status"] != "done" && w["status"] != "cancelled")
        .count();
    cp.check("no work order is left open", expect(open == 0, open));
    let merged = env.root.join("merged");
    env.git(&[
        "worktree",
        "add",
        "-q",
        "--detach",
        merged.to_str().unwrap(),
        "orc-mission/MISSION-001",
    ])
    .ok();
    let check = common::run(
        {
            let mut c = env.command("sh", &merged);
            c.args(["check.sh", "--strict"]);
            c
        },
        "check.sh".into(),
    );
    env.git(&["worktree", "remove", "--force", merged.to_str().unwrap()])
        .ok();

    cp.phase("7. Cleanup");
    env.orc(&["teardown"]).ok();
    let ls = st.tmux.run(&["list-sessions"]);
    cp.check(
        "teardown leaves no session on the socket",
        expect(ls.stdout.trim().is_empty(), &ls.stdout),
    );
    env.orc(&["grove", "remove", "echo-cmd"]).ok();
    env.orc(&["grove", "remove", "echo-edit"]).ok();
    let worktrees = env.git(&["worktree", "list"]).ok().stdout;
    let train = worktrees
        .lines()
        .filter(|l| l.contains("/MISSION-001/.train "))
        .count();
    cp.check(
        "the merge train keeps one worktree of its own (detached), until the mission completes",
        expect(train == 1, &worktrees),
    );
    env.orc(&["mission", "complete"]).ok();
    let worktrees = env.git(&["worktree", "list"]).ok().stdout;
    cp.check(
        "the groves are removed",
        expect(
            worktrees.lines().count() == 1 && !g1.exists() && !g2.exists(),
            &worktrees,
        ),
    );
    let status = env.git(&["status", "--porcelain"]).ok().stdout;
    let now = env.git(&["rev-parse", "HEAD"]).ok().line();
    cp.check(
        "the main worktree is untouched",
        expect(status.is_empty() && now == head, format!("{status} {now}")),
    );

    cp.phase("8. The check on the integration branch");
    cp.check(
        "the project's check passes on the integration branch",
        expect(
            check.code == 0 && check.stdout.contains("ok   echo"),
            &check.stdout,
        ),
    );

    println!("{}/{} checkpoints", cp.passed, cp.passed);
    assert_eq!(cp.passed, 34);
}

/// A mission with one parent and the given children, two groves, deployed
/// with dispatch.
fn dispatched(children: &[(&str, &str, &str)], idle_after: &str) -> Stage {
    let st = Stage::new();
    let env = &st.env;
    env.orc(&["init"]).ok();
    env.orc(&["mission", "create", "Scenario"]).ok();
    env.orc(&["grove", "create", "one"]).ok();
    env.orc(&["grove", "create", "two"]).ok();
    env.orc(&["wo", "create", "Parent"]).ok();
    for (title, kind, description) in children {
        env.orc(&[
            "wo",
            "create",
            title,
            "--parent",
            "WO-001",
            "--type",
            kind,
            "-d",
            description,
        ])
        .ok();
    }
    env.orc(&[
        "deploy",
        "--interval",
        "100ms",
        "--idle-after",
        idle_after,
        "--dispatch",
        "--merge",
    ])
    .ok();
    st
}

#[test]
fn an_imp_asks_the_deputy_and_finishes_with_the_answer() {
    let st = dispatched(
        &[("Implement the handler", "handler", "ASK: which port?")],
        "60s",
    );
    let mut cp = Checkpoints::new();
    cp.phase("question and answer");
    cp.wait("the IMP blocks with a question by mail", || {
        let wo = st.wo("WO-002");
        expect(
            wo["status"] == "blocked" || wo["status"] == "done",
            wo["status"].clone(),
        )
    });
    cp.wait("the deputy is nudged about the mail", || {
        let log = st.log("MISSION-001");
        expect(
            log.contains("orc: new mail MSG-001; run orc mail read MSG-001"),
            log,
        )
    });
    cp.wait("the deputy answers by mail and the IMP is nudged", || {
        let log = st.log("one");
        expect(
            log.contains("orc: new mail MSG-002; run orc mail read MSG-002"),
            log,
        )
    });
    cp.wait("the IMP reads the answer and finishes", || {
        let wo = st.wo("WO-002");
        expect(wo["status"] == "done", wo["status"].clone())
    });
    let question = st
        .env
        .ledger_file("missions/MISSION-001/inbox/MSG-001.json");
    let answer = st.env.ledger_file("groves/GROVE-001/inbox/MSG-002.json");
    cp.check(
        "the question and the answer are on the ledger, and both were read",
        expect(
            question.contains("\"from\": \"IMP-GROVE-001\"")
                && question.contains("\"work_order\": \"WO-002\"")
                && answer.contains("\"in_reply_to\": \"MSG-001\"")
                && !answer.contains("\"read_at\": null")
                && !question.contains("\"read_at\": null"),
            format!("{question}\n{answer}"),
        ),
    );
    cp.wait("the parent completes", || {
        expect(
            st.wo("WO-001")["status"] == "done",
            st.wo("WO-001")["status"].clone(),
        )
    });
    println!("{}/{} checkpoints", cp.passed, cp.passed);
}

#[test]
fn work_of_a_dead_agent_is_dispatched_to_the_other_grove_and_completed() {
    let st = dispatched(&[("Slow work", "slow", "takes a while")], "1s");
    // Only grove two may finish slow work; grove one will die in the middle.
    std::fs::write(st.logs.join("go-GROVE-002"), "").unwrap();
    let mut cp = Checkpoints::new();
    cp.phase("a dead agent");
    cp.wait("grove one starts the work", || {
        let wo = st.wo("WO-002");
        expect(
            wo["status"] == "in_progress" && wo["assignee"] == "IMP-GROVE-001",
            format!("{} {}", wo["status"], wo["assignee"]),
        )
    });
    let pane = st.tmux.pane("imp", Some("GROVE-001")).unwrap();
    st.tmux.run(&["kill-pane", "-t", &pane]);
    cp.wait("the watcher reports the gone pane to the deputy", || {
        let log = st.log("MISSION-001");
        expect(
            log.contains("orc: the agent pane of GROVE-001 is gone"),
            log,
        )
    });
    cp.wait(
        "after the idle time the work returns and goes to the other grove",
        || {
            let log = st.log("MISSION-001");
            expect(
                log.contains("orc: WO-002 returned to ready; the agent of GROVE-001 is gone")
                    && log.contains("orc: dispatched WO-002 to GROVE-002"),
                log,
            )
        },
    );
    cp.wait("the other grove completes it", || {
        let wo = st.wo("WO-002");
        expect(
            wo["status"] == "done" && wo["assignee"] == "IMP-GROVE-002",
            format!("{} {}", wo["status"], wo["assignee"]),
        )
    });
    cp.wait("the parent completes", || {
        expect(
            st.wo("WO-001")["status"] == "done",
            st.wo("WO-001")["status"].clone(),
        )
    });
    println!("{}/{} checkpoints", cp.passed, cp.passed);
}

#[test]
fn orc_demo_runs_the_story_and_cleans_up() {
    let env = TestEnv::bare();
    let mut cmd = env.command(TestEnv::bin(), &env.root);
    cmd.args(["demo", "--pace", "0"]).env("TMPDIR", &env.root);
    let out = common::run(cmd, "orc demo".into()).ok();
    for step in [
        "1. A project",
        "2. orc init",
        "3. The tmux session",
        "5. The watcher dispatches",
        "6. Done",
        "7. The work comes home",
        "landed orc-mission/MISSION-001 on main (fast-forward)",
        "the project's check passes on main",
    ] {
        assert!(out.stdout.contains(step), "{step}: {}", out.stdout);
    }
    assert!(out.stdout.contains("WO-001  done"), "{}", out.stdout);
    assert!(
        out.stdout.contains("TRAIN-MISSION-001") && out.stdout.contains("approved by IMP-GROVE-"),
        "the story has reviews and landings: {}",
        out.stdout
    );
    assert!(
        out.stdout.contains("WO-005: in_progress -> done"),
        "the story is printed: {}",
        out.stdout
    );
    assert!(out.stdout.contains("Cleaned up"), "{}", out.stdout);
    let leftovers: Vec<_> = std::fs::read_dir(&env.root)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("orc-demo-"))
        .collect();
    assert!(leftovers.is_empty(), "the demo directory is removed");
}
