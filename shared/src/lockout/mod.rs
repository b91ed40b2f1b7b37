//! Use cases of the lock model: login (and every password check of a caller),
//! and an admin's lock and unlock. They call `model::lock`'s transitions and
//! have the store persist what those decide.

pub mod admin;
pub mod login;
