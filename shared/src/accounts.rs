//! Operators' use cases behind `accountctl`: creating a user through the
//! tenant's policy, and lifting a lock. The CLI only parses and prints.

use crate::error::{Kind, UseCaseError};
use crate::hashing::hash_password;
use crate::model::account::User;
use crate::model::domain::{Email, Password, UserRef};
use crate::model::lock::ActiveLock;
use crate::model::policy::{violations, Violation};
use crate::model::settings::TenantSettings;
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

/// Lifts every lock of a user and clears the count, as an admin's unlock does.
/// `Ok(None)`: no such user; else the lock that was in force, if any.
pub async fn unlock_user(
    store: &Store,
    user: &UserRef,
    now: UnixTime,
) -> anyhow::Result<Option<Option<ActiveLock>>> {
    let Some(mut current) = store.get_user(user).await? else {
        return Ok(None);
    };
    for round in 0..MAX_ROUNDS {
        if round > 0 {
            backoff(round).await;
        }
        let was = current.lock.active(now);
        let decision = current.lock.admin_unlock(now);
        match store
            .save_admin_lock(&current, &decision.persist, false, None)
            .await?
        {
            Saved::Done => return Ok(Some(was)),
            Saved::Conflict(Some(now_stored)) => current = *now_stored,
            Saved::Conflict(None) => return Ok(None),
        }
    }
    anyhow::bail!("the account kept changing; try again")
}
