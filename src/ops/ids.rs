//! Id allocation: ids are sequential per ledger and never reused.
//!
//! The last number handed out per prefix is kept in the ledger's
//! `counters.json`. Allocation holds the ledger-wide ids lock from reading
//! the counter until the commit that records it, so concurrent creators
//! get distinct ids; a number whose file already exists (written by hand)
//! is skipped.

use super::tx::Tx;
use crate::error::{Error, Result};
use crate::model::{self, Counter, Counters, decode};

/// The ledger file of the counters.
pub const COUNTERS_FILE: &str = "counters.json";

/// Allocates the next number for `counter`, skipping numbers for which
/// `taken` is true, and stages the updated counters in `tx`.
pub fn allocate(tx: &mut Tx, counter: Counter, taken: impl Fn(u32) -> bool) -> Result<u32> {
    let ledger = &tx.session().ledger;
    tx.lock("!ids", &ledger.lock_path("ids"), "the id counters")?;
    let mut counters: Counters = match ledger.read(COUNTERS_FILE)? {
        Some(bytes) => decode::decode(&bytes)
            .map_err(|e| Error::invalid(format!("{}:{COUNTERS_FILE}: {e}", ledger.branch())))?,
        None => Counters::new(),
    };
    let mut next = counters.get(counter.key()).copied().unwrap_or(0);
    loop {
        next = next
            .checked_add(1)
            .filter(|n| *n < 1_000_000_000)
            .ok_or_else(|| {
                Error::conflict(format!("the {} counter is exhausted", counter.key()))
            })?;
        if !taken(next) {
            break;
        }
    }
    counters.insert(counter.key().to_string(), next);
    tx.stage_ledger_only(COUNTERS_FILE.to_string(), model::to_file_bytes(&counters));
    Ok(next)
}

/// Raises `counter` to at least `number` (for an id written by hand), and
/// stages the counters if that changed them.
pub fn bump(tx: &mut Tx, counter: Counter, number: u32) -> Result<()> {
    let ledger = &tx.session().ledger;
    tx.lock("!ids", &ledger.lock_path("ids"), "the id counters")?;
    let mut counters: Counters = match ledger.read(COUNTERS_FILE)? {
        Some(bytes) => decode::decode(&bytes)
            .map_err(|e| Error::invalid(format!("{}:{COUNTERS_FILE}: {e}", ledger.branch())))?,
        None => Counters::new(),
    };
    if counters.get(counter.key()).copied().unwrap_or(0) < number {
        counters.insert(counter.key().to_string(), number);
        tx.stage_ledger_only(COUNTERS_FILE.to_string(), model::to_file_bytes(&counters));
    }
    Ok(())
}
