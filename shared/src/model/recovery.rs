//! The tenant's `recovery.*` settings and the rules that use them: which
//! callback a reset link is built on, and how many recovery mails a user gets
//! in an hour.

use std::fmt;
use std::time::Duration;

use super::callback::{CallbackRegex, CallbackUrl, UrlProblem};
use super::time::UnixTime;

#[derive(Debug, Clone)]
pub struct RecoverySettings {
    pub enabled: bool,
    pub expiry: Duration,
    pub callback_regex: CallbackRegex,
    pub default_callback: CallbackUrl,
    pub notify_user_existence: bool,
    pub notify_account_status: bool,
    pub max_requests_per_hour: u32,
    pub max_requests_per_ip_per_hour: u32,
    /// `Some(secret)` when reCAPTCHA is required.
    pub captcha: Option<CaptchaSecret>,
    /// The public reCAPTCHA site key a recovery page renders the widget with.
    pub captcha_site_key: String,
}

/// A tenant's reCAPTCHA secret. Its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct CaptchaSecret(pub String);

impl CaptchaSecret {
    /// `secretsmanager:<secret id>`: the secret lives in AWS Secrets Manager and
    /// the settings hold only its name; anything else is the secret itself.
    pub fn reference(&self) -> Option<&str> {
        self.0
            .strip_prefix("secretsmanager:")
            .map(str::trim)
            .filter(|id| !id.is_empty())
    }
}

impl fmt::Debug for CaptchaSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CaptchaSecret(***)")
    }
}

/// Why a request's callback is refused (`20044`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallbackRefused {
    Unclean(UrlProblem),
    /// Clean, but `recovery.callback_regex` does not match all of it.
    NotAllowed,
}

impl RecoverySettings {
    /// The callback a new recovery's link is built on: the request's, if it is a
    /// clean URL the tenant's regex matches as a whole; the default when none is given.
    pub fn callback(&self, given: Option<&str>) -> Result<CallbackUrl, CallbackRefused> {
        let Some(raw) = given else {
            return Ok(self.default_callback.clone());
        };
        let url = CallbackUrl::parse(raw).map_err(CallbackRefused::Unclean)?;
        if self.callback_regex.allows(&url) {
            Ok(url)
        } else {
            Err(CallbackRefused::NotAllowed)
        }
    }

    /// A callback stored by an earlier request, checked again against today's
    /// rules (the regex may have changed since); the default when it fails.
    pub fn recheck(&self, stored: &str) -> CallbackUrl {
        self.callback(Some(stored))
            .unwrap_or_else(|_| self.default_callback.clone())
    }
}

/// A fixed one-hour window: the hour number (`unix / 3600`) and the count in it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RecoveryWindow {
    pub hour: i64,
    pub count: u32,
}

impl RecoveryWindow {
    pub fn hour_of(now: UnixTime) -> i64 {
        now.0.div_euclid(3600)
    }

    /// Requests already made in the hour of `now`.
    pub fn used(&self, now: UnixTime) -> u32 {
        if self.hour == Self::hour_of(now) {
            self.count
        } else {
            0
        }
    }

    /// The window after one more request at `now`, if it fits under `max` (0: no limit).
    pub fn admit(&self, now: UnixTime, max: u32) -> Option<Self> {
        let used = self.used(now);
        (max == 0 || used < max).then(|| Self {
            hour: Self::hour_of(now),
            count: used.saturating_add(1),
        })
    }
}

/// Items a tenant's per-IP recovery count is spread over, by the limit: one
/// below 1,000 requests an hour (the count is exact), eight from there, so one
/// busy address (a corporate NAT) writes each item an eighth as often; the
/// estimate is then off by at most seven in a thousand.
pub fn ip_counter_shards(limit: u32) -> u32 {
    if limit >= 1000 {
        8
    } else {
        1
    }
}

/// Whether a request is over `limit` (0: no limit), from the count its shard returned.
pub fn ip_over_limit(shard_count: u32, shards: u32, limit: u32) -> bool {
    limit > 0 && shard_count.saturating_mul(shards) > limit
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_per_ip_count_is_exact_below_a_thousand_and_sharded_above() {
        use super::{ip_counter_shards, ip_over_limit};
        assert_eq!(ip_counter_shards(30), 1);
        assert!(!ip_over_limit(30, 1, 30));
        assert!(ip_over_limit(31, 1, 30));
        assert!(!ip_over_limit(99, 1, 0), "0 is no limit");
        assert_eq!(ip_counter_shards(1000), 8);
        assert!(!ip_over_limit(125, 8, 1000));
        assert!(ip_over_limit(126, 8, 1000));
        assert!(!ip_over_limit(u32::MAX, 8, 0));
    }

    use super::*;

    #[test]
    fn window_counts_per_clock_hour() {
        let w = RecoveryWindow { hour: 10, count: 5 };
        assert_eq!(w.admit(UnixTime(10 * 3600 + 59), 5), None);
        assert_eq!(
            w.admit(UnixTime(10 * 3600 + 59), 6),
            Some(RecoveryWindow { hour: 10, count: 6 })
        );
        assert_eq!(
            w.admit(UnixTime(11 * 3600), 5),
            Some(RecoveryWindow { hour: 11, count: 1 })
        );
        assert!(w.admit(UnixTime(10 * 3600), 0).is_some());
        assert_eq!(RecoveryWindow::default().used(UnixTime(0)), 0);
    }
}
