use serde_json::json;

use crate::helpers::*;

const SEED_PATTERN: &str = r"^((?=.*\d)(?=.*[a-z])(?=.*[A-Z])(?=.*[!@#$%&*])).{0,100}$";
const POLICY: &str = "/api/identity/recovery/v0.9/password-policy";

#[tokio::test]
async fn the_policy_endpoint_shows_the_defaults_without_authentication() {
    let app = spawn_app().await;
    let res = app
        .call(
            "GET",
            &format!("{POLICY}?tenant-domain={}", app.tenant),
            String::new(),
            None,
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    let b = res.json();
    assert_eq!(b["tenant-domain"], app.tenant.as_str());
    assert_eq!(
        (b["minLength"].as_u64(), b["maxLength"].as_u64()),
        (Some(8), Some(64))
    );
    assert_eq!(b["namePolicy"], "contain");
    assert_eq!(b["commonPasswordsRefused"], true);
    assert!(b["regex"].is_null() && b["pattern"].is_null());
    assert_eq!(b["guidelinesEnabled"], true);
    assert_eq!(b["policyList"][0], "Between 8 and 64 characters.");
    assert_eq!(res.headers["cache-control"], "no-store");
}

#[tokio::test]
async fn the_policy_endpoint_shows_the_tenants_rules_in_the_tenant_path() {
    let app = spawn_app().await;
    app.set(&[
        ("password.pattern", SEED_PATTERN),
        (
            "password.pattern_error",
            "Use a digit, upper and lower case, and one of !@#$%&*.",
        ),
        ("password.history", "3"),
        (
            "password.guidelines",
            r#"["Twelve characters or more", "Mix in a symbol"]"#,
        ),
        ("password.min_length", "12"),
    ])
    .await;
    let res = app
        .call(
            "GET",
            &format!("/t/{}{POLICY}", app.tenant),
            String::new(),
            None,
        )
        .await;
    let b = res.json();
    assert_eq!(b["pattern"], SEED_PATTERN);
    assert_eq!(b["minLength"], 12);
    assert_eq!(b["history"], 3);
    assert_eq!(
        b["policyList"],
        json!(["Twelve characters or more", "Mix in a symbol"])
    );
    app.call("POST", POLICY, "{}".into(), None)
        .await
        .assert_error(405, "10405");
    app.call(
        "GET",
        &format!("{POLICY}?tenant-domain=bad%20tenant"),
        String::new(),
        None,
    )
    .await
    .assert_error(400, "10400");
}

#[tokio::test]
async fn set_password_lists_every_broken_rule_with_the_tenants_messages() {
    let app = spawn_app().await;
    app.set(&[
        ("password.pattern", SEED_PATTERN),
        (
            "password.pattern_error",
            "Use a digit, upper and lower case, and one of !@#$%&*.",
        ),
        ("password.regex", r"^[\S]{6,30}$"),
        ("password.regex_error", "No spaces; 6 to 30 characters."),
    ])
    .await;
    let user = app.add_user_named(&unique("zed"), false).await;
    let key = app.recovery_key(&user).await;
    let long_with_name = format!("my name is {}", user.username());
    let b = app
        .set_password(&key, &long_with_name)
        .await
        .assert_error(400, "20035");
    let d = b["description"].as_str().unwrap();
    for expected in [
        "Use a digit, upper and lower case, and one of !@#$%&*.",
        "No spaces; 6 to 30 characters.",
        "Password must not contain the username.",
    ] {
        assert!(d.contains(expected), "{d}");
    }
    let b = app
        .set_password(&key, "qwertyuiop")
        .await
        .assert_error(400, "20035");
    assert!(b["description"]
        .as_str()
        .unwrap()
        .contains("most commonly used"));
    // The same key, now with a password every rule accepts.
    assert_eq!(app.set_password(&key, "Tr0ub4dor&3x").await.status, 200);
}

#[tokio::test]
async fn recent_passwords_cannot_be_reused() {
    let app = spawn_app().await;
    app.set(&[("password.history", "3")]).await;
    let user = app.add_user(false).await;
    let reset = |pw: &'static str| {
        let app = &app;
        let user = &user;
        async move {
            let key = app.recovery_key(user).await;
            app.set_password(&key, pw).await
        }
    };
    // The original password counts as the most recent.
    let original = user.password.clone();
    let key = app.recovery_key(&user).await;
    // WSO2's answer: 412 with code 22001 and the same key, which still works.
    let b = app
        .set_password(&key, &original)
        .await
        .assert_error(412, "22001");
    assert!(
        b["description"]
            .as_str()
            .unwrap()
            .contains("last 3 passwords"),
        "{b}"
    );
    assert_eq!(b["key"], key.as_str());
    assert_eq!(b["message"], "Precondition Failed");
    assert_eq!(app.set_password(&key, "History-One-2026").await.status, 200);
    assert_eq!(reset("History-Two-2026").await.status, 200);
    reset("History-One-2026").await.assert_error(412, "22001");
    assert_eq!(reset("History-Three-2026").await.status, 200);
    // Three back is out of the window now: the original is allowed again.
    let key = app.recovery_key(&user).await;
    assert_eq!(app.set_password(&key, &original).await.status, 200);
    // Only hashes are kept.
    let stored = app.stored_user(&user).await;
    assert_eq!(stored.password_history.len(), 2);
    let item = app
        .raw_item(&app.app.config.tables.users, &user.user_ref.storage_key())
        .await
        .unwrap();
    for v in item_strings(&item) {
        assert!(!v.contains("History-"), "plain text kept: {v}");
    }
}
