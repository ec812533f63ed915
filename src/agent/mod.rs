//! Coding agents: what orc tells them at session start (`prime`), and the
//! hooks that make their agent (Claude Code) ask for it.

pub mod hooks;
pub mod prime;
