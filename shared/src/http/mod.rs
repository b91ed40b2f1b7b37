//! The HTTP edge: request parsing, the WSO2 error body, and the one mapping from
//! use-case errors to status and code. Handlers here only translate.

pub mod error;
mod lockout;
mod page;
mod recovery;
pub mod request;

use lambda_http::http::{header, HeaderValue, StatusCode};
use lambda_http::{Body, Response};

pub use error::{ApiError, ErrorBody};
pub use lockout::{lock_user, login};
pub use page::reset_page;

/// Request parsing of every endpoint, on its own: what the fuzz targets drive.
pub mod parse {
    pub use super::lockout::{parse_lock, parse_login};
    pub use super::recovery::{parse_recover, parse_resend, parse_set_password};
}
pub use recovery::{
    password_policy, recover_password, resend_code, set_password, set_password_or_policy,
};

/// Every response carries these: nothing here may be cached or leak a key in a referrer.
fn secure(mut res: Response<Body>) -> Response<Body> {
    let h = res.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    res
}

/// `{"username", "realm", "tenant-domain"}` plus `more`: the user part of WSO2's success bodies.
pub fn user_json(user: &crate::domain::UserRef, more: serde_json::Value) -> serde_json::Value {
    let mut v = serde_json::json!({
        "username": user.username.as_str(),
        "realm": user.realm.as_str(),
        "tenant-domain": user.tenant.as_str(),
    });
    if let (Some(m), serde_json::Value::Object(extra)) = (v.as_object_mut(), more) {
        m.extend(extra);
    }
    v
}

pub fn json(status: StatusCode, value: &serde_json::Value) -> Response<Body> {
    let mut res = Response::new(Body::Text(value.to_string()));
    *res.status_mut() = status;
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    secure(res)
}

pub fn text(status: StatusCode, body: String) -> Response<Body> {
    let mut res = Response::new(Body::Text(body));
    *res.status_mut() = status;
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    secure(res)
}

pub fn empty(status: StatusCode) -> Response<Body> {
    let mut res = Response::new(Body::Empty);
    *res.status_mut() = status;
    secure(res)
}
