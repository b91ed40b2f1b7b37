//! The mailer's edge: a DynamoDB Streams batch of the outbox, as Lambda hands
//! it over (`{"Records": [...]}`), delivered mail by mail, with the records
//! that should come again reported back (partial batch failure).

use serde::Deserialize;
use serde_json::{json, Value};

use crate::app::MailerApp;
use crate::delivery::{deliver, Delivered};
use crate::model::outbox::retry_delay_secs;

#[derive(Deserialize)]
struct Event {
    #[serde(rename = "Records", default)]
    records: Vec<Record>,
}

#[derive(Deserialize)]
struct Record {
    #[serde(rename = "eventName")]
    event_name: String,
    dynamodb: Change,
}

#[derive(Deserialize)]
struct Change {
    #[serde(rename = "SequenceNumber")]
    sequence_number: String,
    #[serde(rename = "NewImage", default)]
    new_image: Option<serde_json::Map<String, Value>>,
}

/// A string attribute of a stream image (`{"S": "..."}`).
fn text<'a>(image: &'a serde_json::Map<String, Value>, k: &str) -> Option<&'a str> {
    image.get(k)?.get("S")?.as_str()
}

/// The mail a record asks to deliver: a new one, or one an operator put back
/// in line; the mailer's own changes (claims, failures) ask for nothing.
fn wanted(record: &Record) -> Option<&str> {
    let image = record.dynamodb.new_image.as_ref()?;
    let pending = text(image, "status") == Some("pending");
    let resent = image.contains_key("resent_at");
    match record.event_name.as_str() {
        "INSERT" if pending => text(image, "pk"),
        "MODIFY" if pending && resent => text(image, "pk"),
        _ => None,
    }
}

/// Handles one batch; the answer names the records to deliver again.
pub async fn handle(app: &MailerApp, event: Value) -> Result<Value, lambda_http::Error> {
    let event: Event = serde_json::from_value(event)?;
    let deliveries = event.records.iter().filter_map(|r| {
        let id = wanted(r)?;
        Some(async move {
            let done = deliver(&app.store, &app.mailer, id, crate::clock::now).await;
            (r.dynamodb.sequence_number.as_str(), done)
        })
    });
    let mut failures = Vec::new();
    let mut wait = 0;
    for (seq, done) in futures_all(deliveries).await {
        match done {
            Ok(Delivered::RetryLater { attempts, .. }) => {
                failures.push(seq);
                wait = wait.max(retry_delay_secs(attempts));
            }
            Ok(_) => {}
            Err(e) => {
                tracing::error!(error = format!("{e:#}"), "outbox record not handled");
                failures.push(seq);
                wait = wait.max(retry_delay_secs(1));
            }
        }
    }
    // The stream hands failed records back at once; waiting here is the backoff
    // (the shard waits too, as it would for any retry).
    if wait > 0 {
        tokio::time::sleep(std::time::Duration::from_secs(wait)).await;
    }
    Ok(json!({
        "batchItemFailures": failures
            .iter()
            .map(|s| json!({"itemIdentifier": s}))
            .collect::<Vec<_>>()
    }))
}

/// Runs the deliveries of a batch at once (each waits on SES, not on the others).
async fn futures_all<F: std::future::Future>(futures: impl Iterator<Item = F>) -> Vec<F::Output> {
    let mut set = Vec::new();
    for f in futures {
        set.push(Box::pin(f));
    }
    let mut out = Vec::with_capacity(set.len());
    // Polled together: `join_all` without the futures crate.
    let mut results: Vec<Option<F::Output>> = set.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut all = true;
        for (f, r) in set.iter_mut().zip(results.iter_mut()) {
            if r.is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => *r = Some(v),
                    std::task::Poll::Pending => all = false,
                }
            }
        }
        if all {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
    out.extend(results.into_iter().flatten());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(event: &str, image: Value) -> Record {
        serde_json::from_value(json!({
            "eventName": event,
            "dynamodb": {"SequenceNumber": "1", "NewImage": image}
        }))
        .unwrap()
    }

    #[test]
    fn new_and_resent_mails_are_delivered_the_mailers_own_changes_are_not() {
        let pending = json!({"pk": {"S": "m1"}, "status": {"S": "pending"}});
        assert_eq!(wanted(&record("INSERT", pending.clone())), Some("m1"));
        assert_eq!(
            wanted(&record("MODIFY", pending)),
            None,
            "a failure put back"
        );
        let resent =
            json!({"pk": {"S": "m1"}, "status": {"S": "pending"}, "resent_at": {"N": "5"}});
        assert_eq!(wanted(&record("MODIFY", resent)), Some("m1"));
        let claimed = json!({"pk": {"S": "m1"}, "status": {"S": "sending"}});
        assert_eq!(wanted(&record("MODIFY", claimed)), None);
        let removed: Record = serde_json::from_value(
            json!({"eventName": "REMOVE", "dynamodb": {"SequenceNumber": "2"}}),
        )
        .unwrap();
        assert_eq!(wanted(&removed), None);
    }
}
