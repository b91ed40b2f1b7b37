//! Access tokens a relying party can check without our secret: JWTs signed
//! with Ed25519 (`alg: EdDSA`, ring, which rustls links already), carrying a
//! `kid`. Two keys live at once: the current one signs, the previous one still
//! verifies, so a rotation does not cut every session; both are published as a
//! JWK Set. Tokens carry the user's credential version (`ver`), which a
//! password set through recovery and an admin lock move forward, so
//! introspection can tell a token issued before either.
//!
//! The keys come from a secret (`JWT_SIGNING_KEYS`, locally from
//! `infra/local.env`, in AWS from Secrets Manager): JSON
//! `{"kid": "...", "seed": "...", "previous": {"kid": "...", "seed": "..."}}`,
//! each seed at least 32 characters (the key is the SHA-256 of it). There is
//! no default key: a function without one does not start.

use std::fmt;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::signature::{Ed25519KeyPair, KeyPair, UnparsedPublicKey, ED25519};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::env::ConfigError;
use crate::model::account::User;
use crate::model::time::{parse_duration, UnixTime};

/// No token lives longer than this, whatever `JWT_TTL` says.
pub const MAX_TTL: Duration = Duration::from_secs(24 * 3600);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    pub sub: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
    pub tenant: String,
    pub realm: String,
    pub username: String,
    pub roles: Vec<String>,
    /// The user's credential version when the token was issued.
    pub ver: u64,
}

#[derive(Deserialize)]
struct KeySpec {
    kid: String,
    seed: String,
}

#[derive(Deserialize)]
struct KeysSpec {
    kid: String,
    seed: String,
    previous: Option<KeySpec>,
}

struct SigningKey {
    kid: String,
    pair: Ed25519KeyPair,
}

impl SigningKey {
    fn from_spec(kid: &str, seed: &str) -> Result<Self, ConfigError> {
        let bad = |m: &str| ConfigError::new(format!("JWT_SIGNING_KEYS: key `{kid}`: {m}"));
        if kid.is_empty() || kid.len() > 64 || !kid.chars().all(|c| c.is_ascii_graphic()) {
            return Err(bad("the kid must be 1 to 64 printable ASCII characters"));
        }
        if seed.chars().count() < 32 {
            return Err(bad("the seed must be at least 32 characters"));
        }
        let key: [u8; 32] = Sha256::digest(seed.as_bytes()).into();
        let pair = Ed25519KeyPair::from_seed_unchecked(&key).map_err(|_| bad("not a key"))?;
        Ok(Self {
            kid: kid.to_string(),
            pair,
        })
    }

    fn public(&self) -> &[u8] {
        self.pair.public_key().as_ref()
    }
}

/// Why a token is not accepted (for logs and tests; a caller only learns "inactive").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejected {
    Malformed,
    /// Not `EdDSA` (`none`, `HS256` with the public key as its secret, ...).
    Algorithm,
    UnknownKey,
    Signature,
    Issuer,
    Audience,
    Expired,
}

pub struct TokenIssuer {
    current: SigningKey,
    previous: Option<SigningKey>,
    issuer: String,
    audience: String,
    pub ttl: Duration,
}

impl fmt::Debug for TokenIssuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenIssuer")
            .field("kid", &self.current.kid)
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl TokenIssuer {
    /// `keys` is the secret's value (`JWT_SIGNING_KEYS`); the rest comes from
    /// `JWT_ISSUER`, `JWT_AUDIENCE` and `JWT_TTL`.
    pub fn new(keys: &str, get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let spec: KeysSpec = serde_json::from_str(keys).map_err(|_| {
            ConfigError::new(
                r#"JWT_SIGNING_KEYS must be JSON: {"kid": "...", "seed": "<32+ characters>", "previous": {...}}"#,
            )
        })?;
        let current = SigningKey::from_spec(&spec.kid, &spec.seed)?;
        let previous = match &spec.previous {
            Some(p) if p.kid == spec.kid => {
                return Err(ConfigError::new(
                    "JWT_SIGNING_KEYS: the previous key needs a kid of its own",
                ))
            }
            Some(p) => Some(SigningKey::from_spec(&p.kid, &p.seed)?),
            None => None,
        };
        let ttl = match get("JWT_TTL") {
            Some(v) => parse_duration(&v).map_err(|e| ConfigError::new(format!("JWT_TTL: {e}")))?,
            None => Duration::from_secs(3600),
        };
        if ttl.is_zero() || ttl > MAX_TTL {
            return Err(ConfigError::new(
                "JWT_TTL must be longer than 0s and at most 24h",
            ));
        }
        let issuer = get("JWT_ISSUER").unwrap_or_else(|| "account-recovery".into());
        Ok(Self {
            current,
            previous,
            audience: get("JWT_AUDIENCE").unwrap_or_else(|| issuer.clone()),
            issuer,
            ttl,
        })
    }

    pub fn kid(&self) -> &str {
        &self.current.kid
    }

    pub fn issue(&self, user: &User, now: UnixTime) -> String {
        let claims = Claims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sub: user.id.to_string(),
            iat: now.0,
            exp: now.plus(self.ttl).0,
            jti: uuid::Uuid::new_v4().to_string(),
            tenant: user.user_ref.tenant.as_str().to_string(),
            realm: user.user_ref.realm.as_str().to_string(),
            username: user.user_ref.username.as_str().to_string(),
            roles: user.roles.iter().map(|r| r.as_str().to_string()).collect(),
            ver: user.credential_version,
        };
        let header = serde_json::json!({"alg": "EdDSA", "typ": "JWT", "kid": self.current.kid});
        let header = URL_SAFE_NO_PAD.encode(header.to_string());
        let payload =
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).expect("claims serialize"));
        let signing_input = format!("{header}.{payload}");
        let signature = self.current.pair.sign(signing_input.as_bytes());
        format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature.as_ref())
        )
    }

    /// The claims of a token signed by the current or the previous key, for
    /// this issuer and audience, not expired at `now`.
    pub fn verify(&self, token: &str, now: UnixTime) -> Result<Claims, Rejected> {
        let (signing_input, signature) = token.rsplit_once('.').ok_or(Rejected::Malformed)?;
        let (header, payload) = signing_input.split_once('.').ok_or(Rejected::Malformed)?;
        let decode = |s: &str| URL_SAFE_NO_PAD.decode(s).map_err(|_| Rejected::Malformed);
        let header: serde_json::Value =
            serde_json::from_slice(&decode(header)?).map_err(|_| Rejected::Malformed)?;
        // Only EdDSA, whatever the token asks for: no `none`, no HMAC with a public key.
        if header["alg"] != "EdDSA" {
            return Err(Rejected::Algorithm);
        }
        let key = [Some(&self.current), self.previous.as_ref()]
            .into_iter()
            .flatten()
            .find(|k| header["kid"] == k.kid.as_str())
            .ok_or(Rejected::UnknownKey)?;
        UnparsedPublicKey::new(&ED25519, key.public())
            .verify(signing_input.as_bytes(), &decode(signature)?)
            .map_err(|_| Rejected::Signature)?;
        let claims: Claims =
            serde_json::from_slice(&decode(payload)?).map_err(|_| Rejected::Malformed)?;
        if claims.iss != self.issuer {
            return Err(Rejected::Issuer);
        }
        if claims.aud != self.audience {
            return Err(Rejected::Audience);
        }
        if now.0 >= claims.exp {
            return Err(Rejected::Expired);
        }
        Ok(claims)
    }

    /// The public keys, current first, as a JWK Set (RFC 7517, OKP Ed25519).
    pub fn jwks(&self) -> serde_json::Value {
        let keys: Vec<serde_json::Value> = [Some(&self.current), self.previous.as_ref()]
            .into_iter()
            .flatten()
            .map(|k| {
                serde_json::json!({
                    "kty": "OKP",
                    "crv": "Ed25519",
                    "x": URL_SAFE_NO_PAD.encode(k.public()),
                    "kid": k.kid,
                    "use": "sig",
                    "alg": "EdDSA",
                })
            })
            .collect();
        serde_json::json!({ "keys": keys })
    }
}

/// A new value for the secret: a fresh key under `kid` (random seed from the OS
/// CSPRNG), the current key of `old` (the secret's value now) kept as the previous one.
pub fn rotated(old: Option<&str>, kid: &str) -> Result<String, ConfigError> {
    let mut seed = [0u8; 32];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut seed)
        .map_err(|_| ConfigError::new("no randomness from the OS"))?;
    let seed = URL_SAFE_NO_PAD.encode(seed);
    SigningKey::from_spec(kid, &seed)?;
    let previous = match old {
        None => serde_json::Value::Null,
        Some(old) => {
            let old: KeysSpec = serde_json::from_str(old).map_err(|_| {
                ConfigError::new("the current secret value is not JWT_SIGNING_KEYS JSON")
            })?;
            if old.kid == kid {
                return Err(ConfigError::new(
                    "the new key needs a kid other than the current one",
                ));
            }
            serde_json::json!({"kid": old.kid, "seed": old.seed})
        }
    };
    let mut v = serde_json::json!({"kid": kid, "seed": seed});
    if !previous.is_null() {
        v["previous"] = previous;
    }
    Ok(v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::domain::{Email, Realm, TenantDomain, UserRef, Username};
    use crate::model::password::PasswordHash;

    const KEYS: &str = r#"{"kid":"k2","seed":"a-seed-of-at-least-thirty-two-characters-2","previous":{"kid":"k1","seed":"a-seed-of-at-least-thirty-two-characters-1"}}"#;

    fn issuer(keys: &str) -> TokenIssuer {
        TokenIssuer::new(keys, |_| None).unwrap()
    }

    fn user() -> User {
        let mut u = User::new(
            UserRef {
                tenant: TenantDomain::default_tenant(),
                realm: Realm::primary(),
                username: Username::parse("kim").unwrap(),
            },
            Email::parse("kim@example.com").unwrap(),
            true,
            PasswordHash::from_phc(String::new()),
        );
        u.credential_version = 7;
        u
    }

    #[test]
    fn a_signed_token_verifies_and_carries_the_claims() {
        let i = issuer(KEYS);
        let u = user();
        let t = i.issue(&u, UnixTime(1000));
        let header = URL_SAFE_NO_PAD
            .decode(t.split('.').next().unwrap())
            .unwrap();
        let header: serde_json::Value = serde_json::from_slice(&header).unwrap();
        assert_eq!(
            (header["alg"].as_str(), header["kid"].as_str()),
            (Some("EdDSA"), Some("k2"))
        );
        let c = i.verify(&t, UnixTime(1001)).expect("valid");
        assert_eq!(c.sub, u.id.to_string());
        assert_eq!((c.ver, c.aud.as_str()), (7, "account-recovery"));
        assert_eq!(c.exp, 1000 + 3600);
        assert_eq!(i.verify(&t, UnixTime(4600)), Err(Rejected::Expired));
        let mut tampered = t.clone();
        tampered.insert(t.find('.').unwrap() + 2, 'A');
        assert!(i.verify(&tampered, UnixTime(1001)).is_err());
    }

    #[test]
    fn the_previous_key_still_verifies_after_a_rotation() {
        let before = issuer(r#"{"kid":"k1","seed":"a-seed-of-at-least-thirty-two-characters-1"}"#);
        let t = before.issue(&user(), UnixTime(0));
        let after = issuer(KEYS);
        assert!(after.verify(&t, UnixTime(1)).is_ok());
        assert_eq!(after.jwks()["keys"].as_array().unwrap().len(), 2);
        let rotated_again = rotated(Some(KEYS), "k3").unwrap();
        let later = issuer(&rotated_again);
        assert_eq!(
            later.verify(&t, UnixTime(1)),
            Err(Rejected::UnknownKey),
            "k1 is gone"
        );
        assert!(later
            .verify(&after.issue(&user(), UnixTime(0)), UnixTime(1))
            .is_ok());
    }

    #[test]
    fn forged_algorithms_are_refused() {
        let i = issuer(KEYS);
        let t = i.issue(&user(), UnixTime(0));
        let parts: Vec<&str> = t.split('.').collect();
        for alg in [
            r#"{"alg":"none","kid":"k2"}"#,
            r#"{"alg":"HS256","kid":"k2"}"#,
        ] {
            let h = URL_SAFE_NO_PAD.encode(alg);
            let forged = format!("{h}.{}.{}", parts[1], parts[2]);
            assert_eq!(i.verify(&forged, UnixTime(1)), Err(Rejected::Algorithm));
            assert_eq!(
                i.verify(&format!("{h}.{}.", parts[1]), UnixTime(1)),
                Err(Rejected::Algorithm)
            );
        }
        // HS256 with the public key as the secret, as a confused verifier would accept.
        use hmac::{Hmac, Mac};
        let h = URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","typ":"JWT","kid":"k2"}"#);
        let input = format!("{h}.{}", parts[1]);
        let pk = URL_SAFE_NO_PAD
            .decode(i.jwks()["keys"][0]["x"].as_str().unwrap())
            .unwrap();
        let mut mac = Hmac::<Sha256>::new_from_slice(&pk).unwrap();
        mac.update(input.as_bytes());
        let sig = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        assert_eq!(
            i.verify(&format!("{input}.{sig}"), UnixTime(1)),
            Err(Rejected::Algorithm)
        );
    }

    #[test]
    fn no_key_no_issuer_and_a_bounded_lifetime() {
        assert!(TokenIssuer::new("", |_| None).is_err());
        assert!(TokenIssuer::new(r#"{"kid":"k","seed":"short"}"#, |_| None).is_err());
        let ttl = |v: &'static str| {
            TokenIssuer::new(KEYS, move |k| (k == "JWT_TTL").then(|| v.to_string()))
        };
        assert!(ttl("25h").is_err() && ttl("0s").is_err() && ttl("3600").is_err());
        assert_eq!(ttl("24h").unwrap().ttl, MAX_TTL);
        assert!(
            !format!("{:?}", issuer(KEYS)).contains("thirty-two"),
            "Debug shows no seed"
        );
    }
}
