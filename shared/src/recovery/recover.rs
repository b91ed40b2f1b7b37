//! recover-password: start a recovery and mail (or, for an admin, return) a key.

use super::key::RecoveryKey;
use std::net::IpAddr;

use super::captcha::{captcha_text, CaptchaFailure};
use super::{admit, issue_key, send_reset_mail, Admitted, Gate, NotIssued, Refused};
use crate::app::App;
use crate::auth::Credentials;
use crate::domain::UserRef;
use crate::time::UnixTime;

#[derive(Debug)]
pub struct RecoverRequest {
    pub user: UserRef,
    pub callback: Option<String>,
    /// `false`: an admin asks for the key instead of a mail.
    pub notify: bool,
    pub caller: Option<Credentials>,
    pub captcha_token: Option<String>,
    pub source_ip: Option<IpAddr>,
}

#[derive(Debug)]
pub enum Recovered {
    /// The answer is the same whether a mail went out or not (no oracle).
    Accepted,
    /// `notify=false`: the key, for the admin who asked.
    Key(RecoveryKey),
}

#[derive(Debug, thiserror::Error)]
pub enum RecoverError {
    #[error("Password recovery is not enabled for this tenant.")]
    Disabled,
    #[error("The callback URL is not allowed for this tenant.")]
    InvalidCallback,
    #[error("Valid credentials of a tenant administrator are required.")]
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

impl From<Refused> for RecoverError {
    fn from(r: Refused) -> Self {
        match r {
            Refused::Disabled => RecoverError::Disabled,
            Refused::Captcha(f) => RecoverError::Captcha(f),
            Refused::Unauthorized => RecoverError::Unauthorized,
        }
    }
}

#[tracing::instrument(skip_all, fields(tenant = %req.user.tenant, notify = req.notify))]
pub async fn recover_password(
    app: &App,
    req: RecoverRequest,
    now: UnixTime,
) -> Result<Recovered, RecoverError> {
    let gate = Gate {
        user: &req.user,
        caller: req.caller,
        captcha_token: req.captcha_token,
        source_ip: req.source_ip,
        admin_only: !req.notify,
    };
    let Admitted {
        settings,
        user,
        ip_over_limit,
    } = admit(app, gate, now).await??;
    let callback = req
        .callback
        .clone()
        .unwrap_or_else(|| settings.recovery.default_callback.clone());
    if !settings.recovery.callback_regex.is_match(&callback) {
        return Err(RecoverError::InvalidCallback);
    }
    if ip_over_limit && req.notify {
        tracing::info!(outcome = "ip_rate_limited", "no key issued");
        return Ok(Recovered::Accepted);
    }
    let Some(user) = user else {
        tracing::info!(outcome = "unknown_user", "no key issued");
        return if settings.recovery.notify_user_existence {
            Err(RecoverError::UnknownUser)
        } else {
            Ok(Recovered::Accepted)
        };
    };
    // An admin lock stops recovery; a failed-login lock does not (a reset is the way back in).
    if user.lock.is_admin_locked() {
        tracing::info!(outcome = "admin_locked", "no key issued");
        return if settings.recovery.notify_account_status {
            Err(RecoverError::AccountLocked)
        } else {
            Ok(Recovered::Accepted)
        };
    }
    let key = match issue_key(app, &settings, &user, &callback, req.notify, now).await? {
        Ok(key) => key,
        Err(why) => {
            tracing::info!(
                outcome = if why == NotIssued::RateLimited {
                    "rate_limited"
                } else {
                    "raced"
                },
                "no key issued"
            );
            return Ok(Recovered::Accepted);
        }
    };
    if !req.notify {
        tracing::info!(outcome = "key_returned", "key issued to an admin");
        return Ok(Recovered::Key(key));
    }
    send_reset_mail(app, &settings, &user, &key, &callback).await?;
    tracing::info!(outcome = "mailed", "key issued");
    Ok(Recovered::Accepted)
}
