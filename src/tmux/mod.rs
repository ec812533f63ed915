//! tmux: the only place orc runs tmux. Commands are passed as argv (never
//! a shell string), on the socket the user chose.

use std::process::Command;

use crate::error::{Error, Result};

/// The oldest tmux orc supports (pane options with `set-option -p`).
pub const MIN_TMUX: (u32, u32) = (3, 0);

/// The installed tmux's version, as (major, minor).
pub fn version() -> Result<(u32, u32)> {
    let out = Command::new("tmux").arg("-V").output().map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            Error::environment("tmux is not installed or not on PATH")
                .with_hint("install tmux 3.0 or newer (Debian: apt-get install tmux)")
        } else {
            Error::environment(format!("cannot run tmux: {e}"))
        }
    })?;
    let text = String::from_utf8_lossy(&out.stdout);
    parse_version(&text).ok_or_else(|| {
        Error::environment(format!(
            "cannot read the tmux version from {:?}",
            text.trim()
        ))
    })
}

fn parse_version(text: &str) -> Option<(u32, u32)> {
    // "tmux 3.3a", "tmux next-3.4", "tmux 3.2"
    let v = text.split_whitespace().nth(1)?;
    let v = v.trim_start_matches("next-");
    let mut parts = v.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor: String = parts
        .next()?
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    Some((major, minor.parse().ok()?))
}

#[cfg(test)]
mod tests {
    #[test]
    fn versions() {
        assert_eq!(super::parse_version("tmux 3.3a\n"), Some((3, 3)));
        assert_eq!(super::parse_version("tmux next-3.5"), Some((3, 5)));
        assert_eq!(super::parse_version("tmux 2.9"), Some((2, 9)));
        assert_eq!(super::parse_version("garbage"), None);
    }
}
