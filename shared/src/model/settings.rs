//! Per-tenant settings, each declared once in [`SETTINGS`]: its name (the
//! spec's), default, help text, whether it is a secret, and the parser that
//! puts a value in its place, bounds included. The table `accountctl` shows,
//! the parser of stored and deployed values and the write-time checks all come
//! from that one list; a name that is not on it is an error on read and on write.
//!
//! Settings are stored as `name -> string`, so an operator writes exactly what
//! the documentation shows (`recovery.expiry=15m`). The types they fill live
//! next to the rules that use them (`recovery`, `lock`, `policy`).

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::callback::{CallbackRegex, CallbackUrl};
use super::lock::LockSettings;
use super::policy::{check_pattern, NamePolicy, PasswordPattern, PasswordSettings};
use super::recovery::{CaptchaSecret, RecoverySettings};
use super::templates::{MailTemplate, TemplateName};
use super::time::{format_duration, parse_duration};

/// One setting: everything about it, in one place.
pub struct Setting {
    pub name: &'static str,
    pub default: &'static str,
    pub help: &'static str,
    /// Masked wherever settings are shown.
    pub secret: bool,
    /// Said to an operator who sets it to anything but its default.
    pub warning: Option<&'static str>,
    /// Parses a value into its place in the settings.
    set: fn(&mut TenantSettings, &str) -> Result<(), String>,
}

const DAY: Duration = Duration::from_secs(86_400);
const WEEK: Duration = Duration::from_secs(7 * 86_400);
const YEAR: Duration = Duration::from_secs(365 * 86_400);

macro_rules! setting {
    ($name:literal = $default:literal, $help:literal, |$s:ident, $v:ident| $body:expr) => {
        setting!($name = $default, $help, secret: false, warning: None, |$s, $v| $body)
    };
    ($name:literal = $default:literal, $help:literal, secret: $secret:expr, warning: $warning:expr,
     |$s:ident, $v:ident| $body:expr) => {
        Setting {
            name: $name,
            default: $default,
            help: $help,
            secret: $secret,
            warning: $warning,
            set: |$s, $v| {
                $body;
                Ok(())
            },
        }
    };
}

/// Every setting the service knows.
pub static SETTINGS: &[Setting] = &[
    setting!(
        "recovery.enabled" = "true",
        "password recovery by email is on",
        |s, v| s.recovery.enabled = boolean(v)?
    ),
    setting!(
        "recovery.expiry" = "15m",
        "how long a recovery key is valid (a duration with its unit: 30s, 15m, 2h, 1d)",
        |s, v| s.recovery.expiry = duration(v, WEEK)?
    ),
    setting!(
        "recovery.callback_regex" = "^https://localhost:9443/.*",
        "callbacks a request may name (matched against the whole URL)",
        |s, v| s.recovery.callback_regex =
            CallbackRegex::reuse_or_new(Some(&s.recovery.callback_regex), v)
    ),
    setting!(
        "recovery.default_callback" = "https://localhost:9443/myaccount/reset-password",
        "link base when a request names none (a clean absolute URL)",
        |s, v| s.recovery.default_callback =
            CallbackUrl::parse(v).map_err(|p| format!("`{v}` {}", p.explain()))?
    ),
    setting!(
        "recovery.notify_user_existence" = "false",
        "tell callers that a user does not exist (18003)",
        |s, v| s.recovery.notify_user_existence = boolean(v)?
    ),
    setting!(
        "recovery.notify_account_status" = "false",
        "tell callers that an account is locked (17003)",
        |s, v| s.recovery.notify_account_status = boolean(v)?
    ),
    setting!(
        "recovery.max_requests_per_hour" = "5",
        "recovery mails per user per hour (0: no limit)",
        |s, v| s.recovery.max_requests_per_hour = number(v, 0, 10_000)?
    ),
    setting!(
        "recovery.max_requests_per_ip_per_hour" = "30",
        "recovery requests per source IP per hour (0: no limit)",
        |s, v| s.recovery.max_requests_per_ip_per_hour = number(v, 0, 100_000)?
    ),
    setting!(
        "recovery.captcha.enabled" = "false",
        "require a reCAPTCHA token (g-recaptcha-response header) on recovery requests",
        |s, v| s.captcha_enabled = boolean(v)?
    ),
    setting!("recovery.captcha.secret" = "", "the tenant's reCAPTCHA secret, or secretsmanager:<secret id> to keep it in AWS Secrets Manager",
        secret: true, warning: None,
        |s, v| s.captcha_secret = v.to_string()),
    setting!(
        "recovery.captcha.site_key" = "",
        "the public reCAPTCHA site key a recovery page renders the widget with",
        |s, v| s.recovery.captcha_site_key = text(v, 200)?.unwrap_or_default()
    ),
    setting!(
        "lock.enabled" = "true",
        "lock accounts after failed logins",
        |s, v| s.lock.enabled = boolean(v)?
    ),
    setting!(
        "lock.max_failed_attempts" = "5",
        "failed logins in a row that lock an account",
        |s, v| s.lock.max_failed_attempts = number(v, 1, 1000)?
    ),
    setting!(
        "lock.duration" = "5m",
        "first lock length (0s: until an admin unlocks or the password is reset)",
        |s, v| s.lock.duration = duration(v, YEAR)?
    ),
    setting!(
        "lock.ratio" = "2",
        "each further lock lasts this many times longer",
        |s, v| s.lock.ratio = number(v, 1, 100)?
    ),
    setting!(
        "lock.max_duration" = "24h",
        "no failed-login lock lasts longer than this",
        |s, v| s.lock.max_duration = duration(v, YEAR)?
    ),
    setting!(
        "lock.notify" = "true",
        "mail the user when the account locks or unlocks",
        |s, v| s.lock.notify = boolean(v)?
    ),
    setting!("lock.show_failure_reason" = "false",
        "logins of a locked account answer 17003 with the reason and unlock time (for any password)",
        secret: false,
        warning: Some("lock.show_failure_reason=true tells anyone who tries a login that the account \
                       exists and is locked, and until when (WSO2 advisory WSO2-2024-3606); the \
                       answer still does not depend on the password"),
        |s, v| s.lock.show_failure_reason = boolean(v)?),
    setting!(
        "password.min_length" = "8",
        "fewest characters in a password",
        |s, v| s.password.min_length = number(v, 1, 1024)?
    ),
    setting!(
        "password.max_length" = "64",
        "most characters in a password",
        |s, v| s.password.max_length = number(v, 1, 1024)?
    ),
    setting!(
        "password.regex" = "",
        "user-store regex (WSO2 PasswordJavaRegEx, Java syntax); empty: none",
        |s, v| s.password.regex = pattern(s.password.regex.as_ref(), v)
    ),
    setting!(
        "password.regex_error" = "",
        "message when password.regex refuses a password",
        |s, v| s.password.regex_error = text(v, 500)?
    ),
    setting!(
        "password.pattern" = "",
        "identity-management pattern (Java syntax); empty: none",
        |s, v| s.password.pattern = pattern(s.password.pattern.as_ref(), v)
    ),
    setting!(
        "password.pattern_error" = "",
        "message when password.pattern refuses a password",
        |s, v| s.password.pattern_error = text(v, 500)?
    ),
    setting!(
        "password.name_policy" = "contain",
        "off, equal or contain: the password may not equal / contain the username",
        |s, v| s.password.name_policy =
            NamePolicy::parse(v).ok_or_else(|| format!("`{v}` is not off, equal or contain"))?
    ),
    setting!(
        "password.history" = "0",
        "the last N passwords may not be reused (0: off)",
        |s, v| s.password.history = number(v, 0, 24)?
    ),
    setting!(
        "password.guidelines" = "",
        "what a change-password page lists: a JSON array of strings",
        |s, v| s.password.guidelines = guidelines(v)?
    ),
    setting!(
        "anonymous_access" = "true",
        "recovery endpoints need no credentials",
        |s, v| s.anonymous_access = boolean(v)?
    ),
];

/// The setting called `name`, if there is one.
pub fn setting(name: &str) -> Option<&'static Setting> {
    SETTINGS.iter().find(|s| s.name == name)
}

fn boolean(v: &str) -> Result<bool, String> {
    match v {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(format!("`{v}` is not true or false")),
    }
}

fn number<T>(v: &str, min: T, max: T) -> Result<T, String>
where
    T: std::str::FromStr + PartialOrd + fmt::Display + Copy,
{
    let n: T = v
        .parse()
        .map_err(|_| format!("`{v}` is not a whole number"))?;
    if n < min || n > max {
        return Err(format!("`{v}` is outside {min}..={max}"));
    }
    Ok(n)
}

fn duration(v: &str, max: Duration) -> Result<Duration, String> {
    let d = parse_duration(v)?;
    if d > max {
        return Err(format!("`{v}` is longer than {}", format_duration(max)));
    }
    Ok(d)
}

/// Free text shown to users: bounded, one line, `None` when empty.
fn text(v: &str, max_chars: usize) -> Result<Option<String>, String> {
    if v.chars().count() > max_chars || v.chars().any(char::is_control) {
        return Err(format!(
            "at most {max_chars} characters, no control characters"
        ));
    }
    Ok((!v.is_empty()).then(|| v.to_string()))
}

fn pattern(current: Option<&PasswordPattern>, v: &str) -> Option<PasswordPattern> {
    (!v.is_empty()).then(|| PasswordPattern::reuse_or_new(current, v))
}

fn guidelines(v: &str) -> Result<Vec<String>, String> {
    let list: Vec<String> = match v {
        "" => Vec::new(),
        v => serde_json::from_str(v).map_err(|_| {
            r#"must be a JSON array of strings, e.g. ["At least 8 characters"]"#.to_string()
        })?,
    };
    if list.len() > 20 || list.iter().any(|g| g.chars().count() > 200) {
        return Err("at most 20 entries of at most 200 characters".into());
    }
    Ok(list)
}

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

#[derive(Clone)]
pub struct TenantSettings {
    pub recovery: RecoverySettings,
    pub lock: LockSettings,
    pub password: PasswordSettings,
    pub anonymous_access: bool,
    /// The effective value of every setting, as written (shared: settings are
    /// cloned per request).
    values: Arc<BTreeMap<String, String>>,
    /// The tenant's own mail templates (the built-in ones stand for the rest).
    pub templates: HashMap<TemplateName, MailTemplate>,
    // Read apart and combined: reCAPTCHA is on only with a secret.
    captcha_enabled: bool,
    captcha_secret: String,
}

/// Without the raw values and the secret: settings may end up in a log line.
impl fmt::Debug for TenantSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TenantSettings")
            .field("recovery", &self.recovery)
            .field("lock", &self.lock)
            .field("password", &self.password)
            .field("anonymous_access", &self.anonymous_access)
            .finish_non_exhaustive()
    }
}

impl TenantSettings {
    /// The built-in defaults of the spec.
    pub fn builtin() -> Self {
        let values = SETTINGS
            .iter()
            .map(|s| (s.name.to_string(), s.default.to_string()))
            .collect();
        // A unit test runs the write checks on them.
        Self::from_values(&Self::blank(), values).expect("built-in defaults are valid")
    }

    /// A starting point every setting overwrites.
    fn blank() -> Self {
        Self {
            recovery: RecoverySettings {
                enabled: false,
                expiry: Duration::ZERO,
                callback_regex: CallbackRegex::new(""),
                default_callback: CallbackUrl::parse("https://localhost/").expect("a URL"),
                notify_user_existence: false,
                notify_account_status: false,
                max_requests_per_hour: 0,
                max_requests_per_ip_per_hour: 0,
                captcha: None,
                captcha_site_key: String::new(),
            },
            lock: LockSettings {
                enabled: false,
                max_failed_attempts: 1,
                duration: Duration::ZERO,
                ratio: 1,
                max_duration: DAY,
                notify: false,
                show_failure_reason: false,
            },
            password: PasswordSettings {
                min_length: 1,
                max_length: 1,
                regex: None,
                regex_error: None,
                pattern: None,
                pattern_error: None,
                name_policy: NamePolicy::Off,
                history: 0,
                guidelines: Vec::new(),
            },
            anonymous_access: false,
            values: Arc::default(),
            templates: HashMap::new(),
            captcha_enabled: false,
            captcha_secret: String::new(),
        }
    }

    /// These settings with `overrides` applied on top; every key and value is
    /// checked, then the combination, patterns included. For settings being written.
    pub fn with_overrides(
        &self,
        overrides: &BTreeMap<String, String>,
    ) -> Result<Self, SettingError> {
        let settings = self.with_stored_overrides(overrides)?;
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
        let mut values = (*self.values).clone();
        for (k, v) in overrides {
            if setting(k).is_none() {
                return Err(err(
                    k,
                    "unknown setting (see `accountctl tenant show` for the list)",
                ));
            }
            values.insert(k.clone(), v.trim().to_string());
        }
        Self::from_values(self, values)
    }

    /// Every setting of `values` parsed over `base` (whose compiled patterns
    /// are kept where the source is the same), then the combination checked.
    fn from_values(base: &Self, values: BTreeMap<String, String>) -> Result<Self, SettingError> {
        let mut s = base.clone();
        for setting in SETTINGS {
            let v = values
                .get(setting.name)
                .ok_or_else(|| err(setting.name, "missing"))?;
            (setting.set)(&mut s, v).map_err(|m| err(setting.name, m))?;
        }
        s.values = Arc::new(values);
        s.recovery.captcha = match (s.captcha_enabled, s.captcha_secret.is_empty()) {
            (false, _) => None,
            (true, true) => {
                return Err(err(
                    "recovery.captcha.enabled",
                    "set recovery.captcha.secret too",
                ))
            }
            (true, false) => Some(CaptchaSecret(s.captcha_secret.clone())),
        };
        s.check_combination()?;
        Ok(s)
    }

    /// Combinations that cannot work are refused, not found at request time.
    fn check_combination(&self) -> Result<(), SettingError> {
        if self.recovery.expiry.is_zero() {
            return Err(err(
                "recovery.expiry",
                "a recovery key must be valid for some time",
            ));
        }
        let p = &self.password;
        if p.min_length > p.max_length {
            return Err(err(
                "password.min_length",
                format!(
                    "{} is above password.max_length ({})",
                    p.min_length, p.max_length
                ),
            ));
        }
        let l = &self.lock;
        if l.max_duration < l.duration {
            return Err(err(
                "lock.max_duration",
                format!(
                    "lock.max_duration ({}) is shorter than lock.duration ({}): the cap would \
                     cut even the first lock",
                    format_duration(l.max_duration),
                    format_duration(l.duration)
                ),
            ));
        }
        Ok(())
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

    /// The write-time checks of the callback pattern: it compiles and accepts
    /// the default callback. The recovery functions run them at start-up.
    pub fn check_callback_regex(&self) -> Result<(), SettingError> {
        let r = &self.recovery;
        let key = "recovery.callback_regex";
        r.callback_regex.compiled().map_err(|m| err(key, m))?;
        if !r.callback_regex.allows(&r.default_callback) {
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
    use crate::model::callback::CallbackUrl;

    fn set(pairs: &[(&str, &str)]) -> Result<TenantSettings, SettingError> {
        let map = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        TenantSettings::builtin().with_overrides(&map)
    }

    fn url(s: &str) -> CallbackUrl {
        CallbackUrl::parse(s).unwrap()
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
            .allows(&url("https://localhost:9443/myaccount")));
        assert!(!s
            .recovery
            .callback_regex
            .allows(&url("https://evil.example/")));
        assert_eq!(s.recovery.max_requests_per_hour, 5);
        assert_eq!(s.lock.max_failed_attempts, 5);
        assert_eq!(s.lock.duration, Duration::from_secs(300));
        assert_eq!(s.lock.max_duration, DAY);
        assert!(!s.lock.show_failure_reason);
        assert_eq!(s.lock.ratio, 2);
        assert_eq!((s.password.min_length, s.password.max_length), (8, 64));
        assert!(s.anonymous_access);
        assert!(s.recovery.captcha.is_none());
        assert_eq!(s.values().len(), SETTINGS.len());
    }

    #[test]
    fn every_setting_is_declared_once_with_help() {
        let mut names: Vec<_> = SETTINGS.iter().map(|s| s.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), SETTINGS.len());
        assert!(SETTINGS.iter().all(|s| !s.help.is_empty()));
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
            .allows(&url("https://localhost:9443/x")));
    }

    #[test]
    fn bad_settings_are_refused_naming_the_key() {
        for (pairs, key) in [
            (vec![("recovery.nope", "1")], "recovery.nope"),
            (vec![("recovery.enabled", "yes")], "recovery.enabled"),
            (vec![("recovery.expiry", "15 minutes")], "recovery.expiry"),
            (vec![("recovery.expiry", "1440")], "recovery.expiry"),
            (vec![("recovery.expiry", "0s")], "recovery.expiry"),
            (
                vec![("lock.max_failed_attempts", "0")],
                "lock.max_failed_attempts",
            ),
            (vec![("lock.ratio", "-1")], "lock.ratio"),
            (vec![("lock.duration", "300")], "lock.duration"),
            (vec![("lock.max_duration", "4m")], "lock.max_duration"),
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
                vec![("recovery.default_callback", "https://localhost:9443/x#frag")],
                "recovery.default_callback",
            ),
            (
                vec![("recovery.default_callback", "https://localhost:9443/a b")],
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
    fn a_cap_below_the_first_lock_names_both_settings() {
        let e = set(&[("lock.duration", "2h"), ("lock.max_duration", "1h")]).unwrap_err();
        assert!(
            e.message.contains("lock.max_duration") && e.message.contains("lock.duration"),
            "{e}"
        );
        assert!(set(&[("lock.duration", "2h"), ("lock.max_duration", "2h")]).is_ok());
        assert!(set(&[("lock.duration", "0s"), ("lock.max_duration", "0s")]).is_ok());
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
        let unknown: BTreeMap<String, String> =
            [("recovery.expiryy".to_string(), "15m".to_string())].into();
        assert_eq!(
            base.with_stored_overrides(&unknown).unwrap_err().key,
            "recovery.expiryy"
        );
    }

    #[test]
    fn stored_patterns_compile_once_per_process_and_fail_closed() {
        let defaults = TenantSettings::builtin();
        assert!(defaults
            .recovery
            .callback_regex
            .allows(&url("https://localhost:9443/x")));
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
            .allows(&url("https://localhost:9443/x")));
        assert_eq!(
            read.check_callback_regex().unwrap_err().key,
            "recovery.callback_regex"
        );
    }

    #[test]
    fn captcha_needs_its_secret_and_the_secret_is_marked() {
        let s = set(&[
            ("recovery.captcha.enabled", "true"),
            ("recovery.captcha.secret", "s3cret"),
            ("recovery.captcha.site_key", "6Lc-public"),
        ])
        .unwrap();
        assert_eq!(s.recovery.captcha, Some(CaptchaSecret("s3cret".into())));
        assert_eq!(s.recovery.captcha_site_key, "6Lc-public");
        assert!(setting("recovery.captcha.secret").unwrap().secret);
        assert!(!format!("{s:?}").contains("s3cret"), "Debug never shows it");
        assert!(setting("lock.show_failure_reason")
            .unwrap()
            .warning
            .is_some());
    }

    #[test]
    fn assignments() {
        let m = parse_assignments(["a=b", "c=d=e"]).unwrap();
        assert_eq!(m["c"], "d=e");
        assert!(parse_assignments(["novalue"]).is_err());
    }
}
