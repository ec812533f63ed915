//! `orc init`: create the ledger branch.

use super::session::Session;
use crate::error::Result;
use crate::ledger;
use crate::model::{self, LedgerInfo};

#[derive(Debug, Clone, serde::Serialize)]
pub struct InitOutcome {
    pub branch: String,
    pub created: bool,
    pub repo: String,
}

/// Creates the ledger branch with its first commit holding `orc.json`.
/// Idempotent: an existing ledger is left as it is.
pub fn init(s: &Session) -> Result<InitOutcome> {
    let info = LedgerInfo {
        format: 1,
        created_at: s.now.clone(),
        extra: Default::default(),
    };
    let message = super::tx::Message::new("init", "ledger initialised").render(&s.actor);
    let created = s
        .ledger
        .init(&model::to_file_bytes(&info), &s.author(), &message)?;
    if s.ledger.branch() != ledger::DEFAULT_BRANCH {
        ledger::remember_branch(s.ledger.repo(), s.ledger.branch())?;
    }
    Ok(InitOutcome {
        branch: s.ledger.branch().to_string(),
        created,
        repo: s.ledger.common_dir().display().to_string(),
    })
}
