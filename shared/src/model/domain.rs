//! Parse-don't-validate newtypes for what a request names. A value of one of
//! these types has passed its checks; the rest of the code never re-checks it.

use std::fmt;

pub const DEFAULT_TENANT: &str = "carbon.super";
pub const DEFAULT_REALM: &str = "PRIMARY";

/// Control characters, and the bidirectional overrides that make text display
/// as something other than what it is.
fn has_control(s: &str) -> bool {
    s.chars()
        .any(|c| c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'))
}

/// A tenant domain, lower-cased (`carbon.super`, `example.com`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TenantDomain(String);

impl TenantDomain {
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let ok = !s.is_empty()
            && s.len() <= 253
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
        if ok {
            Ok(Self(s.to_ascii_lowercase()))
        } else {
            Err(format!(
                "`{}` is not a valid tenant domain",
                s.escape_debug()
            ))
        }
    }
    pub fn default_tenant() -> Self {
        Self(DEFAULT_TENANT.to_string())
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TenantDomain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A user-store domain (`PRIMARY`, or a secondary store's name), upper-cased as WSO2 shows it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Realm(String);

impl Realm {
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let ok = !s.is_empty()
            && s.len() <= 64
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
        if ok {
            Ok(Self(s.to_ascii_uppercase()))
        } else {
            Err(format!("`{}` is not a valid realm", s.escape_debug()))
        }
    }
    pub fn primary() -> Self {
        Self(DEFAULT_REALM.to_string())
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Realm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A username as typed; compared through [`Username::canonical`] (lower-cased).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Username(String);

impl Username {
    pub const MAX_CHARS: usize = 254;

    /// NFKC-normalised, so look-alike forms of one name (full-width letters,
    /// ligatures) are one user; any script is allowed.
    pub fn parse(s: &str) -> Result<Self, String> {
        use unicode_normalization::UnicodeNormalization;
        if s.len() > Self::MAX_CHARS * 4 {
            return Err(format!(
                "the username is longer than {} characters",
                Self::MAX_CHARS
            ));
        }
        let s: String = s.trim().nfkc().collect();
        let s = s.as_str();
        if s.is_empty() {
            return Err("the username is empty".into());
        }
        if s.chars().count() > Self::MAX_CHARS {
            return Err(format!(
                "the username is longer than {} characters",
                Self::MAX_CHARS
            ));
        }
        if has_control(s) || s.contains('#') {
            return Err("the username contains a character that is not allowed".into());
        }
        Ok(Self(s.to_string()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// The form usernames are matched by: case-insensitive.
    pub fn canonical(&self) -> String {
        self.0.to_lowercase()
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An email address SES can deliver to: one `@`, a local part of 7-bit ASCII
/// (SES has no SMTPUTF8, so a non-ASCII local part would fail on every mail),
/// and a domain kept in its ASCII form (IDNA/punycode: `kim@bücher.example`
/// is stored as `kim@xn--bcher-kva.example`). Deliverability is SES's business.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let invalid = || format!("`{}` is not a valid email address", s.escape_debug());
        if s.len() > 254 || has_control(s) || s.contains(char::is_whitespace) {
            return Err(invalid());
        }
        let (local, domain) = s.split_once('@').ok_or_else(invalid)?;
        if local.is_empty()
            || local.len() > 64
            || local.contains(['<', '>', ',', ';', '"', '\\', '(', ')', '[', ']', ':'])
            || domain.is_empty()
            || domain.contains('@')
            || domain.starts_with('.')
            || domain.ends_with('.')
        {
            return Err(invalid());
        }
        if !local.is_ascii() {
            return Err(format!(
                "`{}`: the part before @ must be ASCII (SES cannot send to other addresses)",
                s.escape_debug()
            ));
        }
        let domain = idna::domain_to_ascii(domain).map_err(|_| invalid())?;
        if domain.is_empty() || domain.len() > 253 || domain.contains(['@', '/', '%']) {
            return Err(invalid());
        }
        let email = format!("{local}@{domain}");
        if email.len() > 254 {
            return Err(invalid());
        }
        Ok(Self(email))
    }
    /// An address as stored: it passed [`Email::parse`] when it was written
    /// (perhaps under an older, looser rule), and is read back as it is, so an
    /// existing account still loads (SES then decides about delivery).
    pub fn from_stored(s: String) -> Self {
        Self(s)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Who a user is: `(tenant, realm, username)`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UserRef {
    pub tenant: TenantDomain,
    pub realm: Realm,
    pub username: Username,
}

impl UserRef {
    /// The storage key: tenant, realm and canonical username. `#` cannot occur in any part.
    pub fn storage_key(&self) -> String {
        format!(
            "{}#{}#{}",
            self.tenant.as_str(),
            self.realm.as_str(),
            self.username.canonical()
        )
    }
}

/// A plaintext password, NFKC-normalised (NIST SP 800-63B), so the same
/// password typed on different keyboards hashes alike. Its `Debug` never shows it.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    /// Anything up to the hard cap is a candidate; the tenant's policy judges it.
    pub const HARD_MAX_BYTES: usize = 4096;

    pub fn new(s: String) -> Result<Self, String> {
        use unicode_normalization::UnicodeNormalization;
        if s.len() > Self::HARD_MAX_BYTES {
            return Err("the password is too long".into());
        }
        let s: String = s.nfkc().collect();
        if s.is_empty() {
            return Err("the password is empty".into());
        }
        if s.len() > Self::HARD_MAX_BYTES {
            return Err("the password is too long".into());
        }
        Ok(Self(s))
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

/// A caller's credentials (HTTP Basic, or a login body). `Debug` redacts the password.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub username: String,
    pub password: Password,
}

/// Resolves WSO2's username forms within `tenant`: `admin`, `admin@tenant`
/// (the tenant-qualified form) and `REALM/admin`.
pub fn resolve_username(tenant: &TenantDomain, name: &str) -> Option<UserRef> {
    let mut name = name.trim();
    if let Some((local, domain)) = name.rsplit_once('@') {
        if domain.eq_ignore_ascii_case(tenant.as_str()) {
            name = local;
        }
    }
    let (realm, name) = match name.split_once('/') {
        Some((realm, rest)) => (Realm::parse(realm).ok()?, rest),
        None => (Realm::primary(), name),
    };
    Some(UserRef {
        tenant: tenant.clone(),
        realm,
        username: Username::parse(name).ok()?,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        (s == "admin").then_some(Role::Admin)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_match_case_insensitively_but_keep_their_case() {
        let u = Username::parse("  Kim ").unwrap();
        assert_eq!(u.as_str(), "Kim");
        assert_eq!(u.canonical(), "kim");
        assert!(Username::parse("").is_err());
        assert!(Username::parse("a\u{0}b").is_err());
        assert!(Username::parse("a#b").is_err());
        assert!(Username::parse(&"x".repeat(255)).is_err());
        assert!(Username::parse(&"x".repeat(100_000)).is_err());
        // NFKC: full-width and ligature forms are the same name; other scripts are fine.
        assert_eq!(Username::parse("ｋｉｍ").unwrap().canonical(), "kim");
        assert_eq!(Username::parse("ﬁona").unwrap().as_str(), "fiona");
        assert_eq!(Username::parse("Ελένη").unwrap().canonical(), "ελένη");
        assert!(Username::parse("kim\u{202e}").is_err(), "bidi override");
    }

    #[test]
    fn storage_key_normalises_every_part() {
        let r = UserRef {
            tenant: TenantDomain::parse("Carbon.Super").unwrap(),
            realm: Realm::parse("primary").unwrap(),
            username: Username::parse("Kim").unwrap(),
        };
        assert_eq!(r.storage_key(), "carbon.super#PRIMARY#kim");
    }

    #[test]
    fn emails() {
        assert!(Email::parse("kim@example.com").is_ok());
        assert!(Email::parse("admin@localhost").is_ok());
        assert_eq!(
            Email::parse("kim@Bücher.example").unwrap().as_str(),
            "kim@xn--bcher-kva.example",
            "the domain is stored in its ASCII form"
        );
        let e = Email::parse("jürgen@example.com").unwrap_err();
        assert!(e.contains("ASCII"), "a clear reason: {e}");
        for bad in [
            "kim",
            "@x.com",
            "kim@",
            "a b@x.com",
            "kim@x@y",
            "k\n@x.com",
            "<a>@x",
            "a\u{202e}b@x.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn username_forms() {
        let t = TenantDomain::parse("example.com").unwrap();
        let r = resolve_username(&t, "admin@example.com").unwrap();
        assert_eq!(r.username.as_str(), "admin");
        let r = resolve_username(&t, "kim@other.org").unwrap();
        assert_eq!(r.username.as_str(), "kim@other.org");
        let r = resolve_username(&t, "SECONDARY/kim").unwrap();
        assert_eq!(r.realm.as_str(), "SECONDARY");
        assert!(resolve_username(&t, "").is_none());
    }

    #[test]
    fn password_debug_is_redacted() {
        let p = Password::new("Secret123!".into()).unwrap();
        assert_eq!(format!("{p:?}"), "Password(***)");
        assert!(Password::new(String::new()).is_err());
        // NFKC: a full-width password is its ASCII form; a ligature splits.
        assert_eq!(
            Password::new("Ｐａｓｓ１".into()).unwrap().expose(),
            "Pass1"
        );
        assert_eq!(Password::new("ﬁne".into()).unwrap().expose(), "fine");
    }
}
