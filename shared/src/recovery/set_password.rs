//! set-password: finish a recovery with the mailed key and a new password.

use uuid::Uuid;

use super::key::{is_expired, RecoveryKey};
use crate::app::App;
use crate::domain::{Password, UserRef};
use crate::mail::TemplateName;
use crate::password::{hash_password, next_history, policy, reuses_recent};
use crate::store::Write;
use crate::time::UnixTime;

#[derive(Debug)]
pub struct SetPasswordRequest {
    /// As the caller sent it; a string that cannot be one of our keys is just an unknown key.
    pub key: String,
    pub password: Password,
}

#[derive(Debug)]
pub struct PasswordSet {
    pub user: UserRef,
    pub user_id: Uuid,
}

#[derive(Debug, thiserror::Error)]
pub enum SetPasswordError {
    #[error("The recovery key is not valid.")]
    InvalidKey,
    #[error("The recovery key has expired.")]
    ExpiredKey,
    #[error("{}", .0.join(" "))]
    PolicyViolation(Vec<String>),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

#[tracing::instrument(skip_all)]
pub async fn set_password(
    app: &App,
    req: SetPasswordRequest,
    now: UnixTime,
) -> Result<PasswordSet, SetPasswordError> {
    let key = RecoveryKey::parse(&req.key).ok_or(SetPasswordError::InvalidKey)?;
    let hash = key.hash();
    let record = app
        .store
        .get_key(&hash)
        .await?
        .ok_or(SetPasswordError::InvalidKey)?;
    if is_expired(record.expires_at, now) {
        return Err(SetPasswordError::ExpiredKey);
    }
    let (settings, user) = app
        .store
        .load(
            &record.user.tenant,
            Some(&record.user),
            &app.config.defaults,
        )
        .await?;
    // The user must still hold this key: a resend or a newer recovery revoked it otherwise.
    let user = user
        .filter(|u| u.recovery.as_ref().is_some_and(|r| r.key_hash == hash))
        .ok_or(SetPasswordError::InvalidKey)?;
    let rules = &settings.password;
    let mut broken = policy::violations(rules, &req.password, &user.user_ref.username);
    if rules.history > 0
        && reuses_recent(
            &req.password,
            &user.password_hash,
            &user.password_history,
            rules.history,
        )
        .await?
    {
        broken.push(format!(
            "Password must not be one of the last {} passwords.",
            rules.history
        ));
    }
    if !broken.is_empty() {
        return Err(SetPasswordError::PolicyViolation(broken));
    }
    let new_hash = hash_password(req.password).await?;
    let history = next_history(&user.password_hash, &user.password_history, rules.history);
    let written = app
        .store
        .consume_key(&user.user_ref, &hash, &new_hash, &history, now)
        .await?;
    if written == Write::Conflict {
        // A concurrent call used the key first.
        return Err(SetPasswordError::InvalidKey);
    }
    tracing::info!(outcome = "password_set", "recovery finished");
    let time = now.to_rfc3339();
    app.mailer
        .notify(
            &settings,
            &user,
            TemplateName::PasswordResetSuccess,
            &[("time", &time)],
        )
        .await;
    Ok(PasswordSet {
        user: user.user_ref,
        user_id: user.id,
    })
}
