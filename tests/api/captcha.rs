use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::*;

async fn app_with_verifier(url: &str) -> TestApp {
    let url = url.to_string();
    let app = spawn_app_with(move |c| {
        c.captcha.verify_url = url;
        c.captcha.timeout = Duration::from_millis(500);
    })
    .await;
    app.set(&[
        ("recovery.captcha.enabled", "true"),
        ("recovery.captcha.secret", "tenant-secret-123"),
    ])
    .await;
    app
}

fn with_token(token: &str) -> Vec<(&'static str, String)> {
    vec![("g-recaptcha-response", token.to_string())]
}

#[tokio::test]
async fn recovery_needs_a_token_the_verifier_accepts() {
    let (url, seen) = spawn_verifier().await;
    let app = app_with_verifier(&url).await;
    let user = app.add_user(false).await;
    let body = json!({"user": user.json()}).to_string();

    let b = app
        .call_with("POST", RECOVER, body.clone(), &[], Some("203.0.113.7"))
        .await
        .assert_error(400, "10400");
    assert!(
        b["description"]
            .as_str()
            .unwrap()
            .contains("g-recaptcha-response"),
        "{b}"
    );
    app.call_with("POST", RECOVER, body.clone(), &with_token("bad"), None)
        .await
        .assert_error(400, "10400");
    app.call_with("POST", RECOVER, body.clone(), &with_token("junk"), None)
        .await
        .assert_error(503, "10503");
    assert!(app.mails_to(&user.email).await.is_empty());

    let res = app
        .call_with(
            "POST",
            RECOVER,
            body,
            &with_token("good"),
            Some("203.0.113.7"),
        )
        .await;
    assert_eq!(res.status, 202, "{}", res.body);
    assert_eq!(app.mails_to(&user.email).await.len(), 1);
    // The verifier got the tenant's secret, the token and the caller's address.
    let last = seen.lock().unwrap().last().cloned().unwrap();
    assert!(
        last.contains("secret=tenant-secret-123") && last.contains("response=good"),
        "{last}"
    );
    assert!(last.contains("remoteip=203.0.113.7"), "{last}");

    let resend = json!({"user": user.json(), "properties": [{"key": "RecoveryScenario", "value": "NOTIFICATION_BASED_PW_RECOVERY"}]}).to_string();
    app.call_with("POST", RESEND, resend.clone(), &[], None)
        .await
        .assert_error(400, "10400");
    assert_eq!(
        app.call_with("POST", RESEND, resend, &with_token("good"), None)
            .await
            .status,
        201
    );
    assert_eq!(app.mails_to(&user.email).await.len(), 2);
}

#[tokio::test]
async fn a_slow_or_dead_verifier_is_a_clear_503_within_the_time_out() {
    let (url, _) = spawn_verifier().await;
    let app = app_with_verifier(&url).await;
    let user = app.add_user(false).await;
    let body = json!({"user": user.json()}).to_string();
    let t = Instant::now();
    let b = app
        .call_with("POST", RECOVER, body.clone(), &with_token("slow"), None)
        .await
        .assert_error(503, "10503");
    assert!(
        t.elapsed() < Duration::from_secs(2),
        "answered in {:?}, not after the verifier's 5 s",
        t.elapsed()
    );
    assert!(b["description"].as_str().unwrap().contains("try again"));

    let dead = app_with_verifier("http://127.0.0.1:9/siteverify").await;
    let user = dead.add_user(false).await;
    let body = json!({"user": user.json()}).to_string();
    dead.call_with("POST", RECOVER, body, &with_token("good"), None)
        .await
        .assert_error(503, "10503");
    assert!(dead.mails_to(&user.email).await.is_empty());
}
