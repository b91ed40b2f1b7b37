//! Account locks as data plus pure transitions that take `now`: an admin lock,
//! and a lock after `max_failed_attempts` failed logins in a row that lasts
//! `duration × ratio^(k-1)` for the k-th lock, capped at `max_duration`, then
//! ends by itself (`duration = 0`: until an admin unlocks or the password is reset).
//!
//! This is the code that runs: login, lock-user, set-password and accountctl
//! call these transitions, and the store writes the state they return with one
//! update conditioned on [`LockState::version`] (the state they were computed
//! from), re-reading and deciding again when another request got there first.
//! No lock rule exists anywhere else, as an expression or otherwise.

use std::time::Duration;

use super::time::UnixTime;

/// The tenant's `lock.*` settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockSettings {
    pub enabled: bool,
    pub max_failed_attempts: u32,
    /// The first lock's length; zero: until an admin unlocks.
    pub duration: Duration,
    pub ratio: u32,
    /// No failed-login lock lasts longer than this.
    pub max_duration: Duration,
    pub notify: bool,
    /// Tell every login of a locked account that it is locked (`17003`), as
    /// WSO2's `showAuthFailureReason` does; otherwise it gets the `17002` of a
    /// wrong password.
    pub show_failure_reason: bool,
}

/// What a stored account says about locks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LockState {
    /// Moves forward with every change, so a write can require that the stored
    /// state is still the one its transition started from.
    pub version: u64,
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

/// The lock in force at some moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActiveLock {
    pub reason: LockReason,
    /// `None`: until an admin unlocks.
    pub until: Option<UnixTime>,
}

/// What a checked password did to the account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginOutcome {
    /// The account is locked: refused whatever the password was.
    Locked(ActiveLock),
    Success,
    /// A wrong password, counted; the account stays open.
    Counted {
        failed_attempts: u32,
    },
    /// A wrong password that locked the account (the k-th lock).
    LockedNow {
        k: u32,
        until: Option<UnixTime>,
    },
    /// A wrong password on a tenant that does not lock accounts.
    NotCounted,
}

/// What the store must do for a decision to hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Persist {
    /// Nothing: the answer holds whatever happens concurrently.
    Nothing,
    /// No change, but the answer holds only while the stored state is still the
    /// one it was decided on: a write conditioned on the version that changes
    /// nothing here. A right password on an open account needs it, so a burst
    /// that locks the account first refuses the right password among it.
    Confirm,
    /// The new state, stored only if the stored state is still the one it came from.
    Write(LockState),
}

/// A transition's result: the answer and what makes it hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision<T> {
    pub outcome: T,
    pub persist: Persist,
}

/// The answer a refused login gets, by the tenant's `lock.show_failure_reason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginRefusal {
    /// `17002`: wrong password, unknown user, or a locked account not shown as such.
    InvalidCredentials,
    /// `17003` with the reason and the unlock time.
    Locked(ActiveLock),
}

/// The length of the k-th lock (k ≥ 1): `duration × ratio^(k-1)`, at most `max_duration`.
pub fn lock_length(settings: &LockSettings, k: u32) -> Duration {
    let factor = u64::from(settings.ratio)
        .checked_pow(k.saturating_sub(1))
        .unwrap_or(u64::MAX);
    let secs = settings.duration.as_secs().saturating_mul(factor);
    Duration::from_secs(secs).min(settings.max_duration)
}

/// When the k-th lock that starts at `now` ends; `None` when only an admin unlocks.
pub fn lock_until(settings: &LockSettings, k: u32, now: UnixTime) -> Option<UnixTime> {
    (!settings.duration.is_zero()).then(|| now.plus(lock_length(settings, k)))
}

impl LockSettings {
    /// How a login refused by `outcome` is answered: a locked account shows
    /// as locked only when the tenant asks for it, and then for every password
    /// alike.
    pub fn refusal(&self, outcome: LoginOutcome) -> Option<LoginRefusal> {
        match outcome {
            LoginOutcome::Success => None,
            LoginOutcome::Locked(lock) if self.show_failure_reason => {
                Some(LoginRefusal::Locked(lock))
            }
            _ => Some(LoginRefusal::InvalidCredentials),
        }
    }
}

impl LockState {
    /// The lock in force at `now`, if any; an admin lock wins.
    pub fn active(&self, now: UnixTime) -> Option<ActiveLock> {
        if self.admin_lock.is_some() {
            return Some(ActiveLock {
                reason: LockReason::AdminInitiated,
                until: None,
            });
        }
        match &self.failed_lock {
            Some(l) if l.until.is_none_or(|u| now < u) => Some(ActiveLock {
                reason: LockReason::MaxAttemptsExceeded,
                until: l.until,
            }),
            _ => None,
        }
    }

    pub fn is_admin_locked(&self) -> bool {
        self.admin_lock.is_some()
    }

    /// This state changed by `f`, one version on.
    fn next(&self, f: impl FnOnce(&mut Self)) -> Self {
        let mut s = self.clone();
        f(&mut s);
        s.version = self.version.saturating_add(1);
        s
    }

    /// The same state with no failed logins, no failed-login lock, no escalation.
    fn cleared(&self) -> Self {
        Self {
            version: self.version,
            admin_lock: self.admin_lock.clone(),
            ..Self::default()
        }
    }

    /// A login at `now` whose password was checked: `right` or not. A locked
    /// account refuses either way (its caller checks no password when it finds
    /// the account locked; this covers the state read again after a conflict).
    pub fn login(
        &self,
        settings: &LockSettings,
        right: bool,
        now: UnixTime,
    ) -> Decision<LoginOutcome> {
        if let Some(lock) = self.active(now) {
            return Decision {
                outcome: LoginOutcome::Locked(lock),
                persist: Persist::Nothing,
            };
        }
        if right {
            let clean = self.cleared();
            return Decision {
                outcome: LoginOutcome::Success,
                persist: if clean == *self {
                    Persist::Confirm
                } else {
                    Persist::Write(self.next(|s| *s = clean))
                },
            };
        }
        if !settings.enabled {
            return Decision {
                outcome: LoginOutcome::NotCounted,
                persist: Persist::Nothing,
            };
        }
        let failed_attempts = self.failed_attempts.saturating_add(1);
        if failed_attempts < settings.max_failed_attempts {
            return Decision {
                outcome: LoginOutcome::Counted { failed_attempts },
                persist: Persist::Write(self.next(|s| {
                    // A lock that ended by time is cleared by the next attempt.
                    s.failed_lock = None;
                    s.failed_attempts = failed_attempts;
                })),
            };
        }
        let k = self.lock_count.saturating_add(1);
        let until = lock_until(settings, k, now);
        Decision {
            outcome: LoginOutcome::LockedNow { k, until },
            persist: Persist::Write(self.next(|s| {
                s.lock_count = k;
                s.failed_attempts = 0;
                s.failed_lock = Some(FailedLock { at: now, until });
            })),
        }
    }

    /// An admin locks the account at `now`. `true`: it was not admin-locked before.
    pub fn admin_lock(&self, reason: &str, now: UnixTime) -> Decision<bool> {
        let newly = self.admin_lock.is_none();
        let at = self.admin_lock.as_ref().map_or(now, |l| l.at);
        let lock = AdminLock {
            at,
            reason: reason.to_string(),
        };
        if self.admin_lock.as_ref() == Some(&lock) {
            return Decision {
                outcome: false,
                persist: Persist::Nothing,
            };
        }
        Decision {
            outcome: newly,
            persist: Persist::Write(self.next(|s| s.admin_lock = Some(lock))),
        }
    }

    /// An admin unlocks: every lock lifted, the count and escalation cleared.
    /// `true`: a lock was in force at `now`.
    pub fn admin_unlock(&self, now: UnixTime) -> Decision<bool> {
        let open = Self {
            version: self.version,
            ..Self::default()
        };
        Decision {
            outcome: self.active(now).is_some(),
            persist: if open == *self {
                Persist::Nothing
            } else {
                Persist::Write(self.next(|s| *s = open))
            },
        }
    }

    /// A password set through recovery: a failed-login lock and the count end
    /// (a reset is how a locked-out user gets back in); an admin lock stays.
    pub fn password_reset(&self) -> Persist {
        let clean = self.cleared();
        if clean == *self {
            Persist::Confirm
        } else {
            Persist::Write(self.next(|s| *s = clean))
        }
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
            max_duration: Duration::from_secs(86_400),
            notify: true,
            show_failure_reason: false,
        }
    }

    /// Applies a decision as the store would.
    fn apply<T>(s: &LockState, d: &Decision<T>) -> LockState {
        match &d.persist {
            Persist::Write(n) => n.clone(),
            Persist::Nothing | Persist::Confirm => s.clone(),
        }
    }

    fn wrong(s: &mut LockState, cfg: &LockSettings, now: i64) -> LoginOutcome {
        let d = s.login(cfg, false, UnixTime(now));
        *s = apply(s, &d);
        d.outcome
    }

    #[test]
    fn admin_lock_wins_and_failed_locks_end_by_time() {
        let mut s = LockState::default();
        assert_eq!(s.active(UnixTime(0)), None);
        s.failed_lock = Some(FailedLock {
            at: UnixTime(0),
            until: Some(UnixTime(300)),
        });
        let failed = ActiveLock {
            reason: LockReason::MaxAttemptsExceeded,
            until: Some(UnixTime(300)),
        };
        assert_eq!(s.active(UnixTime(299)), Some(failed));
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
            s.active(UnixTime(1)).map(|l| l.reason),
            Some(LockReason::AdminInitiated)
        );
    }

    #[test]
    fn the_max_th_failure_in_a_row_locks_for_the_base_duration() {
        let cfg = settings(5, 300, 2);
        let mut s = LockState::default();
        for n in 1..5 {
            assert_eq!(
                wrong(&mut s, &cfg, 100),
                LoginOutcome::Counted { failed_attempts: n }
            );
            assert_eq!(s.version, u64::from(n), "every change moves the version");
        }
        assert_eq!(
            wrong(&mut s, &cfg, 100),
            LoginOutcome::LockedNow {
                k: 1,
                until: Some(UnixTime(400))
            }
        );
        assert_eq!((s.failed_attempts, s.lock_count, s.version), (0, 1, 5));
        // While locked nothing is counted or extended, right password or wrong.
        for right in [false, true] {
            let d = s.login(&cfg, right, UnixTime(399));
            assert_eq!(d.persist, Persist::Nothing);
            assert!(matches!(d.outcome, LoginOutcome::Locked(_)));
        }
    }

    #[test]
    fn a_locked_account_answers_the_same_whatever_the_password() {
        let mut cfg = settings(1, 300, 2);
        let mut s = LockState::default();
        wrong(&mut s, &cfg, 0);
        let right = s.login(&cfg, true, UnixTime(1));
        let wrong_ = s.login(&cfg, false, UnixTime(1));
        assert_eq!(right, wrong_);
        assert_eq!(
            cfg.refusal(right.outcome),
            Some(LoginRefusal::InvalidCredentials)
        );
        cfg.show_failure_reason = true;
        let shown = cfg.refusal(right.outcome);
        assert_eq!(shown, cfg.refusal(wrong_.outcome));
        assert!(matches!(shown, Some(LoginRefusal::Locked(l)) if l.until == Some(UnixTime(300))));
    }

    #[test]
    fn a_right_password_on_a_clean_account_is_confirmed_not_written() {
        let cfg = settings(5, 300, 2);
        let s = LockState::default();
        let d = s.login(&cfg, true, UnixTime(0));
        assert_eq!(d.outcome, LoginOutcome::Success);
        assert_eq!(d.persist, Persist::Confirm);
        // One counted failure, then success: written, cleared, version on.
        let mut s = LockState::default();
        wrong(&mut s, &cfg, 0);
        let d = s.login(&cfg, true, UnixTime(0));
        assert_eq!(
            d.persist,
            Persist::Write(LockState {
                version: 2,
                ..Default::default()
            })
        );
    }

    #[test]
    fn a_burst_in_any_order_gets_no_more_checked_chances_than_the_limit() {
        // Every request read the same state; the store lets the first write win
        // and the others decide again on what it holds then.
        let cfg = settings(1, 300, 2);
        let start = LockState::default();
        let mut stored = start.clone();
        let mut answers = Vec::new();
        for right in [false, false, true, false] {
            let mut read = start.clone();
            loop {
                let d = read.login(&cfg, right, UnixTime(10));
                let holds = match &d.persist {
                    Persist::Nothing => true,
                    Persist::Confirm | Persist::Write(_) => read.version == stored.version,
                };
                if holds {
                    stored = apply(&stored, &d);
                    answers.push(d.outcome);
                    break;
                }
                read = stored.clone(); // conflict: read again, decide again
            }
        }
        assert!(matches!(answers[0], LoginOutcome::LockedNow { .. }));
        assert!(answers[1..]
            .iter()
            .all(|a| matches!(a, LoginOutcome::Locked(_))));
    }

    #[test]
    fn each_further_lock_lasts_ratio_times_longer_and_ends_by_itself() {
        let cfg = settings(2, 60, 3);
        let mut s = LockState::default();
        let mut now = 0;
        let mut lengths = Vec::new();
        for _ in 0..3 {
            wrong(&mut s, &cfg, now);
            match wrong(&mut s, &cfg, now) {
                LoginOutcome::LockedNow { until: Some(u), .. } => {
                    lengths.push(u.0 - now);
                    assert!(s.active(UnixTime(u.0 - 1)).is_some());
                    assert!(s.active(u).is_none(), "unlocks by time");
                    now = u.0;
                }
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(lengths, vec![60, 180, 540]);
    }

    #[test]
    fn no_lock_lasts_longer_than_max_duration() {
        let mut cfg = settings(1, 300, 100);
        cfg.max_duration = Duration::from_secs(3600);
        assert_eq!(lock_length(&cfg, 1), Duration::from_secs(300));
        assert_eq!(
            lock_length(&cfg, 2),
            Duration::from_secs(3600),
            "30000 s capped"
        );
        assert_eq!(lock_length(&cfg, u32::MAX), Duration::from_secs(3600));
        let mut s = LockState {
            lock_count: 1_000,
            ..Default::default()
        };
        match wrong(&mut s, &cfg, 5) {
            LoginOutcome::LockedNow { until, .. } => assert_eq!(until, Some(UnixTime(3605))),
            other => panic!("{other:?}"),
        }
        // Time saturates rather than wrapping.
        assert_eq!(
            lock_until(&cfg, u32::MAX, UnixTime(i64::MAX - 10)),
            Some(UnixTime(i64::MAX))
        );
    }

    #[test]
    fn zero_duration_means_only_an_admin_or_a_reset_unlocks() {
        let cfg = settings(1, 0, 2);
        let mut s = LockState::default();
        assert_eq!(
            wrong(&mut s, &cfg, 5),
            LoginOutcome::LockedNow { k: 1, until: None }
        );
        assert!(s.active(UnixTime(i64::MAX - 1)).is_some());
        let d = s.admin_unlock(UnixTime(6));
        assert!(d.outcome, "a lock was in force");
        let s = apply(&s, &d);
        assert_eq!(s.active(UnixTime(6)), None);
        assert_eq!((s.failed_attempts, s.lock_count), (0, 0));
    }

    #[test]
    fn a_good_login_resets_the_count_and_the_escalation() {
        let cfg = settings(3, 60, 2);
        let mut s = LockState::default();
        wrong(&mut s, &cfg, 0);
        wrong(&mut s, &cfg, 0);
        s = apply(&s, &s.login(&cfg, true, UnixTime(0)));
        assert_eq!(
            wrong(&mut s, &cfg, 0),
            LoginOutcome::Counted { failed_attempts: 1 }
        );
        s.lock_count = 4;
        s = apply(&s, &s.login(&cfg, true, UnixTime(0)));
        assert_eq!((s.lock_count, s.failed_attempts), (0, 0));
    }

    #[test]
    fn a_password_reset_clears_a_failed_login_lock_but_not_an_admin_lock() {
        let cfg = settings(1, 600, 2);
        let mut s = LockState::default();
        wrong(&mut s, &cfg, 0);
        let Persist::Write(after) = s.password_reset() else {
            panic!("a reset of a locked account writes")
        };
        assert_eq!(after.active(UnixTime(1)), None);
        assert_eq!(after.version, s.version + 1);
        assert_eq!(
            after.password_reset(),
            Persist::Confirm,
            "nothing left to clear"
        );
        let locked = apply(&after, &after.admin_lock("x", UnixTime(1)));
        let Persist::Write(reset) = ({
            let mut dirty = locked.clone();
            dirty.failed_attempts = 2;
            dirty
        })
        .password_reset() else {
            panic!()
        };
        assert_eq!(
            reset.active(UnixTime(2)).map(|l| l.reason),
            Some(LockReason::AdminInitiated)
        );
    }

    #[test]
    fn admin_locks_keep_their_start_and_say_whether_they_are_new() {
        let s = LockState::default();
        let d = s.admin_lock("first", UnixTime(10));
        assert!(d.outcome);
        let s = apply(&s, &d);
        let d = s.admin_lock("second", UnixTime(20));
        assert!(!d.outcome, "already locked: no new lock, no mail");
        let s = apply(&s, &d);
        let lock = s.admin_lock.clone().unwrap();
        assert_eq!((lock.at, lock.reason.as_str()), (UnixTime(10), "second"));
        assert_eq!(
            s.admin_lock("second", UnixTime(30)).persist,
            Persist::Nothing
        );
        let d = s.admin_unlock(UnixTime(40));
        assert!(d.outcome);
        let s = apply(&s, &d);
        assert_eq!(s.active(UnixTime(40)), None);
        let d = s.admin_unlock(UnixTime(41));
        assert_eq!((d.outcome, d.persist), (false, Persist::Nothing));
    }

    #[test]
    fn failures_are_not_counted_when_locking_is_off_or_while_admin_locked() {
        let mut cfg = settings(1, 60, 2);
        cfg.enabled = false;
        let mut s = LockState::default();
        assert_eq!(wrong(&mut s, &cfg, 0), LoginOutcome::NotCounted);
        assert_eq!((s.failed_attempts, s.version), (0, 0));
        cfg.enabled = true;
        s = apply(&s, &s.admin_lock("r", UnixTime(0)));
        assert!(matches!(wrong(&mut s, &cfg, 0), LoginOutcome::Locked(_)));
    }

    #[test]
    fn an_ended_lock_is_cleared_by_the_next_failure() {
        let cfg = settings(2, 60, 2);
        let mut s = LockState::default();
        wrong(&mut s, &cfg, 0);
        wrong(&mut s, &cfg, 0);
        assert!(s.failed_lock.is_some());
        assert_eq!(
            wrong(&mut s, &cfg, 61),
            LoginOutcome::Counted { failed_attempts: 1 }
        );
        assert!(s.failed_lock.is_none());
        assert_eq!(s.lock_count, 1, "the escalation stays until a success");
    }

    #[test]
    fn counters_saturate() {
        let cfg = settings(u32::MAX, 60, 2);
        let mut s = LockState {
            failed_attempts: u32::MAX - 1,
            ..Default::default()
        };
        assert!(matches!(
            wrong(&mut s, &cfg, 0),
            LoginOutcome::LockedNow { .. }
        ));
        let mut s = LockState {
            failed_attempts: u32::MAX,
            lock_count: u32::MAX,
            version: u64::MAX,
            ..Default::default()
        };
        assert!(matches!(
            wrong(&mut s, &cfg, 0),
            LoginOutcome::LockedNow { k: u32::MAX, .. }
        ));
    }
}
