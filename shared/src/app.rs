//! Everything a function needs, built once at cold start and shared by every
//! request. The edge hands each use case the parts it uses.

use aws_sdk_dynamodb::config::SharedHttpClient;

use crate::config::Config;
use crate::mail::Mailer;
use crate::outbound::captcha::CaptchaVerifier;
use crate::outbound::https::Https;
use crate::store::Store;

pub struct App {
    pub config: Config,
    pub store: Store,
    pub mailer: Mailer,
    pub captcha: CaptchaVerifier,
    /// The HTTP client the SDK clients share, for the few calls outside the
    /// SDK that trust AWS's roots (the secrets extension on loopback).
    pub http: Https,
}

impl App {
    /// Reads the configuration and builds the SDK clients. Endpoints come from the
    /// SDK's standard variables (`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_DYNAMODB`,
    /// `AWS_ENDPOINT_URL_SESV2`), so one build runs against emulators or AWS.
    pub fn from_env() -> Result<Self, anyhow::Error> {
        Ok(Self::new(Config::from_env()?))
    }

    /// No I/O: the region is explicit and the credentials are Lambda's variables.
    pub fn new(config: Config) -> Self {
        let http = config.aws.https();
        let shared = SharedHttpClient::new(http.clone());
        let ddb = config.aws.dynamodb(shared.clone());
        let ses = config.aws.sesv2(shared);
        Self::with_http(config, ddb, ses, http)
    }

    /// With clients built elsewhere (tests point them at chosen endpoints).
    pub fn from_clients(
        config: Config,
        ddb: aws_sdk_dynamodb::Client,
        ses: aws_sdk_sesv2::Client,
    ) -> Self {
        let http = config.aws.https();
        Self::with_http(config, ddb, ses, http)
    }

    fn with_http(
        config: Config,
        ddb: aws_sdk_dynamodb::Client,
        ses: aws_sdk_sesv2::Client,
        http: Https,
    ) -> Self {
        Self {
            store: Store::new(ddb, config.tables.clone()),
            mailer: Mailer::new(ses, config.mail.clone()),
            captcha: CaptchaVerifier::new(config.captcha.clone()),
            http,
            config,
        }
    }
}

impl App {
    /// What recover-password and resend-code reach the outside through.
    pub fn recovery_ports(&self) -> crate::recovery::RecoveryPorts<'_> {
        crate::recovery::RecoveryPorts {
            store: &self.store,
            mailer: &self.mailer,
            captcha: &self.captcha,
            defaults: &self.config.defaults,
        }
    }
}
