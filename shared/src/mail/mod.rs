//! Mail: composed for the outbox where a change is decided ([`Composer`]),
//! sent by the mailer through SES v2 ([`Mailer`]).

mod compose;
mod ses;

pub use compose::{Composer, MailConfig};
pub use ses::Mailer;
