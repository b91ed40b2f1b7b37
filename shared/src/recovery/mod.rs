//! Password recovery by email: start (recover-password), resend (resend-code)
//! and finish (set-password).

pub mod captcha;
pub mod key;
mod recover;
mod resend;
mod set_password;

pub use recover::{recover_password, RecoverError, RecoverRequest, Recovered};
pub use resend::{resend_code, ResendError, ResendRequest};
pub use set_password::{set_password, PasswordSet, SetPasswordError, SetPasswordRequest};

use std::net::IpAddr;

use crate::account::User;
use crate::app::App;
use crate::auth::{authenticate, Credentials};
use crate::domain::UserRef;
use crate::mail::TemplateName;
use crate::store::{IssueKey, Write};
use crate::tenant::TenantSettings;
use crate::time::{humanize_duration, UnixTime};
use captcha::CaptchaFailure;
use key::{reset_link, RecoveryKey};

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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    Disabled,
    Captcha(CaptchaFailure),
    Unauthorized,
}

/// Loads the tenant's settings and the user while counting the request against
/// its source IP (one round trip each, concurrently), then checks, in order:
/// recovery enabled, CAPTCHA, caller.
pub(crate) async fn admit(
    app: &App,
    gate: Gate<'_>,
    now: UnixTime,
) -> anyhow::Result<Result<Admitted, Refused>> {
    let tenant = &gate.user.tenant;
    let count = async {
        match gate.source_ip {
            Some(ip) => app.store.count_ip_request(tenant, ip, now).await.map(Some),
            None => Ok(None),
        }
    };
    let (loaded, ip_count) = tokio::join!(
        app.store
            .load(tenant, Some(gate.user), &app.config.defaults),
        count
    );
    let (settings, user) = loaded?;
    let ip_count = ip_count?;
    if !settings.recovery.enabled {
        return Ok(Err(Refused::Disabled));
    }
    if let Some(secret) = &settings.recovery.captcha {
        if let Err(f) = app
            .captcha
            .check(secret, gate.captcha_token.as_deref(), gate.source_ip)
            .await
        {
            return Ok(Err(Refused::Captcha(f)));
        }
    }
    let need = need_for(&settings, gate.admin_only);
    if !caller_allowed(app, tenant, need, gate.caller, now).await? {
        return Ok(Err(Refused::Unauthorized));
    }
    let max = settings.recovery.max_requests_per_ip_per_hour;
    let ip_over_limit = max > 0 && ip_count.is_some_and(|n| n > max);
    Ok(Ok(Admitted {
        settings,
        user,
        ip_over_limit,
    }))
}

/// Who may start a recovery, by the tenant's settings and the request.
pub(crate) enum Need {
    Anyone,
    TenantUser,
    Admin,
}

/// Whether `caller` satisfies `need`; costs one argon2 verification when credentials are checked.
pub(crate) async fn caller_allowed(
    app: &App,
    settings_tenant: &crate::domain::TenantDomain,
    need: Need,
    caller: Option<Credentials>,
    now: UnixTime,
) -> anyhow::Result<bool> {
    if matches!(need, Need::Anyone) {
        return Ok(true);
    }
    let Some(creds) = caller else {
        return Ok(false);
    };
    let user = authenticate(app, settings_tenant, creds, now).await?;
    Ok(match need {
        Need::Admin => user.is_some_and(|u| u.is_admin()),
        _ => user.is_some(),
    })
}

pub(crate) fn need_for(settings: &TenantSettings, admin_only: bool) -> Need {
    if admin_only {
        Need::Admin
    } else if settings.anonymous_access {
        Need::Anyone
    } else {
        Need::TenantUser
    }
}

/// Why no key was issued although the request was fine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NotIssued {
    RateLimited,
    /// Another request changed the account first (a concurrent recovery, an admin lock).
    Raced,
}

/// Issues a new key for `user`, replacing any older one, in one transaction.
pub(crate) async fn issue_key(
    app: &App,
    settings: &TenantSettings,
    user: &User,
    callback: &str,
    count_against_limit: bool,
    now: UnixTime,
) -> anyhow::Result<Result<RecoveryKey, NotIssued>> {
    let max = settings.recovery.max_requests_per_hour;
    if count_against_limit && !user.recovery_window.allows(now, max) {
        return Ok(Err(NotIssued::RateLimited));
    }
    let key = RecoveryKey::generate();
    let plan = IssueKey {
        user,
        key_hash: &key.hash(),
        expires_at: now.plus(settings.recovery.expiry),
        callback,
        now,
        rate_limit: count_against_limit.then_some(max),
    };
    Ok(match app.store.issue_key(&plan).await? {
        Write::Done => Ok(key),
        Write::Conflict => Err(NotIssued::Raced),
    })
}

/// Mails the reset link. If the mail cannot be sent the key is taken back, so
/// no stored key is left that its owner never received.
pub(crate) async fn send_reset_mail(
    app: &App,
    settings: &TenantSettings,
    user: &User,
    key: &RecoveryKey,
    callback: &str,
) -> anyhow::Result<()> {
    let link = reset_link(callback, key);
    let expiry = humanize_duration(settings.recovery.expiry);
    let sent = app
        .mailer
        .send(
            settings,
            &user.email,
            TemplateName::PasswordReset,
            &[
                ("username", user.user_ref.username.as_str()),
                ("tenant", user.user_ref.tenant.as_str()),
                ("link", &link),
                ("expiry", &expiry),
            ],
        )
        .await;
    if let Err(e) = sent {
        if let Err(revoke) = app.store.revoke_key(&user.user_ref, &key.hash()).await {
            tracing::error!(error = %revoke, "could not revoke an undelivered key; it expires by itself");
        }
        return Err(e);
    }
    Ok(())
}
