//! `orc mission land`: the mission's integration branch comes onto its
//! target (`main`). A separate, explicit step: a fast-forward when the
//! target has not moved since, else a merge commit (made in the train's
//! worktree, never in anyone's checkout). The target moves only when that
//! is safe: when no worktree has it checked out (compare-and-swap on the
//! ref), or when the worktree that has it is clean, where orc runs
//! `git merge --ff-only` as a person would. Otherwise it refuses and says
//! what to run.

use std::path::PathBuf;

use gix::ObjectId;
use serde::Serialize;

use super::session::Session;
use crate::error::{Error, Result};
use crate::ledger::merge::{self, Brought, Strategy};
use crate::model::MissionId;
use crate::model::mission::MissionLanded;

#[derive(Debug, Clone, Serialize)]
pub struct Landing {
    pub mission: MissionId,
    pub target: String,
    pub integration: String,
    /// The target's commit before.
    pub from: String,
    /// The target's commit after.
    pub to: String,
    /// `fast-forward`, `merge`, or `up-to-date`.
    pub how: String,
    /// The worktree where the target is checked out, updated by
    /// `git merge --ff-only`.
    pub worktree: Option<PathBuf>,
}

pub fn land(s: &Session, id: MissionId) -> Result<Landing> {
    let mission = s.ledger_mission(id)?;
    let (Some(target), Some(integration)) = (mission.target.clone(), mission.integration.clone())
    else {
        return Err(Error::conflict(format!(
            "{id} has no integration branch; there is nothing to land"
        ))
        .with_hint("its work is on the groves' branches; merge them with git"));
    };
    // One train or landing of the mission at a time.
    let _lock = super::train::lock(s, id)?;
    let gone = |b: &str| {
        Error::environment(format!("branch {b} of {id} is gone")).with_hint(format!(
            "recreate it (`git branch {b} <commit>`) and land again"
        ))
    };
    let from = s.ledger.branch_tip(&target)?.ok_or_else(|| gone(&target))?;
    let tip = s
        .ledger
        .branch_tip(&integration)?
        .ok_or_else(|| gone(&integration))?;
    let mut landing = Landing {
        mission: id,
        target: target.clone(),
        integration: integration.clone(),
        from: from.to_string(),
        to: from.to_string(),
        how: "up-to-date".into(),
        worktree: None,
    };
    if s.ledger.is_ancestor(tip, from)? {
        // Already there — landed by hand (`git merge --ff-only`, as orc's
        // own hint says), or an earlier landing whose record failed:
        // recorded once, so the mission says where its work is.
        let recorded = s.ledger_mission(id)?.landed;
        if recorded.is_none_or(|l| l.target != target || l.commit != landing.to) {
            record(s, id, &landing)?;
        }
        return Ok(landing);
    }
    let (to, how) = if s.ledger.is_ancestor(from, tip)? {
        (tip, "fast-forward")
    } else {
        (
            merge_commit(s, id, &target, from, &integration, tip)?,
            "merge",
        )
    };
    let worktree = s.ledger.checked_out(&target)?;
    match &worktree {
        None => {
            let msg = format!("orc: {id} landed {integration} ({how})");
            if !s
                .ledger
                .set_branch(&target, Some(from), to, &s.author(), &msg)?
            {
                return Err(
                    Error::conflict(format!("{target} moved while orc landed {id}"))
                        .with_hint(format!("`orc mission land {id}` again")),
                );
            }
        }
        Some(wt) => {
            let run = format!("git -C {} merge --ff-only {integration}", wt.display());
            if merge::branch_of(wt)?.as_deref() != Some(target.as_str()) {
                return Err(Error::conflict(format!(
                    "{target} is being rebased or bisected in {}; orc does not move it meanwhile",
                    wt.display()
                ))
                .with_hint("finish or abort that (`git rebase --continue|--abort`, `git bisect reset`), then land again"));
            }
            if merge::head(wt)? != from {
                return Err(Error::conflict(format!(
                    "{target} is checked out in {} at another commit than the branch's",
                    wt.display()
                )));
            }
            if !merge::is_clean(wt)? {
                return Err(Error::conflict(format!(
                    "{target} is checked out in {}, which has changes; orc does not touch them",
                    wt.display()
                ))
                .with_hint(if how == "fast-forward" {
                    format!("commit or stash them and land again, or run `{run}` yourself")
                } else {
                    format!(
                        "commit or stash them and land again, or merge yourself: `git -C {} merge {integration}`",
                        wt.display()
                    )
                }));
            }
            merge::fast_forward(wt, to)?;
        }
    }
    landing.to = to.to_string();
    landing.how = how.into();
    landing.worktree = worktree;
    record(s, id, &landing)?;
    Ok(landing)
}

/// The merge commit of the integration branch into a target that moved,
/// made in the train's worktree; refused when they conflict.
fn merge_commit(
    s: &Session,
    id: MissionId,
    target: &str,
    from: ObjectId,
    integration: &str,
    tip: ObjectId,
) -> Result<ObjectId> {
    let wt = merge::train_worktree(
        &s.ledger.common_dir(),
        &super::train::worktree_path(s, id)?,
        from,
    )?;
    merge::reset(&wt, from)?;
    let author = s.author();
    let message =
        format!("Merge {integration} into {target}\n\nLanded by orc mission land for {id}.\n");
    match merge::bring(&wt, Strategy::Merge, from, tip, (&author.name, &author.email), author.time, &message)? {
        Brought::Done(c) => Ok(c),
        Brought::Nothing => Ok(from),
        Brought::Conflict(files) => Err(Error::conflict(format!(
            "{integration} conflicts with {target} in {}; orc lands only what merges cleanly",
            files.join(", ")
        ))
        .with_hint(format!(
            "merge {target} into the mission's work first: make a work order for it, or `git merge {integration}` on {target} yourself"
        ))),
    }
}

fn record(s: &Session, id: MissionId, l: &Landing) -> Result<()> {
    super::mission::mutate(s, id, "mission.land", |_, m, now| {
        m.landed = Some(MissionLanded {
            target: l.target.clone(),
            commit: l.to.clone(),
            how: l.how.clone(),
            at: now.clone(),
            extra: Default::default(),
        });
        Ok(format!(
            "{id}: landed {} on {} ({}, {}..{})",
            l.integration,
            l.target,
            l.how,
            short(&l.from),
            short(&l.to)
        ))
    })
    .map(|_| ())
}

fn short(c: &str) -> &str {
    &c[..c.len().min(10)]
}
