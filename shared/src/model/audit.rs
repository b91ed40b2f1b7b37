//! Audit records: who did what to whom, when, from where, and how it ended.
//! One fixed schema for every admin action (lock-user, and each change made
//! with `accountctl`) and every lock by failed logins, written as one log line
//! (the functions: JSON fields of a `audit` event, counted by a metric filter;
//! `accountctl`: a JSON line on stderr). Never a password, key or hash.

use serde::Serialize;

use super::domain::UserRef;
use super::time::UnixTime;

/// What was done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditAction {
    AdminLock,
    AdminUnlock,
    LockByFailedLogins,
    UserCreate,
    UserDelete,
    SettingsChange,
    TemplateChange,
    MailResend,
}

impl AuditAction {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::AdminLock => "admin_lock",
            AuditAction::AdminUnlock => "admin_unlock",
            AuditAction::LockByFailedLogins => "lock_by_failed_logins",
            AuditAction::UserCreate => "user_create",
            AuditAction::UserDelete => "user_delete",
            AuditAction::SettingsChange => "settings_change",
            AuditAction::TemplateChange => "template_change",
            AuditAction::MailResend => "mail_resend",
        }
    }

    pub const ALL: [AuditAction; 8] = [
        AuditAction::AdminLock,
        AuditAction::AdminUnlock,
        AuditAction::LockByFailedLogins,
        AuditAction::UserCreate,
        AuditAction::UserDelete,
        AuditAction::SettingsChange,
        AuditAction::TemplateChange,
        AuditAction::MailResend,
    ];
}

/// How it ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditResult {
    /// Done, and it changed something.
    Done,
    /// Done, and nothing needed changing (already locked, the same value).
    Unchanged,
    /// Refused: the actor may not do it.
    Forbidden,
    /// Refused: the subject does not exist.
    UnknownSubject,
}

impl AuditResult {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditResult::Done => "done",
            AuditResult::Unchanged => "unchanged",
            AuditResult::Forbidden => "forbidden",
            AuditResult::UnknownSubject => "unknown_subject",
        }
    }
}

// The names in a JSON line are the names in a log line: one spelling each.
impl Serialize for AuditAction {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl Serialize for AuditResult {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// One audit record. `actor` is a tenant admin (`tenant#REALM#username`), an
/// operator (`accountctl:<who it ran as>`) or `failed-logins`; `subject` is
/// the account or the tenant acted on; `source` is the caller's address, or the
/// operator's host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditRecord {
    pub audit: AuditAction,
    pub tenant: String,
    pub actor: String,
    pub subject: String,
    pub result: AuditResult,
    pub at: i64,
    pub source: String,
    /// The lock reason, the settings changed (names only), a mail id.
    pub detail: String,
}

/// How a user appears in a record: `tenant#REALM#username`, as stored.
pub fn user_label(u: &UserRef) -> String {
    u.storage_key()
}

impl AuditRecord {
    pub fn new(
        audit: AuditAction,
        tenant: impl Into<String>,
        actor: impl Into<String>,
        subject: impl Into<String>,
        result: AuditResult,
        at: UnixTime,
    ) -> Self {
        Self {
            audit,
            tenant: tenant.into(),
            actor: actor.into(),
            subject: subject.into(),
            result,
            at: at.0,
            source: String::new(),
            detail: String::new(),
        }
    }

    pub fn from_source(mut self, source: impl Into<String>) -> Self {
        self.source = source.into();
        self
    }

    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = detail.into();
        self
    }

    /// The record as one JSON line (`accountctl`'s form).
    pub fn to_json_line(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_has_the_fixed_schema() {
        let r = AuditRecord::new(
            AuditAction::AdminLock,
            "example.com",
            "example.com#PRIMARY#admin",
            "example.com#PRIMARY#kim",
            AuditResult::Done,
            UnixTime(1_800_000_000),
        )
        .from_source("203.0.113.7")
        .with_detail("reason: left the company");
        let v: serde_json::Value = serde_json::from_str(&r.to_json_line()).unwrap();
        assert_eq!(
            v,
            serde_json::json!({
                "audit": "admin_lock", "tenant": "example.com",
                "actor": "example.com#PRIMARY#admin", "subject": "example.com#PRIMARY#kim",
                "result": "done", "at": 1_800_000_000i64, "source": "203.0.113.7",
                "detail": "reason: left the company"
            })
        );
    }
}
