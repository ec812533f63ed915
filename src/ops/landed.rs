//! What of a grove branch's work has landed. The integration branch holds
//! the grove's commits themselves only with the `merge` strategy; with
//! `rebase` and `squash` it holds new commits with the same changes, and
//! the grove's own commits never become its ancestors. So "landed" is
//! decided from the ledger too: a commit has landed when it is on the
//! integration branch or in the handed-in head of a work order of the
//! same branch that has landed. Evidence, the reviewer's diff, custody at
//! `grove remove` and a grove's catching up at `assign` all ask here.

use gix::ObjectId;

use super::Session;
use crate::error::Result;
use crate::ledger::merge::{self, Size};
use crate::model::WorkOrder;

/// Where a branch's work is measured from.
#[derive(Debug, Clone)]
pub struct Bases {
    /// The integration branch's tip.
    pub tip: ObjectId,
    /// The handed-in heads of the branch's work that has landed.
    pub heads: Vec<ObjectId>,
}

impl Bases {
    /// The bases of `branch`'s work in a mission whose integration branch
    /// is at `tip`, from the mission's work orders.
    pub fn new(tip: ObjectId, branch: &str, orders: &[WorkOrder]) -> Bases {
        let heads = orders
            .iter()
            .filter(|w| w.landed.is_some())
            .filter_map(|w| w.evidence.as_ref())
            .filter(|e| e.branch == branch)
            .filter_map(|e| ObjectId::from_hex(e.head.as_bytes()).ok())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        Bases { tip, heads }
    }

    /// The bases of `branch`'s work in mission `mission` (None: it has no
    /// integration branch, or that branch does not exist).
    pub fn read(
        s: &Session,
        mission: crate::model::MissionId,
        branch: &str,
    ) -> Result<Option<Bases>> {
        let m = s.ledger_mission(mission)?;
        let Some(integration) = m.integration else {
            return Ok(None);
        };
        let Some(tip) = s.ledger.branch_tip(&integration)? else {
            return Ok(None);
        };
        let orders = super::records::Loaded::read(&s.mission_dir(mission)?)?;
        Bases::new(tip, branch, &orders.orders).present(s).map(Some)
    }

    /// Without the landed heads the repository no longer has (pruned once
    /// no branch held them — then nothing live contains them either).
    pub fn present(mut self, s: &Session) -> Result<Bases> {
        self.heads = merge::existing(&s.ledger.common_dir(), &self.heads)?;
        Ok(self)
    }

    fn all(&self) -> Vec<ObjectId> {
        let mut v = self.heads.clone();
        v.push(self.tip);
        v
    }

    /// How many commits of `head` have not landed.
    pub fn unlanded(&self, s: &Session, head: ObjectId) -> Result<u32> {
        merge::count(&s.ledger.common_dir(), head, &self.all())
    }

    /// The commit `head`'s unlanded work starts from: where it parted from
    /// the integration branch, or the latest landed head it contains when
    /// that is newer (work stacked on work landed by rebase or squash).
    pub fn since(&self, s: &Session, head: ObjectId) -> Result<ObjectId> {
        let common = s.ledger.common_dir();
        let mut best = merge::merge_base(&common, self.tip, head)?;
        if self.heads.is_empty() {
            return Ok(best);
        }
        // Only heads that are not inside the integration branch or a later
        // landed head can be newer (one git call for all of them; with the
        // `merge` strategy none is left).
        for h in merge::independent(&common, &self.all())? {
            if h != self.tip
                && h != best
                && h != head
                && s.ledger.is_ancestor(h, head)?
                && s.ledger.is_ancestor(best, h)?
            {
                best = h;
            }
        }
        Ok(best)
    }

    /// The size of `head`'s unlanded work: its commits, and the diff from
    /// [`Bases::since`].
    pub fn size(&self, s: &Session, head: ObjectId) -> Result<(Size, ObjectId)> {
        let commits = self.unlanded(s, head)?;
        let since = self.since(s, head)?;
        let mut size = merge::size(&s.ledger.common_dir(), since, head)?;
        size.commits = commits;
        Ok((size, since))
    }
}
