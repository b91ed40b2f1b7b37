//! Mail: the SES v2 sender of the five notification templates.

use anyhow::Context;
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};
use base64::Engine;

use crate::env::{need, ConfigError};
use crate::model::account::User;
use crate::model::domain::Email;
use crate::model::settings::TenantSettings;
use crate::model::templates::{render, Placeholder, TemplateName};
use crate::outbound::aws::sdk_err;

/// Sender, display name and signature of every mail.
#[derive(Debug, Clone)]
pub struct MailConfig {
    pub from: Email,
    pub sender_name: String,
    pub signature: String,
}

impl MailConfig {
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let from = need(&get, "MAIL_FROM")?;
        Ok(Self {
            from: Email::parse(&from).map_err(|e| ConfigError::new(format!("MAIL_FROM: {e}")))?,
            sender_name: get("MAIL_SENDER_NAME").unwrap_or_else(|| "Account Recovery".into()),
            signature: get("MAIL_SIGNATURE").unwrap_or_default(),
        })
    }

    /// The `From` header: the display name quoted when it is ASCII, as an
    /// RFC 2047 encoded word when it is not (SES refuses raw non-ASCII there).
    pub fn from_header(&self) -> String {
        // Quotes, angle brackets and controls would break the header; they go.
        let name: String = self
            .sender_name
            .chars()
            .filter(|c| !matches!(c, '"' | '<' | '>' | '\\') && !c.is_control())
            .collect();
        if name.is_ascii() {
            format!("\"{name}\" <{}>", self.from)
        } else {
            format!("{} <{}>", encoded_words(&name), self.from)
        }
    }
}

/// RFC 2047 `=?UTF-8?B?...?=` words of at most 75 characters, split between characters.
fn encoded_words(text: &str) -> String {
    let mut words = Vec::new();
    let mut chunk = String::new();
    for c in text.chars() {
        // 45 bytes of UTF-8 are 60 of base64: 72 with the markers.
        if chunk.len() + c.len_utf8() > 45 {
            words.push(std::mem::take(&mut chunk));
        }
        chunk.push(c);
    }
    words.push(chunk);
    words
        .iter()
        .map(|w| {
            let b64 = base64::engine::general_purpose::STANDARD.encode(w.as_bytes());
            format!("=?UTF-8?B?{b64}?=")
        })
        .collect::<Vec<_>>()
        .join(" ")
}

pub struct Mailer {
    ses: aws_sdk_sesv2::Client,
    config: MailConfig,
}

impl Mailer {
    pub fn new(ses: aws_sdk_sesv2::Client, config: MailConfig) -> Self {
        Self { ses, config }
    }

    /// Sends `template` to `user` with their name, tenant and realm filled in;
    /// a failure is logged, not returned: the state change it reports stands.
    pub async fn notify(
        &self,
        settings: &TenantSettings,
        user: &User,
        template: TemplateName,
        vars: &[(Placeholder, &str)],
    ) {
        if let Err(e) = self.send(settings, user, template, vars).await {
            tracing::error!(error = %e, template = template.as_str(), "notice not sent");
        }
    }

    /// Renders `template` (the tenant's version where it set one) for `user`
    /// with `vars`, plus the configured sender and signature, and sends it.
    #[tracing::instrument(skip_all, fields(template = template.as_str()))]
    pub async fn send(
        &self,
        settings: &TenantSettings,
        user: &User,
        template: TemplateName,
        vars: &[(Placeholder, &str)],
    ) -> anyhow::Result<()> {
        let who = &user.user_ref;
        let mut all: Vec<(Placeholder, &str)> = vec![
            (Placeholder::Username, who.username.as_str()),
            (Placeholder::Tenant, who.tenant.as_str()),
            (Placeholder::Realm, who.realm.as_str()),
            (Placeholder::Sender, &self.config.sender_name),
            (Placeholder::Signature, &self.config.signature),
        ];
        all.extend_from_slice(vars);
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
        self.ses
            .send_email()
            .from_email_address(self.config.from_header())
            .destination(
                Destination::builder()
                    .to_addresses(user.email.as_str())
                    .build(),
            )
            .content(EmailContent::builder().simple(message).build())
            .send()
            .await
            .map_err(|e| sdk_err(e, "SES SendEmail"))?;
        tracing::info!("mail sent");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(name: &str) -> MailConfig {
        MailConfig {
            from: Email::parse("no-reply@example.com").unwrap(),
            sender_name: name.into(),
            signature: String::new(),
        }
    }

    #[test]
    fn sender_names_are_quoted_or_encoded() {
        assert_eq!(
            config("Account \"Recovery\" <x>").from_header(),
            "\"Account Recovery x\" <no-reply@example.com>"
        );
        let h = config("Kontowiederherstellung Müller").from_header();
        assert!(
            h.starts_with("=?UTF-8?B?") && h.ends_with("?= <no-reply@example.com>"),
            "{h}"
        );
        let b64 = h
            .trim_start_matches("=?UTF-8?B?")
            .split("?=")
            .next()
            .unwrap();
        let back = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap();
        assert_eq!(
            String::from_utf8(back).unwrap(),
            "Kontowiederherstellung Müller"
        );
        let long = encoded_words(&"ü".repeat(60));
        assert_eq!(long.split(' ').count(), 3);
        assert!(long.split(' ').all(|w| w.len() <= 75));
    }
}
