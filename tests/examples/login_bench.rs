//! Login figures against the local stack: the time of one argon2id hash at the
//! configured parameters, and login latency over 100 sequential logins, in
//! process and over HTTP (`cargo lambda watch`), plus 50 concurrent failures.
//!
//!   infra/emulators.sh start
//!   cargo run -p api-tests --example login_bench [-- http://127.0.0.1:9000]

#![allow(clippy::unwrap_used)]
// A benchmark: a failed call should stop it loudly.
// The handlers' futures nest deeper than the default limit.
#![recursion_limit = "256"]

#[path = "../api/helpers.rs"]
#[allow(dead_code)]
mod helpers;

use std::sync::Arc;
use std::time::{Duration, Instant};

use account_core::model::domain::Password;
use account_core::model::password::hash_blocking;
use helpers::*;

fn pct(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn report(name: &str, mut v: Vec<Duration>) {
    v.sort();
    println!(
        "{name:<40} n={:<4} p50={:>7.1} ms  p95={:>7.1} ms  min={:>7.1} ms",
        v.len(),
        pct(&v, 0.5).as_secs_f64() * 1e3,
        pct(&v, 0.95).as_secs_f64() * 1e3,
        v[0].as_secs_f64() * 1e3
    );
}

#[tokio::main]
async fn main() {
    let base = std::env::args().nth(1);
    let pw = Password::new("benchmark-password".into()).unwrap();
    let hashes: Vec<Duration> = (0..20)
        .map(|_| {
            let t = Instant::now();
            hash_blocking(&pw).unwrap();
            t.elapsed()
        })
        .collect();
    report("argon2id hash (m=19456 KiB, t=2, p=1)", hashes);

    let app = Arc::new(spawn_app().await);
    let user = app.add_user(false).await;
    let mut inproc = Vec::new();
    for _ in 0..100 {
        let t = Instant::now();
        assert_eq!(app.login(user.username(), &user.password).await.status, 200);
        inproc.push(t.elapsed());
    }
    report("login, in process (DynamoDB Local)", inproc);

    // Wrong passwords one after another, on a tenant that locks after 1000.
    app.set(&[("lock.max_failed_attempts", "1000")]).await;
    let mut failed = Vec::new();
    for _ in 0..100 {
        let t = Instant::now();
        assert_eq!(
            app.login(user.username(), "wrong-password").await.status,
            401
        );
        failed.push(t.elapsed());
    }
    report("failed login, in process (DynamoDB Local)", failed);
    app.set(&[("lock.max_failed_attempts", "5")]).await;

    if let Some(base) = base {
        let client = reqwest::Client::new();
        let url = format!(
            "{base}/t/{}/api/identity/auth/v1.1/authenticate",
            app.tenant
        );
        let mut http = Vec::new();
        for _ in 0..100 {
            let t = Instant::now();
            let r = client
                .post(&url)
                .basic_auth(user.username(), Some(&user.password))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            http.push(t.elapsed());
        }
        report("login over HTTP (cargo lambda watch)", http);
    }

    app.set(&[("lock.max_failed_attempts", "1000")]).await;
    let victim = app.add_user(false).await;
    let t = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..50 {
        let (app, name) = (app.clone(), victim.username().to_string());
        tasks.spawn(async move { app.login(&name, "wrong").await.status });
    }
    let statuses = tasks.join_all().await;
    let took = t.elapsed();
    let stored = app.stored_user(&victim).await.lock.failed_attempts;
    println!(
        "50 concurrent wrong logins: {} x 401 in {:.0} ms, stored failed count {stored}",
        statuses.iter().filter(|s| **s == 401).count(),
        took.as_secs_f64() * 1e3
    );
}
