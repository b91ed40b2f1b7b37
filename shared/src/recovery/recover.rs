//! recover-password: start a recovery and mail (or, for an admin, return) a key.

use std::net::IpAddr;

use super::gate::{admit, issue_key, Admitted, Ask, Gate, NotIssued, RecoveryError, RecoveryPorts};
use crate::model::domain::{Credentials, UserRef};
use crate::model::key::RecoveryKey;
use crate::model::time::UnixTime;

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

#[tracing::instrument(skip_all, fields(tenant = %req.user.tenant, notify = req.notify))]
pub async fn recover_password(
    ports: RecoveryPorts<'_>,
    req: RecoverRequest,
    now: UnixTime,
) -> Result<Recovered, RecoveryError> {
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
    } = admit(ports, gate, now).await?;
    let callback = settings
        .recovery
        .callback(req.callback.as_deref())
        .map_err(RecoveryError::InvalidCallback)?;
    if ip_over_limit && req.notify {
        tracing::info!(outcome = "ip_rate_limited", "no key issued");
        return Ok(Recovered::Accepted);
    }
    let Some(user) = user else {
        tracing::info!(outcome = "unknown_user", "no key issued");
        return if settings.recovery.notify_user_existence {
            Err(RecoveryError::UnknownUser)
        } else {
            Ok(Recovered::Accepted)
        };
    };
    // With notify=false the key goes to the admin, not into a mail.
    let mail = req.notify.then_some(ports.mail);
    let issued = match issue_key(
        ports.store,
        mail,
        &settings,
        user,
        Ask::Start(callback),
        req.notify,
        now,
    )
    .await?
    {
        Ok(issued) => issued,
        Err(NotIssued::AdminLocked) if settings.recovery.notify_account_status => {
            tracing::info!(outcome = "admin_locked", "no key issued");
            return Err(RecoveryError::AccountLocked);
        }
        Err(why) => {
            tracing::info!(outcome = why.outcome(), "no key issued");
            return Ok(Recovered::Accepted);
        }
    };
    if !req.notify {
        tracing::info!(outcome = "key_returned", "key issued to an admin");
        return Ok(Recovered::Key(issued.key));
    }
    tracing::info!(outcome = "mailed", "key issued; its mail is in the outbox");
    Ok(Recovered::Accepted)
}
