//! Mail: the five notification templates (built-in defaults; subject, text and
//! HTML) and the SES v2 sender.

mod templates;

use anyhow::Context;
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};

use crate::account::User;
use crate::config::MailConfig;
use crate::domain::Email;
use crate::store::sdk_err;
use crate::tenant::TenantSettings;

pub use templates::{render, MailTemplate, Rendered, TemplateName};

pub struct Mailer {
    ses: aws_sdk_sesv2::Client,
    config: MailConfig,
}

impl Mailer {
    pub fn new(ses: aws_sdk_sesv2::Client, config: MailConfig) -> Self {
        Self { ses, config }
    }

    /// Sends `template` to `user` with their username and tenant filled in; a
    /// failure is logged, not returned: the state change it reports stands.
    pub async fn notify(
        &self,
        settings: &TenantSettings,
        user: &User,
        template: TemplateName,
        vars: &[(&str, &str)],
    ) {
        let mut all = vec![
            ("username", user.user_ref.username.as_str()),
            ("tenant", user.user_ref.tenant.as_str()),
        ];
        all.extend_from_slice(vars);
        if let Err(e) = self.send(settings, &user.email, template, &all).await {
            tracing::error!(error = %e, template = template.as_str(), "notice not sent");
        }
    }

    /// Renders `template` (the tenant's version where it set one) with `vars`,
    /// plus the configured sender and signature, and sends it.
    #[tracing::instrument(skip_all, fields(template = template.as_str()))]
    pub async fn send(
        &self,
        settings: &TenantSettings,
        to: &Email,
        template: TemplateName,
        vars: &[(&str, &str)],
    ) -> anyhow::Result<()> {
        let mut all: Vec<(&str, &str)> = vars.to_vec();
        all.push(("sender", &self.config.sender_name));
        all.push(("signature", &self.config.signature));
        let mail = render(template, settings.templates.get(&template), &all);
        let content = |s: String| Content::builder().data(s).charset("UTF-8").build();
        let message = Message::builder()
            .subject(content(mail.subject).context("subject")?)
            .body(
                Body::builder()
                    .text(content(mail.text).context("text")?)
                    .html(content(mail.html).context("html")?)
                    .build(),
            )
            .build();
        // A display name with quotes or angle brackets would break the header; drop them.
        let name: String = self
            .config
            .sender_name
            .chars()
            .filter(|c| !matches!(c, '"' | '<' | '>' | '\\') && !c.is_control())
            .collect();
        self.ses
            .send_email()
            .from_email_address(format!("\"{name}\" <{}>", self.config.from))
            .destination(Destination::builder().to_addresses(to.as_str()).build())
            .content(EmailContent::builder().simple(message).build())
            .send()
            .await
            .map_err(|e| sdk_err(e, "SES SendEmail"))?;
        tracing::info!("mail sent");
        Ok(())
    }
}
