//! Time is read once at the edge and passed in; logic never reads the clock.

use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UnixTime(pub i64);

impl UnixTime {
    pub fn now() -> Self {
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        UnixTime(i64::try_from(secs).unwrap_or(i64::MAX))
    }

    pub fn plus(self, d: std::time::Duration) -> Self {
        let secs = i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
        UnixTime(self.0.saturating_add(secs))
    }

    /// RFC 3339, UTC, for bodies and mails.
    pub fn to_rfc3339(self) -> String {
        aws_sdk_dynamodb::primitives::DateTime::from_secs(self.0)
            .fmt(aws_sdk_dynamodb::primitives::DateTimeFormat::DateTime)
            .unwrap_or_else(|_| self.0.to_string())
    }
}

/// Parses durations written like `15m`, `30s`, `2h`, `1d` (a bare number is seconds).
pub fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let s = s.trim();
    let (num, unit) = match s.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => (&s[..i], &s[i..]),
        None => (s, "s"),
    };
    let n: u64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a duration (write e.g. 30s, 15m, 2h)"))?;
    let mult = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("`{s}` has an unknown unit (use s, m, h or d)")),
    };
    n.checked_mul(mult)
        .map(std::time::Duration::from_secs)
        .ok_or_else(|| format!("`{s}` is too long"))
}

/// The largest whole unit of `secs`: `(count, suffix, word)`.
fn largest_unit(secs: u64) -> (u64, &'static str, &'static str) {
    for (size, suffix, word) in [
        (86_400, "d", "day"),
        (3600, "h", "hour"),
        (60, "m", "minute"),
    ] {
        if secs != 0 && secs.is_multiple_of(size) {
            return (secs / size, suffix, word);
        }
    }
    (secs, "s", "second")
}

/// Writes a duration back the way an operator would (`15m`, `2h`, `90s`).
pub fn format_duration(d: std::time::Duration) -> String {
    let (n, suffix, _) = largest_unit(d.as_secs());
    format!("{n}{suffix}")
}

/// A duration as a mail reads it: `15 minutes`, `1 hour`, `90 seconds`.
pub fn humanize_duration(d: std::time::Duration) -> String {
    let (n, _, word) = largest_unit(d.as_secs());
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn durations_parse_and_format() {
        assert_eq!(parse_duration("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("2h"), Ok(Duration::from_secs(7200)));
        assert_eq!(parse_duration("0s"), Ok(Duration::ZERO));
        assert_eq!(parse_duration("45"), Ok(Duration::from_secs(45)));
        assert!(parse_duration("15 minutes").is_err());
        assert!(parse_duration("-5m").is_err());
        assert!(parse_duration("").is_err());
        assert!(parse_duration("99999999999999999999d").is_err());
        assert_eq!(format_duration(Duration::from_secs(900)), "15m");
        assert_eq!(format_duration(Duration::from_secs(7200)), "2h");
        assert_eq!(format_duration(Duration::from_secs(90)), "90s");
        assert_eq!(format_duration(Duration::ZERO), "0s");
        assert_eq!(humanize_duration(Duration::from_secs(900)), "15 minutes");
        assert_eq!(humanize_duration(Duration::from_secs(3600)), "1 hour");
    }

    #[test]
    fn rfc3339() {
        assert_eq!(UnixTime(0).to_rfc3339(), "1970-01-01T00:00:00Z");
    }
}
