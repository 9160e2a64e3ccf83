//! Formatting of durations and timestamps for people (pure: callers pass "now").

/// "3s", "4m 12s", "2h 5m", "3d 4h".
pub fn human_duration(ms: i64) -> String {
    let secs = ms.max(0) / 1000;
    match secs {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m {}s", s / 60, s % 60),
        s if s < 86_400 => format!("{}h {}m", s / 3600, (s % 3600) / 60),
        s => format!("{}d {}h", s / 86_400, (s % 86_400) / 3600),
    }
}

/// "just now", "5s ago", "3m ago" …
pub fn ago(now_ms: i64, then_ms: i64) -> String {
    let delta = now_ms - then_ms;
    if delta < 1000 {
        "just now".into()
    } else {
        format!("{} ago", human_duration(delta))
    }
}

/// RFC 3339 UTC ("2026-11-24T01:02:03Z") from epoch milliseconds, without a date library.
pub fn rfc3339(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

// Howard Hinnant's days-to-civil algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(human_duration(999), "0s");
        assert_eq!(human_duration(61_000), "1m 1s");
        assert_eq!(human_duration(3_723_000), "1h 2m");
        assert_eq!(human_duration(90_000_000), "1d 1h");
        assert_eq!(ago(10_000, 9_500), "just now");
        assert_eq!(ago(10_000, 4_000), "6s ago");
    }

    #[test]
    fn rfc3339_matches_known_instants() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_770_327_597_916), "2026-02-05T21:39:57Z");
        assert_eq!(rfc3339(951_782_400_000), "2000-02-29T00:00:00Z");
    }
}
