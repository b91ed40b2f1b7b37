//! HTTP Basic callers: who is asking, checked against the tenant's user store.

use base64::Engine;

use crate::account::User;
use crate::app::App;
use crate::domain::{Password, Realm, TenantDomain, UserRef, Username};
use crate::lockout::login::{check_credentials, LoginError};
use crate::password::verify_password;
use crate::time::UnixTime;

/// Credentials from an `Authorization: Basic` header. `Debug` redacts the password.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub username: String,
    pub password: Password,
}

/// Parses `Basic base64(user:password)`; `None` for anything else.
pub fn parse_basic(header: &str) -> Option<Credentials> {
    let (scheme, value) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let raw = base64::engine::general_purpose::STANDARD
        .decode(value.trim())
        .ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (user, pass) = text.split_once(':')?;
    Some(Credentials {
        username: user.to_string(),
        password: Password::new(pass.to_string()).ok()?,
    })
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

/// The user these credentials prove, or `None`. It is a login like any other:
/// one argon2 verification whether or not the user exists, failures counted
/// towards a lock, and a locked account does not authenticate.
pub async fn authenticate(
    app: &App,
    tenant: &TenantDomain,
    creds: Credentials,
    now: UnixTime,
) -> anyhow::Result<Option<User>> {
    let Some(user_ref) = resolve_username(tenant, &creds.username) else {
        // Still one verification, so a malformed name costs what a wrong password does.
        verify_password(creds.password, None).await?;
        return Ok(None);
    };
    match check_credentials(app, &user_ref, creds.password, now).await {
        Ok((user, _)) => Ok(Some(user)),
        Err(LoginError::Unexpected(e)) => Err(e),
        Err(_) => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_header() {
        // admin:admin, the seed's header.
        let c = parse_basic("Basic YWRtaW46YWRtaW4=").unwrap();
        assert_eq!(c.username, "admin");
        assert_eq!(c.password.expose(), "admin");
        assert!(parse_basic("Bearer x").is_none());
        assert!(parse_basic("Basic !!!").is_none());
        assert!(format!("{c:?}").contains("***"));
        assert!(!format!("{c:?}").contains("Password(\"admin"));
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
}
