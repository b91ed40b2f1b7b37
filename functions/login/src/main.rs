//! `login` Lambda (also `GET /oauth2/jwks` and `POST /oauth2/introspect`):
//! wiring only. The logic is in `account_core`.

use lambda_http::{run, service_fn, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    account_core::telemetry::init();
    let app = account_core::App::from_env()?;
    // No signing key, no start: a token service must never fall back to a default key.
    let env = |k: &str| std::env::var(k).ok();
    let keys = account_core::outbound::secrets::secret(env, &app.http, "JWT_SIGNING_KEYS").await?;
    let issuer = account_core::tokens::TokenIssuer::new(&keys, env)?;
    let (app, issuer) = (&app, &issuer);
    run(service_fn(move |req| {
        account_core::http::login_function(app, issuer, req)
    }))
    .await
}
