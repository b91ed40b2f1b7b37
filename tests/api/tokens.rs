//! Tokens a relying party can verify and an account can revoke: an independent
//! JWT library verifies ours with the published JWKS, before and after a key
//! rotation; introspection answers `active: false` once a password is reset
//! through recovery or an admin locks the account; forged algorithms fail.

use account_core::tokens::{rotated, TokenIssuer};
use base64::Engine;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use serde_json::Value;

use crate::helpers::*;

const JWKS: &str = "/oauth2/jwks";
const INTROSPECT: &str = "/oauth2/introspect";

/// Verifies `token` as any relying party would: the key by `kid` from the JWKS.
fn independent_verify(jwks: &Value, token: &str) -> Result<Value, jsonwebtoken::errors::Error> {
    let set: JwkSet = serde_json::from_value(jwks.clone()).expect("a JWK Set");
    let kid = decode_header(token)?.kid.expect("kid");
    let jwk = set.find(&kid).expect("the kid is published");
    let mut v = Validation::new(Algorithm::EdDSA);
    v.set_audience(&["account-recovery"]);
    v.set_issuer(&["account-recovery"]);
    v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    decode::<Value>(token, &DecodingKey::from_jwk(jwk)?, &v).map(|d| d.claims)
}

async fn token_of(app: &TestApp, user: &TestUser) -> String {
    let res = app.login(user.username(), &user.password).await;
    assert_eq!(res.status, 200, "{}", res.body);
    res.json()["token"].as_str().unwrap().to_string()
}

async fn jwks(app: &TestApp) -> Value {
    let res = app
        .call(
            "GET",
            &format!("/t/{}{JWKS}", app.tenant),
            String::new(),
            None,
        )
        .await;
    assert_eq!(res.status, 200);
    assert_eq!(res.headers["cache-control"], "public, max-age=300");
    res.json()
}

async fn introspect(app: &TestApp, admin: &TestUser, token: &str) -> TestResponse {
    let headers = [
        (
            "content-type",
            "application/x-www-form-urlencoded".to_string(),
        ),
        ("authorization", basic(admin.username(), &admin.password)),
    ];
    let body = format!("token={}", form_encode(token));
    app.call_with(
        "POST",
        &format!("/t/{}{INTROSPECT}", app.tenant),
        body,
        &headers,
        None,
    )
    .await
}

async fn active(app: &TestApp, admin: &TestUser, token: &str) -> bool {
    let res = introspect(app, admin, token).await;
    assert_eq!(res.status, 200, "{}", res.body);
    res.json()["active"].as_bool().expect("active")
}

#[tokio::test]
async fn an_independent_library_verifies_our_tokens_before_and_after_a_rotation() {
    let mut app = spawn_app().await;
    let user = app.add_user(true).await;
    let before = token_of(&app, &user).await;
    let claims = independent_verify(&jwks(&app).await, &before).expect("verifies");
    let stored = app.stored_user(&user).await;
    assert_eq!(claims["sub"], stored.id.to_string());
    assert_eq!(claims["tenant"], app.tenant.as_str());
    assert_eq!(claims["roles"], serde_json::json!(["admin"]));
    assert_eq!(claims["ver"], stored.credential_version);
    for c in ["iat", "exp", "iss", "aud", "ver"] {
        assert!(!claims[c].is_null(), "{c}");
    }

    // Rotate: a new current key, the old one kept as previous.
    let keys = lookup("JWT_SIGNING_KEYS").unwrap();
    let new_keys = rotated(Some(&keys), "local-2").unwrap();
    app.issuer = TokenIssuer::new(&new_keys, lookup).unwrap();
    let set = jwks(&app).await;
    assert_eq!(
        set["keys"].as_array().unwrap().len(),
        2,
        "current and previous"
    );
    let after = token_of(&app, &user).await;
    assert_eq!(
        decode_header(&after).unwrap().kid.as_deref(),
        Some("local-2")
    );
    independent_verify(&set, &after).expect("the new key verifies");
    independent_verify(&set, &before).expect("the old token still verifies");
    let admin = user.clone();
    assert!(active(&app, &admin, &before).await && active(&app, &admin, &after).await);

    // The public key is no HMAC secret: HS256 signed with it is refused by both sides.
    let parts: Vec<&str> = after.split('.').collect();
    let h = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(r#"{"alg":"HS256","typ":"JWT","kid":"local-2"}"#);
    let none = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(r#"{"alg":"none","kid":"local-2"}"#);
    for forged in [
        format!("{h}.{}.{}", parts[1], parts[2]),
        format!("{none}.{}.", parts[1]),
    ] {
        assert!(independent_verify(&set, &forged).is_err());
        assert!(!active(&app, &admin, &forged).await);
    }
}

#[tokio::test]
async fn a_reset_or_an_admin_lock_makes_earlier_tokens_inactive() {
    let app = spawn_app().await;
    let admin = app.add_user(true).await;
    let user = app.add_user(false).await;

    let token = token_of(&app, &user).await;
    let res = introspect(&app, &admin, &token).await;
    let b = res.json();
    assert_eq!(b["active"], true, "{b}");
    assert_eq!(b["username"], user.username());
    assert_eq!(b["tenant"], app.tenant.as_str());
    assert!(b["exp"].is_i64() && b["iat"].is_i64() && b["scope"].is_string());

    // A password set through recovery: the token before it is done.
    let key = app.recovery_key(&user).await;
    assert_eq!(
        app.set_password(&key, "Revoking-Reset-2026").await.status,
        200
    );
    assert!(
        !active(&app, &admin, &token).await,
        "inactive after a reset"
    );
    let mut user = user;
    user.password = "Revoking-Reset-2026".into();
    let fresh = token_of(&app, &user).await;
    assert!(active(&app, &admin, &fresh).await);

    // An admin lock: inactive, and stays so after the unlock (the version moved).
    assert_eq!(
        app.lock_user(&admin, &user, true, "stolen laptop")
            .await
            .status,
        200
    );
    assert!(!active(&app, &admin, &fresh).await, "inactive while locked");
    assert_eq!(app.lock_user(&admin, &user, false, "").await.status, 200);
    assert!(
        !active(&app, &admin, &fresh).await,
        "a lock revokes for good"
    );
    assert!(active(&app, &admin, &token_of(&app, &user).await).await);
}

#[tokio::test]
async fn introspection_is_for_the_tenants_admins_and_tells_them_nothing_of_other_tenants() {
    let app = spawn_app().await;
    let admin = app.add_user(true).await;
    let plain = app.add_user(false).await;
    let token = token_of(&app, &plain).await;
    let body = format!("token={}", form_encode(&token));
    let form = (
        "content-type",
        "application/x-www-form-urlencoded".to_string(),
    );
    let path = format!("/t/{}{INTROSPECT}", app.tenant);
    app.call_with(
        "POST",
        &path,
        body.clone(),
        std::slice::from_ref(&form),
        None,
    )
    .await
    .assert_error(401, "10401");
    let as_plain = [
        form.clone(),
        ("authorization", basic(plain.username(), &plain.password)),
    ];
    app.call_with("POST", &path, body.clone(), &as_plain, None)
        .await
        .assert_error(403, "10403");
    let wrong = [
        form.clone(),
        ("authorization", basic(admin.username(), "wrong")),
    ];
    app.call_with("POST", &path, body, &wrong, None)
        .await
        .assert_error(401, "10401");

    // Another tenant's admin learns only "inactive" about this tenant's token.
    let other = spawn_app().await;
    let other_admin = other.add_user(true).await;
    assert!(!active(&other, &other_admin, &token).await);
    assert!(!active(&app, &admin, "not.a.token").await);
    assert!(active(&app, &admin, &token).await);
}
