//! reCAPTCHA verification: the `g-recaptcha-response` token is checked with the
//! tenant's secret against the configured verifier (Google's by default), under
//! a time-out, so a slow or dead verifier gives a clear answer, never a hang.

use std::net::IpAddr;
use std::sync::OnceLock;
use std::time::Duration;

use serde::Deserialize;

use crate::tenant::CaptchaSecret;

pub const GOOGLE_VERIFY_URL: &str = "https://www.google.com/recaptcha/api/siteverify";

#[derive(Debug, Clone)]
pub struct CaptchaConfig {
    pub verify_url: String,
    pub timeout: Duration,
}

/// Why a request did not pass the CAPTCHA.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaptchaFailure {
    /// No token in the request.
    Missing,
    /// The verifier said no.
    Rejected,
    /// The verifier did not answer in time, or answered nonsense.
    Unavailable,
}

/// What a caller is told.
pub fn captcha_text(f: CaptchaFailure) -> &'static str {
    match f {
        CaptchaFailure::Missing => "A reCAPTCHA token (g-recaptcha-response header) is required.",
        CaptchaFailure::Rejected => "The reCAPTCHA check failed.",
        CaptchaFailure::Unavailable => "The reCAPTCHA check could not be completed; try again.",
    }
}

#[derive(Deserialize)]
struct VerifyResponse {
    success: bool,
}

pub struct CaptchaVerifier {
    config: CaptchaConfig,
    // Built on first use: most functions and tenants never need it, and building
    // it loads the trust store, which would cost every cold start.
    client: OnceLock<reqwest::Client>,
}

impl CaptchaVerifier {
    pub fn new(config: CaptchaConfig) -> Self {
        Self {
            config,
            client: OnceLock::new(),
        }
    }

    fn client(&self) -> Result<&reqwest::Client, CaptchaFailure> {
        if let Some(c) = self.client.get() {
            return Ok(c);
        }
        let c = reqwest::Client::builder()
            .timeout(self.config.timeout)
            .connect_timeout(self.config.timeout)
            .build()
            .map_err(|e| {
                tracing::error!(error = %e, "CAPTCHA client not built");
                CaptchaFailure::Unavailable
            })?;
        Ok(self.client.get_or_init(|| c))
    }

    /// Passes when the verifier accepts `token` for `secret`.
    #[tracing::instrument(skip_all)]
    pub async fn check(
        &self,
        secret: &CaptchaSecret,
        token: Option<&str>,
        remote_ip: Option<IpAddr>,
    ) -> Result<(), CaptchaFailure> {
        let token = token
            .filter(|t| !t.trim().is_empty())
            .ok_or(CaptchaFailure::Missing)?;
        let mut form = vec![
            ("secret", secret.0.clone()),
            ("response", token.to_string()),
        ];
        if let Some(ip) = remote_ip {
            form.push(("remoteip", ip.to_string()));
        }
        let sent = self
            .client()?
            .post(&self.config.verify_url)
            .form(&form)
            .send();
        // The client's own time-out covers the exchange; this one also covers reading the body.
        let answer = tokio::time::timeout(self.config.timeout, async {
            sent.await?
                .error_for_status()?
                .json::<VerifyResponse>()
                .await
        })
        .await;
        match answer {
            Ok(Ok(r)) if r.success => Ok(()),
            Ok(Ok(_)) => {
                tracing::info!(outcome = "rejected", "CAPTCHA check");
                Err(CaptchaFailure::Rejected)
            }
            Ok(Err(e)) => {
                tracing::warn!(error = %e.without_url(), "CAPTCHA verifier failed");
                Err(CaptchaFailure::Unavailable)
            }
            Err(_) => {
                tracing::warn!("CAPTCHA verifier timed out");
                Err(CaptchaFailure::Unavailable)
            }
        }
    }
}
