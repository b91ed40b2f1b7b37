//! Cold starts: each release bootstrap is started, many times, against a Lambda
//! Runtime API of our own on 127.0.0.1. Measured from spawn to the first
//! `GET .../invocation/next` (init) and to the first response posted back.

use std::path::Path;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use bytes::Bytes;
use lambda_http::http;
use serde_json::Value;
use tokio::sync::mpsc;

use crate::server::{bind, reply, serve, Reply};

#[derive(Debug, Clone, Copy)]
pub struct ColdStart {
    pub init: Duration,
    pub first_response: Duration,
    /// CPU the process (every thread) had used when it first polled: the part of
    /// init that is ours, not the kernel's exec and page-in.
    pub init_cpu: Duration,
    /// Minor page faults by then: roughly the pages of the binary and heap touched.
    pub init_faults: u64,
    /// Peak resident memory after the first response (VmHWM), bytes.
    pub peak_rss: u64,
}

fn peak_rss(pid: Option<u32>) -> u64 {
    let Some(pid) = pid else { return 0 };
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

/// CPU (ns, from the scheduler) summed over the process's threads.
fn process_cpu(pid: u32) -> Duration {
    let ns: u64 = std::fs::read_dir(format!("/proc/{pid}/task"))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|t| std::fs::read_to_string(t.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .sum();
    Duration::from_nanos(ns)
}

/// Minor page faults of the process (field 10 of stat).
fn minor_faults(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            let after = s.rsplit_once(')')?.1.to_string();
            after.split_whitespace().nth(7)?.parse().ok()
        })
        .unwrap_or(0)
}

enum Seen {
    Next(Instant),
    Response(Instant, Bytes),
    Error(String),
}

const NEXT: &str = "/2018-06-01/runtime/invocation/next";

fn runtime_api(
    event: Arc<Bytes>,
    given: Arc<AtomicBool>,
    tx: mpsc::UnboundedSender<Seen>,
    req: http::Request<Bytes>,
) -> impl std::future::Future<Output = Reply> {
    let at = Instant::now();
    let path = req.uri().path().to_string();
    async move {
        if req.method() == http::Method::GET && path == NEXT {
            let _ = tx.send(Seen::Next(at));
            if given.swap(true, Ordering::SeqCst) {
                // One invocation per start: the second poll waits until the process is killed.
                std::future::pending::<()>().await;
            }
            let deadline = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
                .as_millis()
                + 30_000;
            return http::Response::builder()
                .status(200)
                .header("content-type", "application/json")
                .header("lambda-runtime-aws-request-id", "bench-request")
                .header("lambda-runtime-deadline-ms", deadline.to_string())
                .header(
                    "lambda-runtime-invoked-function-arn",
                    "arn:aws:lambda:us-east-1:123456789012:function:bench",
                )
                .header(
                    "lambda-runtime-trace-id",
                    "Root=1-00000000-000000000000000000000000",
                )
                .body(http_body_util::Full::new((*event).clone()))
                .expect("valid response parts");
        }
        if path.ends_with("/response") {
            let _ = tx.send(Seen::Response(at, req.into_body()));
        } else {
            let body = String::from_utf8_lossy(req.body()).into_owned();
            let _ = tx.send(Seen::Error(format!("{path}: {body}")));
        }
        reply(202, "application/json", "{}")
    }
}

/// Starts `bootstrap` once with `env` and hands it `event`; checks the answer's status.
pub async fn start_once(
    bootstrap: &Path,
    env: &[(String, String)],
    event: &Value,
    want_status: u16,
) -> anyhow::Result<ColdStart> {
    let (listener, addr) = bind().await?;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let event = Arc::new(Bytes::from(event.to_string()));
    let given = Arc::new(AtomicBool::new(false));
    let server = tokio::spawn(serve(listener, move |req| {
        runtime_api(event.clone(), given.clone(), tx.clone(), req)
    }));
    let name = bootstrap
        .parent()
        .and_then(|p| p.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "bench".into());
    let started = Instant::now();
    let mut child = tokio::process::Command::new(bootstrap)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", &name)
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}"))
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "bench")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("starting {}", bootstrap.display()))?;
    let pid = child.id().unwrap_or(0);
    let outcome = async {
        let mut init = None;
        let (mut init_cpu, mut init_faults) = (Duration::ZERO, 0);
        loop {
            match rx.recv().await {
                Some(Seen::Next(at)) if init.is_none() => {
                    init = Some(at - started);
                    // The runtime now waits for the answer: its init work is done.
                    (init_cpu, init_faults) = (process_cpu(pid), minor_faults(pid));
                }
                Some(Seen::Next(_)) => {}
                Some(Seen::Response(at, body)) => {
                    let init = init.ok_or_else(|| anyhow!("a response before any poll"))?;
                    let answer: Value = serde_json::from_slice(&body)?;
                    if answer["statusCode"] != want_status {
                        bail!("{name} answered {answer} (wanted {want_status})");
                    }
                    return Ok(ColdStart {
                        init,
                        first_response: at - started,
                        init_cpu,
                        init_faults,
                        peak_rss: 0,
                    });
                }
                Some(Seen::Error(e)) => bail!("{name} reported an error: {e}"),
                None => bail!("runtime API closed"),
            }
        }
    };
    let result = tokio::time::timeout(Duration::from_secs(20), outcome)
        .await
        .unwrap_or_else(|_| Err(anyhow!("{name} did not answer within 20 s")));
    let rss = peak_rss(child.id());
    let _ = child.kill().await;
    server.abort();
    result.map(|r| ColdStart { peak_rss: rss, ..r })
}
