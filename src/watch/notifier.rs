//! Delivering events: a line in the watcher's own pane for every event, a
//! nudge typed into the target pane, a `display-message` for the clients
//! attached to that pane's session, and the pane option `@orc_status`.
//!
//! The file is the message; the nudge is a doorbell, and a doorbell that
//! did not ring is noticed. Nudges to one pane go through one queue (a
//! thread per pane), one at a time and spaced. For an agent whose screen
//! orc can read ([`crate::agent::screen`]), a nudge waits until the agent
//! shows an empty input line (it has started; no dialog waits for a
//! person; nobody is typing), is typed literally, Enter is pressed
//! separately, and the screen must then show that the line left the input
//! (submitted, or queued by the agent); otherwise Enter is pressed again. A
//! nudge that cannot be delivered within the nudge timeout is *stranded*:
//! the queue reports it (and carries on with the next).

use std::collections::HashMap;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::events::{Event, Target};
use crate::agent::profile::AgentKind;
use crate::agent::screen::{self, Input};
use crate::tmux::{self, Pane, Tmux};

/// How a nudge went.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub target: Target,
    pub pane: String,
    pub text: String,
    /// From the nudge being queued to its delivery being confirmed.
    pub took: Duration,
    /// Presses of Enter it took (1: at the first try).
    pub enters: u32,
    /// Why it could not be delivered (None: delivered).
    pub stranded: Option<String>,
}

/// Timing of deliveries.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// How long a nudge may wait for the agent to be able to take it.
    pub timeout: Duration,
    /// The least time between two nudges to one pane.
    pub gap: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            timeout: Duration::from_secs(120),
            gap: Duration::from_millis(500),
        }
    }
}

pub struct Notifier {
    tmux: Option<Tmux>,
    queues: HashMap<String, mpsc::Sender<(String, Target, Instant)>>,
    panes: Vec<Pane>,
    refreshed: Option<Instant>,
    /// The watcher's own pane, if it runs in one.
    own_pane: Option<String>,
    timing: Timing,
    outcomes_tx: mpsc::Sender<Delivery>,
    outcomes: mpsc::Receiver<Delivery>,
}

impl Notifier {
    pub fn new(tmux: Option<Tmux>, timing: Timing) -> Notifier {
        let (outcomes_tx, outcomes) = mpsc::channel();
        Notifier {
            tmux,
            queues: HashMap::new(),
            panes: Vec::new(),
            refreshed: None,
            own_pane: std::env::var("TMUX_PANE").ok().filter(|p| !p.is_empty()),
            timing,
            outcomes_tx,
            outcomes,
        }
    }

    pub fn tmux(&self) -> Option<&Tmux> {
        self.tmux.as_ref()
    }

    /// How the nudges sent since the last call went.
    pub fn outcomes(&self) -> Vec<Delivery> {
        self.outcomes.try_iter().collect()
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

    /// The agent pane an event goes to.
    pub fn find(&mut self, target: Target) -> Option<Pane> {
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
            let (tx, rx) = mpsc::channel();
            let tmux = tmux.clone();
            let pane = pane.clone();
            let timing = self.timing;
            let outcomes = self.outcomes_tx.clone();
            std::thread::spawn(move || deliver(tmux, pane, rx, timing, outcomes));
            tx
        });
        if queue.send((text, target, Instant::now())).is_err() {
            self.queues.remove(&pane.id);
        }
    }
}

/// The queue of one pane: nudges one after the other.
fn deliver(
    tmux: Tmux,
    pane: Pane,
    rx: mpsc::Receiver<(String, Target, Instant)>,
    timing: Timing,
    outcomes: mpsc::Sender<Delivery>,
) {
    let mut last: Option<Instant> = None;
    // Nudges typed into this pane, to tell one left in the input line from
    // a person's text.
    let mut typed: Vec<String> = Vec::new();
    for (text, target, queued) in rx {
        if let Some(at) = last
            && at.elapsed() < timing.gap
        {
            std::thread::sleep(timing.gap - at.elapsed());
        }
        // The pane says what runs in it (read each time: it may have been
        // listed before deploy finished tagging it).
        let kind = tmux
            .pane_option(&pane.id, tmux::AGENT)
            .ok()
            .and_then(|k| AgentKind::parse(&k))
            .unwrap_or(AgentKind::Plain);
        let result = ring(&tmux, &pane.id, kind, &text, queued, timing, &mut typed);
        last = Some(Instant::now());
        let (enters, stranded) = match result {
            Ok(enters) => {
                let _ = tmux.set_pane_option(&pane.id, tmux::STATUS, &text);
                let _ = tmux.display(&pane.session, &text);
                (enters, None)
            }
            Err(why) => (0, Some(why)),
        };
        let _ = outcomes.send(Delivery {
            target,
            pane: pane.id.clone(),
            text,
            took: queued.elapsed(),
            enters,
            stranded,
        });
    }
}

/// Types one nudge and confirms it; returns how many Enters it took, or
/// why it could not be delivered.
fn ring(
    tmux: &Tmux,
    pane: &str,
    kind: AgentKind,
    text: &str,
    queued: Instant,
    timing: Timing,
    typed: &mut Vec<String>,
) -> Result<u32, String> {
    let look = || -> Result<screen::Screen, String> {
        match tmux.pane_dead(pane) {
            None => return Err("the agent pane is gone".into()),
            Some(true) => return Err("the agent has exited".into()),
            Some(false) => {}
        }
        let captured = tmux
            .capture_styled(pane)
            .map_err(|e| format!("cannot read the pane: {}", e.message))?;
        Ok(screen::read(kind, &captured))
    };
    let ours = |t: &str, typed: &[String]| typed.iter().any(|n| same_text(t, n));
    // Wait until the agent can take it.
    let mut why = String::new();
    loop {
        let s = look()?;
        match &s.input {
            Input::Empty if s.dialog.is_none() => break,
            // A nudge of ours left in the line (its Enter was lost): press
            // Enter for it first.
            Input::Holds(t) if s.dialog.is_none() && ours(t, typed) => {
                let _ = tmux.send_enter(pane);
            }
            Input::Holds(_) => why = "a person's text sits in the agent's input line".into(),
            Input::Absent if s.dialog.is_some() => {
                why = format!(
                    "the agent waits at a {} prompt",
                    s.dialog.unwrap_or("dialog")
                )
            }
            _ if s.dialog.is_some() => {
                why = format!(
                    "the agent waits at a {} prompt",
                    s.dialog.unwrap_or("dialog")
                )
            }
            _ => why = "the agent is not ready (no input line on its screen)".into(),
        }
        if queued.elapsed() > timing.timeout {
            return Err(why);
        }
        std::thread::sleep(Duration::from_millis(150));
    }
    tmux.send_text(pane, text)
        .map_err(|e| format!("cannot type into the pane: {}", e.message))?;
    typed.push(text.to_string());
    if typed.len() > 20 {
        typed.remove(0);
    }
    if kind == AgentKind::Plain {
        tmux.send_enter(pane)
            .map_err(|e| format!("cannot press Enter: {}", e.message))?;
        return Ok(1);
    }
    // The agent must show the text in its input line before Enter is
    // pressed: an agent still starting takes keys late, and a screen not
    // yet redrawn would look as if the line had already left. (This also
    // keeps the text and the Enter apart, so the agent does not take them
    // for one paste.)
    let echoed = Instant::now() + Duration::from_secs(3);
    loop {
        std::thread::sleep(Duration::from_millis(50));
        let s = look()?;
        if matches!(&s.input, Input::Holds(t) if same_text(t, text)) {
            break;
        }
        if Instant::now() >= echoed {
            return Err("typed, but the text never showed in the agent's input line".into());
        }
    }
    let mut enters = 0;
    for attempt in 0..8u64 {
        tmux.send_enter(pane)
            .map_err(|e| format!("cannot press Enter: {}", e.message))?;
        enters += 1;
        // Look until the line has left the input, or it is clear the
        // Enter was not taken.
        let until = Instant::now() + Duration::from_millis(300 + 200 * attempt);
        loop {
            std::thread::sleep(Duration::from_millis(50));
            let s = look()?;
            match &s.input {
                Input::Holds(t) if same_text(t, text) => {}
                // Empty (submitted or queued), another screen (a dialog the
                // prompt led to), or a person's new text: it left.
                _ => return Ok(enters),
            }
            if Instant::now() >= until {
                break;
            }
        }
    }
    Err(format!(
        "typed, but the line stayed in the agent's input after {enters} Enters"
    ))
}

/// Whether the input line `shown` holds the nudge `text` (or the start of
/// it: a long line may be cut by the screen), whitespace aside (a wrapped
/// line gains or loses spaces).
fn same_text(shown: &str, text: &str) -> bool {
    let squash = |t: &str| t.chars().filter(|c| !c.is_whitespace()).collect::<String>();
    let (shown, text) = (squash(shown), squash(text));
    !shown.is_empty() && (shown.contains(&text) || text.starts_with(&shown))
}

/// The wall-clock time for log lines (UTC, seconds).
pub fn clock() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let ts = crate::model::Timestamp::from_unix(secs);
    ts.as_str()[11..19].to_string()
}
