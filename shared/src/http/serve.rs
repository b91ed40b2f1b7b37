//! The one shape of every endpoint: parse the request, run the use case at
//! the time read once here, present the answer or the refusal, and hold the
//! answer to the timing floor where timing must not tell anything.

use std::future::Future;
use std::time::{Duration, Instant};

use lambda_http::{Body, Request, Response};

use super::error::respond;
use super::request::{trace_id, RequestError};
use crate::error::UseCaseError;
use crate::model::time::UnixTime;

/// Which answers wait for the floor.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Pad {
    /// Every answer: what happened (a mail, nothing) must not show in the timing.
    Always(Duration),
    /// Refusals only: a success may be fast, refusals all look alike.
    Refusals(Duration),
    Never,
}

/// What was refused: the request itself, or the use case.
pub(crate) enum Refused<'a, E> {
    Request(&'a RequestError),
    UseCase(&'a E),
}

/// Parses `req`, runs the use case within `budget`, presents its answer, or
/// lets `refuse` answer a refusal (with the trace id a caller can quote).
pub(crate) async fn serve<R, O, E, Fut>(
    req: &Request,
    budget: Duration,
    pad: Pad,
    parse: impl FnOnce(&Request) -> Result<R, RequestError>,
    run: impl FnOnce(R, UnixTime) -> Fut,
    present: impl FnOnce(O) -> Response<Body>,
    refuse: impl FnOnce(Refused<'_, E>, &str) -> Response<Body>,
) -> Response<Body>
where
    Fut: Future<Output = Result<O, E>>,
{
    let started = Instant::now();
    let trace = trace_id(req);
    let (res, refused) = match parse(req) {
        Err(e) => (refuse(Refused::Request(&e), &trace), true),
        // A use case still waiting on its dependencies when the budget runs out
        // is dropped: the caller hears `503` now, not Lambda's time-out later.
        // What it had sent may still land; a 503 promises nothing either way.
        // On the heap: a use case's future is large, and the caller's stack small.
        Ok(r) => match tokio::time::timeout(
            budget,
            Box::pin(crate::telemetry::with_source(
                super::request::source_ip(req).map_or_else(String::new, |ip| ip.to_string()),
                run(r, crate::clock::now()),
            )),
        )
        .await
        {
            Ok(Ok(o)) => (present(o), false),
            Ok(Err(e)) => (refuse(Refused::UseCase(&e), &trace), true),
            Err(_) => {
                tracing::warn!(
                    trace_id = trace.as_str(),
                    outcome = "over_budget",
                    "no answer within the request's budget"
                );
                (refuse(Refused::Request(&RequestError::Late), &trace), true)
            }
        },
    };
    let floor = match pad {
        Pad::Always(f) => Some(f),
        Pad::Refusals(f) if refused => Some(f),
        _ => None,
    };
    if let Some(rest) = floor.and_then(|f| f.checked_sub(started.elapsed())) {
        tokio::time::sleep(rest).await;
    }
    res
}

/// Refusals as the API's JSON error body; `describe` may give a use case's
/// refusal a description of the edge's own (policy violations as sentences).
pub(crate) fn as_json<E: UseCaseError>(
    describe: impl FnOnce(&E) -> Option<String>,
) -> impl FnOnce(Refused<'_, E>, &str) -> Response<Body> {
    move |refused, trace| match refused {
        Refused::Request(e) => respond(e, None, trace),
        Refused::UseCase(e) => respond(e, describe(e), trace),
    }
}
