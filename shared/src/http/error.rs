//! The WSO2 error body and the single place where errors become statuses and codes.
//!
//! Codes follow WSO2 where it has one (`18001` invalid key, `18002` expired key,
//! `18003` unknown user, `17003` locked account, `20017` recovery disabled,
//! `20035` password policy, `20044` bad callback). Errors WSO2 has no code for
//! use `10` + the status (`10400`, `10401`, `10413`, `10500`, ...).

use lambda_http::http::StatusCode;
use lambda_http::{Body, Response};
use serde::Serialize;

use crate::lockout::admin::LockUserError;
use crate::lockout::login::LoginError;
use crate::recovery::captcha::CaptchaFailure;
use crate::recovery::{RecoverError, ResendError, SetPasswordError};

#[derive(Debug, Serialize)]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
    pub description: String,
    #[serde(rename = "traceId")]
    pub trace_id: String,
    /// Fields some errors add (`lockedReason`, `unlockTime` of `17003`).
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// How an error shows to a caller. Implemented here, and only here, for every use case's error.
pub trait ApiError {
    fn status(&self) -> StatusCode;
    fn code(&self) -> &'static str;
    fn description(&self) -> String;
    /// The cause, for the log only; never in a body.
    fn internal(&self) -> Option<&anyhow::Error> {
        None
    }
    /// Fields beyond the standard four.
    fn extra(&self) -> serde_json::Map<String, serde_json::Value> {
        serde_json::Map::new()
    }

    fn to_response(&self, trace_id: &str) -> Response<Body> {
        let status = self.status();
        // An internal failure shows only a fixed sentence; its cause goes to the log.
        let description = match self.internal() {
            Some(e) => {
                tracing::error!(trace_id, error = format!("{e:#}"), "request failed");
                "The server could not complete the request. Try again later.".to_string()
            }
            None => self.description(),
        };
        let body = ErrorBody {
            code: self.code().to_string(),
            message: status.canonical_reason().unwrap_or("Error").to_string(),
            description,
            trace_id: trace_id.to_string(),
            extra: self.extra(),
        };
        let value = serde_json::to_value(&body).unwrap_or_default();
        super::json(status, &value)
    }
}

/// The request itself is malformed: not JSON, wrong types, missing fields, bad values.
#[derive(Debug)]
pub struct BadRequest(pub String);

/// The body is larger than any legitimate request.
#[derive(Debug)]
pub struct PayloadTooLarge(pub usize);

/// No such resource.
#[derive(Debug)]
pub struct NotFound;

impl ApiError for NotFound {
    fn status(&self) -> StatusCode {
        StatusCode::NOT_FOUND
    }
    fn code(&self) -> &'static str {
        "10404"
    }
    fn description(&self) -> String {
        "There is nothing at this address.".into()
    }
}

/// A failure of our own outside any use case (a storage read in a plain handler).
#[derive(Debug)]
pub struct Unexpected(pub anyhow::Error);

impl ApiError for Unexpected {
    fn status(&self) -> StatusCode {
        StatusCode::INTERNAL_SERVER_ERROR
    }
    fn code(&self) -> &'static str {
        "10500"
    }
    fn description(&self) -> String {
        String::new()
    }
    fn internal(&self) -> Option<&anyhow::Error> {
        Some(&self.0)
    }
}

/// The method the endpoint takes, when another one was used.
#[derive(Debug)]
pub struct MethodNotAllowed(pub &'static str);

impl ApiError for MethodNotAllowed {
    fn status(&self) -> StatusCode {
        StatusCode::METHOD_NOT_ALLOWED
    }
    fn code(&self) -> &'static str {
        "10405"
    }
    fn description(&self) -> String {
        format!("Use {}.", self.0)
    }
}

impl ApiError for BadRequest {
    fn status(&self) -> StatusCode {
        StatusCode::BAD_REQUEST
    }
    fn code(&self) -> &'static str {
        "10400"
    }
    fn description(&self) -> String {
        self.0.clone()
    }
}

impl ApiError for PayloadTooLarge {
    fn status(&self) -> StatusCode {
        StatusCode::PAYLOAD_TOO_LARGE
    }
    fn code(&self) -> &'static str {
        "10413"
    }
    fn description(&self) -> String {
        format!("The request body is larger than {} bytes.", self.0)
    }
}

fn captcha_status(f: CaptchaFailure) -> StatusCode {
    match f {
        CaptchaFailure::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::BAD_REQUEST,
    }
}

fn captcha_code(f: CaptchaFailure) -> &'static str {
    match f {
        CaptchaFailure::Unavailable => "10503",
        _ => "10400",
    }
}

impl ApiError for RecoverError {
    fn status(&self) -> StatusCode {
        match self {
            RecoverError::Captcha(f) => captcha_status(*f),
            RecoverError::Unauthorized => StatusCode::UNAUTHORIZED,
            RecoverError::Unexpected(_) => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        }
    }
    fn code(&self) -> &'static str {
        match self {
            RecoverError::Disabled => "20017",
            RecoverError::InvalidCallback => "20044",
            RecoverError::Unauthorized => "10401",
            RecoverError::Captcha(f) => captcha_code(*f),
            RecoverError::UnknownUser => "18003",
            RecoverError::AccountLocked => "17003",
            RecoverError::Unexpected(_) => "10500",
        }
    }
    fn description(&self) -> String {
        self.to_string()
    }
    fn internal(&self) -> Option<&anyhow::Error> {
        match self {
            RecoverError::Unexpected(e) => Some(e),
            _ => None,
        }
    }
}

impl ApiError for ResendError {
    fn status(&self) -> StatusCode {
        match self {
            ResendError::Captcha(f) => captcha_status(*f),
            ResendError::Unauthorized => StatusCode::UNAUTHORIZED,
            ResendError::Unexpected(_) => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        }
    }
    fn code(&self) -> &'static str {
        match self {
            ResendError::Disabled => "20017",
            ResendError::Unauthorized => "10401",
            ResendError::Captcha(f) => captcha_code(*f),
            ResendError::UnknownUser => "18003",
            ResendError::AccountLocked => "17003",
            ResendError::Unexpected(_) => "10500",
        }
    }
    fn description(&self) -> String {
        self.to_string()
    }
    fn internal(&self) -> Option<&anyhow::Error> {
        match self {
            ResendError::Unexpected(e) => Some(e),
            _ => None,
        }
    }
}

impl ApiError for SetPasswordError {
    fn status(&self) -> StatusCode {
        match self {
            SetPasswordError::Unexpected(_) => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        }
    }
    fn code(&self) -> &'static str {
        match self {
            SetPasswordError::InvalidKey => "18001",
            SetPasswordError::ExpiredKey => "18002",
            SetPasswordError::PolicyViolation(_) => "20035",
            SetPasswordError::Unexpected(_) => "10500",
        }
    }
    fn description(&self) -> String {
        self.to_string()
    }
    fn internal(&self) -> Option<&anyhow::Error> {
        match self {
            SetPasswordError::Unexpected(e) => Some(e),
            _ => None,
        }
    }
}

impl ApiError for LoginError {
    fn status(&self) -> StatusCode {
        match self {
            LoginError::Unexpected(_) => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::UNAUTHORIZED,
        }
    }
    fn code(&self) -> &'static str {
        match self {
            LoginError::InvalidCredentials => "17002",
            LoginError::Locked { .. } => "17003",
            LoginError::Unexpected(_) => "10500",
        }
    }
    fn description(&self) -> String {
        self.to_string()
    }
    fn internal(&self) -> Option<&anyhow::Error> {
        match self {
            LoginError::Unexpected(e) => Some(e),
            _ => None,
        }
    }
    fn extra(&self) -> serde_json::Map<String, serde_json::Value> {
        let mut m = serde_json::Map::new();
        if let LoginError::Locked { reason, until } = self {
            m.insert("lockedReason".into(), reason.as_str().into());
            if let Some(u) = until {
                m.insert("unlockTime".into(), u.to_rfc3339().into());
            }
        }
        m
    }
}

impl ApiError for LockUserError {
    fn status(&self) -> StatusCode {
        match self {
            LockUserError::Unauthorized => StatusCode::UNAUTHORIZED,
            LockUserError::Forbidden => StatusCode::FORBIDDEN,
            LockUserError::UnknownUser => StatusCode::NOT_FOUND,
            LockUserError::Unexpected(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
    fn code(&self) -> &'static str {
        match self {
            LockUserError::Unauthorized => "10401",
            LockUserError::Forbidden => "10403",
            LockUserError::UnknownUser => "10404",
            LockUserError::Unexpected(_) => "10500",
        }
    }
    fn description(&self) -> String {
        self.to_string()
    }
    fn internal(&self) -> Option<&anyhow::Error> {
        match self {
            LockUserError::Unexpected(e) => Some(e),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(r: &Response<Body>) -> serde_json::Value {
        match r.body() {
            Body::Text(t) => serde_json::from_str(t).unwrap(),
            _ => panic!("not text"),
        }
    }

    #[test]
    fn five_hundreds_never_carry_internal_detail() {
        let e = SetPasswordError::Unexpected(anyhow::anyhow!(
            "dynamodb said: table users-secret missing"
        ));
        let r = e.to_response("t-1");
        assert_eq!(r.status(), 500);
        let b = body(&r);
        assert_eq!(b["code"], "10500");
        assert_eq!(b["message"], "Internal Server Error");
        assert_eq!(b["traceId"], "t-1");
        assert!(!b.to_string().contains("users-secret"));
    }

    #[test]
    fn a_locked_account_names_reason_and_unlock_time() {
        use crate::lockout::LockReason;
        use crate::time::UnixTime;
        let e = LoginError::Locked {
            reason: LockReason::MaxAttemptsExceeded,
            until: Some(UnixTime(0)),
        };
        let b = body(&e.to_response("t"));
        assert_eq!(b["code"], "17003");
        assert_eq!(b["lockedReason"], "MaxAttemptsExceeded");
        assert_eq!(b["unlockTime"], "1970-01-01T00:00:00Z");
        let b = body(&LoginError::InvalidCredentials.to_response("t"));
        assert_eq!(
            (b["code"].as_str(), b.get("lockedReason")),
            (Some("17002"), None)
        );
    }

    #[test]
    fn wso2_codes() {
        let b = body(&SetPasswordError::ExpiredKey.to_response("t"));
        assert_eq!(
            (b["code"].as_str(), b["message"].as_str()),
            (Some("18002"), Some("Bad Request"))
        );
        let r = SetPasswordError::PolicyViolation(vec!["a.".into(), "b.".into()]).to_response("t");
        assert_eq!(body(&r)["description"], "a. b.");
        assert_eq!(RecoverError::InvalidCallback.code(), "20044");
        assert_eq!(RecoverError::Unauthorized.status(), 401);
        let r = BadRequest("x".into()).to_response("t");
        assert_eq!(r.headers()["cache-control"], "no-store");
    }
}
