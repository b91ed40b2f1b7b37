//! `outbox-relay`: for the local stack, what Lambda's event source mapping does
//! in AWS. It reads the outbox table's stream on DynamoDB Local, hands each
//! batch to the mailer's own handler (`account_core::streams::handle`, the code
//! the `mailer` function runs), and hands the records that handler reports
//! failed back to it, as Lambda does. Configured by the environment alone
//! (`infra/local.env`); runs in the foreground until stopped.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use account_core::app::MailerApp;
use account_core::outbound::aws::{sdk_http_client, Trust};
use aws_sdk_dynamodbstreams::error::DisplayErrorContext;
use aws_sdk_dynamodbstreams::types::{AttributeValue, Record, ShardIteratorType};
use serde_json::{json, Value};

/// How often the stream is read (Lambda polls a shard about four times a second).
const POLL: Duration = Duration::from_millis(250);
/// A failed record comes again at once (the handler has waited its backoff),
/// at most this many times: the template's MaximumRetryAttempts.
const MAX_RETRIES: u32 = 10;

fn env(k: &str) -> Option<String> {
    std::env::var(k).ok().filter(|v| !v.trim().is_empty())
}

/// A stream image attribute as Lambda's event JSON writes it.
fn attribute(v: &AttributeValue) -> Value {
    match v {
        AttributeValue::S(s) => json!({"S": s}),
        AttributeValue::N(n) => json!({"N": n}),
        AttributeValue::Bool(b) => json!({"BOOL": b}),
        AttributeValue::Null(b) => json!({"NULL": b}),
        AttributeValue::Ss(l) => json!({"SS": l}),
        AttributeValue::Ns(l) => json!({"NS": l}),
        AttributeValue::L(l) => json!({"L": l.iter().map(attribute).collect::<Vec<_>>()}),
        AttributeValue::M(m) => json!({"M": image(m)}),
        _ => Value::Null,
    }
}

fn image(m: &HashMap<String, AttributeValue>) -> serde_json::Map<String, Value> {
    m.iter().map(|(k, v)| (k.clone(), attribute(v))).collect()
}

/// A stream record as the mailer's handler receives it from Lambda.
fn lambda_record(r: &Record) -> Value {
    let change = r.dynamodb();
    json!({
        "eventID": r.event_id(),
        "eventName": r.event_name().map(|e| e.as_str()).unwrap_or_default(),
        "eventSource": "aws:dynamodb",
        "dynamodb": {
            "SequenceNumber": change.and_then(|c| c.sequence_number()).unwrap_or_default(),
            "NewImage": change.and_then(|c| c.new_image()).map(image),
        },
    })
}

struct Retry {
    record: Value,
    due: Instant,
    tries: u32,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    account_core::telemetry::init();
    let app = MailerApp::from_env()?;
    let table = env("OUTBOX_TABLE").ok_or_else(|| anyhow::anyhow!("OUTBOX_TABLE is not set"))?;
    let endpoint = env("AWS_ENDPOINT_URL_DYNAMODB")
        .or_else(|| env("AWS_ENDPOINT_URL"))
        .ok_or_else(|| {
            anyhow::anyhow!("the relay is for local stacks: set AWS_ENDPOINT_URL_DYNAMODB")
        })?;
    let region = env("AWS_REGION").unwrap_or_else(|| "us-east-1".into());
    let creds = aws_sdk_dynamodbstreams::config::Credentials::new(
        env("AWS_ACCESS_KEY_ID").unwrap_or_default(),
        env("AWS_SECRET_ACCESS_KEY").unwrap_or_default(),
        None,
        None,
        "env",
    );
    let streams = aws_sdk_dynamodbstreams::Client::from_conf(
        aws_sdk_dynamodbstreams::Config::builder()
            .behavior_version(aws_sdk_dynamodbstreams::config::BehaviorVersion::latest())
            .region(aws_sdk_dynamodbstreams::config::Region::new(region))
            .credentials_provider(creds)
            .endpoint_url(&endpoint)
            .http_client(sdk_http_client(Trust::Bundled))
            .build(),
    );
    let ddb = app.store.client().clone();
    // Shards by id, with the iterator to read next (None: not opened yet).
    let mut shards: BTreeMap<String, Option<String>> = BTreeMap::new();
    // Shards read to their end: not opened again.
    let mut closed: std::collections::BTreeSet<String> = Default::default();
    let mut retries: Vec<Retry> = Vec::new();
    let mut stream_arn = String::new();
    loop {
        // The table's stream now: a new one when the table was made again (the
        // emulator restarted), read from its start as Lambda's TRIM_HORIZON.
        let latest = latest_stream(&ddb, &table).await;
        if latest != stream_arn {
            tracing::info!(stream = latest.as_str(), "outbox relay: delivering");
            stream_arn = latest;
            shards.clear();
            closed.clear();
            retries.clear();
        }
        match streams
            .describe_stream()
            .stream_arn(&stream_arn)
            .send()
            .await
        {
            Ok(d) => {
                for shard in d
                    .stream_description()
                    .map(|s| s.shards())
                    .unwrap_or_default()
                {
                    if let Some(id) = shard.shard_id().filter(|id| !closed.contains(*id)) {
                        shards.entry(id.to_string()).or_insert(None);
                    }
                }
            }
            Err(e) => tracing::warn!(error = %DisplayErrorContext(&e), "DescribeStream failed"),
        }
        let mut batch: Vec<Value> = Vec::new();
        let mut finished = Vec::new();
        for (id, iterator) in shards.iter_mut() {
            if iterator.is_none() {
                match streams
                    .get_shard_iterator()
                    .stream_arn(&stream_arn)
                    .shard_id(id.as_str())
                    .shard_iterator_type(ShardIteratorType::TrimHorizon)
                    .send()
                    .await
                {
                    Ok(it) => *iterator = it.shard_iterator().map(str::to_string),
                    Err(e) => {
                        tracing::warn!(error = %DisplayErrorContext(&e), shard = id.as_str(), "GetShardIterator failed");
                        continue;
                    }
                }
            }
            let Some(it) = iterator.clone() else {
                finished.push(id.clone());
                continue;
            };
            match streams
                .get_records()
                .shard_iterator(it)
                .limit(100)
                .send()
                .await
            {
                Ok(out) => {
                    batch.extend(out.records().iter().map(lambda_record));
                    match out.next_shard_iterator() {
                        Some(next) => *iterator = Some(next.to_string()),
                        None => finished.push(id.clone()),
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %DisplayErrorContext(&e), shard = id.as_str(), "GetRecords failed; reopening");
                    *iterator = None;
                }
            }
        }
        for id in finished {
            shards.remove(&id);
            closed.insert(id);
        }
        let now = Instant::now();
        let (due, later): (Vec<Retry>, Vec<Retry>) =
            retries.into_iter().partition(|r| r.due <= now);
        retries = later;
        let mut tries: HashMap<String, u32> = HashMap::new();
        for r in due {
            let seq = r.record["dynamodb"]["SequenceNumber"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            tries.insert(seq, r.tries);
            batch.push(r.record);
        }
        if !batch.is_empty() {
            let event = json!({ "Records": batch });
            match account_core::streams::handle(&app, event).await {
                Ok(answer) => {
                    for failed in answer["batchItemFailures"].as_array().into_iter().flatten() {
                        let seq = failed["itemIdentifier"].as_str().unwrap_or_default();
                        let tried = tries.get(seq).copied().unwrap_or(0) + 1;
                        if tried > MAX_RETRIES {
                            tracing::error!(sequence = seq, "record dropped after its retries");
                            continue;
                        }
                        if let Some(record) = batch_record(&batch, seq) {
                            retries.push(Retry {
                                record,
                                due: Instant::now(),
                                tries: tried,
                            });
                        }
                    }
                }
                Err(e) => tracing::error!(error = %e, "the mailer's handler failed"),
            }
        }
        tokio::time::sleep(POLL).await;
    }
}

/// The outbox table's latest stream, waiting until the table and its stream exist.
async fn latest_stream(ddb: &aws_sdk_dynamodb::Client, table: &str) -> String {
    let mut said = false;
    loop {
        match ddb.describe_table().table_name(table).send().await {
            Ok(t) => {
                if let Some(arn) = t.table().and_then(|t| t.latest_stream_arn()) {
                    return arn.to_string();
                }
            }
            Err(e) => {
                tracing::debug!(error = %DisplayErrorContext(&e), "outbox table not there yet")
            }
        }
        if !said {
            tracing::info!(table, "outbox relay: waiting for the table's stream");
            said = true;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

fn batch_record(batch: &[Value], seq: &str) -> Option<Value> {
    batch
        .iter()
        .find(|r| r["dynamodb"]["SequenceNumber"] == seq)
        .cloned()
}
