//! `orc watch`: one long-running process per ledger that turns file
//! changes into ledger commits and ledger commits into notifications.
//!
//! Two inputs, one tokio loop:
//! - file events in every watched `.orc/` (the missions' and their
//!   groves'): a file that differs from the ledger holds a direct edit, which
//!   is applied through the same code as the equivalent command, or set
//!   aside and the writer told ([`crate::ops::direct`]);
//! - the ledger branch moving: every new commit is read, oldest first, and
//!   turned into events ([`events`]) delivered by the [`notifier`]. The last
//!   commit handled is saved, so commits made while the watcher was down
//!   are notified when it starts.
//!
//! A timer (`--interval`) checks the agents' panes (dead, gone), reports
//! assignments without a report for `--idle-after`, and with `--dispatch`
//! assigns ready work to idle groves. A slower reconcile compares every
//! file with the ledger in case an event was lost. Between events and
//! ticks the watcher sleeps.

pub mod events;
pub mod notifier;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use gix::ObjectId;
use notify::{RecursiveMode, Watcher as _};
use serde::{Deserialize, Serialize};

use crate::agent::state::{self as agent_state, Activity};
use crate::error::{Error, Result};
use crate::model::{self, GroveId, GroveStatus, MissionId, MissionStatus, decode};
use crate::ops::direct::{self, Outcome, Owner};
use crate::ops::{self, Session, assign};
use crate::store::{FileLock, OrcDir, fsio};
use crate::tmux::Tmux;
use events::{Event, Target, Waiting};
use notifier::Notifier;

#[derive(Debug, Clone)]
pub struct Options {
    /// Watch only this mission (default: every active mission).
    pub mission: Option<MissionId>,
    pub socket: Option<String>,
    pub dispatch: bool,
    /// Run the merge train (`orc merge`) as work is approved.
    pub merge: bool,
    pub idle_after: Duration,
    pub interval: Duration,
    pub reconcile: Duration,
    /// How long an invalid edit must stay unchanged before it is refused.
    pub settle: Duration,
    /// How long a nudge may wait for its agent before it is stranded.
    pub nudge_timeout: Duration,
}

pub use crate::model::time::parse_duration;

/// The state a watcher keeps between runs.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Saved {
    last_tip: Option<String>,
}

/// Who holds a ledger's watcher lock.
#[derive(Debug, Serialize, Deserialize)]
struct Holder {
    pid: u32,
    started_at: String,
    pane: Option<String>,
    mission: Option<String>,
}

pub fn run(session_opts: &ops::Options, opts: Options) -> Result<()> {
    let s = Session::open(session_opts)?;
    s.ledger.require_tip()?;
    if let Some(m) = opts.mission {
        s.ledger_mission(m)?;
    }
    let lock_path = s.ledger.lock_path("watch");
    let info_path = lock_path.with_extension("json");
    // A watcher being replaced (deploy restarting it) may still be on its
    // way out: give it a moment before refusing.
    let mut lock = FileLock::try_acquire(&lock_path)?;
    let grace = Instant::now() + Duration::from_secs(3);
    while lock.is_none() && Instant::now() < grace {
        std::thread::sleep(Duration::from_millis(50));
        lock = FileLock::try_acquire(&lock_path)?;
    }
    let Some(lock) = lock else {
        let who = fsio::read_regular(&info_path)
            .ok()
            .and_then(|b| decode::decode::<Holder>(&b).ok());
        let detail = match who {
            Some(h) => format!(
                "pid {}{}, since {}",
                h.pid,
                h.pane
                    .map(|p| format!(" in tmux pane {p}"))
                    .unwrap_or_default(),
                h.started_at
            ),
            None => "its details are unknown".into(),
        };
        return Err(Error::conflict(format!(
            "a watcher is already running for ledger {:?} ({detail})",
            s.ledger.branch()
        ))
        .with_hint("one watcher per ledger; stop it first (Ctrl-C in its pane, or kill the pid)"));
    };
    let holder = Holder {
        pid: std::process::id(),
        started_at: s.now.to_string(),
        pane: std::env::var("TMUX_PANE").ok(),
        mission: opts.mission.map(|m| m.to_string()),
    };
    fsio::write_atomic(&info_path, &model::to_file_bytes(&holder))?;
    let state_path = s.ledger.lock_path("watch-state").with_extension("json");
    let tmux = match &opts.socket {
        Some(sock) => Some(Tmux::new(Some(sock))),
        None if std::env::var_os("TMUX").is_some()
            || std::env::var_os("ORC_TMUX_SOCKET").is_some() =>
        {
            Some(Tmux::new(None))
        }
        None => None,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::internal(format!("cannot start the watcher's runtime: {e}")))?;
    let result = runtime.block_on(async {
        let mut w = Watcher::new(session_opts.clone(), opts, tmux, state_path)?;
        w.main().await
    });
    let _ = fsio::remove_file_if_exists(&info_path);
    drop(lock);
    result
}

struct Watcher {
    session_opts: ops::Options,
    opts: Options,
    notifier: Notifier,
    state_path: PathBuf,
    last_tip: Option<ObjectId>,
    /// `.orc/` directories watched, and whose they are.
    watched: BTreeMap<PathBuf, Owner>,
    fs: notify::RecommendedWatcher,
    events: tokio::sync::mpsc::UnboundedReceiver<PathBuf>,
    refs: Vec<PathBuf>,
    /// Last seen (modified time, length) of every file, for reconcile.
    seen: HashMap<PathBuf, (SystemTime, u64)>,
    /// When each grove last showed activity.
    activity: HashMap<GroveId, Instant>,
    idle_reported: HashSet<GroveId>,
    /// Groves whose agent pane was seen (alive or dead), and when a problem
    /// with it was first seen (and whether it was reported).
    pane_seen: HashSet<GroveId>,
    pane_problem: HashMap<GroveId, (Instant, bool)>,
    /// Invalid edits too recent to refuse, and when to look again.
    unsettled: HashMap<(Owner, String), Instant>,
    last_reconcile: Instant,
    /// What each agent last reported of itself (`.orc/agent.json`): its
    /// state, what it waited for, and the time of its last event.
    agents: HashMap<Owner, (Activity, Option<String>, String)>,
    /// The contents of files on the part of the ledger that was moved back
    /// or rewritten away: a working copy still holding one is not an edit
    /// but a copy of discarded history, and gets the ledger's version back.
    discarded: HashSet<ObjectId>,
    /// The merge train running for each mission (`--merge`), and the
    /// ledger's tip when it was last started.
    trains: HashMap<MissionId, std::process::Child>,
    train_tip: HashMap<MissionId, ObjectId>,
    /// Checks running on handed-in work (`--merge`).
    checks: Vec<std::process::Child>,
}

impl Watcher {
    fn new(
        session_opts: ops::Options,
        opts: Options,
        tmux: Option<Tmux>,
        state_path: PathBuf,
    ) -> Result<Watcher> {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let fs = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
            // Only writes matter. Opens and reads (the watcher's own among
            // them) must not wake it, or it would spin.
            if let Ok(event) = res
                && !matches!(event.kind, notify::EventKind::Access(_))
            {
                for path in event.paths {
                    let _ = tx.send(path);
                }
            }
        })
        .map_err(|e| Error::environment(format!("cannot watch files: {e}")))?;
        let saved: Saved = fsio::read_regular(&state_path)
            .ok()
            .and_then(|b| decode::decode(&b).ok())
            .unwrap_or_default();
        let timing = notifier::Timing {
            timeout: opts.nudge_timeout,
            ..notifier::Timing::default()
        };
        Ok(Watcher {
            session_opts,
            opts,
            notifier: Notifier::new(tmux, timing),
            state_path,
            last_tip: saved
                .last_tip
                .and_then(|t| ObjectId::from_hex(t.as_bytes()).ok()),
            watched: BTreeMap::new(),
            fs,
            events: rx,
            refs: Vec::new(),
            seen: HashMap::new(),
            activity: HashMap::new(),
            idle_reported: HashSet::new(),
            pane_seen: HashSet::new(),
            pane_problem: HashMap::new(),
            unsettled: HashMap::new(),
            last_reconcile: Instant::now(),
            agents: HashMap::new(),
            discarded: HashSet::new(),
            trains: HashMap::new(),
            train_tip: HashMap::new(),
            checks: Vec::new(),
        })
    }

    fn session(&self) -> Result<Session> {
        Session::open(&self.session_opts)
    }

    async fn main(&mut self) -> Result<()> {
        // First, so that a stop requested during start-up is a clean stop.
        let mut sigint = signal(tokio::signal::unix::SignalKind::interrupt())?;
        let mut sigterm = signal(tokio::signal::unix::SignalKind::terminate())?;
        let mut sighup = signal(tokio::signal::unix::SignalKind::hangup())?;
        let s = self.session()?;
        self.watch_ledger(&s)?;
        let first_run = self.last_tip.is_none();
        println!(
            "orc watch: ledger {} of {}{}{}",
            s.ledger.branch(),
            s.ledger.common_dir().display(),
            self.opts
                .mission
                .map(|m| format!(", mission {m}"))
                .unwrap_or_default(),
            if self.opts.dispatch {
                ", dispatching"
            } else {
                ""
            },
        );
        if self.opts.merge {
            println!("orc watch: running the merge train as work is approved");
        }
        self.refresh_watches(&s)?;
        if first_run {
            // First start on this ledger: nothing to catch up on, but every
            // IMP with work should hear of it.
            self.reconcile(&s);
            self.last_tip = s.ledger.tip()?;
            self.save();
            self.nudge_active_assignments(&s);
        } else {
            // What happened while the watcher was down first (so that a
            // ledger moved back is noticed before the working copies, ahead
            // of it, are looked at), then the files.
            self.process_ledger(&s);
            self.reconcile(&s);
            self.process_ledger(&s);
        }
        self.tick(&s);
        let repository = s.ledger.common_dir().to_path_buf();
        drop(s);

        let mut last_error: Option<String> = None;
        let mut interval = tokio::time::interval(self.opts.interval);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        interval.tick().await;
        loop {
            tokio::select! {
                Some(path) = self.events.recv() => {
                    let mut paths = vec![path];
                    while let Ok(p) = self.events.try_recv() {
                        paths.push(p);
                    }
                    self.on_paths(paths);
                }
                _ = interval.tick() => {
                    match self.session() {
                        Ok(s) => {
                            last_error = None;
                            if self.last_reconcile.elapsed() >= self.opts.reconcile {
                                let _ = self.refresh_watches(&s);
                                self.reconcile(&s);
                                self.process_ledger(&s);
                            }
                            self.tick(&s);
                        }
                        Err(e) => {
                            // With its repository gone there is nothing left
                            // to watch (and nobody to tell): stop.
                            if !repository.exists() {
                                return Err(Error::environment(format!(
                                    "the repository {} is gone; the watcher stops",
                                    repository.display()
                                )));
                            }
                            if last_error.as_deref() != Some(e.message.as_str()) {
                                println!("orc watch: {}", e.message);
                                last_error = Some(e.message);
                            }
                        }
                    }
                }
                _ = sigint.recv() => break,
                _ = sigterm.recv() => break,
                _ = sighup.recv() => break,
            }
        }
        println!("orc watch: stopped");
        Ok(())
    }

    fn watch_ledger(&mut self, s: &Session) -> Result<()> {
        let common = s.ledger.common_dir();
        let refs = common.join("refs").join("heads");
        self.fs
            .watch(&refs, RecursiveMode::Recursive)
            .map_err(|e| Error::environment(format!("cannot watch {}: {e}", refs.display())))?;
        self.fs
            .watch(&common, RecursiveMode::NonRecursive)
            .map_err(|e| Error::environment(format!("cannot watch {}: {e}", common.display())))?;
        self.refs = vec![refs, common.join("packed-refs")];
        Ok(())
    }

    /// Watches the `.orc/` of every active mission in scope and of its
    /// active groves (called at start and on reconcile; a new grove is
    /// picked up as soon as its commit is seen).
    fn refresh_watches(&mut self, s: &Session) -> Result<()> {
        let (missions, _) = s.missions()?;
        let (groves, _) = s.groves()?;
        let mut wanted: BTreeMap<PathBuf, Owner> = BTreeMap::new();
        for m in missions
            .iter()
            .filter(|m| m.status == MissionStatus::Active)
        {
            if self.opts.mission.is_some_and(|only| only != m.id) {
                continue;
            }
            wanted.insert(
                OrcDir::in_dir(Path::new(&m.workspace)).root().to_path_buf(),
                Owner::Mission(m.id),
            );
            for g in groves
                .iter()
                .filter(|g| g.mission == m.id && g.status == GroveStatus::Active)
            {
                wanted.insert(
                    OrcDir::in_dir(Path::new(&g.path)).root().to_path_buf(),
                    Owner::Grove(g.id),
                );
            }
        }
        for (dir, owner) in &wanted {
            if !self.watched.contains_key(dir) && dir.is_dir() {
                match self.fs.watch(dir, RecursiveMode::Recursive) {
                    Ok(()) => {
                        self.watched.insert(dir.clone(), *owner);
                    }
                    Err(e) => println!("orc watch: cannot watch {}: {e}", dir.display()),
                }
            }
        }
        let gone: Vec<PathBuf> = self
            .watched
            .keys()
            .filter(|d| !wanted.contains_key(*d))
            .cloned()
            .collect();
        for dir in gone {
            let _ = self.fs.unwatch(&dir);
            self.watched.remove(&dir);
        }
        Ok(())
    }

    fn on_paths(&mut self, paths: Vec<PathBuf>) {
        let s = match self.session() {
            Ok(s) => s,
            Err(e) => {
                println!("orc watch: {}", e.message);
                return;
            }
        };
        let mut files: Vec<(Owner, String)> = Vec::new();
        for path in paths {
            if self.refs.iter().any(|r| path.starts_with(r)) {
                continue;
            }
            let Some((root, owner)) = self
                .watched
                .iter()
                .find(|(root, _)| path.starts_with(root))
                .map(|(r, o)| (r.clone(), *o))
            else {
                continue;
            };
            let Ok(rel) = path.strip_prefix(&root) else {
                continue;
            };
            let rel = rel.to_string_lossy().to_string();
            if agent_state::is_state_file(&rel) {
                self.agent_report(&s, owner);
                continue;
            }
            if ignored(&rel) {
                continue;
            }
            if !files.contains(&(owner, rel.clone())) {
                files.push((owner, rel));
            }
        }
        for (owner, rel) in files {
            if !self.apply(&s, owner, &rel) {
                // The next reconcile looks at every file again.
                self.seen.clear();
            }
        }
        self.process_ledger(&s);
        if self.opts.dispatch {
            self.dispatch(&s);
        }
        if self.opts.merge {
            self.merge_trains(&s);
        }
    }

    /// Applies a direct edit, telling the writer if it is refused.
    /// Returns false if it could not be handled now (tried again later).
    fn apply(&mut self, s: &Session, owner: Owner, rel: &str) -> bool {
        if !self.discarded.is_empty() {
            match direct::restore_if_discarded(s, owner, rel, &self.discarded) {
                Ok(true) => {
                    println!(
                        "orc watch: {rel} held a version from discarded ledger history; the ledger's is back"
                    );
                    return true;
                }
                Ok(false) => {}
                Err(e) => {
                    println!("orc watch: {rel}: {} (will try again)", e.message);
                    return false;
                }
            }
        }
        match direct::apply(s, owner, rel, Some(self.opts.settle)) {
            Ok(Outcome::Nothing) => {}
            Ok(Outcome::Applied { changes, .. }) => {
                for c in changes {
                    println!("orc watch: applied a direct edit: {c}");
                }
                // Looked at again once the writer has settled, to give the
                // file orc's layout (left alone while it keeps saving).
                self.unsettled
                    .insert((owner, rel.to_string()), Instant::now() + self.opts.settle);
                return true;
            }
            Ok(Outcome::Rejected { file, reason, kept }) => {
                println!(
                    "orc watch: refused an edit of {}: {reason} (kept at {})",
                    file.display(),
                    kept.display()
                );
                let target = match owner {
                    Owner::Grove(g) => Target::Imp(g),
                    Owner::Mission(m) => Target::Deputy(m),
                };
                self.notifier.send(&Event::Refused { target });
            }
            Ok(Outcome::Unsettled { file, reason }) => {
                // Perhaps still being written: looked at again once it has
                // been left alone for the settle time.
                tracing::debug!("{}: not valid yet ({reason})", file.display());
                self.unsettled
                    .insert((owner, rel.to_string()), Instant::now() + self.opts.settle);
                return true;
            }
            Err(e) => {
                println!("orc watch: {rel}: {} (will try again)", e.message);
                return false;
            }
        }
        self.unsettled.remove(&(owner, rel.to_string()));
        true
    }

    /// Compares every watched file whose size or time changed since the
    /// last reconcile with the ledger, and applies what differs.
    fn reconcile(&mut self, s: &Session) {
        self.last_reconcile = Instant::now();
        let roots: Vec<(PathBuf, Owner)> =
            self.watched.iter().map(|(d, o)| (d.clone(), *o)).collect();
        for (root, owner) in roots {
            let mut stack = vec![root.clone()];
            while let Some(dir) = stack.pop() {
                let Ok(entries) = std::fs::read_dir(&dir) else {
                    continue;
                };
                for entry in entries.flatten() {
                    let path = entry.path();
                    let Ok(rel) = path.strip_prefix(&root) else {
                        continue;
                    };
                    let rel = rel.to_string_lossy().to_string();
                    if ignored(&rel) {
                        continue;
                    }
                    let Ok(meta) = std::fs::symlink_metadata(&path) else {
                        continue;
                    };
                    if meta.is_dir() && matches!(rel.as_str(), "work-orders" | "inbox") {
                        stack.push(path);
                        continue;
                    }
                    let stamp = (
                        meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                        meta.len(),
                    );
                    if self.seen.get(&path) == Some(&stamp) {
                        continue;
                    }
                    // Remembered only once handled: a failed apply is tried
                    // again at the next reconcile.
                    if self.apply(s, owner, &rel) {
                        self.seen.insert(path.clone(), stamp);
                    } else {
                        self.seen.remove(&path);
                    }
                }
            }
            // A deleted assignment file is restored.
            if let Owner::Grove(_) = owner
                && !root.join("assigned-work.json").exists()
            {
                let _ = self.apply(s, owner, "assigned-work.json");
            }
        }
    }

    /// Reads the ledger's new commits and delivers their events.
    fn process_ledger(&mut self, s: &Session) {
        let tip = match s.ledger.tip() {
            Ok(Some(t)) => t,
            Ok(None) => return,
            Err(e) => {
                println!("orc watch: {}", e.message);
                return;
            }
        };
        if Some(tip) == self.last_tip {
            return;
        }
        // Exactly the commits since the last one handled, however many;
        // a branch moved back or rewritten is noticed, never replayed.
        let commits = match self.last_tip {
            None => Vec::new(),
            Some(last) => match s.ledger.since(last, tip) {
                Ok(crate::ledger::Catchup::Commits(c)) => c,
                Ok(crate::ledger::Catchup::Rewritten(c)) => {
                    self.forget_discarded(s, last, tip);
                    println!(
                        "orc watch: the ledger was rewritten since {}; notifying only the {} commit(s) of the new line",
                        &last.to_string()[..12],
                        c.len()
                    );
                    c
                }
                Ok(crate::ledger::Catchup::Rewound) => {
                    self.forget_discarded(s, last, tip);
                    println!(
                        "orc watch: the ledger was moved back from {} to {}; nothing is replayed",
                        &last.to_string()[..12],
                        &tip.to_string()[..12]
                    );
                    Vec::new()
                }
                Ok(crate::ledger::Catchup::Unrelated) => {
                    println!(
                        "orc watch: the ledger now shares no history with {}; nothing is replayed",
                        &last.to_string()[..12]
                    );
                    Vec::new()
                }
                Err(e) => {
                    println!("orc watch: {}", e.message);
                    return;
                }
            },
        };
        let mut new_groves = false;
        for commit in &commits {
            let changes = match s.ledger.changed_files(commit.parent, commit.id) {
                Ok(c) => c,
                Err(e) => {
                    println!("orc watch: {}", e.message);
                    continue;
                }
            };
            match events::derive(&s.ledger, commit, &changes) {
                Ok(evs) => {
                    for ev in evs {
                        new_groves |= matches!(ev, Event::GroveCreated { .. });
                        self.deliver(&ev);
                    }
                }
                Err(e) => println!("orc watch: {}", e.message),
            }
        }
        self.last_tip = Some(tip);
        self.save();
        if new_groves {
            let _ = self.refresh_watches(s);
        }
    }

    /// Remembers the file contents that `old` had and `new` has not: the
    /// discarded part of a ledger moved back or rewritten.
    fn forget_discarded(&mut self, s: &Session, old: ObjectId, new: ObjectId) {
        match s.ledger.changed_files(Some(new), old) {
            Ok(changes) => self
                .discarded
                .extend(changes.into_iter().filter_map(|c| c.new)),
            Err(e) => println!("orc watch: {}", e.message),
        }
    }

    fn deliver(&mut self, ev: &Event) {
        if self.opts.merge
            && let Event::Review { work_order, .. } = ev
        {
            self.check_handin(*work_order);
        }
        if let Some(g) = ev.grove() {
            self.activity.insert(g, Instant::now());
            self.idle_reported.remove(&g);
        }
        self.notifier.send(ev);
    }

    fn save(&self) {
        let saved = Saved {
            last_tip: self.last_tip.map(|t| t.to_string()),
        };
        if let Err(e) = fsio::write_atomic(&self.state_path, &model::to_file_bytes(&saved)) {
            println!("orc watch: cannot save state: {}", e.message);
        }
    }

    /// The missions whose workspaces are watched.
    fn watched_missions(&self) -> Vec<MissionId> {
        self.watched
            .values()
            .filter_map(|o| match o {
                Owner::Mission(m) => Some(*m),
                Owner::Grove(_) => None,
            })
            .collect()
    }

    /// The groves that are watched.
    fn watched_groves(&self) -> Vec<GroveId> {
        self.watched
            .values()
            .filter_map(|o| match o {
                Owner::Grove(g) => Some(*g),
                Owner::Mission(_) => None,
            })
            .collect()
    }

    fn nudge_active_assignments(&mut self, s: &Session) {
        let groves = self.watched_groves();
        for g in groves {
            if let Ok(Some(a)) = ops::workset::last_good_assignment(s, g)
                && a.is_active()
            {
                self.deliver(&Event::Assigned {
                    grove: g,
                    work_order: a.work_order,
                });
            }
        }
    }

    /// What an agent reported of itself changed: tell the deputy when it
    /// starts waiting for a person; its events count as activity.
    fn agent_report(&mut self, s: &Session, owner: Owner) {
        let dir = match owner {
            Owner::Grove(g) => s.grove_dir(g),
            Owner::Mission(m) => s.mission_dir(m),
        };
        let Ok(dir) = dir else { return };
        let Some(st) = agent_state::read(&dir) else {
            return;
        };
        let now = (st.state, st.waiting_for.clone(), st.at.to_string());
        let before = self.agents.insert(owner, now.clone());
        if before.as_ref() == Some(&now) {
            return;
        }
        if let Owner::Grove(g) = owner {
            self.activity.insert(g, Instant::now());
            self.idle_reported.remove(&g);
        }
        let was_waiting = before.is_some_and(|b| b.0 == Activity::Waiting && b.1 == now.1);
        if st.state == Activity::Waiting
            && !was_waiting
            && let Owner::Grove(g) = owner
            && let Ok(grove) = s.ledger_grove(g)
        {
            let what = match st.waiting_for.as_deref() {
                Some("permission") => Waiting::Permission,
                _ => Waiting::Dialog,
            };
            println!(
                "{} orc: the agent of {g} waits: {}",
                notifier::clock(),
                crate::ops::tx::one_line(st.detail.as_deref().unwrap_or("-"), 120)
            );
            self.notifier.send(&Event::AgentWaiting {
                grove: g,
                mission: grove.mission,
                what,
            });
        }
    }

    /// How the nudges went: a stranded one is recorded for `orc status`
    /// and the deputy is told; a delivered one clears that record.
    fn deliveries(&mut self, s: &Session) {
        for d in self.notifier.outcomes() {
            let (dir, grove) = match d.target {
                Target::Imp(g) => (s.grove_dir(g).ok(), Some(g)),
                Target::Deputy(m) => (s.mission_dir(m).ok(), None),
                Target::Log => (None, None),
            };
            let timeout = s.settings.lock_timeout();
            match &d.stranded {
                None => {
                    println!(
                        "{} delivered to {} in {} ms ({} Enter{})",
                        notifier::clock(),
                        d.pane,
                        d.took.as_millis(),
                        d.enters,
                        if d.enters == 1 { "" } else { "s" }
                    );
                    if let Some(dir) = &dir {
                        let _ = agent_state::delivered(dir.owner(), timeout);
                    }
                }
                Some(why) => {
                    println!(
                        "{} NOT delivered to {} after {} ms: {why}",
                        notifier::clock(),
                        d.pane,
                        d.took.as_millis()
                    );
                    if let Some(dir) = &dir {
                        let _ = agent_state::strand(dir.owner(), &d.text, why, &s.now, timeout);
                    }
                    if let Some(g) = grove
                        && let Ok(record) = s.ledger_grove(g)
                    {
                        self.notifier.send(&Event::Stranded {
                            grove: g,
                            mission: record.mission,
                        });
                    }
                }
            }
        }
    }

    /// Whether the agent of grove `g` can take work: not waiting for a
    /// person, not gone (as it last reported; no report counts as able).
    fn agent_available(&self, g: GroveId) -> bool {
        self.agents
            .get(&Owner::Grove(g))
            .is_none_or(|(state, _, _)| !matches!(state, Activity::Waiting | Activity::Gone))
    }

    /// Liveness and dispatch.
    fn tick(&mut self, s: &Session) {
        self.deliveries(s);
        let owners: Vec<Owner> = self.watched.values().copied().collect();
        for owner in owners {
            self.agent_report(s, owner);
        }
        let due: Vec<(Owner, String)> = self
            .unsettled
            .iter()
            .filter(|(_, at)| **at <= Instant::now())
            .map(|(k, _)| k.clone())
            .collect();
        for (owner, rel) in due {
            self.unsettled.remove(&(owner, rel.clone()));
            self.apply(s, owner, &rel);
        }
        self.process_ledger(s);
        let groves: Vec<(GroveId, MissionId)> = match s.groves() {
            Ok((gs, _)) => gs
                .into_iter()
                .filter(|g| g.status == GroveStatus::Active)
                .filter(|g| self.watched.values().any(|o| *o == Owner::Grove(g.id)))
                .map(|g| (g.id, g.mission))
                .collect(),
            Err(_) => return,
        };
        let panes = self.list_panes();
        for (g, mission) in &groves {
            let active = ops::workset::last_good_assignment(s, *g)
                .ok()
                .flatten()
                .filter(|a| a.is_active());
            // Agent panes.
            if let Some(panes) = &panes {
                let pane = panes
                    .iter()
                    .find(|p| p.role == "imp" && p.grove == g.to_string());
                if pane.is_some() {
                    // Deployed: from now on, its absence means it is gone.
                    self.pane_seen.insert(*g);
                }
                match pane {
                    Some(p) if !p.dead => {
                        self.pane_problem.remove(g);
                    }
                    _ if self.pane_seen.contains(g) => {
                        let dead = pane.is_some();
                        let entry = self
                            .pane_problem
                            .entry(*g)
                            .or_insert((Instant::now(), false));
                        if !entry.1 {
                            entry.1 = true;
                            let ev = if dead {
                                Event::AgentDead {
                                    grove: *g,
                                    mission: *mission,
                                }
                            } else {
                                Event::AgentGone {
                                    grove: *g,
                                    mission: *mission,
                                }
                            };
                            self.notifier.send(&ev);
                        }
                        let since = entry.0;
                        if self.opts.dispatch
                            && since.elapsed() >= self.opts.idle_after
                            && let Some(a) = &active
                        {
                            let deputy = s.with_actor(&model::actor::deputy(*mission));
                            match deputy.and_then(|d| assign::unassign(&d, *g)) {
                                Ok(_) => self.notifier.send(&Event::Requeued {
                                    grove: *g,
                                    mission: *mission,
                                    work_order: a.work_order,
                                }),
                                Err(e) => println!(
                                    "orc watch: cannot take back {g}'s work: {}",
                                    e.message
                                ),
                            }
                        }
                    }
                    _ => {}
                }
            }
            // Silence.
            if let Some(a) = &active {
                let last = *self.activity.entry(*g).or_insert_with(Instant::now);
                if last.elapsed() >= self.opts.idle_after && !self.idle_reported.contains(g) {
                    self.idle_reported.insert(*g);
                    let d = self.opts.idle_after.as_secs();
                    self.notifier.send(&Event::Idle {
                        grove: *g,
                        mission: *mission,
                        work_order: a.next.unwrap_or(a.work_order),
                        minutes: d / 60,
                        seconds: d,
                    });
                }
            } else {
                self.activity.remove(g);
                self.idle_reported.remove(g);
            }
        }
        self.process_ledger(s);
        if self.opts.dispatch {
            self.dispatch(s);
        }
        if self.opts.merge {
            self.merge_trains(s);
        }
    }

    /// The tmux panes (None without tmux). Every grove whose agent pane is
    /// listed is remembered as deployed, so that its pane disappearing
    /// later is noticed however quickly it happens.
    fn list_panes(&mut self) -> Option<Vec<crate::tmux::Pane>> {
        self.notifier.tmux()?;
        let panes = self.notifier.panes(true).to_vec();
        for p in panes.iter().filter(|p| p.role == "imp") {
            if let Ok(g) = GroveId::parse(&p.grove) {
                self.pane_seen.insert(g);
            }
        }
        Some(panes)
    }

    /// Starts the merge train (`orc merge --mission M --no-wait`, a child
    /// process: a check may take minutes) of every watched mission with
    /// approved work waiting, unless its train is running or nothing
    /// changed on the ledger since it last ran.
    fn merge_trains(&mut self, s: &Session) {
        self.checks.retain_mut(|c| matches!(c.try_wait(), Ok(None)));
        self.trains.retain(|m, child| match child.try_wait() {
            Ok(None) => true,
            Ok(Some(status)) => {
                if !status.success() {
                    println!("orc watch: the merge train of {m} failed ({status})");
                }
                false
            }
            Err(_) => false,
        });
        let Ok(Some(tip)) = s.ledger.tip() else {
            return;
        };
        let missions = self.watched_missions();
        for mission in missions {
            if self.trains.contains_key(&mission) || self.train_tip.get(&mission) == Some(&tip) {
                continue;
            }
            let Ok(dir) = s.mission_dir(mission) else {
                continue;
            };
            let Ok(loaded) = ops::records::Loaded::read(&dir) else {
                continue;
            };
            if !loaded.orders.iter().any(ops::train::waits_for_train) {
                continue;
            }
            self.train_tip.insert(mission, tip);
            let exe = crate::agent::hooks::orc_binary();
            let child = std::process::Command::new(&exe)
                .args(["merge", "--no-wait", "--mission", &mission.to_string()])
                .arg("--ledger")
                .arg(s.ledger.branch())
                .current_dir(&s.cwd)
                .stdin(std::process::Stdio::null())
                .spawn();
            match child {
                Ok(c) => {
                    println!("orc watch: merge train of {mission} started");
                    self.trains.insert(mission, c);
                }
                Err(e) => println!("orc watch: cannot start the merge train of {mission}: {e}"),
            }
        }
    }

    /// Runs the repository's check (`orc check WO`, a child process) on
    /// work handed in without one: by an edit of `assigned-work.json`.
    fn check_handin(&mut self, id: model::WorkOrderId) {
        let Ok(s) = self.session() else { return };
        if ops::config::text(&s, "check").ok().flatten().is_none() {
            return;
        }
        let Ok((_, dir)) = s.locate_work_order(id) else {
            return;
        };
        let Ok(wo) = ops::records::read_work_order(&dir, id) else {
            return;
        };
        if wo.evidence.as_ref().is_none_or(|e| e.check.is_some()) {
            return;
        }
        let spawned = std::process::Command::new(crate::agent::hooks::orc_binary())
            .args(["check", &id.to_string()])
            .arg("--ledger")
            .arg(s.ledger.branch())
            .current_dir(&s.cwd)
            .stdin(std::process::Stdio::null())
            .spawn();
        match spawned {
            Ok(child) => self.checks.push(child),
            Err(e) => println!("orc watch: cannot run the check of {id}: {e}"),
        }
    }

    /// Assigns ready work to idle groves whose agent is alive.
    fn dispatch(&mut self, s: &Session) {
        let missions = self.watched_missions();
        let panes = self.list_panes();
        for mission in missions {
            let alive = |g: GroveId| match &panes {
                // With tmux, only a grove whose agent is alive can take work.
                Some(panes) => panes
                    .iter()
                    .any(|p| p.role == "imp" && p.grove == g.to_string() && !p.dead),
                None => true,
            };
            // ...and is not waiting for a person or gone.
            let Ok(plan) = assign::plan(s, mission, |g| alive(g) && self.agent_available(g)) else {
                continue;
            };
            if plan.is_empty() {
                continue;
            }
            let deputy = match s.with_actor(&model::actor::deputy(mission)) {
                Ok(d) => d,
                Err(_) => continue,
            };
            for (wo, grove) in plan {
                match assign::assign(&deputy, wo, grove) {
                    Ok(_) => self.notifier.send(&Event::Dispatched {
                        grove,
                        mission,
                        work_order: wo,
                    }),
                    Err(e) => println!("orc watch: cannot dispatch {wo} to {grove}: {}", e.message),
                }
            }
        }
        self.process_ledger(s);
    }
}

/// Files in `.orc/` the watcher leaves alone.
fn ignored(rel: &str) -> bool {
    rel.is_empty()
        || rel == "config.json"
        || crate::agent::state::is_state_file(rel)
        || rel.starts_with("locks")
        || rel.starts_with("rejected")
        || rel.split('/').any(|c| c.starts_with('.'))
}

fn signal(kind: tokio::signal::unix::SignalKind) -> Result<tokio::signal::unix::Signal> {
    tokio::signal::unix::signal(kind)
        .map_err(|e| Error::internal(format!("cannot handle signals: {e}")))
}
