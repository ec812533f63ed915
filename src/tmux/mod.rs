//! tmux: the only place orc runs tmux.
//!
//! Every call passes argv (never a shell string) and honours the socket
//! (`-L NAME`) the user chose with `--socket` or `ORC_TMUX_SOCKET`. Pane
//! commands are given as several argv words so that tmux runs them with
//! `execvp`, without a shell. orc finds panes by the pane options it sets
//! (`@orc_role`, `@orc_grove`, `@orc_mission`), never by index. Text sent to
//! a pane is typed literally (`send-keys -l`) and Enter is a separate call.

use std::path::Path;
use std::process::{Command, Output};

use crate::error::{Error, Result};

/// The oldest tmux orc supports (pane options with `set-option -p`,
/// commands as argv, `-e` for new windows).
pub const MIN_TMUX: (u32, u32) = (3, 0);

/// The pane options orc sets and reads.
pub const ROLE: &str = "@orc_role";
pub const GROVE: &str = "@orc_grove";
pub const MISSION: &str = "@orc_mission";
pub const STATUS: &str = "@orc_status";
/// The kind of agent an agent pane runs (`claude`, `codex`, `plain`).
pub const AGENT: &str = "@orc_agent";

/// A tmux server, reached on a named socket or the default one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tmux {
    socket: Option<String>,
}

/// A pane as `list-panes` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pane {
    pub id: String,
    pub session: String,
    pub window: String,
    pub role: String,
    pub grove: String,
    pub mission: String,
    pub dead: bool,
    pub path: String,
    pub command: String,
    pub width: u32,
    /// The kind of agent (`@orc_agent`), for agent panes.
    pub agent: String,
    /// The process tmux started in the pane.
    pub pid: u32,
    /// The command the pane was started with, as tmux shows it.
    pub start: String,
}

const PANE_FORMAT: &str = "#{pane_id}\t#{session_name}\t#{window_name}\t#{@orc_role}\t#{@orc_grove}\t#{@orc_mission}\t#{pane_dead}\t#{pane_current_path}\t#{pane_current_command}\t#{pane_width}\t#{@orc_agent}\t#{pane_pid}\t#{pane_start_command}";

impl Tmux {
    /// The server on `socket` (`-L`), else `ORC_TMUX_SOCKET`, else the
    /// default (or the one of the pane orc runs in).
    pub fn new(socket: Option<&str>) -> Tmux {
        let socket = socket
            .map(str::to_string)
            .or_else(|| std::env::var("ORC_TMUX_SOCKET").ok())
            .filter(|s| !s.is_empty());
        Tmux { socket }
    }

    pub fn socket(&self) -> Option<&str> {
        self.socket.as_deref()
    }

    /// The argv prefix to reach this server (`tmux -L NAME`).
    pub fn argv(&self) -> Vec<String> {
        let mut v = vec!["tmux".to_string()];
        if let Some(s) = &self.socket {
            v.push("-L".into());
            v.push(s.clone());
        }
        v
    }

    fn command(&self) -> Command {
        let argv = self.argv();
        let mut cmd = Command::new(&argv[0]);
        cmd.args(&argv[1..]);
        cmd.stdin(std::process::Stdio::null());
        cmd
    }

    fn run(&self, args: &[&str]) -> Result<Output> {
        let mut cmd = self.command();
        cmd.args(args);
        cmd.output().map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                Error::environment("tmux is not installed or not on PATH")
                    .with_hint("install tmux 3.0 or newer (Debian: apt-get install tmux)")
            } else {
                Error::environment(format!("cannot run tmux: {e}"))
            }
        })
    }

    /// Runs a tmux command and returns its stdout; a failure names the
    /// command and what tmux said.
    pub fn call(&self, args: &[&str]) -> Result<String> {
        let out = self.run(args)?;
        if !out.status.success() {
            return Err(Error::environment(format!(
                "tmux {} failed: {}",
                args.first().copied().unwrap_or(""),
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Checks that tmux is installed and recent enough.
    pub fn check(&self) -> Result<()> {
        let v = version()?;
        if v < MIN_TMUX {
            return Err(Error::environment(format!(
                "tmux {}.{} is too old; orc needs {}.{} or newer",
                v.0, v.1, MIN_TMUX.0, MIN_TMUX.1
            )));
        }
        Ok(())
    }

    pub fn has_session(&self, name: &str) -> bool {
        self.run(&["has-session", "-t", &format!("={name}")])
            .is_ok_and(|o| o.status.success())
    }

    /// Creates a detached session whose first window runs `argv` in `dir`;
    /// returns the new pane's id.
    pub fn new_session(
        &self,
        session: &str,
        window: &str,
        dir: &Path,
        argv: &[String],
    ) -> Result<String> {
        let window = literal(window);
        let options = ["-s", session, "-n", &window, "-x", "200", "-y", "50"];
        self.new_pane("new-session", &options, dir, argv)
    }

    /// Adds a window to `session` running `argv` in `dir`; returns the pane id.
    pub fn new_window(
        &self,
        session: &str,
        window: &str,
        dir: &Path,
        argv: &[String],
    ) -> Result<String> {
        let target = format!("={session}:");
        let window = literal(window);
        self.new_pane("new-window", &["-t", &target, "-n", &window], dir, argv)
    }

    /// Splits `pane` (`horizontal`: side by side) giving the new pane
    /// `percent` of the space; returns the new pane's id.
    pub fn split(
        &self,
        pane: &str,
        horizontal: bool,
        percent: u32,
        dir: &Path,
        argv: &[String],
    ) -> Result<String> {
        let size = format!("{percent}%");
        let side = if horizontal { "-h" } else { "-v" };
        let options = ["-t", pane, side, "-l", &size];
        self.new_pane("split-window", &options, dir, argv)
    }

    /// Runs `command` (one that makes a pane) detached with `options`, the
    /// new pane in `dir` running `argv`; returns the new pane's id.
    fn new_pane(
        &self,
        command: &str,
        options: &[&str],
        dir: &Path,
        argv: &[String],
    ) -> Result<String> {
        let dir = literal(&dir.display().to_string());
        let mut args = vec![command, "-d", "-P", "-F", "#{pane_id}", "-c", &dir];
        args.extend_from_slice(options);
        args.extend(argv.iter().map(String::as_str));
        Ok(self.call(&args)?.trim().to_string())
    }

    pub fn set_pane_option(&self, pane: &str, key: &str, value: &str) -> Result<()> {
        self.call(&["set-option", "-p", "-t", pane, key, value])
            .map(|_| ())
    }

    /// Keeps a pane on screen after its command exits, so a dead agent is
    /// visible (and detectable) instead of vanishing.
    pub fn remain_on_exit(&self, pane: &str) -> Result<()> {
        self.call(&["set-option", "-p", "-t", pane, "remain-on-exit", "on"])
            .map(|_| ())
    }

    /// Every pane of the server (none when no server runs).
    pub fn panes(&self) -> Result<Vec<Pane>> {
        let out = self.run(&["list-panes", "-a", "-F", PANE_FORMAT])?;
        if !out.status.success() {
            // No server running: no panes.
            return Ok(Vec::new());
        }
        Ok(String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(parse_pane)
            .collect())
    }

    /// Types `text` literally into `pane`, then presses Enter with a
    /// separate `send-keys` (two tmux commands, one tmux process: `;` is
    /// tmux's command separator, passed as its own argument).
    pub fn send_line(&self, pane: &str, text: &str) -> Result<()> {
        self.call(&[
            "send-keys",
            "-t",
            pane,
            "-l",
            "--",
            text,
            ";",
            "send-keys",
            "-t",
            pane,
            "Enter",
        ])
        .map(|_| ())
    }

    /// Types `text` literally into `pane` (no Enter).
    pub fn send_text(&self, pane: &str, text: &str) -> Result<()> {
        self.call(&["send-keys", "-t", pane, "-l", "--", text])
            .map(|_| ())
    }

    /// Presses Enter in `pane`.
    pub fn send_enter(&self, pane: &str) -> Result<()> {
        self.call(&["send-keys", "-t", pane, "Enter"]).map(|_| ())
    }

    /// The visible screen of `pane` with its attributes as escape
    /// sequences (to tell dimmed placeholder text from typed text).
    pub fn capture_styled(&self, pane: &str) -> Result<String> {
        self.call(&["capture-pane", "-p", "-e", "-t", pane])
    }

    /// The value of a pane option (empty when unset).
    pub fn pane_option(&self, pane: &str, key: &str) -> Result<String> {
        let format = format!("#{{{key}}}");
        Ok(self
            .call(&["display-message", "-p", "-t", pane, &format])?
            .trim()
            .to_string())
    }

    /// Whether `pane` is dead (its command exited); None when there is no
    /// such pane.
    pub fn pane_dead(&self, pane: &str) -> Option<bool> {
        let out = self
            .call(&["display-message", "-p", "-t", pane, "#{pane_dead}"])
            .ok()?;
        Some(out.trim() == "1")
    }

    /// Shows `text` to the clients attached to `session`.
    pub fn display(&self, session: &str, text: &str) -> Result<()> {
        let clients = self.call(&[
            "list-clients",
            "-t",
            &format!("={session}"),
            "-F",
            "#{client_name}",
        ])?;
        let text = literal(text);
        for client in clients.lines().filter(|l| !l.is_empty()) {
            self.call(&["display-message", "-c", client, "--", &text])?;
        }
        Ok(())
    }

    pub fn capture(&self, pane: &str) -> Result<String> {
        self.call(&["capture-pane", "-p", "-J", "-t", pane])
    }

    /// Restarts `pane` with `argv` in `dir` (killing what runs there).
    pub fn respawn(&self, pane: &str, dir: &Path, argv: &[String]) -> Result<()> {
        let dir = literal(&dir.display().to_string());
        let mut args = vec!["respawn-pane", "-k", "-t", pane, "-c", &dir];
        args.extend(argv.iter().map(String::as_str));
        self.call(&args).map(|_| ())
    }

    pub fn kill_session(&self, session: &str) -> Result<()> {
        self.call(&["kill-session", "-t", &format!("={session}")])
            .map(|_| ())
    }

    pub fn kill_pane(&self, pane: &str) -> Result<()> {
        self.call(&["kill-pane", "-t", pane]).map(|_| ())
    }
}

/// `text` for a place where tmux expands formats (`-n` window names, `-c`
/// directories, `display-message`): every `#` doubled, so `#(cmd)` runs
/// nothing and `#{...}` expands to nothing; tmux shows the text as it is.
pub fn literal(text: &str) -> String {
    text.replace('#', "##")
}

fn parse_pane(line: &str) -> Option<Pane> {
    let f: Vec<&str> = line.split('\t').collect();
    if f.len() < 13 {
        return None;
    }
    Some(Pane {
        id: f[0].into(),
        session: f[1].into(),
        window: f[2].into(),
        role: f[3].into(),
        grove: f[4].into(),
        mission: f[5].into(),
        dead: f[6] == "1",
        path: f[7].into(),
        command: f[8].into(),
        width: f[9].parse().unwrap_or(0),
        agent: f[10].into(),
        pid: f[11].parse().unwrap_or(0),
        start: f[12..].join("\t"),
    })
}

/// The installed tmux's version, as (major, minor).
pub fn version() -> Result<(u32, u32)> {
    let out = Command::new("tmux").arg("-V").output().map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            Error::environment("tmux is not installed or not on PATH")
                .with_hint("install tmux 3.0 or newer (Debian: apt-get install tmux)")
        } else {
            Error::environment(format!("cannot run tmux: {e}"))
        }
    })?;
    let text = String::from_utf8_lossy(&out.stdout);
    parse_version(&text).ok_or_else(|| {
        Error::environment(format!(
            "cannot read the tmux version from {:?}",
            text.trim()
        ))
    })
}

fn parse_version(text: &str) -> Option<(u32, u32)> {
    // "tmux 3.3a", "tmux next-3.4", "tmux 3.2"
    let v = text.split_whitespace().nth(1)?;
    let v = v.trim_start_matches("next-");
    let mut parts = v.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor: String = parts
        .next()?
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    Some((major, minor.parse().ok()?))
}

/// A command line from settings (`"claude --flag"` or `["claude", "--flag"]`)
/// as argv for a pane. A single word is run through `env` so that tmux
/// still gets several words and execs it without a shell.
pub fn pane_argv(words: Vec<String>) -> Vec<String> {
    if words.len() == 1 {
        let mut v = vec!["env".to_string()];
        v.extend(words);
        v
    } else {
        words
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn versions() {
        assert_eq!(super::parse_version("tmux 3.3a\n"), Some((3, 3)));
        assert_eq!(super::parse_version("tmux next-3.5"), Some((3, 5)));
        assert_eq!(super::parse_version("tmux 2.9"), Some((2, 9)));
        assert_eq!(super::parse_version("garbage"), None);
    }

    #[test]
    fn single_words_are_execed_through_env() {
        assert_eq!(super::pane_argv(vec!["claude".into()]), ["env", "claude"]);
        assert_eq!(
            super::pane_argv(vec!["vim".into(), "-n".into()]),
            ["vim", "-n"]
        );
    }
}
