//! The rest of what WSO2 recovery clients call: validate-code, captcha, the
//! v1.2 login path, and the reset page used without JavaScript (its forms
//! posted as a browser posts them, the answer an HTML page).

use serde_json::json;

use crate::helpers::*;

const VALIDATE: &str = "/api/identity/recovery/v0.9/validate-code";
const CAPTCHA: &str = "/api/identity/recovery/v0.9/captcha";

fn validate_body(code: &str, step: Option<&str>) -> String {
    let mut v = json!({"code": code, "properties": []});
    if let Some(s) = step {
        v["step"] = s.into();
    }
    v.to_string()
}

#[tokio::test]
async fn validate_code_names_the_keys_user_and_leaves_the_key_usable() {
    let app = spawn_app().await;
    let user = app.add_user(false).await;
    let key = app.recovery_key(&user).await;
    let path = format!("/t/{}{VALIDATE}", app.tenant);
    for _ in 0..2 {
        let res = app
            .post(&path, validate_body(&key, Some("UPDATE_PASSWORD")), None)
            .await;
        assert_eq!(res.status, 202, "{}", res.body);
        assert_eq!(
            res.json(),
            json!({"username": user.username(), "realm": "PRIMARY", "tenant-domain": app.tenant.as_str()})
        );
    }
    // Without the tenant in the path, too; another tenant's path does not know the key.
    assert_eq!(
        app.post(VALIDATE, validate_body(&key, Some("UPDATE_PASSWORD")), None)
            .await
            .status,
        202
    );
    app.post(
        "/t/other.test/api/identity/recovery/v0.9/validate-code",
        validate_body(&key, Some("UPDATE_PASSWORD")),
        None,
    )
    .await
    .assert_error(400, "18001");
    // Only the password step; a missing step is not guessed.
    for step in [Some("CONFIRM_SIGN_UP"), None] {
        app.post(VALIDATE, validate_body(&key, step), None)
            .await
            .assert_error(400, "18001");
    }
    // Checking counts against nothing: the key still sets the password, once.
    assert_eq!(
        app.set_password(&key, "Validated-First-2026").await.status,
        200
    );
    app.post(VALIDATE, validate_body(&key, Some("UPDATE_PASSWORD")), None)
        .await
        .assert_error(400, "18001");
    app.post(
        VALIDATE,
        validate_body(&uuid::Uuid::new_v4().to_string(), Some("UPDATE_PASSWORD")),
        None,
    )
    .await
    .assert_error(400, "18001");
    app.post(VALIDATE, r#"{"step": "UPDATE_PASSWORD"}"#, None)
        .await
        .assert_error(400, "10400");
}

#[tokio::test]
async fn validate_code_says_when_a_key_expired() {
    let app = spawn_app().await;
    app.set(&[("recovery.expiry", "2s")]).await;
    let user = app.add_user(false).await;
    let key = app.recovery_key(&user).await;
    tokio::time::sleep(std::time::Duration::from_millis(3100)).await;
    app.post(VALIDATE, validate_body(&key, Some("UPDATE_PASSWORD")), None)
        .await
        .assert_error(400, "18002");
}

#[tokio::test]
async fn captcha_tells_a_page_whether_to_show_the_widget_never_the_secret() {
    let app = spawn_app().await;
    let q = "?captcha-type=ReCaptcha&recovery-type=password-recovery";
    let path = format!("/t/{}{CAPTCHA}{q}", app.tenant);
    let res = app.call("GET", &path, String::new(), None).await;
    assert_eq!(res.status, 200, "{}", res.body);
    let b = res.json();
    assert_eq!(b["reCaptchaEnabled"], false);
    assert_eq!(b["reCaptchaAPI"], "https://www.google.com/recaptcha/api.js");

    app.set(&[
        ("recovery.captcha.enabled", "true"),
        ("recovery.captcha.secret", "server-side-secret-value"),
        ("recovery.captcha.site_key", "6Lc-public-site-key"),
    ])
    .await;
    let res = app.call("GET", &path, String::new(), None).await;
    assert!(
        !res.body.contains("server-side-secret-value"),
        "{}",
        res.body
    );
    let b = res.json();
    assert_eq!(
        (b["reCaptchaEnabled"].as_bool(), b["reCaptchaKey"].as_str()),
        (Some(true), Some("6Lc-public-site-key"))
    );
    // The tenant as a query parameter, as WSO2's own example sends it.
    let res = app
        .call(
            "GET",
            &format!("{CAPTCHA}{q}&tenant-domain={}", app.tenant),
            String::new(),
            None,
        )
        .await;
    assert_eq!(res.json()["reCaptchaEnabled"], true);
    app.call(
        "GET",
        &format!("{CAPTCHA}?recovery-type=password-recovery"),
        String::new(),
        None,
    )
    .await
    .assert_error(400, "10400");
    app.call(
        "GET",
        &format!("{CAPTCHA}?captcha-type=Other&recovery-type=x"),
        String::new(),
        None,
    )
    .await
    .assert_error(400, "10400");
}

#[tokio::test]
async fn the_v1_2_login_path_logs_in_too() {
    let app = spawn_app().await;
    let user = app.add_user(false).await;
    let path = format!("/t/{}/api/identity/auth/v1.2/authenticate", app.tenant);
    let res = app
        .post(&path, "", Some(basic(user.username(), &user.password)))
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
}

/// The visible text of one element of the page, roughly (tags dropped).
fn section(html: &str, id: &str) -> (bool, String) {
    let start = html.find(&format!("id=\"{id}\"")).expect(id);
    let tag_end = start + html[start..].find('>').unwrap();
    let hidden = html[start..tag_end].contains(" hidden");
    let end = html[tag_end..]
        .find("</section>")
        .map_or(html.len(), |e| tag_end + e);
    let text = regex::Regex::new(r"<[^>]+>")
        .unwrap()
        .replace_all(&html[tag_end..end], " ");
    (
        hidden,
        text.split_whitespace().collect::<Vec<_>>().join(" "),
    )
}

#[tokio::test]
async fn the_reset_page_works_with_plain_form_posts() {
    let app = spawn_app().await;
    let user = app.add_user(false).await;
    let key = app.recovery_key(&user).await;
    let form = format!("/t/{}/recovery/reset-password", app.tenant);

    // The page at the mailed link holds the key in its form, which posts to our path.
    let page = app
        .call(
            "GET",
            &format!("{form}?confirmation={key}"),
            String::new(),
            None,
        )
        .await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains(&format!("name=\"key\" value=\"{key}\"")));
    assert!(page
        .body
        .contains("method=\"post\" action=\"reset-password\""));
    assert!(page.headers["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("form-action 'self'"));

    // Two different passwords: said so, nothing tried.
    let res = app
        .post_form(
            &form,
            &[
                ("key", &key),
                ("password", "Good-One-2026x"),
                ("confirm", "Other-2026x"),
            ],
        )
        .await;
    assert_eq!(res.status, 400);
    assert!(section(&res.body, "reset")
        .1
        .contains("The two passwords are not the same."));

    // The policy's refusal lists every broken rule and gives the form back, key included.
    let weak = "password";
    let res = app
        .post_form(
            &form,
            &[("key", &key), ("password", weak), ("confirm", weak)],
        )
        .await;
    assert_eq!(res.status, 400);
    assert_eq!(res.headers["content-type"], "text/html; charset=utf-8");
    let (hidden, text) = section(&res.body, "reset");
    assert!(!hidden && text.contains("most commonly used"), "{text}");
    assert!(res.body.contains(&format!("name=\"key\" value=\"{key}\"")));

    // A good one: done, and the user is told by mail.
    let good = "Plain-Form-Passw0rd";
    let res = app
        .post_form(
            &form,
            &[("key", &key), ("password", good), ("confirm", good)],
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert!(!section(&res.body, "done").0, "the success section shows");
    assert_eq!(app.login(user.username(), good).await.status, 200);
    assert_eq!(
        app.mails_to(&user.email).await.last().unwrap().subject,
        "Your password was changed"
    );

    // The used link: said so, with a form that mails a new one.
    let res = app
        .post_form(
            &form,
            &[("key", &key), ("password", good), ("confirm", good)],
        )
        .await;
    assert_eq!(res.status, 400);
    let (hidden, text) = section(&res.body, "invalid");
    assert!(!hidden && text.contains("not valid any more"), "{text}");
    assert!(res.body.contains("action=\"new-link\""));
}

#[tokio::test]
async fn an_expired_link_without_javascript_mails_a_new_one_and_says_the_same_for_anyone() {
    let app = spawn_app().await;
    app.set(&[("recovery.expiry", "2s")]).await;
    let user = app.add_user(false).await;
    let key = app.recovery_key(&user).await;
    tokio::time::sleep(std::time::Duration::from_millis(3100)).await;
    let t = app.tenant.as_str();
    let pw = "Too-Late-Passw0rd";
    let res = app
        .post_form(
            &format!("/t/{t}/recovery/reset-password"),
            &[("key", &key), ("password", pw), ("confirm", pw)],
        )
        .await;
    assert!(
        section(&res.body, "invalid")
            .1
            .contains("This link has expired."),
        "{}",
        res.body
    );

    let new_link = format!("/t/{t}/recovery/new-link");
    let known = app
        .post_form(&new_link, &[("username", user.username())])
        .await;
    let unknown = app
        .post_form(&new_link, &[("username", "nobody-at-all")])
        .await;
    assert_eq!(
        (known.status, &known.body),
        (unknown.status, &unknown.body),
        "one answer for both"
    );
    assert_eq!(known.status, 200);
    assert!(!section(&known.body, "again-sent").0);
    let mails = app.mails_to(&user.email).await;
    assert_eq!(mails.len(), 2, "a new link was mailed");
    assert!(mails[1]
        .link()
        .starts_with("https://localhost:9443/myaccount/reset-password?confirmation="));
}
