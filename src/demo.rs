//! `orc demo`: the end-to-end story for a person, on a built-in example.
//!
//! In a temporary directory it creates a tiny project (the fixture
//! `fixtures/repos/echo`), a mission with a parent work order and four
//! children, two groves, and a tmux session on its own socket whose agent
//! panes run the scripted deputy and IMPs (`fixtures/agents`). The watcher
//! dispatches the work; the IMPs do it and report (one by command, one by
//! editing its assignment file); each piece of work is reviewed by the
//! other grove's IMP and landed by the merge train on the mission's
//! integration branch, where the project's check runs; the demo prints each
//! step until the mission's parent work order is done, then lands the
//! mission on `main` and runs the check there. Everything runs as child `orc`
//! processes with the demo's own `ORC_HOME`, so the user's settings,
//! missions and Claude Code files are not touched. Needs git and tmux.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// The files of the demo, embedded from `fixtures/`.
const PROJECT: &[(&str, &str)] = &[
    (
        "README.md",
        include_str!("../fixtures/repos/echo/README.md"),
    ),
    (
        "server.sh",
        include_str!("../fixtures/repos/echo/server.sh"),
    ),
    ("check.sh", include_str!("../fixtures/repos/echo/check.sh")),
    (
        "handlers/health.sh",
        include_str!("../fixtures/repos/echo/handlers/health.sh"),
    ),
    (
        "tests/health.sh",
        include_str!("../fixtures/repos/echo/tests/health.sh"),
    ),
    (
        "docs/health.md",
        include_str!("../fixtures/repos/echo/docs/health.md"),
    ),
];
const IMP: &str = include_str!("../fixtures/agents/imp.sh");
const DEPUTY: &str = include_str!("../fixtures/agents/deputy.sh");

pub struct Options {
    pub keep: bool,
    pub timeout: Duration,
    /// Seconds the scripted agents wait before each step.
    pub pace: f64,
}

struct Demo {
    pace: String,
    root: PathBuf,
    repo: PathBuf,
    socket: String,
    orc: PathBuf,
}

impl Demo {
    /// Runs `orc args` in `dir` with the demo's environment; fails with
    /// what orc said.
    fn orc(&self, dir: &Path, args: &[&str]) -> Result<String> {
        let out = Command::new(&self.orc)
            .args(args)
            .current_dir(dir)
            .env("ORC_HOME", self.root.join("orc-home"))
            .env("ORC_TMUX_SOCKET", &self.socket)
            .env("ORC", &self.orc)
            .env("ORC_AGENT_PACE", &self.pace)
            .env_remove("ORC_ACTOR")
            .env_remove("ORC_LEDGER")
            .env_remove("ORC_NOW")
            .output()
            .map_err(|e| Error::environment(format!("cannot run orc: {e}")))?;
        if !out.status.success() {
            return Err(Error::environment(format!(
                "orc {} failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    fn git(&self, args: &[&str]) -> Result<()> {
        let out = Command::new("git")
            .args([
                "-c",
                "user.name=orc demo",
                "-c",
                "user.email=demo@orc",
                "-c",
                "init.defaultBranch=main",
            ])
            .args(args)
            .current_dir(&self.repo)
            .output()
            .map_err(|_| Error::environment("git is not installed").with_hint("install git"))?;
        if !out.status.success() {
            return Err(Error::environment(format!(
                "git {} failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        Ok(())
    }
}

fn write(path: &Path, text: &str) -> Result<()> {
    if let Some(dir) = path.parent() {
        crate::store::fsio::create_dir_all(dir)?;
    }
    std::fs::write(path, text).map_err(|e| Error::io("cannot write", path, e))
}

pub fn run(opts: &Options) -> Result<()> {
    crate::tmux::Tmux::new(None).check()?;
    crate::ledger::worktree::version()?;
    let base = std::env::temp_dir().join(format!("orc-demo-{}", std::process::id()));
    let demo = Demo {
        pace: format!("{:.2}", opts.pace.max(0.0)),
        repo: base.join("repo"),
        socket: format!("orc-demo-{}", std::process::id()),
        orc: std::env::current_exe()
            .map_err(|e| Error::environment(format!("cannot find the orc binary: {e}")))?,
        root: base,
    };
    println!(
        "orc demo: a mission that runs itself, in {}",
        demo.root.display()
    );
    let result = story(&demo, opts);
    if opts.keep {
        println!();
        println!("Everything is left in place:");
        println!(
            "  tmux -L {} attach -t orc-MISSION-001     the session",
            demo.socket
        );
        println!(
            "  git -C {} log --stat orc                 the ledger",
            demo.repo.display()
        );
        println!(
            "  git -C {} show orc:missions/MISSION-001/work-orders/WO-002.json",
            demo.repo.display()
        );
        println!(
            "To clean up: tmux -L {} kill-server; rm -rf {}",
            demo.socket,
            demo.root.display()
        );
    } else {
        let _ = demo.orc(&demo.repo, &["teardown"]);
        let _ = Command::new("tmux")
            .args(["-L", &demo.socket, "kill-server"])
            .output();
        let _ = std::fs::remove_dir_all(&demo.root);
        println!("Cleaned up (run `orc demo --keep` to look around afterwards).");
    }
    result
}

fn story(demo: &Demo, opts: &Options) -> Result<()> {
    // The settings: roots inside the demo directory, scripted agents.
    let agents = demo.root.join("agents");
    write(&agents.join("imp.sh"), IMP)?;
    write(&agents.join("deputy.sh"), DEPUTY)?;
    let settings = format!(
        "missions_root = {:?}\nworktrees_root = {:?}\nagent = [\"sh\", {:?}]\ndeputy = [\"sh\", {:?}]\neditor = [\"sh\", \"-c\", \"echo 'editor pane'; exec cat > /dev/null\"]\nshell = [\"sh\"]\n",
        demo.root.join("missions").display().to_string(),
        demo.root.join("worktrees").display().to_string(),
        agents.join("imp.sh").display().to_string(),
        agents.join("deputy.sh").display().to_string(),
    );
    write(&demo.root.join("orc-home/orc.toml"), &settings)?;

    println!(
        "1. A project: an HTTP-ish router with a check script, in {}",
        demo.repo.display()
    );
    for (name, text) in PROJECT {
        write(&demo.repo.join(name), text)?;
    }
    demo.git(&["init", "-q"])?;
    demo.git(&["add", "-A"])?;
    demo.git(&["commit", "-q", "-m", "echo-server"])?;

    println!("2. orc init; a mission; two groves (git worktrees)");
    let repo = &demo.repo;
    demo.orc(repo, &["init"])?;
    demo.orc(repo, &["config", "set", "check", "sh ./check.sh"])?;
    demo.orc(
        repo,
        &[
            "mission",
            "create",
            "Add GET /echo",
            "-d",
            "An /echo endpoint, tested and documented.",
            "--review",
            "agent",
        ],
    )?;
    println!(
        "   work lands on orc-mission/MISSION-001 (from main) after another grove's IMP reviews it"
    );
    demo.orc(repo, &["grove", "create", "echo-cmd"])?;
    demo.orc(repo, &["grove", "create", "echo-edit"])?;

    println!("3. The tmux session, with the scripted deputy, the watcher and the IMPs");
    demo.orc(repo, &["deploy", "--interval", "200ms"])?;
    println!(
        "   watch it live:  tmux -L {} attach -t orc-MISSION-001   (detach: Ctrl-b d)",
        demo.socket
    );

    println!("4. The deputy writes the work: a parent and four children");
    let wo = |args: &[&str]| demo.orc(repo, args);
    wo(&[
        "wo",
        "create",
        "Add the /echo endpoint",
        "--type",
        "feature",
    ])?;
    wo(&[
        "wo",
        "create",
        "Implement the /echo handler",
        "--parent",
        "WO-001",
        "--type",
        "handler",
    ])?;
    wo(&[
        "wo",
        "create",
        "Test the /echo handler",
        "--parent",
        "WO-001",
        "--type",
        "test",
        "--depends-on",
        "WO-002",
    ])?;
    wo(&[
        "wo",
        "create",
        "Document /echo",
        "--parent",
        "WO-001",
        "--type",
        "docs",
        "--depends-on",
        "WO-002",
    ])?;
    wo(&[
        "wo",
        "create",
        "Run the project's check",
        "--parent",
        "WO-001",
        "--type",
        "check",
        "--depends-on",
        "WO-003,WO-004",
    ])?;

    println!("5. The watcher dispatches and merges; nobody types from here on");
    demo.orc(
        repo,
        &["deploy", "--interval", "200ms", "--dispatch", "--merge"],
    )?;
    let start = Instant::now();
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    loop {
        let list = demo.orc(repo, &["wo", "list", "--json"])?;
        let value: serde_json::Value = serde_json::from_str(&list)
            .map_err(|e| Error::internal(format!("unexpected output of orc wo list: {e}")))?;
        let mut parent_done = false;
        for w in value["work_orders"].as_array().into_iter().flatten() {
            let id = w["id"].as_str().unwrap_or("").to_string();
            let status = w["shown"].as_str().unwrap_or("").to_string();
            let who = w["assignee"].as_str().unwrap_or("").to_string();
            let line = if who.is_empty() {
                status.clone()
            } else {
                format!("{status} ({who})")
            };
            if seen.get(&id) != Some(&line) {
                println!("   {:>5.1}s  {id}  {line}", start.elapsed().as_secs_f64());
                seen.insert(id.clone(), line);
            }
            parent_done |= id == "WO-001" && status == "done";
        }
        // Files are written a moment before their commit; the story is
        // told from the ledger, so wait for it there.
        if parent_done
            && demo
                .orc(repo, &["log", "WO-001", "-n", "1"])
                .is_ok_and(|l| l.contains("-> done"))
        {
            break;
        }
        if start.elapsed() > opts.timeout {
            return Err(Error::environment(format!(
                "the mission did not complete within {}s",
                opts.timeout.as_secs()
            ))
            .with_hint("run `orc demo --keep` and attach to the session to see where it stopped"));
        }
        std::thread::sleep(Duration::from_millis(200));
    }

    println!("6. Done. The mission as a tree:");
    print!("{}", indent(&demo.orc(repo, &["summary"])?));
    println!("   The story on the ledger (newest first; also `git log orc`):");
    print!("{}", indent(&demo.orc(repo, &["log", "-n", "16"])?));

    println!("7. The work comes home: orc mission land brings it onto main");
    print!("{}", indent(&demo.orc(repo, &["mission", "land"])?));
    let log = Command::new("git")
        .args(["log", "--oneline", "--graph", "-n", "12", "main"])
        .current_dir(repo)
        .output()
        .map_err(|e| Error::environment(format!("cannot run git: {e}")))?;
    print!("{}", indent(&String::from_utf8_lossy(&log.stdout)));
    let check = Command::new("sh")
        .args(["./check.sh", "--strict"])
        .current_dir(repo)
        .output()
        .map_err(|e| Error::environment(format!("cannot run the check: {e}")))?;
    print!("{}", indent(&String::from_utf8_lossy(&check.stdout)));
    if !check.status.success() {
        return Err(Error::environment(
            "the project's check fails on main after landing",
        ));
    }
    println!("   the project's check passes on main");
    Ok(())
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("     {l}\n")).collect()
}
