//! Agent profiles: how orc runs and talks to one kind of coding agent.
//!
//! A profile has a kind (which decides how orc installs its context, hooks,
//! permissions and trust, and how it reads the agent's screen), a command,
//! and what else the agent may do without asking. `claude` and `codex` are
//! built in; `[profiles.NAME]` in `orc.toml` adds or overrides profiles.
//! `agent = ...` and `deputy = ...` name a profile or, as before profiles
//! existed, give a command line, whose kind is guessed from the program.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{Error, Result};
use crate::store::Settings;
use crate::store::settings::{CommandLine, ProfileSettings};

/// What kind of agent a profile runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AgentKind {
    /// Claude Code: hooks, permissions and trust in its settings files.
    Claude,
    /// The Codex CLI: `AGENTS.md`, a project config, trust in its config.
    Codex,
    /// Anything else (a script): orc installs nothing and types nudges.
    Plain,
}

impl AgentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AgentKind::Claude => "claude",
            AgentKind::Codex => "codex",
            AgentKind::Plain => "plain",
        }
    }

    pub fn parse(text: &str) -> Option<AgentKind> {
        match text {
            "claude" => Some(AgentKind::Claude),
            "codex" => Some(AgentKind::Codex),
            "plain" => Some(AgentKind::Plain),
            _ => None,
        }
    }

    /// The kind of a command, from its program's file name.
    pub fn guess(command: &[String]) -> AgentKind {
        // `env claude ...` and `env VAR=x claude ...` run claude.
        let program = command
            .iter()
            .find(|w| w.as_str() != "env" && !w.contains('='))
            .map(|w| w.rsplit('/').next().unwrap_or(w))
            .unwrap_or("");
        match program {
            "claude" => AgentKind::Claude,
            "codex" => AgentKind::Codex,
            _ => AgentKind::Plain,
        }
    }
}

impl fmt::Display for AgentKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which role an agent plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AgentRole {
    Deputy,
    Imp,
}

impl AgentRole {
    pub fn as_str(self) -> &'static str {
        match self {
            AgentRole::Deputy => "deputy",
            AgentRole::Imp => "imp",
        }
    }
}

/// A resolved profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Profile {
    /// The profile's name, or the command as written for a command line.
    pub name: String,
    pub kind: AgentKind,
    pub command: Vec<String>,
    /// Extra permissions, in the agent's own terms.
    pub allow: Vec<String>,
}

/// The built-in profiles.
const BUILT_IN: [(&str, AgentKind); 2] =
    [("claude", AgentKind::Claude), ("codex", AgentKind::Codex)];

impl Profile {
    /// The profile called `name`, if there is one.
    pub fn named(settings: &Settings, name: &str) -> Result<Option<Profile>> {
        let custom = settings.profiles.get(name);
        let built_in = BUILT_IN.iter().find(|(n, _)| *n == name).map(|(_, k)| *k);
        if custom.is_none() && built_in.is_none() {
            return Ok(None);
        }
        let empty = ProfileSettings::default();
        let p = custom.unwrap_or(&empty);
        let command = p
            .command
            .as_ref()
            .map(CommandLine::words)
            .filter(|w| !w.is_empty());
        let kind = match &p.kind {
            Some(k) => AgentKind::parse(k).ok_or_else(|| {
                Error::invalid(format!(
                    "orc.toml: profiles.{name}.kind is {k:?}; expected claude, codex or plain"
                ))
            })?,
            None => match (built_in, &command) {
                (Some(k), _) => k,
                (None, Some(c)) => AgentKind::guess(c),
                (None, None) => {
                    return Err(Error::invalid(format!(
                        "orc.toml: profile {name:?} has neither a kind nor a command"
                    ))
                    .with_hint("add `command = \"...\"` to [profiles.NAME]"));
                }
            },
        };
        let command = command.unwrap_or_else(|| match kind {
            AgentKind::Plain => vec![name.to_string()],
            k => vec![k.as_str().to_string()],
        });
        Ok(Some(Profile {
            name: name.to_string(),
            kind,
            command,
            allow: p.allow.clone(),
        }))
    }

    /// A profile name, or a command line (one word that names no profile
    /// is a command too).
    pub fn resolve(settings: &Settings, words: &[String]) -> Result<Profile> {
        if let [one] = words
            && let Some(p) = Profile::named(settings, one)?
        {
            return Ok(p);
        }
        Ok(Profile {
            name: words.join(" "),
            kind: AgentKind::guess(words),
            command: words.to_vec(),
            allow: Vec::new(),
        })
    }

    /// The IMPs' profile: the grove's own (`grove create --agent`), else
    /// `agent` of the settings.
    pub fn for_imp(settings: &Settings, grove_agent: Option<&str>) -> Result<Profile> {
        match grove_agent {
            Some(name) => Profile::named(settings, name)?.ok_or_else(|| unknown(settings, name)),
            None => Profile::resolve(settings, &settings.agent_words()),
        }
    }

    /// The deputy's profile.
    pub fn for_deputy(settings: &Settings) -> Result<Profile> {
        Profile::resolve(settings, &settings.deputy_words())
    }

    /// The program the command runs, found on PATH (or as given when it
    /// is a path), or an error saying how to install it.
    pub fn program(&self) -> Result<PathBuf> {
        let words: Vec<&String> = self
            .command
            .iter()
            .skip_while(|w| w.as_str() == "env" || w.contains('='))
            .collect();
        let Some(program) = words.first() else {
            return Err(Error::environment(format!(
                "the agent profile {:?} has an empty command",
                self.name
            )));
        };
        find_program(program).ok_or_else(|| {
            let how = match self.kind {
                AgentKind::Claude => {
                    "install Claude Code (`npm install -g @anthropic-ai/claude-code`)"
                }
                AgentKind::Codex => "install the Codex CLI (`npm install -g @openai/codex`)",
                AgentKind::Plain => "install it",
            };
            Error::environment(format!(
                "the agent command {program:?} (profile {:?}) is not installed or not on PATH",
                self.name
            ))
            .with_hint(format!(
                "{how}, or set `agent`/`deputy` or [profiles.{}] in ~/.orc/orc.toml",
                self.name
            ))
        })
    }
}

/// The profile names `grove create --agent` accepts.
pub fn names(settings: &Settings) -> Vec<String> {
    let mut out: Vec<String> = BUILT_IN.iter().map(|(n, _)| n.to_string()).collect();
    for name in settings.profiles.keys() {
        if !out.contains(name) {
            out.push(name.clone());
        }
    }
    out
}

fn unknown(settings: &Settings, name: &str) -> Error {
    Error::not_found(format!("no agent profile named {name:?}")).with_hint(format!(
        "known profiles: {}; add [profiles.{name}] to ~/.orc/orc.toml",
        names(settings).join(", ")
    ))
}

/// `program` as an executable file: a path as given, else the first match
/// on PATH.
pub fn find_program(program: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let executable = |p: &Path| {
        std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if program.contains('/') {
        let p = PathBuf::from(program);
        return executable(&p).then_some(p);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|p| executable(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(toml: &str) -> Settings {
        toml::from_str(toml).unwrap()
    }

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn a_name_is_a_profile_and_anything_else_a_command() {
        let s = settings("");
        let p = Profile::for_imp(&s, None).unwrap();
        assert_eq!(
            (p.kind, p.command.clone()),
            (AgentKind::Claude, words("claude"))
        );
        let p = Profile::resolve(&s, &words("codex")).unwrap();
        assert_eq!(p.kind, AgentKind::Codex);
        let p = Profile::resolve(&s, &words("claude --model opus")).unwrap();
        assert_eq!((p.kind, p.command.len()), (AgentKind::Claude, 3));
        let p = Profile::resolve(&s, &words("sh fixtures/agents/imp.sh")).unwrap();
        assert_eq!(p.kind, AgentKind::Plain);
        let p = Profile::resolve(&s, &words("env FOO=1 /opt/bin/codex")).unwrap();
        assert_eq!(p.kind, AgentKind::Codex);
    }

    #[test]
    fn profiles_override_and_extend_the_built_in_ones() {
        let s = settings(
            r#"
            agent = "fast"
            [profiles.fast]
            command = "claude --model haiku"
            allow = ["Bash(cargo test *)"]
            [profiles.codex]
            command = ["/opt/codex", "--profile", "x"]
            [profiles.script]
            kind = "plain"
            command = "sh imp.sh"
            "#,
        );
        let p = Profile::for_imp(&s, None).unwrap();
        assert_eq!(p.name, "fast");
        assert_eq!(p.kind, AgentKind::Claude);
        assert_eq!(p.allow, ["Bash(cargo test *)"]);
        let p = Profile::for_imp(&s, Some("codex")).unwrap();
        assert_eq!(
            (p.kind, p.command[0].as_str()),
            (AgentKind::Codex, "/opt/codex")
        );
        assert_eq!(
            Profile::for_imp(&s, Some("script")).unwrap().kind,
            AgentKind::Plain
        );
        let e = Profile::for_imp(&s, Some("nope")).unwrap_err();
        assert!(e.hint.unwrap().contains("claude, codex, fast, script"));
    }

    #[test]
    fn a_bad_kind_is_named() {
        let s = settings("[profiles.x]\nkind = \"gpt\"\ncommand = \"x\"\n");
        let e = Profile::for_imp(&s, Some("x")).unwrap_err();
        assert!(e.message.contains("profiles.x.kind"), "{}", e.message);
    }
}
