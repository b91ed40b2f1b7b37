//! Passwords: argon2id hashing off the async executor, and the tenant's policy.

pub mod hash;
pub mod policy;

pub use hash::{
    hash_password, needs_rehash, next_history, reuses_recent, verify_password, PasswordHash,
};
