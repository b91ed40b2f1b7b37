//! `lock-user` Lambda: routed and deployed; answers 501 until its feature lands.

use lambda_http::{run, service_fn, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    account_core::telemetry::init();
    run(service_fn(account_core::http::not_implemented)).await
}
