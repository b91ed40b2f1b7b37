//! The SES v2 sender: what the mailer does with a mail from the outbox.

use aws_sdk_sesv2::operation::send_email::SendEmailError;
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};

use super::compose::MailConfig;
use crate::model::outbox::{OutboxMail, SendFailure};
use crate::outbound::aws::sdk_err;

pub struct Mailer {
    ses: aws_sdk_sesv2::Client,
    config: MailConfig,
}

impl Mailer {
    pub fn new(ses: aws_sdk_sesv2::Client, config: MailConfig) -> Self {
        Self { ses, config }
    }

    /// Sends one mail of the outbox; a failure says whether trying again can help.
    pub async fn send(&self, mail: &OutboxMail) -> Result<(), (SendFailure, anyhow::Error)> {
        let content = |s: &str| {
            Content::builder()
                .data(s)
                .charset("UTF-8")
                .build()
                .map_err(|e| (SendFailure::Permanent, anyhow::anyhow!("mail content: {e}")))
        };
        let message = Message::builder()
            .subject(content(&mail.mail.subject)?)
            .body(
                Body::builder()
                    .text(content(&mail.mail.text)?)
                    .html(content(&mail.mail.html)?)
                    .build(),
            )
            .build();
        self.ses
            .send_email()
            .from_email_address(self.config.from_header())
            .set_configuration_set_name(self.config.configuration_set.clone())
            .destination(
                Destination::builder()
                    .to_addresses(mail.to.as_str())
                    .build(),
            )
            .content(EmailContent::builder().simple(message).build())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| {
                // Refusals of the address or the sender identity do not change with
                // time; the rest (throttling, a paused account, the network) may.
                let permanent = matches!(
                    e.as_service_error(),
                    Some(
                        SendEmailError::MessageRejected(_)
                            | SendEmailError::MailFromDomainNotVerifiedException(_)
                            | SendEmailError::BadRequestException(_)
                            | SendEmailError::NotFoundException(_)
                    )
                );
                let kind = if permanent {
                    SendFailure::Permanent
                } else {
                    SendFailure::Transient
                };
                (kind, sdk_err(e, "SES SendEmail"))
            })
    }
}
