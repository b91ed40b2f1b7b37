//! Checking a password under the lockout: the one path every password check
//! takes (login, and the callers of lock-user and of recovery when credentials
//! are required). A locked account is refused without looking at the password,
//! after a dummy verification so that it takes the same time; otherwise one
//! argon2id verification, then the lock model's decision, stored only if the
//! account is still as it was read, decided again if not.

use std::time::Duration;

use crate::error::{Kind, UseCaseError};
use crate::hashing::{hash_password, verify_password};
use crate::mail::Composer;
use crate::model::account::User;
use crate::model::audit::{user_label, AuditAction, AuditRecord, AuditResult};
use crate::model::domain::{Password, UserRef};
use crate::model::lock::{LoginOutcome, LoginRefusal};
use crate::model::outbox::OutboxMail;
use crate::model::password::{needs_rehash, PasswordHash};
use crate::model::settings::TenantSettings;
use crate::model::templates::{Placeholder, TemplateName};
use crate::model::time::UnixTime;
use crate::races::{backoff, MAX_ROUNDS};
use crate::store::{LoginWrite, Saved, Store, Write};
use crate::telemetry;
use crate::tokens::TokenIssuer;

#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// Wrong password, unknown user, or (by the tenant's setting) a locked account.
    #[error("{}", refusal_text(.0))]
    Refused(LoginRefusal),
    /// Too many requests raced for this account; nothing was decided.
    #[error("The account is busy; try again.")]
    Busy,
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

fn refusal_text(r: &LoginRefusal) -> &'static str {
    match r {
        LoginRefusal::InvalidCredentials => "Invalid username or password.",
        LoginRefusal::Locked(_) => "The account is locked.",
    }
}

impl UseCaseError for LoginError {
    fn kind(&self) -> Kind {
        match self {
            LoginError::Refused(LoginRefusal::InvalidCredentials) => Kind::InvalidCredentials,
            LoginError::Refused(LoginRefusal::Locked(_)) => Kind::LoginLocked,
            LoginError::Busy => Kind::Unavailable,
            LoginError::Unexpected(_) => Kind::Internal,
        }
    }
    fn internal(&self) -> Option<&anyhow::Error> {
        match self {
            LoginError::Unexpected(e) => Some(e),
            _ => None,
        }
    }
    fn details(&self) -> Vec<(&'static str, String)> {
        match self {
            LoginError::Refused(LoginRefusal::Locked(l)) => {
                let mut d = vec![("lockedReason", l.reason.as_str().to_string())];
                if let Some(u) = l.until {
                    d.push(("unlockTime", u.to_rfc3339()));
                }
                d
            }
            _ => Vec::new(),
        }
    }
}

/// A password checked against one stored hash.
struct Checked {
    against: PasswordHash,
    right: bool,
}

/// Checks `password` for `user` as read in this request (`None`: no such
/// user), keeping the lockout's books. Returns the user these credentials prove.
pub async fn check_password(
    store: &Store,
    mail: &Composer,
    settings: &TenantSettings,
    user: Option<User>,
    password: Password,
    now: UnixTime,
) -> Result<User, LoginError> {
    let refused = |outcome| {
        LoginError::Refused(
            settings
                .lock
                .refusal(outcome)
                .unwrap_or(LoginRefusal::InvalidCredentials),
        )
    };
    let Some(mut user) = user else {
        verify_password(password, None).await?;
        tracing::info!(outcome = "unknown_user", "login refused");
        return Err(LoginError::Refused(LoginRefusal::InvalidCredentials));
    };
    // Tries on a locked account are not checked: the same time, the same answer.
    if let Some(lock) = user.lock.active(now) {
        verify_password(password, None).await?;
        tracing::info!(
            outcome = "locked",
            reason = lock.reason.as_str(),
            "login refused"
        );
        return Err(refused(LoginOutcome::Locked(lock)));
    }
    let mut checked: Option<Checked> = None;
    for round in 0..MAX_ROUNDS {
        if round > 0 {
            backoff(round).await;
        }
        // Checked once; again only if a reset changed the hash meanwhile.
        let right = match &checked {
            Some(c) if c.against == user.password_hash => c.right,
            _ => {
                let right =
                    verify_password(password.clone(), Some(user.password_hash.clone())).await?;
                checked = Some(Checked {
                    against: user.password_hash.clone(),
                    right,
                });
                right
            }
        };
        let decision = user.lock.login(&settings.lock, right, now);
        let write = LoginWrite { right, now };
        // The lock notice goes into the outbox with the lock itself.
        let notice = match decision.outcome {
            LoginOutcome::LockedNow { until, .. } if settings.lock.notify => {
                Some(lock_notice(mail, settings, &user, until, now))
            }
            _ => None,
        };
        match store
            .save_login(&user, &decision.persist, write, notice.as_ref())
            .await?
        {
            Saved::Conflict(Some(now_stored)) => {
                user = *now_stored;
                continue;
            }
            Saved::Conflict(None) => {
                return Err(LoginError::Refused(LoginRefusal::InvalidCredentials))
            }
            Saved::Done => {}
        }
        match decision.outcome {
            LoginOutcome::Success => {
                upgrade(store, &user, password).await;
                tracing::info!(outcome = "ok", rounds = round + 1, "login");
                return Ok(user);
            }
            LoginOutcome::Locked(lock) => {
                tracing::info!(
                    outcome = "locked",
                    reason = lock.reason.as_str(),
                    "login refused"
                );
            }
            LoginOutcome::Counted { failed_attempts } => {
                tracing::info!(
                    outcome = "wrong_password",
                    failed_attempts,
                    rounds = round + 1,
                    "login refused"
                );
            }
            LoginOutcome::NotCounted => {
                tracing::info!(outcome = "wrong_password", "login refused (lockout off)");
            }
            LoginOutcome::LockedNow { k, until } => {
                tracing::warn!(
                    outcome = "locked_now",
                    k,
                    until = until.map(|u| u.0),
                    user_id = %user.id,
                    "account locked after failed logins"
                );
                telemetry::audit(
                    &AuditRecord::new(
                        AuditAction::LockByFailedLogins,
                        user.user_ref.tenant.as_str(),
                        "failed-logins",
                        user_label(&user.user_ref),
                        AuditResult::Done,
                        now,
                    )
                    .with_detail(match until {
                        Some(u) => format!("lock {k}, until {}", u.0),
                        None => format!("lock {k}, until an admin unlocks it"),
                    }),
                );
            }
        }
        return Err(refused(decision.outcome));
    }
    tracing::warn!(outcome = "busy", user_id = %user.id, "login gave up after racing requests");
    Err(LoginError::Busy)
}

/// After a login has been decided right: a hash stored with weaker parameters
/// than today's is replaced (only then: a refusal never pays for a second hash,
/// so the time of an answer says nothing about the password).
async fn upgrade(store: &Store, user: &User, password: Password) {
    if !needs_rehash(&user.password_hash) {
        return;
    }
    let stronger = match hash_password(password).await {
        Ok(h) => h,
        Err(e) => return tracing::error!(error = %e, "password hash not upgraded"),
    };
    match store
        .upgrade_hash(user, &user.password_hash, &stronger)
        .await
    {
        Ok(Write::Done) => tracing::info!("password hash upgraded"),
        Ok(Write::Conflict) => tracing::info!("password changed meanwhile; hash left as it is"),
        Err(e) => tracing::error!(error = %e, "password hash not upgraded"),
    }
}

fn lock_notice(
    mail: &Composer,
    settings: &TenantSettings,
    user: &User,
    until: Option<UnixTime>,
    now: UnixTime,
) -> OutboxMail {
    let unlock = match until {
        Some(u) => format!("It unlocks by itself at {}.", u.to_rfc3339()),
        None => "An administrator has to unlock it.".to_string(),
    };
    mail.notice(
        settings,
        user,
        TemplateName::AccountLockFailedAttempt,
        &[(Placeholder::Unlock, &unlock)],
        now,
    )
}

pub struct LoginRequest {
    pub user: UserRef,
    pub password: Password,
}

pub struct LoggedIn {
    pub token: String,
    pub expires_in: Duration,
    pub user: User,
}

/// `authenticate`: a password check under the lockout, then a signed token.
pub async fn login(
    store: &Store,
    mail: &Composer,
    defaults: &TenantSettings,
    issuer: &TokenIssuer,
    req: LoginRequest,
    now: UnixTime,
) -> Result<LoggedIn, LoginError> {
    let (settings, mut users) = store.load(&req.user.tenant, &[&req.user], defaults).await?;
    let user = check_password(store, mail, &settings, users.remove(0), req.password, now).await?;
    Ok(LoggedIn {
        token: issuer.issue(&user, now),
        expires_in: issuer.ttl,
        user,
    })
}
