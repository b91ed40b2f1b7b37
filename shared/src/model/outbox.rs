//! Mail on its way out. A mail is decided with the change it reports and
//! written in the same transaction as that change; the mailer sends it after
//! the request has answered. So no answer waits on, or tells anything about,
//! the mail service, and no change is left without its mail or the other way round.

use uuid::Uuid;

use super::domain::{Email, TenantDomain};
use super::templates::{Rendered, TemplateName};
use super::time::UnixTime;

/// Sends a mail gets before it is given up (dead-lettered) for good.
pub const MAX_ATTEMPTS: u32 = 8;

/// A claim older than this is taken to be a mailer that died mid-send; the mail
/// is claimed again (and may go twice: at least once, not exactly once). Longer
/// than the mailer function's timeout (150 s), so a live mailer keeps its claim.
pub const CLAIM_TIMEOUT_SECS: i64 = 180;

/// Mails that report a change live a day if undelivered; a reset mail no
/// longer than its link works.
pub const NOTICE_LIFETIME_SECS: i64 = 86_400;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailStatus {
    Pending,
    /// A mailer is sending it since then.
    Sending {
        since: UnixTime,
    },
    /// Given up: the reason, for `accountctl mail failed`.
    Failed {
        reason: String,
    },
}

/// A rendered mail in the outbox. Never a password; a reset mail holds its link
/// until it is sent (then the record goes) or expires (then TTL removes it).
#[derive(Clone)]
pub struct OutboxMail {
    /// Also the idempotency key: a mail is claimed once by its id.
    pub id: Uuid,
    pub tenant: TenantDomain,
    pub template: TemplateName,
    pub to: Email,
    pub mail: Rendered,
    pub created_at: UnixTime,
    pub expires_at: UnixTime,
    pub attempts: u32,
    pub status: MailStatus,
}

/// Without the bodies: a reset mail's text holds its link.
impl std::fmt::Debug for OutboxMail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutboxMail")
            .field("id", &self.id)
            .field("tenant", &self.tenant)
            .field("template", &self.template)
            .field("attempts", &self.attempts)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

impl OutboxMail {
    pub fn new(
        tenant: TenantDomain,
        template: TemplateName,
        to: Email,
        mail: Rendered,
        now: UnixTime,
        expires_at: UnixTime,
    ) -> Self {
        Self {
            id: Uuid::new_v4(),
            tenant,
            template,
            to,
            mail,
            created_at: now,
            expires_at,
            attempts: 0,
            status: MailStatus::Pending,
        }
    }

    /// Whether a mailer may take it at `now`: waiting, or claimed by one that
    /// has not finished in [`CLAIM_TIMEOUT_SECS`].
    pub fn claimable(&self, now: UnixTime) -> bool {
        match self.status {
            MailStatus::Pending => now < self.expires_at,
            MailStatus::Sending { since } => {
                now.0 >= since.0.saturating_add(CLAIM_TIMEOUT_SECS) && now < self.expires_at
            }
            MailStatus::Failed { .. } => false,
        }
    }
}

/// What a failed send means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendFailure {
    /// Throttled, unreachable, a 5xx: worth trying again later.
    Transient,
    /// Refused for good (the address, the sender identity): trying again changes nothing.
    Permanent,
}

/// What to do with a mail after a failed send at attempt `attempts` (counting this one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterFailure {
    RetryLater,
    GiveUp,
}

/// How long a mail that failed `attempts` times waits before its next
/// delivery: 1 s, 2 s, 4 s … up to 20 s, so the eight attempts span about a
/// minute and a half of an SES outage or throttling before the mail is given
/// up (and alarmed on). Stream retries come at once; the mailer waits this long.
pub fn retry_delay_secs(attempts: u32) -> u64 {
    const CAP: u64 = 20;
    1u64.checked_shl(attempts.saturating_sub(1))
        .unwrap_or(CAP)
        .min(CAP)
}

pub fn after_failure(failure: SendFailure, attempts: u32) -> AfterFailure {
    match failure {
        SendFailure::Permanent => AfterFailure::GiveUp,
        SendFailure::Transient if attempts >= MAX_ATTEMPTS => AfterFailure::GiveUp,
        SendFailure::Transient => AfterFailure::RetryLater,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_and_stop_within_two_minutes() {
        let delays: Vec<u64> = (1..=MAX_ATTEMPTS).map(retry_delay_secs).collect();
        assert_eq!(delays, [1, 2, 4, 8, 16, 20, 20, 20]);
        assert!(delays.iter().sum::<u64>() < 120);
        assert_eq!(retry_delay_secs(0), 1);
        assert_eq!(retry_delay_secs(u32::MAX), 20);
    }

    fn mail(status: MailStatus) -> OutboxMail {
        let mut m = OutboxMail::new(
            TenantDomain::default_tenant(),
            TemplateName::PasswordReset,
            Email::parse("kim@example.com").unwrap(),
            Rendered {
                subject: "s".into(),
                text: "https://x/?confirmation=secret".into(),
                html: "h".into(),
            },
            UnixTime(100),
            UnixTime(1000),
        );
        m.status = status;
        m
    }

    #[test]
    fn a_mail_is_claimed_once_unless_its_claimer_died() {
        assert!(mail(MailStatus::Pending).claimable(UnixTime(101)));
        assert!(
            !mail(MailStatus::Pending).claimable(UnixTime(1000)),
            "expired"
        );
        let sending = mail(MailStatus::Sending {
            since: UnixTime(200),
        });
        assert!(!sending.claimable(UnixTime(200 + CLAIM_TIMEOUT_SECS - 1)));
        assert!(sending.claimable(UnixTime(200 + CLAIM_TIMEOUT_SECS)));
        assert!(!mail(MailStatus::Failed { reason: "x".into() }).claimable(UnixTime(101)));
        assert!(!format!("{:?}", mail(MailStatus::Pending)).contains("secret"));
    }

    #[test]
    fn permanent_refusals_are_given_up_at_once_transient_ones_after_the_last_try() {
        assert_eq!(
            after_failure(SendFailure::Permanent, 1),
            AfterFailure::GiveUp
        );
        assert_eq!(
            after_failure(SendFailure::Transient, 1),
            AfterFailure::RetryLater
        );
        assert_eq!(
            after_failure(SendFailure::Transient, MAX_ATTEMPTS),
            AfterFailure::GiveUp
        );
    }
}
