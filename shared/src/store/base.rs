//! The store's client and what every table's adapter shares: reading a
//! tenant's settings with the users a request needs, writing users, tenants'
//! settings and templates, and how a failed condition comes back.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::Context;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes, TransactWriteItem};
use aws_sdk_dynamodb::Client;

use super::items::{self, n, s, Item};
use crate::env::{need, ConfigError};
use crate::model::account::User;
use crate::model::domain::{TenantDomain, UserRef};
use crate::model::settings::TenantSettings;
use crate::model::templates::{MailTemplate, TemplateName};
use crate::model::time::UnixTime;
use crate::outbound::aws::sdk_err;

/// The tables, by name.
#[derive(Debug, Clone)]
pub struct Tables {
    pub users: String,
    pub settings: String,
    pub keys: String,
    /// Hourly request counters (per source IP), removed by TTL.
    pub rate_limits: String,
    /// Mails on their way out; its stream feeds the mailer.
    pub outbox: String,
}

impl Tables {
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        Ok(Self {
            users: need(&get, "USERS_TABLE")?,
            settings: need(&get, "SETTINGS_TABLE")?,
            keys: need(&get, "KEYS_TABLE")?,
            rate_limits: need(&get, "RATE_LIMITS_TABLE")?,
            outbox: need(&get, "OUTBOX_TABLE")?,
        })
    }
}

/// A write's result, with a failed condition as `Ok(None)` (a domain answer)
/// and every other failure as an error.
pub(crate) fn conditional<O, E>(
    res: Result<O, SdkError<E>>,
    what: &str,
) -> anyhow::Result<Option<O>>
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match res {
        Ok(o) => Ok(Some(o)),
        Err(e)
            if e.as_service_error().and_then(|e| e.code())
                == Some("ConditionalCheckFailedException") =>
        {
            Ok(None)
        }
        Err(e) => Err(sdk_err(e, what)),
    }
}

/// The outcome of a conditional write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Write {
    Done,
    /// A condition failed: someone else changed the item first.
    Conflict,
}

/// The outcome of a write conditioned on the user item the decision was made on.
#[derive(Debug)]
pub enum Saved {
    Done,
    /// Someone else changed the user first: the user as stored now (`None`: gone).
    Conflict(Option<Box<User>>),
}

pub struct Store {
    ddb: Client,
    tables: Tables,
    settings: SettingsCache,
    pub(crate) over_limit: OverLimit,
}

/// Tenants' settings as last read, kept by a warm instance for `ttl`, so a busy
/// tenant's settings item is read about once per TTL per instance rather than
/// once per request (one item serves at most 3,000 reads a second). A change
/// made with `accountctl` takes effect within the TTL.
struct SettingsCache {
    ttl: Duration,
    entries: Mutex<HashMap<TenantDomain, (Instant, TenantSettings)>>,
}

/// Addresses this instance has seen over their limit, by hour: no more writes
/// for them until the hour ends (each instance writes at most once past the limit).
#[derive(Default)]
pub(crate) struct OverLimit(Mutex<HashSet<(String, i64)>>);

impl OverLimit {
    pub(super) fn known(&self, id: &str, hour: i64) -> bool {
        let set = self.0.lock().unwrap_or_else(|e| e.into_inner());
        set.contains(&(id.to_string(), hour))
    }

    pub(super) fn remember(&self, id: String, hour: i64) {
        let mut set = self.0.lock().unwrap_or_else(|e| e.into_inner());
        // Past hours are done with.
        set.retain(|(_, h)| *h >= hour);
        set.insert((id, hour));
    }
}

/// Tenants a warm instance keeps settings for; beyond it, the oldest go.
const CACHED_TENANTS: usize = 1024;

impl SettingsCache {
    fn get(&self, tenant: &TenantDomain) -> Option<TenantSettings> {
        if self.ttl.is_zero() {
            return None;
        }
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(tenant)
            .filter(|(at, _)| at.elapsed() < self.ttl)
            .map(|(_, s)| s.clone())
    }

    fn put(&self, tenant: &TenantDomain, settings: &TenantSettings) {
        if self.ttl.is_zero() {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= CACHED_TENANTS {
            entries.retain(|_, (at, _)| at.elapsed() < self.ttl);
            if entries.len() >= CACHED_TENANTS {
                let oldest = entries
                    .iter()
                    .min_by_key(|(_, (at, _))| *at)
                    .map(|(t, _)| t.clone());
                if let Some(t) = oldest {
                    entries.remove(&t);
                }
            }
        }
        entries.insert(tenant.clone(), (Instant::now(), settings.clone()));
    }
}

impl Store {
    /// Without a settings cache: every request reads its tenant's settings
    /// (operators' tools, tests that change settings as they go).
    pub fn new(ddb: Client, tables: Tables) -> Self {
        Self {
            ddb,
            tables,
            settings: SettingsCache {
                ttl: Duration::ZERO,
                entries: Mutex::default(),
            },
            over_limit: Default::default(),
        }
    }

    /// Keeps each tenant's settings for `ttl` (`SETTINGS_CACHE_TTL`).
    pub fn with_settings_cache(mut self, ttl: Duration) -> Self {
        self.settings.ttl = ttl;
        self
    }

    pub fn client(&self) -> &Client {
        &self.ddb
    }

    pub fn tables(&self) -> &Tables {
        &self.tables
    }

    /// The tenant's settings (its overrides over `defaults`) and the users asked
    /// for: everything a request decides on, read once. The settings come from
    /// the instance's cache while fresh (then only the users are read), else with
    /// the users in one round trip.
    pub async fn load(
        &self,
        tenant: &TenantDomain,
        users: &[&UserRef],
        defaults: &TenantSettings,
    ) -> anyhow::Result<(TenantSettings, Vec<Option<User>>)> {
        if let Some(settings) = self.settings.get(tenant) {
            return Ok((settings, self.users(users).await?));
        }
        let found = self.batch_get(Some(tenant), users).await?;
        let settings = match found.get(&self.tables.settings).and_then(|v| v.first()) {
            Some(item) => settings_of(tenant, item, defaults)?,
            None => defaults.clone(),
        };
        self.settings.put(tenant, &settings);
        Ok((settings, users_in(&found, &self.tables.users, users)?))
    }

    /// The tenant's settings alone: from the cache while fresh, else one read.
    pub async fn settings(
        &self,
        tenant: &TenantDomain,
        defaults: &TenantSettings,
    ) -> anyhow::Result<TenantSettings> {
        Ok(self.load(tenant, &[], defaults).await?.0)
    }

    /// Users by their keys, read consistently: one GetItem for one user, one
    /// BatchGetItem for more, nothing for none.
    pub async fn users(&self, users: &[&UserRef]) -> anyhow::Result<Vec<Option<User>>> {
        match users {
            [] => Ok(Vec::new()),
            [one] => Ok(vec![self.get_user(one).await?]),
            _ => {
                let found = self.batch_get(None, users).await?;
                users_in(&found, &self.tables.users, users)
            }
        }
    }

    /// One BatchGetItem of a tenant's settings item and users, consistent, with
    /// unprocessed keys asked again.
    async fn batch_get(
        &self,
        tenant: Option<&TenantDomain>,
        users: &[&UserRef],
    ) -> anyhow::Result<HashMap<String, Vec<Item>>> {
        let key = |pk: String| HashMap::from([("pk".to_string(), s(pk))]);
        let mut request = HashMap::new();
        if let Some(tenant) = tenant {
            request.insert(
                self.tables.settings.clone(),
                KeysAndAttributes::builder()
                    .keys(key(tenant.as_str().to_string()))
                    .consistent_read(true)
                    .build()
                    .context("settings key")?,
            );
        }
        let mut distinct: Vec<String> = Vec::with_capacity(users.len());
        for u in users {
            // BatchGetItem refuses a key asked for twice.
            let k = u.storage_key();
            if !distinct.contains(&k) {
                distinct.push(k);
            }
        }
        if !distinct.is_empty() {
            request.insert(
                self.tables.users.clone(),
                KeysAndAttributes::builder()
                    .set_keys(Some(distinct.into_iter().map(key).collect()))
                    .consistent_read(true)
                    .build()
                    .context("user keys")?,
            );
        }
        let mut found: HashMap<String, Vec<Item>> = HashMap::new();
        let mut pending = Some(request);
        for attempt in 0..5u32 {
            let Some(req) = pending.take().filter(|r| !r.is_empty()) else {
                break;
            };
            if attempt > 0 {
                tokio::time::sleep(std::time::Duration::from_millis(20 << attempt)).await;
            }
            let out = self
                .ddb
                .batch_get_item()
                .set_request_items(Some(req))
                .send()
                .await
                .map_err(|e| sdk_err(e, "BatchGetItem"))?;
            for (table, items) in out.responses.unwrap_or_default() {
                found.entry(table).or_default().extend(items);
            }
            pending = out.unprocessed_keys;
        }
        if pending.is_some_and(|p| !p.is_empty()) {
            return Err(anyhow::Error::new(crate::outbound::aws::Unavailable(
                "BatchGetItem left keys unprocessed after retries".into(),
            )));
        }
        Ok(found)
    }

    pub async fn get_user(&self, user: &UserRef) -> anyhow::Result<Option<User>> {
        let item = self
            .get(&self.tables.users, user.storage_key(), "GetItem user")
            .await?;
        item.as_ref().map(items::user_from_item).transpose()
    }

    /// Creates a user; `Conflict` when one with that name exists already.
    pub async fn create_user(&self, user: &User, now: UnixTime) -> anyhow::Result<Write> {
        let res = self
            .ddb
            .put_item()
            .table_name(&self.tables.users)
            .set_item(Some(items::user_to_item(user, now)))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        Ok(conditional(res, "PutItem user")?.map_or(Write::Conflict, |_| Write::Done))
    }

    /// The overrides stored for a tenant (not the defaults).
    pub async fn tenant_overrides(
        &self,
        tenant: &TenantDomain,
    ) -> anyhow::Result<BTreeMap<String, String>> {
        let item = self
            .get(&self.tables.settings, tenant.as_str(), "GetItem settings")
            .await?;
        match item {
            Some(item) => items::settings_from_item(&item),
            None => Ok(BTreeMap::new()),
        }
    }

    /// Replaces a tenant's overrides (its templates stay). The caller validates them first.
    pub async fn put_tenant_overrides(
        &self,
        tenant: &TenantDomain,
        overrides: &BTreeMap<String, String>,
        now: UnixTime,
    ) -> anyhow::Result<()> {
        let map = overrides
            .iter()
            .map(|(k, v)| (k.clone(), s(v.clone())))
            .collect();
        self.update_tenant(tenant, "settings", AttributeValue::M(map), now)
            .await
    }

    /// The tenant's own mail templates.
    pub async fn tenant_templates(
        &self,
        tenant: &TenantDomain,
    ) -> anyhow::Result<HashMap<TemplateName, MailTemplate>> {
        let item = self
            .get(&self.tables.settings, tenant.as_str(), "GetItem settings")
            .await?;
        item.as_ref()
            .map(items::templates_from_item)
            .unwrap_or_else(|| Ok(HashMap::new()))
    }

    /// Replaces the tenant's own mail templates (its settings stay). The caller validates them.
    pub async fn put_tenant_templates(
        &self,
        tenant: &TenantDomain,
        templates: &HashMap<TemplateName, MailTemplate>,
        now: UnixTime,
    ) -> anyhow::Result<()> {
        self.update_tenant(tenant, "templates", items::templates_value(templates), now)
            .await
    }

    /// One item by its key, read consistently.
    pub(crate) async fn get(
        &self,
        table: &str,
        pk: impl Into<String>,
        what: &str,
    ) -> anyhow::Result<Option<Item>> {
        let out = self
            .ddb
            .get_item()
            .table_name(table)
            .key("pk", s(pk))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_err(e, what))?;
        Ok(out.item)
    }

    /// Sets one attribute of the tenant item, creating the item if needed.
    async fn update_tenant(
        &self,
        tenant: &TenantDomain,
        attr: &str,
        value: AttributeValue,
        now: UnixTime,
    ) -> anyhow::Result<()> {
        self.ddb
            .update_item()
            .table_name(&self.tables.settings)
            .key("pk", s(tenant.as_str()))
            .update_expression("SET #a = :v, updated_at = :now")
            .expression_attribute_names("#a", attr)
            .expression_attribute_values(":v", value)
            .expression_attribute_values(":now", n(now.0))
            .send()
            .await
            .map_err(|e| sdk_err(e, "UpdateItem settings"))?;
        Ok(())
    }

    /// Runs a transaction. `Err` holds, per operation, `None` when its
    /// condition held and `Some(item)` when it failed (the item as found, where
    /// the operation asked for it).
    pub(crate) async fn transact(
        &self,
        ops: Vec<TransactWriteItem>,
        what: &str,
    ) -> anyhow::Result<Result<(), Vec<Option<Option<Item>>>>> {
        match self
            .ddb
            .transact_write_items()
            .set_transact_items(Some(ops))
            .send()
            .await
        {
            Ok(_) => Ok(Ok(())),
            Err(e) => {
                if let Some(TransactWriteItemsError::TransactionCanceledException(c)) =
                    e.as_service_error()
                {
                    let failed = |code: Option<&str>| code == Some("ConditionalCheckFailed");
                    let reasons = c.cancellation_reasons();
                    if reasons.iter().any(|r| failed(r.code())) {
                        return Ok(Err(reasons
                            .iter()
                            .map(|r| failed(r.code()).then(|| r.item().cloned()))
                            .collect()));
                    }
                    // Throttled, or another transaction held an item: nothing
                    // was written, and trying again later may well succeed.
                    let busy = |code: Option<&str>| {
                        matches!(
                            code,
                            Some(
                                "ThrottlingError"
                                    | "ProvisionedThroughputExceeded"
                                    | "TransactionConflict"
                            )
                        )
                    };
                    if reasons.iter().any(|r| busy(r.code())) {
                        return Err(anyhow::Error::new(crate::outbound::aws::Unavailable(
                            format!(
                                "{what}: {}",
                                aws_sdk_dynamodb::error::DisplayErrorContext(&e)
                            ),
                        )));
                    }
                }
                Err(sdk_err(e, what))
            }
        }
    }
}

/// The users asked for, in order, from a BatchGetItem's items (a few at most:
/// each finds its own by a scan).
fn users_in(
    found: &HashMap<String, Vec<Item>>,
    table: &str,
    users: &[&UserRef],
) -> anyhow::Result<Vec<Option<User>>> {
    let items = found.get(table).map_or(&[][..], Vec::as_slice);
    users
        .iter()
        .map(|u| {
            let k = u.storage_key();
            items
                .iter()
                .find(|i| i.get("pk").and_then(|v| v.as_s().ok()) == Some(&k))
                .map(items::user_from_item)
                .transpose()
        })
        .collect()
}

/// A tenant's stored settings over the defaults, with its templates.
fn settings_of(
    tenant: &TenantDomain,
    item: &Item,
    defaults: &TenantSettings,
) -> anyhow::Result<TenantSettings> {
    let overrides = items::settings_from_item(item)?;
    let mut settings = defaults
        .with_stored_overrides(&overrides)
        .with_context(|| format!("stored settings of tenant {tenant} are invalid"))?;
    settings.templates = items::templates_from_item(item)?;
    Ok(settings)
}
