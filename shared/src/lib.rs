//! Core of the account-recovery service: the WSO2-compatible recovery and
//! locking features, organised by domain. The Lambda binaries only wire this up.

pub mod account;
pub mod app;
pub mod auth;
pub mod aws;
pub mod config;
pub mod domain;
pub mod http;
pub mod https;
pub mod lockout;
pub mod mail;
pub mod password;
pub mod pattern;
pub mod recovery;
pub mod store;
pub mod telemetry;
pub mod tenant;
pub mod time;
pub mod token;

pub use app::App;
pub use config::Config;
