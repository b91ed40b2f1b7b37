//! API tests: each handler driven in-process against DynamoDB Local and
//! aws-ses-v2-local; end-to-end tests over HTTP through `cargo lambda watch`.
//! `infra/test.sh` starts all of it.
#![allow(clippy::unwrap_used)]
// Test code: a failed unwrap is a failed test.
// The handlers' futures, awaited in tests, nest deeper than the default limit.
#![recursion_limit = "256"]

mod accountctl;
mod captcha;
mod compat;
mod contract;
mod e2e;
mod faults;
mod helpers;
mod lock_model;
mod lock_user;
mod login;
mod logs;
mod outbox;
mod password_policy;
mod rate_limit;
mod recover_password;
mod resend_code;

mod set_password;
mod templates;
mod timing;
mod tokens;
