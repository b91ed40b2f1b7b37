//! A stored user account, as the use cases see it.

use uuid::Uuid;

use super::domain::{Email, Role, UserRef};
use super::key::KeyHash;
use super::lock::LockState;
use super::password::PasswordHash;
use super::recovery::RecoveryWindow;
use super::time::UnixTime;

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
    /// Moves forward when the password is set through recovery and when an
    /// admin locks the account: tokens issued before are no longer active.
    pub credential_version: u64,
}

impl User {
    /// A new account: open, no history, no recovery.
    pub fn new(user_ref: UserRef, email: Email, admin: bool, password_hash: PasswordHash) -> Self {
        Self {
            user_ref,
            id: Uuid::new_v4(),
            email,
            roles: if admin { vec![Role::Admin] } else { vec![] },
            password_hash,
            password_history: Vec::new(),
            lock: LockState::default(),
            recovery: None,
            recovery_window: RecoveryWindow::default(),
            credential_version: 0,
        }
    }

    pub fn is_admin(&self) -> bool {
        self.roles.contains(&Role::Admin)
    }

    /// The recovery under way at `now`, if its key has not expired.
    pub fn live_recovery(&self, now: UnixTime) -> Option<&ActiveRecovery> {
        self.recovery
            .as_ref()
            .filter(|r| !super::key::is_expired(r.expires_at, now))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveRecovery {
    pub key_hash: KeyHash,
    pub expires_at: UnixTime,
    /// The callback the link was built on, as stored (checked again before reuse).
    pub callback: String,
}
