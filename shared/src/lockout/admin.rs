//! lock-user: a tenant admin locks or unlocks an account.

use super::login::{check_credentials, LoginError};
use super::LockReason;
use crate::app::App;
use crate::auth::{resolve_username, Credentials};
use crate::domain::UserRef;
use crate::mail::TemplateName;
use crate::tenant::TenantSettings;
use crate::time::UnixTime;

#[derive(Debug)]
pub struct LockUserRequest {
    pub target: UserRef,
    pub locked: bool,
    pub reason: String,
    pub caller: Option<Credentials>,
}

#[derive(Debug)]
pub struct LockUserOutcome {
    pub user: UserRef,
    pub locked: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum LockUserError {
    #[error("Valid credentials of a tenant administrator are required.")]
    Unauthorized,
    #[error("Only a tenant administrator may lock or unlock accounts.")]
    Forbidden,
    #[error("No such user.")]
    UnknownUser,
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl LockUserOutcome {
    pub fn reason(&self) -> Option<LockReason> {
        self.locked.then_some(LockReason::AdminInitiated)
    }
}

/// The admin's own login goes through lockout like any other. Returns the
/// tenant's settings, read with the admin in one round trip.
async fn require_admin(
    app: &App,
    target: &UserRef,
    caller: Option<Credentials>,
    now: UnixTime,
) -> Result<TenantSettings, LockUserError> {
    let creds = caller.ok_or(LockUserError::Unauthorized)?;
    let admin_ref =
        resolve_username(&target.tenant, &creds.username).ok_or(LockUserError::Unauthorized)?;
    match check_credentials(app, &admin_ref, creds.password, now).await {
        Ok((u, settings)) if u.is_admin() => Ok(settings),
        Ok(_) => Err(LockUserError::Forbidden),
        Err(LoginError::Unexpected(e)) => Err(LockUserError::Unexpected(e)),
        Err(_) => Err(LockUserError::Unauthorized),
    }
}

#[tracing::instrument(skip_all, fields(tenant = %req.target.tenant, locked = req.locked))]
pub async fn lock_user(
    app: &App,
    req: LockUserRequest,
    now: UnixTime,
) -> Result<LockUserOutcome, LockUserError> {
    let settings = require_admin(app, &req.target, req.caller, now).await?;
    let before = if req.locked {
        app.store
            .set_admin_lock(&req.target, &req.reason, now)
            .await?
    } else {
        app.store.admin_unlock(&req.target).await?
    };
    let before = before.ok_or(LockUserError::UnknownUser)?;
    let was_locked = before.lock.active(now).is_some();
    let changed = if req.locked {
        !before.lock.is_admin_locked()
    } else {
        was_locked
    };
    tracing::info!(changed, "account lock set");
    if changed && settings.lock.notify {
        let (template, reason) = if req.locked {
            (
                TemplateName::AccountLock,
                if req.reason.is_empty() {
                    "none given"
                } else {
                    req.reason.as_str()
                },
            )
        } else {
            (TemplateName::AccountUnlock, "")
        };
        app.mailer
            .notify(&settings, &before, template, &[("reason", reason)])
            .await;
    }
    Ok(LockUserOutcome {
        user: before.user_ref,
        locked: req.locked,
    })
}
