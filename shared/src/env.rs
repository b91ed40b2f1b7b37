//! Reading configuration variables: the error that names a missing or malformed
//! one. Below everything that reads the environment, so that the adapters and
//! the configuration that assembles them share it without importing each other.

use std::time::Duration;

#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(String);

impl ConfigError {
    pub fn new(msg: impl Into<String>) -> Self {
        Self(msg.into())
    }
}

/// A variable that must be set and not blank.
pub fn need(get: impl Fn(&str) -> Option<String>, k: &str) -> Result<String, ConfigError> {
    get(k)
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| ConfigError(format!("{k} is not set")))
}

/// A whole number of milliseconds, or `default` when unset.
pub fn millis(
    get: impl Fn(&str) -> Option<String>,
    k: &str,
    default: Duration,
) -> Result<Duration, ConfigError> {
    match get(k) {
        None => Ok(default),
        Some(v) => v
            .trim()
            .parse()
            .map(Duration::from_millis)
            .map_err(|_| ConfigError(format!("{k}: `{v}` is not a number of milliseconds"))),
    }
}
