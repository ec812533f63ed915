//! Files on disk: `.orc/` directories, atomic writes, file locks, context
//! detection and user settings. Nothing here knows about git.

pub mod context;
pub mod fsio;
pub mod lock;
pub mod orcdir;
pub mod settings;

pub use lock::FileLock;
pub use orcdir::OrcDir;
pub use settings::Settings;
