//! Password hashes as values: argon2id at OWASP's floor (m = 19 MiB, t = 2,
//! p = 1), the PHC strings it produces, and the rules about them (when a hash
//! is due for an upgrade, which hashes the history keeps). The hashing itself
//! is CPU work, which the hashing adapter runs off the async executor.

use std::fmt;

use argon2::password_hash::{Output, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};

use super::domain::Password;

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

/// Hashes `password` with a fresh salt (blocking: tens of milliseconds).
pub fn hash_blocking(password: &Password) -> Result<PasswordHash, String> {
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    let phc = hasher()
        .hash_password(password.expose().as_bytes(), &salt)
        .map_err(|e| format!("argon2 hash failed: {e}"))?;
    Ok(PasswordHash(phc.to_string()))
}

/// Whether `candidate` is the password of `stored` (blocking). A stored hash
/// that does not parse is an error: corrupt data, not a wrong password.
pub fn verify_blocking(candidate: &Password, stored: &PasswordHash) -> Result<bool, String> {
    let parsed = argon2::PasswordHash::new(stored.as_phc())
        .map_err(|e| format!("stored hash is malformed: {e}"))?;
    Ok(hasher()
        .verify_password(candidate.expose().as_bytes(), &parsed)
        .is_ok())
}

/// The memory of one argon2id pass at today's parameters (19 MiB of blocks).
/// The hashing adapter keeps it between hashes: allocated and freed each time,
/// glibc keeps the freed 19 MiB, carves small allocations out of it, and a warm
/// instance's memory climbs in 19 MiB steps (measured: +114 MB in a soak).
pub struct HashMemory(Vec<Block>);

impl HashMemory {
    pub fn new() -> Self {
        Self(vec![Block::default(); M_COST_KIB as usize])
    }

    /// Zeroes every block.
    pub fn wipe(&mut self) {
        self.0.fill(Block::default());
    }
}

impl Default for HashMemory {
    fn default() -> Self {
        Self::new()
    }
}

/// [`hash_blocking`] in `memory`: the same PHC string, no allocation of its own.
pub fn hash_blocking_in(
    password: &Password,
    memory: &mut HashMemory,
) -> Result<PasswordHash, String> {
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    let mut salt_buf = [0u8; 64];
    let raw_salt = salt
        .as_salt()
        .decode_b64(&mut salt_buf)
        .map_err(|e| format!("argon2 salt: {e}"))?;
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    hasher()
        .hash_password_into_with_memory(
            password.expose().as_bytes(),
            raw_salt,
            &mut out,
            &mut memory.0[..],
        )
        .map_err(|e| format!("argon2 hash failed: {e}"))?;
    let hash = Output::new(&out).map_err(|e| format!("argon2 output: {e}"))?;
    Ok(PasswordHash(format!(
        "$argon2id$v=19$m={M_COST_KIB},t={T_COST},p={P_COST}${}${hash}",
        salt.as_str()
    )))
}

/// [`verify_blocking`] in `memory` for hashes at today's memory cost (any
/// other hash is checked the allocating way: it is upgraded at the next login).
pub fn verify_blocking_in(
    candidate: &Password,
    stored: &PasswordHash,
    memory: &mut HashMemory,
) -> Result<bool, String> {
    let parsed = argon2::PasswordHash::new(stored.as_phc())
        .map_err(|e| format!("stored hash is malformed: {e}"))?;
    let param = |name: &str| parsed.params.get_decimal(name);
    let standard = parsed.algorithm.as_str() == "argon2id"
        && parsed.version == Some(0x13)
        && param("m") == Some(M_COST_KIB)
        && param("p") == Some(P_COST);
    let (Some(salt), Some(expected), Some(t), true) =
        (parsed.salt, parsed.hash, param("t"), standard)
    else {
        return verify_blocking(candidate, stored);
    };
    let params = Params::new(M_COST_KIB, t, P_COST, Some(expected.len()))
        .map_err(|e| format!("stored hash parameters: {e}"))?;
    let mut salt_buf = [0u8; 64];
    let raw_salt = salt
        .decode_b64(&mut salt_buf)
        .map_err(|e| format!("stored hash salt: {e}"))?;
    let mut out = vec![0u8; expected.len()];
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into_with_memory(
            candidate.expose().as_bytes(),
            raw_salt,
            &mut out,
            &mut memory.0[..],
        )
        .map_err(|e| format!("argon2 verification failed: {e}"))?;
    // Output's equality is constant-time.
    Ok(Output::new(&out).map_err(|e| format!("argon2 output: {e}"))? == expected)
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

/// The hashes a new password must not match (`password.history = n`): the
/// current one and the `n - 1` before it.
pub fn recent<'a>(
    current: &'a PasswordHash,
    history: &'a [PasswordHash],
    n: u32,
) -> impl Iterator<Item = &'a PasswordHash> {
    let n = usize::try_from(n).unwrap_or(usize::MAX);
    std::iter::once(current).chain(history.iter()).take(n)
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

    #[test]
    fn hashes_made_in_kept_memory_are_the_same_argon2id_hashes() {
        let mut memory = HashMemory::new();
        let pw = |s: &str| Password::new(s.into()).unwrap();
        let a = hash_blocking_in(&pw("kept-memory-1"), &mut memory).unwrap();
        assert!(a.as_phc().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        // The standard verifier agrees, and so does the kept-memory one, twice
        // in the same (now dirty) memory.
        assert!(verify_blocking(&pw("kept-memory-1"), &a).unwrap());
        assert!(verify_blocking_in(&pw("kept-memory-1"), &a, &mut memory).unwrap());
        assert!(!verify_blocking_in(&pw("kept-memory-2"), &a, &mut memory).unwrap());
        assert!(verify_blocking_in(&pw("kept-memory-1"), &a, &mut memory).unwrap());
        // A hash of the standard path verifies in kept memory.
        let b = hash_blocking(&pw("kept-memory-3")).unwrap();
        assert!(verify_blocking_in(&pw("kept-memory-3"), &b, &mut memory).unwrap());
        assert!(!needs_rehash(&a));
    }

    fn pw(s: &str) -> Password {
        Password::new(s.into()).unwrap()
    }

    #[test]
    fn hash_then_verify() {
        let h = hash_blocking(&pw("correct horse battery")).unwrap();
        assert!(h.as_phc().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert_eq!(verify_blocking(&pw("correct horse battery"), &h), Ok(true));
        assert_eq!(verify_blocking(&pw("wrong horse battery"), &h), Ok(false));
        assert!(verify_blocking(&pw("x"), &PasswordHash::from_phc("junk".into())).is_err());
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
        let r: Vec<_> = recent(&h("a"), &hist, 2).cloned().collect();
        assert_eq!(r, vec![h("a"), h("b")]);
        assert_eq!(recent(&h("a"), &hist, 0).count(), 0);
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
