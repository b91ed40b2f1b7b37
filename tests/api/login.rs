use std::sync::Arc;

use account_core::model::password::PasswordHash;
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn a_right_password_gets_a_signed_token() {
    let app = spawn_app().await;
    let user = app.add_user(true).await;
    let stored = app.stored_user(&user).await;
    let res = app.login(user.username(), &user.password).await;
    assert_eq!(res.status, 200, "{}", res.body);
    let b = res.json();
    assert_eq!(b["tokenType"], "Bearer");
    assert_eq!(b["expiresIn"], 3600);
    assert_eq!(b["userId"], stored.id.to_string());
    assert_eq!(b["username"], user.username());
    let claims = app
        .issuer
        .verify(b["token"].as_str().unwrap(), account_core::clock::now())
        .expect("our signature");
    assert_eq!(claims.sub, stored.id.to_string());
    assert_eq!(claims.tenant, app.tenant.as_str());
    assert_eq!(claims.roles, vec!["admin".to_string()]);

    // HTTP Basic with the tenant in the path, username in another case.
    let path = format!("/t/{}{LOGIN}", app.tenant);
    let res = app
        .post(
            &path,
            "",
            Some(basic(&user.username().to_uppercase(), &user.password)),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
}

#[tokio::test]
async fn wrong_password_and_unknown_user_get_the_same_answer() {
    let app = spawn_app().await;
    let user = app.add_user(false).await;
    let wrong = app.login(user.username(), "not-the-password").await;
    let ghost = app.login("nobody-here", "not-the-password").await;
    let (a, b) = (
        wrong.assert_error(401, "17002"),
        ghost.assert_error(401, "17002"),
    );
    assert_eq!(
        (&a["message"], &a["description"]),
        (&b["message"], &b["description"])
    );
    assert_eq!(a.as_object().unwrap().len(), b.as_object().unwrap().len());
    assert_eq!(app.stored_user(&user).await.lock.failed_attempts, 1);
}

#[tokio::test]
async fn max_failures_lock_the_account_for_the_configured_time_and_mail_the_user() {
    let app = spawn_app().await;
    app.set(&[("lock.max_failed_attempts", "3"), ("lock.duration", "10m")])
        .await;
    let user = app.add_user(false).await;
    app.fail_logins(&user, 3).await;
    let stored = app.stored_user(&user).await;
    assert_eq!(stored.lock.lock_count, 1);
    let until = stored
        .lock
        .failed_lock
        .as_ref()
        .and_then(|l| l.until)
        .expect("timed lock");
    let now = account_core::clock::now().0;
    assert!(
        (now + 590..=now + 600).contains(&until.0),
        "10 minutes: {until:?}"
    );

    let mails = app.mails_to(&user.email).await;
    assert_eq!(mails.len(), 1);
    assert_eq!(
        mails[0].subject,
        "Your account was locked after failed sign-ins"
    );
    assert!(
        mails[0].text.contains(&until.to_rfc3339()),
        "{}",
        mails[0].text
    );

    // The right password is refused like a wrong one, and neither is counted.
    app.login(user.username(), &user.password)
        .await
        .assert_error(401, "17002");
    app.login(user.username(), "wrong")
        .await
        .assert_error(401, "17002");
    assert_eq!(app.stored_user(&user).await.lock, stored.lock);
}

/// The answer without its per-request trace id.
fn without_trace(res: &TestResponse) -> (u16, serde_json::Value) {
    let mut v = res.json();
    v.as_object_mut().unwrap().remove("traceId");
    (res.status, v)
}

#[tokio::test]
async fn a_locked_account_answers_the_right_and_a_wrong_password_alike() {
    let app = spawn_app().await;
    app.set(&[("lock.max_failed_attempts", "2")]).await;
    let admin = app.add_user(true).await;
    let by_failures = app.add_user(false).await;
    let by_admin = app.add_user(false).await;
    app.fail_logins(&by_failures, 2).await;
    assert_eq!(
        app.lock_user(&admin, &by_admin, true, "r").await.status,
        200
    );
    // An unknown user, for comparison: the default answer tells nothing at all.
    let ghost = app.login("nobody-here", "whatever").await;
    for show in ["false", "true"] {
        app.set(&[("lock.show_failure_reason", show)]).await;
        for user in [&by_failures, &by_admin] {
            let right = app.login(user.username(), &user.password).await;
            let wrong = app.login(user.username(), "wrong-guess").await;
            assert_eq!(without_trace(&right), without_trace(&wrong), "show={show}");
            let (status, body) = without_trace(&right);
            assert_eq!(status, 401);
            if show == "true" {
                assert_eq!(body["code"], "17003");
                assert!(body["lockedReason"].is_string(), "{body}");
            } else {
                assert_eq!((status, body), without_trace(&ghost), "the plain 17002");
            }
        }
    }
    let shown = app.login(by_failures.username(), "x").await.json();
    assert_eq!(shown["lockedReason"], "MaxAttemptsExceeded");
    assert!(shown["unlockTime"].is_string());
    let shown = app.login(by_admin.username(), "x").await.json();
    assert_eq!(shown["lockedReason"], "AdminInitiated");
    assert!(shown.get("unlockTime").is_none());
}

#[tokio::test]
async fn no_lock_lasts_longer_than_max_duration_however_large_the_ratio() {
    let app = spawn_app().await;
    app.set(&[
        ("lock.max_failed_attempts", "1"),
        ("lock.duration", "5m"),
        ("lock.ratio", "100"),
        ("lock.max_duration", "1h"),
        ("lock.show_failure_reason", "true"),
    ])
    .await;
    let user = app.add_user(false).await;
    // The 40th lock: 5m × 100^39 without the cap.
    app.patch_user(&user, &[("lock_count", AttributeValue::N("39".into()))])
        .await;
    let before = account_core::clock::now().0;
    app.fail_logins(&user, 1).await;
    let lock = app.stored_user(&user).await.lock;
    assert_eq!(lock.lock_count, 40);
    let until = lock.failed_lock.and_then(|l| l.until).expect("timed");
    assert!(
        until.0 <= account_core::clock::now().0 + 3600,
        "capped: {until:?}"
    );
    assert!(until.0 >= before + 3600, "the cap, not less: {until:?}");
    let b = app.login(user.username(), &user.password).await.json();
    assert_eq!(b["unlockTime"], until.to_rfc3339());
}

#[tokio::test]
async fn locks_end_by_time_and_the_next_one_lasts_ratio_times_longer() {
    let app = spawn_app().await;
    // Lock times are whole seconds: 2 s leaves at least 1 s to observe the lock.
    app.set(&[
        ("lock.max_failed_attempts", "2"),
        ("lock.duration", "2s"),
        ("lock.ratio", "3"),
        ("lock.show_failure_reason", "true"),
    ])
    .await;
    let user = app.add_user(false).await;
    app.fail_logins(&user, 2).await;
    app.login(user.username(), &user.password)
        .await
        .assert_error(401, "17003");
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    // Unlocked by time; two more failures make the second lock, 6 s long.
    app.fail_logins(&user, 2).await;
    let stored = app.stored_user(&user).await;
    assert_eq!(stored.lock.lock_count, 2);
    let lock = stored.lock.failed_lock.expect("locked again");
    assert_eq!(lock.until.unwrap().0 - lock.at.0, 6);
    let b = app
        .login(user.username(), &user.password)
        .await
        .assert_error(401, "17003");
    assert_eq!(b["unlockTime"], lock.until.unwrap().to_rfc3339());
}

#[tokio::test]
async fn a_good_login_after_a_lock_ended_wipes_the_slate() {
    let app = spawn_app().await;
    app.set(&[("lock.max_failed_attempts", "2"), ("lock.duration", "2s")])
        .await;
    let user = app.add_user(false).await;
    app.fail_logins(&user, 2).await;
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    assert_eq!(app.login(user.username(), &user.password).await.status, 200);
    let after = app.stored_user(&user).await;
    assert_eq!((after.lock.failed_attempts, after.lock.lock_count), (0, 0));
    assert!(after.lock.failed_lock.is_none());
}

#[tokio::test]
async fn a_zero_duration_lock_holds_until_an_admin_unlocks() {
    let app = spawn_app().await;
    app.set(&[
        ("lock.max_failed_attempts", "1"),
        ("lock.duration", "0s"),
        ("lock.show_failure_reason", "true"),
    ])
    .await;
    let admin = app.add_user(true).await;
    let user = app.add_user(false).await;
    app.login(user.username(), "wrong").await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let b = app
        .login(user.username(), &user.password)
        .await
        .assert_error(401, "17003");
    assert!(b.get("unlockTime").is_none(), "{b}");
    assert_eq!(app.lock_user(&admin, &user, false, "").await.status, 200);
    assert_eq!(app.login(user.username(), &user.password).await.status, 200);
}

#[tokio::test]
async fn a_good_login_resets_the_count() {
    let app = spawn_app().await;
    let user = app.add_user(false).await;
    app.fail_logins(&user, 4).await;
    assert_eq!(app.stored_user(&user).await.lock.failed_attempts, 4);
    assert_eq!(app.login(user.username(), &user.password).await.status, 200);
    assert_eq!(app.stored_user(&user).await.lock.failed_attempts, 0);
    app.fail_logins(&user, 4).await;
    assert_eq!(
        app.login(user.username(), &user.password).await.status,
        200,
        "still open after 4+4"
    );
}

#[tokio::test]
async fn nothing_is_counted_when_the_tenant_turns_locking_off() {
    let app = spawn_app().await;
    app.set(&[("lock.enabled", "false"), ("lock.max_failed_attempts", "1")])
        .await;
    let user = app.add_user(false).await;
    app.fail_logins(&user, 3).await;
    assert_eq!(app.stored_user(&user).await.lock.failed_attempts, 0);
    assert_eq!(app.login(user.username(), &user.password).await.status, 200);
}

#[tokio::test]
async fn a_weaker_hash_is_upgraded_on_the_next_good_login() {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let app = spawn_app().await;
    let user = app.add_user(false).await;
    let weak = argon2::Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        argon2::Params::new(4096, 1, 1, None).unwrap(),
    );
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    let phc = weak
        .hash_password(user.password.as_bytes(), &salt)
        .unwrap()
        .to_string();
    app.patch_user(&user, &[("password_hash", AttributeValue::S(phc.clone()))])
        .await;
    assert_eq!(app.login(user.username(), &user.password).await.status, 200);
    let after = app.stored_user(&user).await.password_hash;
    assert_ne!(after, PasswordHash::from_phc(phc));
    assert!(
        after
            .as_phc()
            .starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "upgraded"
    );
    assert_eq!(app.login(user.username(), &user.password).await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_failures_are_all_counted() {
    // Fifty requests on two shared cores, each with its own argon2id hash.
    let app = Arc::new(spawn_pileup_app().await);
    app.set(&[("lock.max_failed_attempts", "100")]).await;
    let user = app.add_user(false).await;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..50 {
        let (app, name) = (app.clone(), user.username().to_string());
        tasks.spawn(async move { app.login(&name, "wrong").await.status });
    }
    let statuses = tasks.join_all().await;
    assert!(statuses.iter().all(|s| *s == 401), "{statuses:?}");
    let stored = app.stored_user(&user).await;
    assert_eq!(stored.lock.failed_attempts, 50, "no failure lost");
    assert!(stored.lock.failed_lock.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_failures_lock_exactly_once() {
    // Fifty requests on two shared cores, each with its own argon2id hash.
    let app = Arc::new(spawn_pileup_app().await);
    let user = app.add_user(false).await;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..50 {
        let (app, name) = (app.clone(), user.username().to_string());
        tasks.spawn(async move { app.login(&name, "wrong").await });
    }
    for r in tasks.join_all().await {
        r.assert_error(401, "17002");
    }
    let stored = app.stored_user(&user).await;
    assert_eq!(
        stored.lock.lock_count, 1,
        "locked once, not escalated by the race"
    );
    assert!(stored.lock.failed_lock.is_some());
    assert_eq!(app.mails_to(&user.email).await.len(), 1, "one lock notice");
    // No request after the lock gets through, not even with the right password.
    app.login(user.username(), &user.password)
        .await
        .assert_error(401, "17002");
}

#[tokio::test]
async fn a_reset_password_opens_a_failed_login_lock() {
    let app = spawn_app().await;
    app.set(&[("lock.max_failed_attempts", "2")]).await;
    let user = app.add_user(false).await;
    app.fail_logins(&user, 2).await;
    app.login(user.username(), &user.password)
        .await
        .assert_error(401, "17002");
    let key = app.recovery_key(&user).await;
    assert_eq!(
        app.set_password(&key, "Brand-new-passw0rd").await.status,
        200
    );
    assert_eq!(
        app.login(user.username(), "Brand-new-passw0rd")
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn bad_login_requests_are_400() {
    let app = spawn_app().await;
    for body in [
        "",
        "{}",
        r#"{"username": "kim"}"#,
        r#"{"password": "x"}"#,
        r#"{"username": 1, "password": "x"}"#,
        r#"{"username": "kim", "password": ""}"#,
        "[1, 2]",
    ] {
        app.post(LOGIN, body, None).await.assert_error(400, "10400");
    }
    let body = json!({"username": "kim", "password": "x", "tenant-domain": "no spaces allowed"});
    app.post(LOGIN, body.to_string(), None)
        .await
        .assert_error(400, "10400");
    app.call("GET", LOGIN, String::new(), None)
        .await
        .assert_error(405, "10405");
}
