//! The hot-key budget: what the busiest single item of each kind takes at a
//! busy tenant's load, from the capacity units the stub counted per item and
//! per request, scaled to the load. DynamoDB serves one item at most 3,000
//! read units and 1,000 write units a second, however the table scales.

use std::collections::BTreeMap;

use crate::fixtures::Case;
use crate::stub::KeyUnits;
use crate::Measured;

/// Read and write units per request, by kind of item.
pub type Units = BTreeMap<Kind, (f64, f64)>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Settings,
    User,
    Key,
    IpCounter,
    Outbox,
    Other,
}

/// The units one request spent on each kind of item (`total` over `requests`).
pub fn per_request(total: &KeyUnits, env: &[(String, String)], requests: u32) -> Units {
    let table = |k: &str| {
        env.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
            .unwrap_or_default()
    };
    let mut out = Units::new();
    for ((t, _pk), (r, w)) in total {
        let kind = match t.as_str() {
            x if x == table("SETTINGS_TABLE") => Kind::Settings,
            x if x == table("USERS_TABLE") => Kind::User,
            x if x == table("KEYS_TABLE") => Kind::Key,
            x if x == table("RATE_LIMITS_TABLE") => Kind::IpCounter,
            x if x == table("OUTBOX_TABLE") => Kind::Outbox,
            _ => Kind::Other,
        };
        let e = out.entry(kind).or_default();
        e.0 += r / f64::from(requests);
        e.1 += w / f64::from(requests);
    }
    out
}

/// The tenant the budget is for.
const LOGINS: f64 = 10_000.0;
const RECOVERIES: f64 = 1_000.0;
const USERS: f64 = 1_000_000.0;
const INSTANCES: f64 = 500.0;
const SETTINGS_TTL_S: f64 = 30.0;
/// DynamoDB's per-item ceilings.
const ITEM_READS: f64 = 3_000.0;
const ITEM_WRITES: f64 = 1_000.0;

pub fn print_budget(cases: &[Case], measured: &[Measured]) {
    let of = |name: &str| {
        cases
            .iter()
            .zip(measured)
            .find(|(c, _)| c.name == name)
            .map(|(_, m)| m)
    };
    // Requests a second, by endpoint: every recovery asked for is completed.
    let load = [
        ("login", LOGINS),
        ("recover-password", RECOVERIES),
        ("set-password", RECOVERIES),
    ];
    let units = |kind: Kind, cold: bool| -> (f64, f64) {
        load.iter().fold((0.0, 0.0), |(r, w), (name, rate)| {
            let u = of(name)
                .and_then(|m| if cold { &m.cold } else { &m.warm }.get(&kind).copied())
                .unwrap_or_default();
            (r + rate * u.0, w + rate * u.1)
        })
    };
    println!(
        "## Hot-key budget: one tenant at {LOGINS} logins/s and {RECOVERIES} recoveries/s \
         (recover-password + set-password), {USERS} users, {INSTANCES} warm instances\n"
    );
    println!(
        "Capacity units per request from the stub's per-item counts (warm instance / cold):\n"
    );
    println!("| endpoint | settings item | user item | key item | per-IP counter | outbox item |");
    println!("|---|---|---|---|---|---|");
    let cell = |u: &Units, k: Kind| {
        u.get(&k)
            .map_or("–".to_string(), |(r, w)| format!("{r:.1} R {w:.1} W"))
    };
    for (c, m) in cases.iter().zip(measured) {
        println!(
            "| {} | {} / {} | {} | {} | {} | {} |",
            c.name,
            cell(&m.warm, Kind::Settings),
            cell(&m.cold, Kind::Settings),
            cell(&m.warm, Kind::User),
            cell(&m.warm, Kind::Key),
            cell(&m.warm, Kind::IpCounter),
            cell(&m.warm, Kind::Outbox),
        );
    }
    let row = |item: &str, reads: f64, writes: f64, note: &str| {
        let headroom = (ITEM_READS / reads.max(1e-9)).min(ITEM_WRITES / writes.max(1e-9));
        println!(
            "| {item} | {reads:.2} | {writes:.2} | {} | {note} |",
            if headroom >= 1e6 {
                "∞".to_string()
            } else {
                format!("{headroom:.0} ×")
            }
        );
    };
    println!(
        "\n| busiest single item | reads/s | writes/s | headroom to 3,000 R / 1,000 W | how |"
    );
    println!("|---|---:|---:|---:|---|");
    // Settings: a cold read per instance per TTL; without the cache every request reads it.
    let (cold_reads, _) = units(Kind::Settings, true);
    let per_miss = cold_reads / (LOGINS + 2.0 * RECOVERIES);
    row(
        "the tenant's settings (cached)",
        INSTANCES * per_miss / SETTINGS_TTL_S,
        0.0,
        "each warm instance reads it once per SETTINGS_CACHE_TTL (30 s)",
    );
    row(
        "the tenant's settings (no cache, before)",
        cold_reads,
        0.0,
        "every request read it: throttled",
    );
    let (ur, uw) = units(Kind::User, false);
    row(
        "a user (load spread over the users)",
        ur / USERS,
        uw / USERS,
        "each request reads its user; a login confirms with one write",
    );
    let login = of("login")
        .and_then(|m| m.warm.get(&Kind::User).copied())
        .unwrap_or_default();
    row(
        "one user at the tenant's whole login rate",
        LOGINS * login.0,
        0.0,
        "a password spray on one account: locked after `lock.max_failed_attempts` \
         writes; its reads throttle at 3,000/s, and those tries get 503",
    );
    // The per-IP counter: every recovery through one address (a corporate NAT).
    let recover = of("recover-password")
        .and_then(|m| m.warm.get(&Kind::IpCounter).copied())
        .unwrap_or_default();
    for (limit, shards) in [(30.0, 1.0), (1_000.0, 8.0), (100_000.0, 8.0)] {
        let under = RECOVERIES * recover.1 / shards;
        let past = INSTANCES / 3600.0;
        row(
            &format!("the per-IP counter, limit {limit}/h, all from one address"),
            0.0,
            under,
            &format!(
                "{shards} item(s); {under:.0} writes/s only until the limit ({:.1} s), then none \
                 but one per instance per hour ({past:.2}/s); a throttled write counts as over",
                limit / (RECOVERIES * recover.1)
            ),
        );
    }
    let (_, kw) = units(Kind::Key, false);
    row(
        "a recovery key",
        0.0,
        kw / (2.0 * RECOVERIES) / 60.0,
        "written and deleted once each (a new item per recovery): per minute of its life",
    );
    println!();
}
