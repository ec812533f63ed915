//! `orc init`.

use super::Out;
use crate::error::Result;
use crate::ops::{Session, init};

#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// The ledger branch to create (default `orc`, or the configured one).
    #[arg(long, value_name = "NAME")]
    pub branch: Option<String>,
}

pub fn run(s: &Session, args: &InitArgs, out: &Out) -> Result<()> {
    let reopened;
    let session = match &args.branch {
        Some(branch) if branch != s.ledger.branch() => {
            reopened = s.with_branch(branch)?;
            &reopened
        }
        _ => s,
    };
    let outcome = init::init(session)?;
    if out.json {
        out.json(&super::to_json(&outcome));
    } else if outcome.created {
        out.line(format!(
            "initialised ledger branch {:?} in {}",
            outcome.branch, outcome.repo
        ));
    } else {
        out.line(format!(
            "ledger branch {:?} already initialised in {}",
            outcome.branch, outcome.repo
        ));
    }
    Ok(())
}
