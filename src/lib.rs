//! orc coordinates coding agents that work in parallel in git worktrees.
//!
//! State is JSON files in `.orc/` directories; every change is a commit on a
//! coordination branch (the ledger) of the project's own repository. The
//! layers, from the bottom: [`model`] (pure types), [`store`] (files, locks,
//! context), [`ledger`] (git objects and the branch ref), [`ops`] (one
//! function per use case), [`cli`] (parsing and rendering). Dependencies
//! point downward only. `spec/README.md` is the authoritative description
//! of the files and commands.

pub mod agent;
pub mod cli;
pub mod demo;
pub mod deploy;
pub mod doctor;
pub mod error;
pub mod ledger;
pub mod model;
pub mod ops;
pub mod store;
pub mod tmux;
pub mod watch;

pub use error::{Error, Kind, Result};
