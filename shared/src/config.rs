//! Typed configuration, read once at cold start. A missing or malformed
//! variable stops the function with a message naming it; nothing falls back silently.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::aws::AwsEnv;
use crate::domain::Email;
use crate::recovery::captcha::{CaptchaConfig, GOOGLE_VERIFY_URL};
use crate::tenant::TenantSettings;

#[derive(Debug, Clone)]
pub struct Tables {
    pub users: String,
    pub settings: String,
    pub keys: String,
    /// Hourly request counters (per source IP), removed by TTL.
    pub rate_limits: String,
}

impl Tables {
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        Ok(Self {
            users: need(&get, "USERS_TABLE")?,
            settings: need(&get, "SETTINGS_TABLE")?,
            keys: need(&get, "KEYS_TABLE")?,
            rate_limits: need(&get, "RATE_LIMITS_TABLE")?,
        })
    }
}

fn need(get: impl Fn(&str) -> Option<String>, k: &str) -> Result<String, ConfigError> {
    get(k)
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| ConfigError(format!("{k} is not set")))
}

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
                ConfigError(format!(
                    "DEFAULT_SETTINGS must be a JSON object of strings: {e}"
                ))
            })?;
            TenantSettings::builtin()
                .with_stored_overrides(&map)
                .map_err(|e| ConfigError(format!("DEFAULT_SETTINGS: {e}")))
        }
    }
}

#[derive(Debug, Clone)]
pub struct MailConfig {
    pub from: Email,
    pub sender_name: String,
    pub signature: String,
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
    pub captcha: CaptchaConfig,
}

#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(String);

impl ConfigError {
    pub fn new(msg: impl Into<String>) -> Self {
        Self(msg.into())
    }
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads the configuration through `get`, so tests can pass their own values.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let need = |k: &str| need(&get, k);
        let from = need("MAIL_FROM")?;
        let from = Email::parse(&from).map_err(|e| ConfigError(format!("MAIL_FROM: {e}")))?;
        let defaults = default_settings(&get)?;
        let response_floor = match get("RESPONSE_FLOOR_MS") {
            None => Duration::from_millis(250),
            Some(v) => Duration::from_millis(v.trim().parse().map_err(|_| {
                ConfigError(format!(
                    "RESPONSE_FLOOR_MS: `{v}` is not a number of milliseconds"
                ))
            })?),
        };
        let aws = AwsEnv::from_lookup(&get)?;
        Ok(Self {
            tables: Tables::from_lookup(&get)?,
            mail: MailConfig {
                from,
                sender_name: get("MAIL_SENDER_NAME").unwrap_or_else(|| "Account Recovery".into()),
                signature: get("MAIL_SIGNATURE").unwrap_or_default(),
            },
            defaults,
            response_floor,
            captcha: CaptchaConfig {
                trust: aws.trust,
                verify_url: get("RECAPTCHA_VERIFY_URL")
                    .unwrap_or_else(|| GOOGLE_VERIFY_URL.to_string()),
                timeout: match get("RECAPTCHA_TIMEOUT_MS") {
                    None => Duration::from_millis(3000),
                    Some(v) => Duration::from_millis(v.trim().parse().map_err(|_| {
                        ConfigError(format!(
                            "RECAPTCHA_TIMEOUT_MS: `{v}` is not a number of milliseconds"
                        ))
                    })?),
                },
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
            "MAIL_FROM" => "no-reply@example.com",
            _ => return None,
        };
        Some(v.to_string())
    }

    #[test]
    fn reads_required_values() {
        let c = Config::from_lookup(base).unwrap();
        assert_eq!(c.tables.keys, "k");
        assert_eq!(c.response_floor, Duration::from_millis(250));
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
