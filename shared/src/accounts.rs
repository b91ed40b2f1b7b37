//! Operators' use cases behind `accountctl`: creating a user through the
//! tenant's policy, and lifting a lock. The CLI only parses and prints.

use crate::error::{Kind, UseCaseError};
use crate::hashing::hash_password;
use crate::mail::Composer;
use crate::model::account::User;
use crate::model::domain::{Email, Password, UserRef};
use crate::model::lock::ActiveLock;
use crate::model::policy::{violations, Violation};
use crate::model::settings::TenantSettings;
use crate::model::templates::{Placeholder, TemplateName};
use crate::model::time::UnixTime;
use crate::races::{backoff, MAX_ROUNDS};
use crate::store::{Saved, Store, Write};

pub struct NewUser {
    pub user_ref: UserRef,
    pub email: Email,
    pub admin: bool,
    pub password: Password,
}

#[derive(Debug, thiserror::Error)]
pub enum CreateUserError {
    #[error("the password breaks the tenant's policy")]
    Policy(Vec<Violation>),
    #[error("user {0} exists already")]
    Exists(String),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl UseCaseError for CreateUserError {
    fn kind(&self) -> Kind {
        match self {
            CreateUserError::Policy(_) => Kind::PasswordPolicy,
            CreateUserError::Exists(_) => Kind::BadRequest,
            CreateUserError::Unexpected(_) => Kind::Internal,
        }
    }
    fn internal(&self) -> Option<&anyhow::Error> {
        match self {
            CreateUserError::Unexpected(e) => Some(e),
            _ => None,
        }
    }
}

/// Creates a user whose password passes the tenant's policy.
pub async fn create_user(
    store: &Store,
    defaults: &TenantSettings,
    new: NewUser,
    now: UnixTime,
) -> Result<User, CreateUserError> {
    let (settings, _) = store.load(&new.user_ref.tenant, &[], defaults).await?;
    let broken = violations(&settings.password, &new.password, &new.user_ref.username);
    if !broken.is_empty() {
        return Err(CreateUserError::Policy(broken));
    }
    let user = User::new(
        new.user_ref,
        new.email,
        new.admin,
        hash_password(new.password).await?,
    );
    match store.create_user(&user, now).await? {
        Write::Done => Ok(user),
        Write::Conflict => Err(CreateUserError::Exists(user.user_ref.storage_key())),
    }
}

/// What an operator's lock or unlock found and did.
#[derive(Debug)]
pub struct LockChange {
    /// The lock in force before (none: the account was open).
    pub was: Option<ActiveLock>,
    /// Whether the state changed (locking a locked account does not).
    pub changed: bool,
}

/// An operator locks (`reason`) or unlocks an account, with the lock model's
/// admin transitions, the same conditional write and the same notice mail as
/// lock-user (when the tenant has `lock.notify`). Unlocking lifts every lock,
/// by an admin or by failed logins, and clears the count. `None`: no such user.
pub async fn set_lock(
    store: &Store,
    mail: &Composer,
    defaults: &TenantSettings,
    user: &UserRef,
    lock: Option<&str>,
    now: UnixTime,
) -> anyhow::Result<Option<LockChange>> {
    let (settings, mut users) = store.load(&user.tenant, &[user], defaults).await?;
    let Some(mut current) = users.remove(0) else {
        return Ok(None);
    };
    for round in 0..MAX_ROUNDS {
        if round > 0 {
            backoff(round).await;
        }
        let was = current.lock.active(now);
        let decision = match lock {
            Some(reason) => current.lock.admin_lock(reason, now),
            None => current.lock.admin_unlock(now),
        };
        let notice = (decision.outcome && settings.lock.notify).then(|| match lock {
            Some(reason) => mail.notice(
                &settings,
                &current,
                TemplateName::AccountLock,
                &[(
                    Placeholder::Reason,
                    if reason.is_empty() {
                        "none given"
                    } else {
                        reason
                    },
                )],
                now,
            ),
            None => mail.notice(&settings, &current, TemplateName::AccountUnlock, &[], now),
        });
        match store
            .save_admin_lock(&current, &decision.persist, lock.is_some(), notice.as_ref())
            .await?
        {
            Saved::Done => {
                return Ok(Some(LockChange {
                    was,
                    changed: decision.outcome,
                }))
            }
            Saved::Conflict(Some(now_stored)) => current = *now_stored,
            Saved::Conflict(None) => return Ok(None),
        }
    }
    anyhow::bail!("the account kept changing; try again")
}
