//! The policy engine on arbitrary settings (patterns included) and passwords:
//! a setting is accepted or refused with a message, a password gets a verdict,
//! nothing panics, and the backtracking limit keeps every check short.
#![no_main]

use std::collections::BTreeMap;

use account_core::model::domain::{Password, Username};
use account_core::model::policy;
use account_core::model::settings::TenantSettings;
use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    settings: Vec<(u8, &'a str)>,
    password: &'a str,
    username: &'a str,
}

const KEYS: &[&str] = &[
    "password.regex",
    "password.pattern",
    "password.min_length",
    "password.max_length",
    "password.name_policy",
    "password.history",
    "password.guidelines",
    "password.regex_error",
    "recovery.callback_regex",
    "recovery.expiry",
    "lock.duration",
];

fuzz_target!(|input: Input<'_>| {
    let overrides: BTreeMap<String, String> = input
        .settings
        .iter()
        .map(|(k, v)| {
            (
                KEYS[usize::from(*k) % KEYS.len()].to_string(),
                v.to_string(),
            )
        })
        .collect();
    let Ok(settings) = TenantSettings::builtin().with_overrides(&overrides) else {
        return;
    };
    let (Ok(password), Ok(username)) = (
        Password::new(input.password.to_string()),
        Username::parse(input.username),
    ) else {
        return;
    };
    let started = std::time::Instant::now();
    let _ = policy::violations(&settings.password, &password, &username);
    let _ = policy::guidelines(&settings.password);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(2),
        "a check took {:?}",
        started.elapsed()
    );
});
