//! The command line: clap definitions, dispatch, and rendering of results
//! as text or `--json`. Each command group lives in its own file and does
//! three things only: parse arguments, call `ops`, render.

mod agent;
mod config;
mod grove;
mod init;
mod mail;
mod mission;
mod query;
mod render;
mod review;
mod session;
mod work;
mod work_order;

use clap::{Parser, Subcommand};
use serde::Serialize;

use crate::error::{Error, Kind, Result};
use crate::ops::{Options, Session};

pub use render::Out;

#[derive(Debug, Parser)]
#[command(
    name = "orc",
    version,
    about = "Coordinates coding agents working in git worktrees",
    long_about = "orc coordinates a team of coding agents working in parallel in git worktrees. \
        State is JSON files in .orc/ directories; every change is a commit on the ledger branch \
        (default `orc`) of the project's own repository.",
    propagate_version = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, clap::Args)]
pub struct Global {
    /// Print machine-readable JSON (shapes in spec/README.md).
    #[arg(long, global = true)]
    pub json: bool,
    /// Act as this actor (commit author, claimer, note author).
    #[arg(long = "as", value_name = "ACTOR", global = true)]
    pub actor: Option<String>,
    /// Use this ledger branch instead of the configured one.
    #[arg(long, value_name = "BRANCH", global = true)]
    pub ledger: Option<String>,
    /// Run as if orc was started in DIR.
    #[arg(short = 'C', value_name = "DIR", global = true)]
    pub directory: Option<std::path::PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the ledger branch in this repository (idempotent).
    Init(init::InitArgs),
    /// Create and manage missions.
    #[command(subcommand)]
    Mission(mission::MissionCommand),
    /// Create, list and change work orders.
    #[command(subcommand, name = "work-order", visible_alias = "wo")]
    WorkOrder(work_order::WorkOrderCommand),
    /// Where the ledger stands and how the current mission is doing.
    Status(query::StatusArgs),
    /// A tree of missions and their work orders.
    Summary(query::SummaryArgs),
    /// Who and where this directory is: role, actor, mission, grove, ledger.
    Context(query::ContextArgs),
    /// History of the ledger, or of one entity.
    Log(query::LogArgs),
    /// Create and manage groves (git worktrees where IMPs work).
    #[command(subcommand)]
    Grove(grove::GroveCommand),
    /// Assign a work order (and its children) to a grove.
    Assign(work::AssignArgs),
    /// Take a grove's assignment back; its open work returns to ready.
    Unassign(work::UnassignArgs),
    /// Ready work and idle groves; --auto-claim assigns the most urgent.
    Discover(work::DiscoverArgs),
    /// Report on the grove's assignment (the IMP).
    #[command(subcommand)]
    Work(work::WorkCommand),
    /// Apply a pending direct edit of the grove's assigned-work.json.
    Apply(work::ApplyArgs),
    /// What a reviewer needs: acceptance criteria, the diff against the
    /// integration branch, the check's result, the notes.
    Review(review::ReviewArgs),
    /// Run the repository's check on a work order's handed-in work and
    /// record the result.
    Check(review::CheckArgs),
    /// Approve work in review; the merge train then lands it.
    Approve(review::ApproveArgs),
    /// Send work in review back to its grove, with the reason.
    Reject(review::RejectArgs),
    /// Run the merge train: land approved work on the integration branch.
    Merge(review::MergeArgs),
    /// Files attached to a work order, kept on the ledger.
    #[command(subcommand)]
    Artifact(review::ArtifactCommand),
    /// Messages between the deputy and the IMPs.
    #[command(subcommand)]
    Mail(mail::MailCommand),
    /// What an agent needs at session start, for its role.
    Prime(agent::PrimeArgs),
    /// What orc installs for agents in groves and mission workspaces:
    /// hooks, permissions, instructions, trust.
    #[command(subcommand)]
    Hooks(agent::HooksCommand),
    /// Rebuild a grove's or a mission workspace's .orc/ (and the grove's
    /// worktree) from the ledger.
    Restore(agent::RestoreArgs),
    /// Run by an agent's hooks: records what the agent is doing.
    #[command(hide = true)]
    Hook(agent::HookArgs),
    /// Repository settings shared through the ledger (grove setup, ...).
    #[command(subcommand)]
    Config(config::ConfigCommand),
    /// Check that everything orc needs is in place.
    Doctor,
    /// Watch the missions' files: commit direct edits, notify panes, dispatch.
    Watch(session::WatchArgs),
    /// Lay out the mission's tmux session: deputy, watcher, one window per grove.
    Deploy(session::DeployArgs),
    /// End the mission's tmux session.
    Teardown(session::TeardownArgs),
    /// Attach to the mission's tmux session.
    Attach(session::TeardownArgs),
    /// Watch a mission run itself on a built-in example (needs git and tmux).
    Demo(DemoArgs),
    /// What an agent pane runs: this orc first on PATH, then the command.
    #[command(hide = true)]
    PaneExec {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, required = true)]
        command: Vec<String>,
    },
}

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Leave the repository, the ledger and the tmux session in place.
    #[arg(long)]
    pub keep: bool,
    /// Give up after this many seconds.
    #[arg(long, default_value = "180")]
    pub timeout: u64,
    /// Seconds the scripted agents pause before each step (0: full speed).
    #[arg(long, default_value = "1")]
    pub pace: f64,
}

/// Runs orc with the process arguments and returns the exit code.
pub fn run() -> i32 {
    init_tracing();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            if !e.use_stderr() {
                // --help, --version
                let _ = e.print();
                return 0;
            }
            // A script that asked for JSON gets its error as JSON too.
            let json = std::env::args()
                .skip(1)
                .take_while(|a| a != "--")
                .any(|a| a == "--json");
            if json {
                let text = e.render().to_string();
                // The first paragraph, on one line.
                let message = text
                    .lines()
                    .skip_while(|l| l.trim().is_empty())
                    .take_while(|l| !l.trim().is_empty())
                    .map(str::trim)
                    .collect::<Vec<_>>()
                    .join(" ")
                    .trim_start_matches("error: ")
                    .to_string();
                let usage = text
                    .lines()
                    .find(|l| l.starts_with("Usage:"))
                    .map(|l| format!("usage: {}", l.trim_start_matches("Usage:").trim()));
                let mut err = Error::usage(message);
                err.hint = usage;
                Out::new(true).error(&err);
            } else {
                let _ = e.print();
            }
            return Kind::Usage.exit_code();
        }
    };
    let out = Out::new(cli.global.json);
    match dispatch(&cli, &out) {
        Ok(()) => 0,
        Err(err) => {
            out.error(&err);
            err.exit_code()
        }
    }
}

fn dispatch(cli: &Cli, out: &Out) -> Result<()> {
    let opts = Options {
        actor: cli.global.actor.clone(),
        ledger: cli.global.ledger.clone(),
        cwd: cli.global.directory.clone(),
    };
    if let Command::Watch(args) = &cli.command {
        return session::watch(&opts, args);
    }
    if let Command::PaneExec { command } = &cli.command {
        std::process::exit(crate::deploy::pane_exec(command));
    }
    if let Command::Hook(args) = &cli.command {
        return agent::hook(&opts, args, out);
    }
    if let Command::Demo(args) = &cli.command {
        return crate::demo::run(&crate::demo::Options {
            keep: args.keep,
            timeout: std::time::Duration::from_secs(args.timeout),
            pace: args.pace,
        });
    }
    let session = Session::open(&opts)?;
    apply_pending_here(&session, &cli.command);
    match &cli.command {
        Command::Init(args) => init::run(&session, args, out),
        Command::Mission(cmd) => mission::run(&session, cmd, out),
        Command::WorkOrder(cmd) => work_order::run(&session, cmd, out),
        Command::Status(args) => query::status(&session, args, out),
        Command::Summary(args) => query::summary(&session, args, out),
        Command::Context(args) => query::context(&session, args, out),
        Command::Log(args) => query::log(&session, args, out),
        Command::Grove(cmd) => grove::run(&session, cmd, out),
        Command::Assign(args) => work::assign(&session, args, out),
        Command::Unassign(args) => work::unassign(&session, args, out),
        Command::Discover(args) => work::discover(&session, args, out),
        Command::Work(cmd) => work::work(&session, cmd, out),
        Command::Apply(args) => work::apply(&session, args, out),
        Command::Review(args) => review::show(&session, args, out),
        Command::Check(args) => review::check(&session, args, out),
        Command::Approve(args) => review::approve(&session, args, out),
        Command::Reject(args) => review::reject(&session, args, out),
        Command::Merge(args) => review::merge(&session, args, out),
        Command::Artifact(cmd) => review::artifact(&session, cmd, out),
        Command::Mail(cmd) => mail::run(&session, cmd, out),
        Command::Prime(args) => agent::prime(&session, args, out),
        Command::Hooks(cmd) => agent::hooks(&session, cmd, out),
        Command::Doctor => agent::doctor(&session, out),
        Command::Config(cmd) => config::run(&session, cmd, out),
        Command::Restore(args) => agent::restore(&session, args, out),
        Command::Watch(_) | Command::Demo(_) | Command::Hook(_) | Command::PaneExec { .. } => {
            unreachable!("handled above")
        }
        Command::Deploy(args) => session::deploy(&session, args, out),
        Command::Teardown(args) => session::teardown(&session, args, out),
        Command::Attach(args) => session::attach(&session, args),
    }
}

/// In a grove, every command first applies a pending direct edit of
/// `assigned-work.json` (`orc apply` does only that and reports itself).
/// A refused edit is reported on stderr; the command goes on.
fn apply_pending_here(s: &Session, command: &Command) {
    let crate::ops::Context::Grove { id, .. } = &s.context else {
        return;
    };
    if matches!(command, Command::Apply(_) | Command::Init(_))
        || s.ledger.tip().ok().flatten().is_none()
    {
        return;
    }
    match crate::ops::report::apply_pending(s, *id) {
        Ok(crate::ops::report::Applied::Rejected { reason, kept, .. }) => {
            eprintln!(
                "orc: your edit of .orc/assigned-work.json was not applied: {reason}\n\
                 orc: the edited file is kept at {}; the last good version is restored",
                kept.display()
            );
        }
        Ok(_) => {}
        Err(e) => eprintln!(
            "orc: could not apply the edit of .orc/assigned-work.json: {}",
            e.message
        ),
    }
}

fn init_tracing() {
    // An EnvFilter makes every tracing callsite dynamic, which costs a
    // couple of milliseconds per command; a plain level filter does not.
    match std::env::var("ORC_LOG") {
        Ok(spec) if !spec.is_empty() => {
            let filter = tracing_subscriber::EnvFilter::new(spec);
            let _ = tracing_subscriber::fmt()
                .with_env_filter(filter)
                .with_writer(std::io::stderr)
                .try_init();
        }
        _ => {
            let _ = tracing_subscriber::fmt()
                .with_max_level(tracing::Level::WARN)
                .with_writer(std::io::stderr)
                .try_init();
        }
    }
}

/// Parses an id given on the command line; a malformed one is a usage
/// error, refused before anything is read.
pub(crate) fn parse_id<T>(text: &str, parse: fn(&str) -> Result<T>) -> Result<T> {
    parse(text).map_err(|e| Error::new(Kind::Usage, e.message))
}

/// Parses `WO-1,WO-2` lists (repeated arguments are allowed too).
pub(crate) fn parse_ids<T>(texts: &[String], parse: fn(&str) -> Result<T>) -> Result<Vec<T>> {
    texts
        .iter()
        .flat_map(|t| t.split(','))
        .map(|t| parse_id(t.trim(), parse))
        .collect()
}

/// Serialises any value for `--json`.
pub(crate) fn to_json<T: Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).expect("orc output always serialises")
}
