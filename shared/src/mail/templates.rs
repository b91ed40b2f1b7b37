//! Mail templates: built-in defaults, which a tenant may replace one by one.
//! `{{name}}` placeholders are replaced; values are HTML-escaped in the HTML
//! part (SES and its emulator do not escape).

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TemplateName {
    PasswordReset,
    PasswordResetSuccess,
    AccountLock,
    AccountUnlock,
    AccountLockFailedAttempt,
}

impl TemplateName {
    pub const ALL: [TemplateName; 5] = [
        TemplateName::PasswordReset,
        TemplateName::PasswordResetSuccess,
        TemplateName::AccountLock,
        TemplateName::AccountUnlock,
        TemplateName::AccountLockFailedAttempt,
    ];

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TemplateName::PasswordReset => "PasswordReset",
            TemplateName::PasswordResetSuccess => "PasswordResetSuccess",
            TemplateName::AccountLock => "AccountLock",
            TemplateName::AccountUnlock => "AccountUnlock",
            TemplateName::AccountLockFailedAttempt => "AccountLockFailedAttempt",
        }
    }
}

pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

struct Template {
    subject: &'static str,
    text: &'static str,
    html: &'static str,
}

/// A tenant's own version of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailTemplate {
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl MailTemplate {
    pub const MAX_SUBJECT_CHARS: usize = 200;
    pub const MAX_BODY_BYTES: usize = 32 * 1024;

    /// Refuses what SES or a reader could not use, naming the part.
    pub fn validate(&self) -> Result<(), String> {
        if self.subject.trim().is_empty()
            || self.text.trim().is_empty()
            || self.html.trim().is_empty()
        {
            return Err("subject, text and HTML must all be given".into());
        }
        if self.subject.chars().count() > Self::MAX_SUBJECT_CHARS
            || self.subject.contains(['\r', '\n'])
        {
            return Err(format!(
                "the subject must be one line of at most {} characters",
                Self::MAX_SUBJECT_CHARS
            ));
        }
        if self.text.len() > Self::MAX_BODY_BYTES || self.html.len() > Self::MAX_BODY_BYTES {
            return Err(format!(
                "text and HTML must each be at most {} bytes",
                Self::MAX_BODY_BYTES
            ));
        }
        Ok(())
    }

    /// The built-in version, to start a tenant's own from.
    pub fn builtin(name: TemplateName) -> Self {
        let t = builtin(name);
        Self {
            subject: t.subject.into(),
            text: t.text.into(),
            html: t.html.into(),
        }
    }
}

fn builtin(name: TemplateName) -> Template {
    match name {
        TemplateName::PasswordReset => Template {
            subject: "Password reset for {{username}}",
            text: "Hi {{username}},\n\nWe received a request to reset the password of your account \
                   ({{tenant}}).\nOpen this link to choose a new password:\n\n{{link}}\n\n\
                   The link works once and expires in {{expiry}}. If you did not ask for this, \
                   ignore this mail: your password stays as it is.\n\n{{signature}}\n",
            html: "<p>Hi {{username}},</p><p>We received a request to reset the password of your \
                   account ({{tenant}}).</p><p><a href=\"{{link}}\">Choose a new password</a></p>\
                   <p>Or paste this link into your browser:<br>{{link}}</p><p>The link works once \
                   and expires in {{expiry}}. If you did not ask for this, ignore this mail: your \
                   password stays as it is.</p><p>{{signature}}</p>",
        },
        TemplateName::PasswordResetSuccess => Template {
            subject: "Your password was changed",
            text: "Hi {{username}},\n\nThe password of your account ({{tenant}}) was changed at {{time}}.\n\
                   If this was not you, contact your administrator at once.\n\n{{signature}}\n",
            html: "<p>Hi {{username}},</p><p>The password of your account ({{tenant}}) was changed \
                   at {{time}}.</p><p>If this was not you, contact your administrator at once.</p>\
                   <p>{{signature}}</p>",
        },
        TemplateName::AccountLock => Template {
            subject: "Your account was locked",
            text: "Hi {{username}},\n\nAn administrator locked your account ({{tenant}}).\n\
                   Reason: {{reason}}\n\n{{signature}}\n",
            html: "<p>Hi {{username}},</p><p>An administrator locked your account ({{tenant}}).</p>\
                   <p>Reason: {{reason}}</p><p>{{signature}}</p>",
        },
        TemplateName::AccountUnlock => Template {
            subject: "Your account was unlocked",
            text: "Hi {{username}},\n\nYour account ({{tenant}}) is unlocked; you can sign in again.\n\n\
                   {{signature}}\n",
            html: "<p>Hi {{username}},</p><p>Your account ({{tenant}}) is unlocked; you can sign in \
                   again.</p><p>{{signature}}</p>",
        },
        TemplateName::AccountLockFailedAttempt => Template {
            subject: "Your account was locked after failed sign-ins",
            text: "Hi {{username}},\n\nYour account ({{tenant}}) was locked after too many failed \
                   sign-in attempts. {{unlock}}\nYou can also reset your password to get back in.\n\n\
                   {{signature}}\n",
            html: "<p>Hi {{username}},</p><p>Your account ({{tenant}}) was locked after too many \
                   failed sign-in attempts. {{unlock}}</p><p>You can also reset your password to \
                   get back in.</p><p>{{signature}}</p>",
        },
    }
}

fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn fill(template: &str, vars: &[(&str, &str)], escape: bool) -> String {
    let mut out = String::with_capacity(template.len() + 128);
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find("}}") {
            Some(end) => {
                let name = after[..end].trim();
                let value = vars
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map_or("", |(_, v)| *v);
                if escape {
                    out.push_str(&escape_html(value));
                } else {
                    out.push_str(value);
                }
                rest = &after[end + 2..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// Renders the tenant's own template where it has one, else the built-in one.
pub fn render(
    name: TemplateName,
    custom: Option<&MailTemplate>,
    vars: &[(&str, &str)],
) -> Rendered {
    let t = builtin(name);
    let (subject, text, html) = match custom {
        Some(c) => (c.subject.as_str(), c.text.as_str(), c.html.as_str()),
        None => (t.subject, t.text, t.html),
    };
    Rendered {
        subject: fill(subject, vars, false).replace(['\r', '\n'], " "),
        text: fill(text, vars, false),
        html: fill(html, vars, true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reset_mail_carries_the_link_in_both_parts() {
        let link = "https://localhost:9443/r?confirmation=abc&x=1";
        let m = render(
            TemplateName::PasswordReset,
            None,
            &[("username", "kim"), ("link", link), ("expiry", "15m")],
        );
        assert_eq!(m.subject, "Password reset for kim");
        assert!(m.text.contains(link));
        assert!(m
            .html
            .contains("https://localhost:9443/r?confirmation=abc&amp;x=1"));
        assert!(m.text.contains("15m"));
    }

    #[test]
    fn html_values_are_escaped_and_subjects_are_one_line() {
        let m = render(
            TemplateName::AccountLock,
            None,
            &[("username", "<b>x</b>\r\nBcc: y"), ("reason", "a&b")],
        );
        assert!(m.html.contains("&lt;b&gt;x&lt;/b&gt;"));
        assert!(m.html.contains("a&amp;b"));
        let m = render(
            TemplateName::PasswordReset,
            None,
            &[("username", "kim\r\nBcc: evil@x")],
        );
        assert!(!m.subject.contains('\n'));
    }

    #[test]
    fn a_tenants_template_replaces_the_builtin_one() {
        let custom = MailTemplate {
            subject: "Reset at {{tenant}}".into(),
            text: "Go to {{link}}".into(),
            html: "<a href=\"{{link}}\">reset</a>".into(),
        };
        let m = render(
            TemplateName::PasswordReset,
            Some(&custom),
            &[("tenant", "acme"), ("link", "https://x/?a=1&b=2")],
        );
        assert_eq!(m.subject, "Reset at acme");
        assert_eq!(m.text, "Go to https://x/?a=1&b=2");
        assert_eq!(m.html, "<a href=\"https://x/?a=1&amp;b=2\">reset</a>");
        assert!(custom.validate().is_ok());
        assert!(MailTemplate {
            subject: "a\nb".into(),
            ..custom.clone()
        }
        .validate()
        .is_err());
        assert!(MailTemplate {
            text: " ".into(),
            ..custom.clone()
        }
        .validate()
        .is_err());
        assert_eq!(
            TemplateName::parse("AccountUnlock"),
            Some(TemplateName::AccountUnlock)
        );
        assert_eq!(TemplateName::parse("Nope"), None);
    }

    #[test]
    fn unknown_placeholders_render_empty() {
        assert_eq!(fill("a{{nope}}b{{", &[], false), "ab{{");
    }
}
