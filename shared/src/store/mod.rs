//! DynamoDB adapters: items <-> model types, and the conditional writes and
//! transactions that settle races. A failed condition comes back as a domain
//! answer ([`Write::Conflict`], [`Saved::Conflict`] with the item as it is
//! now), never as an error string.

mod base;
pub mod items;
mod keys;
mod outbox;
mod rate;
pub mod tables;
mod users;

pub use base::{Saved, Store, Tables, Write};
pub use items::KeyRecord;
pub use keys::{Consumed, IssueKey, Reset};
pub use users::LoginWrite;

/// Re-exported so tools built on the core crate need not depend on the SDK crate.
pub use aws_sdk_dynamodb::Client as DynamoClient;
