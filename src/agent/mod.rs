//! Coding agents: what orc tells them at session start (`prime`), the
//! profiles that say how each kind of agent is run (`profile`), what orc
//! installs for each kind (`hooks`, dispatching to `claude` and `codex`),
//! workspace trust (`trust`), and what an agent reports of itself
//! (`state`).

pub mod claude;
pub mod codex;
pub mod hooks;
pub mod prime;
pub mod profile;
pub mod screen;
pub mod state;
pub mod trust;
