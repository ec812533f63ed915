//! The hermetic test environment every integration test uses: a temporary
//! HOME (and so `ORC_HOME` and the missions root), a real git repository,
//! git configuration pointed at /dev/null, a cleared environment, a fixed
//! clock, and helpers to run the real `orc` binary and git.
#![allow(dead_code)]

pub mod model;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

/// The fixed clock of every test (`ORC_NOW`).
pub const NOW: &str = "2026-11-21T09:30:00Z";

pub struct TestEnv {
    _tmp: tempfile::TempDir,
    pub root: PathBuf,
    pub home: PathBuf,
    pub repo: PathBuf,
    extra_env: Vec<(String, String)>,
}

/// What a finished command printed and returned.
#[derive(Debug, Clone)]
pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub what: String,
}

impl Output {
    /// Asserts exit 0 and returns self.
    #[track_caller]
    pub fn ok(self) -> Self {
        assert_eq!(
            self.code, 0,
            "{} failed\nstdout:\n{}\nstderr:\n{}",
            self.what, self.stdout, self.stderr
        );
        self
    }

    /// Asserts the exit code and returns self.
    #[track_caller]
    pub fn code(self, expected: i32) -> Self {
        assert_eq!(
            self.code, expected,
            "{}: expected exit {expected}\nstdout:\n{}\nstderr:\n{}",
            self.what, self.stdout, self.stderr
        );
        self
    }

    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("{}: stdout is not JSON ({e}):\n{}", self.what, self.stdout))
    }

    pub fn line(&self) -> String {
        self.stdout.trim().to_string()
    }
}

impl TestEnv {
    /// A fresh environment with an initialised git repository that has one
    /// commit on `main`.
    pub fn new() -> TestEnv {
        let env = TestEnv::bare();
        env.git(&["init", "-q", "-b", "main"]).ok();
        std::fs::write(env.repo.join("README.md"), "hello\n").unwrap();
        env.git(&["add", "README.md"]).ok();
        env.git(&["commit", "-q", "-m", "first"]).ok();
        env
    }

    /// A fresh environment whose repository directory exists but is empty
    /// (not a git repository).
    pub fn bare() -> TestEnv {
        let mut tmp = tempfile::tempdir().unwrap();
        // ORC_TEST_KEEP=1 leaves the directory in place, to look around
        // after a failure.
        if std::env::var_os("ORC_TEST_KEEP").is_some() {
            tmp.disable_cleanup(true);
        }
        let root = tmp.path().canonicalize().unwrap();
        let home = root.join("home");
        let repo = root.join("repo");
        std::fs::create_dir_all(&home).unwrap();
        std::fs::create_dir_all(&repo).unwrap();
        TestEnv {
            _tmp: tmp,
            root,
            home,
            repo,
            extra_env: Vec::new(),
        }
    }

    /// A fresh environment with the ledger initialised and one mission.
    pub fn with_mission() -> TestEnv {
        let env = TestEnv::new();
        env.orc(&["init"]).ok();
        env.orc(&["mission", "create", "Echo service"]).ok();
        env
    }

    /// Sets an environment variable for every later command.
    pub fn set_env(&mut self, key: &str, value: &str) {
        self.extra_env.push((key.into(), value.into()));
    }

    /// The `orc` binary under test.
    pub fn bin() -> PathBuf {
        PathBuf::from(env!("CARGO_BIN_EXE_orc"))
    }

    /// A command with the hermetic environment, run in `dir`.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>, dir: &Path) -> Command {
        let mut cmd = Command::new(program);
        cmd.current_dir(dir)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &self.home)
            .env("USER", "operator")
            .env("LANG", "C.UTF-8")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CEILING_DIRECTORIES", &self.root)
            .env("GIT_AUTHOR_NAME", "Test Person")
            .env("GIT_AUTHOR_EMAIL", "test@example.com")
            .env("GIT_COMMITTER_NAME", "Test Person")
            .env("GIT_COMMITTER_EMAIL", "test@example.com")
            .env("ORC_NOW", NOW)
            .stdin(Stdio::null());
        for (k, v) in &self.extra_env {
            cmd.env(k, v);
        }
        cmd
    }

    /// Runs `orc` in the repository.
    pub fn orc(&self, args: &[&str]) -> Output {
        self.orc_in(&self.repo, args)
    }

    /// Runs `orc` in `dir`.
    pub fn orc_in(&self, dir: &Path, args: &[&str]) -> Output {
        let mut cmd = self.command(Self::bin(), dir);
        cmd.args(args);
        run(cmd, format!("orc {}", args.join(" ")))
    }

    /// Runs git in the repository.
    pub fn git(&self, args: &[&str]) -> Output {
        self.git_in(&self.repo, args)
    }

    pub fn git_in(&self, dir: &Path, args: &[&str]) -> Output {
        let mut cmd = self.command("git", dir);
        cmd.args(args);
        run(cmd, format!("git {}", args.join(" ")))
    }

    /// The workspace directory of a mission.
    pub fn workspace(&self, mission: &str) -> PathBuf {
        let shown = self
            .orc(&["mission", "show", mission, "--json"])
            .ok()
            .json();
        PathBuf::from(shown["workspace"].as_str().unwrap())
    }

    /// The path of a work order's file.
    pub fn wo_file(&self, mission: &str, wo: &str) -> PathBuf {
        self.workspace(mission)
            .join(".orc/work-orders")
            .join(format!("{wo}.json"))
    }

    /// The ledger tip.
    pub fn tip(&self) -> String {
        self.git(&["rev-parse", "orc"]).ok().line()
    }

    /// How many commits the ledger has.
    pub fn ledger_commits(&self) -> usize {
        self.git(&["rev-list", "--count", "orc"])
            .ok()
            .line()
            .parse()
            .unwrap()
    }

    /// A file's content on the ledger tip.
    pub fn ledger_file(&self, path: &str) -> String {
        self.git(&["show", &format!("orc:{path}")]).ok().stdout
    }
}

/// The texts of a JSON list of notes (`[{"text": ...}, ...]`).
pub fn note_texts(notes: &Value) -> Vec<String> {
    notes
        .as_array()
        .expect("a list of notes")
        .iter()
        .map(|n| n["text"].as_str().expect("a note's text").to_string())
        .collect()
}

pub fn run(mut cmd: Command, what: String) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        what,
    }
}

/// Exit codes (spec/README.md, "Exit codes").
pub mod code {
    pub const USAGE: i32 = 2;
    pub const NOT_FOUND: i32 = 3;
    pub const CONFLICT: i32 = 4;
    pub const INVALID: i32 = 5;
    pub const ENVIRONMENT: i32 = 6;
}

/// Polls `cond` every 20 ms until it holds; panics after `timeout` with
/// what was awaited and the last state seen.
#[track_caller]
pub fn wait_until(
    what: &str,
    timeout: std::time::Duration,
    mut cond: impl FnMut() -> Result<(), String>,
) {
    let start = std::time::Instant::now();
    loop {
        match cond() {
            Ok(()) => return,
            Err(seen) if start.elapsed() > timeout => {
                panic!("timed out after {timeout:?} waiting for {what}; last seen: {seen}")
            }
            Err(_) => std::thread::sleep(std::time::Duration::from_millis(20)),
        }
    }
}

/// A private tmux server for one test, killed when dropped.
pub struct TmuxServer {
    pub socket: String,
}

impl TmuxServer {
    pub fn new() -> TmuxServer {
        use std::sync::atomic::{AtomicU32, Ordering};
        static N: AtomicU32 = AtomicU32::new(0);
        TmuxServer {
            socket: format!(
                "orc-test-{}-{}",
                std::process::id(),
                N.fetch_add(1, Ordering::Relaxed)
            ),
        }
    }

    /// Runs tmux on this server and returns stdout (empty on failure).
    pub fn run(&self, args: &[&str]) -> Output {
        let mut cmd = Command::new("tmux");
        cmd.arg("-L").arg(&self.socket).args(args);
        run(cmd, format!("tmux {}", args.join(" ")))
    }

    /// Panes as `id role grove mission dead path width left session window` rows.
    pub fn panes(&self) -> Vec<Vec<String>> {
        let out = self.run(&[
            "list-panes", "-a", "-F",
            "#{pane_id}\t#{@orc_role}\t#{@orc_grove}\t#{@orc_mission}\t#{pane_dead}\t#{pane_current_path}\t#{pane_width}\t#{pane_left}\t#{session_name}\t#{window_name}\t#{pane_start_command}",
        ]);
        out.stdout
            .lines()
            .map(|l| l.split('\t').map(str::to_string).collect())
            .collect()
    }

    /// The id of the pane with this role (and grove).
    pub fn pane(&self, role: &str, grove: Option<&str>) -> Option<String> {
        self.panes()
            .into_iter()
            .find(|p| p[1] == role && grove.is_none_or(|g| p[2] == g))
            .map(|p| p[0].clone())
    }

    pub fn capture(&self, pane: &str) -> String {
        self.run(&["capture-pane", "-p", "-J", "-t", pane]).stdout
    }

    /// The screen and its scrollback (where tmux keeps what a pane printed
    /// before it died).
    pub fn capture_all(&self, pane: &str) -> String {
        self.run(&["capture-pane", "-p", "-J", "-S", "-", "-t", pane])
            .stdout
    }
}

impl Drop for TmuxServer {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .arg("kill-server")
            .stderr(Stdio::null())
            .status();
    }
}

/// The repository's `fixtures/` directory.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// Puts an executable `name` first on PATH in `env` that prints `version`
/// for `--version` and otherwise waits for input (a stand-in for an agent
/// that is not installed on this machine).
pub fn fake_agent(env: &mut TestEnv, name: &str, version: &str) -> PathBuf {
    let bin = env.root.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let path = bin.join(name);
    std::fs::write(
        &path,
        format!(
            "#!/bin/sh\nif [ \"$1\" = --version ]; then echo '{version}'; exit 0; fi\nwhile read -r line; do :; done\n"
        ),
    )
    .unwrap();
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let path_var = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    env.set_env("PATH", &path_var);
    path
}
