//! What recover-password and resend-code share: the adapters they use, the
//! gate every request passes (settings, CAPTCHA, caller), issuing a key as a
//! transaction decided again after a lost race, mailing the link, and the one
//! error type both answer with.

use std::net::IpAddr;

use crate::error::{Kind, UseCaseError};
use crate::hashing::verify_password;
use crate::lockout::login::{check_password, LoginError};
use crate::mail::Composer;
use crate::model::account::User;
use crate::model::callback::CallbackUrl;
use crate::model::domain::{resolve_username, Credentials, UserRef};
use crate::model::key::RecoveryKey;
use crate::model::recovery::CallbackRefused;
use crate::model::settings::TenantSettings;
use crate::model::templates::{Placeholder, TemplateName};
use crate::model::time::{humanize_duration, UnixTime};
use crate::outbound::captcha::{CaptchaFailure, CaptchaVerifier};
use crate::races::{backoff, MAX_ROUNDS};
use crate::store::{IssueKey, Saved, Store};

/// The adapters recover-password and resend-code use.
#[derive(Clone, Copy)]
pub struct RecoveryPorts<'a> {
    pub store: &'a Store,
    pub mail: &'a Composer,
    pub captcha: &'a CaptchaVerifier,
    pub defaults: &'a TenantSettings,
}

/// Who may start a recovery, by the tenant's settings and the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    Anyone,
    TenantUser,
    Admin,
}

/// Why recover-password or resend-code refused.
#[derive(Debug, thiserror::Error)]
pub enum RecoveryError {
    #[error("Password recovery is not enabled for this tenant.")]
    Disabled,
    #[error("The callback URL {}.", callback_text(.0))]
    InvalidCallback(CallbackRefused),
    #[error("{}", if *.0 == Need::Admin {
        "Valid credentials of a tenant administrator are required."
    } else {
        "Valid credentials of a user of this tenant are required."
    })]
    Unauthorized(Need),
    #[error("{}", captcha_text(*.0))]
    Captcha(CaptchaFailure),
    #[error("No such user.")]
    UnknownUser,
    #[error("The account is locked.")]
    AccountLocked,
    #[error("The account is busy; try again.")]
    Busy,
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

fn callback_text(r: &CallbackRefused) -> String {
    match r {
        CallbackRefused::Unclean(p) => p.explain().to_string(),
        CallbackRefused::NotAllowed => "is not allowed for this tenant".to_string(),
    }
}

fn captcha_text(f: CaptchaFailure) -> &'static str {
    match f {
        CaptchaFailure::Missing => "A reCAPTCHA token (g-recaptcha-response header) is required.",
        CaptchaFailure::Rejected => "The reCAPTCHA check failed.",
        CaptchaFailure::Unavailable => "The reCAPTCHA check could not be completed; try again.",
    }
}

impl UseCaseError for RecoveryError {
    fn kind(&self) -> Kind {
        match self {
            RecoveryError::Disabled => Kind::RecoveryDisabled,
            RecoveryError::InvalidCallback(_) => Kind::InvalidCallback,
            RecoveryError::Unauthorized(_) => Kind::Unauthorized,
            RecoveryError::Captcha(CaptchaFailure::Unavailable) => Kind::Unavailable,
            RecoveryError::Captcha(_) => Kind::Captcha,
            RecoveryError::UnknownUser => Kind::UnknownUser,
            RecoveryError::AccountLocked => Kind::RecoveryLocked,
            RecoveryError::Busy => Kind::Unavailable,
            RecoveryError::Unexpected(_) => Kind::Internal,
        }
    }
    fn internal(&self) -> Option<&anyhow::Error> {
        match self {
            RecoveryError::Unexpected(e) => Some(e),
            _ => None,
        }
    }
}

/// What recover-password and resend-code check before they look at the user.
pub(crate) struct Gate<'a> {
    pub user: &'a UserRef,
    pub caller: Option<Credentials>,
    pub captcha_token: Option<String>,
    pub source_ip: Option<IpAddr>,
    /// `notify=false`: only a tenant admin may ask.
    pub admin_only: bool,
}

pub(crate) struct Admitted {
    pub settings: TenantSettings,
    pub user: Option<User>,
    /// Over `recovery.max_requests_per_ip_per_hour`: answer as usual, send nothing.
    pub ip_over_limit: bool,
}

/// Reads the tenant's settings, the user and the caller (one round trip)
/// while counting the request against its source IP, then checks, in order:
/// recovery enabled, CAPTCHA, caller.
pub(crate) async fn admit(
    ports: RecoveryPorts<'_>,
    gate: Gate<'_>,
    now: UnixTime,
) -> Result<Admitted, RecoveryError> {
    let tenant = &gate.user.tenant;
    let caller_ref = gate
        .caller
        .as_ref()
        .and_then(|c| resolve_username(tenant, &c.username));
    let mut wanted = vec![gate.user];
    wanted.extend(caller_ref.as_ref());
    // The settings first (from the instance's cache, mostly): the per-IP limit
    // decides whether and how the request is counted.
    let settings = ports.store.settings(tenant, ports.defaults).await?;
    let limit = settings.recovery.max_requests_per_ip_per_hour;
    let count = async {
        match gate.source_ip {
            Some(ip) => ports.store.count_ip_request(tenant, ip, now, limit).await,
            None => Ok(false),
        }
    };
    let (users, ip_over_limit) = tokio::join!(ports.store.users(&wanted), count);
    let mut users = users?;
    let ip_over_limit = ip_over_limit?;
    let caller_user = if caller_ref.is_some() {
        users.pop().flatten()
    } else {
        None
    };
    let user = users.pop().flatten();
    if !settings.recovery.enabled {
        return Err(RecoveryError::Disabled);
    }
    if let Err(e) = settings.recovery.callback_regex.compiled() {
        // Stored before today's checks, or edited by hand: it matches nothing.
        tracing::error!(
            pattern = settings.recovery.callback_regex.as_str(),
            error = e,
            "recovery.callback_regex does not compile; only the default callback is used"
        );
    }
    if let Some(secret) = &settings.recovery.captcha {
        ports
            .captcha
            .check(secret, gate.captcha_token.as_deref(), gate.source_ip)
            .await
            .map_err(RecoveryError::Captcha)?;
    }
    let need = if gate.admin_only {
        Need::Admin
    } else if settings.anonymous_access {
        Need::Anyone
    } else {
        Need::TenantUser
    };
    if need != Need::Anyone {
        let Some(creds) = gate.caller else {
            return Err(RecoveryError::Unauthorized(need));
        };
        if caller_ref.is_none() {
            // A name that cannot be a user's costs what a wrong password does.
            verify_password(creds.password, None).await?;
            return Err(RecoveryError::Unauthorized(need));
        }
        let caller = check_password(
            ports.store,
            ports.mail,
            &settings,
            caller_user,
            creds.password,
            now,
        )
        .await
        .map_err(|e| match e {
            LoginError::Unexpected(e) => RecoveryError::Unexpected(e),
            LoginError::Busy => RecoveryError::Busy,
            LoginError::Refused(_) => RecoveryError::Unauthorized(need),
        })?;
        if need == Need::Admin && !caller.is_admin() {
            return Err(RecoveryError::Unauthorized(need));
        }
    }
    Ok(Admitted {
        settings,
        user,
        ip_over_limit,
    })
}

/// What a request asks a key for.
pub(crate) enum Ask {
    /// A new recovery, its link built on this callback.
    Start(CallbackUrl),
    /// A fresh key for the recovery under way, if there is one.
    Resend,
}

/// Why no key was issued although the request was fine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NotIssued {
    /// Admin-locked: no recovery starts.
    AdminLocked,
    RateLimited,
    /// Resend: no recovery under way.
    NothingUnderWay,
    /// The user was deleted meanwhile.
    Gone,
}

impl NotIssued {
    pub(crate) fn outcome(self) -> &'static str {
        match self {
            NotIssued::AdminLocked => "admin_locked",
            NotIssued::RateLimited => "rate_limited",
            NotIssued::NothingUnderWay => "no_recovery",
            NotIssued::Gone => "gone",
        }
    }
}

/// A key issued (its reset mail, if any, is in the outbox).
pub(crate) struct Issued {
    pub key: RecoveryKey,
}

/// Issues a new key for `user`, replacing any older one, with a transaction
/// that requires the user to be as read; decided again when it is not. With
/// `mail`, the reset mail goes into the outbox in the same transaction (the
/// request answers without waiting for it); without, the key is for an admin.
pub(crate) async fn issue_key(
    store: &Store,
    mail: Option<&Composer>,
    settings: &TenantSettings,
    mut user: User,
    ask: Ask,
    count_against_limit: bool,
    now: UnixTime,
) -> Result<Result<Issued, NotIssued>, RecoveryError> {
    let r = &settings.recovery;
    for round in 0..MAX_ROUNDS {
        if round > 0 {
            backoff(round).await;
        }
        // An admin lock stops recovery; a failed-login lock does not (a reset is the way back in).
        if user.lock.is_admin_locked() {
            return Ok(Err(NotIssued::AdminLocked));
        }
        let callback = match &ask {
            Ask::Start(cb) => cb.clone(),
            Ask::Resend => match user.live_recovery(now) {
                Some(active) => r.recheck(&active.callback),
                None => return Ok(Err(NotIssued::NothingUnderWay)),
            },
        };
        let window = if count_against_limit {
            match user.recovery_window.admit(now, r.max_requests_per_hour) {
                Some(w) => Some(w),
                None => return Ok(Err(NotIssued::RateLimited)),
            }
        } else {
            None
        };
        let key = RecoveryKey::generate();
        let expires_at = now.plus(r.expiry);
        let reset_mail = mail.map(|m| {
            let link = callback.link(&key);
            let expiry = humanize_duration(r.expiry);
            m.compose(
                settings,
                &user,
                TemplateName::PasswordReset,
                &[(Placeholder::Link, &link), (Placeholder::Expiry, &expiry)],
                now,
                expires_at,
            )
        });
        let plan = IssueKey {
            user: &user,
            key_hash: &key.hash(),
            expires_at,
            callback: callback.as_str(),
            now,
            window,
            mail: reset_mail.as_ref(),
        };
        match store.issue_key(&plan).await? {
            Saved::Done => return Ok(Ok(Issued { key })),
            Saved::Conflict(Some(now_stored)) => user = *now_stored,
            Saved::Conflict(None) => return Ok(Err(NotIssued::Gone)),
        }
    }
    Err(RecoveryError::Busy)
}
