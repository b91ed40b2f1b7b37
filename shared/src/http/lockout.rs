//! Handlers of login (`authenticate`) and lock-user.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use serde_json::json;

use super::request::{
    bad, basic_credentials, form_body, json_body, path_tenant, require_method, require_post,
    RequestError, UserJson,
};
use super::response::{json, user_json};
use super::serve::{as_json, serve, Pad};
use crate::app::App;
use crate::lockout::admin::{self, LockUserError, LockUserRequest};
use crate::lockout::login::{self, LoginError, LoginRequest};
use crate::model::domain::{resolve_username, Password, TenantDomain};
use crate::sessions::{self, IntrospectError, IntrospectRequest, Introspection};
use crate::tokens::TokenIssuer;

type HandlerResult = Result<Response<Body>, lambda_http::Error>;

/// WSO2's body form of the credentials.
#[derive(Debug, Deserialize)]
struct LoginBody {
    username: String,
    password: String,
    #[serde(default)]
    realm: Option<String>,
    #[serde(default, rename = "tenant-domain")]
    tenant_domain: Option<String>,
}

pub fn parse_login(req: &Request) -> Result<LoginRequest, RequestError> {
    require_post(req)?;
    let tenant = path_tenant(req)?;
    if let Some(creds) = basic_credentials(req) {
        let tenant = tenant.unwrap_or_else(TenantDomain::default_tenant);
        let user = resolve_username(&tenant, &creds.username)
            .ok_or_else(|| bad("The username is not valid."))?;
        return Ok(LoginRequest {
            user,
            password: creds.password,
        });
    }
    let body: LoginBody = json_body(req)?;
    let user = UserJson {
        username: body.username,
        realm: body.realm,
        tenant_domain: body.tenant_domain,
    }
    .resolve(tenant.as_ref())?;
    let password = Password::new(body.password).map_err(|e| bad(format!("{e}.")))?;
    Ok(LoginRequest { user, password })
}

/// `POST /api/identity/auth/v1.1/authenticate`, credentials as HTTP Basic or in the body.
pub async fn login(app: &App, issuer: &TokenIssuer, req: Request) -> HandlerResult {
    Ok(serve(
        &req,
        app.config.request_budget,
        // Every refusal takes as long as the slowest, so an unknown user looks like a wrong password.
        Pad::Refusals(app.config.response_floor),
        parse_login,
        |r, now| login::login(&app.store, &app.mail, &app.config.defaults, issuer, r, now),
        |done| {
            json(
                StatusCode::OK,
                &json!({
                    "token": done.token,
                    "tokenType": "Bearer",
                    "expiresIn": done.expires_in.as_secs(),
                    "userId": done.user.id.to_string(),
                    "username": done.user.user_ref.username.as_str(),
                }),
            )
        },
        as_json(|_: &LoginError| None),
    )
    .await)
}

#[derive(Debug, Deserialize)]
struct LockBody {
    user: UserJson,
    locked: bool,
    #[serde(default)]
    reason: Option<String>,
}

const MAX_REASON_CHARS: usize = 256;

pub fn parse_lock(req: &Request) -> Result<LockUserRequest, RequestError> {
    require_post(req)?;
    let body: LockBody = json_body(req)?;
    let reason = body.reason.unwrap_or_default().trim().to_string();
    if reason.chars().count() > MAX_REASON_CHARS || reason.chars().any(char::is_control) {
        return Err(bad(format!(
            "The reason must be at most {MAX_REASON_CHARS} characters, without control characters."
        )));
    }
    let tenant = path_tenant(req)?;
    Ok(LockUserRequest {
        target: body.user.resolve(tenant.as_ref())?,
        locked: body.locked,
        reason,
        caller: basic_credentials(req),
    })
}

/// `POST /api/identity/user/v1.0/lock-user`, HTTP Basic of a tenant admin.
pub async fn lock_user(app: &App, req: Request) -> HandlerResult {
    // No credentials at all is a 401 before the body is looked at.
    let parse = |req: &Request| -> Result<Option<LockUserRequest>, RequestError> {
        if req.method() == lambda_http::http::Method::POST && basic_credentials(req).is_none() {
            return Ok(None);
        }
        parse_lock(req).map(Some)
    };
    Ok(serve(
        &req,
        app.config.request_budget,
        Pad::Never,
        parse,
        |r, now| async move {
            let r = r.ok_or(LockUserError::Unauthorized)?;
            admin::lock_user(&app.store, &app.mail, &app.config.defaults, r, now).await
        },
        |done| {
            json(
                StatusCode::OK,
                &user_json(
                    &done.user,
                    json!({"accountLocked": done.locked, "lockedReason": done.reason().map(|r| r.as_str())}),
                ),
            )
        },
        as_json(|_: &LockUserError| None),
    )
    .await)
}

/// `GET /oauth2/jwks` (and `/t/{tenant}/oauth2/jwks`): the public keys a
/// relying party verifies tokens with, current and previous. No authentication;
/// cacheable for five minutes (a rotation keeps the previous key published).
pub async fn jwks(issuer: &TokenIssuer, req: Request) -> HandlerResult {
    let trace = super::request::trace_id(&req);
    if let Err(e) = require_method(&req, lambda_http::http::Method::GET, "GET") {
        return Ok(super::error::respond(&e, None, &trace));
    }
    let mut res = json(StatusCode::OK, &issuer.jwks());
    res.headers_mut().insert(
        lambda_http::http::header::CACHE_CONTROL,
        lambda_http::http::HeaderValue::from_static("public, max-age=300"),
    );
    Ok(res)
}

pub fn parse_introspect(req: &Request) -> Result<IntrospectRequest, RequestError> {
    require_post(req)?;
    let token = form_body(req)?
        .into_iter()
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| bad("The form field `token` is required."))?;
    Ok(IntrospectRequest {
        tenant: path_tenant(req)?.unwrap_or_else(TenantDomain::default_tenant),
        caller: basic_credentials(req),
        token,
    })
}

/// `POST /oauth2/introspect` (RFC 7662): form field `token`, HTTP Basic of a
/// tenant admin; `{"active": false}` or the token's claims.
pub async fn introspect(app: &App, issuer: &TokenIssuer, req: Request) -> HandlerResult {
    Ok(serve(
        &req,
        app.config.request_budget,
        Pad::Never,
        parse_introspect,
        |r, now| sessions::introspect(&app.store, &app.mail, &app.config.defaults, issuer, r, now),
        |answer| {
            json(
                StatusCode::OK,
                &match answer {
                    Introspection::Inactive => json!({"active": false}),
                    Introspection::Active(c) => json!({
                        "active": true,
                        "sub": c.sub,
                        "username": c.username,
                        "tenant": c.tenant,
                        "exp": c.exp,
                        "iat": c.iat,
                        "iss": c.iss,
                        "aud": c.aud,
                        "scope": c.roles.join(" "),
                        "token_type": "Bearer",
                    }),
                },
            )
        },
        as_json(|_: &IntrospectError| None),
    )
    .await)
}
