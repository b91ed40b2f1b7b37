//! `set-password` Lambda (also serves `GET .../password-policy`): wiring only.

use lambda_http::{run, service_fn, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    account_core::telemetry::init();
    let app = account_core::App::from_env()?;
    // Default password patterns get the write-time checks here, where they are used.
    app.config.defaults.check_password_patterns()?;
    let app = &app;
    run(service_fn(move |req| {
        account_core::http::set_password_function(app, req)
    }))
    .await
}
