//! The test harness: a `TestApp` with one helper per endpoint, a fresh tenant
//! per test, users with unique names and mailboxes, and the mail read back from
//! aws-ses-v2-local's `GET /store`. Everything runs against the real emulators.

use std::collections::HashMap;

use account_core::config::Config;
use account_core::model::account::User;
use account_core::model::domain::{Email, Password, Realm, TenantDomain, UserRef, Username};
use account_core::model::password::hash_blocking;
use account_core::App;
use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine;
use lambda_http::http::{self, HeaderMap};
use lambda_http::Body;
use serde_json::Value;

pub const RECOVER: &str = "/api/identity/recovery/v0.9/recover-password?type=email&notify=true";
pub const RECOVER_NO_NOTIFY: &str =
    "/api/identity/recovery/v0.9/recover-password?type=email&notify=false";
pub const SET_PASSWORD: &str = "/api/identity/recovery/v0.9/set-password";
pub const RESEND: &str = "/api/identity/user/v1.0/resend-code";
pub const LOGIN: &str = "/api/identity/auth/v1.1/authenticate";
pub const LOCK_USER: &str = "/api/identity/user/v1.0/lock-user";

/// Process environment first, then `infra/local.env`, so `cargo test` works
/// against running emulators without sourcing anything.
pub fn lookup(key: &str) -> Option<String> {
    if let Ok(v) = std::env::var(key) {
        return Some(v);
    }
    static FILE: std::sync::OnceLock<HashMap<String, String>> = std::sync::OnceLock::new();
    FILE.get_or_init(|| {
        // LOCAL_ENV names another file of the same form (the one-endpoint run's).
        let path = std::env::var("LOCAL_ENV").unwrap_or_else(|_| {
            concat!(env!("CARGO_MANIFEST_DIR"), "/../infra/local.env").to_string()
        });
        std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{path}: {e}"))
            .lines()
            .filter(|l| !l.trim_start().starts_with('#'))
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| {
                (
                    k.trim().to_string(),
                    v.trim().trim_matches('\'').to_string(),
                )
            })
            .collect()
    })
    .get(key)
    .cloned()
}

/// The AWS settings of infra/local.env (with `overrides`), read explicitly:
/// parallel tests must not change the process environment.
fn aws_env(overrides: &[(&str, &str)]) -> account_core::outbound::aws::AwsEnv {
    account_core::outbound::aws::AwsEnv::from_lookup(|k| {
        overrides
            .iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| v.to_string())
            .or_else(|| lookup(k))
    })
    .expect("AWS settings in infra/local.env")
}

pub async fn ddb_client() -> aws_sdk_dynamodb::Client {
    let env = aws_env(&[]);
    env.dynamodb(env.http_client())
}

/// An SES client for `url` (the emulator, or a dead port to test failures).
pub async fn ses_client(url: &str) -> aws_sdk_sesv2::Client {
    let env = aws_env(&[("AWS_ENDPOINT_URL_SESV2", url)]);
    env.sesv2(env.http_client())
}

/// The mail emulator: its own endpoint, or the one endpoint of every service.
pub fn ses_url() -> String {
    lookup("AWS_ENDPOINT_URL_SESV2")
        .or_else(|| lookup("AWS_ENDPOINT_URL"))
        .expect("AWS_ENDPOINT_URL_SESV2 or AWS_ENDPOINT_URL")
}

pub struct TestApp {
    pub app: App,
    /// The mailer's own parts: tests deliver the outbox with the code the
    /// `mailer` function runs (the local relay may be delivering it too; a
    /// mail is claimed once).
    pub mailer: account_core::app::MailerApp,
    pub issuer: account_core::tokens::TokenIssuer,
    pub tenant: TenantDomain,
    pub http: reqwest::Client,
}

#[derive(Debug, Clone)]
pub struct TestUser {
    pub user_ref: UserRef,
    pub email: String,
    pub password: String,
}

impl TestUser {
    pub fn username(&self) -> &str {
        self.user_ref.username.as_str()
    }
    /// WSO2's `user` object for this user.
    pub fn json(&self) -> Value {
        serde_json::json!({
            "username": self.username(),
            "realm": self.user_ref.realm.as_str(),
            "tenant-domain": self.user_ref.tenant.as_str(),
        })
    }
}

#[derive(Debug)]
pub struct TestResponse {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
}

impl TestResponse {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    /// Asserts the WSO2 error shape with this status and code.
    pub fn assert_error(&self, status: u16, code: &str) -> Value {
        assert_eq!(self.status, status, "body: {}", self.body);
        let b = self.json();
        assert_eq!(b["code"], code, "body: {}", self.body);
        for field in ["message", "description", "traceId"] {
            assert!(
                b[field].as_str().is_some_and(|s| !s.is_empty()),
                "{field} missing: {}",
                self.body
            );
        }
        assert_eq!(
            self.headers
                .get("content-type")
                .and_then(|v| v.to_str().ok()),
            Some("application/json")
        );
        b
    }
}

#[derive(Debug, Clone)]
pub struct Mail {
    pub from: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl Mail {
    /// The recovery key in the mail's reset link.
    pub fn key(&self) -> String {
        let re = regex::Regex::new(r"confirmation=([0-9a-fA-F-]{36})").expect("regex");
        re.captures(&self.text)
            .map(|c| c[1].to_string())
            .unwrap_or_else(|| panic!("no key in mail: {}", self.text))
    }
    pub fn link(&self) -> String {
        let re = regex::Regex::new(r"(https?://\S+confirmation=[0-9a-fA-F-]{36})").expect("regex");
        re.captures(&self.text)
            .map(|c| c[1].to_string())
            .expect("link")
    }
}

pub fn unique(prefix: &str) -> String {
    format!(
        "{prefix}{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    )
}

pub fn basic(user: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

/// The login function's token issuer, with the keys of infra/local.env.
pub fn issuer() -> account_core::tokens::TokenIssuer {
    let keys = lookup("JWT_SIGNING_KEYS").expect("JWT_SIGNING_KEYS in infra/local.env");
    account_core::tokens::TokenIssuer::new(&keys, lookup).expect("token keys")
}

/// A test app on a fresh tenant, against the emulators named by infra/local.env.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// The same, with the configuration changed by `tweak` first.
pub async fn spawn_app_with(tweak: impl FnOnce(&mut Config)) -> TestApp {
    spawn_app_on(ddb_client().await, tweak).await
}

/// For tests that pile dozens of argon2id hashes onto two shared cores (in
/// Lambda each instance has a CPU of its own): DynamoDB Local then answers
/// late too, so the request's budget and the SDK's time-outs are relaxed.
/// Both have tests of their own (faults.rs); these are about counting.
pub async fn spawn_pileup_app() -> TestApp {
    use aws_sdk_dynamodb::config::timeout::TimeoutConfig;
    let strict = ddb_client().await;
    let relaxed = strict
        .config()
        .to_builder()
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(std::time::Duration::from_secs(5))
                .operation_attempt_timeout(std::time::Duration::from_secs(20))
                .operation_timeout(std::time::Duration::from_secs(25))
                .build(),
        )
        .build();
    spawn_app_on(aws_sdk_dynamodb::Client::from_conf(relaxed), |c| {
        c.request_budget = std::time::Duration::from_secs(30)
    })
    .await
}

async fn spawn_app_on(ddb: aws_sdk_dynamodb::Client, tweak: impl FnOnce(&mut Config)) -> TestApp {
    let mut config = Config::from_lookup(lookup).expect("configuration from infra/local.env");
    // In-process tests check behaviour, not timing; the floor has its own tests.
    config.response_floor = std::time::Duration::ZERO;
    // Tests change settings as they go; the cache has its own test.
    config.settings_cache_ttl = std::time::Duration::ZERO;
    // An outbox of their own that the relay does not read: in-process tests are
    // their own mailer, so what waits and what was sent is theirs to decide.
    config.tables.outbox = format!("{}-api-tests", config.tables.outbox);
    tweak(&mut config);
    let mailer = account_core::app::MailerApp::from_clients(
        &config,
        ddb.clone(),
        ses_client(&ses_url()).await,
    );
    let app = App::from_clients(config, ddb);
    app.store.create_tables().await.unwrap_or_else(|e| {
        panic!("DynamoDB Local is not reachable ({e:#}); start it with `infra/emulators.sh start` or run `infra/test.sh`")
    });
    TestApp {
        app,
        mailer,
        issuer: issuer(),
        tenant: TenantDomain::parse(&format!("{}.test", unique("t"))).expect("tenant"),
        http: reqwest::Client::new(),
    }
}

impl TestApp {
    /// Sets tenant settings, validated like `accountctl tenant set`.
    pub async fn set(&self, pairs: &[(&str, &str)]) {
        let mut merged = self
            .app
            .store
            .tenant_overrides(&self.tenant)
            .await
            .expect("read settings");
        merged.extend(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        self.app
            .config
            .defaults
            .with_overrides(&merged)
            .expect("valid settings");
        self.app
            .store
            .put_tenant_overrides(&self.tenant, &merged, account_core::clock::now())
            .await
            .expect("store settings");
    }

    pub async fn add_user(&self, admin: bool) -> TestUser {
        self.add_user_named(&unique("user-"), admin).await
    }

    pub async fn add_user_named(&self, name: &str, admin: bool) -> TestUser {
        let password = format!("Pw-{}", unique(""));
        let email = format!("{}@example.test", unique("m-"));
        let user_ref = UserRef {
            tenant: self.tenant.clone(),
            realm: Realm::primary(),
            username: Username::parse(name).expect("username"),
        };
        let user = User::new(
            user_ref.clone(),
            Email::parse(&email).expect("email"),
            admin,
            hash_blocking(&Password::new(password.clone()).expect("pw")).expect("hash"),
        );
        let w = self
            .app
            .store
            .create_user(&user, account_core::clock::now())
            .await
            .expect("create user");
        assert_eq!(w, account_core::store::Write::Done);
        TestUser {
            user_ref,
            email,
            password,
        }
    }

    pub async fn stored_user(&self, user: &TestUser) -> User {
        self.app
            .store
            .get_user(&user.user_ref)
            .await
            .expect("read")
            .expect("user exists")
    }

    /// The raw stored item, to check what is (and is not) kept.
    pub async fn raw_item(&self, table: &str, pk: &str) -> Option<HashMap<String, AttributeValue>> {
        self.app
            .store
            .client()
            .get_item()
            .table_name(table)
            .key("pk", AttributeValue::S(pk.to_string()))
            .consistent_read(true)
            .send()
            .await
            .expect("get item")
            .item
    }

    /// Sets attributes on a stored user directly (fixtures for states other features create).
    pub async fn patch_user(&self, user: &TestUser, set: &[(&str, AttributeValue)]) {
        let expr = set
            .iter()
            .enumerate()
            .map(|(i, (k, _))| format!("{k} = :v{i}"))
            .collect::<Vec<_>>();
        let values: HashMap<String, AttributeValue> = set
            .iter()
            .enumerate()
            .map(|(i, (_, v))| (format!(":v{i}"), v.clone()))
            .collect();
        self.app
            .store
            .client()
            .update_item()
            .table_name(&self.app.config.tables.users)
            .key("pk", AttributeValue::S(user.user_ref.storage_key()))
            .update_expression(format!("SET {}", expr.join(", ")))
            .set_expression_attribute_values(Some(values))
            .send()
            .await
            .expect("patch user");
    }

    /// Calls a handler in-process, as API Gateway would.
    pub async fn post(
        &self,
        path_and_query: &str,
        body: impl Into<String>,
        auth: Option<String>,
    ) -> TestResponse {
        self.call("POST", path_and_query, body.into(), auth).await
    }

    pub async fn call(
        &self,
        method: &str,
        path_and_query: &str,
        body: String,
        auth: Option<String>,
    ) -> TestResponse {
        let headers: Vec<(&str, String)> = auth.into_iter().map(|a| ("authorization", a)).collect();
        self.call_with(method, path_and_query, body, &headers, None)
            .await
    }

    /// A request with extra headers and, as API Gateway reports it, a source IP.
    pub async fn call_with(
        &self,
        method: &str,
        path_and_query: &str,
        body: String,
        headers: &[(&str, String)],
        source_ip: Option<&str>,
    ) -> TestResponse {
        use lambda_http::RequestExt;
        let mut b = http::Request::builder().method(method).uri(path_and_query);
        if !headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        {
            b = b.header("content-type", "application/json");
        }
        for (k, v) in headers {
            b = b.header(*k, v);
        }
        let body = if body.is_empty() {
            Body::Empty
        } else {
            Body::Text(body)
        };
        let mut req = b.body(body).expect("request");
        if let Some(ip) = source_ip {
            let mut ctx =
                lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequestContext::default();
            ctx.http.source_ip = Some(ip.to_string());
            req = req.with_request_context(lambda_http::request::RequestContext::ApiGatewayV2(ctx));
        }
        // The route table finds the handler, as the functions' routes do.
        let res = account_core::http::dispatch(&self.app, &self.issuer, req)
            .await
            .expect("handlers always answer");
        let (parts, body) = res.into_parts();
        let body = match body {
            Body::Empty => String::new(),
            Body::Text(t) => t,
            Body::Binary(b) => String::from_utf8(b).expect("utf-8"),
            _ => String::new(),
        };
        TestResponse {
            status: parts.status.as_u16(),
            headers: parts.headers,
            body,
        }
    }

    /// Posts a form as a browser without JavaScript does.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> TestResponse {
        let body = fields
            .iter()
            .map(|(k, v)| format!("{k}={}", form_encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let headers = [(
            "content-type",
            "application/x-www-form-urlencoded".to_string(),
        )];
        self.call_with("POST", path, body, &headers, Some("203.0.113.7"))
            .await
    }

    pub async fn recover(&self, user: &TestUser) -> TestResponse {
        let body = serde_json::json!({"user": user.json(), "properties": []});
        self.post(RECOVER, body.to_string(), None).await
    }

    pub async fn resend(&self, user: &TestUser) -> TestResponse {
        let body = serde_json::json!({
            "user": user.json(),
            "properties": [{"key": "RecoveryScenario", "value": "NOTIFICATION_BASED_PW_RECOVERY"}]
        });
        self.post(RESEND, body.to_string(), None).await
    }

    pub async fn set_password(&self, key: &str, password: &str) -> TestResponse {
        let body = serde_json::json!({"key": key, "password": password, "properties": []});
        self.post(SET_PASSWORD, body.to_string(), None).await
    }

    /// Logs in with the body form in this app's tenant.
    pub async fn login(&self, username: &str, password: &str) -> TestResponse {
        let body = serde_json::json!({
            "username": username, "password": password, "tenant-domain": self.tenant.as_str()
        });
        self.post(LOGIN, body.to_string(), None).await
    }

    /// `n` wrong passwords in a row, each answered with the plain 17002.
    pub async fn fail_logins(&self, user: &TestUser, n: usize) {
        for _ in 0..n {
            self.login(user.username(), "wrong")
                .await
                .assert_error(401, "17002");
        }
    }

    /// Locks (`true`) or unlocks a user as `admin`.
    pub async fn lock_user(
        &self,
        admin: &TestUser,
        target: &TestUser,
        locked: bool,
        reason: &str,
    ) -> TestResponse {
        let body = serde_json::json!({"user": target.json(), "locked": locked, "reason": reason});
        self.post(
            LOCK_USER,
            body.to_string(),
            Some(basic(admin.username(), &admin.password)),
        )
        .await
    }

    /// Every mail sent to `email`, oldest first, once the outbox holds none
    /// for it still on its way (waiting ones are delivered here, by the
    /// mailer's own code; ones given up stay, and show as not sent).
    pub async fn mails_to(&self, email: &str) -> Vec<Mail> {
        self.deliver_to(email).await;
        mails_to(&self.http, email).await
    }

    /// Delivers the outbox's waiting mails to `email` and waits for those another
    /// mailer (the relay) is sending.
    pub async fn deliver_to(&self, email: &str) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            let now = account_core::clock::now();
            let waiting = self
                .mailer
                .store
                .outbox(|m| {
                    m.to.as_str() == email
                        && !matches!(
                            m.status,
                            account_core::model::outbox::MailStatus::Failed { .. }
                        )
                        && now < m.expires_at
                })
                .await
                .expect("outbox");
            if waiting.is_empty() {
                return;
            }
            // One at a time, oldest first, as a user's mails are expected to land.
            let mut waiting = waiting;
            waiting.sort_by_key(|m| m.created_at);
            for m in &waiting {
                account_core::delivery::deliver(
                    &self.mailer.store,
                    &self.mailer.mailer,
                    &m.id.to_string(),
                    account_core::clock::now,
                )
                .await
                .expect("delivery");
            }
            assert!(
                std::time::Instant::now() < deadline,
                "mails to {email} still waiting after 60 s"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// Starts a recovery and returns the key from the mail it sent.
    pub async fn recovery_key(&self, user: &TestUser) -> String {
        assert_eq!(self.recover(user).await.status, 202);
        self.current_key(user).await
    }

    /// The key in the mail that carries the account's working key. Mails can
    /// arrive out of order (the relay and the test deliver concurrently), so
    /// "the last mail" is not "the newest key"; the stored hash says which is.
    pub async fn current_key(&self, user: &TestUser) -> String {
        let stored = self
            .stored_user(user)
            .await
            .recovery
            .expect("a recovery under way")
            .key_hash;
        self.mails_to(&user.email)
            .await
            .iter()
            .filter(|m| m.text.contains("confirmation="))
            .map(Mail::key)
            .find(|k| {
                account_core::model::key::RecoveryKey::parse(k).map(|k| k.hash())
                    == Some(stored.clone())
            })
            .expect("a mail with the working key")
    }
}

/// Every mail aws-ses-v2-local holds for `email`, oldest first.
pub async fn mails_to(http: &reqwest::Client, email: &str) -> Vec<Mail> {
    stored_mails(http)
        .await
        .into_iter()
        .filter(|(to, _)| to.iter().any(|t| t == email))
        .map(|(_, m)| m)
        .collect()
}

/// Whether the tests run with one endpoint for every service (moto's server,
/// as LocalStack is used) rather than the per-service emulators.
pub fn one_endpoint() -> bool {
    lookup("MAIL_STORE").as_deref() == Some("moto")
}

/// Every mail the mail emulator holds, oldest first, with its recipients:
/// aws-ses-v2-local's `/store`, or (`MAIL_STORE=moto`) moto's state at
/// `/moto-api/data.json`, which keeps one body per mail (the HTML part).
pub async fn stored_mails(http: &reqwest::Client) -> Vec<(Vec<String>, Mail)> {
    let s = |v: &Value| v.as_str().unwrap_or_default().to_string();
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .into_iter()
            .flatten()
            .filter_map(|t| t.as_str().map(str::to_string))
            .collect()
    };
    if one_endpoint() {
        let url = format!(
            "{}/moto-api/data.json",
            lookup("AWS_ENDPOINT_URL").expect("AWS_ENDPOINT_URL")
        );
        let state: Value = http
            .get(url)
            .send()
            .await
            .expect("moto's server is not reachable")
            .json()
            .await
            .expect("moto's state JSON");
        // Kept in the order sent.
        return state["ses"]["Message"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|m| {
                (
                    strings(&m["destinations"]["ToAddresses"]),
                    Mail {
                        from: s(&m["source"]),
                        subject: s(&m["subject"]),
                        text: s(&m["body"]),
                        html: s(&m["body"]),
                    },
                )
            })
            .collect();
    }
    let store: Value = http
        .get(format!("{}/store", ses_url()))
        .send()
        .await
        .expect("aws-ses-v2-local is not reachable; start it with `infra/emulators.sh start`")
        .json()
        .await
        .expect("store JSON");
    let mut mails: Vec<(i64, Vec<String>, Mail)> = store["emails"]
        .as_array()
        .expect("emails")
        .iter()
        .map(|m| {
            (
                m["at"].as_i64().unwrap_or_default(),
                strings(&m["destination"]["to"]),
                Mail {
                    from: s(&m["from"]),
                    subject: s(&m["subject"]),
                    text: s(&m["body"]["text"]),
                    html: s(&m["body"]["html"]),
                },
            )
        })
        .collect();
    mails.sort_by_key(|(at, _, _)| *at);
    mails.into_iter().map(|(_, to, m)| (to, m)).collect()
}

/// `application/x-www-form-urlencoded` for one value.
pub fn form_encode(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => {
                (b as char).to_string()
            }
            b' ' => "+".to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub fn sha256_hex(s: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Every string value of an item, flattened, to look for secrets.
pub fn item_strings(item: &HashMap<String, AttributeValue>) -> Vec<String> {
    fn walk(v: &AttributeValue, out: &mut Vec<String>) {
        match v {
            AttributeValue::S(s) | AttributeValue::N(s) => out.push(s.clone()),
            AttributeValue::L(l) => l.iter().for_each(|v| walk(v, out)),
            AttributeValue::M(m) => m.values().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    item.values().for_each(|v| walk(v, &mut out));
    out
}

/// A reCAPTCHA verifier of our own on 127.0.0.1: token `good` passes, `bad`
/// fails, `slow` answers after 5 s, `junk` answers with something not JSON.
/// Returns its URL and the form bodies it received.
pub async fn spawn_verifier() -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/siteverify", listener.local_addr().expect("addr"));
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let log = log.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                // Read the head, then as much body as Content-Length says.
                let body = loop {
                    let Ok(n) = sock.read(&mut chunk).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    let text = String::from_utf8_lossy(&buf).to_string();
                    if let Some(i) = text.find("\r\n\r\n") {
                        let len = text[..i]
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length:")
                                    .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                            })
                            .unwrap_or(0);
                        if buf.len() >= i + 4 + len {
                            break text[i + 4..].to_string();
                        }
                    }
                };
                log.lock().unwrap().push(body.clone());
                let json = if body.contains("response=good") {
                    r#"{"success": true}"#
                } else if body.contains("response=slow") {
                    tokio::time::sleep(std::time::Duration::from_secs(5)).await;
                    r#"{"success": true}"#
                } else if body.contains("response=junk") {
                    "<html>nope</html>"
                } else {
                    r#"{"success": false, "error-codes": ["invalid-input-response"]}"#
                };
                let res = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{json}",
                    json.len()
                );
                let _ = sock.write_all(res.as_bytes()).await;
            });
        }
    });
    (url, seen)
}

/// Stops the process `pid` (an emulator) until dropped, then `SIGCONT`s it,
/// whether the test passed or panicked.
pub struct Frozen(String);

impl Frozen {
    pub fn freeze(pid: &str) -> Self {
        let ok = std::process::Command::new("kill")
            .args(["-STOP", pid])
            .status();
        assert!(ok.is_ok_and(|s| s.success()), "SIGSTOP {pid}");
        Self(pid.to_string())
    }
}

impl Drop for Frozen {
    fn drop(&mut self) {
        let _ = std::process::Command::new("kill")
            .args(["-CONT", &self.0])
            .status();
    }
}
