use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn an_admin_locks_an_account_which_then_cannot_log_in_or_recover() {
    let app = spawn_app().await;
    app.set(&[("lock.show_failure_reason", "true")]).await;
    let admin = app.add_user(true).await;
    let user = app.add_user(false).await;
    let key = app.recovery_key(&user).await;

    let res = app
        .lock_user(&admin, &user, true, "suspicious activity")
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(
        res.json(),
        json!({
            "username": user.username(),
            "realm": "PRIMARY",
            "tenant-domain": app.tenant.as_str(),
            "accountLocked": true,
            "lockedReason": "AdminInitiated",
        })
    );
    let mails = app.mails_to(&user.email).await;
    assert_eq!(mails.last().unwrap().subject, "Your account was locked");
    assert!(mails.last().unwrap().text.contains("suspicious activity"));

    let b = app
        .login(user.username(), &user.password)
        .await
        .assert_error(401, "17003");
    assert_eq!(b["lockedReason"], "AdminInitiated");
    assert!(b.get("unlockTime").is_none());
    // The recovery under way is revoked, and no new one starts.
    app.set_password(&key, "Sneaky-passw0rd")
        .await
        .assert_error(400, "18001");
    let before = app.mails_to(&user.email).await.len();
    assert_eq!(app.recover(&user).await.status, 202);
    assert_eq!(app.mails_to(&user.email).await.len(), before);

    // Locking again changes nothing and sends nothing.
    assert_eq!(
        app.lock_user(&admin, &user, true, "again").await.status,
        200
    );
    assert_eq!(app.mails_to(&user.email).await.len(), before);
}

#[tokio::test]
async fn unlock_lifts_any_lock_and_clears_the_count() {
    let app = spawn_app().await;
    app.set(&[
        ("lock.max_failed_attempts", "2"),
        ("lock.show_failure_reason", "true"),
    ])
    .await;
    let admin = app.add_user(true).await;
    let user = app.add_user(false).await;
    app.fail_logins(&user, 2).await;
    app.login(user.username(), &user.password)
        .await
        .assert_error(401, "17003");

    let res = app.lock_user(&admin, &user, false, "").await;
    assert_eq!(res.status, 200);
    assert_eq!(res.json()["accountLocked"], false);
    assert!(res.json()["lockedReason"].is_null());
    // Mails to one address are not ordered (each is its own stream record).
    assert!(app
        .mails_to(&user.email)
        .await
        .iter()
        .any(|m| m.subject == "Your account was unlocked"));
    let stored = app.stored_user(&user).await;
    assert_eq!(
        (stored.lock.failed_attempts, stored.lock.lock_count),
        (0, 0)
    );
    assert_eq!(app.login(user.username(), &user.password).await.status, 200);

    assert_eq!(app.lock_user(&admin, &user, true, "").await.status, 200);
    assert_eq!(app.lock_user(&admin, &user, false, "").await.status, 200);
    assert_eq!(app.login(user.username(), &user.password).await.status, 200);
}

#[tokio::test]
async fn only_a_tenant_admin_may_lock() {
    let app = spawn_app().await;
    let admin = app.add_user(true).await;
    let plain = app.add_user(false).await;
    let target = app.add_user(false).await;
    let body = json!({"user": target.json(), "locked": true}).to_string();

    app.post(LOCK_USER, body.clone(), None)
        .await
        .assert_error(401, "10401");
    app.post(
        LOCK_USER,
        body.clone(),
        Some(basic(admin.username(), "wrong")),
    )
    .await
    .assert_error(401, "10401");
    app.post(
        LOCK_USER,
        body.clone(),
        Some(basic(plain.username(), &plain.password)),
    )
    .await
    .assert_error(403, "10403");

    let ghost = json!({"user": {"username": "ghost", "tenant-domain": app.tenant.as_str()}, "locked": true});
    app.post(
        LOCK_USER,
        ghost.to_string(),
        Some(basic(admin.username(), &admin.password)),
    )
    .await
    .assert_error(404, "10404");

    // An admin of another tenant is nobody here.
    let other = spawn_app().await;
    let foreign_admin = other.add_user(true).await;
    app.post(
        LOCK_USER,
        body,
        Some(basic(foreign_admin.username(), &foreign_admin.password)),
    )
    .await
    .assert_error(401, "10401");
    assert!(app.stored_user(&target).await.lock.admin_lock.is_none());
}

#[tokio::test]
async fn admins_are_subject_to_lockout_too() {
    let app = spawn_app().await;
    app.set(&[("lock.max_failed_attempts", "3")]).await;
    let admin = app.add_user(true).await;
    let target = app.add_user(false).await;
    let body = json!({"user": target.json(), "locked": true}).to_string();
    for _ in 0..3 {
        app.post(
            LOCK_USER,
            body.clone(),
            Some(basic(admin.username(), "guess")),
        )
        .await
        .assert_error(401, "10401");
    }
    app.post(
        LOCK_USER,
        body,
        Some(basic(admin.username(), &admin.password)),
    )
    .await
    .assert_error(401, "10401");
    assert!(app.stored_user(&admin).await.lock.failed_lock.is_some());
    assert!(app.stored_user(&target).await.lock.admin_lock.is_none());
}

#[tokio::test]
async fn bad_lock_requests_are_400() {
    let app = spawn_app().await;
    let admin = app.add_user(true).await;
    let auth = Some(basic(admin.username(), &admin.password));
    for body in [
        "{}".to_string(),
        r#"{"user": {"username": "kim"}}"#.to_string(),
        r#"{"user": {"username": "kim"}, "locked": "yes"}"#.to_string(),
        json!({"user": {"username": "kim"}, "locked": true, "reason": "x".repeat(300)}).to_string(),
        json!({"user": {"username": "kim"}, "locked": true, "reason": "a\u{7}b"}).to_string(),
    ] {
        app.post(LOCK_USER, body, auth.clone())
            .await
            .assert_error(400, "10400");
    }
}
