//! Typed configuration, read once at cold start. A missing or malformed
//! variable stops the function with a message naming it; nothing falls back silently.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::env::millis;
pub use crate::env::ConfigError;
use crate::mail::MailConfig;
use crate::model::settings::TenantSettings;
use crate::outbound::aws::AwsEnv;
use crate::outbound::captcha::{CaptchaConfig, GOOGLE_VERIFY_URL};
use crate::store::Tables;

/// The global defaults: the built-in ones with `DEFAULT_SETTINGS` (a JSON object
/// of setting names to values) applied. Patterns are checked by the functions that
/// use them, at their start-up (set-password: `check_password_patterns`,
/// recover-password: `check_callback_regex`), so that a login links no regex engine.
pub fn default_settings(
    get: impl Fn(&str) -> Option<String>,
) -> Result<TenantSettings, ConfigError> {
    match get("DEFAULT_SETTINGS").filter(|v| !v.trim().is_empty()) {
        None => Ok(TenantSettings::builtin()),
        Some(json) => {
            let map: BTreeMap<String, String> = serde_json::from_str(&json).map_err(|e| {
                ConfigError::new(format!(
                    "DEFAULT_SETTINGS must be a JSON object of strings: {e}"
                ))
            })?;
            TenantSettings::builtin()
                .with_stored_overrides(&map)
                .map_err(|e| ConfigError::new(format!("DEFAULT_SETTINGS: {e}")))
        }
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    pub aws: AwsEnv,
    pub tables: Tables,
    pub mail: MailConfig,
    /// Global defaults: the built-in ones with `DEFAULT_SETTINGS` applied.
    pub defaults: TenantSettings,
    /// Recovery answers take at least this long, so that the work done for a
    /// real user cannot be told apart from the nothing done for an unknown one.
    pub response_floor: Duration,
    /// How long a use case may take ([`REQUEST_BUDGET`]; tests that pile
    /// dozens of requests onto two cores give themselves more).
    pub request_budget: Duration,
    /// How long a warm instance keeps a tenant's settings before reading them
    /// again (`SETTINGS_CACHE_TTL`, default `30s`, at most `1h`; `0s`: every request).
    pub settings_cache_ttl: Duration,
    pub captcha: CaptchaConfig,
}

/// Every request is answered within 3 s of its start: a use case still waiting
/// on a dependency after this gets `503` with `Retry-After`.
pub const REQUEST_BUDGET: Duration = Duration::from_millis(2500);

/// Longest `SETTINGS_CACHE_TTL`: a settings change must not wait longer than this.
const MAX_SETTINGS_CACHE_TTL: Duration = Duration::from_secs(3600);

fn settings_cache_ttl(get: &impl Fn(&str) -> Option<String>) -> Result<Duration, ConfigError> {
    let Some(v) = get("SETTINGS_CACHE_TTL").filter(|v| !v.trim().is_empty()) else {
        return Ok(Duration::from_secs(30));
    };
    let d = crate::model::time::parse_duration(v.trim())
        .map_err(|e| ConfigError::new(format!("SETTINGS_CACHE_TTL: {e}")))?;
    if d > MAX_SETTINGS_CACHE_TTL {
        return Err(ConfigError::new(format!(
            "SETTINGS_CACHE_TTL: `{v}` is longer than 1h"
        )));
    }
    Ok(d)
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads the configuration through `get`, so tests can pass their own values.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let aws = AwsEnv::from_lookup(&get)?;
        Ok(Self {
            tables: Tables::from_lookup(&get)?,
            mail: MailConfig::from_lookup(&get)?,
            defaults: default_settings(&get)?,
            response_floor: millis(&get, "RESPONSE_FLOOR_MS", Duration::from_millis(100))?,
            request_budget: REQUEST_BUDGET,
            settings_cache_ttl: settings_cache_ttl(&get)?,
            captcha: CaptchaConfig {
                trust: aws.trust,
                verify_url: get("RECAPTCHA_VERIFY_URL")
                    .unwrap_or_else(|| GOOGLE_VERIFY_URL.to_string()),
                timeout: millis(&get, "RECAPTCHA_TIMEOUT_MS", Duration::from_millis(3000))?,
                extension: crate::outbound::secrets::Extension::from_lookup(&get),
            },
            aws,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base(k: &str) -> Option<String> {
        let v = match k {
            "AWS_REGION" => "us-east-1",
            "AWS_ACCESS_KEY_ID" => "AKID",
            "AWS_SECRET_ACCESS_KEY" => "secret",
            "USERS_TABLE" => "u",
            "SETTINGS_TABLE" => "s",
            "KEYS_TABLE" => "k",
            "RATE_LIMITS_TABLE" => "r",
            "OUTBOX_TABLE" => "o",
            "MAIL_FROM" => "no-reply@example.com",
            _ => return None,
        };
        Some(v.to_string())
    }

    #[test]
    fn reads_required_values() {
        let c = Config::from_lookup(base).unwrap();
        assert_eq!(c.tables.keys, "k");
        assert_eq!(c.response_floor, Duration::from_millis(100));
        assert_eq!(c.settings_cache_ttl, Duration::from_secs(30));
        assert_eq!(c.defaults.recovery.expiry, Duration::from_secs(900));
    }

    #[test]
    fn missing_or_bad_values_name_the_variable() {
        let e =
            Config::from_lookup(|k| if k == "KEYS_TABLE" { None } else { base(k) }).unwrap_err();
        assert!(e.to_string().contains("KEYS_TABLE"), "{e}");
        let e = Config::from_lookup(|k| {
            if k == "DEFAULT_SETTINGS" {
                Some(r#"{"recovery.expiry":"soon"}"#.into())
            } else {
                base(k)
            }
        })
        .unwrap_err();
        assert!(e.to_string().contains("recovery.expiry"), "{e}");
        for bad in ["30", "2h", "soon"] {
            let e = Config::from_lookup(|k| {
                if k == "SETTINGS_CACHE_TTL" {
                    Some(bad.into())
                } else {
                    base(k)
                }
            })
            .unwrap_err();
            assert!(e.to_string().contains("SETTINGS_CACHE_TTL"), "{bad}: {e}");
        }
    }

    #[test]
    fn default_settings_override_the_builtins() {
        let c = Config::from_lookup(|k| {
            if k == "DEFAULT_SETTINGS" {
                Some(r#"{"recovery.expiry":"30m"}"#.into())
            } else {
                base(k)
            }
        })
        .unwrap();
        assert_eq!(c.defaults.recovery.expiry, Duration::from_secs(1800));
    }
}
