//! The one place the service reads the clock: the edge calls [`now`] once per
//! request and passes the time down; nothing below reads it.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::model::time::UnixTime;

pub fn now() -> UnixTime {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    UnixTime(i64::try_from(secs).unwrap_or(i64::MAX))
}
