//! What kind of refusal an error is. Every use case's error names its kind
//! here; the edge maps each kind to one status and WSO2 code in one table
//! (`http::error`), so the mapping can be read beside WSO2's code list.

/// Every kind of answer that is not a success.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Not JSON, wrong types, missing fields, bad values.
    BadRequest,
    /// A body larger than any legitimate request.
    PayloadTooLarge,
    /// A method the endpoint does not take.
    MethodNotAllowed,
    /// No such path.
    NotFound,
    /// Login: wrong password, unknown user, or a locked account not shown as such.
    InvalidCredentials,
    /// Login: the account is locked, shown as such (`lock.show_failure_reason`).
    LoginLocked,
    /// The caller's credentials are missing or wrong.
    Unauthorized,
    /// The caller is not allowed to do this.
    Forbidden,
    /// lock-user: no such target user.
    UnknownTarget,
    /// Unknown, used or revoked recovery key.
    InvalidKey,
    ExpiredKey,
    /// Recovery: no such user (only when the tenant says so).
    UnknownUser,
    /// Recovery: the account is admin-locked (only when the tenant says so).
    RecoveryLocked,
    RecoveryDisabled,
    PasswordPolicy,
    /// The password is one of the user's recent ones (WSO2 answers 412 with the key).
    PasswordReused,
    InvalidCallback,
    /// The reCAPTCHA token is missing or was rejected.
    Captcha,
    /// A dependency did not answer in time, or too many requests raced for one account.
    Unavailable,
    /// Our own failure; its cause goes to the log, never to the caller.
    Internal,
}

/// An error a use case (or the edge's parsing) answers with.
pub trait UseCaseError: std::fmt::Display {
    fn kind(&self) -> Kind;
    /// The cause of an internal failure, for the log only.
    fn internal(&self) -> Option<&anyhow::Error> {
        None
    }
    /// Fields beyond the standard four (`lockedReason`, `unlockTime`, `key`).
    fn details(&self) -> Vec<(&'static str, String)> {
        Vec::new()
    }
}
