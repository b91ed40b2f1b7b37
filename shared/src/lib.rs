//! Core of the account-recovery service: the WSO2-compatible recovery and
//! locking features, in floors that import only the floors below them:
//!
//! 1. `model`: domain types, settings, the lock state machine, the policy,
//!    templates, keys, callbacks. Pure: no SDK, no I/O, no clock.
//! 2. Adapters: `store` (DynamoDB), `mail` (SES), `outbound` (HTTPS, SDK
//!    clients, reCAPTCHA), `hashing` (argon2 off the executor), `tokens`,
//!    `telemetry`, `clock`; `env` under them all (reading variables).
//! 3. `config` and `app`: the environment read once, the adapters built once.
//! 4. Use cases: `lockout`, `recovery`, `accounts`, `sessions`, `delivery`, with `error` (kinds of
//!    refusal) and `races` (deciding again after a lost race). They take the
//!    adapters they use, never `App`.
//! 5. `http` and `streams` (the mailer's batches): the edge. The Lambda binaries only wire it up.
//!
//! The `layers` test checks these floors and that no module imports one that imports it back.

pub mod accounts;
pub mod app;
pub mod clock;
pub mod config;
pub mod delivery;
pub mod env;
pub mod error;
pub mod hashing;
pub mod http;
pub mod lockout;
pub mod mail;
pub mod model;
pub mod outbound;
pub mod races;
pub mod recovery;
pub mod sessions;
pub mod store;
pub mod streams;
pub mod telemetry;
pub mod tokens;

pub use app::App;
pub use config::Config;
