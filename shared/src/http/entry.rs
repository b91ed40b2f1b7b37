//! Entries: each function's own (it links only its own handlers), and one
//! for any path through the route table (tests and the benchmark).

use lambda_http::{Body, Response};

use super::error::respond;
use super::lockout::{lock_user, login};
use super::page::reset_page;
use super::recovery::{password_policy, recover_password, resend_code, set_password};
use super::request::{trace_id, RequestError};
use super::routes::{endpoint_of, Endpoint};

/// The set-password function's entry: it also serves the password policy (a
/// change-password page reads the policy, then sets the password: both hit one
/// warm function). Only this function's handlers are referenced, so no other
/// function links them.
pub async fn set_password_function(
    app: &crate::app::App,
    req: lambda_http::Request,
) -> Result<Response<Body>, lambda_http::Error> {
    match endpoint_of(req.uri().path()) {
        Some(Endpoint::PasswordPolicy) => password_policy(app, req).await,
        _ => set_password(app, req).await,
    }
}

/// Any endpoint by its path, through the route table: what tests and the
/// benchmark call. A Lambda function calls its own entry instead, so that it
/// links only its own handlers.
pub async fn dispatch(
    app: &crate::app::App,
    issuer: &crate::tokens::TokenIssuer,
    req: lambda_http::Request,
) -> Result<Response<Body>, lambda_http::Error> {
    match endpoint_of(req.uri().path()) {
        Some(Endpoint::RecoverPassword) => recover_password(app, req).await,
        Some(Endpoint::SetPassword) => set_password(app, req).await,
        Some(Endpoint::PasswordPolicy) => password_policy(app, req).await,
        Some(Endpoint::ResendCode) => resend_code(app, req).await,
        Some(Endpoint::LockUser) => lock_user(app, req).await,
        Some(Endpoint::Login) => login(app, issuer, req).await,
        Some(Endpoint::ResetPage) => reset_page(req).await,
        None => {
            let trace = trace_id(&req);
            Ok(respond(&RequestError::NotFound, None, &trace))
        }
    }
}
