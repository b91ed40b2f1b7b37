//! Logging set-up: Lambda's advanced logging controls (`AWS_LAMBDA_LOG_FORMAT=JSON`,
//! `AWS_LAMBDA_LOG_LEVEL`) or `RUST_LOG`. Secrets never reach a log line: domain
//! types redact their `Debug`, and handlers skip bodies in their spans.
//!
//! Our own subscriber rather than lambda_runtime's: its `EnvFilter` links a regex
//! engine into every bootstrap (~0.4 MB); `Targets` reads the same `target=level`
//! directives without one.
//!
//! The SDK, the Lambda runtime and hyper log requests, responses and events at
//! DEBUG and TRACE (DynamoDB items with password hashes, the SES body with the
//! reset link, the invocation event with passwords): their targets are capped
//! at INFO, whatever `RUST_LOG` or `AWS_LAMBDA_LOG_LEVEL` asks for.

use std::str::FromStr;

use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// For tests that capture log lines.
pub use tracing_subscriber as subscriber;

/// Targets whose DEBUG and TRACE lines carry request and response bodies or events.
pub const CAPPED: &[&str] = &[
    "aws_config",
    "aws_runtime",
    "aws_sdk_dynamodb",
    "aws_sdk_sesv2",
    "aws_sigv4",
    "aws_smithy_http",
    "aws_smithy_http_client",
    "aws_smithy_json",
    "aws_smithy_runtime",
    "aws_smithy_runtime_api",
    "aws_smithy_types",
    "h2",
    "hyper",
    "hyper_rustls",
    "hyper_util",
    "lambda_http",
    "lambda_runtime",
    "lambda_runtime_api_client",
    "rustls",
    "tower",
];

pub fn init() {
    let (subscriber, ignored) = build(|k| std::env::var(k).ok(), std::io::stdout);
    subscriber.init();
    if let Some(value) = ignored {
        tracing::warn!(
            value,
            "RUST_LOG is not a list of target=level directives; logging at INFO"
        );
    }
}

/// The subscriber the environment asks for, writing to `writer` (tests capture it),
/// and a `RUST_LOG` value that could not be read.
pub fn build<W>(
    get: impl Fn(&str) -> Option<String>,
    writer: W,
) -> (impl tracing::Subscriber + Send + Sync, Option<String>)
where
    W: for<'a> tracing_subscriber::fmt::MakeWriter<'a> + Clone + Send + Sync + 'static,
{
    let (filter, ignored) = filter(&get);
    let json = get("AWS_LAMBDA_LOG_FORMAT").is_some_and(|f| f.eq_ignore_ascii_case("json"));
    // Lambda stamps each line itself; no colours in CloudWatch.
    let text = (!json).then(|| {
        tracing_subscriber::fmt::layer()
            .with_target(false)
            .without_time()
            .with_writer(writer.clone())
    });
    let json = json.then(|| {
        tracing_subscriber::fmt::layer()
            .json()
            .with_target(false)
            .without_time()
            .with_writer(writer)
    });
    let subscriber = tracing_subscriber::registry()
        .with(text)
        .with(json)
        .with(filter);
    (subscriber, ignored)
}

/// `targets` with every [`CAPPED`] target, and every target under one
/// (`aws_smithy_runtime::client::orchestrator`), at INFO at most (or quieter,
/// if asked): a more specific directive cannot lift the cap.
fn cap(targets: Targets) -> Targets {
    let under_cap = |t: &str| {
        CAPPED
            .iter()
            .any(|c| t == *c || t.strip_prefix(c).is_some_and(|rest| rest.starts_with("::")))
    };
    let mut out = match targets.default_level() {
        Some(level) => Targets::new().with_default(level),
        None => Targets::new(),
    };
    for (target, level) in targets.iter() {
        let level = if under_cap(target) {
            level.min(LevelFilter::INFO)
        } else {
            level
        };
        out = out.with_target(target, level);
    }
    for target in CAPPED {
        let level = [LevelFilter::INFO, LevelFilter::WARN, LevelFilter::ERROR]
            .into_iter()
            .find(|l| {
                l.into_level()
                    .is_some_and(|l| targets.would_enable(target, &l))
            })
            .unwrap_or(LevelFilter::OFF);
        out = out.with_target(*target, level);
    }
    out
}

/// The filter the environment asks for, and a `RUST_LOG` value that could not be read.
/// `AWS_LAMBDA_LOG_LEVEL` wins (its `FATAL` is our `ERROR`); then `RUST_LOG`
/// (`info`, `account_core=debug,info`); then INFO.
pub fn filter(get: impl Fn(&str) -> Option<String>) -> (Targets, Option<String>) {
    let (targets, ignored) = asked(get);
    (cap(targets), ignored)
}

fn asked(get: impl Fn(&str) -> Option<String>) -> (Targets, Option<String>) {
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

    #[test]
    fn the_sdk_runtime_and_hyper_never_log_below_info() {
        for env in [
            &[("RUST_LOG", "trace")][..],
            &[(
                "RUST_LOG",
                "aws_smithy_runtime=trace,hyper=trace,lambda_runtime=trace",
            )][..],
            &[("AWS_LAMBDA_LOG_LEVEL", "TRACE")][..],
        ] {
            let (t, _) = from(env);
            for target in [
                "aws_smithy_runtime::client::orchestrator",
                "hyper::proto",
                "lambda_runtime",
            ] {
                assert!(t.would_enable(target, &Level::INFO), "{env:?} {target}");
                assert!(!t.would_enable(target, &Level::DEBUG), "{env:?} {target}");
            }
        }
        let (t, _) = from(&[("RUST_LOG", "trace")]);
        assert!(
            t.would_enable("account_core", &Level::TRACE),
            "ours stay as asked"
        );
        let (t, _) = from(&[("RUST_LOG", "hyper=error,info")]);
        assert!(!t.would_enable("hyper", &Level::WARN), "quieter is kept");
    }
}

tokio::task_local! {
    /// The caller's address for the request being served, for audit records.
    static SOURCE: String;
}

/// Runs `fut` (one request's use case) with `source` as the caller's address
/// of the audit records it writes: the address is known at the edge, a lock by
/// failed logins is decided deep below it.
pub async fn with_source<F: std::future::Future>(source: String, fut: F) -> F::Output {
    SOURCE.scope(source, fut).await
}

/// Writes an audit record as one INFO event whose fields are the record's
/// (`{"fields": {"message": "audit", "audit": "admin_lock", ...}}` in Lambda's
/// JSON logs), so a metric filter counts them by action and a query finds them.
/// A record without a source takes the request's (see [`with_source`]).
/// At WARN, so a log level raised to cut costs does not silence the trail.
pub fn audit(r: &crate::model::audit::AuditRecord) {
    let source = if r.source.is_empty() {
        SOURCE.try_with(Clone::clone).unwrap_or_default()
    } else {
        r.source.clone()
    };
    tracing::warn!(
        audit = r.audit.as_str(),
        tenant = r.tenant.as_str(),
        actor = r.actor.as_str(),
        subject = r.subject.as_str(),
        result = r.result.as_str(),
        at = r.at,
        source = source.as_str(),
        detail = r.detail.as_str(),
        "audit"
    );
}
