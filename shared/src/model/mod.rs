//! The ground floor: domain types, the account, time, tenant settings next to
//! the rules that use them, the lock state machine, the password policy, mail
//! templates, recovery keys and callback URLs. Pure: no SDK, no I/O, no clock,
//! nothing from the floors above. Everything here is tested without emulators.

pub mod account;
pub mod audit;
pub mod callback;
pub mod domain;
pub mod key;
pub mod lock;
pub mod outbox;
pub mod password;
pub mod pattern;
pub mod policy;
pub mod recovery;
pub mod settings;
pub mod templates;
pub mod time;
