//! Checking a password with brute-force lockout: one argon2id verification per
//! attempt (a dummy one for unknown users), failures counted atomically, the
//! account locked exactly once when they reach the tenant's limit.

use super::{lock_until, LockReason};
use crate::account::User;
use crate::app::App;
use crate::domain::{Password, UserRef};
use crate::mail::TemplateName;
use crate::password::{hash_password, needs_rehash, verify_password};
use crate::store::locks::FailureCount;
use crate::store::Write;
use crate::tenant::TenantSettings;
use crate::time::UnixTime;
use crate::token::TokenIssuer;

#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// Wrong password or unknown user: one answer for both.
    #[error("Invalid username or password.")]
    InvalidCredentials,
    /// The password was right but the account is locked.
    #[error("The account is locked.")]
    Locked {
        reason: LockReason,
        until: Option<UnixTime>,
    },
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// Checks `password` for `user_ref`, keeping the lockout books. The caller
/// learns about a lock only when the password was right. Returns the tenant's
/// settings too, read in the same round trip, so callers need not read them again.
#[tracing::instrument(skip_all, fields(tenant = %user_ref.tenant))]
pub async fn check_credentials(
    app: &App,
    user_ref: &UserRef,
    password: Password,
    now: UnixTime,
) -> Result<(User, TenantSettings), LoginError> {
    let (settings, user) = app
        .store
        .load(&user_ref.tenant, Some(user_ref), &app.config.defaults)
        .await?;
    let candidate = password.clone();
    let ok = verify_password(candidate, user.as_ref().map(|u| u.password_hash.clone())).await?;
    let Some(user) = user else {
        tracing::info!(outcome = "unknown_user", "login refused");
        return Err(LoginError::InvalidCredentials);
    };
    if let Some((reason, until)) = user.lock.active(now) {
        tracing::info!(
            outcome = "locked",
            reason = reason.as_str(),
            "login refused"
        );
        // A wrong guess on a locked account learns nothing, not even that it is locked.
        return Err(if ok {
            LoginError::Locked { reason, until }
        } else {
            LoginError::InvalidCredentials
        });
    }
    if !ok {
        record_failure(app, &settings, &user, now).await?;
        return Err(LoginError::InvalidCredentials);
    }
    let dirty = user.lock.failed_attempts > 0
        || user.lock.lock_count > 0
        || user.lock.failed_lock.is_some();
    let rehash = if needs_rehash(&user.password_hash) {
        Some(hash_password(password).await?)
    } else {
        None
    };
    if dirty || rehash.is_some() {
        if app
            .store
            .record_success(&user.user_ref, rehash.as_ref(), now)
            .await?
            == Write::Conflict
        {
            // Locked between our read and now: the lock wins.
            let current = app.store.get_user(&user.user_ref).await?;
            if let Some((reason, until)) = current.as_ref().and_then(|u| u.lock.active(now)) {
                return Err(LoginError::Locked { reason, until });
            }
            return Err(LoginError::InvalidCredentials);
        }
        if rehash.is_some() {
            tracing::info!("password hash upgraded");
        }
    }
    tracing::info!(outcome = "ok", "login");
    Ok((user, settings))
}

async fn record_failure(
    app: &App,
    settings: &TenantSettings,
    user: &User,
    now: UnixTime,
) -> anyhow::Result<()> {
    let lock = &settings.lock;
    if !lock.enabled {
        tracing::info!(outcome = "wrong_password", "login refused (lockout off)");
        return Ok(());
    }
    let FailureCount::Counted {
        failed_attempts,
        lock_count,
    } = app.store.add_failure(&user.user_ref, now).await?
    else {
        tracing::info!(
            outcome = "wrong_password",
            "login refused (locked meanwhile)"
        );
        return Ok(());
    };
    tracing::info!(outcome = "wrong_password", failed_attempts, "login refused");
    if failed_attempts < lock.max_failed_attempts {
        return Ok(());
    }
    let k = lock_count.saturating_add(1);
    let until = lock_until(lock, k, now);
    if app
        .store
        .lock_after_failures(&user.user_ref, lock.max_failed_attempts, until, now)
        .await?
        == Write::Conflict
    {
        return Ok(()); // A concurrent failure locked it first.
    }
    tracing::warn!(k, "account locked after failed logins");
    if lock.notify {
        let unlock = match until {
            Some(u) => format!("It unlocks by itself at {}.", u.to_rfc3339()),
            None => "An administrator has to unlock it.".to_string(),
        };
        app.mailer
            .notify(
                settings,
                user,
                TemplateName::AccountLockFailedAttempt,
                &[("unlock", &unlock)],
            )
            .await;
    }
    Ok(())
}

pub struct LoginRequest {
    pub user: UserRef,
    pub password: Password,
}

pub struct LoggedIn {
    pub token: String,
    pub expires_in: u64,
    pub user: User,
}

/// `authenticate`: a password check with lockout, then a signed token.
pub async fn login(
    app: &App,
    issuer: &TokenIssuer,
    req: LoginRequest,
    now: UnixTime,
) -> Result<LoggedIn, LoginError> {
    let (user, _) = check_credentials(app, &req.user, req.password, now).await?;
    Ok(LoggedIn {
        token: issuer.issue(&user, now),
        expires_in: issuer.ttl.as_secs(),
        user,
    })
}
