//! Logging set-up: Lambda's advanced logging controls (`AWS_LAMBDA_LOG_FORMAT=JSON`,
//! `AWS_LAMBDA_LOG_LEVEL`) or `RUST_LOG`. Secrets never reach a log line: domain
//! types redact their `Debug`, and handlers skip bodies in their spans.
//!
//! Our own subscriber rather than lambda_runtime's: its `EnvFilter` links a regex
//! engine into every bootstrap (~0.4 MB); `Targets` reads the same `target=level`
//! directives without one.

use std::str::FromStr;

use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// For tests that capture log lines.
pub use tracing_subscriber as subscriber;

pub fn init() {
    let (filter, ignored) = filter(|k| std::env::var(k).ok());
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    // Lambda stamps each line itself; no colours in CloudWatch.
    let text = (!json).then(|| {
        tracing_subscriber::fmt::layer()
            .with_target(false)
            .without_time()
    });
    let json = json.then(|| {
        tracing_subscriber::fmt::layer()
            .json()
            .with_target(false)
            .without_time()
    });
    tracing_subscriber::registry()
        .with(text)
        .with(json)
        .with(filter)
        .init();
    if let Some(value) = ignored {
        tracing::warn!(
            value,
            "RUST_LOG is not a list of target=level directives; logging at INFO"
        );
    }
}

/// The filter the environment asks for, and a `RUST_LOG` value that could not be read.
/// `AWS_LAMBDA_LOG_LEVEL` wins (its `FATAL` is our `ERROR`); then `RUST_LOG`
/// (`info`, `account_core=debug,info`); then INFO.
pub fn filter(get: impl Fn(&str) -> Option<String>) -> (Targets, Option<String>) {
    let info = Targets::new().with_default(LevelFilter::INFO);
    if let Some(level) = get("AWS_LAMBDA_LOG_LEVEL").filter(|v| !v.trim().is_empty()) {
        let level = match level.trim() {
            l if l.eq_ignore_ascii_case("fatal") => LevelFilter::ERROR,
            l => LevelFilter::from_str(l).unwrap_or(LevelFilter::INFO),
        };
        return (Targets::new().with_default(level), None);
    }
    match get("RUST_LOG").filter(|v| !v.trim().is_empty()) {
        None => (info, None),
        Some(v) => match Targets::from_str(v.trim()) {
            // Directives for some targets only: the rest at INFO, as before.
            Ok(t) if t.default_level().is_none() => (t.with_default(LevelFilter::INFO), None),
            Ok(t) => (t, None),
            Err(_) => (info, Some(v)),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing::Level;

    fn from(pairs: &'static [(&'static str, &'static str)]) -> (Targets, Option<String>) {
        filter(|k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        })
    }

    #[test]
    fn lambda_level_wins_then_rust_log_then_info() {
        let (t, _) = from(&[("AWS_LAMBDA_LOG_LEVEL", "DEBUG"), ("RUST_LOG", "error")]);
        assert!(t.would_enable("account_core", &Level::DEBUG));
        let (t, _) = from(&[("AWS_LAMBDA_LOG_LEVEL", "FATAL")]);
        assert!(t.would_enable("x", &Level::ERROR) && !t.would_enable("x", &Level::WARN));
        let (t, _) = from(&[("RUST_LOG", "account_core=debug")]);
        assert!(t.would_enable("account_core::http", &Level::DEBUG));
        assert!(t.would_enable("hyper", &Level::INFO) && !t.would_enable("hyper", &Level::DEBUG));
        let (t, ignored) = from(&[("RUST_LOG", "[{bad}]=x")]);
        assert_eq!(ignored.as_deref(), Some("[{bad}]=x"));
        assert!(t.would_enable("x", &Level::INFO) && !t.would_enable("x", &Level::DEBUG));
        let (t, _) = from(&[]);
        assert!(t.would_enable("x", &Level::INFO) && !t.would_enable("x", &Level::DEBUG));
    }
}
