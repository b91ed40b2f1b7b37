//! The reset-password page the mail links to: three static files compiled into
//! the binary, served with a strict Content-Security-Policy (no inline code, no
//! third-party origin) and no caching or referrer, since its URL carries a key.

use lambda_http::http::{header, HeaderValue, Method, StatusCode};
use lambda_http::{Body, Request, Response};

use super::error::respond;
use super::request::{trace_id, RequestError};
use super::response::text;

const HTML: &str = include_str!("page/reset-password.html");
const JS: &str = include_str!("page/reset-password.js");
const CSS: &str = include_str!("page/reset-password.css");

const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; \
                   img-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'";

/// `GET /recovery/reset-password` (and `/t/{tenant}/...`), with its script and style sheet.
pub async fn reset_page(req: Request) -> Result<Response<Body>, lambda_http::Error> {
    let trace = trace_id(&req);
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return Ok(respond(&RequestError::Method("GET"), None, &trace));
    }
    let (body, content_type) = match req.uri().path().rsplit('/').next() {
        Some("reset-password") => (HTML, "text/html; charset=utf-8"),
        Some("reset-password.js") => (JS, "text/javascript; charset=utf-8"),
        Some("reset-password.css") => (CSS, "text/css; charset=utf-8"),
        _ => return Ok(respond(&RequestError::NotFound, None, &trace)),
    };
    let mut res = text(StatusCode::OK, body.to_string());
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    Ok(res)
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

    #[tokio::test]
    async fn serves_the_page_and_its_assets_under_a_strict_policy() {
        let r = get("/recovery/reset-password?confirmation=x").await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "text/html; charset=utf-8");
        assert!(r.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("script-src 'self'"));
        assert_eq!(r.headers()["referrer-policy"], "no-referrer");
        assert_eq!(r.headers()["cache-control"], "no-store");
        let r = get("/t/example.com/recovery/reset-password.js").await;
        assert_eq!(
            r.headers()["content-type"],
            "text/javascript; charset=utf-8"
        );
        assert_eq!(get("/recovery/other").await.status(), 404);
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
