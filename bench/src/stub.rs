//! A loopback stand-in for DynamoDB and SES v2 that answers at once and counts
//! calls. Reads come from seeded items; writes succeed without changing them, so
//! every repetition of a request does the same work. It runs on its own thread,
//! whose CPU the benchmarks leave out.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine;
use bytes::Bytes;
use lambda_http::http;
use serde_json::{json, Map, Value};

use crate::server::{bind, reply, serve, Reply};

type Items = HashMap<(String, String), Value>;

#[derive(Default)]
struct State {
    items: Mutex<Items>,
    calls: Mutex<BTreeMap<String, u64>>,
    units: Mutex<KeyUnits>,
}

/// Capacity units by item (table, pk): (read units, write units), as DynamoDB
/// charges them for items under 1 KB: a consistent read 1, an eventually
/// consistent one ½, a write 1, a write inside a transaction 2.
pub type KeyUnits = BTreeMap<(String, String), (f64, f64)>;

pub struct Stub {
    pub url: String,
    /// The stub thread's id, for leaving its CPU out.
    pub tid: String,
    state: Arc<State>,
}

impl Stub {
    pub fn start() -> anyhow::Result<Self> {
        let state = Arc::new(State::default());
        let (tx, rx) = std::sync::mpsc::channel();
        let served = state.clone();
        std::thread::Builder::new()
            .name("stub".into())
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("stub runtime");
                rt.block_on(async move {
                    let (listener, addr) = match bind().await {
                        Ok(b) => b,
                        Err(e) => {
                            let _ = tx.send(Err(e));
                            return;
                        }
                    };
                    let _ = tx.send(Ok((addr, thread_id())));
                    serve(listener, move |req| {
                        let state = served.clone();
                        async move { handle(&state, req) }
                    })
                    .await;
                });
            })?;
        let (addr, tid) = rx.recv()??;
        Ok(Self {
            url: format!("http://{addr}"),
            tid,
            state,
        })
    }

    /// Stores `item` in `table` under its `pk`.
    pub fn put(&self, table: &str, item: &HashMap<String, AttributeValue>) {
        let pk = match item.get("pk") {
            Some(AttributeValue::S(pk)) => pk.clone(),
            _ => panic!("seeded items have a string pk"),
        };
        let wire = Value::Object(item.iter().map(|(k, v)| (k.clone(), wire(v))).collect());
        lock(&self.state.items).insert((table.to_string(), pk), wire);
    }

    /// The calls counted since the last take, by operation.
    pub fn take_calls(&self) -> BTreeMap<String, u64> {
        std::mem::take(&mut *lock(&self.state.calls))
    }

    /// The capacity units counted since the last take, by item.
    pub fn take_units(&self) -> KeyUnits {
        std::mem::take(&mut *lock(&self.state.units))
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// This thread's id in /proc/self/task.
pub fn thread_id() -> String {
    std::fs::read_link("/proc/thread-self")
        .ok()
        .and_then(|p| p.file_name().map(|f| f.to_string_lossy().into_owned()))
        .unwrap_or_default()
}

fn handle(state: &State, req: http::Request<Bytes>) -> Reply {
    let target = req
        .headers()
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .map(|t| t.rsplit('.').next().unwrap_or(t).to_string());
    let count = |name: String| *lock(&state.calls).entry(name).or_default() += 1;
    if let Some(op) = target {
        count(format!("DynamoDB {op}"));
        let body: Value = serde_json::from_slice(req.body()).unwrap_or(Value::Null);
        count_units(&mut lock(&state.units), &op, &body);
        let out = dynamodb(&lock(&state.items), &op, &body);
        return reply(200, "application/x-amz-json-1.0", out.to_string());
    }
    if req.method() == http::Method::POST && req.uri().path() == "/v2/email/outbound-emails" {
        count("SES SendEmail".into());
        return reply(200, "application/json", r#"{"MessageId":"bench"}"#);
    }
    count(format!("other {} {}", req.method(), req.uri().path()));
    reply(404, "application/json", "{}")
}

/// Adds what one request costs each item it touches.
fn count_units(units: &mut KeyUnits, op: &str, body: &Value) {
    let mut add = |table: &str, key: &Value, read: f64, write: f64| {
        let u = units.entry(key_of(table, key)).or_default();
        u.0 += read;
        u.1 += write;
    };
    let read = |b: &Value| {
        if b["ConsistentRead"] == true {
            1.0
        } else {
            0.5
        }
    };
    let table = body["TableName"].as_str().unwrap_or_default();
    match op {
        "GetItem" => add(table, &body["Key"], read(body), 0.0),
        "BatchGetItem" => {
            for (table, req) in body["RequestItems"].as_object().into_iter().flatten() {
                for k in req["Keys"].as_array().into_iter().flatten() {
                    add(table, k, read(req), 0.0);
                }
            }
        }
        "UpdateItem" | "DeleteItem" => add(table, &body["Key"], 0.0, 1.0),
        "PutItem" => add(table, &body["Item"], 0.0, 1.0),
        "TransactWriteItems" => {
            for item in body["TransactItems"].as_array().into_iter().flatten() {
                for (kind, op) in item.as_object().into_iter().flatten() {
                    let key = if kind == "Put" {
                        &op["Item"]
                    } else {
                        &op["Key"]
                    };
                    add(op["TableName"].as_str().unwrap_or_default(), key, 0.0, 2.0);
                }
            }
        }
        _ => {}
    }
}

fn key_of(table: &str, key: &Value) -> (String, String) {
    let pk = key["pk"]["S"].as_str().unwrap_or_default();
    (table.to_string(), pk.to_string())
}

fn dynamodb(items: &Items, op: &str, body: &Value) -> Value {
    let table = body["TableName"].as_str().unwrap_or_default();
    let found = |table: &str, key: &Value| items.get(&key_of(table, key)).cloned();
    match op {
        "GetItem" => match found(table, &body["Key"]) {
            Some(item) => json!({ "Item": item }),
            None => json!({}),
        },
        "BatchGetItem" => {
            let mut responses = Map::new();
            if let Some(tables) = body["RequestItems"].as_object() {
                for (table, req) in tables {
                    let hits: Vec<Value> = req["Keys"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|k| found(table, k))
                        .collect();
                    responses.insert(table.clone(), Value::Array(hits));
                }
            }
            json!({ "Responses": responses, "UnprocessedKeys": {} })
        }
        // The item as it is (ALL_OLD / ALL_NEW alike); a counter reads 1.
        "UpdateItem" => match found(table, &body["Key"]) {
            Some(item) => json!({ "Attributes": item }),
            None if body["ReturnValues"] == "UPDATED_NEW" => {
                json!({ "Attributes": { "n": { "N": "1" } } })
            }
            None => json!({}),
        },
        _ => json!({}),
    }
}

/// DynamoDB's JSON form of an attribute value.
pub fn wire(v: &AttributeValue) -> Value {
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    match v {
        AttributeValue::S(s) => json!({ "S": s }),
        AttributeValue::N(n) => json!({ "N": n }),
        AttributeValue::Bool(b) => json!({ "BOOL": b }),
        AttributeValue::Ss(v) => json!({ "SS": v }),
        AttributeValue::Ns(v) => json!({ "NS": v }),
        AttributeValue::B(b) => json!({ "B": b64(b.as_ref()) }),
        AttributeValue::Bs(v) => {
            json!({ "BS": v.iter().map(|b| b64(b.as_ref())).collect::<Vec<_>>() })
        }
        AttributeValue::L(l) => json!({ "L": l.iter().map(wire).collect::<Vec<_>>() }),
        AttributeValue::M(m) => {
            json!({ "M": m.iter().map(|(k, v)| (k.clone(), wire(v))).collect::<Map<_, _>>() })
        }
        _ => json!({ "NULL": true }),
    }
}
