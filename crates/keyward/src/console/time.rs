//! Times as people read them in the console: "3 days ago", with the exact UTC time beside it
//! for the hover title and the `<time datetime>` attribute.

use keyward_core::model::Timestamp;

/// A time shown in a table cell.
#[derive(Debug, Clone)]
pub struct When {
    /// "3 days ago", "in 2 months", "just now".
    pub relative: String,
    /// "2026-11-23 14:05 UTC": the hover title.
    pub exact: String,
    /// RFC 3339, for `<time datetime>`.
    pub iso: String,
}

impl When {
    pub fn new(at: Timestamp, now: Timestamp) -> Self {
        Self {
            relative: relative(at, now),
            exact: at.format("%Y-%m-%d %H:%M UTC").to_string(),
            iso: at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        }
    }
}

/// The distance from `now` to `at` in the largest unit that fits, rounded down.
pub fn relative(at: Timestamp, now: Timestamp) -> String {
    let seconds = (now - at).num_seconds();
    let future = seconds < 0;
    let s = seconds.unsigned_abs();
    if s < 45 {
        return if future {
            "in a moment".into()
        } else {
            "just now".into()
        };
    }
    let (n, unit) = match s {
        s if s < 3_600 => ((s / 60).max(1), "minute"),
        s if s < 86_400 => (s / 3_600, "hour"),
        s if s < 30 * 86_400 => (s / 86_400, "day"),
        s if s < 365 * 86_400 => (s / (30 * 86_400), "month"),
        s => (s / (365 * 86_400), "year"),
    };
    let plural = if n == 1 { "" } else { "s" };
    if future {
        format!("in {n} {unit}{plural}")
    } else {
        format!("{n} {unit}{plural} ago")
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeDelta, TimeZone, Utc};

    use super::*;

    #[test]
    fn relative_times_read_like_speech() {
        let now = Utc
            .with_ymd_and_hms(2026, 11, 23, 12, 0, 0)
            .single()
            .unwrap_or_default();
        let cases = [
            (TimeDelta::seconds(-10), "just now"),
            (TimeDelta::seconds(-90), "1 minute ago"),
            (TimeDelta::minutes(-59), "59 minutes ago"),
            (TimeDelta::hours(-1), "1 hour ago"),
            (TimeDelta::days(-3), "3 days ago"),
            (TimeDelta::days(-65), "2 months ago"),
            (TimeDelta::days(-800), "2 years ago"),
            (TimeDelta::days(30), "in 1 month"),
            (TimeDelta::hours(5), "in 5 hours"),
            (TimeDelta::seconds(5), "in a moment"),
        ];
        for (offset, expected) in cases {
            assert_eq!(relative(now + offset, now), expected, "{offset:?}");
        }
        let when = When::new(now, now);
        assert_eq!(when.exact, "2026-11-23 12:00 UTC");
        assert_eq!(when.iso, "2026-11-23T12:00:00Z");
    }
}
