//! Mail templates: built-in defaults, which a tenant may replace one by one.
//! `{{name}}` placeholders are replaced; values are HTML-escaped in the HTML
//! part (SES and its emulator do not escape). A template may name only the
//! placeholders its mail fills (WSO2's names for the same values are aliases),
//! and a reset mail must carry its link, so no tenant template can mail a reset
//! message without one or with a hole where a value was meant to be.

/// A value a mail can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Placeholder {
    Username,
    Tenant,
    Realm,
    Link,
    Expiry,
    Time,
    Reason,
    Unlock,
    Sender,
    Signature,
}

impl Placeholder {
    /// Our name, then WSO2's names for the same value.
    const NAMES: &'static [(Placeholder, &'static [&'static str])] = &[
        (Placeholder::Username, &["username", "user-name"]),
        (Placeholder::Tenant, &["tenant", "tenant-domain"]),
        (
            Placeholder::Realm,
            &["realm", "userstore-domain", "user-store-domain"],
        ),
        (Placeholder::Link, &["link"]),
        (Placeholder::Expiry, &["expiry"]),
        (Placeholder::Time, &["time"]),
        (Placeholder::Reason, &["reason", "lock-reason"]),
        (Placeholder::Unlock, &["unlock"]),
        (Placeholder::Sender, &["sender"]),
        (Placeholder::Signature, &["signature"]),
    ];

    pub fn parse(name: &str) -> Option<Self> {
        Self::NAMES
            .iter()
            .find(|(_, names)| names.contains(&name))
            .map(|(p, _)| *p)
    }

    pub fn name(self) -> &'static str {
        Self::NAMES
            .iter()
            .find(|(p, _)| *p == self)
            .map_or("", |(_, names)| names[0])
    }
}

/// Every mail fills these.
const COMMON: &[Placeholder] = &[
    Placeholder::Username,
    Placeholder::Tenant,
    Placeholder::Realm,
    Placeholder::Sender,
    Placeholder::Signature,
];

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

    /// The placeholders this mail fills, beyond the common ones.
    pub fn placeholders(self) -> &'static [Placeholder] {
        match self {
            TemplateName::PasswordReset => &[Placeholder::Link, Placeholder::Expiry],
            TemplateName::PasswordResetSuccess => &[Placeholder::Time],
            TemplateName::AccountLock => &[Placeholder::Reason],
            TemplateName::AccountUnlock => &[],
            TemplateName::AccountLockFailedAttempt => &[Placeholder::Unlock],
        }
    }

    pub fn fills(self, p: Placeholder) -> bool {
        COMMON.contains(&p) || self.placeholders().contains(&p)
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

#[derive(Clone, PartialEq, Eq)]
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

    /// Refuses what SES or a reader could not use, naming the part or the placeholder.
    pub fn validate(&self, name: TemplateName) -> Result<(), String> {
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
        for (part, text) in [
            ("subject", &self.subject),
            ("text", &self.text),
            ("html", &self.html),
        ] {
            for found in placeholders(text) {
                match Placeholder::parse(found) {
                    Some(p) if name.fills(p) => {}
                    _ => return Err(unknown_placeholder(name, part, found)),
                }
            }
        }
        if name.placeholders().contains(&Placeholder::Link) {
            for (part, text) in [("text", &self.text), ("html", &self.html)] {
                if !placeholders(text).any(|p| Placeholder::parse(p) == Some(Placeholder::Link)) {
                    return Err(format!(
                        "the {part} part must carry the reset link ({{{{link}}}})"
                    ));
                }
            }
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
                   account ({{tenant}}).</p><p>Open this link to choose a new password:</p>\
                   <p><a href=\"{{link}}\">{{link}}</a></p><p>The link works once \
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

/// The placeholder names in `text`, trimmed, in order.
fn placeholders(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        let start = rest.find("{{")?;
        let after = &rest[start + 2..];
        let end = after.find("}}")?;
        rest = &after[end + 2..];
        Some(after[..end].trim())
    })
}

fn unknown_placeholder(name: TemplateName, part: &str, found: &str) -> String {
    let mut known: Vec<&str> = Placeholder::NAMES
        .iter()
        .filter(|(p, _)| name.fills(*p))
        .map(|(p, _)| p.name())
        .collect();
    known.sort_unstable();
    let hint = if found == "confirmation-code" {
        " ({{link}} carries the key: the callback with confirmation=KEY)"
    } else {
        ""
    };
    format!(
        "the {part} part names {{{{{found}}}}}, which a {} mail does not fill{hint}; it fills {}",
        name.as_str(),
        known
            .iter()
            .map(|k| format!("{{{{{k}}}}}"))
            .collect::<Vec<_>>()
            .join(" ")
    )
}

/// Text made safe to put into HTML (and into an attribute value).
pub fn escape_html(s: &str) -> String {
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

fn fill(template: &str, vars: &[(Placeholder, &str)], escape: bool) -> String {
    let mut out = String::with_capacity(template.len() + 128);
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find("}}") {
            Some(end) => {
                let value = Placeholder::parse(after[..end].trim())
                    .and_then(|p| vars.iter().find(|(k, _)| *k == p))
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
    vars: &[(Placeholder, &str)],
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
    use Placeholder as P;

    #[test]
    fn reset_mail_carries_the_link_alone_on_its_line_and_as_the_visible_text() {
        let link = "https://localhost:9443/r?x=1&confirmation=abc";
        let m = render(
            TemplateName::PasswordReset,
            None,
            &[(P::Username, "kim"), (P::Link, link), (P::Expiry, "15m")],
        );
        assert_eq!(m.subject, "Password reset for kim");
        assert!(m.text.lines().any(|l| l == link), "{}", m.text);
        let escaped = "https://localhost:9443/r?x=1&amp;confirmation=abc";
        assert!(m
            .html
            .contains(&format!("<a href=\"{escaped}\">{escaped}</a>")));
        assert!(m.text.contains("15m"));
    }

    #[test]
    fn html_values_are_escaped_and_subjects_are_one_line() {
        let m = render(
            TemplateName::AccountLock,
            None,
            &[(P::Username, "<b>x</b>\r\nBcc: y"), (P::Reason, "a&b")],
        );
        assert!(m.html.contains("&lt;b&gt;x&lt;/b&gt;"));
        assert!(m.html.contains("a&amp;b"));
        let m = render(
            TemplateName::PasswordReset,
            None,
            &[(P::Username, "kim\r\nBcc: evil@x")],
        );
        assert!(!m.subject.contains('\n'));
    }

    #[test]
    fn a_tenants_template_replaces_the_builtin_one_and_wso2_names_are_aliases() {
        let custom = MailTemplate {
            subject: "Reset at {{tenant-domain}}".into(),
            text: "Hi {{user-name}}, go to:\n{{link}}".into(),
            html: "<a href=\"{{link}}\">{{link}}</a>".into(),
        };
        assert_eq!(custom.validate(TemplateName::PasswordReset), Ok(()));
        let m = render(
            TemplateName::PasswordReset,
            Some(&custom),
            &[
                (P::Tenant, "acme"),
                (P::Username, "kim"),
                (P::Link, "https://x/?a=1&b=2"),
            ],
        );
        assert_eq!(m.subject, "Reset at acme");
        assert_eq!(m.text, "Hi kim, go to:\nhttps://x/?a=1&b=2");
        assert_eq!(
            m.html,
            "<a href=\"https://x/?a=1&amp;b=2\">https://x/?a=1&amp;b=2</a>"
        );
        assert_eq!(
            TemplateName::parse("AccountUnlock"),
            Some(TemplateName::AccountUnlock)
        );
        assert_eq!(TemplateName::parse("Nope"), None);
    }

    #[test]
    fn templates_that_would_mail_a_hole_are_refused_naming_the_placeholder() {
        let reset = |text: &str| MailTemplate {
            subject: "Reset".into(),
            text: text.into(),
            html: "<a href=\"{{link}}\">{{link}}</a>".into(),
        };
        let e = reset("Use {{confirmation-code}}").validate(TemplateName::PasswordReset);
        let e = e.unwrap_err();
        assert!(
            e.contains("{{confirmation-code}}") && e.contains("{{link}}"),
            "{e}"
        );
        let e = reset("{{link}} {{usernme}}").validate(TemplateName::PasswordReset);
        assert!(e.unwrap_err().contains("{{usernme}}"));
        let e = reset("No link here").validate(TemplateName::PasswordReset);
        assert!(e.unwrap_err().contains("reset link"));
        // A placeholder another mail fills is still a hole in this one.
        let lock = MailTemplate {
            subject: "Locked".into(),
            text: "{{link}}".into(),
            html: "<p>{{reason}}</p>".into(),
        };
        assert!(lock
            .validate(TemplateName::AccountLock)
            .unwrap_err()
            .contains("{{link}}"));
        assert!(MailTemplate {
            subject: "a\nb".into(),
            ..reset("{{link}}")
        }
        .validate(TemplateName::PasswordReset)
        .is_err());
        assert!(MailTemplate {
            text: " ".into(),
            ..reset("{{link}}")
        }
        .validate(TemplateName::PasswordReset)
        .is_err());
    }

    #[test]
    fn the_builtin_templates_pass_their_own_checks() {
        for name in TemplateName::ALL {
            assert_eq!(
                MailTemplate::builtin(name).validate(name),
                Ok(()),
                "{name:?}"
            );
        }
    }

    #[test]
    fn unknown_placeholders_render_empty() {
        assert_eq!(fill("a{{nope}}b{{", &[], false), "ab{{");
    }
}
