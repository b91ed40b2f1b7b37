//! resend-code: mail a fresh key for a recovery under way; older keys stop working.

use std::net::IpAddr;

use super::gate::{admit, issue_key, Admitted, Ask, Gate, NotIssued, RecoveryError, RecoveryPorts};
use crate::model::domain::{Credentials, UserRef};
use crate::model::time::UnixTime;

#[derive(Debug)]
pub struct ResendRequest {
    pub user: UserRef,
    pub caller: Option<Credentials>,
    pub captcha_token: Option<String>,
    pub source_ip: Option<IpAddr>,
}

/// `Ok(())` is the one answer for "sent", "nothing under way" and "unknown user".
#[tracing::instrument(skip_all, fields(tenant = %req.user.tenant))]
pub async fn resend_code(
    ports: RecoveryPorts<'_>,
    req: ResendRequest,
    now: UnixTime,
) -> Result<(), RecoveryError> {
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
    } = admit(ports, gate, now).await?;
    if ip_over_limit {
        tracing::info!(outcome = "ip_rate_limited", "nothing resent");
        return Ok(());
    }
    let Some(user) = user else {
        tracing::info!(outcome = "unknown_user", "nothing resent");
        return if settings.recovery.notify_user_existence {
            Err(RecoveryError::UnknownUser)
        } else {
            Ok(())
        };
    };
    // The stored callback is checked again against today's regex (else the default).
    let resend = issue_key(
        ports.store,
        Some(ports.mail),
        &settings,
        user,
        Ask::Resend,
        true,
        now,
    );
    match resend.await? {
        Ok(_) => {}
        Err(NotIssued::AdminLocked) if settings.recovery.notify_account_status => {
            tracing::info!(outcome = "admin_locked", "nothing resent");
            return Err(RecoveryError::AccountLocked);
        }
        Err(why) => {
            tracing::info!(outcome = why.outcome(), "nothing resent");
            return Ok(());
        }
    };
    tracing::info!(outcome = "mailed", "key resent; its mail is in the outbox");
    Ok(())
}
