//! lock-user: a tenant admin locks or unlocks an account. The admin's own
//! password check goes through the lockout like any other login.

use crate::error::{Kind, UseCaseError};
use crate::hashing::verify_password;
use crate::mail::Composer;
use crate::model::account::User;
use crate::model::audit::{user_label, AuditAction, AuditRecord, AuditResult};
use crate::model::domain::{resolve_username, Credentials, UserRef};
use crate::model::lock::{ActiveLock, LockReason};
use crate::model::settings::TenantSettings;
use crate::model::templates::{Placeholder, TemplateName};
use crate::model::time::UnixTime;
use crate::races::{backoff, MAX_ROUNDS};
use crate::store::{Saved, Store};
use crate::telemetry;

use super::login::{check_password, LoginError};

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

impl LockUserOutcome {
    pub fn reason(&self) -> Option<LockReason> {
        self.locked.then_some(LockReason::AdminInitiated)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LockUserError {
    #[error("Valid credentials of a tenant administrator are required.")]
    Unauthorized,
    #[error("Only a tenant administrator may lock or unlock accounts.")]
    Forbidden,
    #[error("No such user.")]
    UnknownUser,
    #[error("The account is busy; try again.")]
    Busy,
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl UseCaseError for LockUserError {
    fn kind(&self) -> Kind {
        match self {
            LockUserError::Unauthorized => Kind::Unauthorized,
            LockUserError::Forbidden => Kind::Forbidden,
            LockUserError::UnknownUser => Kind::UnknownTarget,
            LockUserError::Busy => Kind::Unavailable,
            LockUserError::Unexpected(_) => Kind::Internal,
        }
    }
    fn internal(&self) -> Option<&anyhow::Error> {
        match self {
            LockUserError::Unexpected(e) => Some(e),
            _ => None,
        }
    }
}

impl From<LoginError> for LockUserError {
    fn from(e: LoginError) -> Self {
        match e {
            LoginError::Unexpected(e) => LockUserError::Unexpected(e),
            LoginError::Busy => LockUserError::Busy,
            LoginError::Refused(_) => LockUserError::Unauthorized,
        }
    }
}

#[tracing::instrument(skip_all, fields(tenant = %req.target.tenant, locked = req.locked))]
pub async fn lock_user(
    store: &Store,
    mail: &Composer,
    defaults: &TenantSettings,
    req: LockUserRequest,
    now: UnixTime,
) -> Result<LockUserOutcome, LockUserError> {
    let creds = req.caller.ok_or(LockUserError::Unauthorized)?;
    let Some(admin_ref) = resolve_username(&req.target.tenant, &creds.username) else {
        // Still one verification, so a malformed name costs what a wrong password does.
        verify_password(creds.password, None).await?;
        return Err(LockUserError::Unauthorized);
    };
    let (settings, users) = store
        .load(&req.target.tenant, &[&admin_ref, &req.target], defaults)
        .await?;
    let [admin, target]: [Option<User>; 2] = users
        .try_into()
        .map_err(|_| anyhow::anyhow!("two users asked, another number read"))?;
    let admin = check_password(store, mail, &settings, admin, creds.password, now).await?;
    let action = if req.locked {
        AuditAction::AdminLock
    } else {
        AuditAction::AdminUnlock
    };
    let record = |result, detail: &str| {
        telemetry::audit(
            &AuditRecord::new(
                action,
                req.target.tenant.as_str(),
                user_label(&admin.user_ref),
                user_label(&req.target),
                result,
                now,
            )
            .with_detail(detail),
        )
    };
    if !admin.is_admin() {
        record(AuditResult::Forbidden, "");
        return Err(LockUserError::Forbidden);
    }
    // Locking oneself: the admin's login may have moved the state just read.
    let target = match target {
        Some(_) if admin.user_ref == req.target => store.get_user(&req.target).await?,
        t => t,
    }
    .ok_or_else(|| {
        record(AuditResult::UnknownSubject, "");
        LockUserError::UnknownUser
    })?;
    let target_ref = target.user_ref.clone();
    let changed = match apply_admin_lock(
        store,
        mail,
        &settings,
        target,
        req.locked.then_some(req.reason.as_str()),
        now,
    )
    .await?
    {
        Applied::Done(change) => change.changed,
        Applied::Gone => {
            record(AuditResult::UnknownSubject, "");
            return Err(LockUserError::UnknownUser);
        }
        Applied::Busy => return Err(LockUserError::Busy),
    };
    tracing::info!(
        outcome = if req.locked {
            "admin_locked"
        } else {
            "admin_unlocked"
        },
        changed,
        "account lock set"
    );
    let reason = if req.locked {
        format!("reason: {}", req.reason)
    } else {
        String::new()
    };
    record(
        if changed {
            AuditResult::Done
        } else {
            AuditResult::Unchanged
        },
        &reason,
    );
    Ok(LockUserOutcome {
        user: target_ref,
        locked: req.locked,
    })
}

/// What an admin lock or unlock found and did.
#[derive(Debug)]
pub struct LockChange {
    /// The lock in force before (none: the account was open).
    pub was: Option<ActiveLock>,
    /// Whether the state changed (locking a locked account does not).
    pub changed: bool,
}

/// How [`apply_admin_lock`] ended.
#[derive(Debug)]
pub enum Applied {
    Done(LockChange),
    /// The user was deleted meanwhile.
    Gone,
    /// Other requests kept changing the account.
    Busy,
}

/// An admin lock (`Some(reason)`) or unlock (`None`) of `target` as read: the
/// model's admin transition, written with one write conditioned on the state
/// read, the notice mail in the same write (when the tenant has
/// `lock.notify`), decided again on the state now stored after a lost race.
/// lock-user and `accountctl user lock|unlock` both run it.
pub async fn apply_admin_lock(
    store: &Store,
    mail: &Composer,
    settings: &TenantSettings,
    mut target: User,
    lock: Option<&str>,
    now: UnixTime,
) -> anyhow::Result<Applied> {
    for round in 0..MAX_ROUNDS {
        if round > 0 {
            backoff(round).await;
        }
        let was = target.lock.active(now);
        let decision = match lock {
            Some(reason) => target.lock.admin_lock(reason, now),
            None => target.lock.admin_unlock(now),
        };
        // The user is told in the same transaction that changes the lock.
        let notice = (decision.outcome && settings.lock.notify).then(|| match lock {
            Some(reason) => {
                let reason = if reason.is_empty() {
                    "none given"
                } else {
                    reason
                };
                let vars = [(Placeholder::Reason, reason)];
                mail.notice(settings, &target, TemplateName::AccountLock, &vars, now)
            }
            None => mail.notice(settings, &target, TemplateName::AccountUnlock, &[], now),
        });
        match store
            .save_admin_lock(&target, &decision.persist, lock.is_some(), notice.as_ref())
            .await?
        {
            Saved::Done => {
                return Ok(Applied::Done(LockChange {
                    was,
                    changed: decision.outcome,
                }))
            }
            Saved::Conflict(Some(now_stored)) => target = *now_stored,
            Saved::Conflict(None) => return Ok(Applied::Gone),
        }
    }
    Ok(Applied::Busy)
}
