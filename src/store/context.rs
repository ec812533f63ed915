//! Finding out where a command runs: inside a mission workspace, inside a
//! grove, or elsewhere. The nearest enclosing `.orc/config.json` decides;
//! a legacy `.orc-mission` marker (from the system orc replaces) is read
//! too.

use std::path::{Path, PathBuf};

use super::fsio::{self, ReadError};
use super::orcdir::{CONFIG_FILE, OrcDir};
use crate::error::{Error, Result};
use crate::model::{DirConfig, MissionId};

/// The legacy marker file of a mission workspace.
pub const LEGACY_MARKER: &str = ".orc-mission";

/// What the nearest enclosing `.orc/` (or legacy marker) says.
#[derive(Debug, Clone)]
pub enum Found {
    /// A directory with `.orc/config.json`.
    Config { dir: OrcDir, config: DirConfig },
    /// A directory with a legacy `.orc-mission` marker naming a mission.
    Legacy { dir: PathBuf, mission: MissionId },
    /// Nothing up to the root.
    Nothing,
}

/// Walks up from `start` to the first directory with `.orc/config.json` or
/// `.orc-mission`. A config that cannot be read is an error naming it.
pub fn find(start: &Path) -> Result<Found> {
    for dir in start.ancestors() {
        let orc = OrcDir::in_dir(dir);
        let config_path = orc.path(CONFIG_FILE);
        if orc.present()? && std::fs::symlink_metadata(&config_path).is_ok() {
            let config = orc.read_config().map_err(|e| {
                e.with_hint(format!(
                    "fix {} by hand (see spec/README.md, \"config.json\") or move it away",
                    config_path.display()
                ))
            })?;
            return Ok(Found::Config { dir: orc, config });
        }
        let marker = dir.join(LEGACY_MARKER);
        match fsio::read_regular(&marker) {
            Ok(bytes) => {
                let mission = parse_legacy_marker(&bytes)
                    .map_err(|msg| Error::invalid(format!("{}: {msg}", marker.display())))?;
                return Ok(Found::Legacy {
                    dir: dir.to_path_buf(),
                    mission,
                });
            }
            Err(ReadError::Missing) => {}
            Err(e) => return Err(e.into_error(&marker)),
        }
    }
    Ok(Found::Nothing)
}

/// The legacy marker holds a mission id, either as plain text or as a JSON
/// object with `mission_id`, `mission` or `id`.
fn parse_legacy_marker(bytes: &[u8]) -> std::result::Result<MissionId, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "invalid UTF-8".to_string())?;
    let trimmed = text.trim();
    if trimmed.starts_with('{') {
        let value: serde_json::Value =
            crate::model::decode::decode(bytes).map_err(|e| e.to_string())?;
        for key in ["mission_id", "mission", "id"] {
            if let Some(id) = value.get(key).and_then(|v| v.as_str()) {
                return MissionId::parse(id).map_err(|e| e.message);
            }
        }
        return Err("expected a mission id in `mission_id`, `mission` or `id`".into());
    }
    MissionId::parse(trimmed).map_err(|e| e.message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_marker_forms() {
        assert_eq!(
            parse_legacy_marker(b"MISSION-004\n").unwrap(),
            MissionId::new(4)
        );
        assert_eq!(
            parse_legacy_marker(br#"{"mission_id": "MISSION-002"}"#).unwrap(),
            MissionId::new(2)
        );
        assert!(parse_legacy_marker(b"../etc").is_err());
    }
}
