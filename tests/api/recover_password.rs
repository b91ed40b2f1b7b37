use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn a_known_user_gets_a_reset_mail_and_only_a_hash_is_stored() {
    let app = spawn_app().await;
    let user = app.add_user(false).await;

    let res = app.recover(&user).await;
    assert_eq!(res.status, 202);
    assert!(res.body.is_empty());
    assert_eq!(res.headers["cache-control"], "no-store");

    let mails = app.mails_to(&user.email).await;
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    assert_eq!(
        mail.subject,
        format!("Password reset for {}", user.username())
    );
    assert!(mail.from.contains("no-reply@localhost"), "{}", mail.from);
    let key = mail.key();
    assert!(mail
        .link()
        .starts_with("https://localhost:9443/myaccount/reset-password?confirmation="));
    assert!(
        mail.html.contains(&key),
        "the HTML part carries the link too"
    );
    assert!(mail.text.contains("15 minutes"));

    // Stored: the SHA-256 of the key, never the key.
    let hash = sha256_hex(&key);
    let tables = &app.app.config.tables;
    let key_item = app
        .raw_item(&tables.keys, &hash)
        .await
        .expect("key item stored under its hash");
    let user_item = app
        .raw_item(&tables.users, &user.user_ref.storage_key())
        .await
        .expect("user");
    assert_eq!(user_item["rk_hash"], AttributeValue::S(hash.clone()));
    for v in item_strings(&key_item)
        .into_iter()
        .chain(item_strings(&user_item))
    {
        assert!(!v.contains(&key), "plaintext key stored: {v}");
    }
    let expires: i64 = key_item["expires_at"].as_n().unwrap().parse().unwrap();
    let ttl: i64 = key_item["ttl"].as_n().unwrap().parse().unwrap();
    assert_eq!(ttl, expires + 86_400, "TTL cleans up a day after expiry");
    let now = account_core::clock::now().0;
    assert!(
        (now + 890..=now + 900).contains(&expires),
        "expires in 15m: {expires} vs {now}"
    );
}

#[tokio::test]
async fn the_callback_property_becomes_the_link_and_must_match_the_regex() {
    let app = spawn_app().await;
    let user = app.add_user(false).await;
    let body = |cb: &str| {
        json!({"user": user.json(), "properties": [{"key": "callback", "value": cb}]}).to_string()
    };
    let res = app
        .post(
            RECOVER,
            body("https://localhost:9443/myaccount?lang=en"),
            None,
        )
        .await;
    assert_eq!(res.status, 202);
    let link = app.mails_to(&user.email).await[0].link();
    assert!(
        link.starts_with("https://localhost:9443/myaccount?lang=en&confirmation="),
        "{link}"
    );

    let res = app
        .post(RECOVER, body("https://evil.example/steal"), None)
        .await;
    res.assert_error(400, "20044");
    assert_eq!(
        app.mails_to(&user.email).await.len(),
        1,
        "no mail for a refused callback"
    );

    app.set(&[
        ("recovery.callback_regex", r"^https:\/\/app\.example\/.*"),
        ("recovery.default_callback", "https://app.example/reset"),
    ])
    .await;
    assert_eq!(
        app.post(RECOVER, body("https://app.example/r"), None)
            .await
            .status,
        202
    );
}

#[tokio::test]
async fn an_unknown_user_gets_the_same_answer_and_no_mail_unless_the_tenant_says_otherwise() {
    let app = spawn_app().await;
    let ghost = TestUser {
        user_ref: account_core::model::domain::UserRef {
            tenant: app.tenant.clone(),
            realm: account_core::model::domain::Realm::primary(),
            username: account_core::model::domain::Username::parse("nobody").unwrap(),
        },
        email: "nobody@example.test".into(),
        password: String::new(),
    };
    let known = app.add_user(false).await;
    let a = app.recover(&ghost).await;
    let b = app.recover(&known).await;
    assert_eq!((a.status, a.body.as_str()), (b.status, b.body.as_str()));
    assert_eq!(a.status, 202);
    assert!(app.mails_to("nobody@example.test").await.is_empty());

    app.set(&[("recovery.notify_user_existence", "true")]).await;
    app.recover(&ghost).await.assert_error(400, "18003");
}

#[tokio::test]
async fn usernames_match_case_insensitively() {
    let app = spawn_app().await;
    let user = app.add_user_named(&unique("Kim-"), false).await;
    let mut shouted = user.clone();
    shouted.user_ref.username =
        account_core::model::domain::Username::parse(&user.username().to_uppercase()).unwrap();
    assert_eq!(app.recover(&shouted).await.status, 202);
    assert_eq!(app.mails_to(&user.email).await.len(), 1);
}

#[tokio::test]
async fn recovery_disabled_for_the_tenant_is_20017() {
    let app = spawn_app().await;
    let user = app.add_user(false).await;
    app.set(&[("recovery.enabled", "false")]).await;
    app.recover(&user).await.assert_error(400, "20017");
    assert!(app.mails_to(&user.email).await.is_empty());
}

#[tokio::test]
async fn notify_false_returns_the_key_to_an_admin_only() {
    let app = spawn_app().await;
    let admin = app.add_user(true).await;
    let plain = app.add_user(false).await;
    let target = app.add_user(false).await;
    let body = json!({"user": target.json(), "properties": []}).to_string();

    app.post(RECOVER_NO_NOTIFY, body.clone(), None)
        .await
        .assert_error(401, "10401");
    app.post(
        RECOVER_NO_NOTIFY,
        body.clone(),
        Some(basic(plain.username(), &plain.password)),
    )
    .await
    .assert_error(401, "10401");
    app.post(
        RECOVER_NO_NOTIFY,
        body.clone(),
        Some(basic(admin.username(), "wrong-password")),
    )
    .await
    .assert_error(401, "10401");

    let res = app
        .post(
            RECOVER_NO_NOTIFY,
            body,
            Some(basic(admin.username(), &admin.password)),
        )
        .await;
    assert_eq!(res.status, 202);
    let key = res.body.trim().to_string();
    assert_eq!(key.len(), 36, "the key is the body: {key}");
    assert!(
        app.mails_to(&target.email).await.is_empty(),
        "notify=false sends nothing"
    );
    assert_eq!(
        app.set_password(&key, "a brand new passphrase")
            .await
            .status,
        200
    );

    // The tenant-qualified admin name works too.
    let body = json!({"user": target.json(), "properties": []}).to_string();
    let qualified = format!("{}@{}", admin.username(), app.tenant);
    let res = app
        .post(
            RECOVER_NO_NOTIFY,
            body,
            Some(basic(&qualified, &admin.password)),
        )
        .await;
    assert_eq!(res.status, 202);
}

#[tokio::test]
async fn an_admin_locked_account_cannot_start_a_recovery_but_a_failed_login_lock_can() {
    let app = spawn_app().await;
    let locked = app.add_user(false).await;
    app.patch_user(
        &locked,
        &[
            ("admin_lock_at", AttributeValue::N("1".into())),
            ("admin_lock_reason", AttributeValue::S("test".into())),
        ],
    )
    .await;
    assert_eq!(app.recover(&locked).await.status, 202);
    assert!(app.mails_to(&locked.email).await.is_empty());
    app.set(&[("recovery.notify_account_status", "true")]).await;
    app.recover(&locked).await.assert_error(400, "17003");

    let failed = app.add_user(false).await;
    let until = account_core::clock::now().0 + 600;
    app.patch_user(
        &failed,
        &[
            ("failed_lock_at", AttributeValue::N("1".into())),
            ("failed_lock_until", AttributeValue::N(until.to_string())),
        ],
    )
    .await;
    assert_eq!(app.recover(&failed).await.status, 202);
    assert_eq!(app.mails_to(&failed.email).await.len(), 1);
}

#[tokio::test]
async fn too_many_requests_in_an_hour_are_accepted_but_not_sent() {
    let app = spawn_app().await;
    app.set(&[("recovery.max_requests_per_hour", "2")]).await;
    let user = app.add_user(false).await;
    for _ in 0..4 {
        assert_eq!(app.recover(&user).await.status, 202);
    }
    assert_eq!(app.mails_to(&user.email).await.len(), 2);
    assert_eq!(app.stored_user(&user).await.recovery_window.count, 2);
}

#[tokio::test]
async fn the_tenant_in_the_path_wins_over_the_body() {
    let app = spawn_app().await;
    let user = app.add_user(false).await;
    let mut body = json!({"user": user.json(), "properties": []});
    body["user"]["tenant-domain"] = json!("some-other.tenant");
    let path = format!("/t/{}{RECOVER}", app.tenant);
    assert_eq!(app.post(&path, body.to_string(), None).await.status, 202);
    assert_eq!(app.mails_to(&user.email).await.len(), 1);
}

#[tokio::test]
async fn without_anonymous_access_a_tenant_user_must_sign_the_request() {
    let app = spawn_app().await;
    app.set(&[("anonymous_access", "false")]).await;
    let user = app.add_user(false).await;
    let body = json!({"user": user.json(), "properties": []}).to_string();
    app.post(RECOVER, body.clone(), None)
        .await
        .assert_error(401, "10401");
    let res = app
        .post(RECOVER, body, Some(basic(user.username(), &user.password)))
        .await;
    assert_eq!(res.status, 202);
    assert_eq!(app.mails_to(&user.email).await.len(), 1);
}

#[tokio::test]
async fn bad_input_is_a_400_with_the_error_body_never_a_5xx() {
    let app = spawn_app().await;
    for body in [
        "",
        "{",
        "not json",
        "[]",
        r#"{"user": "kim"}"#,
        r#"{"user": {"username": 42}}"#,
        r#"{"user": {"username": ""}}"#,
        r#"{"user": {"username": "a\u0000b"}}"#,
        r#"{"user": {"username": "kim", "tenant-domain": "bad tenant"}}"#,
        r#"{"user": {"username": "kim"}, "properties": {"key": "callback"}}"#,
        r#"{"user": {"username": "kim"}, "properties": [{"key": "callback", "value": 1}]}"#,
        r#"{"properties": []}"#,
    ] {
        app.post(RECOVER, body, None)
            .await
            .assert_error(400, "10400");
    }
    let ok = json!({"user": {"username": "kim"}}).to_string();
    app.post(
        "/api/identity/recovery/v0.9/recover-password?type=sms",
        ok.clone(),
        None,
    )
    .await
    .assert_error(400, "10400");
    app.post(
        "/api/identity/recovery/v0.9/recover-password?notify=maybe",
        ok.clone(),
        None,
    )
    .await
    .assert_error(400, "10400");
    let huge = json!({"user": {"username": "x".repeat(20_000)}}).to_string();
    app.post(RECOVER, huge, None)
        .await
        .assert_error(413, "10413");
    app.call("GET", RECOVER, String::new(), None)
        .await
        .assert_error(405, "10405");
}

#[tokio::test]
async fn unknown_and_known_users_take_about_the_same_time() {
    let mut app = spawn_app().await;
    app.app.config.response_floor = std::time::Duration::from_millis(300);
    let user = app.add_user(false).await;
    let ghost_body =
        json!({"user": {"username": "ghost", "tenant-domain": app.tenant.as_str()}}).to_string();
    let mut known = Vec::new();
    let mut unknown = Vec::new();
    for _ in 0..3 {
        let t = std::time::Instant::now();
        assert_eq!(app.recover(&user).await.status, 202);
        known.push(t.elapsed().as_millis());
        let t = std::time::Instant::now();
        assert_eq!(
            app.post(RECOVER, ghost_body.clone(), None).await.status,
            202
        );
        unknown.push(t.elapsed().as_millis());
    }
    // Both are held to the floor; the work for a real user fits well under it.
    for ms in known.iter().chain(&unknown) {
        assert!(
            (300..700).contains(ms),
            "known {known:?} unknown {unknown:?}"
        );
    }
}

#[tokio::test]
async fn poisoned_callbacks_are_refused_and_nothing_is_stored_or_sent() {
    let app = spawn_app().await;
    let user = app.add_user(false).await;
    for cb in [
        "https://localhost:9443/myaccount\n\nOpen instead: https://evil.example/reset",
        "https://localhost:9443/myaccount\thttps://evil.example/reset",
        "https://localhost:9443/myaccount https://evil.example/reset",
        "https://localhost:9443/myaccount#https://evil.example/reset",
        "https://localhost:9443/myaccount\u{202e}teser/elpmaxe.live//:sptth",
        "https://user:pw@localhost:9443/myaccount",
        "http://localhost:9443.evil.example/myaccount",
    ] {
        let body = json!({"user": user.json(), "properties": [{"key": "callback", "value": cb}]});
        app.post(RECOVER, body.to_string(), None)
            .await
            .assert_error(400, "20044");
    }
    assert!(app.mails_to(&user.email).await.is_empty(), "no mail");
    assert!(app.stored_user(&user).await.recovery.is_none(), "no key");
}

#[tokio::test]
async fn a_callback_carrying_its_own_key_gets_ours_instead() {
    let app = spawn_app().await;
    let user = app.add_user(false).await;
    let cb = "https://localhost:9443/myaccount?confirmation=attacker-key&lang=en&confirmation=x";
    let body = json!({"user": user.json(), "properties": [{"key": "callback", "value": cb}]});
    assert_eq!(app.post(RECOVER, body.to_string(), None).await.status, 202);
    let mail = app.mails_to(&user.email).await.pop().expect("a mail");
    let link = mail.link();
    // The text part holds the link alone on its line; the HTML shows it as its own text.
    assert!(mail.text.lines().any(|l| l.trim() == link), "{}", mail.text);
    let escaped = link.replace('&', "&amp;");
    assert!(
        mail.html.contains(&format!(">{escaped}</a>")),
        "{}",
        mail.html
    );
    let confirmations: Vec<&str> = link
        .split_once('?')
        .unwrap()
        .1
        .split('&')
        .filter_map(|p| p.strip_prefix("confirmation="))
        .collect();
    assert_eq!(confirmations.len(), 1, "{link}");
    assert!(link.contains("lang=en"), "{link}");
    assert_eq!(
        app.set_password(confirmations[0], "Only-Our-Key-2026")
            .await
            .status,
        200,
        "the one key in the link is the real one"
    );
}

#[tokio::test]
async fn resend_checks_the_stored_callback_again_and_falls_back_to_the_default() {
    let app = spawn_app().await;
    let user = app.add_user(false).await;
    let cb = "https://localhost:9443/portal/reset";
    let body = json!({"user": user.json(), "properties": [{"key": "callback", "value": cb}]});
    assert_eq!(app.post(RECOVER, body.to_string(), None).await.status, 202);
    assert!(app.mails_to(&user.email).await[0].link().starts_with(cb));
    // The tenant narrows its callbacks: the stored one no longer passes.
    app.set(&[(
        "recovery.callback_regex",
        "^https://localhost:9443/myaccount/.*",
    )])
    .await;
    assert_eq!(app.resend(&user).await.status, 201);
    let link = app.mails_to(&user.email).await[1].link();
    assert!(
        link.starts_with("https://localhost:9443/myaccount/reset-password?confirmation="),
        "{link}"
    );
}

/// A warm instance keeps a tenant's settings for SETTINGS_CACHE_TTL: a change
/// shows within the TTL, not on the very next request.
#[tokio::test]
async fn a_settings_change_takes_effect_within_the_cache_ttl() {
    let app = spawn_app_with(|c| c.settings_cache_ttl = std::time::Duration::from_secs(2)).await;
    let user = app.add_user(false).await;
    assert_eq!(app.recover(&user).await.status, 202);
    app.set(&[("recovery.enabled", "false")]).await;
    assert_eq!(
        app.recover(&user).await.status,
        202,
        "the settings read a moment ago still hold"
    );
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    app.recover(&user).await.assert_error(400, "20017");
}
