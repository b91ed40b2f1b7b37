//! The outbox table: mails written in the transaction of the change they
//! report, claimed once by the mailer, deleted when sent (so a reset link
//! lives no longer than its delivery), marked failed with the reason when given up.

use std::collections::HashMap;

use anyhow::{anyhow, Context};
use aws_sdk_dynamodb::types::{AttributeValue, Put, ReturnValue, TransactWriteItem};

use super::base::{conditional, Store, Write};
use super::items::{self, n, s, Item};
use crate::model::domain::{Email, TenantDomain};
use crate::model::outbox::{MailStatus, OutboxMail};
use crate::model::templates::{Rendered, TemplateName};
use crate::model::time::UnixTime;
use crate::outbound::aws::sdk_err;

pub(crate) fn mail_to_item(m: &OutboxMail) -> Item {
    let mut item: Item = HashMap::from([
        ("pk".into(), s(m.id.to_string())),
        ("tenant".into(), s(m.tenant.as_str())),
        ("template".into(), s(m.template.as_str())),
        ("to".into(), s(m.to.as_str())),
        ("subject".into(), s(m.mail.subject.clone())),
        ("text".into(), s(m.mail.text.clone())),
        ("html".into(), s(m.mail.html.clone())),
        ("created_at".into(), n(m.created_at.0)),
        // Removed by TTL once pointless, delivered or not.
        // The expiry is the TTL: TTL deletes it late, so it is checked on every claim too.
        ("ttl".into(), n(m.expires_at.0)),
        ("attempts".into(), n(m.attempts)),
    ]);
    match &m.status {
        MailStatus::Pending => {
            item.insert("status".into(), s("pending"));
        }
        MailStatus::Sending { since } => {
            item.insert("status".into(), s("sending"));
            item.insert("claimed_at".into(), n(since.0));
        }
        MailStatus::Failed { reason } => {
            item.insert("status".into(), s("failed"));
            item.insert("reason".into(), s(reason.clone()));
        }
    }
    item
}

pub(crate) fn mail_from_item(item: &Item) -> anyhow::Result<OutboxMail> {
    let get = |k: &str| -> anyhow::Result<&str> {
        item.get(k)
            .and_then(|v| v.as_s().ok())
            .map(String::as_str)
            .ok_or_else(|| anyhow!("outbox attribute {k} missing"))
    };
    let num = |k: &str| -> anyhow::Result<i64> {
        item.get(k)
            .and_then(|v| v.as_n().ok())
            .ok_or_else(|| anyhow!("outbox attribute {k} missing"))?
            .parse()
            .with_context(|| format!("outbox attribute {k}"))
    };
    let status = match get("status")? {
        "pending" => MailStatus::Pending,
        "sending" => MailStatus::Sending {
            since: UnixTime(num("claimed_at")?),
        },
        "failed" => MailStatus::Failed {
            reason: get("reason").unwrap_or_default().to_string(),
        },
        other => return Err(anyhow!("outbox status {other}")),
    };
    Ok(OutboxMail {
        id: get("pk")?.parse().context("outbox id")?,
        tenant: TenantDomain::parse(get("tenant")?).map_err(|e| anyhow!(e))?,
        template: TemplateName::parse(get("template")?)
            .ok_or_else(|| anyhow!("outbox template"))?,
        to: Email::from_stored(get("to")?.to_string()),
        mail: Rendered {
            subject: get("subject")?.to_string(),
            text: get("text")?.to_string(),
            html: get("html")?.to_string(),
        },
        created_at: UnixTime(num("created_at")?),
        expires_at: UnixTime(num("ttl")?),
        attempts: items::count(item, "attempts")?,
        status,
    })
}

impl Store {
    /// The outbox write that goes into the transaction of the change a mail reports.
    pub(crate) fn put_mail(&self, mail: &OutboxMail) -> anyhow::Result<TransactWriteItem> {
        Ok(TransactWriteItem::builder()
            .put(
                Put::builder()
                    .table_name(&self.tables().outbox)
                    .set_item(Some(mail_to_item(mail)))
                    .condition_expression("attribute_not_exists(pk)")
                    .build()
                    .context("put mail")?,
            )
            .build())
    }

    /// Takes a mail for sending, if it is still waiting (or its claimer died):
    /// the mail as claimed, or `None` when another mailer has it, it was sent
    /// (and deleted), given up, or expired.
    pub async fn claim_mail(&self, id: &str, now: UnixTime) -> anyhow::Result<Option<OutboxMail>> {
        let res = self
            .client()
            .update_item()
            .table_name(&self.tables().outbox)
            .key("pk", s(id))
            .update_expression("SET #status = :sending, claimed_at = :now REMOVE resent_at")
            .condition_expression(
                "attribute_exists(pk) AND #ttl > :now AND (#status = :pending \
                 OR (#status = :sending AND claimed_at <= :stale))",
            )
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#ttl", "ttl")
            .expression_attribute_values(":sending", s("sending"))
            .expression_attribute_values(":pending", s("pending"))
            .expression_attribute_values(":now", n(now.0))
            .expression_attribute_values(
                ":stale",
                n(now.0 - crate::model::outbox::CLAIM_TIMEOUT_SECS),
            )
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        conditional(res, "UpdateItem claim mail")?
            .map(|out| mail_from_item(&out.attributes.unwrap_or_default()))
            .transpose()
    }

    /// A sent mail goes, and its link with it.
    pub async fn mail_sent(&self, mail: &OutboxMail) -> anyhow::Result<Write> {
        let res = self
            .client()
            .delete_item()
            .table_name(&self.tables().outbox)
            .key("pk", s(mail.id.to_string()))
            .condition_expression("#status = :sending")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":sending", s("sending"))
            .send()
            .await;
        Ok(conditional(res, "DeleteItem sent mail")?.map_or(Write::Conflict, |_| Write::Done))
    }

    /// A failed send: back to waiting (`give_up = false`, the next try comes
    /// with the next delivery) or given up with `reason`.
    pub async fn mail_failed(
        &self,
        mail: &OutboxMail,
        reason: &str,
        give_up: bool,
    ) -> anyhow::Result<()> {
        let status = if give_up { "failed" } else { "pending" };
        self.client()
            .update_item()
            .table_name(&self.tables().outbox)
            .key("pk", s(mail.id.to_string()))
            .update_expression("SET #status = :status, reason = :reason, attempts = :attempts")
            .condition_expression("#status = :sending")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":status", s(status))
            .expression_attribute_values(":sending", s("sending"))
            .expression_attribute_values(":reason", s(reason))
            .expression_attribute_values(":attempts", n(mail.attempts.saturating_add(1)))
            .send()
            .await
            .map_err(|e| sdk_err(e, "UpdateItem failed mail"))?;
        Ok(())
    }

    /// Every mail in the outbox that matches `filter` (an operator's or a test's scan).
    pub async fn outbox(
        &self,
        filter: impl Fn(&OutboxMail) -> bool,
    ) -> anyhow::Result<Vec<OutboxMail>> {
        let mut found = Vec::new();
        let mut start: Option<HashMap<String, AttributeValue>> = None;
        loop {
            let out = self
                .client()
                .scan()
                .table_name(&self.tables().outbox)
                .consistent_read(true)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| sdk_err(e, "Scan outbox"))?;
            for item in out.items.unwrap_or_default() {
                let mail = mail_from_item(&item)?;
                if filter(&mail) {
                    found.push(mail);
                }
            }
            match out.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok(found),
            }
        }
    }

    /// Puts a given-up mail back in line: the stream brings the change to the
    /// mailer, which takes a pending mail marked `resent_at` like a new one.
    /// `Conflict` when there is no such given-up mail or it has expired.
    /// Puts a given-up mail back in line. The mail as it was (for the audit
    /// record's tenant), or `None` when no given-up mail has that id or its
    /// link has expired.
    pub async fn resend_mail(&self, id: &str, now: UnixTime) -> anyhow::Result<Option<OutboxMail>> {
        let res = self
            .client()
            .update_item()
            .table_name(&self.tables().outbox)
            .key("pk", s(id))
            .update_expression(
                "SET #status = :pending, attempts = :zero, resent_at = :now REMOVE reason",
            )
            // A reset mail past its link's expiry stays given up: its link is dead.
            .condition_expression("#status = :failed AND #ttl > :now")
            .expression_attribute_names("#ttl", "ttl")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":pending", s("pending"))
            .expression_attribute_values(":failed", s("failed"))
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":now", n(now.0))
            .return_values(ReturnValue::AllOld)
            .send()
            .await;
        conditional(res, "UpdateItem resend mail")?
            .and_then(|out| out.attributes)
            .map(|item| mail_from_item(&item))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mail_round_trips_through_its_item() {
        let mut m = OutboxMail::new(
            TenantDomain::default_tenant(),
            TemplateName::AccountLock,
            Email::parse("kim@example.com").unwrap(),
            Rendered {
                subject: "s".into(),
                text: "t".into(),
                html: "h".into(),
            },
            UnixTime(1),
            UnixTime(2),
        );
        m.status = MailStatus::Failed {
            reason: "refused".into(),
        };
        let back = mail_from_item(&mail_to_item(&m)).unwrap();
        assert_eq!(
            (back.id, back.status.clone(), back.mail.text.as_str()),
            (m.id, m.status, "t")
        );
    }
}
