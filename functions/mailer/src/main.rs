//! `mailer` Lambda: the outbox table's stream in, SES out. Wiring only; the
//! logic is in `account_core` (`streams`, `delivery`).

use lambda_http::lambda_runtime::{self, service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    account_core::telemetry::init();
    let app = account_core::app::MailerApp::from_env()?;
    let app = &app;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| {
        account_core::streams::handle(app, event.payload)
    }))
    .await
}
