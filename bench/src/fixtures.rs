//! What every benchmark runs: one tenant with an admin and a user in the middle
//! of a recovery, the functions' environment, and one successful request per endpoint.

use account_core::model::account::{ActiveRecovery, User};
use account_core::model::domain::{Email, Password, Realm, TenantDomain, UserRef, Username};
use account_core::model::key::RecoveryKey;
use account_core::model::password::hash_blocking;
use account_core::model::time::UnixTime;
use account_core::store::items::{key_to_item, user_to_item};
use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine;
use lambda_http::http;
use serde_json::{json, Value};

use crate::stub::Stub;

pub const USERS: &str = "account-users";
pub const KEYS: &str = "account-recovery-keys";
const USER_PASSWORD: &str = "Velvet-Harbor-17";
const ADMIN_PASSWORD: &str = "Orchid-Lantern-42";
/// The recovery key the seeded user holds: the stub never consumes it.
const KEY: &str = "5b0f7a4e-8d7c-4f2a-9c1e-3a6b2d9e8f10";

/// The functions' environment, with every AWS endpoint at the stub.
pub fn env(stub_url: &str) -> Vec<(String, String)> {
    [
        ("AWS_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "bench"),
        ("AWS_SECRET_ACCESS_KEY", "bench"),
        ("AWS_ENDPOINT_URL", stub_url),
        ("USERS_TABLE", USERS),
        ("SETTINGS_TABLE", "account-settings"),
        ("KEYS_TABLE", KEYS),
        ("RATE_LIMITS_TABLE", "account-rate-limits"),
        ("OUTBOX_TABLE", "account-outbox"),
        ("MAIL_FROM", "no-reply@example.com"),
        // The floor pads answers for unknown users; it is wall time, not CPU.
        ("RESPONSE_FLOOR_MS", "0"),
        // The warm loop runs past the default 30 s: with the longest TTL it
        // measures a warm instance, not a refresh now and then (the hot-key
        // table counts one refresh per instance per 30 s).
        ("SETTINGS_CACHE_TTL", "1h"),
        (
            "JWT_SIGNING_KEYS",
            r#"{"kid":"bench-1","seed":"benchmark-seed-of-at-least-thirty-two-chars"}"#,
        ),
        ("RUST_LOG", "warn"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

fn user(name: &str, password: &str, admin: bool, recovery: Option<ActiveRecovery>) -> User {
    let password = Password::new(password.to_string()).expect("valid password");
    let mut user = User::new(
        UserRef {
            tenant: TenantDomain::default_tenant(),
            realm: Realm::primary(),
            username: Username::parse(name).expect("valid username"),
        },
        Email::parse(&format!("{name}@example.com")).expect("valid email"),
        admin,
        hash_blocking(&password).expect("hash"),
    );
    user.recovery = recovery;
    user
}

/// The key of the seeded user `kim`'s item.
pub fn kim_key() -> AttributeValue {
    let kim = UserRef {
        tenant: TenantDomain::default_tenant(),
        realm: Realm::primary(),
        username: Username::parse("kim").expect("valid username"),
    };
    AttributeValue::S(kim.storage_key())
}

/// Seeds the stub: `admin`, and `kim` holding the key [`KEY`].
pub fn seed(stub: &Stub) {
    let now = account_core::clock::now();
    let key = RecoveryKey::parse(KEY).expect("valid key").hash();
    let far = UnixTime(now.0 + 365 * 86_400);
    let kim = user(
        "kim",
        USER_PASSWORD,
        false,
        Some(ActiveRecovery {
            key_hash: key.clone(),
            expires_at: far,
            callback: "https://localhost:9443/recovery/reset-password".into(),
        }),
    );
    let admin = user("admin", ADMIN_PASSWORD, true, None);
    // The stored form of a recovery under way, as `Store::issue_key` writes it.
    let mut kim_item = user_to_item(&kim, now);
    if let Some(r) = &kim.recovery {
        kim_item.insert(
            "rk_hash".into(),
            AttributeValue::S(r.key_hash.as_str().into()),
        );
        kim_item.insert(
            "rk_expires".into(),
            AttributeValue::N(r.expires_at.0.to_string()),
        );
        kim_item.insert("rk_callback".into(), AttributeValue::S(r.callback.clone()));
    }
    stub.put(USERS, &kim_item);
    stub.put(USERS, &user_to_item(&admin, now));
    stub.put(KEYS, &key_to_item(&key, &kim, far, now));
}

/// One request a function answers with success.
#[derive(Clone)]
pub struct Case {
    pub name: &'static str,
    /// The function's package (and bootstrap directory) name.
    pub function: &'static str,
    pub path: &'static str,
    pub query: &'static str,
    pub body: String,
    pub basic: Option<(&'static str, &'static str)>,
    pub status: u16,
    /// argon2id computations the request needs (hash or verify).
    pub hashes: u32,
    /// The design's figures for the cost model: memory in template.yaml, DynamoDB
    /// round trips one after another, read and write units, the response floor.
    pub memory_mb: f64,
    pub sequential: f64,
    pub rru: f64,
    pub wru: f64,
    pub floor_ms: f64,
    /// Mails the request puts into the outbox.
    pub mails: f64,
    /// The calls per request the design needs at the least, with their counts;
    /// the benchmark fails on any other count.
    pub calls: &'static [(&'static str, u32)],
}

pub fn cases() -> Vec<Case> {
    let kim = json!({"username": "kim", "realm": "PRIMARY", "tenant-domain": "carbon.super"});
    vec![
        Case {
            name: "recover-password",
            function: "recover-password",
            path: "/api/identity/recovery/v0.9/recover-password",
            query: "type=email&notify=true",
            body: json!({"user": kim, "properties": []}).to_string(),
            basic: None,
            status: 202,
            hashes: 0,
            // On a warm instance (settings cached): GetItem user ‖ IP counter;
            // transaction put key + update user + put the mail. WRU: counter 1; in the
            // transaction (2 per KB) key 2, user 2, mail 4 (a reset mail's item is
            // ~1.1 KB: subject, text, HTML).
            memory_mb: 256.0,
            sequential: 2.0,
            rru: 1.0,
            wru: 9.0,
            mails: 1.0,
            floor_ms: 100.0,
            calls: &[
                ("DynamoDB GetItem", 1),
                ("DynamoDB TransactWriteItems", 1),
                ("DynamoDB UpdateItem", 1),
            ],
        },
        Case {
            name: "resend-code",
            function: "resend-code",
            path: "/api/identity/user/v1.0/resend-code",
            query: "",
            body: json!({"user": kim, "properties": [
                {"key": "RecoveryScenario", "value": "NOTIFICATION_BASED_PW_RECOVERY"}]})
            .to_string(),
            basic: None,
            status: 201,
            hashes: 0,
            // As recover-password, and the old key is deleted in the same transaction (+2 WRU).
            memory_mb: 256.0,
            sequential: 2.0,
            rru: 1.0,
            wru: 11.0,
            mails: 1.0,
            floor_ms: 100.0,
            calls: &[
                ("DynamoDB GetItem", 1),
                ("DynamoDB TransactWriteItems", 1),
                ("DynamoDB UpdateItem", 1),
            ],
        },
        Case {
            name: "set-password",
            function: "set-password",
            path: "/api/identity/recovery/v0.9/set-password",
            query: "",
            body: json!({"key": KEY, "password": "Copper-Meadow-58"}).to_string(),
            basic: None,
            status: 200,
            // The new hash; the history check (off by default) adds one verify per remembered password.
            hashes: 1,
            // GetItem key, GetItem user (settings cached), transaction delete key +
            // update user + put the notice.
            memory_mb: 512.0,
            sequential: 3.0,
            rru: 2.0,
            wru: 6.0,
            mails: 1.0,
            floor_ms: 0.0,
            calls: &[
                ("DynamoDB GetItem", 2),
                ("DynamoDB TransactWriteItems", 1),
            ],
        },
        Case {
            name: "lock-user",
            function: "lock-user",
            path: "/api/identity/user/v1.0/lock-user",
            query: "",
            body: json!({"user": kim, "locked": true}).to_string(),
            basic: Some(("admin", ADMIN_PASSWORD)),
            status: 200,
            hashes: 1,
            // BatchGet admin + user (settings cached); the admin's login confirmed (a
            // write conditioned on the lock state it read); the lock and its notice in
            // one transaction; DeleteItem of the revoked key.
            memory_mb: 512.0,
            sequential: 4.0,
            rru: 2.0,
            wru: 6.0,
            mails: 1.0,
            floor_ms: 0.0,
            calls: &[
                ("DynamoDB BatchGetItem", 1),
                ("DynamoDB DeleteItem", 1),
                ("DynamoDB TransactWriteItems", 1),
                ("DynamoDB UpdateItem", 1),
            ],
        },
        Case {
            name: "login",
            function: "login",
            path: "/api/identity/auth/v1.1/authenticate",
            query: "",
            body: json!({"username": "kim", "password": USER_PASSWORD, "tenant-domain": "carbon.super"})
                .to_string(),
            basic: None,
            status: 200,
            hashes: 1,
            // GetItem user (settings cached); a success is confirmed by a write
            // conditioned on the lock state it read, so a burst that locks the account
            // first wins.
            memory_mb: 1024.0,
            sequential: 2.0,
            rru: 1.0,
            wru: 1.0,
            mails: 0.0,
            floor_ms: 0.0,
            calls: &[("DynamoDB GetItem", 1), ("DynamoDB UpdateItem", 1)],
        },
    ]
}

impl Case {
    fn authorization(&self) -> Option<String> {
        self.basic.map(|(u, p)| {
            let cred = base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"));
            format!("Basic {cred}")
        })
    }

    /// The request as lambda_http hands it to a handler, from API Gateway's source IP.
    pub fn request(&self) -> lambda_http::Request {
        use lambda_http::RequestExt;
        let uri = if self.query.is_empty() {
            self.path.to_string()
        } else {
            format!("{}?{}", self.path, self.query)
        };
        let mut b = http::Request::builder()
            .method("POST")
            .uri(uri)
            .header("content-type", "application/json");
        if let Some(a) = self.authorization() {
            b = b.header("authorization", a);
        }
        let req = b
            .body(lambda_http::Body::Text(self.body.clone()))
            .expect("request");
        let mut ctx =
            lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequestContext::default();
        ctx.http.source_ip = Some("127.0.0.1".into());
        req.with_request_context(lambda_http::request::RequestContext::ApiGatewayV2(ctx))
    }

    /// The same request as an API Gateway HTTP API (payload 2.0) event.
    pub fn event(&self) -> Value {
        http_api_event(
            "POST",
            self.path,
            self.query,
            &self.body,
            self.authorization(),
        )
    }
}

pub fn http_api_event(
    method: &str,
    path: &str,
    query: &str,
    body: &str,
    authorization: Option<String>,
) -> Value {
    let mut headers = json!({"content-type": "application/json", "host": "127.0.0.1"});
    if let Some(a) = authorization {
        headers["authorization"] = Value::String(a);
    }
    json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "bench",
            "domainName": "127.0.0.1",
            "domainPrefix": "bench",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1",
                     "sourceIp": "127.0.0.1", "userAgent": "bench"},
            "requestId": "bench",
            "routeKey": "$default",
            "stage": "$default",
            "time": "23/Nov/2026:00:00:00 +0000",
            "timeEpoch": 0
        },
        "body": body,
        "isBase64Encoded": false
    })
}
