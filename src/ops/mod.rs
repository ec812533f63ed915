//! Use cases, one function per command. A mutation is a transaction
//! ([`tx`]): lock, re-read, validate, write, commit, unlock. The CLI and the
//! watcher both call these functions, so a direct edit and the equivalent
//! command end in the same code path.

pub mod artifact;
pub mod aside;
pub mod assign;
pub mod config;
pub mod direct;
pub mod grove;
pub mod ids;
pub mod init;
pub mod land;
pub mod landed;
pub mod mail;
pub mod mission;
pub mod query;
pub mod records;
pub mod report;
pub mod restore;
pub mod review;
pub mod session;
pub mod train;
pub mod tx;
pub mod work_order;
pub mod workset;

pub use session::{Context, Options, Role, Session};
