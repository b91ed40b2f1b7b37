//! Recovery keys: issued, refused, used and revoked with transactions that
//! require the user item to be still as the decision found it.

use anyhow::Context;
use aws_sdk_dynamodb::types::{
    Delete, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem,
};

use super::base::{Saved, Store, Write};
use super::items::KeyRecord;
use super::items::{self, lock_unchanged, n, s};
use super::users::Update;
use crate::model::account::User;
use crate::model::domain::UserRef;
use crate::model::key::{KeyHash, MAX_REFUSED_TRIES};
use crate::model::lock::Persist;
use crate::model::outbox::OutboxMail;
use crate::model::password::PasswordHash;
use crate::model::recovery::RecoveryWindow;
use crate::model::time::UnixTime;

/// What [`Store::issue_key`] writes: a new key replacing the user's current one.
pub struct IssueKey<'a> {
    /// The user as read: the write requires its recovery, window and lock state unchanged.
    pub user: &'a User,
    pub key_hash: &'a KeyHash,
    pub expires_at: UnixTime,
    pub callback: &'a str,
    pub now: UnixTime,
    /// The hourly window after this request; `None`: not counted (an admin's `notify=false`).
    pub window: Option<RecoveryWindow>,
    /// The reset mail, into the outbox in the same transaction (`None`: the key
    /// goes to an admin instead).
    pub mail: Option<&'a OutboxMail>,
}

/// What a password reset writes with the key it uses.
pub struct Reset<'a> {
    pub new_hash: &'a PasswordHash,
    /// The password history after this reset.
    pub history: &'a [PasswordHash],
    /// The lock state the reset decided.
    pub lock: &'a Persist,
    /// The "password changed" notice, written with the change.
    pub notice: &'a OutboxMail,
}

/// What using a key found.
#[derive(Debug)]
pub enum Consumed {
    Done,
    /// The key is gone: used or revoked by someone else first.
    KeyGone,
    /// The user changed since it was read: as it is now.
    Changed(Option<Box<User>>),
}

impl Store {
    pub async fn get_key(&self, hash: &KeyHash) -> anyhow::Result<Option<KeyRecord>> {
        let item = self
            .get(&self.tables().keys, hash.as_str(), "GetItem key")
            .await?;
        item.as_ref().map(items::key_from_item).transpose()
    }

    /// Stores a new key and makes it the user's only working one, in one
    /// transaction: the old key item is deleted, and the user item must still
    /// be as read (same key, same hourly window, same lock state).
    pub async fn issue_key(&self, plan: &IssueKey<'_>) -> anyhow::Result<Saved> {
        let user = plan.user;
        let key_item = items::key_to_item(plan.key_hash, user, plan.expires_at, plan.now);
        let put_key = Put::builder()
            .table_name(&self.tables().keys)
            .set_item(Some(key_item))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .context("put key")?;

        let mut u = Update::default();
        u.set("rk_hash", s(plan.key_hash.as_str()));
        u.set("rk_expires", n(plan.expires_at.0));
        u.set("rk_callback", s(plan.callback));
        let (unchanged, version) = lock_unchanged(&user.lock);
        u.value(":read_lock_ver", version);
        let mut cond = vec!["attribute_exists(pk)", unchanged];
        match &user.recovery {
            Some(old) => {
                cond.push("rk_hash = :old_rk");
                u.value(":old_rk", s(old.key_hash.as_str()));
            }
            None => cond.push("attribute_not_exists(rk_hash)"),
        }
        if let Some(w) = plan.window {
            u.set("rl_hour", n(w.hour));
            u.set("rl_count", n(w.count));
            let read = user.recovery_window;
            if read == RecoveryWindow::default() {
                cond.push("attribute_not_exists(rl_hour)");
            } else {
                cond.push("rl_hour = :old_rl_hour AND rl_count = :old_rl_count");
                u.value(":old_rl_hour", n(read.hour));
                u.value(":old_rl_count", n(read.count));
            }
        }
        let update_user = aws_sdk_dynamodb::types::Update::builder()
            .table_name(&self.tables().users)
            .key("pk", s(user.user_ref.storage_key()))
            .update_expression(u.expression())
            .condition_expression(cond.join(" AND "))
            .set_expression_attribute_values(Some(u.values()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
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
                            .table_name(&self.tables().keys)
                            .key("pk", s(old.key_hash.as_str()))
                            .build()
                            .context("delete old key")?,
                    )
                    .build(),
            );
        }
        if let Some(mail) = plan.mail {
            ops.push(self.put_mail(mail)?);
        }
        match self.transact(ops, "TransactWriteItems issue key").await? {
            Ok(()) => Ok(Saved::Done),
            Err(mut found) => {
                let item = found.get_mut(1).and_then(Option::take).flatten();
                self.conflict(user, item).await
            }
        }
    }

    /// Takes back a key, if it is still the user's.
    pub async fn revoke_key(&self, user: &UserRef, key_hash: &KeyHash) -> anyhow::Result<Write> {
        let ops = vec![
            TransactWriteItem::builder()
                .delete(
                    Delete::builder()
                        .table_name(&self.tables().keys)
                        .key("pk", s(key_hash.as_str()))
                        .build()
                        .context("delete key")?,
                )
                .build(),
            TransactWriteItem::builder()
                .update(
                    aws_sdk_dynamodb::types::Update::builder()
                        .table_name(&self.tables().users)
                        .key("pk", s(user.storage_key()))
                        .update_expression("REMOVE rk_hash, rk_expires, rk_callback")
                        .condition_expression("rk_hash = :h")
                        .expression_attribute_values(":h", s(key_hash.as_str()))
                        .build()
                        .context("update user")?,
                )
                .build(),
        ];
        Ok(
            match self.transact(ops, "TransactWriteItems revoke key").await? {
                Ok(()) => Write::Done,
                Err(_) => Write::Conflict,
            },
        )
    }

    /// Counts one refused password against a key read with `read` refusals;
    /// `None` when the key is gone or has had its [`MAX_REFUSED_TRIES`] already,
    /// else at least the count after this one (`read + 1`; concurrent refusals
    /// may have added more, and the stored count never passes the limit). A
    /// one-operation transaction rather than an UpdateItem: set-password already
    /// links transactions, and another operation costs its bootstrap ~20 KB.
    pub async fn count_refusal(&self, hash: &KeyHash, read: u32) -> anyhow::Result<Option<u32>> {
        let op = TransactWriteItem::builder()
            .update(
                aws_sdk_dynamodb::types::Update::builder()
                    .table_name(&self.tables().keys)
                    .key("pk", s(hash.as_str()))
                    .update_expression("ADD refused :one")
                    .condition_expression(
                        "attribute_exists(pk) AND (attribute_not_exists(refused) OR refused < :max)",
                    )
                    .expression_attribute_values(":one", n(1))
                    .expression_attribute_values(":max", n(MAX_REFUSED_TRIES))
                    .build()
                    .context("count refusal")?,
            )
            .build();
        Ok(
            match self
                .transact(vec![op], "TransactWriteItems key refusal")
                .await?
            {
                Ok(()) => Some(read.saturating_add(1)),
                Err(_) => None,
            },
        )
    }

    /// Uses a key once: deletes it (it must still exist) and sets the new
    /// password on the user, who must still hold that key and be as read; the
    /// lock state becomes what the reset decided. Of two concurrent calls, one
    /// finds the key gone.
    pub async fn consume_key(
        &self,
        user: &User,
        key_hash: &KeyHash,
        reset: Reset<'_>,
        now: UnixTime,
    ) -> anyhow::Result<Consumed> {
        let Reset {
            new_hash,
            history,
            lock,
            notice: mail,
        } = reset;
        let mut u = Update::default();
        u.set("password_hash", s(new_hash.as_phc()));
        u.set("password_history", items::history_value(history));
        u.set("password_changed_at", n(now.0));
        // Tokens issued before the reset stop being active (introspection).
        u.set("cred_ver", n(user.credential_version.saturating_add(1)));
        u.lock(lock);
        for attr in ["rk_hash", "rk_expires", "rk_callback"] {
            u.remove(attr);
        }
        let (unchanged, version) = lock_unchanged(&user.lock);
        u.value(":read_lock_ver", version);
        u.value(":h", s(key_hash.as_str()));
        let ops = vec![
            TransactWriteItem::builder()
                .delete(
                    Delete::builder()
                        .table_name(&self.tables().keys)
                        .key("pk", s(key_hash.as_str()))
                        .condition_expression("attribute_exists(pk)")
                        .build()
                        .context("delete key")?,
                )
                .build(),
            TransactWriteItem::builder()
                .update(
                    aws_sdk_dynamodb::types::Update::builder()
                        .table_name(&self.tables().users)
                        .key("pk", s(user.user_ref.storage_key()))
                        .update_expression(u.expression())
                        .condition_expression(format!("rk_hash = :h AND {unchanged}"))
                        .set_expression_attribute_values(Some(u.values()))
                        .return_values_on_condition_check_failure(
                            ReturnValuesOnConditionCheckFailure::AllOld,
                        )
                        .build()
                        .context("update user")?,
                )
                .build(),
            // The "password changed" notice, with the change.
            self.put_mail(mail)?,
        ];
        match self.transact(ops, "TransactWriteItems consume key").await? {
            Ok(()) => Ok(Consumed::Done),
            Err(found) => match found.as_slice() {
                [None, Some(item), ..] => match self.conflict(user, item.clone()).await? {
                    Saved::Conflict(now) => Ok(Consumed::Changed(now)),
                    Saved::Done => Ok(Consumed::Changed(None)),
                },
                _ => Ok(Consumed::KeyGone),
            },
        }
    }
}
