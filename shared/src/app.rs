//! Everything a function needs, built once at cold start and shared by every
//! request. The edge hands each use case the parts it uses.

use aws_sdk_dynamodb::config::SharedHttpClient;

use crate::config::Config;
use crate::mail::{Composer, Mailer};
use crate::outbound::captcha::CaptchaVerifier;
use crate::outbound::https::Https;
use crate::store::Store;

/// A request function's parts. No SES client: mail goes through the outbox.
pub struct App {
    pub config: Config,
    pub store: Store,
    pub mail: Composer,
    pub captcha: CaptchaVerifier,
    /// The HTTP client the SDK client uses, for the few calls outside the SDK
    /// that trust AWS's roots (the secrets extension on loopback).
    pub http: Https,
}

impl App {
    /// Reads the configuration and builds the SDK client. Endpoints come from the
    /// SDK's standard variables (`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_DYNAMODB`),
    /// so one build runs against emulators or AWS.
    pub fn from_env() -> Result<Self, anyhow::Error> {
        Ok(Self::new(Config::from_env()?))
    }

    /// No I/O: the region is explicit and the credentials are Lambda's variables.
    pub fn new(config: Config) -> Self {
        let http = config.aws.https();
        let ddb = config.aws.dynamodb(SharedHttpClient::new(http.clone()));
        Self::with_http(config, ddb, http)
    }

    /// With a client built elsewhere (tests point it at chosen endpoints).
    pub fn from_clients(config: Config, ddb: aws_sdk_dynamodb::Client) -> Self {
        let http = config.aws.https();
        Self::with_http(config, ddb, http)
    }

    fn with_http(config: Config, ddb: aws_sdk_dynamodb::Client, http: Https) -> Self {
        Self {
            store: Store::new(ddb, config.tables.clone())
                .with_settings_cache(config.settings_cache_ttl),
            mail: Composer::new(config.mail.clone()),
            captcha: CaptchaVerifier::new(config.captcha.clone()),
            http,
            config,
        }
    }

    /// What recover-password and resend-code reach the outside through.
    pub fn recovery_ports(&self) -> crate::recovery::RecoveryPorts<'_> {
        crate::recovery::RecoveryPorts {
            store: &self.store,
            mail: &self.mail,
            captcha: &self.captcha,
            defaults: &self.config.defaults,
        }
    }
}

/// The mailer's parts: the outbox and SES.
pub struct MailerApp {
    pub store: Store,
    pub mailer: Mailer,
}

impl MailerApp {
    pub fn from_env() -> Result<Self, anyhow::Error> {
        let config = Config::from_env()?;
        let http = config.aws.http_client();
        let ddb = config.aws.dynamodb(http.clone());
        let ses = config.aws.sesv2(http);
        Ok(Self::from_clients(&config, ddb, ses))
    }

    pub fn from_clients(
        config: &Config,
        ddb: aws_sdk_dynamodb::Client,
        ses: aws_sdk_sesv2::Client,
    ) -> Self {
        Self {
            store: Store::new(ddb, config.tables.clone()),
            mailer: Mailer::new(ses, config.mail.clone()),
        }
    }
}
