//! set-password: finish a recovery with the mailed key and a new password.
//! The cheap rules first; the history's argon2 comparisons only when they all
//! pass. Every refusal counts against the key: after five the key is revoked.

use uuid::Uuid;

use crate::error::{Kind, UseCaseError};
use crate::hashing::{hash_password, reuses_recent};
use crate::mail::Composer;
use crate::model::account::User;
use crate::model::domain::{Password, UserRef};
use crate::model::key::{is_expired, KeyHash, RecoveryKey, MAX_REFUSED_TRIES};
use crate::model::password::next_history;
use crate::model::policy::{violations, Violation};
use crate::model::settings::TenantSettings;
use crate::model::templates::{Placeholder, TemplateName};
use crate::model::time::UnixTime;
use crate::races::{backoff, MAX_ROUNDS};
use crate::store::{Consumed, KeyRecord, Reset, Store};

pub struct SetPasswordRequest {
    /// As the caller sent it; a string that cannot be one of our keys is just an unknown key.
    pub key: String,
    pub password: Password,
}

/// Without the key: it may be a real one.
impl std::fmt::Debug for SetPasswordRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SetPasswordRequest").finish_non_exhaustive()
    }
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
    /// Every rule broken; the edge renders the sentences.
    #[error("The password does not meet the policy.")]
    Policy(Vec<Violation>),
    /// One of the last `n` passwords; the key goes back in the answer while it
    /// is still usable (not after the refusal that used up its tries).
    #[error("The password was used recently.")]
    Reused { n: u32, key: Option<RecoveryKey> },
    #[error("The account is busy; try again.")]
    Busy,
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl UseCaseError for SetPasswordError {
    fn kind(&self) -> Kind {
        match self {
            SetPasswordError::InvalidKey => Kind::InvalidKey,
            SetPasswordError::ExpiredKey => Kind::ExpiredKey,
            SetPasswordError::Policy(_) => Kind::PasswordPolicy,
            SetPasswordError::Reused { .. } => Kind::PasswordReused,
            SetPasswordError::Busy => Kind::Unavailable,
            SetPasswordError::Unexpected(_) => Kind::Internal,
        }
    }
    fn internal(&self) -> Option<&anyhow::Error> {
        match self {
            SetPasswordError::Unexpected(e) => Some(e),
            _ => None,
        }
    }
    fn details(&self) -> Vec<(&'static str, String)> {
        match self {
            SetPasswordError::Reused { key: Some(key), .. } => vec![("key", key.expose())],
            _ => Vec::new(),
        }
    }
}

/// A key a caller sent, checked: it is one of ours, not used up, revoked or
/// expired, and its user still holds it (a resend or a newer recovery revoked
/// it otherwise). What set-password and validate-code both require.
pub(crate) struct HeldKey {
    pub key: RecoveryKey,
    pub record: KeyRecord,
    pub settings: TenantSettings,
    pub user: User,
}

pub(crate) async fn held_key(
    store: &Store,
    defaults: &TenantSettings,
    raw: &str,
    now: UnixTime,
) -> Result<HeldKey, SetPasswordError> {
    let key = RecoveryKey::parse(raw).ok_or(SetPasswordError::InvalidKey)?;
    let hash = key.hash();
    let record = store
        .get_key(&hash)
        .await?
        .filter(|r| r.refused < MAX_REFUSED_TRIES)
        .ok_or(SetPasswordError::InvalidKey)?;
    if is_expired(record.expires_at, now) {
        return Err(SetPasswordError::ExpiredKey);
    }
    let (settings, mut users) = store
        .load(&record.user.tenant, &[&record.user], defaults)
        .await?;
    let user = users
        .remove(0)
        .filter(|u| holds(u, &hash))
        .ok_or(SetPasswordError::InvalidKey)?;
    Ok(HeldKey {
        key,
        record,
        settings,
        user,
    })
}

fn holds(u: &User, hash: &KeyHash) -> bool {
    u.recovery.as_ref().is_some_and(|r| &r.key_hash == hash)
}

pub async fn set_password(
    store: &Store,
    mail: &Composer,
    defaults: &TenantSettings,
    req: SetPasswordRequest,
    now: UnixTime,
) -> Result<PasswordSet, SetPasswordError> {
    let HeldKey {
        key,
        record,
        settings,
        mut user,
    } = held_key(store, defaults, &req.key, now).await?;
    let hash = key.hash();
    let rules = &settings.password;
    let broken = violations(rules, &req.password, &user.user_ref.username);
    if broken.contains(&Violation::TooComplex) {
        for (name, pattern, error) in rules.broken_patterns() {
            tracing::error!(
                setting = name,
                pattern,
                error,
                "a stored password pattern does not compile"
            );
        }
    }
    let refusal = if !broken.is_empty() {
        Some(SetPasswordError::Policy(broken))
    } else if rules.history > 0
        && reuses_recent(
            &req.password,
            &user.password_hash,
            &user.password_history,
            rules.history,
        )
        .await?
    {
        Some(SetPasswordError::Reused {
            n: rules.history,
            key: Some(key.clone()),
        })
    } else {
        None
    };
    if let Some(refusal) = refusal {
        // Counted before it is answered; past the limit the key is gone.
        let Some(refused) = store.count_refusal(&hash, record.refused).await? else {
            return Err(SetPasswordError::InvalidKey);
        };
        if refused >= MAX_REFUSED_TRIES {
            store.revoke_key(&user.user_ref, &hash).await?;
            tracing::info!(outcome = "key_revoked", refused, "password refused");
            if let SetPasswordError::Reused { n, .. } = refusal {
                return Err(SetPasswordError::Reused { n, key: None });
            }
        } else {
            tracing::info!(outcome = "refused", refused, "password refused");
        }
        return Err(refusal);
    }
    let new_hash = hash_password(req.password).await?;
    let mut round = 0;
    loop {
        // An admin lock ends recovery: a key that outlived one by a race is refused here too.
        if user.lock.is_admin_locked() {
            return Err(SetPasswordError::InvalidKey);
        }
        let history = next_history(&user.password_hash, &user.password_history, rules.history);
        let lock = user.lock.password_reset();
        let time = now.to_rfc3339();
        let notice = mail.notice(
            &settings,
            &user,
            TemplateName::PasswordResetSuccess,
            &[(Placeholder::Time, &time)],
            now,
        );
        match store
            .consume_key(
                &user,
                &hash,
                Reset {
                    new_hash: &new_hash,
                    history: &history,
                    lock: &lock,
                    notice: &notice,
                },
                now,
            )
            .await?
        {
            Consumed::Done => break,
            // A concurrent call used the key first.
            Consumed::KeyGone => return Err(SetPasswordError::InvalidKey),
            Consumed::Changed(Some(now_stored)) if holds(&now_stored, &hash) => user = *now_stored,
            Consumed::Changed(_) => return Err(SetPasswordError::InvalidKey),
        }
        round += 1;
        if round >= MAX_ROUNDS {
            return Err(SetPasswordError::Busy);
        }
        backoff(round).await;
    }
    tracing::info!(outcome = "password_set", user_id = %user.id, "recovery finished");
    Ok(PasswordSet {
        user: user.user_ref,
        user_id: user.id,
    })
}
