//! `reset-page` Lambda: the page the reset mail links to. Static, so no clients.

use lambda_http::{run, service_fn, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    account_core::telemetry::init();
    run(service_fn(account_core::http::reset_page)).await
}
