//! Recovery keys: 122 random bits from the OS CSPRNG (a UUID v4, WSO2's format),
//! handed to the user once and stored only as a SHA-256 hash.

use std::fmt;

use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::time::UnixTime;

/// A plaintext recovery key. Its `Debug` never shows the value.
#[derive(Clone, PartialEq, Eq)]
pub struct RecoveryKey(Uuid);

impl RecoveryKey {
    /// `Uuid::new_v4` reads the OS CSPRNG (getrandom).
    pub fn generate() -> Self {
        Self(Uuid::new_v4())
    }

    /// A key as a caller sends it. Anything that is not a v4 UUID cannot be one of ours.
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        if s.len() > 64 {
            return None;
        }
        Uuid::try_parse(s)
            .ok()
            .filter(|u| u.get_version_num() == 4)
            .map(Self)
    }

    pub fn hash(&self) -> KeyHash {
        let digest = Sha256::digest(self.expose().as_bytes());
        KeyHash(hex(&digest))
    }

    /// The key as it goes into a link or an admin's response body; nowhere else.
    pub fn expose(&self) -> String {
        self.0.hyphenated().to_string()
    }
}

impl fmt::Debug for RecoveryKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RecoveryKey(***)")
    }
}

/// SHA-256 of a key, hex. Not a secret by itself, but still kept out of logs.
#[derive(Clone, PartialEq, Eq)]
pub struct KeyHash(String);

impl KeyHash {
    pub fn from_stored(s: String) -> Self {
        Self(s)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for KeyHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyHash(***)")
    }
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    s
}

/// A key is good until `expires_at`, exclusive; checked on read because TTL
/// deletion is late (up to days on AWS, never on DynamoDB Local).
pub fn is_expired(expires_at: UnixTime, now: UnixTime) -> bool {
    now >= expires_at
}

/// Refused passwords a key survives; the next refusal revokes it (`18001`),
/// so a stolen link cannot be used to probe the policy or the history forever.
pub const MAX_REFUSED_TRIES: u32 = 5;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_are_distinct_v4_uuids() {
        let a = RecoveryKey::generate();
        let b = RecoveryKey::generate();
        assert_ne!(a, b);
        assert_eq!(RecoveryKey::parse(&a.expose()), Some(a.clone()));
        assert_eq!(a.expose().len(), 36);
    }

    #[test]
    fn hash_is_sha256_hex_of_the_key_text() {
        let k = RecoveryKey::parse("5c765a47-6764-4048-b5cf-55864cb654c0").unwrap();
        // sha256("5c765a47-6764-4048-b5cf-55864cb654c0")
        let h = k.hash();
        assert_eq!(h.as_str().len(), 64);
        assert!(h.as_str().chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(
            h,
            RecoveryKey::parse("5C765A47-6764-4048-B5CF-55864CB654C0")
                .unwrap()
                .hash()
        );
        assert_ne!(h, RecoveryKey::generate().hash());
    }

    #[test]
    fn parse_refuses_what_we_never_issue() {
        for bad in [
            "",
            "abc",
            "5c765a47-6764-1048-b5cf-55864cb654c0",
            &"a".repeat(100),
        ] {
            assert!(RecoveryKey::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn debug_never_shows_the_key() {
        let k = RecoveryKey::generate();
        assert!(!format!("{k:?}").contains(&k.expose()));
        assert!(!format!("{:?}", k.hash()).contains(k.hash().as_str()));
    }

    #[test]
    fn expiry_is_exclusive() {
        assert!(!is_expired(UnixTime(100), UnixTime(99)));
        assert!(is_expired(UnixTime(100), UnixTime(100)));
    }
}
