//! validate-code: whether a mailed key still works, and whose it is, without
//! using it up. It answers for the key alone (an unguessable secret the caller
//! holds), so it tells nothing about users, and it counts against nothing.

use super::set_password::{held_key, SetPasswordError};
use crate::error::{Kind, UseCaseError};
use crate::model::domain::{TenantDomain, UserRef};
use crate::model::settings::TenantSettings;
use crate::model::time::UnixTime;
use crate::store::Store;

/// The one recovery step our keys serve (WSO2 has others for sign-up and challenge questions).
pub const UPDATE_PASSWORD: &str = "UPDATE_PASSWORD";

pub struct ValidateCodeRequest {
    pub code: String,
    pub step: Option<String>,
    /// A `/t/{tenant}` path: the key must be of that tenant.
    pub tenant: Option<TenantDomain>,
}

/// Without the code: it may be a real key.
impl std::fmt::Debug for ValidateCodeRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ValidateCodeRequest")
            .field("step", &self.step)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ValidateCodeError {
    #[error("The code is not valid.")]
    Invalid,
    #[error("The code has expired.")]
    Expired,
    #[error(transparent)]
    Unexpected(anyhow::Error),
}

impl UseCaseError for ValidateCodeError {
    fn kind(&self) -> Kind {
        match self {
            ValidateCodeError::Invalid => Kind::InvalidKey,
            ValidateCodeError::Expired => Kind::ExpiredKey,
            ValidateCodeError::Unexpected(_) => Kind::Internal,
        }
    }
    fn internal(&self) -> Option<&anyhow::Error> {
        match self {
            ValidateCodeError::Unexpected(e) => Some(e),
            _ => None,
        }
    }
}

/// The user the key belongs to, if it would still set a password.
pub async fn validate_code(
    store: &Store,
    defaults: &TenantSettings,
    req: ValidateCodeRequest,
    now: UnixTime,
) -> Result<UserRef, ValidateCodeError> {
    if req.step.as_deref() != Some(UPDATE_PASSWORD) {
        return Err(ValidateCodeError::Invalid);
    }
    let held = held_key(store, defaults, &req.code, now)
        .await
        .map_err(|e| match e {
            SetPasswordError::ExpiredKey => ValidateCodeError::Expired,
            SetPasswordError::Unexpected(e) => ValidateCodeError::Unexpected(e),
            _ => ValidateCodeError::Invalid,
        })?;
    if held.user.lock.is_admin_locked()
        || req.tenant.is_some_and(|t| t != held.user.user_ref.tenant)
    {
        return Err(ValidateCodeError::Invalid);
    }
    Ok(held.user.user_ref)
}
