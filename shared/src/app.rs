//! Everything a function needs, built once at cold start and shared by every
//! request. The edge hands each use case the parts it uses.

use crate::config::Config;
use crate::mail::Mailer;
use crate::outbound::captcha::CaptchaVerifier;
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
    pub fn from_env() -> Result<Self, anyhow::Error> {
        Ok(Self::new(Config::from_env()?))
    }

    /// No I/O: the region is explicit and the credentials are Lambda's variables.
    pub fn new(config: Config) -> Self {
        let http = config.aws.http_client();
        let ddb = config.aws.dynamodb(http.clone());
        let ses = config.aws.sesv2(http);
        Self::from_clients(config, ddb, ses)
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
