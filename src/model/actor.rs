//! Actor names: who did something. `DEPUTY-MISSION-001`, `IMP-GROVE-001`,
//! or a person's name. They become git commit authors and note authors.

use super::id::{GroveId, MissionId};

/// The actor name of the deputy of a mission.
pub fn deputy(mission: MissionId) -> String {
    format!("DEPUTY-{mission}")
}

/// The actor name of the IMP working in a grove.
pub fn imp(grove: GroveId) -> String {
    format!("IMP-{grove}")
}

/// An actor name is 1 to 64 printable characters without `<`, `>` or
/// control characters (it becomes a git author name).
pub fn check_actor(name: &str) -> Result<(), String> {
    if name.trim().is_empty() {
        return Err("an actor name must not be empty".into());
    }
    if name.chars().count() > 64 {
        return Err(format!(
            "actor name {:?} is longer than 64 characters",
            super::id::shorten(name)
        ));
    }
    if name.chars().any(|c| c.is_control() || c == '<' || c == '>') {
        return Err(format!(
            "actor name {:?} contains a control character, `<` or `>`",
            super::id::shorten(name)
        ));
    }
    Ok(())
}

/// The email orc writes for an actor in git commits.
pub fn email(name: &str) -> String {
    let local: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    format!("{local}@orc")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_emails() {
        assert_eq!(deputy(MissionId::new(1)), "DEPUTY-MISSION-001");
        assert_eq!(imp(GroveId::new(12)), "IMP-GROVE-012");
        assert_eq!(email("IMP-GROVE-001"), "imp-grove-001@orc");
        assert_eq!(email("Jane Doe"), "jane-doe@orc");
        assert!(check_actor("Jane Doe").is_ok());
        assert!(check_actor("").is_err());
        assert!(check_actor("a\nb").is_err());
        assert!(check_actor("x <y@z>").is_err());
    }
}
