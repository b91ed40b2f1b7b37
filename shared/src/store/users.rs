//! Writes of a user's lock state: whatever a transition of `model::lock`
//! decided, stored with one update that requires the stored state to be still
//! the one the decision was made on. On a conflict the caller gets the user as
//! it is now and decides again; no lock rule is written here.

use std::collections::HashMap;

use anyhow::Context;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{
    AttributeValue, ReturnValuesOnConditionCheckFailure, TransactWriteItem,
};

use super::base::{conditional, Saved, Store, Write};
use super::items::{self, lock_attributes, lock_unchanged, n, s};
use crate::model::account::User;
use crate::model::domain::{TenantDomain, UserRef};
use crate::model::lock::Persist;
use crate::model::outbox::OutboxMail;
use crate::model::password::PasswordHash;
use crate::model::time::UnixTime;
use crate::outbound::aws::sdk_err;

/// What a login's write carries besides the lock state.
#[derive(Debug, Clone, Copy)]
pub struct LoginWrite {
    /// The password was right: the write holds only while the stored hash is
    /// still the one it was checked against (a reset meanwhile makes it fail).
    pub right: bool,
    pub now: UnixTime,
}

/// An update expression under construction.
#[derive(Default)]
pub(crate) struct Update {
    set: Vec<String>,
    remove: Vec<String>,
    values: HashMap<String, AttributeValue>,
}

impl Update {
    pub(crate) fn set(&mut self, attr: &str, v: AttributeValue) {
        // `:set_` keeps new values apart from the values conditions compare with.
        self.set.push(format!("{attr} = :set_{attr}"));
        self.values.insert(format!(":set_{attr}"), v);
    }

    pub(crate) fn remove(&mut self, attr: &str) {
        self.remove.push(attr.to_string());
    }

    /// The new lock state, whole.
    pub(crate) fn lock(&mut self, persist: &Persist) {
        if let Persist::Write(state) = persist {
            let (set, remove) = lock_attributes(state);
            for (k, v) in set {
                self.set(&k, v);
            }
            for k in remove {
                self.remove(k);
            }
        }
    }

    pub(crate) fn value(&mut self, name: &str, v: AttributeValue) {
        self.values.insert(name.to_string(), v);
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.set.is_empty() && self.remove.is_empty()
    }

    pub(crate) fn expression(&self) -> String {
        let mut e = String::new();
        if !self.set.is_empty() {
            e.push_str("SET ");
            e.push_str(&self.set.join(", "));
        }
        if !self.remove.is_empty() {
            e.push_str(" REMOVE ");
            e.push_str(&self.remove.join(", "));
        }
        e
    }

    pub(crate) fn values(self) -> HashMap<String, AttributeValue> {
        self.values
    }
}

impl Store {
    /// Stores a login's decision on `user` (as read): nothing, a confirmation,
    /// or the new lock state, with the login's bookkeeping.
    pub async fn save_login(
        &self,
        user: &User,
        persist: &Persist,
        login: LoginWrite,
        mail: Option<&OutboxMail>,
    ) -> anyhow::Result<Saved> {
        if matches!(persist, Persist::Nothing) {
            return Ok(Saved::Done);
        }
        let mut u = Update::default();
        u.lock(persist);
        u.set("last_login_at", n(login.now.0));
        let checked = login.right.then(|| {
            u.value(":checked_hash", s(user.password_hash.as_phc()));
            "password_hash = :checked_hash"
        });
        self.update_user(user, u, checked, mail, "UpdateItem login")
            .await
    }

    /// Replaces the hash a right password was just checked against with a
    /// stronger one, unless the password changed meanwhile (then nothing).
    pub async fn upgrade_hash(
        &self,
        user: &User,
        checked: &PasswordHash,
        stronger: &PasswordHash,
    ) -> anyhow::Result<Write> {
        let res = self
            .client()
            .update_item()
            .table_name(&self.tables().users)
            .key("pk", s(user.user_ref.storage_key()))
            .update_expression("SET password_hash = :new")
            .condition_expression("password_hash = :checked")
            .expression_attribute_values(":new", s(stronger.as_phc()))
            .expression_attribute_values(":checked", s(checked.as_phc()))
            .send()
            .await;
        Ok(conditional(res, "UpdateItem upgrade hash")?.map_or(Write::Conflict, |_| Write::Done))
    }

    /// Every user of a tenant (an operator's scan: DynamoDB reads the whole
    /// table, a tenant's items are picked by their key prefix).
    pub async fn tenant_users(&self, tenant: &TenantDomain) -> anyhow::Result<Vec<User>> {
        let mut found = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .client()
                .scan()
                .table_name(&self.tables().users)
                .filter_expression("begins_with(pk, :tenant)")
                .expression_attribute_values(":tenant", s(format!("{}#", tenant.as_str())))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| sdk_err(e, "Scan users"))?;
            for item in out.items.unwrap_or_default() {
                found.push(items::user_from_item(&item)?);
            }
            match out.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok(found),
            }
        }
    }

    /// Deletes a user and the item of a recovery key under way. `Conflict` when
    /// there is no such user.
    pub async fn delete_user(&self, user: &UserRef) -> anyhow::Result<Write> {
        let res = self
            .client()
            .delete_item()
            .table_name(&self.tables().users)
            .key("pk", s(user.storage_key()))
            .condition_expression("attribute_exists(pk)")
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllOld)
            .send()
            .await;
        let Some(out) = conditional(res, "DeleteItem user")? else {
            return Ok(Write::Conflict);
        };
        let old = out
            .attributes
            .map(|a| items::user_from_item(&a))
            .transpose()?;
        if let Some(r) = old.and_then(|u| u.recovery) {
            self.client()
                .delete_item()
                .table_name(&self.tables().keys)
                .key("pk", s(r.key_hash.as_str()))
                .send()
                .await
                .map_err(|e| sdk_err(e, "DeleteItem key"))?;
        }
        Ok(Write::Done)
    }

    /// Stores an admin lock or unlock decided on `user` (as read). An admin
    /// lock also ends any recovery under way, whose key item then goes too;
    /// the write requires the recovery to be still the one read, so a key
    /// issued meanwhile is found and revoked on the next round.
    pub async fn save_admin_lock(
        &self,
        user: &User,
        persist: &Persist,
        locking: bool,
        mail: Option<&OutboxMail>,
    ) -> anyhow::Result<Saved> {
        let mut u = Update::default();
        u.lock(persist);
        if locking && !user.lock.is_admin_locked() {
            // A new admin lock: tokens issued before it stop being active.
            u.set("cred_ver", n(user.credential_version.saturating_add(1)));
        }
        let revoked = user.recovery.as_ref().filter(|_| locking);
        if revoked.is_some() {
            for attr in ["rk_hash", "rk_expires", "rk_callback"] {
                u.remove(attr);
            }
        }
        if u.is_empty() {
            // Already locked as asked, and no recovery to end: an admin-locked
            // account gets no new key (issue_key is conditioned on the lock state).
            return Ok(Saved::Done);
        }
        let recovery_as_read = match (locking, &user.recovery) {
            (false, _) => None,
            (true, Some(r)) => {
                u.value(":read_rk", s(r.key_hash.as_str()));
                Some("rk_hash = :read_rk")
            }
            (true, None) => Some("attribute_not_exists(rk_hash)"),
        };
        let saved = self
            .update_user(user, u, recovery_as_read, mail, "UpdateItem admin lock")
            .await?;
        if let (Saved::Done, Some(r)) = (&saved, revoked) {
            // The user item no longer names this key, so it cannot be used; the item goes too.
            if let Err(e) = self
                .client()
                .delete_item()
                .table_name(&self.tables().keys)
                .key("pk", s(r.key_hash.as_str()))
                .send()
                .await
            {
                tracing::warn!(error = %sdk_err(e, "DeleteItem key"), "revoked key item left for TTL");
            }
        }
        Ok(saved)
    }

    /// One update of `user`'s item, conditioned on its lock state being still
    /// the one read (and on `extra`); with the mail that reports it, in one
    /// transaction, when there is one.
    async fn update_user(
        &self,
        user: &User,
        mut u: Update,
        extra: Option<&str>,
        mail: Option<&OutboxMail>,
        what: &str,
    ) -> anyhow::Result<Saved> {
        let (unchanged, version) = lock_unchanged(&user.lock);
        u.value(":read_lock_ver", version);
        let mut condition = format!("attribute_exists(pk) AND {unchanged}");
        if let Some(extra) = extra {
            condition.push_str(" AND ");
            condition.push_str(extra);
        }
        if let Some(mail) = mail {
            let update = aws_sdk_dynamodb::types::Update::builder()
                .table_name(&self.tables().users)
                .key("pk", s(user.user_ref.storage_key()))
                .update_expression(u.expression())
                .condition_expression(condition)
                .set_expression_attribute_values(Some(u.values()))
                .return_values_on_condition_check_failure(
                    ReturnValuesOnConditionCheckFailure::AllOld,
                )
                .build()
                .context("update user")?;
            let ops = vec![
                TransactWriteItem::builder().update(update).build(),
                self.put_mail(mail)?,
            ];
            return match self.transact(ops, what).await? {
                Ok(()) => Ok(Saved::Done),
                Err(mut found) => {
                    let item = found.get_mut(0).and_then(Option::take).flatten();
                    self.conflict(user, item).await
                }
            };
        }
        let res = self
            .client()
            .update_item()
            .table_name(&self.tables().users)
            .key("pk", s(user.user_ref.storage_key()))
            .update_expression(u.expression())
            .condition_expression(condition)
            .set_expression_attribute_values(Some(u.values()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match res {
            Ok(_) => Ok(Saved::Done),
            Err(e) => {
                let now = match e.as_service_error() {
                    Some(UpdateItemError::ConditionalCheckFailedException(c)) => c.item().cloned(),
                    _ => return Err(sdk_err(e, what)),
                };
                self.conflict(user, now).await
            }
        }
    }

    /// The user as stored now, after a failed condition: from the failure's
    /// own answer where the store gave it, else read again.
    pub(crate) async fn conflict(
        &self,
        user: &User,
        item: Option<HashMap<String, AttributeValue>>,
    ) -> anyhow::Result<Saved> {
        let now = match item {
            Some(item) => Some(items::user_from_item(&item)?),
            None => self.get_user(&user.user_ref).await?,
        };
        Ok(Saved::Conflict(now.map(Box::new)))
    }
}
