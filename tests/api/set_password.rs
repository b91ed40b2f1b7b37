use account_core::hashing::verify_password;
use account_core::model::domain::Password;
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn the_mailed_key_sets_a_new_password_once() {
    let app = spawn_app().await;
    let user = app.add_user(false).await;
    let stored = app.stored_user(&user).await;
    let key = app.recovery_key(&user).await;

    let res = app.set_password(&key, "Fresh-Start-2026!").await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(
        res.json(),
        json!({
            "username": user.username(),
            "realm": "PRIMARY",
            "tenant-domain": app.tenant.as_str(),
            "userId": stored.id.to_string(),
        })
    );

    // The new password is what is stored now, as argon2id; the old one is gone.
    let after = app.stored_user(&user).await;
    assert!(after.password_hash.as_phc().starts_with("$argon2id$"));
    assert!(verify_password(
        Password::new("Fresh-Start-2026!".into()).unwrap(),
        Some(after.password_hash.clone())
    )
    .await
    .unwrap());
    assert!(!verify_password(
        Password::new(user.password.clone()).unwrap(),
        Some(after.password_hash)
    )
    .await
    .unwrap());
    assert!(after.recovery.is_none());
    assert!(app
        .raw_item(&app.app.config.tables.keys, &sha256_hex(&key))
        .await
        .is_none());

    // The user is told.
    let mails = app.mails_to(&user.email).await;
    assert_eq!(mails.len(), 2);
    assert_eq!(mails[1].subject, "Your password was changed");

    // Single use.
    app.set_password(&key, "Another-passw0rd")
        .await
        .assert_error(400, "18001");
}

#[tokio::test]
async fn unknown_and_malformed_keys_are_18001() {
    let app = spawn_app().await;
    app.set_password(&uuid::Uuid::new_v4().to_string(), "Fresh-Start-2026!")
        .await
        .assert_error(400, "18001");
    app.set_password("5c765a47-6764-4048-b5cf-55864cb654c0", "Fresh-Start-2026!")
        .await
        .assert_error(400, "18001");
    app.set_password("not-a-key", "Fresh-Start-2026!")
        .await
        .assert_error(400, "18001");
    app.set_password("", "Fresh-Start-2026!")
        .await
        .assert_error(400, "18001");
}

#[tokio::test]
async fn an_expired_key_is_18002() {
    let app = spawn_app().await;
    app.set(&[("recovery.expiry", "2s")]).await;
    let user = app.add_user(false).await;
    let key = app.recovery_key(&user).await;
    tokio::time::sleep(std::time::Duration::from_millis(3100)).await;
    app.set_password(&key, "Fresh-Start-2026!")
        .await
        .assert_error(400, "18002");
    let after = app.stored_user(&user).await;
    assert!(verify_password(
        Password::new(user.password.clone()).unwrap(),
        Some(after.password_hash)
    )
    .await
    .unwrap());
}

#[tokio::test]
async fn a_newer_recovery_revokes_the_older_key() {
    let app = spawn_app().await;
    let user = app.add_user(false).await;
    let first = app.recovery_key(&user).await;
    let second = app.recovery_key(&user).await;
    assert_ne!(first, second);
    app.set_password(&first, "Fresh-Start-2026!")
        .await
        .assert_error(400, "18001");
    assert_eq!(
        app.set_password(&second, "Fresh-Start-2026!").await.status,
        200
    );
}

#[tokio::test]
async fn a_password_outside_the_length_policy_is_20035_and_the_key_still_works() {
    let app = spawn_app().await;
    let user = app.add_user(false).await;
    let key = app.recovery_key(&user).await;
    let b = app
        .set_password(&key, "short")
        .await
        .assert_error(400, "20035");
    assert!(
        b["description"].as_str().unwrap().contains("at least 8"),
        "{b}"
    );
    let b = app
        .set_password(&key, &"x".repeat(65))
        .await
        .assert_error(400, "20035");
    assert!(
        b["description"].as_str().unwrap().contains("at most 64"),
        "{b}"
    );

    app.set(&[("password.min_length", "12")]).await;
    app.set_password(&key, "elevenchars")
        .await
        .assert_error(400, "20035");
    // Length is characters, not bytes: twelve characters of three bytes each.
    assert_eq!(
        app.set_password(&key, "日本語日本語日本語日本語")
            .await
            .status,
        200
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_calls_with_one_key_succeed_exactly_once() {
    let app = std::sync::Arc::new(spawn_app().await);
    let user = app.add_user(false).await;
    let key = app.recovery_key(&user).await;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..8 {
        let (app, key) = (app.clone(), key.clone());
        tasks.spawn(async move {
            app.set_password(&key, &format!("Concurrent-{i}-passw0rd"))
                .await
        });
    }
    let results = tasks.join_all().await;
    let ok = results.iter().filter(|r| r.status == 200).count();
    assert_eq!(ok, 1, "{results:?}");
    for r in results.iter().filter(|r| r.status != 200) {
        r.assert_error(400, "18001");
    }
    // Exactly one "password changed" mail.
    let changed = app
        .mails_to(&user.email)
        .await
        .into_iter()
        .filter(|m| m.subject.contains("changed"))
        .count();
    assert_eq!(changed, 1);
}

#[tokio::test]
async fn success_clears_failed_logins_and_a_failed_login_lock_but_not_an_admin_lock() {
    let app = spawn_app().await;
    let user = app.add_user(false).await;
    let until = account_core::clock::now().0 + 600;
    app.patch_user(
        &user,
        &[
            ("failed_attempts", AttributeValue::N("5".into())),
            ("failed_lock_at", AttributeValue::N("1".into())),
            ("failed_lock_until", AttributeValue::N(until.to_string())),
        ],
    )
    .await;
    let key = app.recovery_key(&user).await;
    assert_eq!(
        app.set_password(&key, "Fresh-Start-2026!").await.status,
        200
    );
    let after = app.stored_user(&user).await;
    assert_eq!(after.lock.failed_attempts, 0);
    assert!(after.lock.failed_lock.is_none());
}

#[tokio::test]
async fn malformed_bodies_are_400() {
    let app = spawn_app().await;
    for body in [
        "",
        "{}",
        r#"{"key": "5c765a47-6764-4048-b5cf-55864cb654c0"}"#,
        r#"{"password": "Fresh-Start-2026!"}"#,
        r#"{"key": 5, "password": "Fresh-Start-2026!"}"#,
        r#"{"key": "k", "password": 12345678}"#,
        r#"{"key": "k", "password": ""}"#,
        r#"{"key": "k", "password": null}"#,
    ] {
        app.post(SET_PASSWORD, body, None)
            .await
            .assert_error(400, "10400");
    }
    let long = json!({"key": "k", "password": "p".repeat(5000)}).to_string();
    app.post(SET_PASSWORD, long, None)
        .await
        .assert_error(400, "10400");
}

#[tokio::test]
async fn a_key_survives_five_refused_passwords_and_no_more() {
    let app = spawn_app().await;
    let user = app.add_user(false).await;
    let key = app.recovery_key(&user).await;
    for _ in 0..5 {
        app.set_password(&key, "short")
            .await
            .assert_error(400, "20035");
    }
    // The sixth try is refused for the key, even with a good password.
    app.set_password(&key, "A-Perfectly-Good-2026")
        .await
        .assert_error(400, "18001");
    assert!(app.stored_user(&user).await.recovery.is_none(), "revoked");
    assert!(app
        .raw_item(&app.app.config.tables.keys, &sha256_hex(&key))
        .await
        .is_none());
}
