//! `login` Lambda: wiring only. The logic is in `account_core`.

use lambda_http::{run, service_fn, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    account_core::telemetry::init();
    let app = account_core::App::from_env()?;
    // No signing key, no start: a token service must never fall back to a default key.
    let issuer = account_core::tokens::TokenIssuer::from_env()?;
    let (app, issuer) = (&app, &issuer);
    run(service_fn(move |req| {
        account_core::http::login(app, issuer, req)
    }))
    .await
}
