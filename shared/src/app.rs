//! Everything a function needs, built once at cold start and shared by every request.

use aws_config::{BehaviorVersion, Region};
use aws_smithy_http_client::tls;

use crate::config::Config;
use crate::mail::Mailer;
use crate::recovery::captcha::CaptchaVerifier;
use crate::store::Store;

pub struct App {
    pub config: Config,
    pub store: Store,
    pub mailer: Mailer,
    pub captcha: CaptchaVerifier,
}

impl App {
    /// Reads the configuration and builds the SDK clients. Endpoints come from the
    /// SDK's standard variables (`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_DYNAMODB`,
    /// `AWS_ENDPOINT_URL_SESV2`), so one build runs against emulators or AWS.
    pub async fn from_env() -> Result<Self, anyhow::Error> {
        let config = Config::from_env()?;
        Ok(Self::new(config).await)
    }

    pub async fn new(config: Config) -> Self {
        let sdk = sdk_config(&config.region).await;
        Self::from_clients(
            config,
            aws_sdk_dynamodb::Client::new(&sdk),
            aws_sdk_sesv2::Client::new(&sdk),
        )
    }

    /// With clients built elsewhere (tests point them at chosen endpoints).
    pub fn from_clients(
        config: Config,
        ddb: aws_sdk_dynamodb::Client,
        ses: aws_sdk_sesv2::Client,
    ) -> Self {
        Self {
            store: Store::new(ddb, config.tables.clone()),
            mailer: Mailer::new(ses, config.mail.clone()),
            captcha: CaptchaVerifier::new(config.captcha.clone()),
            config,
        }
    }
}

/// The shared SDK configuration: explicit region (no IMDS look-up), rustls on ring.
pub async fn sdk_config(region: &str) -> aws_config::SdkConfig {
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https();
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(region.to_string()))
        .http_client(http)
        .load()
        .await
}
