//! Enumeration by timing: for recover-password, resend-code and login, an
//! existing and an unknown user get the same status and body, and their median
//! answer times differ by less than 10 %. 50 calls each, interleaved, one run.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use account_core::config::Config;

use crate::helpers::*;

const CALLS: usize = 50;

fn median(v: &[Duration]) -> Duration {
    quantile(v, 0.5)
}

fn quantile(v: &[Duration], q: f64) -> Duration {
    let mut v = v.to_vec();
    v.sort();
    v[((v.len() - 1) as f64 * q).round() as usize]
}

/// The body without its per-request trace id.
fn shape(res: &TestResponse) -> (u16, Value) {
    let mut v: Value = if res.body.is_empty() {
        Value::Null
    } else {
        res.json()
    };
    if let Some(o) = v.as_object_mut() {
        o.remove("traceId");
    }
    (res.status, v)
}

async fn compare(
    name: &str,
    app: &TestApp,
    known: (&str, String, Option<String>),
    unknown: (&str, String, Option<String>),
) -> Result<(), String> {
    let (mut tk, mut tu) = (Vec::new(), Vec::new());
    let (mut first_k, mut first_u) = (None, None);
    for _ in 0..CALLS {
        for (req, times, first) in [
            (&known, &mut tk, &mut first_k),
            (&unknown, &mut tu, &mut first_u),
        ] {
            let t = Instant::now();
            let res = app.call("POST", req.0, req.1.clone(), req.2.clone()).await;
            times.push(t.elapsed());
            let s = shape(&res);
            match first {
                None => *first = Some(s),
                Some(f) => assert_eq!(*f, s, "{name}: answers vary"),
            }
        }
    }
    assert_eq!(
        first_k, first_u,
        "{name}: existing and unknown users get different answers"
    );
    let (mk, mu) = (median(&tk), median(&tu));
    let diff = mk.abs_diff(mu).as_secs_f64() / mk.max(mu).as_secs_f64();
    println!(
        "{name}: median existing {mk:?}, unknown {mu:?}, difference {:.1} %; p99 existing {:?}, unknown {:?}",
        diff * 100.0,
        quantile(&tk, 0.99),
        quantile(&tu, 0.99),
    );
    // Measured for all three before any is judged.
    (diff < 0.10).then_some(()).ok_or(format!(
        "{name}: medians {mk:?} vs {mu:?} differ by {:.1} %",
        diff * 100.0
    ))
}

#[tokio::test]
async fn existing_and_unknown_users_look_the_same_in_status_body_and_time() {
    // The floor the service ships with (RESPONSE_FLOOR_MS); TIMING_FLOOR_MS
    // measures another (0 shows the work the floor hides).
    let shipped = Config::from_lookup(lookup).expect("config").response_floor;
    let floor = std::env::var("TIMING_FLOOR_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .map_or(shipped, Duration::from_millis);
    let app = spawn_app_with(|c| c.response_floor = floor).await;
    // The real work is measured, not short-cut: no rate limit or lock gets in the way.
    app.set(&[
        ("recovery.max_requests_per_hour", "0"),
        ("recovery.max_requests_per_ip_per_hour", "0"),
        ("lock.max_failed_attempts", "1000"),
    ])
    .await;
    let user = app.add_user(false).await;
    let t = app.tenant.as_str();
    let user_of = |name: &str| json!({"username": name, "tenant-domain": t});

    let recover = |name: &str| json!({"user": user_of(name)}).to_string();
    let recovered = compare(
        "recover-password",
        &app,
        (RECOVER, recover(user.username()), None),
        (RECOVER, recover("no-such-user"), None),
    )
    .await;

    // A recovery under way, so resend does its full work for the real user.
    let resend = |name: &str| {
        json!({"user": user_of(name), "properties": [{"key": "RecoveryScenario", "value": "NOTIFICATION_BASED_PW_RECOVERY"}]}).to_string()
    };
    let resent = compare(
        "resend-code",
        &app,
        (RESEND, resend(user.username()), None),
        (RESEND, resend("no-such-user"), None),
    )
    .await;

    let login = |name: &str| {
        json!({"username": name, "password": "wrong-password", "tenant-domain": t}).to_string()
    };
    let logged_in = compare(
        "login",
        &app,
        (LOGIN, login(user.username()), None),
        (LOGIN, login("no-such-user"), None),
    )
    .await;
    for judged in [recovered, resent, logged_in] {
        judged.unwrap_or_else(|e| panic!("{e}"));
    }
    assert!(
        app.mails_to(&user.email).await.len() >= 2 * CALLS,
        "the real user's mails were really sent"
    );
}
