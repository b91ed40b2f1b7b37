//! Token introspection (RFC 7662): whether a token we issued is still good,
//! asked by a tenant admin. A token is inactive when it does not verify, is
//! expired or of another tenant, when the user's credential version moved past
//! it (a password set through recovery, an admin lock), or while the account
//! is locked. One read: the tenant's settings, the admin and the token's user.

use crate::error::{Kind, UseCaseError};
use crate::hashing::verify_password;
use crate::lockout::login::{check_password, LoginError};
use crate::mail::Composer;
use crate::model::domain::{resolve_username, Credentials, Realm, TenantDomain, UserRef, Username};
use crate::model::settings::TenantSettings;
use crate::model::time::UnixTime;
use crate::store::Store;
use crate::tokens::{Claims, TokenIssuer};

pub struct IntrospectRequest {
    /// The tenant the caller speaks for (`/t/{tenant}`, else the default).
    pub tenant: TenantDomain,
    pub caller: Option<Credentials>,
    pub token: String,
}

/// Without the token: it may be a live one.
impl std::fmt::Debug for IntrospectRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IntrospectRequest")
            .field("tenant", &self.tenant)
            .finish_non_exhaustive()
    }
}

#[derive(Debug)]
pub enum Introspection {
    Inactive,
    Active(Box<Claims>),
}

#[derive(Debug, thiserror::Error)]
pub enum IntrospectError {
    #[error("Valid credentials of a tenant administrator are required.")]
    Unauthorized,
    #[error("Only a tenant administrator may introspect tokens.")]
    Forbidden,
    #[error("The account is busy; try again.")]
    Busy,
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl UseCaseError for IntrospectError {
    fn kind(&self) -> Kind {
        match self {
            IntrospectError::Unauthorized => Kind::Unauthorized,
            IntrospectError::Forbidden => Kind::Forbidden,
            IntrospectError::Busy => Kind::Unavailable,
            IntrospectError::Unexpected(_) => Kind::Internal,
        }
    }
    fn internal(&self) -> Option<&anyhow::Error> {
        match self {
            IntrospectError::Unexpected(e) => Some(e),
            _ => None,
        }
    }
}

/// The user a token names, if it names one in `tenant`.
fn subject(claims: &Claims, tenant: &TenantDomain) -> Option<UserRef> {
    let user = UserRef {
        tenant: TenantDomain::parse(&claims.tenant).ok()?,
        realm: Realm::parse(&claims.realm).ok()?,
        username: Username::parse(&claims.username).ok()?,
    };
    (&user.tenant == tenant).then_some(user)
}

pub async fn introspect(
    store: &Store,
    mail: &Composer,
    defaults: &TenantSettings,
    issuer: &TokenIssuer,
    req: IntrospectRequest,
    now: UnixTime,
) -> Result<Introspection, IntrospectError> {
    let creds = req.caller.ok_or(IntrospectError::Unauthorized)?;
    let Some(admin_ref) = resolve_username(&req.tenant, &creds.username) else {
        verify_password(creds.password, None).await?;
        return Err(IntrospectError::Unauthorized);
    };
    // The token is checked first (CPU only), but nothing about it is told
    // before the caller has proved to be the tenant's admin.
    let verified = issuer.verify(&req.token, now);
    let subject = verified.as_ref().ok().and_then(|c| subject(c, &req.tenant));
    let mut wanted = vec![&admin_ref];
    wanted.extend(subject.as_ref());
    let (settings, mut users) = store.load(&req.tenant, &wanted, defaults).await?;
    let token_user = if subject.is_some() {
        users.pop().flatten()
    } else {
        None
    };
    let admin = users.pop().flatten();
    let admin = check_password(store, mail, &settings, admin, creds.password, now)
        .await
        .map_err(|e| match e {
            LoginError::Unexpected(e) => IntrospectError::Unexpected(e),
            LoginError::Busy => IntrospectError::Busy,
            LoginError::Refused(_) => IntrospectError::Unauthorized,
        })?;
    if !admin.is_admin() {
        return Err(IntrospectError::Forbidden);
    }
    let (Ok(claims), Some(user)) = (verified, token_user) else {
        return Ok(Introspection::Inactive);
    };
    let active = user.id.to_string() == claims.sub
        && claims.ver >= user.credential_version
        && user.lock.active(now).is_none();
    tracing::info!(
        outcome = if active { "active" } else { "inactive" },
        "token introspected"
    );
    Ok(if active {
        Introspection::Active(Box::new(claims))
    } else {
        Introspection::Inactive
    })
}
