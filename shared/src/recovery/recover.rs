//! recover-password: start a recovery and mail (or, for an admin, return) a key.

use super::key::RecoveryKey;
use super::{caller_allowed, issue_key, need_for, send_reset_mail, NotIssued};
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
    #[error("No such user.")]
    UnknownUser,
    #[error("The account is locked.")]
    AccountLocked,
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

#[tracing::instrument(skip_all, fields(tenant = %req.user.tenant, notify = req.notify))]
pub async fn recover_password(
    app: &App,
    req: RecoverRequest,
    now: UnixTime,
) -> Result<Recovered, RecoverError> {
    let (settings, user) = app
        .store
        .load(&req.user.tenant, Some(&req.user), &app.config.defaults)
        .await?;
    if !settings.recovery.enabled {
        return Err(RecoverError::Disabled);
    }
    let callback = req
        .callback
        .clone()
        .unwrap_or_else(|| settings.recovery.default_callback.clone());
    if !settings.recovery.callback_regex.is_match(&callback) {
        return Err(RecoverError::InvalidCallback);
    }
    let need = need_for(&settings, !req.notify);
    if !caller_allowed(app, &req.user.tenant, need, req.caller, now).await? {
        return Err(RecoverError::Unauthorized);
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
