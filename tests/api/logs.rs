//! Secrets never reach a log line: a full recovery, login and lock flow with
//! JSON logs captured through the functions' own subscriber at `RUST_LOG=trace`
//! (the SDK, the runtime and hyper capped as they are in production), searched
//! for every password, key, key hash and password hash involved.

use std::io::Write;
use std::sync::{Arc, Mutex};

use account_core::telemetry::subscriber::fmt::MakeWriter;

use crate::helpers::*;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

// The default current-thread runtime keeps every log line on this thread's subscriber.
#[tokio::test]
async fn no_password_key_or_hash_appears_in_the_logs_of_a_full_flow() {
    let logs = Captured::default();
    let env = |k: &str| match k {
        "RUST_LOG" => Some("trace".to_string()),
        "AWS_LAMBDA_LOG_FORMAT" => Some("JSON".to_string()),
        _ => None,
    };
    let (subscriber, _) = account_core::telemetry::build(env, logs.clone());
    let _guard =
        account_core::telemetry::subscriber::util::SubscriberInitExt::set_default(subscriber);

    let app = spawn_app().await;
    let admin = app.add_user(true).await;
    let user = app.add_user(false).await;
    let old_hash = app.stored_user(&user).await.password_hash;
    let new_password = "Logged-Flow-Passw0rd";

    let key = app.recovery_key(&user).await;
    assert_eq!(app.resend(&user).await.status, 201);
    let key2 = app.current_key(&user).await;
    app.set_password(&key, "too-short").await;
    assert_eq!(app.set_password(&key2, new_password).await.status, 200);
    let new_hash = app.stored_user(&user).await.password_hash;
    app.login(user.username(), &user.password).await;
    assert_eq!(app.login(user.username(), new_password).await.status, 200);
    let body = serde_json::json!({"user": user.json()}).to_string();
    let res = app
        .post(
            RECOVER_NO_NOTIFY,
            body,
            Some(basic(admin.username(), &admin.password)),
        )
        .await;
    let key3 = res.body.clone();
    assert_eq!(
        app.lock_user(&admin, &user, true, "log test").await.status,
        200
    );

    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        text.contains("recovery finished") && text.contains("mail sent"),
        "logs were captured"
    );
    // The lock is audited: one record of the fixed schema, naming both accounts.
    let audit: Vec<serde_json::Value> = text
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["fields"]["audit"] == "admin_lock")
        .collect();
    assert_eq!(audit.len(), 1, "one audit record of the lock");
    let f = &audit[0]["fields"];
    assert_eq!(f["actor"], admin.user_ref.storage_key());
    assert_eq!(f["subject"], user.user_ref.storage_key());
    assert_eq!(f["result"], "done");
    assert_eq!(f["detail"], "reason: log test");
    assert!(f["at"].as_i64().unwrap() > 1_700_000_000);
    let secrets = [
        ("old password", user.password.clone()),
        ("new password", new_password.to_string()),
        ("admin password", admin.password.clone()),
        ("key", key.clone()),
        ("resent key", key2.clone()),
        ("admin's key", key3.clone()),
        ("key hash", sha256_hex(&key)),
        ("resent key hash", sha256_hex(&key2)),
        ("old password hash", old_hash.as_phc().to_string()),
        ("new password hash", new_hash.as_phc().to_string()),
        // The salt+hash part alone, in case a hash is logged in pieces.
        (
            "new hash digest",
            new_hash.as_phc().rsplit('$').next().unwrap().to_string(),
        ),
    ];
    for (what, secret) in secrets {
        assert!(secret.len() >= 8, "{what} is a real secret");
        assert!(!text.contains(&secret), "the {what} appears in the logs");
    }
}
