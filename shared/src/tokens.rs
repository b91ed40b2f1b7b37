//! Access tokens: HS256 JWTs carrying the tenant, the user id and the roles.
//! The key comes from configuration (`JWT_SECRET`, at least 32 bytes); there is
//! no default, so a function without one does not start.

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::env::ConfigError;
use crate::model::account::User;
use crate::model::time::{parse_duration, UnixTime};

type HmacSha256 = Hmac<Sha256>;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub sub: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
    pub tenant: String,
    pub realm: String,
    pub username: String,
    pub roles: Vec<String>,
}

pub struct TokenIssuer {
    key: Vec<u8>,
    issuer: String,
    pub ttl: Duration,
}

impl std::fmt::Debug for TokenIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenIssuer")
            .field("issuer", &self.issuer)
            .field("ttl", &self.ttl)
            .finish()
    }
}

impl TokenIssuer {
    pub const MIN_KEY_BYTES: usize = 32;

    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let key = get("JWT_SECRET").unwrap_or_default();
        if key.len() < Self::MIN_KEY_BYTES {
            return Err(ConfigError::new(format!(
                "JWT_SECRET must be set to at least {} bytes",
                Self::MIN_KEY_BYTES
            )));
        }
        let ttl = match get("JWT_TTL") {
            Some(v) => parse_duration(&v).map_err(|e| ConfigError::new(format!("JWT_TTL: {e}")))?,
            None => Duration::from_secs(3600),
        };
        if ttl.is_zero() {
            return Err(ConfigError::new("JWT_TTL must be longer than 0s"));
        }
        Ok(Self {
            key: key.into_bytes(),
            issuer: get("JWT_ISSUER").unwrap_or_else(|| "account-recovery".into()),
            ttl,
        })
    }

    fn sign(&self, data: &str) -> String {
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(data.as_bytes());
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    pub fn issue(&self, user: &User, now: UnixTime) -> String {
        let claims = Claims {
            iss: self.issuer.clone(),
            sub: user.id.to_string(),
            iat: now.0,
            exp: now.plus(self.ttl).0,
            jti: uuid::Uuid::new_v4().to_string(),
            tenant: user.user_ref.tenant.as_str().to_string(),
            realm: user.user_ref.realm.as_str().to_string(),
            username: user.user_ref.username.as_str().to_string(),
            roles: user.roles.iter().map(|r| r.as_str().to_string()).collect(),
        };
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
        let payload =
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).expect("claims serialize"));
        let signing_input = format!("{header}.{payload}");
        let signature = self.sign(&signing_input);
        format!("{signing_input}.{signature}")
    }

    /// The claims of a token this issuer signed and that has not expired.
    pub fn verify(&self, token: &str, now: UnixTime) -> Option<Claims> {
        let (signing_input, signature) = token.rsplit_once('.')?;
        let (header, payload) = signing_input.split_once('.')?;
        let header: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).ok()?).ok()?;
        if header["alg"] != "HS256" {
            return None;
        }
        let mut mac = HmacSha256::new_from_slice(&self.key).ok()?;
        mac.update(signing_input.as_bytes());
        mac.verify_slice(&URL_SAFE_NO_PAD.decode(signature).ok()?)
            .ok()?;
        let claims: Claims = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
        (claims.iss == self.issuer && now.0 < claims.exp).then_some(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::domain::{Email, Realm, TenantDomain, UserRef, Username};
    use crate::model::password::PasswordHash;

    fn issuer(secret: &str) -> TokenIssuer {
        TokenIssuer::from_lookup(|k| (k == "JWT_SECRET").then(|| secret.to_string())).unwrap()
    }

    fn user() -> User {
        User::new(
            UserRef {
                tenant: TenantDomain::default_tenant(),
                realm: Realm::primary(),
                username: Username::parse("kim").unwrap(),
            },
            Email::parse("kim@example.com").unwrap(),
            true,
            PasswordHash::from_phc(String::new()),
        )
    }

    #[test]
    fn a_signed_token_verifies_and_carries_the_claims() {
        let i = issuer(&"k".repeat(32));
        let u = user();
        let t = i.issue(&u, UnixTime(1000));
        assert_eq!(t.split('.').count(), 3);
        let c = i.verify(&t, UnixTime(1001)).expect("valid");
        assert_eq!(c.sub, u.id.to_string());
        assert_eq!(
            (c.tenant.as_str(), c.roles.as_slice()),
            ("carbon.super", &["admin".to_string()][..])
        );
        assert_eq!(c.exp, 1000 + 3600);
        assert!(i.verify(&t, UnixTime(4600)).is_none(), "expired");
        assert!(
            issuer(&"x".repeat(32)).verify(&t, UnixTime(1001)).is_none(),
            "other key"
        );
        let mut forged = t.clone();
        forged.insert(forged.find('.').unwrap() + 2, 'A');
        assert!(i.verify(&forged, UnixTime(1001)).is_none(), "tampered");
    }

    #[test]
    fn no_secret_no_issuer() {
        assert!(TokenIssuer::from_lookup(|_| None).is_err());
        assert!(TokenIssuer::from_lookup(|k| (k == "JWT_SECRET").then(|| "short".into())).is_err());
        assert!(!format!("{:?}", issuer(&"s".repeat(40))).contains("sss"));
    }
}
