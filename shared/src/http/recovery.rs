//! Handlers of the recovery endpoints: parse, call the use case, answer.

use lambda_http::http::{Method, StatusCode};
use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use serde_json::json;

use super::error::{respond, sentences};
use super::request::{
    bad, basic_credentials, captcha_token, json_body, path_tenant, property, query_param,
    require_method, require_post, source_ip, trace_id, Property, RequestError, UserJson,
};
use super::response::{empty, json, text, user_json};
use super::serve::{as_json, serve, Pad};
use crate::app::App;
use crate::model::domain::{Password, TenantDomain};
use crate::model::policy;
use crate::recovery::{
    self, RecoverRequest, Recovered, RecoveryError, ResendRequest, SetPasswordError,
    SetPasswordRequest, ValidateCodeRequest,
};

type HandlerResult = Result<Response<Body>, lambda_http::Error>;

pub const RECOVERY_SCENARIO: &str = "NOTIFICATION_BASED_PW_RECOVERY";

#[derive(Debug, Deserialize)]
struct UserBody {
    user: UserJson,
    #[serde(default)]
    properties: Vec<Property>,
}

#[derive(Debug, Deserialize)]
struct SetPasswordBody {
    key: String,
    password: String,
    #[serde(default)]
    #[allow(dead_code)]
    properties: Vec<Property>,
}

fn bool_param(req: &Request, name: &str, default: bool) -> Result<bool, RequestError> {
    match query_param(req, name).as_deref() {
        None | Some("") => Ok(default),
        Some("true") => Ok(true),
        Some("false") => Ok(false),
        Some(_) => Err(bad(format!(
            "The `{name}` parameter must be true or false."
        ))),
    }
}

pub fn parse_recover(req: &Request) -> Result<RecoverRequest, RequestError> {
    require_post(req)?;
    match query_param(req, "type").as_deref() {
        None | Some("") | Some("email") => {}
        Some(_) => return Err(bad("Only `type=email` recovery is supported.")),
    }
    let notify = bool_param(req, "notify", true)?;
    let body: UserBody = json_body(req)?;
    let tenant = path_tenant(req)?;
    Ok(RecoverRequest {
        user: body.user.resolve(tenant.as_ref())?,
        callback: property(&body.properties, "callback").map(str::to_string),
        notify,
        caller: basic_credentials(req),
        captcha_token: captcha_token(req),
        source_ip: source_ip(req),
    })
}

fn no_description(_: &RecoveryError) -> Option<String> {
    None
}

/// `POST /api/identity/recovery/v0.9/recover-password?type=email&notify=true`
pub async fn recover_password(app: &App, req: Request) -> HandlerResult {
    Ok(serve(
        &req,
        app.config.request_budget,
        Pad::Always(app.config.response_floor),
        parse_recover,
        |r, now| recovery::recover_password(app.recovery_ports(), r, now),
        |done| match done {
            // WSO2 answers 202 with no body; the type says what an admin's body is.
            Recovered::Accepted => text(StatusCode::ACCEPTED, String::new()),
            Recovered::Key(key) => text(StatusCode::ACCEPTED, key.expose()),
        },
        as_json(no_description),
    )
    .await)
}

pub fn parse_resend(req: &Request) -> Result<ResendRequest, RequestError> {
    require_post(req)?;
    let body: UserBody = json_body(req)?;
    match property(&body.properties, "RecoveryScenario") {
        Some(RECOVERY_SCENARIO) => {}
        Some(other) => {
            return Err(bad(format!(
                "Recovery scenario `{}` is not supported; use {RECOVERY_SCENARIO}.",
                other.escape_debug()
            )))
        }
        None => {
            return Err(bad(format!(
                "The `RecoveryScenario` property is required ({RECOVERY_SCENARIO})."
            )))
        }
    }
    let tenant = path_tenant(req)?;
    Ok(ResendRequest {
        user: body.user.resolve(tenant.as_ref())?,
        caller: basic_credentials(req),
        captcha_token: captcha_token(req),
        source_ip: source_ip(req),
    })
}

/// `POST /api/identity/user/v1.0/resend-code`
pub async fn resend_code(app: &App, req: Request) -> HandlerResult {
    Ok(serve(
        &req,
        app.config.request_budget,
        Pad::Always(app.config.response_floor),
        parse_resend,
        |r, now| recovery::resend_code(app.recovery_ports(), r, now),
        |()| empty(StatusCode::CREATED),
        as_json(no_description),
    )
    .await)
}

pub fn parse_set_password(req: &Request) -> Result<SetPasswordRequest, RequestError> {
    require_post(req)?;
    let body: SetPasswordBody = json_body(req)?;
    let password = Password::new(body.password).map_err(|e| bad(format!("{e}.")))?;
    Ok(SetPasswordRequest {
        key: body.key,
        password,
    })
}

/// The policy's refusal, as the sentences a user reads.
fn describe_refusal(e: &SetPasswordError) -> Option<String> {
    match e {
        SetPasswordError::Policy(v) => Some(sentences(v)),
        SetPasswordError::Reused { n, .. } => {
            Some(sentences(&[policy::Violation::Reused { n: *n }]))
        }
        _ => None,
    }
}

/// `POST /api/identity/recovery/v0.9/set-password`
pub async fn set_password(app: &App, req: Request) -> HandlerResult {
    Ok(serve(
        &req,
        app.config.request_budget,
        Pad::Never,
        parse_set_password,
        |r, now| recovery::set_password(&app.store, &app.mail, &app.config.defaults, r, now),
        |done| {
            json(
                StatusCode::OK,
                &user_json(&done.user, json!({"userId": done.user_id.to_string()})),
            )
        },
        as_json(describe_refusal),
    )
    .await)
}

/// WSO2's validate-code body.
#[derive(Debug, Deserialize)]
struct ValidateCodeBody {
    code: String,
    #[serde(default)]
    step: Option<String>,
    #[serde(default)]
    #[allow(dead_code)]
    properties: Vec<Property>,
}

pub fn parse_validate_code(req: &Request) -> Result<ValidateCodeRequest, RequestError> {
    require_post(req)?;
    let body: ValidateCodeBody = json_body(req)?;
    Ok(ValidateCodeRequest {
        code: body.code,
        step: body.step,
        tenant: path_tenant(req)?,
    })
}

/// `POST /api/identity/recovery/v0.9/validate-code`: `202` with the key's user
/// while the key would still set a password; the key is not used up.
pub async fn validate_code(app: &App, req: Request) -> HandlerResult {
    Ok(serve(
        &req,
        app.config.request_budget,
        Pad::Never,
        parse_validate_code,
        |r, now| recovery::validate_code(&app.store, &app.config.defaults, r, now),
        |user| json(StatusCode::ACCEPTED, &user_json(&user, json!({}))),
        as_json(|_: &recovery::ValidateCodeError| None),
    )
    .await)
}

/// The tenant a `GET` names: the `/t/{tenant}` path, or `?tenant-domain=`, or the default.
fn get_tenant(req: &Request) -> Result<TenantDomain, RequestError> {
    require_method(req, Method::GET, "GET")?;
    Ok(match path_tenant(req)? {
        Some(t) => t,
        None => match query_param(req, "tenant-domain").filter(|t| !t.is_empty()) {
            None => TenantDomain::default_tenant(),
            Some(t) => TenantDomain::parse(&t).map_err(bad)?,
        },
    })
}

/// Where a page loads the reCAPTCHA widget from.
pub const RECAPTCHA_API: &str = "https://www.google.com/recaptcha/api.js";

/// `GET /api/identity/recovery/v0.9/captcha?captcha-type=ReCaptcha&recovery-type=password-recovery`:
/// whether the tenant's recovery needs reCAPTCHA, and the public site key a
/// page renders the widget with. The secret never leaves the server.
pub async fn captcha(app: &App, req: Request) -> HandlerResult {
    let trace = trace_id(&req);
    let parsed = get_tenant(&req).and_then(|tenant| {
        match query_param(&req, "captcha-type").as_deref() {
            Some(t) if t.eq_ignore_ascii_case("ReCaptcha") => {}
            Some(_) => return Err(bad("Only `captcha-type=ReCaptcha` is supported.")),
            None => return Err(bad("The `captcha-type` parameter is required (ReCaptcha).")),
        }
        if query_param(&req, "recovery-type").is_none_or(|t| t.is_empty()) {
            return Err(bad(
                "The `recovery-type` parameter is required (password-recovery).",
            ));
        }
        Ok(tenant)
    });
    let tenant = match parsed {
        Ok(t) => t,
        Err(e) => return Ok(respond(&e, None, &trace)),
    };
    let settings = match app.store.load(&tenant, &[], &app.config.defaults).await {
        Ok((settings, _)) => settings,
        Err(e) => return Ok(respond(&RecoveryError::Unexpected(e), None, &trace)),
    };
    let r = &settings.recovery;
    Ok(json(
        StatusCode::OK,
        &json!({
            "reCaptchaEnabled": r.captcha.is_some(),
            "reCaptchaType": "ReCaptcha",
            "reCaptchaKey": r.captcha_site_key,
            "reCaptchaAPI": RECAPTCHA_API,
        }),
    ))
}

/// `GET /api/identity/recovery/v0.9/password-policy` (or `/t/{tenant}/...`, or
/// `?tenant-domain=`): the rules and guidelines a change-password page shows.
/// No authentication: the policy is what any user is about to be told anyway.
pub async fn password_policy(app: &App, req: Request) -> HandlerResult {
    let trace = trace_id(&req);
    let tenant = match get_tenant(&req) {
        Ok(t) => t,
        Err(e) => return Ok(respond(&e, None, &trace)),
    };
    let settings = match app.store.load(&tenant, &[], &app.config.defaults).await {
        Ok((settings, _)) => settings,
        Err(e) => return Ok(respond(&RecoveryError::Unexpected(e), None, &trace)),
    };
    let p = &settings.password;
    let guidelines = policy::guidelines(p);
    Ok(json(
        StatusCode::OK,
        &json!({
            "tenant-domain": tenant.as_str(),
            "minLength": p.min_length,
            "maxLength": p.max_length,
            "regex": p.regex.as_ref().map(|r| r.as_str()),
            "regexError": p.regex_error,
            "pattern": p.pattern.as_ref().map(|r| r.as_str()),
            "patternError": p.pattern_error,
            "namePolicy": p.name_policy.as_str(),
            "history": p.history,
            "commonPasswordsRefused": true,
            "guidelinesEnabled": !guidelines.is_empty(),
            "policyList": guidelines,
        }),
    ))
}
