//! Time as the model sees it: a number of seconds that the edge reads once per
//! request and passes in. Nothing on this floor reads the clock.

use std::time::Duration;

/// Seconds since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UnixTime(pub i64);

impl UnixTime {
    pub fn plus(self, d: Duration) -> Self {
        let secs = i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
        UnixTime(self.0.saturating_add(secs))
    }

    /// RFC 3339, UTC, for bodies and mails (`1970-01-01T00:00:00Z`).
    pub fn to_rfc3339(self) -> String {
        let days = self.0.div_euclid(86_400);
        let secs = self.0.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
            secs / 3600,
            secs % 3600 / 60,
            secs % 60
        )
    }
}

/// Howard Hinnant's `civil_from_days`: the proleptic Gregorian date of a day number.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m as u32, d as u32)
}

/// Parses durations written with their unit: `15m`, `30s`, `2h`, `1d`. A bare
/// number is refused: WSO2's `Recovery.ExpiryTime` is minutes, and a number
/// read as seconds here would silently mean something else.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    if num.is_empty() {
        return Err(format!(
            "`{s}` is not a duration (write e.g. 30s, 15m, 2h, 1d)"
        ));
    }
    let mult = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "" => {
            return Err(format!(
                "`{s}` has no unit: write {s}s, {s}m, {s}h or {s}d (WSO2 counts minutes, \
                 other tools seconds, so the unit is always named)"
            ))
        }
        _ => return Err(format!("`{s}` has an unknown unit (use s, m, h or d)")),
    };
    let n: u64 = num.parse().map_err(|_| format!("`{s}` is too long"))?;
    n.checked_mul(mult)
        .map(Duration::from_secs)
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
pub fn format_duration(d: Duration) -> String {
    let (n, suffix, _) = largest_unit(d.as_secs());
    format!("{n}{suffix}")
}

/// A duration as a mail reads it: `15 minutes`, `1 hour`, `90 seconds`.
pub fn humanize_duration(d: Duration) -> String {
    let (n, _, word) = largest_unit(d.as_secs());
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_a_unit_and_format_back() {
        assert_eq!(parse_duration("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("2h"), Ok(Duration::from_secs(7200)));
        assert_eq!(parse_duration("1d"), Ok(Duration::from_secs(86_400)));
        assert_eq!(parse_duration("0s"), Ok(Duration::ZERO));
        for bad in [
            "15 minutes",
            "-5m",
            "",
            "m",
            "99999999999999999999d",
            "1.5h",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        assert_eq!(format_duration(Duration::from_secs(900)), "15m");
        assert_eq!(format_duration(Duration::from_secs(7200)), "2h");
        assert_eq!(format_duration(Duration::from_secs(90)), "90s");
        assert_eq!(format_duration(Duration::ZERO), "0s");
        assert_eq!(humanize_duration(Duration::from_secs(900)), "15 minutes");
        assert_eq!(humanize_duration(Duration::from_secs(3600)), "1 hour");
    }

    #[test]
    fn a_bare_number_is_refused_and_the_message_says_why() {
        // WSO2's Recovery.ExpiryTime=1440 means one day; here it would have been 24 minutes.
        let e = parse_duration("1440").unwrap_err();
        assert!(e.contains("no unit") && e.contains("1440m"), "{e}");
    }

    #[test]
    fn rfc3339() {
        assert_eq!(UnixTime(0).to_rfc3339(), "1970-01-01T00:00:00Z");
        assert_eq!(UnixTime(951_782_400).to_rfc3339(), "2000-02-29T00:00:00Z");
        assert_eq!(UnixTime(1_798_761_599).to_rfc3339(), "2026-12-31T23:59:59Z");
        assert_eq!(UnixTime(-1).to_rfc3339(), "1969-12-31T23:59:59Z");
        assert_eq!(UnixTime(4_102_444_800).to_rfc3339(), "2100-01-01T00:00:00Z");
    }
}
