use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn resend_mails_a_new_key_and_the_old_one_stops_working() {
    let app = spawn_app().await;
    let user = app.add_user(false).await;
    let old = app.recovery_key(&user).await;

    let res = app.resend(&user).await;
    assert_eq!(res.status, 201);
    assert!(res.body.is_empty());
    let mails = app.mails_to(&user.email).await;
    assert_eq!(mails.len(), 2);
    let new = mails[1].key();
    assert_ne!(new, old);

    app.set_password(&old, "Fresh-Start-2026!")
        .await
        .assert_error(400, "18001");
    assert_eq!(
        app.set_password(&new, "Fresh-Start-2026!").await.status,
        200
    );
    // Recovery finished: nothing left to resend.
    assert_eq!(app.resend(&user).await.status, 201);
    assert_eq!(
        app.mails_to(&user.email).await.len(),
        3,
        "only the password-changed mail came after"
    );
}

#[tokio::test]
async fn resend_keeps_the_callback_of_the_original_request() {
    let app = spawn_app().await;
    let user = app.add_user(false).await;
    let body = json!({"user": user.json(), "properties": [{"key": "callback", "value": "https://localhost:9443/portal"}]});
    assert_eq!(app.post(RECOVER, body.to_string(), None).await.status, 202);
    assert_eq!(app.resend(&user).await.status, 201);
    let link = app.mails_to(&user.email).await[1].link();
    assert!(
        link.starts_with("https://localhost:9443/portal?confirmation="),
        "{link}"
    );
}

#[tokio::test]
async fn nothing_is_sent_without_a_recovery_under_way_or_for_an_unknown_user() {
    let app = spawn_app().await;
    let user = app.add_user(false).await;
    assert_eq!(app.resend(&user).await.status, 201);
    assert!(app.mails_to(&user.email).await.is_empty());

    let ghost = json!({
        "user": {"username": "ghost", "tenant-domain": app.tenant.as_str()},
        "properties": [{"key": "RecoveryScenario", "value": "NOTIFICATION_BASED_PW_RECOVERY"}]
    })
    .to_string();
    assert_eq!(app.post(RESEND, ghost.clone(), None).await.status, 201);
    app.set(&[("recovery.notify_user_existence", "true")]).await;
    app.post(RESEND, ghost, None)
        .await
        .assert_error(400, "18003");
}

#[tokio::test]
async fn an_expired_recovery_is_not_resent() {
    let app = spawn_app().await;
    app.set(&[("recovery.expiry", "2s")]).await;
    let user = app.add_user(false).await;
    app.recovery_key(&user).await;
    tokio::time::sleep(std::time::Duration::from_millis(3100)).await;
    assert_eq!(app.resend(&user).await.status, 201);
    assert_eq!(app.mails_to(&user.email).await.len(), 1);
}

#[tokio::test]
async fn resends_count_against_the_hourly_limit() {
    let app = spawn_app().await;
    app.set(&[("recovery.max_requests_per_hour", "2")]).await;
    let user = app.add_user(false).await;
    app.recovery_key(&user).await;
    for _ in 0..3 {
        assert_eq!(app.resend(&user).await.status, 201);
    }
    assert_eq!(app.mails_to(&user.email).await.len(), 2);
}

#[tokio::test]
async fn the_recovery_scenario_is_required_and_checked() {
    let app = spawn_app().await;
    let user = app.add_user(false).await;
    let body =
        |props: serde_json::Value| json!({"user": user.json(), "properties": props}).to_string();
    app.post(RESEND, body(json!([])), None)
        .await
        .assert_error(400, "10400");
    app.post(
        RESEND,
        body(json!([{"key": "RecoveryScenario", "value": "SELF_SIGN_UP"}])),
        None,
    )
    .await
    .assert_error(400, "10400");
    app.post(RESEND, r#"{"user": {"username": 1}}"#, None)
        .await
        .assert_error(400, "10400");
}
