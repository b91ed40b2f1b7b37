//! lock-user: a tenant admin locks or unlocks an account. The admin's own
//! password check goes through the lockout like any other login.

use crate::error::{Kind, UseCaseError};
use crate::hashing::verify_password;
use crate::mail::Composer;
use crate::model::account::User;
use crate::model::audit::{user_label, AuditAction, AuditRecord, AuditResult};
use crate::model::domain::{resolve_username, Credentials, UserRef};
use crate::model::lock::LockReason;
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
    let mut target = match target {
        Some(_) if admin.user_ref == req.target => store.get_user(&req.target).await?,
        t => t,
    }
    .ok_or_else(|| {
        record(AuditResult::UnknownSubject, "");
        LockUserError::UnknownUser
    })?;
    let mut round = 0;
    let changed = loop {
        let decision = if req.locked {
            target.lock.admin_lock(&req.reason, now)
        } else {
            target.lock.admin_unlock(now)
        };
        // The user is told in the same transaction that changes the lock.
        let notice = (decision.outcome && settings.lock.notify).then(|| {
            let (template, reason) = if req.locked {
                let reason = if req.reason.is_empty() {
                    "none given"
                } else {
                    req.reason.as_str()
                };
                (TemplateName::AccountLock, reason)
            } else {
                (TemplateName::AccountUnlock, "")
            };
            mail.notice(
                &settings,
                &target,
                template,
                &[(Placeholder::Reason, reason)],
                now,
            )
        });
        match store
            .save_admin_lock(&target, &decision.persist, req.locked, notice.as_ref())
            .await?
        {
            Saved::Done => break decision.outcome,
            Saved::Conflict(Some(now_stored)) => target = *now_stored,
            Saved::Conflict(None) => {
                record(AuditResult::UnknownSubject, "");
                return Err(LockUserError::UnknownUser);
            }
        }
        round += 1;
        if round >= MAX_ROUNDS {
            return Err(LockUserError::Busy);
        }
        backoff(round).await;
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
        user: target.user_ref,
        locked: req.locked,
    })
}
