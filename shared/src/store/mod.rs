//! DynamoDB adapters: items <-> domain types, and the conditional writes and
//! transactions that settle races. A failed condition comes back as a domain
//! answer ([`Write::Conflict`]), never as an error string.

pub mod items;
pub mod locks;
pub mod tables;

use std::collections::{BTreeMap, HashMap};

use anyhow::{anyhow, Context};
use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, Delete, KeysAndAttributes, Put, TransactWriteItem, Update,
};
use aws_sdk_dynamodb::Client;

use crate::account::{RecoveryWindow, User};
use crate::config::Tables;
use crate::domain::{TenantDomain, UserRef};
use crate::mail::{MailTemplate, TemplateName};
use crate::password::PasswordHash;
use crate::recovery::key::KeyHash;
use crate::tenant::TenantSettings;
use crate::time::UnixTime;

pub use items::KeyRecord;

type Item = HashMap<String, AttributeValue>;

pub(crate) fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}
pub(crate) fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

/// An SDK error with its whole cause chain, for logs (never for bodies).
pub(crate) fn sdk_err<E: std::error::Error + Send + Sync + 'static>(
    e: SdkError<E>,
    what: &str,
) -> anyhow::Error {
    anyhow!("{what}: {}", DisplayErrorContext(e))
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

/// What [`Store::issue_key`] writes: a new key replacing the user's current one.
pub struct IssueKey<'a> {
    pub user: &'a User,
    pub key_hash: &'a KeyHash,
    pub expires_at: UnixTime,
    pub callback: &'a str,
    pub now: UnixTime,
    /// `Some(max)`: count this request against the hourly window, refusing past `max`.
    pub rate_limit: Option<u32>,
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

    /// The tenant's settings and, if asked, one of its users, in one round trip.
    pub async fn load(
        &self,
        tenant: &TenantDomain,
        user: Option<&UserRef>,
        defaults: &TenantSettings,
    ) -> anyhow::Result<(TenantSettings, Option<User>)> {
        let settings_key = HashMap::from([("pk".to_string(), s(tenant.as_str()))]);
        let mut request = HashMap::from([(
            self.tables.settings.clone(),
            KeysAndAttributes::builder()
                .keys(settings_key)
                .consistent_read(true)
                .build()
                .context("settings key")?,
        )]);
        if let Some(u) = user {
            request.insert(
                self.tables.users.clone(),
                KeysAndAttributes::builder()
                    .keys(HashMap::from([("pk".to_string(), s(u.storage_key()))]))
                    .consistent_read(true)
                    .build()
                    .context("user key")?,
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
            Some(item) => {
                let overrides = items::settings_from_item(item)?;
                let mut settings = defaults
                    .with_stored_overrides(&overrides)
                    .with_context(|| format!("stored settings of tenant {tenant} are invalid"))?;
                settings.templates = items::templates_from_item(item)?;
                settings
            }
            None => defaults.clone(),
        };
        let user = match found.get(&self.tables.users).and_then(|v| v.first()) {
            Some(item) => Some(items::user_from_item(item)?),
            None => None,
        };
        Ok((settings, user))
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
    async fn get(
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

    pub async fn get_key(&self, hash: &KeyHash) -> anyhow::Result<Option<KeyRecord>> {
        let item = self
            .get(&self.tables.keys, hash.as_str(), "GetItem key")
            .await?;
        item.as_ref().map(items::key_from_item).transpose()
    }

    /// Stores a new key and makes it the user's only working one, in one
    /// transaction: the old key item is deleted, and the user item must still
    /// hold the old key (no concurrent issue), must not be admin-locked, and must
    /// have room in its hourly window.
    pub async fn issue_key(&self, plan: &IssueKey<'_>) -> anyhow::Result<Write> {
        let user = plan.user;
        let pk = user.user_ref.storage_key();
        let key_item = items::key_to_item(plan.key_hash, user, plan.expires_at, plan.now);
        let put_key = Put::builder()
            .table_name(&self.tables.keys)
            .set_item(Some(key_item))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .context("put key")?;

        let mut set = vec!["rk_hash = :new", "rk_expires = :exp", "rk_callback = :cb"];
        let mut cond = vec![
            "attribute_exists(pk)",
            "attribute_not_exists(admin_lock_at)",
        ];
        let mut values: Item = HashMap::from([
            (":new".into(), s(plan.key_hash.as_str())),
            (":exp".into(), n(plan.expires_at.0)),
            (":cb".into(), s(plan.callback)),
        ]);
        match &user.recovery {
            Some(old) => {
                cond.push("rk_hash = :old");
                values.insert(":old".into(), s(old.key_hash.as_str()));
            }
            None => cond.push("attribute_not_exists(rk_hash)"),
        }
        if let Some(max) = plan.rate_limit {
            let hour = RecoveryWindow::hour_of(plan.now);
            values.insert(":hour".into(), n(hour));
            values.insert(":one".into(), n(1));
            if user.recovery_window.hour == hour {
                set.push("rl_count = rl_count + :one");
                cond.push("rl_hour = :hour");
                if max > 0 {
                    cond.push("rl_count < :max");
                    values.insert(":max".into(), n(max));
                }
            } else {
                set.push("rl_hour = :hour");
                set.push("rl_count = :one");
                cond.push("(attribute_not_exists(rl_hour) OR rl_hour <> :hour)");
            }
        }
        let update_user = Update::builder()
            .table_name(&self.tables.users)
            .key("pk", s(&pk))
            .update_expression(format!("SET {}", set.join(", ")))
            .condition_expression(cond.join(" AND "))
            .set_expression_attribute_values(Some(values))
            .build()
            .context("update user")?;

        let mut ops = vec![
            TransactWriteItem::builder().put(put_key).build(),
            TransactWriteItem::builder().update(update_user).build(),
        ];
        if let Some(old) = &user.recovery {
            ops.push(
                TransactWriteItem::builder()
                    .delete(
                        Delete::builder()
                            .table_name(&self.tables.keys)
                            .key("pk", s(old.key_hash.as_str()))
                            .build()
                            .context("delete old key")?,
                    )
                    .build(),
            );
        }
        self.transact(ops, "TransactWriteItems issue key").await
    }

    /// Takes back a key that could not be delivered, if it is still the user's.
    pub async fn revoke_key(&self, user: &UserRef, key_hash: &KeyHash) -> anyhow::Result<Write> {
        let ops = vec![
            TransactWriteItem::builder()
                .delete(
                    Delete::builder()
                        .table_name(&self.tables.keys)
                        .key("pk", s(key_hash.as_str()))
                        .build()
                        .context("delete key")?,
                )
                .build(),
            TransactWriteItem::builder()
                .update(
                    Update::builder()
                        .table_name(&self.tables.users)
                        .key("pk", s(user.storage_key()))
                        .update_expression("REMOVE rk_hash, rk_expires, rk_callback")
                        .condition_expression("rk_hash = :h")
                        .expression_attribute_values(":h", s(key_hash.as_str()))
                        .build()
                        .context("update user")?,
                )
                .build(),
        ];
        self.transact(ops, "TransactWriteItems revoke key").await
    }

    /// Uses a key once: deletes it (it must still exist) and sets the new
    /// password on the user (who must still hold that key), clearing failures
    /// and a failed-login lock. Of two concurrent calls, one gets `Conflict`.
    pub async fn consume_key(
        &self,
        user: &UserRef,
        key_hash: &KeyHash,
        new_hash: &PasswordHash,
        history: &[PasswordHash],
        now: UnixTime,
    ) -> anyhow::Result<Write> {
        let ops = vec![
            TransactWriteItem::builder()
                .delete(
                    Delete::builder()
                        .table_name(&self.tables.keys)
                        .key("pk", s(key_hash.as_str()))
                        .condition_expression("attribute_exists(pk)")
                        .build()
                        .context("delete key")?,
                )
                .build(),
            TransactWriteItem::builder()
                .update(
                    Update::builder()
                        .table_name(&self.tables.users)
                        .key("pk", s(user.storage_key()))
                        .update_expression(
                            "SET password_hash = :ph, password_history = :hist, failed_attempts = :zero, \
                             lock_count = :zero, password_changed_at = :now \
                             REMOVE rk_hash, rk_expires, rk_callback, failed_lock_at, failed_lock_until",
                        )
                        .condition_expression("rk_hash = :h")
                        .expression_attribute_values(":h", s(key_hash.as_str()))
                        .expression_attribute_values(":ph", s(new_hash.as_phc()))
                        .expression_attribute_values(":hist", items::history_value(history))
                        .expression_attribute_values(":zero", n(0))
                        .expression_attribute_values(":now", n(now.0))
                        .build()
                        .context("update user")?,
                )
                .build(),
        ];
        self.transact(ops, "TransactWriteItems consume key").await
    }

    async fn transact(&self, ops: Vec<TransactWriteItem>, what: &str) -> anyhow::Result<Write> {
        match self
            .ddb
            .transact_write_items()
            .set_transact_items(Some(ops))
            .send()
            .await
        {
            Ok(_) => Ok(Write::Done),
            Err(e) => {
                if let Some(TransactWriteItemsError::TransactionCanceledException(c)) =
                    e.as_service_error()
                {
                    if c.cancellation_reasons()
                        .iter()
                        .any(|r| r.code() == Some("ConditionalCheckFailed"))
                    {
                        return Ok(Write::Conflict);
                    }
                }
                Err(sdk_err(e, what))
            }
        }
    }
}

/// Re-exported so tools built on the core crate need not depend on the SDK crate.
pub use aws_sdk_dynamodb::Client as DynamoClient;
