//! resend-code: mail a fresh key for a recovery under way; older keys stop working.

use std::net::IpAddr;

use super::captcha::{captcha_text, CaptchaFailure};
use super::{admit, issue_key, key, send_reset_mail, Admitted, Gate, Refused};
use crate::app::App;
use crate::auth::Credentials;
use crate::domain::UserRef;
use crate::time::UnixTime;

#[derive(Debug)]
pub struct ResendRequest {
    pub user: UserRef,
    pub caller: Option<Credentials>,
    pub captcha_token: Option<String>,
    pub source_ip: Option<IpAddr>,
}

#[derive(Debug, thiserror::Error)]
pub enum ResendError {
    #[error("Password recovery is not enabled for this tenant.")]
    Disabled,
    #[error("Valid credentials of a tenant user are required.")]
    Unauthorized,
    #[error("{}", captcha_text(*.0))]
    Captcha(CaptchaFailure),
    #[error("No such user.")]
    UnknownUser,
    #[error("The account is locked.")]
    AccountLocked,
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<Refused> for ResendError {
    fn from(r: Refused) -> Self {
        match r {
            Refused::Disabled => ResendError::Disabled,
            Refused::Captcha(f) => ResendError::Captcha(f),
            Refused::Unauthorized => ResendError::Unauthorized,
        }
    }
}

/// `Ok(())` is the one answer for "sent", "nothing under way" and "unknown user".
#[tracing::instrument(skip_all, fields(tenant = %req.user.tenant))]
pub async fn resend_code(app: &App, req: ResendRequest, now: UnixTime) -> Result<(), ResendError> {
    let gate = Gate {
        user: &req.user,
        caller: req.caller,
        captcha_token: req.captcha_token,
        source_ip: req.source_ip,
        admin_only: false,
    };
    let Admitted {
        settings,
        user,
        ip_over_limit,
    } = admit(app, gate, now).await??;
    if ip_over_limit {
        tracing::info!(outcome = "ip_rate_limited", "nothing resent");
        return Ok(());
    }
    let Some(user) = user else {
        tracing::info!(outcome = "unknown_user", "nothing resent");
        return if settings.recovery.notify_user_existence {
            Err(ResendError::UnknownUser)
        } else {
            Ok(())
        };
    };
    if user.lock.is_admin_locked() {
        tracing::info!(outcome = "admin_locked", "nothing resent");
        return if settings.recovery.notify_account_status {
            Err(ResendError::AccountLocked)
        } else {
            Ok(())
        };
    }
    // Only a recovery still under way is resent; an expired one needs a new request.
    let Some(active) = user
        .recovery
        .clone()
        .filter(|r| !key::is_expired(r.expires_at, now))
    else {
        tracing::info!(outcome = "no_recovery", "nothing resent");
        return Ok(());
    };
    let new_key = match issue_key(app, &settings, &user, &active.callback, true, now).await? {
        Ok(k) => k,
        Err(why) => {
            tracing::info!(outcome = ?why, "nothing resent");
            return Ok(());
        }
    };
    send_reset_mail(app, &settings, &user, &new_key, &active.callback).await?;
    tracing::info!(outcome = "mailed", "key resent");
    Ok(())
}
