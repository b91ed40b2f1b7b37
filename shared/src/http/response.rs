//! Responses: JSON, text or nothing, each with the headers every answer carries.

use lambda_http::http::{header, HeaderValue, StatusCode};
use lambda_http::{Body, Response};

/// Every response carries these: nothing here may be cached or leak a key in a referrer.
pub(crate) fn secure(mut res: Response<Body>) -> Response<Body> {
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
pub fn user_json(
    user: &crate::model::domain::UserRef,
    more: serde_json::Value,
) -> serde_json::Value {
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
    with_type(status, Body::Text(value.to_string()), "application/json")
}

pub fn text(status: StatusCode, body: String) -> Response<Body> {
    with_type(status, Body::Text(body), "text/plain; charset=utf-8")
}

pub fn empty(status: StatusCode) -> Response<Body> {
    let mut res = Response::new(Body::Empty);
    *res.status_mut() = status;
    secure(res)
}

fn with_type(status: StatusCode, body: Body, content_type: &'static str) -> Response<Body> {
    let mut res = Response::new(body);
    *res.status_mut() = status;
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    secure(res)
}
