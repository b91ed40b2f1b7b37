//! Items <-> model types. A stored item that does not parse is an error
//! (corrupt data), never silently a default. Also how a lock state is written
//! and how a write requires the state it was computed from: attribute names and
//! values only, no rule (the rules are the model's).

use std::collections::{BTreeMap, HashMap};

use anyhow::{anyhow, Context};
use aws_sdk_dynamodb::types::AttributeValue;
use uuid::Uuid;

use crate::model::account::{ActiveRecovery, User};
use crate::model::domain::{Email, Realm, Role, TenantDomain, UserRef, Username};
use crate::model::key::KeyHash;
use crate::model::lock::{AdminLock, FailedLock, LockState};
use crate::model::password::PasswordHash;
use crate::model::recovery::RecoveryWindow;
use crate::model::templates::{MailTemplate, TemplateName};
use crate::model::time::UnixTime;

pub(crate) type Item = HashMap<String, AttributeValue>;

pub(crate) fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}
pub(crate) fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn get_s<'a>(item: &'a Item, k: &str) -> anyhow::Result<&'a str> {
    opt_s(item, k)?.ok_or_else(|| anyhow!("attribute {k} missing"))
}

fn opt_s<'a>(item: &'a Item, k: &str) -> anyhow::Result<Option<&'a str>> {
    match item.get(k) {
        None => Ok(None),
        Some(AttributeValue::S(v)) => Ok(Some(v)),
        Some(_) => Err(anyhow!("attribute {k} is not a string")),
    }
}

fn opt_n(item: &Item, k: &str) -> anyhow::Result<Option<i64>> {
    match item.get(k) {
        None => Ok(None),
        Some(AttributeValue::N(v)) => v
            .parse()
            .map(Some)
            .with_context(|| format!("attribute {k} is not an integer")),
        Some(_) => Err(anyhow!("attribute {k} is not a number")),
    }
}

/// A count: absent is 0; negative or out of range is corrupt data, not a 0.
pub(crate) fn count<T: TryFrom<i64>>(item: &Item, k: &str) -> anyhow::Result<T> {
    let v = opt_n(item, k)?.unwrap_or(0);
    T::try_from(v).map_err(|_| anyhow!("attribute {k} is out of range: {v}"))
}

/// Splits a storage key `tenant#REALM#username` back into its parts.
fn parse_pk(pk: &str, username: &str) -> anyhow::Result<UserRef> {
    let mut parts = pk.splitn(3, '#');
    let (Some(t), Some(r), Some(_)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(anyhow!("malformed user key"));
    };
    Ok(UserRef {
        tenant: TenantDomain::parse(t).map_err(|e| anyhow!(e))?,
        realm: Realm::parse(r).map_err(|e| anyhow!(e))?,
        username: Username::parse(username).map_err(|e| anyhow!(e))?,
    })
}

pub fn user_to_item(u: &User, now: UnixTime) -> Item {
    let mut item: Item = HashMap::from([
        ("pk".into(), s(u.user_ref.storage_key())),
        ("user_id".into(), s(u.id.to_string())),
        ("username".into(), s(u.user_ref.username.as_str())),
        ("email".into(), s(u.email.as_str())),
        (
            "roles".into(),
            AttributeValue::L(u.roles.iter().map(|r| s(r.as_str())).collect()),
        ),
        ("password_hash".into(), s(u.password_hash.as_phc())),
        (
            "password_history".into(),
            history_value(&u.password_history),
        ),
        ("created_at".into(), n(now.0)),
        ("cred_ver".into(), n(u.credential_version)),
    ]);
    let (set, _) = lock_attributes(&u.lock);
    item.extend(set);
    item
}

/// The attributes that hold a lock state: what to set, and what to remove.
pub(crate) fn lock_attributes(l: &LockState) -> (Vec<(String, AttributeValue)>, Vec<&'static str>) {
    let mut set = vec![
        ("lock_ver".to_string(), n(l.version)),
        ("failed_attempts".to_string(), n(l.failed_attempts)),
        ("lock_count".to_string(), n(l.lock_count)),
    ];
    let mut remove = Vec::new();
    match &l.admin_lock {
        Some(a) => {
            set.push(("admin_lock_at".into(), n(a.at.0)));
            set.push(("admin_lock_reason".into(), s(a.reason.clone())));
        }
        None => remove.extend(["admin_lock_at", "admin_lock_reason"]),
    }
    match &l.failed_lock {
        Some(f) => {
            set.push(("failed_lock_at".into(), n(f.at.0)));
            match f.until {
                Some(u) => set.push(("failed_lock_until".into(), n(u.0))),
                None => remove.push("failed_lock_until"),
            }
        }
        None => remove.extend(["failed_lock_at", "failed_lock_until"]),
    }
    (set, remove)
}

/// A condition that holds while the stored lock state is still `read`'s version
/// (version 0 is also an item written before versions existed).
pub(crate) fn lock_unchanged(read: &LockState) -> (&'static str, AttributeValue) {
    if read.version == 0 {
        (
            "(attribute_not_exists(lock_ver) OR lock_ver = :read_lock_ver)",
            n(0),
        )
    } else {
        ("lock_ver = :read_lock_ver", n(read.version))
    }
}

pub(crate) fn history_value(h: &[PasswordHash]) -> AttributeValue {
    AttributeValue::L(h.iter().map(|h| s(h.as_phc())).collect())
}

pub(crate) fn user_from_item(item: &Item) -> anyhow::Result<User> {
    let user_ref = parse_pk(get_s(item, "pk")?, get_s(item, "username")?)?;
    let roles = match item.get("roles") {
        None => Vec::new(),
        Some(AttributeValue::L(l)) => l
            .iter()
            .map(|v| {
                v.as_s()
                    .ok()
                    .and_then(|r| Role::parse(r))
                    .ok_or_else(|| anyhow!("roles holds an unknown role"))
            })
            .collect::<anyhow::Result<_>>()?,
        Some(_) => return Err(anyhow!("roles is not a list")),
    };
    let admin_lock = match opt_n(item, "admin_lock_at")? {
        Some(at) => Some(AdminLock {
            at: UnixTime(at),
            reason: opt_s(item, "admin_lock_reason")?
                .unwrap_or_default()
                .to_string(),
        }),
        None => None,
    };
    let failed_lock = match opt_n(item, "failed_lock_at")? {
        Some(at) => Some(FailedLock {
            at: UnixTime(at),
            until: opt_n(item, "failed_lock_until")?.map(UnixTime),
        }),
        None => None,
    };
    let recovery = match (opt_s(item, "rk_hash")?, opt_n(item, "rk_expires")?) {
        (Some(h), Some(exp)) => Some(ActiveRecovery {
            key_hash: KeyHash::from_stored(h.to_string()),
            expires_at: UnixTime(exp),
            callback: opt_s(item, "rk_callback")?.unwrap_or_default().to_string(),
        }),
        (None, None) => None,
        _ => {
            return Err(anyhow!(
                "a recovery key without its expiry, or the other way round"
            ))
        }
    };
    Ok(User {
        id: Uuid::parse_str(get_s(item, "user_id")?).context("user_id")?,
        email: Email::from_stored(get_s(item, "email")?.to_string()),
        roles,
        password_hash: PasswordHash::from_phc(get_s(item, "password_hash")?.to_string()),
        password_history: match item.get("password_history") {
            None => Vec::new(),
            Some(AttributeValue::L(l)) => l
                .iter()
                .map(|v| {
                    v.as_s()
                        .map(|h| PasswordHash::from_phc(h.clone()))
                        .map_err(|_| anyhow!("password_history entry"))
                })
                .collect::<anyhow::Result<_>>()?,
            // An empty history would quietly switch the history rule off.
            Some(_) => return Err(anyhow!("password_history is not a list")),
        },
        lock: LockState {
            version: count(item, "lock_ver")?,
            admin_lock,
            failed_lock,
            failed_attempts: count(item, "failed_attempts")?,
            lock_count: count(item, "lock_count")?,
        },
        recovery,
        recovery_window: RecoveryWindow {
            hour: opt_n(item, "rl_hour")?.unwrap_or(0),
            count: count(item, "rl_count")?,
        },
        credential_version: count(item, "cred_ver")?,
        user_ref,
    })
}

/// How long after expiry DynamoDB's TTL may delete a key item.
pub const KEY_TTL_GRACE_SECS: i64 = 86_400;

/// A stored recovery key: whose it is, until when it works, how often a
/// password was refused with it.
#[derive(Debug, Clone)]
pub struct KeyRecord {
    pub user: UserRef,
    pub user_id: Uuid,
    pub expires_at: UnixTime,
    pub refused: u32,
}

pub fn key_to_item(hash: &KeyHash, user: &User, expires_at: UnixTime, now: UnixTime) -> Item {
    HashMap::from([
        ("pk".into(), s(hash.as_str())),
        ("user_pk".into(), s(user.user_ref.storage_key())),
        ("username".into(), s(user.user_ref.username.as_str())),
        ("user_id".into(), s(user.id.to_string())),
        ("scenario".into(), s("NOTIFICATION_BASED_PW_RECOVERY")),
        ("created_at".into(), n(now.0)),
        ("expires_at".into(), n(expires_at.0)),
        // Expiry is checked on read. TTL removes the item a day later, so an
        // expired key is still found and answered as expired (18002), not unknown.
        (
            "ttl".into(),
            n(expires_at.0.saturating_add(KEY_TTL_GRACE_SECS)),
        ),
    ])
}

pub(crate) fn key_from_item(item: &Item) -> anyhow::Result<KeyRecord> {
    Ok(KeyRecord {
        user: parse_pk(get_s(item, "user_pk")?, get_s(item, "username")?)?,
        user_id: Uuid::parse_str(get_s(item, "user_id")?).context("user_id")?,
        expires_at: UnixTime(
            opt_n(item, "expires_at")?.ok_or_else(|| anyhow!("expires_at missing"))?,
        ),
        refused: count(item, "refused")?,
    })
}

pub(crate) fn settings_from_item(item: &Item) -> anyhow::Result<BTreeMap<String, String>> {
    match item.get("settings") {
        None => Ok(BTreeMap::new()),
        Some(AttributeValue::M(m)) => m
            .iter()
            .map(|(k, v)| match v {
                AttributeValue::S(v) => Ok((k.clone(), v.clone())),
                _ => Err(anyhow!("setting {k} is not a string")),
            })
            .collect(),
        Some(_) => Err(anyhow!("settings is not a map")),
    }
}

/// The tenant's own mail templates, stored beside its settings as
/// `templates: {Name: {subject, text, html}}`.
pub(crate) fn templates_from_item(
    item: &Item,
) -> anyhow::Result<HashMap<TemplateName, MailTemplate>> {
    let Some(AttributeValue::M(m)) = item.get("templates") else {
        return Ok(HashMap::new());
    };
    m.iter()
        .map(|(name, v)| {
            let name =
                TemplateName::parse(name).ok_or_else(|| anyhow!("unknown template {name}"))?;
            let AttributeValue::M(t) = v else {
                return Err(anyhow!("template {} is not a map", name.as_str()));
            };
            Ok((
                name,
                MailTemplate {
                    subject: get_s(t, "subject")?.to_string(),
                    text: get_s(t, "text")?.to_string(),
                    html: get_s(t, "html")?.to_string(),
                },
            ))
        })
        .collect()
}

pub(crate) fn templates_value(templates: &HashMap<TemplateName, MailTemplate>) -> AttributeValue {
    AttributeValue::M(
        templates
            .iter()
            .map(|(name, t)| {
                let fields = HashMap::from([
                    ("subject".to_string(), s(t.subject.clone())),
                    ("text".to_string(), s(t.text.clone())),
                    ("html".to_string(), s(t.html.clone())),
                ]);
                (name.as_str().to_string(), AttributeValue::M(fields))
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> User {
        let mut u = User::new(
            UserRef {
                tenant: TenantDomain::default_tenant(),
                realm: Realm::primary(),
                username: Username::parse("Kim").unwrap(),
            },
            Email::parse("kim@example.com").unwrap(),
            true,
            PasswordHash::from_phc("$argon2id$x".into()),
        );
        u.password_history = vec![PasswordHash::from_phc("$argon2id$old".into())];
        u.lock = LockState {
            version: 9,
            admin_lock: Some(AdminLock {
                at: UnixTime(5),
                reason: "r".into(),
            }),
            failed_lock: Some(FailedLock {
                at: UnixTime(6),
                until: Some(UnixTime(7)),
            }),
            failed_attempts: 3,
            lock_count: 1,
        };
        u
    }

    #[test]
    fn user_round_trips() {
        let u = user();
        let back = user_from_item(&user_to_item(&u, UnixTime(1))).unwrap();
        assert_eq!(back.user_ref, u.user_ref);
        assert_eq!(back.user_ref.username.as_str(), "Kim");
        assert_eq!(back.id, u.id);
        assert_eq!(back.roles, u.roles);
        assert_eq!(back.lock, u.lock);
        assert_eq!(back.password_hash, u.password_hash);
        assert_eq!(back.password_history, u.password_history);
    }

    #[test]
    fn corrupt_items_are_errors_not_defaults() {
        let with = |k: &str, v: AttributeValue| {
            let mut item = user_to_item(&user(), UnixTime(1));
            item.insert(k.into(), v);
            user_from_item(&item)
        };
        assert!(with("user_id", s("not-a-uuid")).is_err());
        assert!(with("failed_attempts", s("3")).is_err());
        assert!(
            with("failed_attempts", n(-1)).is_err(),
            "a negative count is corrupt"
        );
        assert!(with("lock_count", n(1u64 << 40)).is_err());
        assert!(with("lock_ver", n("x")).is_err());
        assert!(with("roles", s("admin")).is_err(), "not a list");
        assert!(
            with("roles", AttributeValue::L(vec![s("root")])).is_err(),
            "unknown role"
        );
        assert!(with("password_history", s("x")).is_err());
        assert!(
            with("rk_hash", s("abc")).is_err(),
            "a key without its expiry"
        );
    }

    #[test]
    fn a_lock_state_is_written_whole() {
        let (set, remove) = lock_attributes(&LockState::default());
        let names: Vec<_> = set.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, ["lock_ver", "failed_attempts", "lock_count"]);
        assert_eq!(
            remove,
            [
                "admin_lock_at",
                "admin_lock_reason",
                "failed_lock_at",
                "failed_lock_until"
            ]
        );
    }
}
