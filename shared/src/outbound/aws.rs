//! SDK clients built from the environment Lambda gives a function, without
//! `aws-config`. Lambda puts the role's credentials and the region in environment
//! variables; the default provider chain (profile files, SSO, STS, IMDS, ECS)
//! would add ~1 MB to every bootstrap and file look-ups to every cold start for
//! sources a function never uses. Operators' tools (accountctl) keep the full chain.
//!
//! Honoured variables: `AWS_REGION` (or `AWS_DEFAULT_REGION`), `AWS_ACCESS_KEY_ID`,
//! `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_ENDPOINT_URL`,
//! `AWS_ENDPOINT_URL_DYNAMODB`, `AWS_ENDPOINT_URL_SESV2`,
//! `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS`, `AWS_USE_FIPS_ENDPOINT`,
//! `AWS_USE_DUALSTACK_ENDPOINT`, and our own `TRUST_STORE`.

use std::time::Duration;

use aws_sdk_dynamodb::config::{
    BehaviorVersion, Credentials, Region, SharedHttpClient, StalledStreamProtectionConfig,
};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use aws_smithy_types::retry::RetryConfig;
use aws_smithy_types::timeout::TimeoutConfig;
use rustls::RootCertStore;

use super::https::{pem_roots, system_roots, Https};
use crate::env::ConfigError;

/// The roots that sign AWS service endpoints (Amazon Trust Services and the
/// Starfield root that cross-signs it).
const AWS_ROOTS: &[u8] = include_bytes!("../../certs/aws-roots.pem");
/// The roots that sign www.google.com (reCAPTCHA): Google Trust Services and the
/// GlobalSign root that cross-signs GTS Root R1.
const GOOGLE_ROOTS: &[u8] = include_bytes!("../../certs/google-roots.pem");

/// A dependency that did not answer, answered too slowly, failed on its side
/// or throttled us past our retries. The request may be tried again: the
/// caller gets `503` with `Retry-After`, never the `500` of a bug of ours.
#[derive(Debug)]
pub struct Unavailable(pub String);

impl std::fmt::Display for Unavailable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Unavailable {}

/// Whether `e` (or a cause of it) is [`Unavailable`].
pub fn is_unavailable(e: &anyhow::Error) -> bool {
    e.chain().any(|c| c.is::<Unavailable>())
}

/// The error codes AWS answers when it throttles (the SDK's retry strategy
/// retries them with jittered backoff first): DynamoDB's, and SES's sending rate.
pub fn is_throttling(code: Option<&str>) -> bool {
    matches!(
        code,
        Some(
            "ProvisionedThroughputExceededException"
                | "ThrottlingException"
                | "Throttling"
                | "RequestLimitExceeded"
                | "TooManyRequestsException"
                | "LimitExceededException"
        )
    )
}

/// An SDK error with its whole cause chain, for logs (never for bodies); an
/// [`Unavailable`] when the call timed out, never reached the service, got a
/// 5xx or was throttled.
pub fn sdk_err<E>(e: SdkError<E, HttpResponse>, what: &str) -> anyhow::Error
where
    E: std::error::Error + ProvideErrorMetadata + Send + Sync + 'static,
{
    let transient = match &e {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(se) => {
            se.raw().status().is_server_error() || is_throttling(se.err().code())
        }
        _ => false,
    };
    let text = format!("{what}: {}", DisplayErrorContext(e));
    if transient {
        anyhow::Error::new(Unavailable(text))
    } else {
        anyhow::anyhow!(text)
    }
}

/// Which certificate authorities TLS connections trust.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trust {
    /// Only the few roots the service's peers use, compiled in: no reading and
    /// parsing of the system's ~150 roots at every cold start.
    Bundled,
    /// The system trust store, for a TLS-intercepting proxy or a private endpoint
    /// (`TRUST_STORE=system`).
    System,
}

impl Trust {
    fn roots(self, bundled: &[u8]) -> RootCertStore {
        match self {
            Trust::Bundled => pem_roots(bundled),
            Trust::System => system_roots(),
        }
    }
}

/// Where and as whom the functions talk to AWS.
#[derive(Debug, Clone)]
pub struct AwsEnv {
    pub region: String,
    credentials: Credentials,
    dynamodb_endpoint: Option<String>,
    sesv2_endpoint: Option<String>,
    use_fips: bool,
    use_dual_stack: bool,
    pub trust: Trust,
}

impl AwsEnv {
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        let flag = |k: &str| -> Result<bool, ConfigError> {
            match get(k).as_deref().map(str::trim) {
                None => Ok(false),
                Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
                Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
                Some(v) => Err(ConfigError::new(format!("{k}: `{v}` is not true or false"))),
            }
        };
        let region = get("AWS_REGION")
            .or_else(|| get("AWS_DEFAULT_REGION"))
            .ok_or_else(|| ConfigError::new("AWS_REGION is not set"))?;
        let (Some(key), Some(secret)) = (get("AWS_ACCESS_KEY_ID"), get("AWS_SECRET_ACCESS_KEY"))
        else {
            return Err(ConfigError::new(
                "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set \
                 (Lambda sets them from the function's role)",
            ));
        };
        let credentials = Credentials::new(key, secret, get("AWS_SESSION_TOKEN"), None, "env");
        let configured = !flag("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")?;
        let endpoint = |service: &str| {
            configured
                .then(|| {
                    get(&format!("AWS_ENDPOINT_URL_{service}")).or_else(|| get("AWS_ENDPOINT_URL"))
                })
                .flatten()
        };
        let trust = match get("TRUST_STORE").as_deref().map(str::trim) {
            None | Some("bundled") => Trust::Bundled,
            Some("system") => Trust::System,
            Some(v) => {
                return Err(ConfigError::new(format!(
                    "TRUST_STORE: `{v}` is not `bundled` or `system`"
                )))
            }
        };
        Ok(Self {
            region,
            credentials,
            dynamodb_endpoint: endpoint("DYNAMODB"),
            sesv2_endpoint: endpoint("SESV2"),
            use_fips: flag("AWS_USE_FIPS_ENDPOINT")?,
            use_dual_stack: flag("AWS_USE_DUALSTACK_ENDPOINT")?,
            trust,
        })
    }

    /// One HTTPS client shared by both SDK clients (and the secrets extension).
    pub fn http_client(&self) -> SharedHttpClient {
        sdk_http_client(self.trust)
    }

    /// The same HTTPS client, before the SDK wraps it.
    pub fn https(&self) -> Https {
        Https::new(self.trust.roots(AWS_ROOTS), CONNECT_TIMEOUT)
    }

    pub fn dynamodb(&self, http: SharedHttpClient) -> aws_sdk_dynamodb::Client {
        let mut conf = aws_sdk_dynamodb::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .timeout_config(timeouts())
            .retry_config(retries())
            .stalled_stream_protection(StalledStreamProtectionConfig::disabled())
            .region(Region::new(self.region.clone()))
            .credentials_provider(self.credentials.clone())
            .http_client(http)
            .use_fips(self.use_fips)
            .use_dual_stack(self.use_dual_stack);
        if let Some(url) = &self.dynamodb_endpoint {
            conf = conf.endpoint_url(url);
        }
        let conf = conf.build();
        aws_sdk_dynamodb::Client::from_conf(conf)
    }

    /// The mailer's SES client. Its calls may take long: no request waits on
    /// them, and one given up while SES still handles it would send the mail
    /// twice when tried again.
    pub fn sesv2(&self, http: SharedHttpClient) -> aws_sdk_sesv2::Client {
        let mut conf = aws_sdk_sesv2::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(CONNECT_TIMEOUT)
                    .operation_attempt_timeout(Duration::from_secs(25))
                    .operation_timeout(Duration::from_secs(28))
                    .build(),
            )
            .stalled_stream_protection(StalledStreamProtectionConfig::disabled())
            .region(aws_sdk_sesv2::config::Region::new(self.region.clone()))
            .credentials_provider(self.credentials.clone())
            .http_client(http)
            .use_fips(self.use_fips)
            .use_dual_stack(self.use_dual_stack);
        if let Some(url) = &self.sesv2_endpoint {
            conf = conf.endpoint_url(url);
        }
        let conf = conf.build();
        aws_sdk_sesv2::Client::from_conf(conf)
    }
}

const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// Bounds on every DynamoDB call, inside the request's 2.5 s budget
/// (`config::REQUEST_BUDGET`; the
/// caller gets its `503` within 3 s of asking): 1 s an attempt, 2.2 s in all.
/// They replace the SDK's stalled-stream protection, which watches body
/// throughput on every call (~10% of a call's CPU here) and for bodies of a
/// few hundred bytes guards nothing an attempt timeout does not.
fn timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .operation_attempt_timeout(Duration::from_secs(1))
        .operation_timeout(Duration::from_millis(2200))
        .build()
}

/// Three attempts with jittered exponential backoff from 50 ms (the SDK's
/// default starts at 1 s, too long for a request's budget): throttling, 5xx,
/// time-outs and broken connections are tried again; the rest are not.
fn retries() -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(3)
        .with_initial_backoff(Duration::from_millis(50))
        .with_max_backoff(Duration::from_millis(400))
}

/// The SDK clients' HTTP client ([`Https`]), trusting the AWS roots.
pub fn sdk_http_client(trust: Trust) -> SharedHttpClient {
    SharedHttpClient::new(Https::new(trust.roots(AWS_ROOTS), CONNECT_TIMEOUT))
}

/// A client for calls outside the SDK (the reCAPTCHA verifier), trusting Google's roots.
pub fn web_client(trust: Trust, connect_timeout: Duration) -> Https {
    Https::new(trust.roots(GOOGLE_ROOTS), connect_timeout)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn base(k: &str) -> Option<String> {
        let v = match k {
            "AWS_REGION" => "eu-west-1",
            "AWS_ACCESS_KEY_ID" => "AKID",
            "AWS_SECRET_ACCESS_KEY" => "secret",
            _ => return None,
        };
        Some(v.to_string())
    }

    fn with(extra: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            extra
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
                .or_else(|| base(k))
        }
    }

    #[test]
    fn service_endpoint_beats_the_global_one_unless_ignored() {
        let env = AwsEnv::from_lookup(with(&[
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:1"),
            ("AWS_ENDPOINT_URL_SESV2", "http://127.0.0.1:2"),
        ]))
        .unwrap();
        assert_eq!(env.dynamodb_endpoint.as_deref(), Some("http://127.0.0.1:1"));
        assert_eq!(env.sesv2_endpoint.as_deref(), Some("http://127.0.0.1:2"));
        let env = AwsEnv::from_lookup(with(&[
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:1"),
            ("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true"),
        ]))
        .unwrap();
        assert_eq!(env.dynamodb_endpoint, None);
        assert_eq!(env.trust, Trust::Bundled);
    }

    #[test]
    fn missing_credentials_or_bad_values_are_named() {
        let e = AwsEnv::from_lookup(|k| {
            if k == "AWS_SECRET_ACCESS_KEY" {
                None
            } else {
                base(k)
            }
        })
        .unwrap_err();
        assert!(e.to_string().contains("AWS_SECRET_ACCESS_KEY"), "{e}");
        let e = AwsEnv::from_lookup(with(&[("TRUST_STORE", "all")])).unwrap_err();
        assert!(e.to_string().contains("TRUST_STORE"), "{e}");
        let e = AwsEnv::from_lookup(with(&[("AWS_USE_FIPS_ENDPOINT", "yes")])).unwrap_err();
        assert!(e.to_string().contains("AWS_USE_FIPS_ENDPOINT"), "{e}");
    }

    #[test]
    fn bundled_roots_parse() {
        // Building the connector parses the PEM bundle (and panics on a bad one).
        let _ = web_client(Trust::Bundled, Duration::from_secs(1));
        let env = AwsEnv::from_lookup(base).unwrap();
        let _ = env.dynamodb(env.http_client());
        for pem in [AWS_ROOTS, GOOGLE_ROOTS] {
            let text = std::str::from_utf8(pem).unwrap();
            assert_eq!(text.matches("BEGIN CERTIFICATE").count(), 5);
        }
    }

    /// A DynamoDB stand-in on loopback that answers every request the way
    /// `answer` says for the attempt it is (0, 1, 2...), counting attempts.
    #[derive(Clone, Copy)]
    pub(crate) enum Fault {
        /// Accept, read the request, then reset the connection (RST).
        Reset,
        /// Accept, read the request, never answer.
        Stall,
        /// An HTTP answer: status, error type (empty: a success, `{}`).
        Answer(u16, &'static str),
    }

    pub(crate) async fn fake_dynamodb(
        answer: impl Fn(usize) -> Fault + Send + Sync + 'static,
    ) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = std::sync::Arc::new(AtomicUsize::new(0));
        let count = seen.clone();
        let answer = std::sync::Arc::new(answer);
        tokio::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                let count = count.clone();
                let answer = answer.clone();
                tokio::spawn(async move {
                    // One request per connection: read to the end of its body.
                    let mut seen_bytes = Vec::new();
                    let mut buf = [0u8; 4096];
                    loop {
                        let Ok(n) = sock.read(&mut buf).await else {
                            return;
                        };
                        if n == 0 {
                            return;
                        }
                        seen_bytes.extend_from_slice(&buf[..n]);
                        let text = String::from_utf8_lossy(&seen_bytes).to_lowercase();
                        if let Some(end) = text.find("\r\n\r\n") {
                            let len = text
                                .lines()
                                .find_map(|l| l.strip_prefix("content-length:"))
                                .and_then(|v| v.trim().parse::<usize>().ok())
                                .unwrap_or(0);
                            if seen_bytes.len() >= end + 4 + len {
                                break;
                            }
                        }
                    }
                    let attempt = count.fetch_add(1, Ordering::SeqCst);
                    match answer(attempt) {
                        Fault::Reset => {
                            let _ = sock.set_zero_linger();
                            drop(sock);
                        }
                        Fault::Stall => tokio::time::sleep(Duration::from_secs(30)).await,
                        Fault::Answer(status, kind) => {
                            let body = if kind.is_empty() {
                                "{}".to_string()
                            } else {
                                format!(
                                    r#"{{"__type":"com.amazonaws.dynamodb.v20120810#{kind}","message":"fake"}}"#
                                )
                            };
                            let res = format!(
                                "HTTP/1.1 {status} X\r\ncontent-type: application/x-amz-json-1.0\r\n\
                                 content-length: {}\r\nconnection: close\r\n\r\n{body}",
                                body.len()
                            );
                            let _ = sock.write_all(res.as_bytes()).await;
                        }
                    }
                });
            }
        });
        (url, seen)
    }

    /// A GetItem through a client built as the functions build theirs, at `url`:
    /// whether it succeeded, whether its error is `Unavailable`, how long it took.
    async fn get_item_at(url: &str) -> (bool, bool, Duration) {
        let url = url.to_string();
        let env = AwsEnv::from_lookup(move |k| match k {
            "AWS_ENDPOINT_URL_DYNAMODB" => Some(url.clone()),
            _ => base(k),
        })
        .unwrap();
        let ddb = env.dynamodb(env.http_client());
        let started = std::time::Instant::now();
        let res = ddb
            .get_item()
            .table_name("t")
            .key("pk", aws_sdk_dynamodb::types::AttributeValue::S("k".into()))
            .send()
            .await;
        let took = started.elapsed();
        match res {
            Ok(_) => (true, false, took),
            Err(e) => (false, is_unavailable(&sdk_err(e, "GetItem")), took),
        }
    }

    /// Every retry class of the functions' HTTP client under the SDK: what is
    /// tried again (three attempts, jittered backoff from 50 ms), what is not,
    /// and that each ends as a 503-kind error well inside the request's budget.
    #[tokio::test]
    async fn each_failure_class_is_retried_or_not_and_ends_inside_the_budget() {
        use std::sync::atomic::Ordering;
        let budget = Duration::from_millis(2500);
        // Refused: nothing listens on port 9 of loopback.
        let (ok, unavailable, took) = get_item_at("http://127.0.0.1:9").await;
        assert!(!ok && unavailable && took < budget, "refused: {took:?}");
        for (name, fault, attempts) in [
            ("reset", Fault::Reset, 3),
            ("throttled", Fault::Answer(400, "ThrottlingException"), 3),
            (
                "over capacity",
                Fault::Answer(400, "ProvisionedThroughputExceededException"),
                3,
            ),
            (
                "request limit",
                Fault::Answer(400, "RequestLimitExceeded"),
                3,
            ),
            ("5xx", Fault::Answer(500, "InternalServerError"), 3),
            ("503", Fault::Answer(503, "ServiceUnavailable"), 3),
        ] {
            let (url, seen) = fake_dynamodb(move |_| fault).await;
            let (ok, unavailable, took) = get_item_at(&url).await;
            assert!(!ok && unavailable, "{name}: a 503-kind error");
            assert_eq!(seen.load(Ordering::SeqCst), attempts, "{name}: attempts");
            assert!(took < budget, "{name}: {took:?}");
        }
        // Stalled: each attempt times out after 1 s; the call gives up at 2.2 s.
        let (url, seen) = fake_dynamodb(|_| Fault::Stall).await;
        let (ok, unavailable, took) = get_item_at(&url).await;
        assert!(!ok && unavailable, "stalled: a 503-kind error");
        assert!(seen.load(Ordering::SeqCst) >= 2, "stalled: tried again");
        assert!(
            took >= Duration::from_secs(2) && took < budget,
            "stalled: {took:?}"
        );
        // A request we got wrong is not tried again, and is ours (500), not theirs.
        let (url, seen) = fake_dynamodb(|_| Fault::Answer(400, "ValidationException")).await;
        let (ok, unavailable, _) = get_item_at(&url).await;
        assert!(!ok && !unavailable, "validation: not a 503");
        assert_eq!(seen.load(Ordering::SeqCst), 1, "validation: one attempt");
        // Throttled twice, then answered: the caller sees a success.
        let (url, seen) = fake_dynamodb(|attempt| {
            if attempt < 2 {
                Fault::Answer(400, "ThrottlingException")
            } else {
                Fault::Answer(200, "")
            }
        })
        .await;
        let (ok, _, took) = get_item_at(&url).await;
        assert!(ok, "throttled twice, then answered");
        assert_eq!(seen.load(Ordering::SeqCst), 3);
        assert!(took < Duration::from_secs(1), "{took:?}");
    }
}
