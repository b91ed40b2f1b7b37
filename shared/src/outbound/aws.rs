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
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
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

/// An SDK error with its whole cause chain, for logs (never for bodies).
pub fn sdk_err<E, R>(e: SdkError<E, R>, what: &str) -> anyhow::Error
where
    E: std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    anyhow::anyhow!("{what}: {}", DisplayErrorContext(e))
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

const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// Bounds on every SDK call, inside the functions' 10 s Lambda timeout so that a
/// slow dependency gets our 500, not Lambda's. They replace the SDK's stalled-stream
/// protection, which watches body throughput on every call (~10% of a call's CPU
/// here) and for bodies of a few hundred bytes guards nothing an attempt timeout does not.
fn timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .operation_attempt_timeout(Duration::from_secs(3))
        .operation_timeout(Duration::from_secs(8))
        .build()
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
mod tests {
    use super::*;

    fn base(k: &str) -> Option<String> {
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
}
