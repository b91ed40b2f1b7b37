//! The reset-password page the mail links to. It works without JavaScript: the
//! server renders it, with the key from the link in a hidden field, and its
//! forms post (`application/x-www-form-urlencoded`) to paths of ours that
//! answer with the same page saying what happened. With JavaScript the page
//! upgrades itself (live hints, show-password, no reloads). Served with a
//! strict Content-Security-Policy (no inline code, no third-party origin,
//! forms only to ourselves), no caching and no referrer: its URL carries a key.
//!
//! Cross-site posting gains nothing: the reset form needs the key itself,
//! which only its holder has, and the new-link form does what anyone may do
//! with recover-password (and answers the same whether the user exists).

use lambda_http::http::{header, HeaderValue, Method, StatusCode};
use lambda_http::{Body, Request, Response};

use super::error::{kind_of, respond, sentence, status_and_code};
use super::request::{
    form_body, path_tenant, query_param, source_ip, trace_id, RequestError, UserJson,
};
use super::response::{secure, text};
use super::serve::{serve, Pad, Refused};
use crate::app::App;
use crate::error::UseCaseError;
use crate::model::domain::{Password, TenantDomain};
use crate::model::key::RecoveryKey;
use crate::model::policy::Violation;
use crate::model::templates::escape_html;
use crate::recovery::{self, RecoverRequest, RecoveryError, SetPasswordError, SetPasswordRequest};

const HTML: &str = include_str!("page/reset-password.html");
const JS: &str = include_str!("page/reset-password.js");
const CSS: &str = include_str!("page/reset-password.css");

const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; \
                   img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// What the page shows.
enum State<'a> {
    /// The form, with the key in its hidden field and what went wrong, if anything.
    Form {
        key: &'a str,
        errors: Vec<String>,
    },
    Done,
    /// The link does not work; a form asks for a new one (or says it was asked for).
    Invalid {
        message: &'a str,
        sent: bool,
        error: Option<String>,
    },
}

fn render(state: &State<'_>) -> String {
    let hidden = |shown: bool| if shown { "" } else { " hidden" };
    let (title, key, errors) = match state {
        State::Form { key, errors } => ("Choose a new password", *key, errors.as_slice()),
        State::Done => ("Password changed", "", &[][..]),
        State::Invalid { .. } => ("Link not valid", "", &[][..]),
    };
    let form_error = match errors {
        [] => String::new(),
        [one] => escape_html(one),
        many => format!(
            "<ul>{}</ul>",
            many.iter()
                .map(|e| format!("<li>{}</li>", escape_html(e)))
                .collect::<String>()
        ),
    };
    let (message, sent, again_error) = match state {
        State::Invalid {
            message,
            sent,
            error,
        } => (*message, *sent, error.as_deref().unwrap_or("")),
        _ => ("", false, ""),
    };
    let invalid = matches!(state, State::Invalid { .. });
    [
        ("{{title}}", title.to_string()),
        ("{{key}}", escape_html(key)),
        (
            "{{reset_hidden}}",
            hidden(matches!(state, State::Form { .. })).into(),
        ),
        (
            "{{done_hidden}}",
            hidden(matches!(state, State::Done)).into(),
        ),
        ("{{invalid_hidden}}", hidden(invalid).into()),
        ("{{form_error_hidden}}", hidden(!errors.is_empty()).into()),
        ("{{form_error}}", form_error),
        ("{{invalid_message}}", escape_html(message)),
        ("{{again_form_hidden}}", hidden(!sent).into()),
        ("{{again_sent_hidden}}", hidden(sent).into()),
        (
            "{{again_error_hidden}}",
            hidden(!again_error.is_empty()).into(),
        ),
        ("{{again_error}}", escape_html(again_error)),
    ]
    .iter()
    .fold(HTML.to_string(), |page, (token, value)| {
        page.replace(token, value)
    })
}

fn with_policy(mut res: Response<Body>, content_type: &'static str) -> Response<Body> {
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    res
}

fn page(status: StatusCode, state: &State<'_>) -> Response<Body> {
    let mut res = Response::new(Body::Text(render(state)));
    *res.status_mut() = status;
    with_policy(secure(res), "text/html; charset=utf-8")
}

/// `GET /recovery/reset-password?confirmation=KEY` (and `/t/{tenant}/...`),
/// with its script and style sheet.
pub async fn reset_page(req: Request) -> Result<Response<Body>, lambda_http::Error> {
    let trace = trace_id(&req);
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return Ok(respond(&RequestError::Method("GET"), None, &trace));
    }
    Ok(match req.uri().path().rsplit('/').next() {
        Some("reset-password") => {
            // Only something shaped like one of our keys goes into the page.
            let key = query_param(&req, "confirmation")
                .and_then(|k| RecoveryKey::parse(&k))
                .map(|k| k.expose());
            match &key {
                Some(key) => page(
                    StatusCode::OK,
                    &State::Form {
                        key,
                        errors: Vec::new(),
                    },
                ),
                None => page(
                    StatusCode::OK,
                    &State::Invalid {
                        message: "This page needs the link from your reset mail.",
                        sent: false,
                        error: None,
                    },
                ),
            }
        }
        Some("reset-password.js") => with_policy(
            text(StatusCode::OK, JS.to_string()),
            "text/javascript; charset=utf-8",
        ),
        Some("reset-password.css") => with_policy(
            text(StatusCode::OK, CSS.to_string()),
            "text/css; charset=utf-8",
        ),
        _ => respond(&RequestError::NotFound, None, &trace),
    })
}

/// The reset form's fields.
struct ResetForm {
    key: String,
    password: String,
    confirm: String,
}

fn parse_reset_form(req: &Request) -> Result<ResetForm, RequestError> {
    let mut f = ResetForm {
        key: String::new(),
        password: String::new(),
        confirm: String::new(),
    };
    for (k, v) in form_body(req)? {
        match k.as_str() {
            "key" => f.key = v,
            "password" => f.password = v,
            "confirm" => f.confirm = v,
            _ => {}
        }
    }
    Ok(f)
}

/// Why a posted reset form is not tried at all.
#[derive(Debug, thiserror::Error)]
enum FormError {
    #[error("Enter a new password.")]
    NoPassword,
    #[error("The two passwords are not the same.")]
    Mismatch,
    #[error(transparent)]
    Refused(#[from] SetPasswordError),
}

/// `POST /recovery/reset-password`: the form, posted without JavaScript.
pub async fn reset_form(app: &App, req: Request) -> Result<Response<Body>, lambda_http::Error> {
    // The key the form carried, to put back into the form it answers with.
    let posted_key = parse_reset_form(&req)
        .ok()
        .and_then(|f| RecoveryKey::parse(&f.key))
        .map(|k| k.expose())
        .unwrap_or_default();
    Ok(serve(
        &req,
        app.config.request_budget,
        Pad::Never,
        parse_reset_form,
        |f, now| async move {
            if f.password.is_empty() {
                return Err(FormError::NoPassword);
            }
            if f.password != f.confirm {
                return Err(FormError::Mismatch);
            }
            let password = Password::new(f.password).map_err(|_| FormError::NoPassword)?;
            let req = SetPasswordRequest {
                key: f.key,
                password,
            };
            Ok(
                recovery::set_password(&app.store, &app.mail, &app.config.defaults, req, now)
                    .await?,
            )
        },
        |_| page(StatusCode::OK, &State::Done),
        |refused, _trace| {
            let form = |status, errors| {
                page(
                    status,
                    &State::Form {
                        key: &posted_key,
                        errors,
                    },
                )
            };
            let invalid = |message| {
                page(
                    StatusCode::BAD_REQUEST,
                    &State::Invalid {
                        message,
                        sent: false,
                        error: None,
                    },
                )
            };
            match refused {
                Refused::Request(e) => form(status_and_code(e.kind()).0, vec![e.to_string()]),
                Refused::UseCase(FormError::Refused(e)) => match e {
                    SetPasswordError::InvalidKey => invalid("This link is not valid any more."),
                    SetPasswordError::ExpiredKey => invalid("This link has expired."),
                    SetPasswordError::Policy(v) => {
                        form(StatusCode::BAD_REQUEST, v.iter().map(sentence).collect())
                    }
                    SetPasswordError::Reused { n, key: Some(_) } => form(
                        StatusCode::PRECONDITION_FAILED,
                        vec![sentence(&Violation::Reused { n: *n })],
                    ),
                    SetPasswordError::Reused { .. } => invalid("This link is not valid any more."),
                    other => form(
                        status_and_code(kind_of(other)).0,
                        vec!["The password could not be set. Try again.".into()],
                    ),
                },
                Refused::UseCase(e) => form(StatusCode::BAD_REQUEST, vec![e.to_string()]),
            }
        },
    )
    .await)
}

fn parse_new_link(req: &Request) -> Result<RecoverRequest, RequestError> {
    let username = form_body(req)?
        .into_iter()
        .find(|(k, _)| k == "username")
        .map(|(_, v)| v)
        .unwrap_or_default();
    let tenant: Option<TenantDomain> = path_tenant(req)?;
    let user = UserJson {
        username,
        realm: None,
        tenant_domain: None,
    }
    .resolve(tenant.as_ref())?;
    Ok(RecoverRequest {
        user,
        // The tenant's own reset page: a form cannot name a callback.
        callback: None,
        notify: true,
        caller: None,
        captcha_token: None,
        source_ip: source_ip(req),
    })
}

/// `POST /recovery/new-link`: the invalid-link page's form, posted without
/// JavaScript. It is recover-password with the tenant's default callback, and
/// answers the same whether or not the user exists, after the same time.
pub async fn new_link_form(app: &App, req: Request) -> Result<Response<Body>, lambda_http::Error> {
    let message = "Ask for a new link to reset your password.";
    Ok(serve(
        &req,
        app.config.request_budget,
        Pad::Always(app.config.response_floor),
        parse_new_link,
        |r, now| recovery::recover_password(app.recovery_ports(), r, now),
        |_| {
            page(
                StatusCode::OK,
                &State::Invalid {
                    message,
                    sent: true,
                    error: None,
                },
            )
        },
        |refused: Refused<'_, RecoveryError>, _trace| {
            let (status, error) = match refused {
                Refused::Request(e) => (status_and_code(e.kind()).0, e.to_string()),
                Refused::UseCase(RecoveryError::Captcha(_)) => (
                    StatusCode::BAD_REQUEST,
                    "This service asks for a CAPTCHA, which needs JavaScript: open the link \
                     with JavaScript on, or ask your administrator."
                        .to_string(),
                ),
                Refused::UseCase(e) if e.internal().is_some() => (
                    status_and_code(kind_of(e)).0,
                    "The request could not be sent. Try again.".to_string(),
                ),
                Refused::UseCase(e) => (status_and_code(e.kind()).0, e.to_string()),
            };
            page(
                status,
                &State::Invalid {
                    message,
                    sent: false,
                    error: Some(error),
                },
            )
        },
    )
    .await)
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::http;

    async fn get(path: &str) -> Response<Body> {
        let req = http::Request::builder()
            .uri(path)
            .body(Body::Empty)
            .unwrap();
        reset_page(req).await.unwrap()
    }

    fn body(r: &Response<Body>) -> String {
        match r.body() {
            Body::Text(t) => t.clone(),
            _ => String::new(),
        }
    }

    #[tokio::test]
    async fn serves_the_page_and_its_assets_under_a_strict_policy() {
        let key = RecoveryKey::generate().expose();
        let r = get(&format!("/recovery/reset-password?confirmation={key}")).await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "text/html; charset=utf-8");
        let csp = r.headers()["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("script-src 'self'") && csp.contains("form-action 'self'"));
        assert_eq!(r.headers()["referrer-policy"], "no-referrer");
        assert_eq!(r.headers()["cache-control"], "no-store");
        let html = body(&r);
        assert!(
            html.contains(&format!("name=\"key\" value=\"{key}\"")),
            "the key in the form"
        );
        assert!(
            html.contains("<section id=\"reset\">")
                && html.contains("<section id=\"invalid\" hidden>")
        );
        assert!(!html.contains("{{"), "every token filled");
        let r = get("/t/example.com/recovery/reset-password.js").await;
        assert_eq!(
            r.headers()["content-type"],
            "text/javascript; charset=utf-8"
        );
        assert_eq!(get("/recovery/other").await.status(), 404);
    }

    #[tokio::test]
    async fn only_a_key_shaped_value_enters_the_page() {
        let r = get("/recovery/reset-password?confirmation=%22%3E%3Cscript%3E").await;
        let html = body(&r);
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("<section id=\"invalid\">"));
        assert!(html.contains("name=\"key\" value=\"\""));
    }

    #[test]
    fn refusals_render_every_rule_escaped() {
        let html = render(&State::Form {
            key: "k",
            errors: vec!["a <b>".into(), "c".into()],
        });
        assert!(html.contains("<ul><li>a &lt;b&gt;</li><li>c</li></ul>"));
        assert!(html.contains("id=\"form-error\" class=\"error\" role=\"alert\">"));
    }

    #[test]
    fn no_inline_code_and_no_third_party_origins() {
        let inline_handler = regex::Regex::new(r"\son[a-z]+\s*=").unwrap();
        assert!(
            !HTML.contains("<script>")
                && !HTML.contains("style=")
                && !inline_handler.is_match(HTML)
        );
        for asset in [HTML, JS, CSS] {
            assert!(
                !asset.contains("http://") && !asset.contains("https://"),
                "third-party reference"
            );
        }
    }
}
