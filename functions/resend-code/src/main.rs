//! `resend-code` Lambda: wiring only. The logic is in `account_core`.

use lambda_http::{run, service_fn, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    account_core::telemetry::init();
    let app = account_core::App::from_env()?;
    let app = &app;
    run(service_fn(move |req| {
        account_core::http::resend_code(app, req)
    }))
    .await
}
