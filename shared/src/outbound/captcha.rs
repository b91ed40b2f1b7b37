//! reCAPTCHA verification: the `g-recaptcha-response` token is checked with the
//! tenant's secret against the configured verifier (Google's by default), under
//! a time-out, so a slow or dead verifier gives a clear answer, never a hang.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_types::body::SdkBody;
use serde::Deserialize;

use super::aws::{web_client, Trust};
use super::https::Https;
use super::secrets::Extension;
use crate::model::recovery::CaptchaSecret;

pub const GOOGLE_VERIFY_URL: &str = "https://www.google.com/recaptcha/api/siteverify";

#[derive(Debug, Clone)]
pub struct CaptchaConfig {
    pub trust: Trust,
    pub verify_url: String,
    pub timeout: Duration,
    /// Where tenants' secrets given by reference (`secretsmanager:<id>`) are read.
    pub extension: Extension,
}

/// How long a warm instance keeps a secret read from Secrets Manager: a rotated
/// secret is in use everywhere within this.
const REFERENCED_SECRET_TTL: Duration = Duration::from_secs(300);

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
    // Built on first use: most functions and tenants never need it.
    client: OnceLock<Https>,
    /// Secrets read from Secrets Manager, by id, with when they were read.
    referenced: Mutex<HashMap<String, (Instant, String)>>,
}

impl CaptchaVerifier {
    pub fn new(config: CaptchaConfig) -> Self {
        Self {
            config,
            client: OnceLock::new(),
            referenced: Mutex::default(),
        }
    }

    /// The secret itself: as stored, or read through the secrets extension
    /// when the setting names a Secrets Manager secret (kept for a while).
    async fn secret_value(&self, secret: &CaptchaSecret) -> Result<String, CaptchaFailure> {
        let Some(id) = secret.reference() else {
            return Ok(secret.0.clone());
        };
        let fresh = (self.referenced.lock().unwrap_or_else(|e| e.into_inner()))
            .get(id)
            .filter(|(at, _)| at.elapsed() < REFERENCED_SECRET_TTL)
            .map(|(_, v)| v.clone());
        if let Some(v) = fresh {
            return Ok(v);
        }
        match self.config.extension.secret_string(self.client(), id).await {
            Ok(v) => {
                let mut kept = self.referenced.lock().unwrap_or_else(|e| e.into_inner());
                kept.insert(id.to_string(), (Instant::now(), v.clone()));
                Ok(v)
            }
            Err(e) => {
                tracing::warn!(error = %e, secret_id = id, "reCAPTCHA secret unreadable");
                Err(CaptchaFailure::Unavailable)
            }
        }
    }

    fn client(&self) -> &Https {
        self.client
            .get_or_init(|| web_client(self.config.trust, self.config.timeout))
    }

    /// Passes when the verifier accepts `token` for `secret`.
    pub async fn check(
        &self,
        secret: &CaptchaSecret,
        token: Option<&str>,
        remote_ip: Option<IpAddr>,
    ) -> Result<(), CaptchaFailure> {
        let token = token
            .filter(|t| !t.trim().is_empty())
            .ok_or(CaptchaFailure::Missing)?;
        let secret = self.secret_value(secret).await?;
        let mut form = format!(
            "secret={}&response={}",
            form_encode(&secret),
            form_encode(token)
        );
        if let Some(ip) = remote_ip {
            form.push_str(&format!("&remoteip={ip}"));
        }
        let mut request = HttpRequest::new(SdkBody::from(form));
        let built = request
            .set_method("POST")
            .map_err(|e| e.to_string())
            .and_then(|()| {
                request
                    .set_uri(self.config.verify_url.as_str())
                    .map_err(|e| e.to_string())
            });
        if let Err(e) = built {
            tracing::error!(error = %e, "CAPTCHA verifier URL unusable");
            return Err(CaptchaFailure::Unavailable);
        }
        request
            .headers_mut()
            .insert("content-type", "application/x-www-form-urlencoded");
        // The connector's time-out covers connecting; this one the whole exchange.
        let answer = tokio::time::timeout(self.config.timeout, async {
            // The error names the host only: the form (with the secret) is not in it.
            let (status, body) = self.client().fetch_all(request).await?;
            if !(200..300).contains(&status) {
                return Err(format!("HTTP {status}"));
            }
            serde_json::from_slice::<VerifyResponse>(&body).map_err(|e| e.to_string())
        })
        .await;
        match answer {
            Ok(Ok(r)) if r.success => Ok(()),
            Ok(Ok(_)) => {
                tracing::info!(outcome = "rejected", "CAPTCHA check");
                Err(CaptchaFailure::Rejected)
            }
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "CAPTCHA verifier failed");
                Err(CaptchaFailure::Unavailable)
            }
            Err(_) => {
                tracing::warn!("CAPTCHA verifier timed out");
                Err(CaptchaFailure::Unavailable)
            }
        }
    }
}

/// `application/x-www-form-urlencoded` for one value.
fn form_encode(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for b in v.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::form_encode;

    #[test]
    fn form_values_are_encoded() {
        assert_eq!(form_encode("a b+c&d=é"), "a+b%2Bc%26d%3D%C3%A9");
        assert_eq!(form_encode("6Lc-_.*"), "6Lc-_.*");
    }
}
