//! `recover-password` Lambda: wiring only. The logic is in `account_core`.

use lambda_http::{run, service_fn, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    account_core::telemetry::init();
    let app = account_core::App::from_env()?;
    // The default callback pattern is checked here, where it is used (not in every function).
    app.config.defaults.check_callback_regex()?;
    let app = &app;
    run(service_fn(move |req| {
        account_core::http::recover_password_function(app, req)
    }))
    .await
}
