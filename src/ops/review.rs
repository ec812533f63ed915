//! Review: how work an IMP hands in is gated before the merge train takes
//! it.
//!
//! When an IMP reports `done` (or `review`) on work whose grove branch has
//! commits the mission's integration branch has not, the work order goes to
//! `review` with its *evidence* (the branch head, the diff's size, the
//! check's result) and an *approval* per the review policy (work order,
//! else mission, else the repository's `review` setting, else `none`):
//! `none` approves at once; `deputy` and `human` wait for `orc approve`;
//! `agent` makes a review work order for another grove. A work order with
//! nothing to land (no commits) is `done` at once, as before. It becomes
//! `done` when the train lands it ([`super::train`]).

use serde::Serialize;

use super::session::Session;
use super::tx::Message;
use super::workset::{ChangeContext, WorkSet, set_status};
use crate::error::{Error, Result};
use crate::ledger::merge;
use crate::model::review::{
    Approval, ApprovalState, ArtifactRef, CheckResult, Evidence, ReviewPolicy,
};
use crate::model::{self, GroveId, Mission, Note, Status, WorkOrder, WorkOrderId};

/// The end of a check's output kept as an artifact.
pub const CHECK_TAIL: usize = 64 * 1024;

/// What an IMP's report hands in, measured before the transaction.
#[derive(Debug, Clone)]
pub struct Handin {
    pub evidence: Evidence,
    /// The check's output (its tail), to store as an artifact.
    pub check_output: Option<Vec<u8>>,
    /// Paths the grove has changed but not committed (`git status`): they
    /// are not handed in.
    pub uncommitted: Vec<String>,
}

/// Runs the repository's `check` (when set) on what `h` hands in, if it
/// hands in commits, and records the result in its evidence.
pub fn add_check(s: &Session, grove: GroveId, h: &mut Handin) -> Result<()> {
    let Some(command) = super::config::text(s, "check")? else {
        return Ok(());
    };
    if h.evidence.commits == 0 {
        return Ok(());
    }
    let g = s.ledger_grove(grove)?;
    let head = gix::ObjectId::from_hex(h.evidence.head.as_bytes())
        .map_err(|_| Error::internal("a measured head is not a commit id"))?;
    let c = check_commit(
        s,
        g.mission,
        &grove.to_string(),
        std::path::Path::new(&g.path),
        head,
        &command,
    )?;
    h.evidence.check = Some(check_result(&command, &c, "check.log"));
    h.check_output = Some(c.output);
    Ok(())
}

/// Runs the repository's check on commit `head`: in the grove at `grove`
/// when it is there, on that commit and clean; else (it moved on, or has
/// changes that are not part of the work) in a worktree of that commit of
/// its own, removed afterwards — so the result is about what was handed
/// in, nothing else.
fn check_commit(
    s: &Session,
    mission: crate::model::MissionId,
    name: &str,
    grove: &std::path::Path,
    head: gix::ObjectId,
    command: &str,
) -> Result<merge::Checked> {
    let timeout = check_timeout(s)?;
    let tail = check_tail(s)?;
    let here =
        grove.join(".git").exists() && merge::head(grove)? == head && merge::is_clean(grove)?;
    if here {
        return merge::check(grove, command, tail, timeout);
    }
    let common = s.ledger.common_dir();
    let tmp = super::train::worktree_path(s, mission)?
        .with_file_name(format!(".check-{name}-{}", std::process::id()));
    let wt = merge::train_worktree(&common, &tmp, head)?;
    let c = merge::reset(&wt, head).and_then(|()| merge::check(&wt, command, tail, timeout));
    let _ = crate::ledger::worktree::remove(&common, &wt, true);
    c
}

/// How long the repository's check may run (`check_timeout`, default
/// 30 minutes) before orc stops it.
pub fn check_timeout(s: &Session) -> Result<std::time::Duration> {
    match super::config::text(s, "check_timeout")? {
        Some(t) => crate::model::time::parse_duration(&t).map_err(|e| {
            Error::invalid(format!(
                "{}:{}: `check_timeout` {}",
                s.ledger.branch(),
                super::config::FILE,
                e.message
            ))
            .with_hint("fix it with `orc config set check_timeout 30m`")
        }),
        None => Ok(DEFAULT_CHECK_TIMEOUT),
    }
}

/// How much of a check's output orc keeps as its artifact: the last
/// [`CHECK_TAIL`] bytes, or fewer when `artifacts.max_bytes` is smaller
/// (orc's own logs are cut to fit, never refused).
pub fn check_tail(s: &Session) -> Result<usize> {
    let limit = usize::try_from(super::artifact::max_bytes(s)).unwrap_or(usize::MAX);
    Ok(CHECK_TAIL.min(limit))
}

/// `check_timeout` when it is not set.
pub const DEFAULT_CHECK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30 * 60);

/// What a check did, as the work order records it.
pub fn check_result(command: &str, c: &merge::Checked, artifact: &str) -> CheckResult {
    CheckResult {
        command: command.to_string(),
        exit: c.exit,
        duration_ms: c.duration.as_millis() as u64,
        artifact: Some(artifact.into()),
        timed_out: c.timed_out,
        extra: Default::default(),
    }
}

impl Handin {
    /// The first few uncommitted paths, for a message.
    pub fn uncommitted_list(&self) -> String {
        let mut shown: Vec<&str> = self
            .uncommitted
            .iter()
            .take(5)
            .map(String::as_str)
            .collect();
        if self.uncommitted.len() > shown.len() {
            shown.push("...");
        }
        shown.join(", ")
    }
}

/// The review policy of `wo` in `mission`.
pub fn policy(s: &Session, mission: &Mission, wo: &WorkOrder) -> ReviewPolicy {
    wo.review
        .or(mission.review)
        .or_else(|| {
            super::config::text(s, "review")
                .ok()
                .flatten()
                .and_then(|t| t.parse().ok())
        })
        .unwrap_or(ReviewPolicy::None)
}

/// Measures what grove `grove` hands in: None when its mission has no
/// integration branch (work is then `done` when reported, as before). The
/// check is not run here ([`add_check`]).
pub fn handin(s: &Session, grove: GroveId) -> Result<Option<Handin>> {
    let g = s.ledger_grove(grove)?;
    let mission = s.ledger_mission(g.mission)?;
    if mission.integration.is_none() {
        return Ok(None);
    }
    let Some(bases) = super::landed::Bases::read(s, g.mission, &g.branch)? else {
        return Ok(None);
    };
    let dir = std::path::Path::new(&g.path);
    let head = merge::head(dir)?;
    let uncommitted = merge::changed_paths(dir)?;
    // What has not landed yet: work of this branch that landed by rebase
    // or squash is not counted again.
    let (size, base) = bases.size(s, head)?;
    Ok(Some(Handin {
        evidence: Evidence {
            branch: g.branch.clone(),
            head: head.to_string(),
            base: base.to_string(),
            commits: size.commits,
            files: size.files,
            insertions: size.insertions,
            deletions: size.deletions,
            check: None,
            at: s.now.clone(),
            extra: Default::default(),
        },
        check_output: None,
        uncommitted,
    }))
}

/// `orc check WO`: runs the repository's `check` on the work order's
/// handed-in head (in its grove, which must be on that commit) and records
/// the result in its evidence, with the output as the artifact
/// `check.log`. For work handed in by editing `assigned-work.json` (the
/// watcher does not run checks itself), and to check again.
pub fn record_check(s: &Session, id: WorkOrderId) -> Result<CheckResult> {
    let Some(command) = super::config::text(s, "check")? else {
        return Err(Error::not_found("no check is set")
            .with_hint("`orc config set check \"cargo test\"` sets the project's check"));
    };
    let (_, dir) = s.locate_work_order(id)?;
    let wo = super::records::read_work_order(&dir, id)?;
    let Some(evidence) = wo.evidence.clone() else {
        return Err(Error::conflict(format!(
            "{id} has not been handed in; there is nothing to check"
        )));
    };
    let grove = wo
        .assignee
        .as_deref()
        .and_then(super::records::grove_of_actor)
        .ok_or_else(|| Error::conflict(format!("{id} is held by no grove")))?;
    let g = s.ledger_grove(grove)?;
    let path = std::path::Path::new(&g.path);
    let head = gix::ObjectId::from_hex(evidence.head.as_bytes())
        .map_err(|_| Error::invalid(format!("{id}: evidence.head is not a commit id")))?;
    let timeout = check_timeout(s)?;
    let c = check_commit(s, wo.mission, &id.to_string(), path, head, &command)?;
    let result = check_result(&command, &c, "check.log");
    let outcome = if result.passed() {
        "passed".to_string()
    } else {
        format!("failed ({})", c.outcome(timeout))
    };
    super::report::transaction(s, |ws| {
        let blob = super::artifact::stage(ws.tx(), id, "check.log", &c.output)?;
        let r = ArtifactRef {
            name: "check.log".into(),
            size: c.output.len() as u64,
            blob,
            by: s.actor.clone(),
            at: s.now.clone(),
            extra: Default::default(),
        };
        let checked = result.clone();
        let head = evidence.head.clone();
        let what = format!("check {outcome}");
        ws.change(id, move |w, _| {
            match &mut w.evidence {
                Some(e) if e.head == head => e.check = Some(checked),
                _ => {
                    return Err(Error::conflict(format!(
                        "{id} was handed in again meanwhile; check it again"
                    )));
                }
            }
            w.artifacts.retain(|a| a.name != r.name);
            w.artifacts.push(r);
            Ok(what)
        })?;
        Ok((
            (),
            Message::new(
                "review.check",
                format!(
                    "{id}: check {outcome} (`{}`)",
                    super::tx::one_line(&result.command, 60)
                ),
            ),
        ))
    })?;
    Ok(result)
}

/// What an IMP's report of `to` (`done` or `review`) makes of work order
/// `id`, given what it hands in: the status it goes to, and the steps for
/// the commit message. Called inside the report's work set.
pub fn hand_in(
    ws: &mut WorkSet,
    id: WorkOrderId,
    to: Status,
    handin: &Handin,
    cx_actor: &str,
) -> Result<Option<(Status, String)>> {
    if handin.evidence.commits == 0 {
        return Ok(None);
    }
    let s = ws.session();
    let wo = ws.order(id)?.clone();
    // A review work order hands in a verdict, not code.
    if wo.reviews.is_some() {
        return Ok(None);
    }
    let mission = s.ledger_mission(wo.mission)?;
    let policy = policy(s, &mission, &wo);
    let now = s.now.clone();
    let mut artifacts = wo.artifacts.clone();
    if let Some(bytes) = &handin.check_output {
        let blob = super::artifact::stage(ws.tx(), id, "check.log", bytes)?;
        artifacts.retain(|a| a.name != "check.log");
        artifacts.push(ArtifactRef {
            name: "check.log".into(),
            size: bytes.len() as u64,
            blob,
            by: cx_actor.to_string(),
            at: now.clone(),
            extra: Default::default(),
        });
    }
    // `done` under policy none is approved by the policy; an explicit
    // request for review waits for a reviewer.
    let approved = policy == ReviewPolicy::None && to == Status::Done;
    let evidence = handin.evidence.clone();
    let summary = format!(
        "handed in: {} commit(s), {} file(s) +{} -{}{}",
        evidence.commits,
        evidence.files,
        evidence.insertions,
        evidence.deletions,
        match &evidence.check {
            Some(c) if c.passed() => ", check passed".to_string(),
            Some(c) => format!(", check failed ({})", c.outcome()),
            None => String::new(),
        }
    );
    ws.change(id, |wo, cx| {
        if wo.status != Status::Review {
            if wo.status == Status::Assigned {
                set_status(wo, Status::InProgress, cx, None)?;
            }
            set_status(wo, Status::Review, cx, None)?;
        }
        wo.evidence = Some(evidence.clone());
        wo.artifacts = artifacts.clone();
        wo.landed = None;
        wo.approval = Some(Approval {
            state: if approved {
                ApprovalState::Approved
            } else {
                ApprovalState::Pending
            },
            policy,
            by: None,
            at: approved.then(|| now.clone()),
            note: approved.then(|| "approved by the review policy none".to_string()),
            extra: Default::default(),
        });
        Ok(summary.clone())
    })?;
    if policy == ReviewPolicy::Agent {
        open_review_order(ws, &wo)?;
    }
    Ok(Some((Status::Review, summary)))
}

/// Makes the review work order of `reviewed` (policy `agent`), unless an
/// open one exists.
fn open_review_order(ws: &mut WorkSet, reviewed: &WorkOrder) -> Result<()> {
    let s = ws.session();
    let dir = s.mission_dir(reviewed.mission)?;
    let loaded = super::records::Loaded::read(&dir)?;
    if loaded
        .orders
        .iter()
        .any(|w| w.reviews == Some(reviewed.id) && !w.status.is_closed())
    {
        return Ok(());
    }
    let number = super::ids::allocate(ws.tx(), model::Counter::WorkOrder, |n| {
        dir.path(&crate::store::orcdir::work_order_rel(WorkOrderId::new(n)))
            .exists()
    })?;
    let id = WorkOrderId::new(number);
    super::workset::lock_work_order(ws.tx(), &dir, reviewed.mission, id)?;
    let mut wo = WorkOrder::new(
        id,
        reviewed.mission,
        format!(
            "Review {}: {}",
            reviewed.id,
            super::tx::one_line(&reviewed.title, 80)
        ),
        s.actor.clone(),
        s.now.clone(),
    );
    wo.kind = "review".into();
    wo.priority = reviewed.priority;
    wo.reviews = Some(reviewed.id);
    wo.description = format!(
        "Review the work of {} against its acceptance criteria: `orc review {0}` shows them, the diff and the check. Then `orc approve {0}` or `orc reject {0} --reason \"...\"`.",
        reviewed.id
    );
    ws.insert_new(&dir, wo, &format!("created to review {}", reviewed.id));
    ws.line(format!("{id}: created to review {}", reviewed.id));
    Ok(())
}

/// Whether `actor` is an agent: a deputy or an IMP by name, or listed in
/// the repository's `agents`.
pub fn is_agent(s: &Session, actor: &str) -> bool {
    actor.starts_with("DEPUTY-")
        || actor.starts_with("IMP-")
        || super::config::list(s, "agents")
            .unwrap_or_default()
            .iter()
            .any(|a| a == actor)
}

/// Why `actor` may not decide the review of `wo` under `policy`, if not.
fn refused(s: &Session, wo: &WorkOrder, policy: ReviewPolicy, actor: &str) -> Option<String> {
    if wo.assignee.as_deref() == Some(actor) {
        return Some(format!(
            "{actor} did the work of {}; someone else reviews it",
            wo.id
        ));
    }
    match policy {
        ReviewPolicy::Human if is_agent(s, actor) => Some(format!(
            "{} needs a person's review (policy human); {actor} is an agent",
            wo.id
        )),
        ReviewPolicy::Deputy if actor.starts_with("IMP-") => Some(format!(
            "{} is reviewed by the deputy (policy deputy), not by {actor}",
            wo.id
        )),
        _ => None,
    }
}

/// `orc approve WO [--note T]`: the reviewer approves work in review; the
/// merge train may then take it. One commit, by the reviewer.
/// With `head`, only if that is still the handed-in head (a commit id or
/// a prefix of at least 7 of its digits): what the reviewer saw is what is
/// approved, not a later hand-in.
pub fn approve(
    s: &Session,
    id: WorkOrderId,
    note: Option<&str>,
    head: Option<&str>,
) -> Result<WorkOrder> {
    if let Some(h) = head
        && (h.len() < 7 || h.len() > 40 || !h.chars().all(|c| c.is_ascii_hexdigit()))
    {
        return Err(Error::usage(format!(
            "--head {:?} is not a commit id (7 to 40 hex digits)",
            crate::model::id::shorten(h)
        )));
    }
    decide(s, id, true, note, head)
}

/// `orc reject WO --reason T`: the work goes back to `in_progress` in the
/// same grove, with the reason (a note, mirrored in the grove's
/// `assigned-work.json`). One commit, by the reviewer.
pub fn reject(s: &Session, id: WorkOrderId, reason: &str) -> Result<WorkOrder> {
    if reason.trim().is_empty() {
        return Err(Error::usage("--reason must say what is wrong"));
    }
    decide(s, id, false, Some(reason), None)
}

fn decide(
    s: &Session,
    id: WorkOrderId,
    approve: bool,
    note: Option<&str>,
    head: Option<&str>,
) -> Result<WorkOrder> {
    if let Some(n) = note {
        model::message::check_text(n).map_err(|e| Error::usage(format!("the note {e}")))?;
    }
    let (mission_id, _) = s.locate_work_order(id)?;
    let mission = s.ledger_mission(mission_id)?;
    super::report::transaction(s, |ws| {
        let wo = ws.order(id)?.clone();
        if wo.status != Status::Review {
            return Err(Error::conflict(format!(
                "{id} is {}; only work in review can be {}",
                wo.status,
                if approve { "approved" } else { "rejected" }
            )));
        }
        let policy = wo
            .approval
            .as_ref()
            .map(|a| a.policy)
            .unwrap_or_else(|| policy(s, &mission, &wo));
        if let Some(why) = refused(s, &wo, policy, &s.actor) {
            return Err(Error::conflict(why));
        }
        let handed = wo.evidence.as_ref().map_or("", |e| e.head.as_str());
        if let Some(seen) = head
            && !handed.starts_with(&seen.to_ascii_lowercase())
        {
            return Err(Error::conflict(format!(
                "{id} was handed in again: its head is {} now, not {seen}",
                &handed[..handed.len().min(10)]
            ))
            .with_hint(format!("review it again: `orc review {id}`")));
        }
        let now = s.now.clone();
        let actor = s.actor.clone();
        let note = note.map(str::to_string);
        let subject = ws.change(id, |wo, cx| {
            wo.approval = Some(Approval {
                state: if approve {
                    ApprovalState::Approved
                } else {
                    ApprovalState::Rejected
                },
                policy,
                by: Some(actor.clone()),
                at: Some(now.clone()),
                note: note.clone(),
                extra: Default::default(),
            });
            if approve {
                if let Some(n) = &note {
                    add_note(wo, cx, format!("approved: {n}"));
                }
                // Reviewed work that brings no commits has nothing to land:
                // approving it finishes it (the train takes only evidence).
                if wo.evidence.is_none() {
                    set_status(wo, Status::Done, cx, None)?;
                    return Ok(format!(
                        "approved by {actor}; review -> done (nothing to land)"
                    ));
                }
                Ok(format!("approved by {actor}"))
            } else {
                set_status(wo, Status::InProgress, cx, None)?;
                add_note(
                    wo,
                    cx,
                    format!("rejected: {}", note.clone().unwrap_or_default()),
                );
                Ok(format!("review -> in_progress (rejected by {actor})"))
            }
        });
        subject?;
        // A review work order of this one is done with the decision.
        let dir = s.mission_dir(mission_id)?;
        let loaded = super::records::Loaded::read(&dir)?;
        for r in loaded
            .orders
            .iter()
            .filter(|w| w.reviews == Some(id) && !w.status.is_closed())
        {
            let rid = r.id;
            let verdict = if approve { "approved" } else { "rejected" };
            ws.change(rid, |w, cx| {
                // (Blocked too: a reviewer that got stuck is relieved.)
                if matches!(w.status, Status::Ready | Status::Assigned | Status::Blocked) {
                    set_status(w, Status::InProgress, cx, None)?;
                }
                set_status(w, Status::Done, cx, None)?;
                w.summary = Some(format!("{id} {verdict}"));
                Ok(format!("done ({id} {verdict})"))
            })?;
        }
        let wo = ws.order(id)?.clone();
        let (op, subject) = if approve {
            ("review.approve", format!("{id}: approved by {}", s.actor))
        } else {
            (
                "review.reject",
                format!("{id}: review -> in_progress (rejected by {})", s.actor),
            )
        };
        Ok((wo, Message::new(op, subject)))
    })
}

/// Work handed in while the grove had uncommitted changes (by file edit,
/// or with `--allow-uncommitted`) gets a note saying so: they did not come
/// with it. A review's verdict brings no code and gets none.
pub fn note_uncommitted(ws: &mut WorkSet, id: WorkOrderId, handin: &Handin) -> Result<()> {
    if handin.uncommitted.is_empty() || ws.order(id)?.reviews.is_some() {
        return Ok(());
    }
    let n = handin.uncommitted.len();
    let text = format!(
        "handed in with {n} uncommitted change(s) left in the grove, not part of this work: {}",
        handin.uncommitted_list()
    );
    ws.change(id, |wo, cx| {
        add_note(wo, cx, text.clone());
        Ok(format!("{n} uncommitted change(s) not handed in"))
    })?;
    Ok(())
}

fn add_note(wo: &mut WorkOrder, cx: &ChangeContext, text: String) {
    wo.notes.push(Note {
        at: cx.now.clone(),
        by: cx.actor.to_string(),
        text,
        extra: Default::default(),
    });
}

/// What a reviewer needs: `orc review WO`.
#[derive(Debug, Clone, Serialize)]
pub struct ReviewView {
    pub work_order: WorkOrder,
    pub policy: ReviewPolicy,
    pub integration: Option<String>,
    /// The diff of the handed-in head against where it parted from the
    /// integration branch (cut at 200 KB).
    pub diff: Option<String>,
    /// The check's output, if it ran.
    pub check_output: Option<String>,
}

pub fn view(s: &Session, id: WorkOrderId) -> Result<ReviewView> {
    let (mission_id, dir) = s.locate_work_order(id)?;
    let wo = super::records::read_work_order(&dir, id)?;
    let mission = s.ledger_mission(mission_id)?;
    let policy = wo
        .approval
        .as_ref()
        .map(|a| a.policy)
        .unwrap_or_else(|| policy(s, &mission, &wo));
    let diff = match &wo.evidence {
        Some(e) => {
            let parse = |t: &str| gix::ObjectId::from_hex(t.as_bytes()).ok();
            // From where its unlanded part starts now (the integration
            // branch may have moved since the hand-in).
            let base = match (
                super::landed::Bases::read(s, mission_id, &e.branch)?,
                parse(&e.head),
            ) {
                (Some(bases), Some(h)) => Some(bases.since(s, h)?),
                _ => parse(&e.base),
            };
            match (base, parse(&e.head)) {
                (Some(b), Some(h)) => Some(merge::diff(&s.ledger.common_dir(), b, h, 200_000)?),
                _ => None,
            }
        }
        None => None,
    };
    let check_output = wo
        .evidence
        .as_ref()
        .and_then(|e| e.check.as_ref())
        .and_then(|c| c.artifact.as_deref())
        .and_then(|name| super::artifact::get(s, id, name).ok())
        .map(|b| String::from_utf8_lossy(&b).into_owned());
    Ok(ReviewView {
        work_order: wo,
        policy,
        integration: mission.integration,
        diff,
        check_output,
    })
}
