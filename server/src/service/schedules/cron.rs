//! Cron expressions as Kubernetes reads them (5 fields, or `@hourly`, `@daily`…), in
//! an IANA time zone: parsing with a message that says what to fix, the next fire
//! times, and a description in words. croner does the arithmetic, DST included.
use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Tz;
use croner::parser::{CronParser, Seconds};
use croner::Cron;
use domain::Error as DomainError;

pub struct CronSchedule {
    cron: Cron,
    zone: Tz,
}

impl CronSchedule {
    pub fn parse(expr: &str, zone: &str) -> Result<CronSchedule, DomainError> {
        let zone: Tz = zone.parse().map_err(|_| {
            DomainError::bad_request(format!(
                "timezone: '{zone}' is not a time zone; use an IANA name such as UTC, Europe/Berlin or America/New_York."
            ))
        })?;
        let cron = CronParser::builder()
            .seconds(Seconds::Disallowed)
            .build()
            .parse(expr)
            .map_err(|e| {
                DomainError::bad_request(format!(
                    "cron: '{expr}' is not a schedule ({e}). Write 5 fields — minute hour day-of-month month day-of-week — e.g. '*/15 * * * *', or @hourly, @daily, @weekly."
                ))
            })?;
        Ok(CronSchedule { cron, zone })
    }

    /// The first fire strictly after `after_ms`.
    pub fn next_after(&self, after_ms: i64) -> Option<i64> {
        let after = Utc
            .timestamp_millis_opt(after_ms)
            .single()?
            .with_timezone(&self.zone);
        self.cron
            .find_next_occurrence(&after, false)
            .ok()
            .map(|t| t.timestamp_millis())
    }

    /// The next `n` fires after `after_ms`, in the zone, as RFC 3339.
    pub fn upcoming(&self, after_ms: i64, n: usize) -> Vec<String> {
        let mut out = Vec::with_capacity(n);
        let mut at = after_ms;
        while out.len() < n {
            let Some(next) = self.next_after(at) else {
                break;
            };
            out.push(self.local(next).to_rfc3339());
            at = next;
        }
        out
    }

    /// `ms` as the zone's wall-clock time: "2026-11-30 09:00 CET".
    pub fn wall_clock(&self, ms: i64) -> String {
        self.local(ms).format("%Y-%m-%d %H:%M %Z").to_string()
    }

    pub fn describe(&self) -> String {
        self.cron.describe()
    }

    fn local(&self, ms: i64) -> DateTime<Tz> {
        self.zone
            .timestamp_millis_opt(ms)
            .single()
            .unwrap_or_else(|| {
                Utc.timestamp_millis_opt(0)
                    .unwrap()
                    .with_timezone(&self.zone)
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(rfc3339: &str) -> i64 {
        DateTime::parse_from_rfc3339(rfc3339)
            .unwrap()
            .timestamp_millis()
    }

    #[test]
    fn kubernetes_syntax_is_read_and_bad_input_says_what_to_fix() {
        let c = CronSchedule::parse("0 9 * * 1-5", "Europe/Berlin").unwrap();
        assert_eq!(
            c.upcoming(at("2026-11-27T12:00:00Z"), 2),
            ["2026-11-30T09:00:00+01:00", "2026-12-01T09:00:00+01:00"]
        );
        assert!(CronSchedule::parse("@hourly", "UTC").is_ok());
        assert_eq!(
            c.wall_clock(at("2026-11-30T08:00:00Z")),
            "2026-11-30 09:00 CET"
        );
        for bad in ["61 * * * *", "* * *", "* * * * * *", ""] {
            let e = CronSchedule::parse(bad, "UTC").err().unwrap();
            assert!(e.message.starts_with("cron:"), "{bad}: {}", e.message);
        }
        let e = CronSchedule::parse("* * * * *", "Mars/Olympus")
            .err()
            .unwrap();
        assert!(e.message.starts_with("timezone:"), "{}", e.message);
    }

    #[test]
    fn a_daily_fire_happens_once_a_day_across_both_dst_changes() {
        let c = CronSchedule::parse("30 2 * * *", "Europe/Berlin").unwrap();
        // 2026-03-29: 02:00 → 03:00 (02:30 does not exist); 2026-10-25: 03:00 → 02:00
        // (02:30 happens twice).
        for (from, days) in [("2026-03-27T12:00:00Z", 4), ("2026-10-23T12:00:00Z", 4)] {
            let fires: Vec<String> = c.upcoming(at(from), days);
            let dates: Vec<&str> = fires.iter().map(|f| &f[..10]).collect();
            let mut unique = dates.clone();
            unique.dedup();
            assert_eq!(unique.len(), days, "one fire per day: {fires:?}");
        }
    }
}
