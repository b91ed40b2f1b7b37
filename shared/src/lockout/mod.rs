//! Account locks: an admin lock, and a lock after failed logins that may end by time.

use crate::time::UnixTime;

/// What a stored account says about locks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LockState {
    /// Set by an admin; only an admin lifts it.
    pub admin_lock: Option<AdminLock>,
    /// Set by failed logins.
    pub failed_lock: Option<FailedLock>,
    pub failed_attempts: u32,
    /// How many failed-login locks so far (the `k` of `duration × ratio^(k-1)`).
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
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
