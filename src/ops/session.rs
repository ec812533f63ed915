//! The session: everything a command needs to know about where and as whom
//! it runs — the repository and its ledger, the directory context, the
//! actor, the clock and the user's settings.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::ledger::{self, Ledger};
use crate::model::{self, DirKind, GroveId, MissionId, Timestamp};
use crate::store::context::{self, Found};
use crate::store::{OrcDir, Settings};

/// Process-wide options that shape a session (the CLI's global flags).
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Act as this actor (`--as`).
    pub actor: Option<String>,
    /// Use this ledger branch (`--ledger`).
    pub ledger: Option<String>,
    /// Run as if started in this directory (`-C`).
    pub cwd: Option<PathBuf>,
}

/// Where the command runs.
#[derive(Debug, Clone)]
pub enum Context {
    /// Inside a mission workspace.
    Mission { id: MissionId, dir: OrcDir },
    /// Inside a grove.
    Grove {
        id: GroveId,
        mission: MissionId,
        dir: OrcDir,
    },
    /// Anywhere else.
    None,
}

/// The role an agent plays in its directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Deputy,
    Imp,
    None,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Deputy => "deputy",
            Role::Imp => "imp",
            Role::None => "none",
        }
    }
}

pub struct Session {
    pub ledger: Ledger,
    pub settings: Settings,
    pub context: Context,
    pub actor: String,
    pub now: Timestamp,
    pub cwd: PathBuf,
}

impl Session {
    /// Opens the session for the current directory. The ledger branch need
    /// not exist (so that `orc init` can create it).
    pub fn open(opts: &Options) -> Result<Session> {
        let cwd = match &opts.cwd {
            Some(dir) => dir.clone(),
            None => std::env::current_dir().map_err(|e| {
                Error::environment(format!("cannot read the current directory: {e}"))
            })?,
        };
        let settings = Settings::load()?;
        let found = context::find(&cwd)?;
        let legacy = matches!(found, Found::Legacy { .. });
        let (repo, context, config_ledger) = match found {
            Found::Config { dir, config } => {
                let repo = match &config.repo {
                    Some(git_dir) => ledger::open_repo(Path::new(git_dir))?,
                    None => ledger::discover(&cwd)?,
                };
                let context = match config.kind {
                    DirKind::Mission => {
                        let id = config
                            .mission
                            .expect("validated: a mission config names its mission");
                        Context::Mission {
                            id,
                            dir: OrcDir::of_mission(dir.owner(), id),
                        }
                    }
                    DirKind::Grove => Context::Grove {
                        id: config
                            .grove
                            .expect("validated: a grove config names its grove"),
                        mission: config
                            .mission
                            .expect("validated: a grove config names its mission"),
                        dir,
                    },
                    DirKind::Global => Context::None,
                };
                (repo, context, config.ledger)
            }
            Found::Legacy { dir, mission } => {
                let repo = ledger::discover(&dir)?;
                let context = Context::Mission {
                    id: mission,
                    dir: OrcDir::of_mission(&dir, mission),
                };
                (repo, context, None)
            }
            Found::Nothing => (ledger::discover(&cwd)?, Context::None, None),
        };
        let branch = opts
            .ledger
            .clone()
            .or_else(|| std::env::var("ORC_LEDGER").ok().filter(|b| !b.is_empty()))
            .or(config_ledger)
            .or_else(|| {
                repo.config_snapshot()
                    .string("orc.ledger")
                    .map(|b| b.to_string())
            })
            .unwrap_or_else(|| ledger::DEFAULT_BRANCH.to_string());
        let actor = choose_actor(opts, &context, &repo)?;
        let ledger = Ledger::new(repo, &branch, settings.lock_timeout())?;
        let mut session = Session {
            ledger,
            settings,
            context,
            actor,
            now: now()?,
            cwd,
        };
        if legacy {
            // A legacy marker names the mission; its files live in the
            // workspace the ledger knows.
            if let Context::Mission { id, .. } = session.context {
                let dir = OrcDir::of_mission(Path::new(&session.ledger_mission(id)?.workspace), id);
                session.context = Context::Mission { id, dir };
            }
        }
        Ok(session)
    }

    pub fn role(&self) -> Role {
        match self.context {
            Context::Mission { .. } => Role::Deputy,
            Context::Grove { .. } => Role::Imp,
            Context::None => Role::None,
        }
    }

    /// The mission the directory belongs to, if any.
    pub fn context_mission(&self) -> Option<MissionId> {
        match &self.context {
            Context::Mission { id, .. } => Some(*id),
            Context::Grove { mission, .. } => Some(*mission),
            Context::None => None,
        }
    }

    /// The commit author for this session's actor at the session's time.
    pub fn author(&self) -> ledger::Author {
        ledger::Author {
            name: self.actor.clone(),
            email: model::actor::email(&self.actor),
            time: self.now.unix(),
        }
    }
}

/// `--as`, else `ORC_ACTOR`, else the directory's role (`DEPUTY-MISSION-001`,
/// `IMP-GROVE-001`), else the git user name, else `$USER`, else `operator`.
fn choose_actor(opts: &Options, context: &Context, repo: &gix::Repository) -> Result<String> {
    let explicit = opts
        .actor
        .clone()
        .or_else(|| std::env::var("ORC_ACTOR").ok().filter(|a| !a.is_empty()));
    let actor = match explicit {
        Some(a) => a,
        None => match context {
            Context::Mission { id, .. } => model::actor::deputy(*id),
            Context::Grove { id, .. } => model::actor::imp(*id),
            Context::None => repo
                .config_snapshot()
                .string("user.name")
                .map(|n| n.to_string())
                .filter(|n| model::actor::check_actor(n).is_ok())
                .or_else(|| std::env::var("USER").ok())
                .filter(|n| model::actor::check_actor(n).is_ok())
                .unwrap_or_else(|| "operator".to_string()),
        },
    };
    model::actor::check_actor(&actor)
        .map_err(|e| Error::usage(format!("--as / ORC_ACTOR: {e}")))?;
    Ok(actor)
}

/// The current time, or `ORC_NOW` (an RFC 3339 timestamp) when set, which
/// tests use for reproducible output.
pub fn now() -> Result<Timestamp> {
    if let Ok(fixed) = std::env::var("ORC_NOW")
        && !fixed.is_empty()
    {
        let ts = Timestamp::parse(&fixed).map_err(|e| Error::usage(format!("ORC_NOW: {e}")))?;
        if ts.unix() < 0 {
            // git's fsck rejects a commit dated before 1970.
            return Err(Error::usage(format!(
                "ORC_NOW: {fixed} is before 1970; git cannot date a commit then"
            )));
        }
        return Ok(Timestamp::from_unix(ts.unix()));
    }
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    Ok(Timestamp::from_unix(secs))
}

impl Session {
    /// The same session on another ledger branch.
    pub fn with_branch(&self, branch: &str) -> Result<Session> {
        Ok(Session {
            ledger: Ledger::new(
                self.ledger.repo().clone(),
                branch,
                self.settings.lock_timeout(),
            )?,
            settings: self.settings.clone(),
            context: self.context.clone(),
            actor: self.actor.clone(),
            now: self.now.clone(),
            cwd: self.cwd.clone(),
        })
    }
}

impl Session {
    /// The same session acting as `actor` (e.g. the IMP whose direct edit
    /// is being applied).
    pub fn with_actor(&self, actor: &str) -> Result<Session> {
        model::actor::check_actor(actor).map_err(Error::usage)?;
        let mut s = self.with_branch(self.ledger.branch())?;
        s.actor = actor.to_string();
        Ok(s)
    }
}
