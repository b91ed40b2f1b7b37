//! Lock bookkeeping as single conditional updates, so concurrent logins are
//! all counted and an account locks exactly once (the transitions mirror
//! [`crate::lockout::LockState`]).

use anyhow::Context;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};

use aws_sdk_dynamodb::operation::update_item::UpdateItemOutput;

use super::{conditional, items, n, s, sdk_err, Store, Write};
use std::net::IpAddr;

use crate::account::{RecoveryWindow, User};
use crate::domain::{TenantDomain, UserRef};
use crate::password::PasswordHash;
use crate::time::UnixTime;

/// The account is open at `:now`: no admin lock, and no failed-login lock still running.
const OPEN: &str = "attribute_exists(pk) AND attribute_not_exists(admin_lock_at) \
                    AND (attribute_not_exists(failed_lock_at) OR failed_lock_until <= :now)";

/// What [`Store::add_failure`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureCount {
    /// Counted atomically: the count after this failure, and the locks so far.
    Counted {
        failed_attempts: u32,
        lock_count: u32,
    },
    /// The account is locked (or gone): nothing was counted.
    NotOpen,
}

/// The account as an `ALL_OLD` update found it; `None` when the condition (it exists) failed.
fn user_before(out: Option<UpdateItemOutput>) -> anyhow::Result<Option<User>> {
    out.map(|o| {
        items::user_from_item(&o.attributes.unwrap_or_default()).context("user before update")
    })
    .transpose()
}

fn num(item: &std::collections::HashMap<String, AttributeValue>, k: &str) -> u32 {
    item.get(k)
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse::<i64>().ok())
        .map_or(0, |v| u32::try_from(v.max(0)).unwrap_or(u32::MAX))
}

impl Store {
    /// Adds one failed login, if the account is open; a lock that ended by time is cleared.
    pub async fn add_failure(&self, user: &UserRef, now: UnixTime) -> anyhow::Result<FailureCount> {
        let res = self
            .client()
            .update_item()
            .table_name(&self.tables().users)
            .key("pk", s(user.storage_key()))
            .update_expression("ADD failed_attempts :one REMOVE failed_lock_at, failed_lock_until")
            .condition_expression(OPEN)
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":now", n(now.0))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        Ok(match conditional(res, "UpdateItem add failure")? {
            Some(out) => {
                let item = out.attributes.unwrap_or_default();
                FailureCount::Counted {
                    failed_attempts: num(&item, "failed_attempts"),
                    lock_count: num(&item, "lock_count"),
                }
            }
            None => FailureCount::NotOpen,
        })
    }

    /// Locks after `max` failures. Of concurrent callers past the threshold, exactly one gets `Done`.
    pub async fn lock_after_failures(
        &self,
        user: &UserRef,
        max: u32,
        until: Option<UnixTime>,
        now: UnixTime,
    ) -> anyhow::Result<Write> {
        let mut update = "SET failed_lock_at = :now, failed_attempts = :zero".to_string();
        if until.is_some() {
            update.push_str(", failed_lock_until = :until");
        }
        update.push_str(" ADD lock_count :one");
        let mut req = self
            .client()
            .update_item()
            .table_name(&self.tables().users)
            .key("pk", s(user.storage_key()))
            .update_expression(update)
            .condition_expression(
                "attribute_exists(pk) AND attribute_not_exists(failed_lock_at) \
                 AND attribute_not_exists(admin_lock_at) AND failed_attempts >= :max",
            )
            .expression_attribute_values(":now", n(now.0))
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":max", n(max));
        if let Some(u) = until {
            req = req.expression_attribute_values(":until", n(u.0));
        }
        Ok(conditional(req.send().await, "UpdateItem lock")?
            .map_or(Write::Conflict, |_| Write::Done))
    }

    /// A good login on an open account: clears the counters (and stores an
    /// upgraded hash). `Conflict` when the account locked in the meantime.
    pub async fn record_success(
        &self,
        user: &UserRef,
        rehash: Option<&PasswordHash>,
        now: UnixTime,
    ) -> anyhow::Result<Write> {
        let mut update =
            "SET failed_attempts = :zero, lock_count = :zero, last_login_at = :now".to_string();
        if rehash.is_some() {
            update.push_str(", password_hash = :ph");
        }
        update.push_str(" REMOVE failed_lock_at, failed_lock_until");
        let mut req = self
            .client()
            .update_item()
            .table_name(&self.tables().users)
            .key("pk", s(user.storage_key()))
            .update_expression(update)
            .condition_expression(OPEN)
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":now", n(now.0));
        if let Some(h) = rehash {
            req = req.expression_attribute_values(":ph", s(h.as_phc()));
        }
        Ok(conditional(req.send().await, "UpdateItem login success")?
            .map_or(Write::Conflict, |_| Write::Done))
    }

    /// Admin lock; any recovery under way is revoked with it. Returns the
    /// account as it was before, or `None` if there is no such user.
    pub async fn set_admin_lock(
        &self,
        user: &UserRef,
        reason: &str,
        now: UnixTime,
    ) -> anyhow::Result<Option<User>> {
        let res = self
            .client()
            .update_item()
            .table_name(&self.tables().users)
            .key("pk", s(user.storage_key()))
            .update_expression(
                "SET admin_lock_at = if_not_exists(admin_lock_at, :now), admin_lock_reason = :r \
                 REMOVE rk_hash, rk_expires, rk_callback",
            )
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":now", n(now.0))
            .expression_attribute_values(":r", s(reason))
            .return_values(ReturnValue::AllOld)
            .send()
            .await;
        let Some(before) = user_before(conditional(res, "UpdateItem admin lock")?)? else {
            return Ok(None);
        };
        if let Some(r) = &before.recovery {
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
        Ok(Some(before))
    }

    /// Lifts every lock and clears the counters. Returns the account as it was
    /// before, or `None` if there is no such user.
    pub async fn admin_unlock(&self, user: &UserRef) -> anyhow::Result<Option<User>> {
        let res = self
            .client()
            .update_item()
            .table_name(&self.tables().users)
            .key("pk", s(user.storage_key()))
            .update_expression(
                "SET failed_attempts = :zero, lock_count = :zero \
                 REMOVE admin_lock_at, admin_lock_reason, failed_lock_at, failed_lock_until",
            )
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":zero", n(0))
            .return_values(ReturnValue::AllOld)
            .send()
            .await;
        user_before(conditional(res, "UpdateItem admin unlock")?)
    }
}

impl Store {
    /// Counts one recovery request from `ip` in the hour of `now` and returns the
    /// count so far. One atomic `ADD`, whatever the outcome of the request.
    pub async fn count_ip_request(
        &self,
        tenant: &TenantDomain,
        ip: IpAddr,
        now: UnixTime,
    ) -> anyhow::Result<u32> {
        let hour = RecoveryWindow::hour_of(now);
        let out = self
            .client()
            .update_item()
            .table_name(&self.tables().rate_limits)
            .key("pk", s(format!("ip#{tenant}#{ip}#{hour}")))
            .update_expression("ADD n :one SET #ttl = :ttl")
            .expression_attribute_names("#ttl", "ttl")
            .expression_attribute_values(":one", n(1))
            // Kept an hour past its window, then removed by TTL.
            .expression_attribute_values(":ttl", n((hour + 2) * 3600))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(|e| sdk_err(e, "UpdateItem rate limit"))?;
        Ok(num(&out.attributes.unwrap_or_default(), "n"))
    }
}
