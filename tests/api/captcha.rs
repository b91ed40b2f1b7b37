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

/// A stand-in for the AWS Parameters and Secrets Lambda Extension: answers
/// every GET with `value` as the secret, and keeps each request's head.
async fn spawn_extension(
    value: &'static str,
) -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let mut buf = vec![0u8; 4096];
            let n = sock.read(&mut buf).await.unwrap_or(0);
            log.lock()
                .unwrap()
                .push(String::from_utf8_lossy(&buf[..n]).to_lowercase());
            let body = format!(r#"{{"Name":"x","SecretString":"{value}"}}"#);
            let res = format!(
                "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = sock.write_all(res.as_bytes()).await;
        }
    });
    (port, seen)
}

#[tokio::test]
async fn a_secret_given_by_reference_is_read_from_secrets_manager_once() {
    let (url, seen) = spawn_verifier().await;
    let (port, asked) = spawn_extension("secret-from-secrets-manager").await;
    let app = spawn_app_with(move |c| {
        c.captcha.verify_url = url;
        c.captcha.timeout = Duration::from_millis(500);
        c.captcha.extension =
            account_core::outbound::secrets::Extension::from_lookup(|k| match k {
                "PARAMETERS_SECRETS_EXTENSION_HTTP_PORT" => Some(port.clone()),
                "AWS_SESSION_TOKEN" => Some("session-token".into()),
                _ => None,
            });
    })
    .await;
    app.set(&[
        ("recovery.captcha.enabled", "true"),
        (
            "recovery.captcha.secret",
            "secretsmanager:stack/recaptcha/tenant",
        ),
    ])
    .await;
    let user = app.add_user(false).await;
    let body = json!({"user": user.json()}).to_string();
    for _ in 0..2 {
        let res = app
            .call_with("POST", RECOVER, body.clone(), &with_token("good"), None)
            .await;
        assert_eq!(res.status, 202, "{}", res.body);
    }
    // The verifier got the secret's value, never its name.
    let last = seen.lock().unwrap().last().cloned().unwrap();
    assert!(
        last.contains("secret=secret-from-secrets-manager"),
        "{last}"
    );
    // Read once (then kept), by name, with the session token.
    let asked = asked.lock().unwrap().clone();
    assert_eq!(asked.len(), 1, "{asked:?}");
    assert!(
        asked[0].starts_with("get /secretsmanager/get?secretid=stack%2frecaptcha%2ftenant"),
        "{asked:?}"
    );
    assert!(asked[0].contains("x-aws-parameters-secrets-token: session-token"));
    // What DynamoDB holds is the reference, not the secret.
    let shown = app.app.store.tenant_overrides(&app.tenant).await.unwrap();
    assert_eq!(
        shown["recovery.captcha.secret"],
        "secretsmanager:stack/recaptcha/tenant"
    );
}
