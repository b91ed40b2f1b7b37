//! Per-tenant settings: names (the spec's), defaults, parsing and validation.
//!
//! Settings are stored as `name -> string` so an operator writes exactly what
//! the spec documents (`recovery.expiry=15m`). Every write goes through
//! [`TenantSettings::with_overrides`], so what is stored always parses.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::mail::{MailTemplate, TemplateName};
use crate::password::policy::{check_pattern, NamePolicy, PasswordPattern};
use crate::pattern::{Compile, Lazy};
use crate::time::{format_duration, parse_duration};

/// Every setting the service knows, with its default and what it means.
pub const SETTINGS: &[(&str, &str, &str)] = &[
    (
        "recovery.enabled",
        "true",
        "password recovery by email is on",
    ),
    ("recovery.expiry", "15m", "how long a recovery key is valid"),
    (
        "recovery.callback_regex",
        "^https://localhost:9443/.*",
        "callbacks a request may name",
    ),
    (
        "recovery.default_callback",
        "https://localhost:9443/myaccount/reset-password",
        "link base when a request names none",
    ),
    (
        "recovery.notify_user_existence",
        "false",
        "tell callers that a user does not exist (18003)",
    ),
    (
        "recovery.notify_account_status",
        "false",
        "tell callers that an account is locked (17003)",
    ),
    (
        "recovery.max_requests_per_hour",
        "5",
        "recovery mails per user per hour (0: no limit)",
    ),
    (
        "recovery.max_requests_per_ip_per_hour",
        "30",
        "recovery requests per source IP per hour (0: no limit)",
    ),
    (
        "recovery.captcha.enabled",
        "false",
        "require a reCAPTCHA token (g-recaptcha-response header) on recovery requests",
    ),
    (
        "recovery.captcha.secret",
        "",
        "the tenant's reCAPTCHA secret, sent to the verifier",
    ),
    ("lock.enabled", "true", "lock accounts after failed logins"),
    (
        "lock.max_failed_attempts",
        "5",
        "failed logins in a row that lock an account",
    ),
    (
        "lock.duration",
        "5m",
        "first lock length (0s: only an admin unlocks)",
    ),
    (
        "lock.ratio",
        "2",
        "each further lock lasts this many times longer",
    ),
    (
        "lock.notify",
        "true",
        "mail the user when the account locks or unlocks",
    ),
    (
        "password.min_length",
        "8",
        "fewest characters in a password",
    ),
    ("password.max_length", "64", "most characters in a password"),
    (
        "password.regex",
        "",
        "user-store regex (WSO2 PasswordJavaRegEx, Java syntax); empty: none",
    ),
    (
        "password.regex_error",
        "",
        "message when password.regex refuses a password",
    ),
    (
        "password.pattern",
        "",
        "identity-management pattern (Java syntax); empty: none",
    ),
    (
        "password.pattern_error",
        "",
        "message when password.pattern refuses a password",
    ),
    (
        "password.name_policy",
        "contain",
        "off, equal or contain: the password may not equal / contain the username",
    ),
    (
        "password.history",
        "0",
        "the last N passwords may not be reused (0: off)",
    ),
    (
        "password.guidelines",
        "",
        "what a change-password page lists: a JSON array of strings",
    ),
    (
        "anonymous_access",
        "true",
        "recovery endpoints need no credentials",
    ),
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingError {
    pub key: String,
    pub message: String,
}

impl fmt::Display for SettingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "setting `{}`: {}", self.key, self.message)
    }
}

impl std::error::Error for SettingError {}

fn err(key: &str, message: impl Into<String>) -> SettingError {
    SettingError {
        key: key.to_string(),
        message: message.into(),
    }
}

/// `recovery.callback_regex`, compiled on first use. `regex-lite`: callback
/// patterns are URL prefixes, its `\w`/`\d` are ASCII as in Java, and the SDK links
/// it anyway.
pub type CallbackRegex = Lazy<regex_lite::Regex>;

impl Compile for regex_lite::Regex {
    fn compile(source: &str) -> Result<Self, String> {
        // Bounded compile size: a pattern from configuration must not blow up memory.
        regex_lite::RegexBuilder::new(source)
            .size_limit(1 << 20)
            .build()
            .map_err(|e| format!("not a valid regular expression: {e}"))
    }
}

impl CallbackRegex {
    /// A pattern that no longer compiles matches nothing (fail closed, and logged).
    pub fn is_match(&self, s: &str) -> bool {
        match self.compiled() {
            Ok(re) => re.is_match(s),
            Err(e) => {
                tracing::error!(
                    pattern = self.as_str(),
                    error = e,
                    "callback regex does not compile"
                );
                false
            }
        }
    }
}

#[derive(Debug, Clone)]
pub struct RecoverySettings {
    pub enabled: bool,
    pub expiry: Duration,
    pub callback_regex: CallbackRegex,
    pub default_callback: String,
    pub notify_user_existence: bool,
    pub notify_account_status: bool,
    pub max_requests_per_hour: u32,
    pub max_requests_per_ip_per_hour: u32,
    /// `Some(secret)` when reCAPTCHA is required.
    pub captcha: Option<CaptchaSecret>,
}

/// A tenant's reCAPTCHA secret. Its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct CaptchaSecret(pub String);

impl fmt::Debug for CaptchaSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CaptchaSecret(***)")
    }
}

/// Settings whose values `accountctl tenant show` masks.
pub fn is_secret_setting(name: &str) -> bool {
    name.ends_with(".secret")
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockSettings {
    pub enabled: bool,
    pub max_failed_attempts: u32,
    pub duration: Duration,
    pub ratio: u32,
    pub notify: bool,
}

#[derive(Debug, Clone)]
pub struct PasswordSettings {
    pub min_length: usize,
    pub max_length: usize,
    pub regex: Option<PasswordPattern>,
    pub regex_error: Option<String>,
    pub pattern: Option<PasswordPattern>,
    pub pattern_error: Option<String>,
    pub name_policy: NamePolicy,
    pub history: u32,
    pub guidelines: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct TenantSettings {
    pub recovery: RecoverySettings,
    pub lock: LockSettings,
    pub password: PasswordSettings,
    pub anonymous_access: bool,
    /// The effective value of every setting, as written (shared: every request clones
    /// the settings it loads).
    values: Arc<BTreeMap<String, String>>,
    /// The tenant's own mail templates (the built-in ones stand for the rest).
    pub templates: std::collections::HashMap<TemplateName, MailTemplate>,
}

fn parse_bool(key: &str, v: &str) -> Result<bool, SettingError> {
    match v.trim() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(err(key, format!("`{v}` is not true or false"))),
    }
}

fn parse_num<T>(key: &str, v: &str, min: T, max: T) -> Result<T, SettingError>
where
    T: std::str::FromStr + PartialOrd + fmt::Display + Copy,
{
    let n: T = v
        .trim()
        .parse()
        .map_err(|_| err(key, format!("`{v}` is not a whole number")))?;
    if n < min || n > max {
        return Err(err(key, format!("`{v}` is outside {min}..={max}")));
    }
    Ok(n)
}

fn parse_dur(key: &str, v: &str, max: Duration) -> Result<Duration, SettingError> {
    let d = parse_duration(v).map_err(|m| err(key, m))?;
    if d > max {
        return Err(err(
            key,
            format!("`{v}` is longer than {}", format_duration(max)),
        ));
    }
    Ok(d)
}

impl TenantSettings {
    /// The built-in defaults of the spec.
    pub fn builtin() -> Self {
        let values = SETTINGS
            .iter()
            .map(|(k, v, _)| (k.to_string(), v.to_string()))
            .collect();
        // A unit test runs the write checks on them.
        Self::from_values(values, None).expect("built-in defaults are valid")
    }

    /// These settings with `overrides` applied on top; every key and value is
    /// checked, then the combination. For settings being written.
    pub fn with_overrides(
        &self,
        overrides: &BTreeMap<String, String>,
    ) -> Result<Self, SettingError> {
        let settings = self.apply(overrides)?;
        settings.check_callback_regex()?;
        settings.check_password_patterns()?;
        Ok(settings)
    }

    /// The same for settings read back from storage (or deployed as defaults),
    /// but for the patterns: they are compiled when first used, by the functions
    /// that use them, which check them at start-up ([`Self::check_password_patterns`],
    /// [`Self::check_callback_regex`]). So a login bootstrap links no regex engine.
    pub fn with_stored_overrides(
        &self,
        overrides: &BTreeMap<String, String>,
    ) -> Result<Self, SettingError> {
        self.apply(overrides)
    }

    fn apply(&self, overrides: &BTreeMap<String, String>) -> Result<Self, SettingError> {
        let mut values = (*self.values).clone();
        for (k, v) in overrides {
            if !values.contains_key(k) {
                return Err(err(
                    k,
                    "unknown setting (see `accountctl tenant show` for the list)",
                ));
            }
            values.insert(k.clone(), v.trim().to_string());
        }
        Self::from_values(values, Some(self))
    }

    /// The write-time checks of the password patterns (compile, length agreement,
    /// backtracking probes): set-password runs them on its defaults at start-up.
    pub fn check_password_patterns(&self) -> Result<(), SettingError> {
        let p = &self.password;
        for (key, pattern) in [
            ("password.regex", &p.regex),
            ("password.pattern", &p.pattern),
        ] {
            if let Some(pattern) = pattern {
                check_pattern(key, pattern, p.min_length, p.max_length).map_err(|m| err(key, m))?;
            }
        }
        Ok(())
    }

    /// The write-time checks of the callback pattern: the recovery functions run
    /// them on their defaults at start-up.
    pub fn check_callback_regex(&self) -> Result<(), SettingError> {
        let r = &self.recovery;
        let key = "recovery.callback_regex";
        r.callback_regex.compiled().map_err(|m| err(key, m))?;
        if !r.callback_regex.is_match(&r.default_callback) {
            return Err(err(
                "recovery.default_callback",
                format!(
                    "`{}` does not match recovery.callback_regex `{}`",
                    r.default_callback,
                    r.callback_regex.as_str()
                ),
            ));
        }
        Ok(())
    }

    /// The effective value of every setting.
    pub fn values(&self) -> &BTreeMap<String, String> {
        &self.values
    }

    /// `base`: settings whose compiled patterns are reused where the source is the same.
    fn from_values(
        values: BTreeMap<String, String>,
        base: Option<&Self>,
    ) -> Result<Self, SettingError> {
        let get = |k: &str| values.get(k).map(String::as_str).unwrap_or("");
        let week = Duration::from_secs(7 * 86_400);
        let year = Duration::from_secs(365 * 86_400);
        let k = "recovery.callback_regex";
        let callback_regex =
            CallbackRegex::reuse_or_new(base.map(|b| &b.recovery.callback_regex), get(k));
        let recovery = RecoverySettings {
            enabled: parse_bool("recovery.enabled", get("recovery.enabled"))?,
            expiry: parse_dur("recovery.expiry", get("recovery.expiry"), week)?,
            callback_regex,
            default_callback: get("recovery.default_callback").to_string(),
            notify_user_existence: parse_bool(
                "recovery.notify_user_existence",
                get("recovery.notify_user_existence"),
            )?,
            notify_account_status: parse_bool(
                "recovery.notify_account_status",
                get("recovery.notify_account_status"),
            )?,
            max_requests_per_hour: parse_num(
                "recovery.max_requests_per_hour",
                get("recovery.max_requests_per_hour"),
                0,
                10_000,
            )?,
            max_requests_per_ip_per_hour: parse_num(
                "recovery.max_requests_per_ip_per_hour",
                get("recovery.max_requests_per_ip_per_hour"),
                0,
                100_000,
            )?,
            captcha: match parse_bool("recovery.captcha.enabled", get("recovery.captcha.enabled"))?
            {
                false => None,
                true if get("recovery.captcha.secret").is_empty() => {
                    return Err(err(
                        "recovery.captcha.enabled",
                        "set recovery.captcha.secret too",
                    ))
                }
                true => Some(CaptchaSecret(get("recovery.captcha.secret").to_string())),
            },
        };
        let lock = LockSettings {
            enabled: parse_bool("lock.enabled", get("lock.enabled"))?,
            max_failed_attempts: parse_num(
                "lock.max_failed_attempts",
                get("lock.max_failed_attempts"),
                1,
                1000,
            )?,
            duration: parse_dur("lock.duration", get("lock.duration"), year)?,
            ratio: parse_num("lock.ratio", get("lock.ratio"), 1, 100)?,
            notify: parse_bool("lock.notify", get("lock.notify"))?,
        };
        let min_length = parse_num("password.min_length", get("password.min_length"), 1, 1024)?;
        let max_length = parse_num("password.max_length", get("password.max_length"), 1, 1024)?;
        if min_length > max_length {
            return Err(err(
                "password.min_length",
                format!("{min_length} is above password.max_length ({max_length})"),
            ));
        }
        let pattern = |key: &str, base: Option<&PasswordPattern>| {
            let src = get(key);
            (!src.is_empty()).then(|| PasswordPattern::reuse_or_new(base, src))
        };
        let message = |key: &str| -> Result<Option<String>, SettingError> {
            let v = get(key);
            if v.chars().count() > 500 || v.chars().any(char::is_control) {
                return Err(err(key, "at most 500 characters, no control characters"));
            }
            Ok((!v.is_empty()).then(|| v.to_string()))
        };
        let guidelines: Vec<String> = match get("password.guidelines") {
            "" => Vec::new(),
            v => serde_json::from_str(v).map_err(|_| {
                err(
                    "password.guidelines",
                    r#"must be a JSON array of strings, e.g. ["At least 8 characters"]"#,
                )
            })?,
        };
        if guidelines.len() > 20 || guidelines.iter().any(|g| g.chars().count() > 200) {
            return Err(err(
                "password.guidelines",
                "at most 20 entries of at most 200 characters",
            ));
        }
        let password = PasswordSettings {
            min_length,
            max_length,
            regex: pattern(
                "password.regex",
                base.and_then(|b| b.password.regex.as_ref()),
            ),
            regex_error: message("password.regex_error")?,
            pattern: pattern(
                "password.pattern",
                base.and_then(|b| b.password.pattern.as_ref()),
            ),
            pattern_error: message("password.pattern_error")?,
            name_policy: NamePolicy::parse(get("password.name_policy")).ok_or_else(|| {
                err(
                    "password.name_policy",
                    format!(
                        "`{}` is not off, equal or contain",
                        get("password.name_policy")
                    ),
                )
            })?,
            history: parse_num("password.history", get("password.history"), 0, 24)?,
            guidelines,
        };
        let anonymous_access = parse_bool("anonymous_access", get("anonymous_access"))?;

        // Combinations that cannot work are refused when written, not found at request time.
        if recovery.expiry.is_zero() {
            return Err(err(
                "recovery.expiry",
                "a recovery key must be valid for some time",
            ));
        }
        if recovery.default_callback.is_empty() {
            return Err(err("recovery.default_callback", "must not be empty"));
        }
        Ok(Self {
            templates: Default::default(),
            recovery,
            lock,
            password,
            anonymous_access,
            values: Arc::new(values),
        })
    }
}

/// Parses `KEY=VALUE` words (the CLI's form) into a map, refusing malformed words.
pub fn parse_assignments<'a>(
    words: impl IntoIterator<Item = &'a str>,
) -> Result<BTreeMap<String, String>, String> {
    let mut map = BTreeMap::new();
    for w in words {
        let (k, v) = w
            .split_once('=')
            .ok_or_else(|| format!("`{w}` is not KEY=VALUE"))?;
        map.insert(k.trim().to_string(), v.to_string());
    }
    Ok(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(pairs: &[(&str, &str)]) -> Result<TenantSettings, SettingError> {
        let map = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        TenantSettings::builtin().with_overrides(&map)
    }

    #[test]
    fn builtin_defaults_are_the_specs() {
        let s = TenantSettings::builtin();
        s.with_overrides(&BTreeMap::new())
            .expect("the write checks pass");
        assert!(s.recovery.enabled);
        assert_eq!(s.recovery.expiry, Duration::from_secs(900));
        assert!(s
            .recovery
            .callback_regex
            .is_match("https://localhost:9443/myaccount"));
        assert!(!s.recovery.callback_regex.is_match("https://evil.example/"));
        assert_eq!(s.recovery.max_requests_per_hour, 5);
        assert_eq!(s.lock.max_failed_attempts, 5);
        assert_eq!(s.lock.duration, Duration::from_secs(300));
        assert_eq!(s.lock.ratio, 2);
        assert_eq!((s.password.min_length, s.password.max_length), (8, 64));
        assert!(s.anonymous_access);
        assert_eq!(s.values().len(), SETTINGS.len());
    }

    #[test]
    fn overrides_apply_and_show_as_written() {
        let s = set(&[("recovery.expiry", "30s"), ("lock.duration", "0s")]).unwrap();
        assert_eq!(s.recovery.expiry, Duration::from_secs(30));
        assert_eq!(s.lock.duration, Duration::ZERO);
        assert_eq!(s.values()["recovery.expiry"], "30s");
    }

    #[test]
    fn wso2_style_escaped_regex_is_accepted() {
        let s = set(&[("recovery.callback_regex", r"^https:\/\/localhost:9443\/.*")]).unwrap();
        assert!(s
            .recovery
            .callback_regex
            .is_match("https://localhost:9443/x"));
    }

    #[test]
    fn bad_settings_are_refused_naming_the_key() {
        for (pairs, key) in [
            (vec![("recovery.nope", "1")], "recovery.nope"),
            (vec![("recovery.enabled", "yes")], "recovery.enabled"),
            (vec![("recovery.expiry", "15 minutes")], "recovery.expiry"),
            (vec![("recovery.expiry", "0s")], "recovery.expiry"),
            (
                vec![("lock.max_failed_attempts", "0")],
                "lock.max_failed_attempts",
            ),
            (vec![("lock.ratio", "-1")], "lock.ratio"),
            (
                vec![("recovery.callback_regex", "(")],
                "recovery.callback_regex",
            ),
            (vec![("password.min_length", "70")], "password.min_length"),
            (
                vec![("recovery.callback_regex", "^https://app\\.example/.*")],
                "recovery.default_callback",
            ),
            (
                vec![("recovery.captcha.enabled", "true")],
                "recovery.captcha.enabled",
            ),
            (
                vec![("recovery.max_requests_per_ip_per_hour", "-1")],
                "recovery.max_requests_per_ip_per_hour",
            ),
        ] {
            let e = set(&pairs).unwrap_err();
            assert_eq!(e.key, key, "{pairs:?} -> {e}");
            assert!(e.to_string().contains(key));
        }
    }

    #[test]
    fn costly_patterns_are_refused_when_written_and_not_probed_again_when_read() {
        let map: BTreeMap<String, String> =
            [("password.regex".to_string(), r"^(\w+\s?)*\1$".to_string())].into();
        let base = TenantSettings::builtin();
        assert_eq!(base.with_overrides(&map).unwrap_err().key, "password.regex");
        // Read back, it parses without the probes; the request-time limit still bounds it,
        // and set-password's start-up check refuses it as a default.
        let read = base.with_stored_overrides(&map).unwrap();
        assert!(read.password.regex.is_some());
        assert_eq!(
            read.check_password_patterns().unwrap_err().key,
            "password.regex"
        );
        // Other checks still run on read: a malformed stored value is an error.
        let bad: BTreeMap<String, String> =
            [("recovery.expiry".to_string(), "soon".to_string())].into();
        assert!(base.with_stored_overrides(&bad).is_err());
    }

    #[test]
    fn stored_patterns_compile_once_per_process_and_fail_closed() {
        let defaults = TenantSettings::builtin();
        assert!(defaults
            .recovery
            .callback_regex
            .is_match("https://localhost:9443/x"));
        // A tenant's settings read back share the defaults' compiled pattern.
        let expiry: BTreeMap<String, String> =
            [("recovery.expiry".to_string(), "30m".to_string())].into();
        let read = defaults.with_stored_overrides(&expiry).unwrap();
        assert!(Arc::ptr_eq(
            &read.recovery.callback_regex.0,
            &defaults.recovery.callback_regex.0
        ));
        // A stored pattern that no longer compiles is found at use, and matches nothing.
        let broken: BTreeMap<String, String> =
            [("recovery.callback_regex".to_string(), "(".to_string())].into();
        let read = defaults.with_stored_overrides(&broken).unwrap();
        assert!(!read
            .recovery
            .callback_regex
            .is_match("https://localhost:9443/x"));
        assert_eq!(
            read.check_callback_regex().unwrap_err().key,
            "recovery.callback_regex"
        );
    }

    #[test]
    fn assignments() {
        let m = parse_assignments(["a=b", "c=d=e"]).unwrap();
        assert_eq!(m["c"], "d=e");
        assert!(parse_assignments(["novalue"]).is_err());
    }
}
