//! argon2id on the blocking thread pool, so a hash never stalls the executor,
//! and the dummy hash that makes an unknown user cost what a real one does.

use std::sync::{Mutex, OnceLock};

use anyhow::{anyhow, Context};

use crate::model::domain::Password;
use crate::model::password::{
    hash_blocking, hash_blocking_in, recent, verify_blocking_in, HashMemory, PasswordHash,
};

/// argon2id memory kept between hashes (19 MiB each); more hashes at once
/// than this allocate their own and drop it.
const KEPT_MEMORY: usize = 2;
static MEMORY: Mutex<Vec<HashMemory>> = Mutex::new(Vec::new());

/// Runs `f` in kept argon2 memory, so a warm instance's memory stays flat.
fn in_kept_memory<R>(f: impl FnOnce(&mut HashMemory) -> R) -> R {
    let kept = MEMORY.lock().unwrap_or_else(|e| e.into_inner()).pop();
    let mut memory = kept.unwrap_or_default();
    let r = f(&mut memory);
    // What a hash leaves in its memory is derived from a password: wiped
    // before it waits for the next one (about a millisecond for 19 MiB).
    memory.wipe();
    let mut kept = MEMORY.lock().unwrap_or_else(|e| e.into_inner());
    if kept.len() < KEPT_MEMORY {
        kept.push(memory);
    }
    r
}

pub async fn hash_password(password: Password) -> anyhow::Result<PasswordHash> {
    tokio::task::spawn_blocking(move || {
        in_kept_memory(|m| hash_blocking_in(&password, m)).map_err(|e| anyhow!(e))
    })
    .await
    .context("hashing task failed")?
}

/// A hash of a random password, so that checking an unknown user (or a locked
/// account) costs what checking a real one does.
fn dummy_hash() -> &'static PasswordHash {
    static DUMMY: OnceLock<PasswordHash> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let p = Password::new(uuid::Uuid::new_v4().to_string()).expect("non-empty");
        hash_blocking(&p).expect("argon2 works")
    })
}

/// Checks `candidate` against `stored`, or against a dummy hash when there is
/// none, so both cases take one argon2id verification. `None` is never right.
pub async fn verify_password(
    candidate: Password,
    stored: Option<PasswordHash>,
) -> anyhow::Result<bool> {
    tokio::task::spawn_blocking(move || {
        in_kept_memory(|m| match &stored {
            Some(h) => verify_blocking_in(&candidate, h, m).map_err(|e| anyhow!(e)),
            None => verify_blocking_in(&candidate, dummy_hash(), m)
                .map(|_| false)
                .map_err(|e| anyhow!(e)),
        })
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
    for h in recent(current, history, n) {
        if verify_password(candidate.clone(), Some(h.clone())).await? {
            return Ok(true);
        }
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn unknown_users_cost_one_verification_and_never_pass() {
        let p = Password::new("correct horse battery".into()).unwrap();
        let h = hash_password(p.clone()).await.unwrap();
        assert!(verify_password(p.clone(), Some(h)).await.unwrap());
        assert!(!verify_password(p, None).await.unwrap());
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
        assert!(!reuses_recent(&pw("pw-c"), &a, &history, 2).await.unwrap());
        assert!(!reuses_recent(&pw("pw-a"), &a, &history, 0).await.unwrap());
    }
}
