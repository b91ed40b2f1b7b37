//! The store's client and what every table's adapter shares: reading a
//! tenant's settings with the users a request needs, writing users, tenants'
//! settings and templates, and how a failed condition comes back.

use std::collections::{BTreeMap, HashMap};

use anyhow::{anyhow, Context};
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
}

impl Store {
    pub fn new(ddb: Client, tables: Tables) -> Self {
        Self { ddb, tables }
    }

    pub fn client(&self) -> &Client {
        &self.ddb
    }

    pub fn tables(&self) -> &Tables {
        &self.tables
    }

    /// The tenant's settings (its overrides over `defaults`) and the users asked
    /// for, in one round trip: everything a request decides on, read once.
    pub async fn load(
        &self,
        tenant: &TenantDomain,
        users: &[&UserRef],
        defaults: &TenantSettings,
    ) -> anyhow::Result<(TenantSettings, Vec<Option<User>>)> {
        let key = |pk: String| HashMap::from([("pk".to_string(), s(pk))]);
        let mut request = HashMap::from([(
            self.tables.settings.clone(),
            KeysAndAttributes::builder()
                .keys(key(tenant.as_str().to_string()))
                .consistent_read(true)
                .build()
                .context("settings key")?,
        )]);
        let user_keys: Vec<String> = users.iter().map(|u| u.storage_key()).collect();
        let mut distinct: Vec<&String> = Vec::with_capacity(user_keys.len());
        for k in &user_keys {
            // BatchGetItem refuses a key asked for twice.
            if !distinct.contains(&k) {
                distinct.push(k);
            }
        }
        if !distinct.is_empty() {
            request.insert(
                self.tables.users.clone(),
                KeysAndAttributes::builder()
                    .set_keys(Some(distinct.into_iter().cloned().map(key).collect()))
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
            return Err(anyhow!("BatchGetItem left keys unprocessed after retries"));
        }
        let settings = match found.get(&self.tables.settings).and_then(|v| v.first()) {
            Some(item) => settings_of(tenant, item, defaults)?,
            None => defaults.clone(),
        };
        // A few items at most: each asked-for key finds its own by a scan.
        let items = found.get(&self.tables.users).map_or(&[][..], Vec::as_slice);
        let users = user_keys
            .iter()
            .map(|k| {
                items
                    .iter()
                    .find(|i| i.get("pk").and_then(|v| v.as_s().ok()) == Some(k))
                    .map(items::user_from_item)
                    .transpose()
            })
            .collect::<anyhow::Result<_>>()?;
        Ok((settings, users))
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
                }
                Err(sdk_err(e, what))
            }
        }
    }
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
