//! Every endpoint's request parsing, on arbitrary paths, queries, headers and
//! bodies: it answers Ok or a 4xx error, and never panics.
#![no_main]

use account_core::error::UseCaseError;
use account_core::http::error::status_and_code;
use account_core::http::parse;
use arbitrary::Arbitrary;
use lambda_http::http::{Method, Request};
use lambda_http::Body;
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    post: bool,
    tenant: Option<&'a str>,
    query: &'a str,
    authorization: Option<&'a str>,
    captcha: Option<&'a str>,
    binary: bool,
    body: &'a [u8],
}

fuzz_target!(|input: Input<'_>| {
    let prefix = input.tenant.map(|t| format!("/t/{t}")).unwrap_or_default();
    for path in [
        "/api/identity/recovery/v0.9/recover-password",
        "/api/identity/recovery/v0.9/set-password",
        "/api/identity/user/v1.0/resend-code",
        "/api/identity/auth/v1.1/authenticate",
        "/api/identity/user/v1.0/lock-user",
    ] {
        let uri = format!("{prefix}{path}?{}", input.query);
        let mut b = Request::builder()
            .method(if input.post {
                Method::POST
            } else {
                Method::GET
            })
            .uri(&uri);
        if let Some(a) = input.authorization {
            b = b.header("authorization", a);
        }
        if let Some(c) = input.captcha {
            b = b.header("g-recaptcha-response", c);
        }
        let body = match (input.binary, std::str::from_utf8(input.body)) {
            (false, Ok(text)) => Body::Text(text.to_string()),
            _ => Body::Binary(input.body.to_vec()),
        };
        // An invalid URI or header is refused before a Lambda ever sees it.
        let Ok(req) = b.body(body) else { continue };
        let status = match path.rsplit('/').next() {
            Some("recover-password") => parse::parse_recover(&req)
                .err()
                .map(|e| status_and_code(e.kind()).0),
            Some("set-password") => parse::parse_set_password(&req)
                .err()
                .map(|e| status_and_code(e.kind()).0),
            Some("resend-code") => parse::parse_resend(&req)
                .err()
                .map(|e| status_and_code(e.kind()).0),
            Some("authenticate") => parse::parse_login(&req)
                .err()
                .map(|e| status_and_code(e.kind()).0),
            _ => parse::parse_lock(&req)
                .err()
                .map(|e| status_and_code(e.kind()).0),
        };
        if let Some(s) = status {
            assert!(s.is_client_error(), "{path}: {s}");
        }
    }
});
