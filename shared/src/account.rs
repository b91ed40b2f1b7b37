//! A stored user account, as the use cases see it.

use uuid::Uuid;

use crate::domain::{Email, Role, UserRef};
use crate::lockout::LockState;
use crate::password::PasswordHash;
use crate::recovery::key::KeyHash;
use crate::time::UnixTime;

#[derive(Debug, Clone)]
pub struct User {
    /// Username as first typed; matched case-insensitively.
    pub user_ref: UserRef,
    pub id: Uuid,
    pub email: Email,
    pub roles: Vec<Role>,
    pub password_hash: PasswordHash,
    /// Hashes of earlier passwords, newest first (`password.history`); never plain text.
    pub password_history: Vec<PasswordHash>,
    pub lock: LockState,
    /// The one recovery key that currently works, if a recovery is under way.
    pub recovery: Option<ActiveRecovery>,
    /// Recovery mails sent in the current hour, for `recovery.max_requests_per_hour`.
    pub recovery_window: RecoveryWindow,
}

impl User {
    pub fn is_admin(&self) -> bool {
        self.roles.contains(&Role::Admin)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveRecovery {
    pub key_hash: KeyHash,
    pub expires_at: UnixTime,
    pub callback: String,
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

    /// Whether one more request fits under `max` (0: no limit).
    pub fn allows(&self, now: UnixTime, max: u32) -> bool {
        max == 0 || self.used(now) < max
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_counts_per_clock_hour() {
        let w = RecoveryWindow { hour: 10, count: 5 };
        assert!(!w.allows(UnixTime(10 * 3600 + 59), 5));
        assert!(w.allows(UnixTime(10 * 3600 + 59), 6));
        assert!(w.allows(UnixTime(11 * 3600), 5));
        assert!(w.allows(UnixTime(10 * 3600), 0));
        assert_eq!(RecoveryWindow::default().used(UnixTime(0)), 0);
    }
}
