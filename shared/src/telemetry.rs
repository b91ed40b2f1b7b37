//! Logging set-up: Lambda's advanced logging controls (`AWS_LAMBDA_LOG_FORMAT=JSON`,
//! `AWS_LAMBDA_LOG_LEVEL`) or `RUST_LOG`. Secrets never reach a log line: domain
//! types redact their `Debug`, and handlers skip bodies in their spans.

pub fn init() {
    lambda_http::tracing::init_default_subscriber();
}
