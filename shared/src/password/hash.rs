//! argon2id at OWASP's floor (m = 19 MiB, t = 2, p = 1), run on `spawn_blocking`
//! so a hash never stalls the executor.

use std::fmt;
use std::sync::OnceLock;

use anyhow::Context;
use argon2::password_hash::{PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::domain::Password;

pub const M_COST_KIB: u32 = 19 * 1024;
pub const T_COST: u32 = 2;
pub const P_COST: u32 = 1;

fn hasher() -> Argon2<'static> {
    let params = Params::new(M_COST_KIB, T_COST, P_COST, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// A PHC string (`$argon2id$v=19$m=19456,t=2,p=1$...`). Its `Debug` is redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    pub fn from_phc(s: String) -> Self {
        Self(s)
    }
    pub fn as_phc(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(***)")
    }
}

pub fn hash_blocking(password: &Password) -> anyhow::Result<PasswordHash> {
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    let phc = hasher()
        .hash_password(password.expose().as_bytes(), &salt)
        .map_err(|e| anyhow::anyhow!("argon2 hash failed: {e}"))?;
    Ok(PasswordHash(phc.to_string()))
}

pub async fn hash_password(password: Password) -> anyhow::Result<PasswordHash> {
    tokio::task::spawn_blocking(move || hash_blocking(&password))
        .await
        .context("hashing task failed")?
}

/// A hash of a random password, so that checking an unknown user costs what
/// checking a real one does.
fn dummy_hash() -> &'static PasswordHash {
    static DUMMY: OnceLock<PasswordHash> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let p = Password::new(uuid::Uuid::new_v4().to_string()).expect("non-empty");
        hash_blocking(&p).expect("argon2 works")
    })
}

/// Checks `candidate` against `stored`, or against a dummy hash when there is
/// no user, so both cases take one argon2id verification.
pub async fn verify_password(
    candidate: Password,
    stored: Option<PasswordHash>,
) -> anyhow::Result<bool> {
    tokio::task::spawn_blocking(move || {
        let (phc, real) = match &stored {
            Some(h) => (h.as_phc(), true),
            None => (dummy_hash().as_phc(), false),
        };
        let parsed = argon2::PasswordHash::new(phc)
            .map_err(|e| anyhow::anyhow!("stored hash is malformed: {e}"))?;
        let ok = hasher()
            .verify_password(candidate.expose().as_bytes(), &parsed)
            .is_ok();
        Ok(ok && real)
    })
    .await
    .context("verification task failed")?
}

/// Whether `candidate` is the current password or one of the `n - 1` before it
/// (`password.history = n`). One argon2 verification per remembered hash.
pub async fn reuses_recent(
    candidate: &Password,
    current: &PasswordHash,
    history: &[PasswordHash],
    n: u32,
) -> anyhow::Result<bool> {
    let n = usize::try_from(n).unwrap_or(usize::MAX);
    for h in std::iter::once(current).chain(history.iter()).take(n) {
        if verify_password(candidate.clone(), Some(h.clone())).await? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The history to store after a change: the replaced hash first, `n - 1` kept.
pub fn next_history(
    replaced: &PasswordHash,
    history: &[PasswordHash],
    n: u32,
) -> Vec<PasswordHash> {
    let keep = usize::try_from(n.saturating_sub(1)).unwrap_or(usize::MAX);
    std::iter::once(replaced)
        .chain(history.iter())
        .take(keep)
        .cloned()
        .collect()
}

/// Whether `stored` was written with weaker parameters (or another algorithm)
/// than today's, so the next good login should store a fresh hash.
pub fn needs_rehash(stored: &PasswordHash) -> bool {
    let Ok(parsed) = argon2::PasswordHash::new(stored.as_phc()) else {
        return true;
    };
    if parsed.algorithm.as_str() != "argon2id" {
        return true;
    }
    let param = |name: &str| parsed.params.get_decimal(name).unwrap_or(0);
    param("m") < M_COST_KIB || param("t") < T_COST || param("p") < P_COST
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hash_then_verify() {
        let p = Password::new("correct horse battery".into()).unwrap();
        let h = hash_password(p.clone()).await.unwrap();
        assert!(h.as_phc().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify_password(p, Some(h.clone())).await.unwrap());
        let wrong = Password::new("wrong horse battery".into()).unwrap();
        assert!(!verify_password(wrong.clone(), Some(h.clone()))
            .await
            .unwrap());
        assert!(!verify_password(wrong, None).await.unwrap());
        assert_eq!(format!("{h:?}"), "PasswordHash(***)");
        assert!(!needs_rehash(&h));
    }

    #[test]
    fn history_keeps_n_minus_one_older_hashes() {
        let h = |s: &str| PasswordHash::from_phc(s.into());
        let hist = vec![h("b"), h("c"), h("d")];
        assert_eq!(next_history(&h("a"), &hist, 3), vec![h("a"), h("b")]);
        assert!(next_history(&h("a"), &hist, 0).is_empty());
        assert!(next_history(&h("a"), &hist, 1).is_empty());
    }

    #[tokio::test]
    async fn reuse_is_found_in_the_current_and_recent_hashes_only() {
        let pw = |s: &str| Password::new(s.into()).unwrap();
        let (a, b, c) = (
            hash_blocking(&pw("pw-a")).unwrap(),
            hash_blocking(&pw("pw-b")).unwrap(),
            hash_blocking(&pw("pw-c")).unwrap(),
        );
        let history = vec![b.clone(), c.clone()];
        assert!(reuses_recent(&pw("pw-a"), &a, &history, 1).await.unwrap());
        assert!(reuses_recent(&pw("pw-b"), &a, &history, 2).await.unwrap());
        assert!(
            !reuses_recent(&pw("pw-c"), &a, &history, 2).await.unwrap(),
            "older than n"
        );
        assert!(
            !reuses_recent(&pw("pw-a"), &a, &history, 0).await.unwrap(),
            "history off"
        );
    }

    #[test]
    fn weaker_or_foreign_hashes_need_a_rehash() {
        let weak = argon2::Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8 * 1024, 1, 1, None).unwrap(),
        );
        let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
        let phc = weak.hash_password(b"pw", &salt).unwrap().to_string();
        assert!(needs_rehash(&PasswordHash::from_phc(phc)));
        let argon2i = argon2::Argon2::new(
            Algorithm::Argon2i,
            Version::V0x13,
            Params::new(M_COST_KIB, T_COST, P_COST, None).unwrap(),
        );
        let phc = argon2i.hash_password(b"pw", &salt).unwrap().to_string();
        assert!(needs_rehash(&PasswordHash::from_phc(phc)));
        assert!(needs_rehash(&PasswordHash::from_phc("garbage".into())));
    }
}
