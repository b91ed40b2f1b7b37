//! Mails composed where the change they report is decided: the tenant's
//! template (or the built-in one) rendered for the user, with the configured
//! sender name and signature, ready for the outbox.

use base64::Engine;

use crate::env::{need, ConfigError};
use crate::model::account::User;
use crate::model::domain::Email;
use crate::model::outbox::OutboxMail;
use crate::model::settings::TenantSettings;
use crate::model::templates::{render, Placeholder, TemplateName};
use crate::model::time::UnixTime;

/// Sender, display name and signature of every mail.
#[derive(Debug, Clone)]
pub struct MailConfig {
    pub from: Email,
    pub sender_name: String,
    pub signature: String,
    /// SES configuration set every mail is sent with (`MAIL_CONFIGURATION_SET`),
    /// through which SES reports bounces and complaints; none when unset.
    pub configuration_set: Option<String>,
}

impl MailConfig {
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let from = need(&get, "MAIL_FROM")?;
        Ok(Self {
            from: Email::parse(&from).map_err(|e| ConfigError::new(format!("MAIL_FROM: {e}")))?,
            sender_name: get("MAIL_SENDER_NAME").unwrap_or_else(|| "Account Recovery".into()),
            signature: get("MAIL_SIGNATURE").unwrap_or_default(),
            configuration_set: get("MAIL_CONFIGURATION_SET").filter(|v| !v.trim().is_empty()),
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

/// Renders mails for the outbox.
#[derive(Debug, Clone)]
pub struct Composer {
    config: MailConfig,
}

impl Composer {
    pub fn new(config: MailConfig) -> Self {
        Self { config }
    }

    /// `template` (the tenant's version where it set one) for `user`, with their
    /// name, tenant and realm, the sender and the signature filled in, plus
    /// `vars`; pointless after `expires_at` (TTL removes it then).
    pub fn compose(
        &self,
        settings: &TenantSettings,
        user: &User,
        template: TemplateName,
        vars: &[(Placeholder, &str)],
        now: UnixTime,
        expires_at: UnixTime,
    ) -> OutboxMail {
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
        OutboxMail::new(
            who.tenant.clone(),
            template,
            user.email.clone(),
            mail,
            now,
            expires_at,
        )
    }

    /// A notice of a change at `now`: good for a day.
    pub fn notice(
        &self,
        settings: &TenantSettings,
        user: &User,
        template: TemplateName,
        vars: &[(Placeholder, &str)],
        now: UnixTime,
    ) -> OutboxMail {
        let until = UnixTime(
            now.0
                .saturating_add(crate::model::outbox::NOTICE_LIFETIME_SECS),
        );
        self.compose(settings, user, template, vars, now, until)
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
            configuration_set: None,
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
