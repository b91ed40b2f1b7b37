//! `bench`: the performance figures of BENCHMARKS.md, rerunnable by anyone.
//!
//! - CPU per request: every endpoint's handler in-process against a loopback stub of
//!   DynamoDB and SES that answers at once and counts the calls.
//! - Login throughput: as many concurrent callers as cores, beside the time of one
//!   argon2id hash measured in the same run.
//! - Cold starts: each release bootstrap against our own Lambda Runtime API, beside
//!   a bare lambda_http function built with the same profile.

mod cold;
mod fixtures;
mod hotkeys;
mod load;
mod server;
mod stub;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use account_core::config::Config;
use account_core::model::domain::Password;
use account_core::tokens::TokenIssuer;
use account_core::App;
use anyhow::{bail, Context};
use clap::Parser;

use fixtures::Case;
use stub::Stub;

#[derive(Parser)]
#[command(about = "Cold-start, CPU-per-request and login-throughput benchmarks")]
struct Cli {
    /// Tiny counts, to check that the benchmarks still run (the test command uses it).
    #[arg(long)]
    quick: bool,
    /// Requests per endpoint for the CPU figures.
    #[arg(long, default_value_t = 2000)]
    requests: u32,
    /// Seconds of concurrent logins.
    #[arg(long, default_value_t = 10.0)]
    login_seconds: f64,
    /// Starts per function for the cold-start figures.
    #[arg(long, default_value_t = 100)]
    starts: u32,
    /// Where the bootstraps are: `<dir>/<function>/bootstrap` (cargo lambda's layout).
    #[arg(long)]
    bootstraps: Option<PathBuf>,
    /// The binaries are `<dir>/<function>` (a plain `cargo build`), not cargo lambda's layout.
    #[arg(long)]
    flat: bool,
    /// Leave out the cold starts (no bootstraps built).
    #[arg(long)]
    no_cold: bool,
    /// Only the cold starts (e.g. of another build's bootstraps, for a before/after).
    #[arg(long, conflicts_with = "no_cold")]
    cold_only: bool,
    /// Only the load: a mix of requests through the local stack served at this
    /// URL (`infra/load.sh` starts it), at each `--in-flight` level, then a soak.
    #[arg(long, value_name = "URL")]
    load: Option<String>,
    /// Callers in flight, one level after the other.
    #[arg(long, value_delimiter = ',', default_value = "16,64")]
    in_flight: Vec<usize>,
    /// Seconds per load level.
    #[arg(long, default_value_t = 30.0)]
    load_seconds: f64,
    /// Minutes of the soak at the lowest level (0: none).
    #[arg(long, default_value_t = 10.0)]
    soak_minutes: f64,
    /// The `cargo lambda watch` process, whose function instances the soak measures.
    #[arg(long)]
    watch_pid: Option<u32>,
    /// Only this endpoint's CPU-per-request loop, nothing else: for a profiler
    /// (`valgrind --tool=callgrind bench --profile recover-password`).
    #[arg(long, value_name = "ENDPOINT")]
    profile: Option<String>,
}

fn main() -> anyhow::Result<()> {
    let mut cli = Cli::parse();
    if let Some(url) = cli.load.clone() {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        return rt.block_on(load::run(load::LoadArgs {
            url,
            in_flight: cli.in_flight.clone(),
            seconds: cli.load_seconds,
            soak_minutes: cli.soak_minutes,
            watch_pid: cli.watch_pid,
        }));
    }
    if cli.quick {
        cli.requests = 20;
        cli.login_seconds = 0.5;
        cli.starts = 3;
    }
    let stub = Stub::start()?;
    fixtures::seed(&stub);
    let env = fixtures::env(&stub.url);
    let mut cases = fixtures::cases();
    if let Some(name) = &cli.profile {
        cases.retain(|c| c.name == name);
        if cases.is_empty() {
            bail!("no endpoint named {name}");
        }
        cpu_per_request(&stub, &env, &cases, cli.requests)?;
        return Ok(());
    }
    println!("# Benchmarks\n");
    println!("{}\n", machine());
    if !cli.cold_only {
        in_process(&stub, &env, &cases, &cli)?;
    }
    if !cli.no_cold {
        let dir = cli.bootstraps.clone().unwrap_or_else(default_bootstraps);
        cold_starts(&env, &cases, &dir, cli.flat, cli.starts)?;
    }
    Ok(())
}

/// CPU per request, login throughput, and the cost model built on them.
fn in_process(
    stub: &Stub,
    env: &[(String, String)],
    cases: &[Case],
    cli: &Cli,
) -> anyhow::Result<()> {
    in_process_init(env, cli.requests.min(500))?;
    let measured = cpu_per_request(stub, env, cases, cli.requests)?;
    let hash_ms = login_throughput(env, cases, cli.login_seconds)?;
    let costs: Vec<CostInput> = cases
        .iter()
        .zip(&measured)
        .map(|(c, m)| CostInput {
            name: c.name,
            memory_mb: c.memory_mb,
            cpu_ms: m.cpu_ms,
            argon2: c.hashes,
            dynamodb_sequential: c.sequential,
            rru: c.rru,
            wru: c.wru,
            emails: m.emails,
            floor_ms: c.floor_ms,
        })
        .collect();
    print_costs(&costs, hash_ms);
    hotkeys::print_budget(cases, &measured);
    Ok(())
}

fn default_bootstraps() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target"))
        .join("lambda")
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_string());
    format!(
        "Machine: {cpu}, {} cores available, {}",
        cores(),
        std::env::consts::ARCH
    )
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn lookup(env: &[(String, String)]) -> impl Fn(&str) -> Option<String> + '_ {
    |k| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
}

fn build_app(env: &[(String, String)]) -> anyhow::Result<(App, TokenIssuer)> {
    let config = Config::from_lookup(lookup(env))?;
    let keys = lookup(env)("JWT_SIGNING_KEYS").unwrap_or_default();
    Ok((App::new(config), TokenIssuer::new(&keys, lookup(env))?))
}

async fn call(app: &App, issuer: &TokenIssuer, case: &Case) -> u16 {
    use account_core::http;
    let req = case.request();
    let res = http::dispatch(app, issuer, req).await;
    res.map_or(0, |r| r.status().as_u16())
}

/// CPU time this thread has run, from the scheduler's own accounting (ns).
fn thread_cpu() -> Duration {
    schedstat("/proc/thread-self/schedstat")
}

fn schedstat(path: &str) -> Duration {
    let ns = std::fs::read_to_string(path)
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|n| n.parse().ok()))
        .unwrap_or(0);
    Duration::from_nanos(ns)
}

/// CPU of the whole process (threads that ended included), less the stub's thread.
fn process_cpu(stub: &Stub) -> Duration {
    // utime + stime, fields 14 and 15 of stat, in USER_HZ (100 on Linux) ticks.
    let ticks = |path: &str| -> u64 {
        std::fs::read_to_string(path)
            .ok()
            .and_then(|s| {
                let after = s.rsplit_once(')')?.1.to_string();
                let f: Vec<&str> = after.split_whitespace().collect();
                Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
            })
            .unwrap_or(0)
    };
    let all = ticks("/proc/self/stat");
    let stub = ticks(&format!("/proc/self/task/{}/stat", stub.tid));
    Duration::from_millis(all.saturating_sub(stub) * 10)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i]
}

fn micros(d: Duration) -> String {
    format!("{:.0}", d.as_secs_f64() * 1e6)
}

fn millis(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1e3)
}

/// What the design needs at the least, written beside the measured calls.
fn minimum(case: &str) -> &'static str {
    match case {
        "recover-password" | "resend-code" => {
            "GetItem 1 (user; settings cached) ‖ UpdateItem 1 (per-IP count), \
             TransactWriteItems 1 (key + user + the mail into the outbox)"
        }
        "set-password" => {
            "GetItem 1 (key → user), GetItem 1 (user; settings cached), \
             TransactWriteItems 1 (consume key + new password + the notice into the outbox)"
        }
        "lock-user" => {
            "BatchGetItem 1 (admin + target; settings cached), UpdateItem 1 (the admin's login \
             confirmed), TransactWriteItems 1 (the lock, conditioned on the state read, + the \
             notice into the outbox), DeleteItem 1 only if a recovery was under way (its key)"
        }
        "login" => {
            "GetItem 1 (user; settings cached), UpdateItem 1 (the success confirmed, \
             conditioned on the lock state read)"
        }
        _ => "",
    }
}

/// What a function does before its first poll, timed in-process: configuration
/// (settings included), the HTTP client with its trust roots, both SDK clients, the
/// token issuer, and the start-up checks of the patterns.
fn in_process_init(env: &[(String, String)], runs: u32) -> anyhow::Result<()> {
    let mut took = Vec::with_capacity(runs as usize);
    for _ in 0..runs.max(1) {
        let t = Instant::now();
        let (app, issuer) = build_app(env)?;
        app.config.defaults.check_callback_regex()?;
        app.config.defaults.check_password_patterns()?;
        took.push(t.elapsed());
        drop((app, issuer));
    }
    took.sort();
    println!("## In-process init (goal ≤ 3 ms)\n");
    println!(
        "Configuration, trust roots, HTTP and SDK clients, token issuer, pattern checks: \
         p50 {} ms, p90 {} ms ({} runs).\n",
        millis(percentile(&took, 0.5)),
        millis(percentile(&took, 0.9)),
        took.len()
    );
    Ok(())
}

fn cpu_per_request(
    stub: &Stub,
    env: &[(String, String)],
    cases: &[Case],
    requests: u32,
) -> anyhow::Result<Vec<Measured>> {
    println!("## CPU per request (in-process, loopback stub, {requests} requests each)\n");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let measured = rt.block_on(async {
        let (app, issuer) = build_app(env)?;
        let sdk_call = sdk_call_cpu(&app, stub, requests).await?;
        println!(
            "| endpoint | request-thread CPU µs/req | less the SDK's own per-call CPU | \
             process CPU µs/req | argon2id/req | latency p50 µs | calls/req (measured) | \
             minimum the design allows |"
        );
        println!("|---|---:|---:|---:|---:|---:|---|---|");
        let mut measured = Vec::new();
        for case in cases {
            for _ in 0..requests.min(20) {
                let got = call(&app, &issuer, case).await;
                if got != case.status {
                    bail!("{}: status {got}, wanted {}", case.name, case.status);
                }
            }
            stub.take_calls();
            stub.take_units();
            let (cpu0, proc0) = (thread_cpu(), process_cpu(stub));
            let mut latencies = Vec::with_capacity(requests as usize);
            for _ in 0..requests {
                let t = Instant::now();
                let got = call(&app, &issuer, case).await;
                latencies.push(t.elapsed());
                if got != case.status {
                    bail!("{}: status {got}, wanted {}", case.name, case.status);
                }
            }
            let (cpu, proc) = (thread_cpu() - cpu0, process_cpu(stub) - proc0);
            latencies.sort();
            let calls = stub.take_calls();
            let warm = hotkeys::per_request(&stub.take_units(), env, requests);
            let per_request: Vec<String> = calls
                .iter()
                .filter(|(op, n)| {
                    let want = case
                        .calls
                        .iter()
                        .find(|(c, _)| c == op)
                        .map_or(0, |(_, k)| *k);
                    **n != u64::from(want) * u64::from(requests)
                })
                .map(|(op, n)| format!("{op} ×{}", *n as f64 / f64::from(requests)))
                .chain(
                    case.calls
                        .iter()
                        .filter(|(op, _)| !calls.contains_key(*op))
                        .map(|(op, _)| format!("missing {op}")),
                )
                .collect();
            if !per_request.is_empty() {
                bail!(
                    "{}: not the minimum calls {:?}: {}",
                    case.name,
                    case.calls,
                    per_request.join(", ")
                );
            }
            let sdk_calls: u64 = calls.values().sum::<u64>() / u64::from(requests);
            let floor = sdk_call * sdk_calls as u32;
            // The same request on a cold instance (its settings not cached yet).
            let (cold_app, cold_issuer) = build_app(env)?;
            call(&cold_app, &cold_issuer, case).await;
            let cold = hotkeys::per_request(&stub.take_units(), env, 1);
            stub.take_calls();
            measured.push(Measured {
                cpu_ms: (cpu / requests).as_secs_f64() * 1e3,
                // Mail leaves through the outbox: one record per mail, sent by the mailer.
                emails: case.mails,
                warm,
                cold,
            });
            let calls = calls
                .into_iter()
                .map(|(op, n)| format!("{op} {}", n as f64 / f64::from(requests)))
                .collect::<Vec<_>>()
                .join(", ");
            println!(
                "| {} | {} | {} | {} | {} | {} | {} | {} |",
                case.name,
                micros(cpu / requests),
                micros((cpu / requests).saturating_sub(floor)),
                micros(proc / requests),
                case.hashes,
                micros(percentile(&latencies, 0.5)),
                calls,
                minimum(case.name),
            );
        }
        Ok::<_, anyhow::Error>(measured)
    })?;
    println!(
        "\nThe SDK's own per-call CPU is one bare DynamoDB GetItem through a client built \
         like the functions' against the same stub (serialisation, endpoint, SigV4, HTTP, parsing), measured \
         first; the third column takes that many times the calls away.\n"
    );
    println!(
        "Request-thread CPU is everything on the async thread: parsing, policy, \
         SDK serialisation and SigV4 signing, HTTP; argon2id runs on blocking threads \
         and shows only in process CPU (10 ms tick resolution over the run).\n"
    );
    Ok(measured)
}

/// CPU of one bare SDK call (a GetItem of the seeded user) on this thread, through a
/// DynamoDB client built as the functions build theirs.
async fn sdk_call_cpu(app: &App, stub: &Stub, requests: u32) -> anyhow::Result<Duration> {
    let ddb = app.config.aws.dynamodb(app.config.aws.http_client());
    let get = || {
        ddb.get_item()
            .table_name(fixtures::USERS)
            .key("pk", fixtures::kim_key())
            .send()
    };
    for _ in 0..20 {
        get().await?;
    }
    let cpu0 = thread_cpu();
    for _ in 0..requests {
        if get().await?.item.is_none() {
            bail!("the stub lost the seeded user");
        }
    }
    let per_call = (thread_cpu() - cpu0) / requests;
    // The same call right after an argon2id hash on a blocking thread, as in login,
    // set-password and lock-user: the hash sweeps 19 MiB through the shared caches.
    let after = requests.clamp(1, 100);
    let mut cpu_after = Duration::ZERO;
    let password = Password::new("Sdk-Call-After-A-Hash-1".into()).map_err(anyhow::Error::msg)?;
    for _ in 0..after {
        account_core::hashing::hash_password(password.clone()).await?;
        let cpu0 = thread_cpu();
        get().await?;
        cpu_after += thread_cpu() - cpu0;
    }
    stub.take_calls();
    println!(
        "One bare SDK call (DynamoDB GetItem, a client built like the functions', same stub): \
         {} µs of request-thread CPU; {} µs when it follows an argon2id hash ({after} calls).\n",
        micros(per_call),
        micros(cpu_after / after),
    );
    Ok(per_call)
}

pub struct Measured {
    pub cpu_ms: f64,
    pub emails: f64,
    /// Capacity units per request by kind of item, on a warm instance and a cold one.
    pub warm: hotkeys::Units,
    pub cold: hotkeys::Units,
}

/// Returns the time of one argon2id hash (ms).
fn login_throughput(env: &[(String, String)], cases: &[Case], seconds: f64) -> anyhow::Result<f64> {
    let login = cases
        .iter()
        .find(|c| c.name == "login")
        .context("login case")?;
    let n = cores();
    // One argon2id hash at the configured parameters, on this otherwise idle machine.
    let password = Password::new("Velvet-Harbor-17".into()).map_err(anyhow::Error::msg)?;
    let mut hashes: Vec<Duration> = (0..10)
        .map(|_| {
            let t = Instant::now();
            account_core::model::password::hash_blocking(&password).map(|_| t.elapsed())
        })
        .collect::<Result<_, _>>()
        .map_err(anyhow::Error::msg)?;
    hashes.sort();
    let hash = percentile(&hashes, 0.5);
    // The same hash on `n` bare threads at once: what this hardware does in parallel
    // (SMT siblings and memory bandwidth are shared), with no service code at all.
    let raw_rate = {
        let deadline = Instant::now() + Duration::from_secs_f64(seconds);
        let started = Instant::now();
        let threads: Vec<_> = (0..n)
            .map(|_| {
                let password = password.clone();
                std::thread::spawn(move || {
                    let mut done = 0u64;
                    while Instant::now() < deadline {
                        if account_core::model::password::hash_blocking(&password).is_ok() {
                            done += 1;
                        }
                    }
                    done
                })
            })
            .collect();
        let done: u64 = threads.into_iter().map(|t| t.join().unwrap_or(0)).sum();
        done as f64 / started.elapsed().as_secs_f64()
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(n)
        .enable_all()
        .build()?;
    let (done, elapsed) = rt.block_on(async {
        let (app, issuer) = build_app(env)?;
        let shared = std::sync::Arc::new((app, issuer));
        let deadline = Instant::now() + Duration::from_secs_f64(seconds);
        let started = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..n {
            let shared = shared.clone();
            let case = login.clone();
            tasks.push(tokio::spawn(async move {
                let mut ok = 0u64;
                while Instant::now() < deadline {
                    if call(&shared.0, &shared.1, &case).await == case.status {
                        ok += 1;
                    }
                }
                ok
            }));
        }
        let mut done = 0;
        for t in tasks {
            done += t.await?;
        }
        Ok::<_, anyhow::Error>((done, started.elapsed()))
    })?;
    let rate = done as f64 / elapsed.as_secs_f64();
    let bound = n as f64 / hash.as_secs_f64();
    println!("## Login throughput ({n} concurrent callers, {seconds} s, loopback stub)\n");
    println!(
        "| argon2id hash p50 ms | logins/s | bound: cores ÷ hash, /s | ratio (goal ≥ 0.8) | \
         bare hashes/s on {n} threads | logins ÷ bare hashes |"
    );
    println!("|---:|---:|---:|---:|---:|---:|");
    println!(
        "| {} | {rate:.1} | {bound:.1} | {:.2} | {raw_rate:.1} | {:.2} |\n",
        millis(hash),
        rate / bound,
        rate / raw_rate
    );
    Ok(hash.as_secs_f64() * 1e3)
}

fn bootstrap_path(dir: &Path, function: &str, flat: bool) -> PathBuf {
    if flat {
        dir.join(function)
    } else {
        dir.join(function).join("bootstrap")
    }
}

fn cold_starts(
    env: &[(String, String)],
    cases: &[Case],
    dir: &Path,
    flat: bool,
    starts: u32,
) -> anyhow::Result<()> {
    let floor_event = fixtures::http_api_event("GET", "/", "", "", None);
    let mut runs: Vec<(&str, PathBuf, serde_json::Value, u16)> = vec![(
        "floor",
        bootstrap_path(dir, "floor", flat),
        floor_event,
        200,
    )];
    for c in cases {
        runs.push((
            c.name,
            bootstrap_path(dir, c.function, flat),
            c.event(),
            c.status,
        ));
    }
    for (name, path, ..) in &runs {
        if !path.is_file() {
            bail!(
                "no bootstrap for {name} at {} (build them first: see BENCHMARKS.md)",
                path.display()
            );
        }
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let mut samples: Vec<Samples> = vec![Samples::default(); runs.len()];
    let mut rss = vec![0u64; runs.len()];
    rt.block_on(async {
        // One start each first, not counted: page cache and the stub's first connection.
        for (_, path, event, status) in &runs {
            cold::start_once(path, env, event, *status).await?;
        }
        // Interleaved, so drift in the machine's load spreads over every function alike.
        for _ in 0..starts {
            for (i, (_, path, event, status)) in runs.iter().enumerate() {
                let s = cold::start_once(path, env, event, *status).await?;
                samples[i].init.push(s.init);
                samples[i].first.push(s.first_response);
                samples[i].cpu.push(s.init_cpu);
                samples[i].faults.push(s.init_faults);
                rss[i] = rss[i].max(s.peak_rss);
            }
        }
        Ok::<_, anyhow::Error>(())
    })?;
    println!(
        "## Cold starts ({starts} starts each, bootstraps in {})\n",
        dir.display()
    );
    println!(
        "| function | bootstrap MB | init p50 ms | init p90 ms | init p50 ÷ floor (goal ≤ 1.5) | \
         init CPU p50 ms | page faults at init | first response p50 ms | first response p90 ms | \
         peak RSS MB |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut floor_init = Duration::ZERO;
    for (i, (name, path, ..)) in runs.iter().enumerate() {
        let Samples {
            init,
            first,
            cpu,
            faults,
        } = &mut samples[i];
        init.sort();
        first.sort();
        cpu.sort();
        faults.sort();
        let p50 = percentile(init, 0.5);
        if i == 0 {
            floor_init = p50;
        }
        let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        println!(
            "| {name} | {:.2} | {} | {} | {:.2} | {} | {} | {} | {} | {:.1} |",
            size as f64 / 1e6,
            millis(p50),
            millis(percentile(init, 0.9)),
            p50.as_secs_f64() / floor_init.as_secs_f64().max(1e-9),
            millis(percentile(cpu, 0.5)),
            faults.get(faults.len() / 2).copied().unwrap_or(0),
            millis(percentile(first, 0.5)),
            millis(percentile(first, 0.9)),
            rss[i] as f64 / 1e6,
        );
    }
    println!(
        "\nInit: spawn → first `GET /runtime/invocation/next`. Init CPU: the process's \
         CPU (all threads, exec and page-in included) at that poll. First response: spawn → \
         the answer to one real request (the CPU table's), against the same stub.\n"
    );
    Ok(())
}

/// One function's cold starts.
#[derive(Default, Clone)]
struct Samples {
    init: Vec<Duration>,
    first: Vec<Duration>,
    cpu: Vec<Duration>,
    faults: Vec<u64>,
}

/// List prices, us-east-1, as published in November 2026 (BENCHMARKS.md names the pages).
mod price {
    /// Lambda arm64, per GB-second and per request.
    pub const LAMBDA_GB_S: f64 = 0.000_013_333_4;
    pub const LAMBDA_REQUEST: f64 = 0.20 / 1e6;
    /// API Gateway HTTP API, per request (first 300 M a month).
    pub const HTTP_API_REQUEST: f64 = 1.00 / 1e6;
    /// DynamoDB on-demand, per read and write request unit.
    pub const RRU: f64 = 0.125 / 1e6;
    pub const WRU: f64 = 0.625 / 1e6;
    /// SES outbound mail, per message.
    pub const EMAIL: f64 = 0.10 / 1e3;
}

/// Lambda gives a function one vCPU at 1,769 MB, proportionally less below.
const MB_PER_VCPU: f64 = 1769.0;
/// Assumed in-region round trips (not measurable here): DynamoDB and SES p50.
const DYNAMODB_RTT_MS: f64 = 5.0;
const SES_RTT_MS: f64 = 30.0;

/// What one request of an endpoint costs, from the measured CPU and calls.
pub struct CostInput {
    pub name: &'static str,
    /// The function's memory in template.yaml.
    pub memory_mb: f64,
    pub cpu_ms: f64,
    pub argon2: u32,
    pub dynamodb_sequential: f64,
    pub rru: f64,
    pub wru: f64,
    pub emails: f64,
    /// RESPONSE_FLOOR_MS for answers that must not reveal whether a user exists.
    pub floor_ms: f64,
}

impl CostInput {
    fn duration_ms(&self, hash_ms: f64) -> f64 {
        let cpu_share = (self.memory_mb / MB_PER_VCPU).min(1.0);
        let cpu = (self.cpu_ms + f64::from(self.argon2) * hash_ms) / cpu_share;
        // Mail is not on the request's path any more (the outbox; the mailer sends it).
        let wait = self.dynamodb_sequential * DYNAMODB_RTT_MS;
        (cpu + wait).max(self.floor_ms).ceil()
    }

    /// Dollars per million requests: (Lambda, API Gateway, DynamoDB, mail, total).
    /// Mail is SES plus the mailer's path for each mail: its Lambda (128 MB, the
    /// claim, SES and the delete one after another; one invocation per mail,
    /// though a busy stream batches up to ten), the claim and the delete (2 WRU
    /// each for a ~1.1 KB reset mail); the stream read is free for a Lambda trigger.
    pub fn per_million(&self, hash_ms: f64) -> [f64; 5] {
        let gb_s = self.duration_ms(hash_ms) / 1e3 * self.memory_mb / 1024.0;
        let lambda = (gb_s * price::LAMBDA_GB_S + price::LAMBDA_REQUEST) * 1e6;
        let api = price::HTTP_API_REQUEST * 1e6;
        let ddb = (self.rru * price::RRU + self.wru * price::WRU) * 1e6;
        let mailer_ms = 2.0 * DYNAMODB_RTT_MS + SES_RTT_MS;
        let mailer = mailer_ms / 1e3 * 128.0 / 1024.0 * price::LAMBDA_GB_S
            + price::LAMBDA_REQUEST
            + 4.0 * price::WRU;
        let ses = self.emails * (price::EMAIL + mailer) * 1e6;
        [lambda, api, ddb, ses, lambda + api + ddb + ses]
    }
}

pub fn print_costs(inputs: &[CostInput], hash_ms: f64) {
    println!("## Cost model (list prices, us-east-1; see BENCHMARKS.md for the assumptions)\n");
    println!(
        "| per 1M requests | memory MB | modelled duration ms | Lambda $ | API Gateway $ | \
         DynamoDB $ | SES $ | total $ |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for c in inputs {
        let [l, a, d, s, t] = c.per_million(hash_ms);
        println!(
            "| {} | {} | {} | {l:.2} | {a:.2} | {d:.2} | {s:.2} | {t:.2} |",
            c.name,
            c.memory_mb,
            c.duration_ms(hash_ms)
        );
    }
    let total = |name: &str| {
        inputs
            .iter()
            .find(|c| c.name == name)
            .map_or(0.0, |c| c.per_million(hash_ms)[4])
    };
    println!(
        "\nPer 1M logins: **${:.2}**. Per 1M recoveries (recover-password + set-password): \
         **${:.2}**, of which SES mail ${:.2}.\n",
        total("login"),
        total("recover-password") + total("set-password"),
        inputs
            .iter()
            .filter(|c| c.name == "recover-password" || c.name == "set-password")
            .map(|c| c.per_million(hash_ms)[3])
            .sum::<f64>()
    );
}
