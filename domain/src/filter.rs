//! The runs list query: what the URL says, what the API accepts, what the store pages by.
use crate::error::{Error, Result};
use crate::run::{RunStatus, RunSummary};
use serde::{Deserialize, Serialize};

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 500;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunFilter {
    pub status: Option<RunStatus>,
    pub template: Option<String>,
    pub spec: Option<String>,
    /// Free text: matches run id, spec, template, current task.
    pub q: Option<String>,
    /// Created on or after this day (`YYYY-MM-DD`, UTC).
    pub from: Option<String>,
    /// Created on or before this day (`YYYY-MM-DD`, UTC).
    pub to: Option<String>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

impl RunFilter {
    /// Builds a filter from query pairs, rejecting values that can't mean anything.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<Self> {
        Self::from_pair_iter(&mut pairs.into_iter())
    }

    /// [`from_pairs`](Self::from_pairs)' body, compiled once rather than once per kind of
    /// iterator a caller has (each copy is 2 KB of the browser's WASM).
    fn from_pair_iter<'a>(pairs: &mut dyn Iterator<Item = (&'a str, &'a str)>) -> Result<Self> {
        let mut f = RunFilter::default();
        for (key, value) in pairs {
            let value = value.trim();
            if value.is_empty() {
                continue;
            }
            match key {
                "status" => {
                    f.status = Some(RunStatus::parse(value).ok_or_else(|| {
                        Error::bad_request(format!(
                            "Unknown status '{value}'. Use one of: pending, running, blocked, finished, failed, cancelled."
                        ))
                    })?)
                }
                "template" => f.template = Some(value.into()),
                "spec" => f.spec = Some(value.into()),
                "q" => f.q = Some(value.into()),
                "from" => f.from = Some(checked_day(key, value)?),
                "to" => f.to = Some(checked_day(key, value)?),
                "limit" => {
                    let n: u32 = value.parse().map_err(|_| {
                        Error::bad_request(format!(
                            "limit must be a number from 1 to {MAX_LIMIT}, not '{value}'."
                        ))
                    })?;
                    if n == 0 || n > MAX_LIMIT {
                        return Err(Error::bad_request(format!(
                            "limit must be from 1 to {MAX_LIMIT}, not {n}."
                        )));
                    }
                    f.limit = Some(n);
                }
                "cursor" => {
                    Cursor::decode(value)?;
                    f.cursor = Some(value.into());
                }
                _ => {}
            }
        }
        Ok(f)
    }

    /// The query string for this filter (without `?`), for links and the API.
    pub fn to_query(&self) -> String {
        let mut parts = Vec::new();
        let mut push = |k: &str, v: &Option<String>| {
            if let Some(v) = v {
                parts.push(format!("{k}={}", encode_component(v)));
            }
        };
        push("status", &self.status.map(|s| s.label().to_string()));
        push("template", &self.template);
        push("spec", &self.spec);
        push("q", &self.q);
        push("from", &self.from);
        push("to", &self.to);
        push("limit", &self.limit.map(|l| l.to_string()));
        push("cursor", &self.cursor);
        parts.join("&")
    }

    pub fn limit(&self) -> u32 {
        self.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT)
    }

    /// Millisecond bounds of the date range: `[from 00:00, to+1 00:00)`.
    pub fn created_range_ms(&self) -> (Option<i64>, Option<i64>) {
        let day_ms = |d: &String| parse_day(d).map(|days| days * 86_400_000);
        (
            self.from.as_ref().and_then(day_ms),
            self.to.as_ref().and_then(day_ms).map(|ms| ms + 86_400_000),
        )
    }

    /// Whether a run belongs in a list shown with this filter (the UI inserts new runs
    /// live with it).
    /// Mirrors the server's query: exact status and template; spec as a case-insensitive
    /// substring; free text over id, spec, template, current task and project; and the
    /// creation-day range.
    pub fn matches(&self, run: &RunSummary) -> bool {
        self.matches_lowering(run, str::to_lowercase)
    }

    /// [`matches`](Self::matches), lowercasing text with `lower`. The browser passes its
    /// own `toLowerCase`, so the WASM the runs list needs carries no Unicode case tables
    /// (24 KB).
    pub fn matches_lowering(&self, run: &RunSummary, lower: impl Fn(&str) -> String) -> bool {
        let filter = self;
        if filter.status.is_some_and(|s| s != run.status) {
            return false;
        }
        if filter
            .template
            .as_deref()
            .is_some_and(|t| t != run.template)
        {
            return false;
        }
        let contains = |hay: Option<&str>, needle: &str| {
            hay.is_some_and(|h| lower(h).contains(&lower(needle)))
        };
        if filter
            .spec
            .as_deref()
            .is_some_and(|s| !contains(run.spec.as_deref(), s))
        {
            return false;
        }
        if let Some(q) = filter.q.as_deref() {
            let hay = [
                Some(run.run_id.as_str()),
                run.spec.as_deref(),
                Some(run.template.as_str()),
                run.task.as_deref(),
                run.project.as_deref(),
            ];
            if !hay.iter().any(|h| contains(*h, q)) {
                return false;
            }
        }
        let (from, to) = filter.created_range_ms();
        if from.is_some_and(|f| run.created_at_ms < f) || to.is_some_and(|t| run.created_at_ms >= t)
        {
            return false;
        }
        true
    }

    pub fn is_empty(&self) -> bool {
        self.status.is_none()
            && self.template.is_none()
            && self.spec.is_none()
            && self.q.is_none()
            && self.from.is_none()
            && self.to.is_none()
    }
}

/// Keyset position in the newest-first list: the last row's creation time and id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub created_at_ms: i64,
    pub run_id: String,
}

impl Cursor {
    pub fn encode(&self) -> String {
        format!("{}.{}", self.created_at_ms, self.run_id)
    }
    pub fn decode(s: &str) -> Result<Cursor> {
        let bad = || {
            Error::bad_request(
                "The cursor is not valid. Start again from the first page (omit cursor).",
            )
        };
        let (ms, id) = s.split_once('.').ok_or_else(bad)?;
        let created_at_ms = ms.parse().map_err(|_| bad())?;
        if id.is_empty() {
            return Err(bad());
        }
        Ok(Cursor {
            created_at_ms,
            run_id: id.to_string(),
        })
    }
}

fn checked_day(key: &str, value: &str) -> Result<String> {
    parse_day(value).map(|_| value.to_string()).ok_or_else(|| {
        Error::bad_request(format!(
            "{key} must be a date like 2026-11-24, not '{value}'."
        ))
    })
}

/// Days since 1970-01-01 for `YYYY-MM-DD`.
fn parse_day(s: &str) -> Option<i64> {
    let mut it = s.splitn(3, '-');
    let y: i64 = it.next()?.parse().ok()?;
    let m: i64 = it.next()?.parse().ok()?;
    let d: i64 = it.next()?.parse().ok()?;
    if s.len() != 10 || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    // Howard Hinnant's days-from-civil.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

/// Percent-encodes everything but unreserved characters.
pub fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_round_trips() {
        let f = RunFilter::from_pairs([
            ("status", "blocked"),
            ("template", "demo"),
            ("q", "a b&c"),
            ("from", "2026-11-01"),
            ("limit", "20"),
        ])
        .unwrap();
        assert_eq!(f.status, Some(RunStatus::WaitingApproval));
        let q = f.to_query();
        assert_eq!(
            q,
            "status=blocked&template=demo&q=a%20b%26c&from=2026-11-01&limit=20"
        );
        let pairs: Vec<(String, String)> = q
            .split('&')
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap();
                (k.to_string(), v.replace("%20", " ").replace("%26", "&"))
            })
            .collect();
        let again =
            RunFilter::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))).unwrap();
        assert_eq!(again, f);
    }

    #[test]
    fn bad_values_are_refused_with_a_reason() {
        let e = RunFilter::from_pairs([("status", "sleeping")]).unwrap_err();
        assert!(e.message.contains("Unknown status 'sleeping'"));
        assert!(RunFilter::from_pairs([("limit", "0")]).is_err());
        assert!(RunFilter::from_pairs([("limit", "x")]).is_err());
        assert!(RunFilter::from_pairs([("from", "2026-13-01")]).is_err());
        assert!(RunFilter::from_pairs([("cursor", "nonsense")]).is_err());
    }

    #[test]
    fn date_range_covers_whole_days() {
        let f = RunFilter::from_pairs([("from", "1970-01-02"), ("to", "1970-01-02")]).unwrap();
        assert_eq!(
            f.created_range_ms(),
            (Some(86_400_000), Some(2 * 86_400_000))
        );
        assert_eq!(parse_day("2026-11-24"), Some(20_781));
    }

    #[test]
    fn cursor_round_trips() {
        let c = Cursor {
            created_at_ms: 42,
            run_id: "01ABC.x".into(),
        };
        assert_eq!(Cursor::decode(&c.encode()).unwrap(), c);
    }

    fn run(id: &str) -> RunSummary {
        RunSummary::sample(id)
    }

    #[test]
    fn matching_follows_each_filter_field() {
        let r = run("01ABC");
        assert!(RunFilter::default().matches(&r));
        let f = |pairs: &[(&str, &str)]| RunFilter::from_pairs(pairs.iter().copied()).unwrap();
        assert!(f(&[("status", "running")]).matches(&r));
        assert!(!f(&[("status", "blocked")]).matches(&r));
        assert!(f(&[("template", "demo")]).matches(&r));
        assert!(!f(&[("template", "other")]).matches(&r));
        assert!(f(&[("q", "IMPL")]).matches(&r));
        assert!(f(&[("q", "auth")]).matches(&r));
        assert!(f(&[("spec", "AUTH")]).matches(&r));
        assert!(!f(&[("spec", "billing")]).matches(&r));
        assert!(!f(&[("q", "zzz")]).matches(&r));
        assert!(f(&[("from", "1970-01-02"), ("to", "1970-01-02")]).matches(&r));
        assert!(!f(&[("from", "1970-01-03")]).matches(&r));
        assert!(!f(&[("to", "1970-01-01")]).matches(&r));
    }

    #[test]
    fn text_is_compared_through_the_lowering_given() {
        let r = run("01ABC");
        let q = RunFilter::from_pairs([("q", "IMPL")]).unwrap();
        assert!(q.matches_lowering(&r, str::to_lowercase));
        assert!(
            !q.matches_lowering(&r, str::to_string),
            "unlowered, IMPL is not impl"
        );
        let spec = RunFilter::from_pairs([("spec", "AUTH")]).unwrap();
        assert!(!spec.matches_lowering(&r, str::to_string));
    }
}
