//! Delivering events: a line in the watcher's own pane for every event, a
//! nudge typed into the target pane, a `display-message` for the clients
//! attached to that pane's session, and the pane option `@orc_status`.
//!
//! Nudges to one pane go through one queue (a thread per pane), so two
//! nudges never interleave; each is typed literally and Enter is sent
//! separately.

use std::collections::HashMap;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::events::{Event, Target};
use crate::tmux::{self, Pane, Tmux};

pub struct Notifier {
    tmux: Option<Tmux>,
    queues: HashMap<String, mpsc::Sender<String>>,
    panes: Vec<Pane>,
    refreshed: Option<Instant>,
    /// The watcher's own pane, if it runs in one.
    own_pane: Option<String>,
}

impl Notifier {
    pub fn new(tmux: Option<Tmux>) -> Notifier {
        Notifier {
            tmux,
            queues: HashMap::new(),
            panes: Vec::new(),
            refreshed: None,
            own_pane: std::env::var("TMUX_PANE").ok().filter(|p| !p.is_empty()),
        }
    }

    pub fn tmux(&self) -> Option<&Tmux> {
        self.tmux.as_ref()
    }

    /// The panes of the tmux server (refreshed at most every 200 ms, or on
    /// demand).
    pub fn panes(&mut self, fresh: bool) -> &[Pane] {
        let stale = self
            .refreshed
            .is_none_or(|t| t.elapsed() > Duration::from_millis(200));
        if let Some(t) = &self.tmux
            && (fresh || stale)
        {
            self.panes = t.panes().unwrap_or_default();
            self.refreshed = Some(Instant::now());
        }
        &self.panes
    }

    fn find(&mut self, target: Target) -> Option<Pane> {
        let matches = |p: &Pane| match target {
            Target::Imp(g) => p.role == "imp" && p.grove == g.to_string(),
            Target::Deputy(m) => {
                p.role == "deputy"
                    && (p.mission == m.to_string() || p.session == crate::deploy::session_name(m))
            }
            Target::Log => false,
        };
        if let Some(p) = self.panes(false).iter().find(|p| matches(p)) {
            return Some(p.clone());
        }
        self.panes(true).iter().find(|p| matches(p)).cloned()
    }

    /// Delivers one event.
    pub fn send(&mut self, event: &Event) {
        let text = event.text();
        println!("{} {text}", clock());
        let Some(tmux) = self.tmux.clone() else {
            return;
        };
        if let Some(own) = &self.own_pane {
            let _ = tmux.set_pane_option(own, tmux::STATUS, &text);
        }
        let target = event.target();
        if target == Target::Log {
            return;
        }
        let Some(pane) = self.find(target) else {
            let who = match target {
                Target::Imp(g) => format!("the IMP of {g}"),
                Target::Deputy(m) => format!("the deputy of {m}"),
                Target::Log => String::new(),
            };
            println!("{} (no pane for {who}; not nudged)", clock());
            return;
        };
        let queue = self.queues.entry(pane.id.clone()).or_insert_with(|| {
            let (tx, rx) = mpsc::channel::<String>();
            let tmux = tmux.clone();
            let pane = pane.clone();
            std::thread::spawn(move || deliver(tmux, pane, rx));
            tx
        });
        if queue.send(text.clone()).is_err() {
            self.queues.remove(&pane.id);
        }
    }
}

/// The queue of one pane: nudges one after the other.
fn deliver(tmux: Tmux, pane: Pane, rx: mpsc::Receiver<String>) {
    for text in rx {
        if pane.dead {
            continue;
        }
        if let Err(e) = tmux.send_line(&pane.id, &text) {
            tracing::warn!("cannot nudge {}: {}", pane.id, e.message);
            continue;
        }
        let _ = tmux.set_pane_option(&pane.id, tmux::STATUS, &text);
        let _ = tmux.display(&pane.session, &text);
    }
}

/// The wall-clock time for log lines (UTC, seconds).
fn clock() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let ts = crate::model::Timestamp::from_unix(secs);
    ts.as_str()[11..19].to_string()
}
