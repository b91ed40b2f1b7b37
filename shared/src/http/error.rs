//! The WSO2 error body and the one table where kinds of refusal become a
//! status and a code. WSO2's codes where it has one (`17002` invalid
//! credentials, `17003` locked account, `18001` invalid key, `18002` expired
//! key, `18003` unknown user, `20017` recovery disabled, `20035` password
//! policy, `20044` bad callback, `22001` password history); errors WSO2 has
//! no code for use `10` + the status (`10400`, `10401`, `10413`, `10500`, ...).

use lambda_http::http::{header, HeaderValue, StatusCode};
use lambda_http::{Body, Response};

use super::response::json;
use crate::error::{Kind, UseCaseError};
use crate::model::policy::Violation;

/// Each kind's status and code: the table, side by side with WSO2's list.
pub fn status_and_code(kind: Kind) -> (StatusCode, &'static str) {
    use StatusCode as S;
    match kind {
        Kind::BadRequest => (S::BAD_REQUEST, "10400"),
        Kind::Captcha => (S::BAD_REQUEST, "10400"),
        Kind::Unauthorized => (S::UNAUTHORIZED, "10401"),
        Kind::Forbidden => (S::FORBIDDEN, "10403"),
        Kind::NotFound => (S::NOT_FOUND, "10404"),
        Kind::UnknownTarget => (S::NOT_FOUND, "10404"),
        Kind::MethodNotAllowed => (S::METHOD_NOT_ALLOWED, "10405"),
        Kind::PayloadTooLarge => (S::PAYLOAD_TOO_LARGE, "10413"),
        Kind::Internal => (S::INTERNAL_SERVER_ERROR, "10500"),
        Kind::Unavailable => (S::SERVICE_UNAVAILABLE, "10503"),
        Kind::InvalidCredentials => (S::UNAUTHORIZED, "17002"),
        Kind::LoginLocked => (S::UNAUTHORIZED, "17003"),
        Kind::RecoveryLocked => (S::BAD_REQUEST, "17003"),
        Kind::InvalidKey => (S::BAD_REQUEST, "18001"),
        Kind::ExpiredKey => (S::BAD_REQUEST, "18002"),
        Kind::UnknownUser => (S::BAD_REQUEST, "18003"),
        Kind::RecoveryDisabled => (S::BAD_REQUEST, "20017"),
        Kind::PasswordPolicy => (S::BAD_REQUEST, "20035"),
        Kind::InvalidCallback => (S::BAD_REQUEST, "20044"),
        Kind::PasswordReused => (S::PRECONDITION_FAILED, "22001"),
    }
}

/// An error's kind, with an internal failure whose cause is a dependency
/// that timed out, failed or throttled us counted as `Unavailable` (503, to
/// be retried), not `Internal` (500, our bug).
pub fn kind_of(e: &dyn UseCaseError) -> Kind {
    match e.internal() {
        Some(cause) if crate::outbound::aws::is_unavailable(cause) => Kind::Unavailable,
        _ => e.kind(),
    }
}

/// The sentence a user reads for a broken password rule.
pub fn sentence(v: &Violation) -> String {
    match v {
        Violation::TooShort { min } => format!("Password must be at least {min} characters long."),
        Violation::TooLong { max } => format!("Password must be at most {max} characters long."),
        Violation::Common => "Password is one of the most commonly used passwords.".into(),
        Violation::EqualsUsername => "Password must not be the same as the username.".into(),
        Violation::ContainsUsername => "Password must not contain the username.".into(),
        Violation::Regex { message } => message
            .clone()
            .unwrap_or_else(|| "Password does not match the required format.".into()),
        Violation::Pattern { message } => message
            .clone()
            .unwrap_or_else(|| "Password does not match the required pattern.".into()),
        Violation::TooComplex => "Password could not be checked against the required format \
                                  within its limits; choose a simpler one."
            .into(),
        Violation::Reused { n } => format!("Password must not be one of the last {n} passwords."),
    }
}

/// Every broken rule, as one description.
pub fn sentences(violations: &[Violation]) -> String {
    violations
        .iter()
        .map(sentence)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The answer to a refusal: the table's status and code, the error's own
/// sentence, never the cause of an internal failure (that goes to the log).
pub fn respond(
    e: &dyn UseCaseError,
    description: Option<String>,
    trace_id: &str,
) -> Response<Body> {
    let kind = kind_of(e);
    let (status, code) = status_and_code(kind);
    let description = match e.internal() {
        Some(cause) if kind == Kind::Unavailable => {
            tracing::warn!(
                trace_id,
                outcome = "dependency_unavailable",
                error = format!("{cause:#}"),
                "a dependency is unavailable"
            );
            "The service is not answering in time. Try again in a moment.".to_string()
        }
        Some(cause) => {
            tracing::error!(trace_id, error = format!("{cause:#}"), "request failed");
            "The server could not complete the request. Try again later.".to_string()
        }
        None => description.unwrap_or_else(|| e.to_string()),
    };
    // The WSO2 error body: the four fields, then those some errors add
    // (`lockedReason`, `unlockTime` of `17003`, `key` of `22001`). Built as a
    // map: serde's `flatten` costs every bootstrap ~10 KB for this one use.
    let mut body = serde_json::Map::new();
    body.insert("code".into(), code.into());
    body.insert(
        "message".into(),
        status.canonical_reason().unwrap_or("Error").into(),
    );
    body.insert("description".into(), description.into());
    body.insert("traceId".into(), trace_id.into());
    for (k, v) in e.details() {
        body.insert(k.into(), v.into());
    }
    let value = serde_json::Value::Object(body);
    let mut res = json(status, &value);
    if status == StatusCode::SERVICE_UNAVAILABLE {
        res.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lockout::login::LoginError;
    use crate::model::lock::{ActiveLock, LockReason, LoginRefusal};
    use crate::model::time::UnixTime;
    use crate::recovery::SetPasswordError;

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
        let r = respond(&e, None, "t-1");
        assert_eq!(r.status(), 500);
        let b = body(&r);
        assert_eq!(b["code"], "10500");
        assert_eq!(b["message"], "Internal Server Error");
        assert_eq!(b["traceId"], "t-1");
        assert!(!b.to_string().contains("users-secret"));
    }

    #[test]
    fn a_locked_account_shown_names_reason_and_unlock_time() {
        let e = LoginError::Refused(LoginRefusal::Locked(ActiveLock {
            reason: LockReason::MaxAttemptsExceeded,
            until: Some(UnixTime(0)),
        }));
        let b = body(&respond(&e, None, "t"));
        assert_eq!(b["code"], "17003");
        assert_eq!(b["lockedReason"], "MaxAttemptsExceeded");
        assert_eq!(b["unlockTime"], "1970-01-01T00:00:00Z");
        let b = body(&respond(
            &LoginError::Refused(LoginRefusal::InvalidCredentials),
            None,
            "t",
        ));
        assert_eq!(
            (b["code"].as_str(), b.get("lockedReason")),
            (Some("17002"), None)
        );
    }

    #[test]
    fn wso2_codes() {
        let b = body(&respond(&SetPasswordError::ExpiredKey, None, "t"));
        assert_eq!(
            (b["code"].as_str(), b["message"].as_str()),
            (Some("18002"), Some("Bad Request"))
        );
        let e = SetPasswordError::Policy(vec![Violation::TooShort { min: 8 }, Violation::Common]);
        let r = respond(
            &e,
            Some(sentences(&[
                Violation::TooShort { min: 8 },
                Violation::Common,
            ])),
            "t",
        );
        assert_eq!(
            body(&r)["description"],
            "Password must be at least 8 characters long. Password is one of the most commonly used passwords."
        );
        let key = crate::model::key::RecoveryKey::generate();
        let reused = SetPasswordError::Reused {
            n: 3,
            key: Some(key.clone()),
        };
        let r = respond(&reused, None, "t");
        assert_eq!(r.status(), 412);
        assert_eq!(body(&r)["code"], "22001");
        assert_eq!(body(&r)["key"], key.expose());
        assert!(
            !format!("{reused:?}").contains(&key.expose()),
            "Debug hides it"
        );
        assert_eq!(status_and_code(Kind::InvalidCallback).1, "20044");
        let r = respond(&LoginError::Busy, None, "t");
        assert_eq!(r.status().as_u16(), 503);
        assert_eq!(r.headers()["retry-after"], "1");
        assert_eq!(r.headers()["cache-control"], "no-store");
    }
}
