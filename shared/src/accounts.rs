//! Operators' use cases behind `accountctl`: creating a user through the
//! tenant's policy, and lifting a lock. The CLI only parses and prints.

use crate::error::{Kind, UseCaseError};
use crate::hashing::hash_password;
pub use crate::lockout::admin::LockChange;
use crate::lockout::admin::{apply_admin_lock, Applied};
use crate::mail::Composer;
use crate::model::account::User;
use crate::model::domain::{Email, Password, UserRef};
use crate::model::policy::{violations, Violation};
use crate::model::settings::TenantSettings;
use crate::model::time::UnixTime;
use crate::store::{Store, Write};

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

/// An operator locks (`reason`) or unlocks an account: the same transition,
/// conditional write and notice mail as lock-user ([`apply_admin_lock`]).
/// Unlocking lifts every lock, by an admin or by failed logins, and clears the
/// count. `None`: no such user.
pub async fn set_lock(
    store: &Store,
    mail: &Composer,
    defaults: &TenantSettings,
    user: &UserRef,
    lock: Option<&str>,
    now: UnixTime,
) -> anyhow::Result<Option<LockChange>> {
    let (settings, mut users) = store.load(&user.tenant, &[user], defaults).await?;
    let Some(current) = users.remove(0) else {
        return Ok(None);
    };
    match apply_admin_lock(store, mail, &settings, current, lock, now).await? {
        Applied::Done(change) => Ok(Some(change)),
        Applied::Gone => Ok(None),
        Applied::Busy => anyhow::bail!("the account kept changing; try again"),
    }
}
