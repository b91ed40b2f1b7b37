//! Entries: each function's own (it links only its own handlers), and one
//! for any path through the route table (tests and the benchmark).

use lambda_http::{Body, Response};

use super::error::respond;
use super::lockout::{introspect, jwks, lock_user, login};
use super::page::{new_link_form, reset_form, reset_page};
use super::recovery::{
    captcha, password_policy, recover_password, resend_code, set_password, validate_code,
};
use super::request::{trace_id, RequestError};
use super::routes::{endpoint_of, Endpoint};

/// The recover-password function's entry: it also answers a recovery page's
/// captcha question and the reset page's new-link form (both come right
/// before a recovery). Only this function's handlers are referenced, so no
/// other function links them.
pub async fn recover_password_function(
    app: &crate::app::App,
    req: lambda_http::Request,
) -> Result<Response<Body>, lambda_http::Error> {
    match endpoint_of(req.method(), req.uri().path()) {
        Some(Endpoint::Captcha) => captcha(app, req).await,
        Some(Endpoint::NewLinkForm) => new_link_form(app, req).await,
        _ => recover_password(app, req).await,
    }
}

/// The set-password function's entry: it also serves the password policy, the
/// key check and the reset page's form (a reset page reads the policy, checks
/// the key, then sets the password: all of them hit one warm function).
pub async fn set_password_function(
    app: &crate::app::App,
    req: lambda_http::Request,
) -> Result<Response<Body>, lambda_http::Error> {
    match endpoint_of(req.method(), req.uri().path()) {
        Some(Endpoint::PasswordPolicy) => password_policy(app, req).await,
        Some(Endpoint::ValidateCode) => validate_code(app, req).await,
        Some(Endpoint::ResetForm) => reset_form(app, req).await,
        _ => set_password(app, req).await,
    }
}

/// The login function's entry: it also publishes the token keys and
/// introspects tokens (it holds the keys).
pub async fn login_function(
    app: &crate::app::App,
    issuer: &crate::tokens::TokenIssuer,
    req: lambda_http::Request,
) -> Result<Response<Body>, lambda_http::Error> {
    match endpoint_of(req.method(), req.uri().path()) {
        Some(Endpoint::Jwks) => jwks(issuer, req).await,
        Some(Endpoint::Introspect) => introspect(app, issuer, req).await,
        _ => login(app, issuer, req).await,
    }
}

/// Any endpoint by its path and method, through the route table: what tests
/// and the benchmark call. A Lambda function calls its own entry instead, so
/// that it links only its own handlers.
pub async fn dispatch(
    app: &crate::app::App,
    issuer: &crate::tokens::TokenIssuer,
    req: lambda_http::Request,
) -> Result<Response<Body>, lambda_http::Error> {
    match endpoint_of(req.method(), req.uri().path()) {
        Some(Endpoint::RecoverPassword) => recover_password(app, req).await,
        Some(Endpoint::Captcha) => captcha(app, req).await,
        Some(Endpoint::SetPassword) => set_password(app, req).await,
        Some(Endpoint::PasswordPolicy) => password_policy(app, req).await,
        Some(Endpoint::ValidateCode) => validate_code(app, req).await,
        Some(Endpoint::ResendCode) => resend_code(app, req).await,
        Some(Endpoint::LockUser) => lock_user(app, req).await,
        Some(Endpoint::Login) => login(app, issuer, req).await,
        Some(Endpoint::Jwks) => jwks(issuer, req).await,
        Some(Endpoint::Introspect) => introspect(app, issuer, req).await,
        Some(Endpoint::ResetPage) => reset_page(req).await,
        Some(Endpoint::ResetForm) => reset_form(app, req).await,
        Some(Endpoint::NewLinkForm) => new_link_form(app, req).await,
        None => {
            let trace = trace_id(&req);
            Ok(respond(&RequestError::NotFound, None, &trace))
        }
    }
}
