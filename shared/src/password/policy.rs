//! The tenant's password policy. Length is counted in characters (Unicode
//! scalar values), as NIST SP 800-63B asks.

use crate::domain::{Password, Username};
use crate::tenant::PasswordSettings;

/// Every rule the password breaks, as the sentences a user reads; empty when it passes.
pub fn violations(
    rules: &PasswordSettings,
    password: &Password,
    _username: &Username,
) -> Vec<String> {
    let mut broken = Vec::new();
    let len = password.expose().chars().count();
    if len < rules.min_length {
        broken.push(format!(
            "Password must be at least {} characters long.",
            rules.min_length
        ));
    }
    if len > rules.max_length {
        broken.push(format!(
            "Password must be at most {} characters long.",
            rules.max_length
        ));
    }
    broken
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(min: usize, max: usize) -> PasswordSettings {
        PasswordSettings {
            min_length: min,
            max_length: max,
        }
    }

    fn check(pw: &str, r: &PasswordSettings) -> Vec<String> {
        violations(
            r,
            &Password::new(pw.into()).unwrap(),
            &Username::parse("kim").unwrap(),
        )
    }

    #[test]
    fn length_bounds_count_characters_not_bytes() {
        let r = rules(8, 64);
        assert!(check("Password1!", &r).is_empty());
        assert_eq!(check("short", &r).len(), 1);
        assert!(check(&"x".repeat(65), &r)[0].contains("at most 64"));
        // Eight characters, 24 bytes.
        assert!(check("日本語日本語日本", &r).is_empty());
    }
}
