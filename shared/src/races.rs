//! Optimistic concurrency for the use cases: a write conditioned on the state a
//! decision was made on either lands or returns the state as it is now; the
//! use case decides again on that, a bounded number of times, with jittered
//! backoff so that a burst of requests on one account spreads out.

use std::time::Duration;

/// How many times one request decides again before it gives up (`503`). Each
/// lost race means another request's write landed, so a burst of N requests
/// on one account needs at most N rounds; a lock ends most bursts sooner (once
/// the account is locked, the others decide "locked" and write nothing).
pub const MAX_ROUNDS: u32 = 64;

/// Waits before round `round` (1, 2, ...): a random share of 1 ms × 2^round,
/// at most 32 ms. The conflict already returned the state as it is now, so
/// the wait only spreads the racers apart.
pub async fn backoff(round: u32) {
    let ceiling_us = (1000u64 << round.min(5)).min(32_000);
    let jitter = (uuid::Uuid::new_v4().as_u128() as u64) % ceiling_us;
    tokio::time::sleep(Duration::from_micros(jitter)).await;
}
