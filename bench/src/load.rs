//! Load through the local stack (`infra/load.sh` serves the functions with
//! `cargo lambda watch` on loopback): a mix of login, recover-password,
//! resend-code and set-password from a fixed number of callers in flight, with
//! each endpoint's answer times and every status counted; then a soak at the
//! same mix, sampling each function instance's resident memory.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use account_core::accounts::{create_user, CreateUserError, NewUser};
use account_core::config::Config;
use account_core::model::domain::{Email, Password, Realm, TenantDomain, UserRef, Username};
use account_core::outbound::https::Https;
use account_core::store::Store;
use anyhow::Context;
use aws_sdk_dynamodb::config::SharedHttpClient;
use base64::Engine;
use lambda_http::http;

const TENANT: &str = "load.test";
const ADMIN_PASSWORD: &str = "Granite-Harbor-Passw0rd-7";

/// One caller's own users, so that no two callers race for a password.
struct Caller {
    login: (String, String),
    recover: String,
    reset: (String, String),
    changes: u32,
}

#[derive(Default)]
struct Tally {
    /// Answer times by endpoint.
    times: BTreeMap<&'static str, Vec<Duration>>,
    /// Statuses by endpoint.
    statuses: BTreeMap<(&'static str, u16), u64>,
}

/// When in the soak, and each instance's pid, function and resident memory then.
type Sample = (Duration, Vec<(u32, String, u64)>);

pub struct LoadArgs {
    pub url: String,
    pub in_flight: Vec<usize>,
    pub seconds: f64,
    pub soak_minutes: f64,
    pub watch_pid: Option<u32>,
}

/// Sets up the tenant and one set of users per caller, runs each level of
/// load, then the soak. Fails if any answer is a 5xx.
pub async fn run(args: LoadArgs) -> anyhow::Result<()> {
    let callers = args.in_flight.iter().copied().max().unwrap_or(16);
    let config = Config::from_env().context("the local stack's variables (infra/local.env)")?;
    let store = Store::new(
        config
            .aws
            .dynamodb(SharedHttpClient::new(config.aws.https())),
        config.tables.clone(),
    );
    let tenant = TenantDomain::parse(TENANT).map_err(anyhow::Error::msg)?;
    // The work itself is measured: no limit or lock stands in its way.
    let mut settings = std::collections::BTreeMap::new();
    for (k, v) in [
        ("recovery.max_requests_per_hour", "0"),
        ("recovery.max_requests_per_ip_per_hour", "0"),
        ("lock.max_failed_attempts", "1000"),
    ] {
        settings.insert(k.to_string(), v.to_string());
    }
    store
        .put_tenant_overrides(&tenant, &settings, account_core::clock::now())
        .await?;
    let add = |name: String, password: String, admin: bool| {
        let store = &store;
        let config = &config;
        let tenant = tenant.clone();
        async move {
            let new = NewUser {
                user_ref: UserRef {
                    tenant,
                    realm: Realm::primary(),
                    username: Username::parse(&name).map_err(anyhow::Error::msg)?,
                },
                email: Email::parse(&format!("{name}@load.test")).map_err(anyhow::Error::msg)?,
                admin,
                password: Password::new(password).map_err(anyhow::Error::msg)?,
            };
            match create_user(store, &config.defaults, new, account_core::clock::now()).await {
                Ok(_) | Err(CreateUserError::Exists(_)) => Ok::<_, anyhow::Error>(()),
                Err(CreateUserError::Policy(v)) => Err(anyhow::anyhow!("{name}: {v:?}")),
                Err(e) => Err(anyhow::anyhow!("{name}: {e}")),
            }
        }
    };
    add("load-admin".into(), ADMIN_PASSWORD.into(), true).await?;
    let run_id = uuid::Uuid::new_v4().simple().to_string()[..8].to_string();
    let mut all = Vec::with_capacity(callers);
    for i in 0..callers {
        let login = (
            format!("login-{run_id}-{i}"),
            format!("Velvet-{run_id}-{i}-Harbor"),
        );
        let recover = format!("recover-{run_id}-{i}");
        let reset = (
            format!("reset-{run_id}-{i}"),
            format!("Orchid-{run_id}-{i}-Lantern"),
        );
        add(login.0.clone(), login.1.clone(), false).await?;
        add(
            recover.clone(),
            format!("Copper-{run_id}-{i}-Meadow"),
            false,
        )
        .await?;
        add(reset.0.clone(), reset.1.clone(), false).await?;
        all.push(Caller {
            login,
            recover,
            reset,
            changes: 0,
        });
    }
    let callers: Vec<Arc<tokio::sync::Mutex<Caller>>> = all
        .into_iter()
        .map(|c| Arc::new(tokio::sync::Mutex::new(c)))
        .collect();
    let http = config.aws.https();
    println!(
        "## Load through `cargo lambda watch` (loopback, debug builds, DynamoDB Local)\n\n\
         Each caller in turn: login ×6, recover-password, resend-code, an admin's \
         recover-password with notify=false for a key, set-password with it; each caller \
         has its own users. {} s per level, after 15 s of the same at the highest level \
         (every instance started and warm).\n",
        args.seconds
    );
    // Every instance started and warm first (a cold start is its own benchmark).
    let most = args.in_flight.iter().copied().max().unwrap_or(16);
    drive(
        &http,
        &args.url,
        &callers[..most],
        Duration::from_secs(15),
        None,
    )
    .await;
    println!("| in flight | endpoint | requests | req/s | p50 ms | p99 ms | statuses |");
    println!("|---:|---|---:|---:|---:|---:|---|");
    let mut failures = 0;
    for &n in &args.in_flight {
        let tally = drive(
            &http,
            &args.url,
            &callers[..n],
            Duration::from_secs_f64(args.seconds),
            None,
        )
        .await;
        failures += report(n, &tally, args.seconds);
    }
    if args.soak_minutes > 0.0 {
        failures += soak(&http, &args, &callers).await?;
    }
    anyhow::ensure!(failures == 0, "{failures} answers were 5xx");
    Ok(())
}

/// Every caller loops over the mix until `length` has passed; `sample` is
/// called every 30 s (the soak's memory readings).
async fn drive(
    http: &Https,
    url: &str,
    callers: &[Arc<tokio::sync::Mutex<Caller>>],
    length: Duration,
    sample: Option<&(dyn Fn(Duration) + Sync)>,
) -> Tally {
    let tally = Arc::new(Mutex::new(Tally::default()));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for caller in callers {
        let (http, url, caller, tally) =
            (http.clone(), url.to_string(), caller.clone(), tally.clone());
        tasks.spawn(async move {
            let mut caller = caller.lock().await;
            while started.elapsed() < length {
                one_round(&http, &url, &mut caller, &tally).await;
            }
        });
    }
    if let Some(sample) = sample {
        let mut next = Duration::ZERO;
        while !tasks.is_empty() {
            if started.elapsed() >= next {
                sample(started.elapsed());
                next += Duration::from_secs(30);
            }
            tokio::select! {
                _ = tasks.join_next() => {}
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
        }
        sample(started.elapsed());
    } else {
        while tasks.join_next().await.is_some() {}
    }
    Arc::try_unwrap(tally)
        .ok()
        .map(|m| m.into_inner().unwrap_or_else(|e| e.into_inner()))
        .unwrap_or_default()
}

async fn one_round(http: &Https, url: &str, c: &mut Caller, tally: &Mutex<Tally>) {
    let t = format!("{url}/t/{TENANT}");
    let record = |name: &'static str, status: u16, took: Duration| {
        let mut t = tally.lock().unwrap_or_else(|e| e.into_inner());
        t.times.entry(name).or_default().push(took);
        *t.statuses.entry((name, status)).or_default() += 1;
    };
    for _ in 0..6 {
        let body = serde_json::json!({"username": c.login.0, "password": c.login.1});
        let (s, took, _) = post(
            http,
            &format!("{t}/api/identity/auth/v1.1/authenticate"),
            &body,
            None,
        )
        .await;
        record("login", s, took);
    }
    let user = serde_json::json!({"user": {"username": c.recover}, "properties": []});
    let (s, took, _) = post(
        http,
        &format!("{t}/api/identity/recovery/v0.9/recover-password?type=email&notify=true"),
        &user,
        None,
    )
    .await;
    record("recover-password", s, took);
    let resend = serde_json::json!({"user": {"username": c.recover}, "properties": [
        {"key": "RecoveryScenario", "value": "NOTIFICATION_BASED_PW_RECOVERY"}]});
    let (s, took, _) = post(
        http,
        &format!("{t}/api/identity/user/v1.0/resend-code"),
        &resend,
        None,
    )
    .await;
    record("resend-code", s, took);
    let admin = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("load-admin:{ADMIN_PASSWORD}"))
    );
    let who = serde_json::json!({"user": {"username": c.reset.0}, "properties": []});
    let (s, took, key) = post(
        http,
        &format!("{t}/api/identity/recovery/v0.9/recover-password?type=email&notify=false"),
        &who,
        Some(&admin),
    )
    .await;
    record("recover-password (admin, key)", s, took);
    if s == 202 {
        c.changes += 1;
        // Never containing the username (the default name policy).
        let password = format!(
            "Meadow-{}-Passw0rd-{}",
            c.changes,
            &uuid::Uuid::new_v4().simple().to_string()[..6]
        );
        let body = serde_json::json!({"key": key.trim(), "password": password, "properties": []});
        let (s, took, _) = post(
            http,
            &format!("{t}/api/identity/recovery/v0.9/set-password"),
            &body,
            None,
        )
        .await;
        record("set-password", s, took);
        if s == 200 {
            c.reset.1 = password;
        }
    }
}

/// POSTs JSON; the status, the time to the whole answer, and its body.
async fn post(
    http: &Https,
    url: &str,
    body: &serde_json::Value,
    auth: Option<&str>,
) -> (u16, Duration, String) {
    let mut req = http::Request::post(url).header("content-type", "application/json");
    if let Some(a) = auth {
        req = req.header("authorization", a);
    }
    let req = req
        .body(aws_smithy_types::body::SdkBody::from(body.to_string()))
        .expect("request");
    let started = Instant::now();
    match http.send(req).await {
        Ok(res) => {
            let status = res.status().as_u16();
            let bytes = aws_smithy_types::byte_stream::ByteStream::new(res.into_body())
                .collect()
                .await
                .map(|b| b.into_bytes())
                .unwrap_or_default();
            (
                status,
                started.elapsed(),
                String::from_utf8_lossy(&bytes).into_owned(),
            )
        }
        // No answer at all counts with the 5xx.
        Err(_) => (599, started.elapsed(), String::new()),
    }
}

fn percentile(v: &mut [Duration], p: f64) -> f64 {
    v.sort();
    v.get(((v.len().max(1) - 1) as f64 * p).round() as usize)
        .map_or(0.0, |d| d.as_secs_f64() * 1e3)
}

/// Prints one level's rows; returns how many answers were 5xx.
fn report(in_flight: usize, tally: &Tally, seconds: f64) -> u64 {
    let mut fives = 0;
    for (name, times) in &tally.times {
        let mut times = times.clone();
        let statuses: Vec<String> = tally
            .statuses
            .iter()
            .filter(|((n, _), _)| n == name)
            .map(|((_, s), k)| {
                if *s >= 500 {
                    fives += k;
                }
                format!("{s} ×{k}")
            })
            .collect();
        println!(
            "| {in_flight} | {name} | {} | {:.1} | {:.1} | {:.1} | {} |",
            times.len(),
            times.len() as f64 / seconds,
            percentile(&mut times, 0.5),
            percentile(&mut times, 0.99),
            statuses.join(", ")
        );
    }
    fives
}

/// The function instances `cargo lambda watch` runs: its children, by name.
fn instances(watch: u32) -> Vec<(u32, String, u64)> {
    let mut out = Vec::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return out;
    };
    for e in dir.flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // pid (comm) state ppid ...
        let Some((comm, rest)) = stat.split_once(") ") else {
            continue;
        };
        let ppid: u32 = rest
            .split(' ')
            .nth(1)
            .and_then(|p| p.parse().ok())
            .unwrap_or(0);
        if ppid != watch {
            continue;
        }
        let name = comm.split_once('(').map_or("", |(_, n)| n).to_string();
        let rss_kb = std::fs::read_to_string(format!("/proc/{pid}/status"))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix("VmRSS:"))
                    .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
            })
            .unwrap_or(0);
        out.push((pid, name, rss_kb));
    }
    out.sort();
    out
}

/// The mix for `soak_minutes` at the lowest level, with each instance's
/// resident memory read every 30 s; returns how many answers were 5xx.
async fn soak(
    http: &Https,
    args: &LoadArgs,
    callers: &[Arc<tokio::sync::Mutex<Caller>>],
) -> anyhow::Result<u64> {
    let n = args.in_flight.iter().copied().min().unwrap_or(16);
    let watch = args
        .watch_pid
        .context("--watch-pid: the soak reads the instances' memory")?;
    let samples: Arc<Mutex<Vec<Sample>>> = Arc::default();
    let seen = samples.clone();
    let sample = move |at: Duration| {
        seen.lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((at, instances(watch)));
    };
    let length = Duration::from_secs_f64(args.soak_minutes * 60.0);
    let tally = drive(http, &args.url, &callers[..n], length, Some(&sample)).await;
    println!(
        "\n## Soak: {} minutes at {n} in flight\n\n| in flight | endpoint | requests | req/s | p50 ms | p99 ms | statuses |\n|---:|---|---:|---:|---:|---:|---|",
        args.soak_minutes
    );
    let fives = report(n, &tally, length.as_secs_f64());
    let samples = samples.lock().unwrap_or_else(|e| e.into_inner());
    // From the first reading after a minute (every instance started and warm) to the last.
    let first = samples
        .iter()
        .find(|(at, _)| *at >= Duration::from_secs(60))
        .or(samples.first());
    let last = samples.last();
    println!("\nResident memory of each function instance (MB), after the first minute and at the end:\n");
    println!("| instance | function | after 1 min | at the end | change |");
    println!("|---:|---|---:|---:|---:|");
    let mut worst: f64 = 0.0;
    if let (Some((_, a)), Some((_, b))) = (first, last) {
        for (pid, name, end) in b {
            if let Some((_, _, start)) = a.iter().find(|(p, _, _)| p == pid) {
                let change = (*end as f64 - *start as f64) / 1024.0;
                worst = worst.max(change);
                println!(
                    "| {pid} | {name} | {:.1} | {:.1} | {change:+.1} |",
                    *start as f64 / 1024.0,
                    *end as f64 / 1024.0
                );
            }
        }
    }
    println!("\nLargest growth of one instance over the soak: {worst:+.1} MB.\n");
    Ok(fives)
}
