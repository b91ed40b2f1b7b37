//! Request parsing shared by every endpoint: body limits, strict JSON, the
//! tenant in the path, WSO2's `user` object, Basic credentials.

use base64::Engine;
use lambda_http::http::header;
use lambda_http::{Body, Request, RequestExt};
use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::error::{Kind, UseCaseError};
use crate::model::domain::{Credentials, Password, Realm, TenantDomain, UserRef, Username};

/// Far above any legitimate body of this API, far below API Gateway's 10 MB.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// What is wrong with a request before any use case sees it.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    /// Not JSON, wrong types, missing fields, bad values: the sentence says which.
    #[error("{0}")]
    Bad(String),
    #[error("The request body is larger than {MAX_BODY_BYTES} bytes.")]
    TooLarge,
    #[error("Use {0}.")]
    Method(&'static str),
    #[error("There is nothing at this address.")]
    NotFound,
    /// The use case did not finish within the request's budget.
    #[error("The service is not answering in time. Try again in a moment.")]
    Late,
}

impl UseCaseError for RequestError {
    fn kind(&self) -> Kind {
        match self {
            RequestError::Bad(_) => Kind::BadRequest,
            RequestError::TooLarge => Kind::PayloadTooLarge,
            RequestError::Method(_) => Kind::MethodNotAllowed,
            RequestError::NotFound => Kind::NotFound,
            RequestError::Late => Kind::Unavailable,
        }
    }
}

/// Refuses anything but `POST` before the body is looked at.
pub fn require_post(req: &Request) -> Result<(), RequestError> {
    require_method(req, lambda_http::http::Method::POST, "POST")
}

pub fn require_method(
    req: &Request,
    m: lambda_http::http::Method,
    name: &'static str,
) -> Result<(), RequestError> {
    if req.method() == m {
        Ok(())
    } else {
        Err(RequestError::Method(name))
    }
}

pub(crate) fn bad(msg: impl Into<String>) -> RequestError {
    RequestError::Bad(msg.into())
}

/// The id a caller can quote to an operator: Lambda's request id, or a fresh one.
pub fn trace_id(req: &Request) -> String {
    req.lambda_context_ref()
        .map(|c| c.request_id.clone())
        .filter(|id| !id.is_empty())
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}

/// The body's bytes, refusing empty and oversized bodies.
fn body_bytes(req: &Request) -> Result<&[u8], RequestError> {
    let bytes: &[u8] = match req.body() {
        Body::Empty => return Err(bad("The request body is empty.")),
        Body::Text(t) => t.as_bytes(),
        Body::Binary(b) => b,
        _ => return Err(bad("The request body could not be read.")),
    };
    if bytes.len() > MAX_BODY_BYTES {
        return Err(RequestError::TooLarge);
    }
    Ok(bytes)
}

/// Parses the body as `T`, refusing oversized, empty, non-UTF-8 and malformed bodies.
pub fn json_body<T: DeserializeOwned>(req: &Request) -> Result<T, RequestError> {
    serde_json::from_slice(body_bytes(req)?)
        .map_err(|e| bad(format!("The request body is not valid: {e}.")))
}

/// A form posted as `application/x-www-form-urlencoded`, as name-value pairs.
pub fn form_body(req: &Request) -> Result<Vec<(String, String)>, RequestError> {
    let form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|t| {
            t.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    if !form {
        return Err(bad(
            "The form must be sent as application/x-www-form-urlencoded.",
        ));
    }
    Ok(url::form_urlencoded::parse(body_bytes(req)?)
        .into_owned()
        .collect())
}

/// The tenant named by a `/t/{tenant}/...` path, if any.
pub fn path_tenant(req: &Request) -> Result<Option<TenantDomain>, RequestError> {
    let path = req.uri().path();
    let mut segs = path.split('/').filter(|s| !s.is_empty());
    // A stage or base path may come first; the tenant form is `/t/{tenant}/api/...`.
    while let Some(seg) = segs.next() {
        if seg == "t" {
            return match segs.next() {
                Some(t) => TenantDomain::parse(t).map(Some).map_err(bad),
                None => Err(bad("The path names no tenant.")),
            };
        }
        if seg == "api" {
            break;
        }
    }
    Ok(None)
}

/// A query parameter, from the event's parsed map or, failing that, the URI.
pub fn query_param(req: &Request, name: &str) -> Option<String> {
    if let Some(v) = req
        .query_string_parameters_ref()
        .and_then(|q| q.first(name).map(str::to_string))
    {
        return Some(v);
    }
    req.uri().query().and_then(|q| {
        q.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (k == name).then(|| v.to_string())
        })
    })
}

/// The caller's address as API Gateway saw it (`None` outside API Gateway).
pub fn source_ip(req: &Request) -> Option<std::net::IpAddr> {
    use lambda_http::request::RequestContext;
    let ip = match req.request_context_ref()? {
        RequestContext::ApiGatewayV2(c) => c.http.source_ip.clone(),
        RequestContext::ApiGatewayV1(c) => c.identity.source_ip.clone(),
        _ => None,
    }?;
    ip.parse().ok()
}

/// The reCAPTCHA token, from WSO2's `g-recaptcha-response` header.
pub fn captcha_token(req: &Request) -> Option<String> {
    req.headers()
        .get("g-recaptcha-response")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// Parses `Basic base64(user:password)`; `None` for anything else.
pub fn parse_basic(header: &str) -> Option<Credentials> {
    let (scheme, value) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let raw = base64::engine::general_purpose::STANDARD
        .decode(value.trim())
        .ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (user, pass) = text.split_once(':')?;
    Some(Credentials {
        username: user.to_string(),
        password: Password::new(pass.to_string()).ok()?,
    })
}

/// `Authorization: Basic` credentials, if the request carries well-formed ones.
pub fn basic_credentials(req: &Request) -> Option<Credentials> {
    req.headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(parse_basic)
}

/// WSO2's `user` object.
#[derive(Debug, Deserialize)]
pub struct UserJson {
    pub username: String,
    #[serde(default)]
    pub realm: Option<String>,
    #[serde(default, rename = "tenant-domain")]
    pub tenant_domain: Option<String>,
}

/// WSO2's `properties` entries.
#[derive(Debug, Deserialize)]
pub struct Property {
    pub key: String,
    pub value: String,
}

impl UserJson {
    /// The user the request names; a tenant in the path wins over the body's.
    pub fn resolve(&self, path_tenant: Option<&TenantDomain>) -> Result<UserRef, RequestError> {
        let tenant = match (path_tenant, self.tenant_domain.as_deref()) {
            (Some(t), _) => t.clone(),
            (None, Some(t)) if !t.trim().is_empty() => TenantDomain::parse(t).map_err(bad)?,
            _ => TenantDomain::default_tenant(),
        };
        let realm = match self.realm.as_deref() {
            Some(r) if !r.trim().is_empty() => Realm::parse(r).map_err(bad)?,
            _ => Realm::primary(),
        };
        Ok(UserRef {
            tenant,
            realm,
            username: Username::parse(&self.username).map_err(bad)?,
        })
    }
}

pub fn property<'a>(props: &'a [Property], key: &str) -> Option<&'a str> {
    props
        .iter()
        .find(|p| p.key == key)
        .map(|p| p.value.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::http;

    fn req(path: &str, body: &str) -> Request {
        http::Request::builder()
            .uri(path)
            .body(Body::Text(body.into()))
            .unwrap()
    }

    #[test]
    fn tenant_from_path_wins() {
        let r = req(
            "/t/Example.com/api/identity/recovery/v0.9/recover-password",
            "",
        );
        let t = path_tenant(&r).unwrap().unwrap();
        assert_eq!(t.as_str(), "example.com");
        let u: UserJson =
            serde_json::from_str(r#"{"username":"kim","tenant-domain":"other.org"}"#).unwrap();
        assert_eq!(u.resolve(Some(&t)).unwrap().tenant.as_str(), "example.com");
        assert_eq!(u.resolve(None).unwrap().tenant.as_str(), "other.org");
        let r = req("/api/identity/recovery/v0.9/recover-password", "");
        assert!(path_tenant(&r).unwrap().is_none());
        assert!(path_tenant(&req("/t/bad%20t/api/x", "")).is_err());
    }

    #[test]
    fn bodies_are_strict() {
        #[derive(Debug, Deserialize)]
        struct B {
            #[allow(dead_code)]
            user: UserJson,
        }
        assert!(json_body::<B>(&req("/", r#"{"user":{"username":"kim"}}"#)).is_ok());
        for body in [
            "",
            "{",
            r#"{"user":{"username":5}}"#,
            r#"{"user":[]}"#,
            "null",
        ] {
            let e = json_body::<B>(&req("/", body)).unwrap_err();
            assert_eq!(e.kind(), Kind::BadRequest, "{body}");
        }
        let big = format!(
            r#"{{"user":{{"username":"{}"}}}}"#,
            "a".repeat(MAX_BODY_BYTES)
        );
        assert_eq!(
            json_body::<B>(&req("/", &big)).unwrap_err().kind(),
            Kind::PayloadTooLarge
        );
    }

    #[test]
    fn basic_header() {
        // admin:admin, the seed's header.
        let c = parse_basic("Basic YWRtaW46YWRtaW4=").unwrap();
        assert_eq!(c.username, "admin");
        assert_eq!(c.password.expose(), "admin");
        assert!(parse_basic("Bearer x").is_none());
        assert!(parse_basic("Basic !!!").is_none());
        assert!(format!("{c:?}").contains("***"));
        assert!(!format!("{c:?}").contains("Password(\"admin"));
    }

    #[test]
    fn query_from_uri() {
        let r = req("/x?type=email&notify=false", "");
        assert_eq!(query_param(&r, "notify").as_deref(), Some("false"));
        assert_eq!(query_param(&r, "nope"), None);
    }
}
