//! The route table: every path the service answers, its method, its endpoint
//! and the Lambda function that serves it. Every path also answers with the
//! tenant in front (`/t/{tenant}/...`). The watch router in `Cargo.toml`,
//! `template.yaml`'s events and the test helper are checked against it (the
//! `routes` API test), so they cannot drift.

use lambda_http::http::Method;

/// A Lambda function: a binary of `functions/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Function {
    RecoverPassword,
    SetPassword,
    ResendCode,
    LockUser,
    Login,
    ResetPage,
}

impl Function {
    pub const ALL: [Function; 6] = [
        Function::RecoverPassword,
        Function::SetPassword,
        Function::ResendCode,
        Function::LockUser,
        Function::Login,
        Function::ResetPage,
    ];

    /// The binary's name, as `cargo lambda` and the watch router know it.
    pub fn name(self) -> &'static str {
        match self {
            Function::RecoverPassword => "recover-password",
            Function::SetPassword => "set-password",
            Function::ResendCode => "resend-code",
            Function::LockUser => "lock-user",
            Function::Login => "login",
            Function::ResetPage => "reset-page",
        }
    }
}

/// What a route does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    RecoverPassword,
    Captcha,
    SetPassword,
    PasswordPolicy,
    ValidateCode,
    ResendCode,
    LockUser,
    Login,
    /// The public keys of the tokens, as a JWK Set.
    Jwks,
    /// RFC 7662 token introspection.
    Introspect,
    ResetPage,
    /// The reset page's form, posted without JavaScript.
    ResetForm,
    /// The reset page's "send me a new link" form, posted without JavaScript.
    NewLinkForm,
}

#[derive(Debug, Clone)]
pub struct Route {
    pub method: Method,
    /// Without the `/t/{tenant}` prefix; `{file}` matches one path segment.
    pub path: &'static str,
    pub endpoint: Endpoint,
    pub function: Function,
}

const fn route(
    method: Method,
    path: &'static str,
    endpoint: Endpoint,
    function: Function,
) -> Route {
    Route {
        method,
        path,
        endpoint,
        function,
    }
}

pub const ROUTES: &[Route] = &[
    route(
        Method::POST,
        "/api/identity/recovery/v0.9/recover-password",
        Endpoint::RecoverPassword,
        Function::RecoverPassword,
    ),
    route(
        Method::GET,
        "/api/identity/recovery/v0.9/captcha",
        Endpoint::Captcha,
        Function::RecoverPassword,
    ),
    route(
        Method::POST,
        "/api/identity/recovery/v0.9/set-password",
        Endpoint::SetPassword,
        Function::SetPassword,
    ),
    route(
        Method::GET,
        "/api/identity/recovery/v0.9/password-policy",
        Endpoint::PasswordPolicy,
        Function::SetPassword,
    ),
    route(
        Method::POST,
        "/api/identity/recovery/v0.9/validate-code",
        Endpoint::ValidateCode,
        Function::SetPassword,
    ),
    route(
        Method::POST,
        "/api/identity/user/v1.0/resend-code",
        Endpoint::ResendCode,
        Function::ResendCode,
    ),
    route(
        Method::POST,
        "/api/identity/user/v1.0/lock-user",
        Endpoint::LockUser,
        Function::LockUser,
    ),
    route(
        Method::POST,
        "/api/identity/auth/v1.1/authenticate",
        Endpoint::Login,
        Function::Login,
    ),
    // The path WSO2 documents today, beside the one its older clients call.
    route(
        Method::POST,
        "/api/identity/auth/v1.2/authenticate",
        Endpoint::Login,
        Function::Login,
    ),
    // The login function holds the token keys.
    route(Method::GET, "/oauth2/jwks", Endpoint::Jwks, Function::Login),
    route(
        Method::POST,
        "/oauth2/introspect",
        Endpoint::Introspect,
        Function::Login,
    ),
    // The static paths before `{file}`, which would match them too.
    route(
        Method::POST,
        "/recovery/reset-password",
        Endpoint::ResetForm,
        Function::SetPassword,
    ),
    route(
        Method::POST,
        "/recovery/new-link",
        Endpoint::NewLinkForm,
        Function::RecoverPassword,
    ),
    route(
        Method::GET,
        "/recovery/{file}",
        Endpoint::ResetPage,
        Function::ResetPage,
    ),
];

/// Whether `path` ends with the route's path (a stage, base path or tenant
/// prefix may come first); `{file}` matches one segment.
fn matches(route: &Route, path: &str) -> bool {
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let want: Vec<&str> = route.path.split('/').filter(|s| !s.is_empty()).collect();
    segs.len() >= want.len()
        && segs[segs.len() - want.len()..]
            .iter()
            .zip(&want)
            .all(|(got, w)| w.starts_with('{') || got == w)
}

/// The endpoint a request names: the route of its path and method, else the
/// first route of its path (which answers the wrong method with its `405`).
pub fn endpoint_of(method: &Method, path: &str) -> Option<Endpoint> {
    let mut same_path = ROUTES.iter().filter(|r| matches(r, path)).peekable();
    let first = same_path.peek().map(|r| r.endpoint);
    same_path
        .find(|r| r.method == *method)
        .map(|r| r.endpoint)
        .or(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_find_their_endpoint_with_or_without_tenant_and_stage() {
        let e = |m: Method, p| endpoint_of(&m, p);
        assert_eq!(
            e(Method::POST, "/api/identity/recovery/v0.9/set-password"),
            Some(Endpoint::SetPassword)
        );
        assert_eq!(
            e(
                Method::GET,
                "/t/example.com/api/identity/recovery/v0.9/password-policy"
            ),
            Some(Endpoint::PasswordPolicy)
        );
        assert_eq!(
            e(Method::POST, "/prod/api/identity/auth/v1.2/authenticate"),
            Some(Endpoint::Login)
        );
        assert_eq!(
            e(Method::GET, "/t/x/recovery/reset-password.js"),
            Some(Endpoint::ResetPage)
        );
        assert_eq!(
            e(Method::GET, "/t/x/recovery/reset-password"),
            Some(Endpoint::ResetPage)
        );
        assert_eq!(
            e(Method::POST, "/t/x/recovery/reset-password"),
            Some(Endpoint::ResetForm)
        );
        assert_eq!(
            e(Method::PUT, "/recovery/reset-password"),
            Some(Endpoint::ResetForm),
            "its 405"
        );
        assert_eq!(
            e(Method::GET, "/api/identity/recovery/v0.9/set-password"),
            Some(Endpoint::SetPassword)
        );
        assert_eq!(e(Method::POST, "/api/identity/recovery/v0.9/nope"), None);
        for f in Function::ALL {
            assert!(ROUTES.iter().any(|r| r.function == f), "{f:?} has a route");
        }
    }
}
