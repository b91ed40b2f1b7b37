//! The mailer's use case: one mail of the outbox, claimed once by its id (the
//! idempotency key), sent through SES with a few quick retries, deleted when
//! sent, marked failed with the reason when SES refuses it for good or after
//! the last try. At least once; twice only if a mailer dies between SES's
//! answer and the delete (the claim then times out and another takes it).

use std::time::Duration;

use crate::mail::Mailer;
use crate::model::outbox::{after_failure, AfterFailure, SendFailure};
use crate::model::time::UnixTime;
use crate::store::Store;

/// What became of one mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivered {
    Sent,
    /// Not ours to send: another mailer has it, it was sent, given up or expired.
    Skipped,
    /// Given up for good (dead-lettered), with the reason.
    GaveUp(String),
    /// Still failing after this delivery's tries (`attempts` so far): the
    /// stream brings it again.
    RetryLater {
        attempts: u32,
        reason: String,
    },
}

/// Quick tries within one delivery, for throttling: then the stream retries.
const TRIES: u32 = 3;

pub async fn deliver(
    store: &Store,
    mailer: &Mailer,
    id: &str,
    now: impl Fn() -> UnixTime,
) -> anyhow::Result<Delivered> {
    let Some(mail) = store.claim_mail(id, now()).await? else {
        return Ok(Delivered::Skipped);
    };
    let mut last = None;
    for attempt in 0..TRIES {
        if attempt > 0 {
            // 0.2–0.4 s, then 0.8–1.6 s: SES's sending-rate limit is per second.
            let base = 200u64 << (2 * (attempt - 1));
            let jitter = uuid::Uuid::new_v4().as_u128() as u64 % base;
            tokio::time::sleep(Duration::from_millis(base + jitter)).await;
        }
        match mailer.send(&mail).await {
            Ok(()) => {
                store.mail_sent(&mail).await?;
                tracing::info!(
                    outcome = "sent",
                    mail_id = %mail.id,
                    template = mail.template.as_str(),
                    tenant = %mail.tenant,
                    waited_s = now().0 - mail.created_at.0,
                    "mail sent"
                );
                return Ok(Delivered::Sent);
            }
            Err((SendFailure::Permanent, e)) => {
                last = Some((SendFailure::Permanent, format!("{e:#}")));
                break;
            }
            Err((kind, e)) => last = Some((kind, format!("{e:#}"))),
        }
    }
    let (kind, reason) = last.unwrap_or((SendFailure::Transient, "no try".into()));
    let attempts = mail.attempts.saturating_add(1);
    let give_up = after_failure(kind, attempts) == AfterFailure::GiveUp;
    store.mail_failed(&mail, &reason, give_up).await?;
    if give_up {
        tracing::error!(
            outcome = if kind == SendFailure::Permanent { "refused" } else { "dead_lettered" },
            mail_id = %mail.id,
            template = mail.template.as_str(),
            tenant = %mail.tenant,
            attempts,
            reason = reason.as_str(),
            "mail given up"
        );
        Ok(Delivered::GaveUp(reason))
    } else {
        tracing::warn!(
            outcome = "retry_later",
            mail_id = %mail.id,
            attempts,
            reason = reason.as_str(),
            "mail not sent yet"
        );
        Ok(Delivered::RetryLater { attempts, reason })
    }
}
