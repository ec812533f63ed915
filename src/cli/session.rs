//! `orc watch`, `orc deploy`, `orc teardown`, `orc attach`.

use super::{Out, parse_id, to_json};
use crate::deploy::{self, WatchFlags};
use crate::error::{Error, Result};
use crate::model::MissionId;
use crate::ops::Session;
use crate::tmux::Tmux;
use crate::watch;

#[derive(Debug, clap::Args)]
pub struct WatchArgs {
    /// Watch only this mission (default: every active mission of the ledger).
    pub mission: Option<String>,
    /// The tmux socket (`-L NAME`) to notify on (default: ORC_TMUX_SOCKET, or the tmux orc runs in).
    #[arg(long, value_name = "NAME")]
    pub socket: Option<String>,
    /// Assign ready work to idle groves automatically.
    #[arg(long)]
    pub dispatch: bool,
    /// Run the merge train as work is approved (approved work lands on the
    /// mission's integration branch).
    #[arg(long)]
    pub merge: bool,
    /// Report an assignment without a report for this long (e.g. 10m, 90s).
    #[arg(long, value_name = "DURATION", default_value = "10m")]
    pub idle_after: String,
    /// How often to check panes, silence and dispatch.
    #[arg(long, value_name = "DURATION", default_value = "2s")]
    pub interval: String,
    /// How often to compare every file with the ledger.
    #[arg(long, value_name = "DURATION", default_value = "60s")]
    pub reconcile: String,
    /// How long an invalid edit must be left alone before it is refused
    /// (a file being written in place looks invalid until it is done).
    #[arg(long, value_name = "DURATION", default_value = "1s")]
    pub settle: String,
    /// How long a nudge may wait for its agent (to start, to finish a
    /// dialog, for a person to stop typing) before it is reported stranded.
    #[arg(long, value_name = "DURATION", default_value = "2m")]
    pub nudge_timeout: String,
}

#[derive(Debug, clap::Args)]
pub struct DeployArgs {
    pub mission: Option<String>,
    /// The tmux socket (`-L NAME`; default: ORC_TMUX_SOCKET, else tmux's default).
    #[arg(long, value_name = "NAME")]
    pub socket: Option<String>,
    /// Attach to the session afterwards.
    #[arg(long)]
    pub attach: bool,
    /// Run the watcher with --dispatch.
    #[arg(long)]
    pub dispatch: bool,
    /// Run the watcher with --merge.
    #[arg(long)]
    pub merge: bool,
    /// Passed to the watcher.
    #[arg(long, value_name = "DURATION")]
    pub idle_after: Option<String>,
    /// Passed to the watcher.
    #[arg(long, value_name = "DURATION")]
    pub interval: Option<String>,
    /// Passed to the watcher.
    #[arg(long, value_name = "DURATION")]
    pub nudge_timeout: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct TeardownArgs {
    pub mission: Option<String>,
    #[arg(long, value_name = "NAME")]
    pub socket: Option<String>,
}

fn check_socket(socket: &Option<String>) -> Result<()> {
    if let Some(sock) = socket {
        crate::store::settings::check_socket_name(sock)
            .map_err(|e| Error::usage(format!("--socket: {e}")))?;
    }
    Ok(())
}

fn mission(s: &Session, text: &Option<String>) -> Result<MissionId> {
    s.resolve_mission(
        text.as_deref()
            .map(|m| parse_id(m, MissionId::parse))
            .transpose()?,
    )
}

pub fn watch(opts: &crate::ops::Options, args: &WatchArgs) -> Result<()> {
    check_socket(&args.socket)?;
    let mission = args
        .mission
        .as_deref()
        .map(|m| parse_id(m, MissionId::parse))
        .transpose()?;
    watch::run(
        opts,
        watch::Options {
            mission,
            socket: args.socket.clone(),
            dispatch: args.dispatch,
            merge: args.merge,
            idle_after: watch::parse_duration(&args.idle_after)?,
            interval: watch::parse_duration(&args.interval)?
                .max(std::time::Duration::from_millis(20)),
            reconcile: watch::parse_duration(&args.reconcile)?,
            settle: watch::parse_duration(&args.settle)?,
            nudge_timeout: watch::parse_duration(&args.nudge_timeout)?,
        },
    )
}

pub fn deploy(s: &Session, args: &DeployArgs, out: &Out) -> Result<()> {
    let m = mission(s, &args.mission)?;
    for d in [&args.idle_after, &args.interval, &args.nudge_timeout]
        .into_iter()
        .flatten()
    {
        watch::parse_duration(d)?;
    }
    check_socket(&args.socket)?;
    let tmux = Tmux::new(args.socket.as_deref());
    let deployed = deploy::deploy(
        s,
        &tmux,
        m,
        &WatchFlags {
            dispatch: args.dispatch,
            merge: args.merge,
            idle_after: args.idle_after.clone(),
            interval: args.interval.clone(),
            nudge_timeout: args.nudge_timeout.clone(),
        },
    )?;
    if out.json {
        out.json(&to_json(&deployed));
    } else {
        if deployed.added.is_empty() {
            out.line(format!(
                "session {} is complete; nothing to add",
                deployed.session
            ));
        } else {
            out.line(format!(
                "session {}: added {}",
                deployed.session,
                deployed.added.join(", ")
            ));
        }
        out.line(format!("attach with: {}", deployed.attach));
    }
    if args.attach {
        attach_to(&tmux, &deployed.session)?;
    }
    Ok(())
}

pub fn teardown(s: &Session, args: &TeardownArgs, out: &Out) -> Result<()> {
    let m = mission(s, &args.mission)?;
    check_socket(&args.socket)?;
    let tmux = Tmux::new(args.socket.as_deref());
    let ended = deploy::teardown(&tmux, m)?;
    let session = deploy::session_name(m);
    if out.json {
        out.json(&serde_json::json!({ "session": session, "ended": ended }));
    } else if ended {
        out.line(format!("session {session} ended"));
    } else {
        out.line(format!("no session {session}"));
    }
    Ok(())
}

pub fn attach(s: &Session, args: &TeardownArgs) -> Result<()> {
    let m = mission(s, &args.mission)?;
    check_socket(&args.socket)?;
    let tmux = Tmux::new(args.socket.as_deref());
    attach_to(&tmux, &deploy::session_name(m))
}

fn attach_to(tmux: &Tmux, session: &str) -> Result<()> {
    use std::os::unix::process::CommandExt;
    if !tmux.has_session(session) {
        return Err(
            Error::not_found(format!("no session {session}")).with_hint("run `orc deploy` first")
        );
    }
    let argv = tmux.argv();
    let err = std::process::Command::new(&argv[0])
        .args(&argv[1..])
        .args(["attach", "-t", &format!("={session}")])
        .exec();
    Err(Error::environment(format!("cannot attach: {err}")))
}
