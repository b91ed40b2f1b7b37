//! Account locks as data plus pure transitions that take `now` (no clock, no I/O):
//! an admin lock, and a lock after `max_failed_attempts` failed logins in a row
//! that lasts `duration × ratio^(k-1)` for the k-th lock and then ends by itself
//! (`duration = 0`: until an admin unlocks). The store applies the same
//! transitions atomically with conditional updates; these functions define them.

pub mod admin;
pub mod login;

use std::time::Duration;

use crate::tenant::LockSettings;
use crate::time::UnixTime;

/// No lock lasts longer than this, however large `k` and `ratio` grow.
pub const MAX_LOCK: Duration = Duration::from_secs(100 * 365 * 86_400);

/// What a stored account says about locks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LockState {
    /// Set by an admin; only an admin lifts it.
    pub admin_lock: Option<AdminLock>,
    /// Set by failed logins.
    pub failed_lock: Option<FailedLock>,
    /// Failed logins in a row since the last success, lock or reset.
    pub failed_attempts: u32,
    /// Failed-login locks since the last success or reset (the `k` of the k-th lock).
    pub lock_count: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminLock {
    pub at: UnixTime,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedLock {
    pub at: UnixTime,
    /// `None`: until an admin unlocks (`lock.duration = 0s`).
    pub until: Option<UnixTime>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockReason {
    AdminInitiated,
    MaxAttemptsExceeded,
}

impl LockReason {
    pub fn as_str(self) -> &'static str {
        match self {
            LockReason::AdminInitiated => "AdminInitiated",
            LockReason::MaxAttemptsExceeded => "MaxAttemptsExceeded",
        }
    }
}

/// What a failed login did to the account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Counted; the account stays open.
    Counted { failed_attempts: u32 },
    /// This failure locked the account (the k-th lock), until `until`.
    Locked { k: u32, until: Option<UnixTime> },
    /// The account was already locked; nothing is counted.
    AlreadyLocked,
    /// Locking is off for the tenant.
    NotCounted,
}

/// The length of the k-th lock (k ≥ 1): `duration × ratio^(k-1)`, saturating at [`MAX_LOCK`].
pub fn lock_length(settings: &LockSettings, k: u32) -> Duration {
    let factor = u64::from(settings.ratio)
        .checked_pow(k.saturating_sub(1))
        .unwrap_or(u64::MAX);
    let secs = settings.duration.as_secs().saturating_mul(factor);
    Duration::from_secs(secs).min(MAX_LOCK)
}

/// When the k-th lock that starts at `now` ends; `None` when only an admin unlocks.
pub fn lock_until(settings: &LockSettings, k: u32, now: UnixTime) -> Option<UnixTime> {
    if settings.duration.is_zero() {
        None
    } else {
        Some(now.plus(lock_length(settings, k)))
    }
}

impl LockState {
    pub fn is_admin_locked(&self) -> bool {
        self.admin_lock.is_some()
    }

    /// The lock in force at `now`, if any; an admin lock wins.
    pub fn active(&self, now: UnixTime) -> Option<(LockReason, Option<UnixTime>)> {
        if self.admin_lock.is_some() {
            return Some((LockReason::AdminInitiated, None));
        }
        match &self.failed_lock {
            Some(l) if l.until.is_none_or(|u| now < u) => {
                Some((LockReason::MaxAttemptsExceeded, l.until))
            }
            _ => None,
        }
    }

    /// A wrong password at `now`.
    pub fn record_failure(&mut self, settings: &LockSettings, now: UnixTime) -> Failure {
        if self.active(now).is_some() {
            return Failure::AlreadyLocked;
        }
        if !settings.enabled {
            return Failure::NotCounted;
        }
        // A lock that ended by time is cleared by the next attempt.
        self.failed_lock = None;
        self.failed_attempts = self.failed_attempts.saturating_add(1);
        if self.failed_attempts < settings.max_failed_attempts {
            return Failure::Counted {
                failed_attempts: self.failed_attempts,
            };
        }
        let k = self.lock_count.saturating_add(1);
        let until = lock_until(settings, k, now);
        self.lock_count = k;
        self.failed_attempts = 0;
        self.failed_lock = Some(FailedLock { at: now, until });
        Failure::Locked { k, until }
    }

    /// A right password at `now` on an open account: the slate is wiped.
    pub fn record_success(&mut self) {
        self.failed_attempts = 0;
        self.lock_count = 0;
        self.failed_lock = None;
    }

    pub fn admin_lock(&mut self, reason: String, now: UnixTime) {
        self.admin_lock = Some(AdminLock { at: now, reason });
    }

    /// An admin unlock lifts every lock and clears the failed-login counter.
    pub fn admin_unlock(&mut self) {
        self.admin_lock = None;
        self.record_success();
    }

    /// A successful password reset clears a failed-login lock, not an admin lock.
    pub fn password_reset(&mut self) {
        self.record_success();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(max: u32, duration_s: u64, ratio: u32) -> LockSettings {
        LockSettings {
            enabled: true,
            max_failed_attempts: max,
            duration: Duration::from_secs(duration_s),
            ratio,
            notify: true,
        }
    }

    #[test]
    fn admin_lock_wins_and_failed_locks_end_by_time() {
        let mut s = LockState::default();
        assert_eq!(s.active(UnixTime(0)), None);
        s.failed_lock = Some(FailedLock {
            at: UnixTime(0),
            until: Some(UnixTime(300)),
        });
        assert_eq!(
            s.active(UnixTime(299)),
            Some((LockReason::MaxAttemptsExceeded, Some(UnixTime(300))))
        );
        assert_eq!(s.active(UnixTime(300)), None);
        s.failed_lock = Some(FailedLock {
            at: UnixTime(0),
            until: None,
        });
        assert!(s.active(UnixTime(i64::MAX)).is_some());
        s.admin_lock = Some(AdminLock {
            at: UnixTime(1),
            reason: "x".into(),
        });
        assert_eq!(
            s.active(UnixTime(1)),
            Some((LockReason::AdminInitiated, None))
        );
    }

    #[test]
    fn the_max_th_failure_in_a_row_locks_for_the_base_duration() {
        let cfg = settings(5, 300, 2);
        let mut s = LockState::default();
        for n in 1..5 {
            assert_eq!(
                s.record_failure(&cfg, UnixTime(100)),
                Failure::Counted { failed_attempts: n }
            );
        }
        assert_eq!(
            s.record_failure(&cfg, UnixTime(100)),
            Failure::Locked {
                k: 1,
                until: Some(UnixTime(400))
            }
        );
        assert_eq!(s.failed_attempts, 0);
        assert_eq!(s.lock_count, 1);
        // Further failures while locked count nothing and do not extend the lock.
        assert_eq!(
            s.record_failure(&cfg, UnixTime(399)),
            Failure::AlreadyLocked
        );
        assert_eq!(s.failed_lock.as_ref().unwrap().until, Some(UnixTime(400)));
    }

    #[test]
    fn each_further_lock_lasts_ratio_times_longer_and_ends_by_itself() {
        let cfg = settings(2, 60, 3);
        let mut s = LockState::default();
        let mut now = UnixTime(0);
        let mut lengths = Vec::new();
        for _ in 0..3 {
            s.record_failure(&cfg, now);
            match s.record_failure(&cfg, now) {
                Failure::Locked { until: Some(u), .. } => {
                    lengths.push(u.0 - now.0);
                    assert!(s.active(UnixTime(u.0 - 1)).is_some());
                    assert!(s.active(u).is_none(), "unlocks by time");
                    now = u;
                }
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(lengths, vec![60, 180, 540]);
    }

    #[test]
    fn zero_duration_means_only_an_admin_unlocks() {
        let cfg = settings(1, 0, 2);
        let mut s = LockState::default();
        assert_eq!(
            s.record_failure(&cfg, UnixTime(5)),
            Failure::Locked { k: 1, until: None }
        );
        assert!(s.active(UnixTime(i64::MAX - 1)).is_some());
        s.admin_unlock();
        assert_eq!(s.active(UnixTime(6)), None);
        assert_eq!((s.failed_attempts, s.lock_count), (0, 0));
    }

    #[test]
    fn a_good_login_resets_the_count_and_the_escalation() {
        let cfg = settings(3, 60, 2);
        let mut s = LockState::default();
        s.record_failure(&cfg, UnixTime(0));
        s.record_failure(&cfg, UnixTime(0));
        s.record_success();
        assert_eq!(
            s.record_failure(&cfg, UnixTime(0)),
            Failure::Counted { failed_attempts: 1 }
        );
        s.lock_count = 4;
        s.record_success();
        assert_eq!(s.lock_count, 0);
    }

    #[test]
    fn a_password_reset_clears_a_failed_login_lock_but_not_an_admin_lock() {
        let cfg = settings(1, 600, 2);
        let mut s = LockState::default();
        s.record_failure(&cfg, UnixTime(0));
        s.password_reset();
        assert_eq!(s.active(UnixTime(1)), None);
        s.admin_lock("x".into(), UnixTime(1));
        s.password_reset();
        assert_eq!(
            s.active(UnixTime(2)),
            Some((LockReason::AdminInitiated, None))
        );
    }

    #[test]
    fn failures_are_not_counted_when_locking_is_off_or_while_admin_locked() {
        let mut cfg = settings(1, 60, 2);
        cfg.enabled = false;
        let mut s = LockState::default();
        assert_eq!(s.record_failure(&cfg, UnixTime(0)), Failure::NotCounted);
        assert_eq!(s.failed_attempts, 0);
        cfg.enabled = true;
        s.admin_lock("r".into(), UnixTime(0));
        assert_eq!(s.record_failure(&cfg, UnixTime(0)), Failure::AlreadyLocked);
    }

    #[test]
    fn a_huge_k_saturates_instead_of_overflowing() {
        let cfg = settings(1, 300, 100);
        assert_eq!(lock_length(&cfg, 1), Duration::from_secs(300));
        assert_eq!(lock_length(&cfg, 3), Duration::from_secs(3_000_000));
        assert_eq!(lock_length(&cfg, 1_000), MAX_LOCK);
        assert_eq!(lock_length(&cfg, u32::MAX), MAX_LOCK);
        let until = lock_until(&cfg, u32::MAX, UnixTime(i64::MAX - 10));
        assert_eq!(until, Some(UnixTime(i64::MAX)), "time saturates too");
        assert_eq!(
            lock_length(&settings(1, 300, 1), 50),
            Duration::from_secs(300)
        );
    }

    #[test]
    fn counters_saturate() {
        let cfg = settings(u32::MAX, 60, 2);
        let mut s = LockState {
            failed_attempts: u32::MAX - 1,
            ..Default::default()
        };
        assert!(matches!(
            s.record_failure(&cfg, UnixTime(0)),
            Failure::Locked { .. }
        ));
        let mut s = LockState {
            failed_attempts: u32::MAX,
            lock_count: u32::MAX,
            ..Default::default()
        };
        assert!(matches!(
            s.record_failure(&cfg, UnixTime(0)),
            Failure::Locked { k: u32::MAX, .. }
        ));
    }
}
