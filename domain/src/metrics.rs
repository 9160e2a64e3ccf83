//! Run metrics for `/admin/metrics`: tokens and estimated cost per provider and model,
//! the most expensive runs, outcomes over time and durations by template — all over a
//! chosen time range, from figures the store keeps as runs change.
use crate::{Error, Result};
use serde::{Deserialize, Serialize};

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TimeRange {
    #[serde(rename = "24h")]
    Day,
    #[serde(rename = "7d")]
    Week,
    #[serde(rename = "30d")]
    Month,
    #[serde(rename = "90d")]
    Quarter,
}

impl TimeRange {
    pub const ALL: [TimeRange; 4] = [
        TimeRange::Day,
        TimeRange::Week,
        TimeRange::Month,
        TimeRange::Quarter,
    ];

    pub fn parse(s: &str) -> Result<TimeRange> {
        TimeRange::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                Error::bad_request(format!(
                    "'{s}' is not a time range: use one of {}.",
                    TimeRange::ALL.map(|r| r.as_str()).join(", ")
                ))
            })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TimeRange::Day => "24h",
            TimeRange::Week => "7d",
            TimeRange::Month => "30d",
            TimeRange::Quarter => "90d",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            TimeRange::Day => "Last 24 hours",
            TimeRange::Week => "Last 7 days",
            TimeRange::Month => "Last 30 days",
            TimeRange::Quarter => "Last 90 days",
        }
    }

    pub fn length_ms(self) -> i64 {
        match self {
            TimeRange::Day => DAY_MS,
            TimeRange::Week => 7 * DAY_MS,
            TimeRange::Month => 30 * DAY_MS,
            TimeRange::Quarter => 90 * DAY_MS,
        }
    }

    /// The width of one bar of the outcomes chart: hours for a day, else days.
    pub fn bucket_ms(self) -> i64 {
        match self {
            TimeRange::Day => HOUR_MS,
            _ => DAY_MS,
        }
    }

    /// The first instant in range: the start of the bucket `length` before `now`, so
    /// every bar covers a whole hour or day (UTC).
    pub fn start_ms(self, now_ms: i64) -> i64 {
        let bucket = self.bucket_ms();
        (now_ms - self.length_ms()).div_euclid(bucket) * bucket + bucket
    }
}

/// Tokens and cost of one model over the range.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelUsage {
    pub provider: String,
    pub model: String,
    pub runs: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_read_tokens: u64,
    pub cache_write_tokens: u64,
    /// `None` when the price table has no price for the model.
    pub cost_usd: Option<f64>,
}

impl ModelUsage {
    pub fn total_tokens(&self) -> u64 {
        self.input_tokens + self.output_tokens + self.cache_read_tokens + self.cache_write_tokens
    }
}

/// One run's figures, for the most expensive runs and the CSV export.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunCost {
    pub run_id: String,
    pub template: String,
    pub status: String,
    pub created_at_ms: i64,
    pub duration_ms: Option<i64>,
    pub tokens: u64,
    /// Priced tokens only; `unpriced_tokens` says how many had no price.
    pub cost_usd: f64,
    pub unpriced_tokens: u64,
}

/// How the runs created in one bucket ended (so far).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcomes {
    pub start_ms: i64,
    pub finished: u64,
    pub failed: u64,
    pub cancelled: u64,
    /// Still running or waiting at a gate.
    pub open: u64,
}

impl Outcomes {
    pub fn ended(&self) -> u64 {
        self.finished + self.failed + self.cancelled
    }

    /// Finished runs in percent of ended ones.
    pub fn success_percent(&self) -> Option<u8> {
        let ended = self.ended();
        (ended > 0).then(|| ((self.finished as f64 / ended as f64) * 100.0).round() as u8)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TemplateDuration {
    pub template: String,
    /// Runs that ended, with a start and an end.
    pub runs: u64,
    pub average_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricsReport {
    pub range: TimeRange,
    pub from_ms: i64,
    pub to_ms: i64,
    pub runs: u64,
    pub models: Vec<ModelUsage>,
    /// Sum of the priced models.
    pub total_cost_usd: f64,
    /// Models used in range with no price: their cost is not in the total.
    pub unpriced_models: Vec<String>,
    pub costliest_runs: Vec<RunCost>,
    pub outcomes: Vec<Outcomes>,
    pub durations: Vec<TemplateDuration>,
    /// The site's Grafana over the same range, when an admin set one.
    #[serde(default)]
    pub grafana_url: Option<String>,
}

impl MetricsReport {
    pub fn total_tokens(&self) -> u64 {
        self.models.iter().map(ModelUsage::total_tokens).sum()
    }

    /// Average cost of the runs in range.
    pub fn cost_per_run(&self) -> Option<f64> {
        (self.runs > 0).then(|| self.total_cost_usd / self.runs as f64)
    }

    /// Tokens and cost summed per provider, largest first.
    pub fn providers(&self) -> Vec<ModelUsage> {
        let mut out: Vec<ModelUsage> = Vec::new();
        for m in &self.models {
            let i = match out.iter().position(|p| p.provider == m.provider) {
                Some(i) => i,
                None => {
                    out.push(ModelUsage {
                        provider: m.provider.clone(),
                        model: m.provider.clone(),
                        cost_usd: Some(0.0),
                        ..ModelUsage::default()
                    });
                    out.len() - 1
                }
            };
            let p = &mut out[i];
            p.runs += m.runs;
            p.input_tokens += m.input_tokens;
            p.output_tokens += m.output_tokens;
            p.cache_read_tokens += m.cache_read_tokens;
            p.cache_write_tokens += m.cache_write_tokens;
            p.cost_usd = match (p.cost_usd, m.cost_usd) {
                (Some(a), Some(b)) => Some(a + b),
                _ => None,
            };
        }
        out.sort_by_key(|p| std::cmp::Reverse(p.total_tokens()));
        out
    }
}

/// Empty buckets from `from` to `to`, so a chart has a bar (maybe zero) for each.
pub fn buckets(range: TimeRange, from_ms: i64, to_ms: i64) -> Vec<Outcomes> {
    let step = range.bucket_ms();
    (0..)
        .map(|i| from_ms + i * step)
        .take_while(|start| *start <= to_ms)
        .map(|start_ms| Outcomes {
            start_ms,
            ..Outcomes::default()
        })
        .collect()
}

/// One line per run, for spreadsheets: times in RFC 3339 (UTC), cost in USD.
use crate::export::csv_field;

pub fn runs_csv(runs: &[RunCost]) -> String {
    let mut out = String::from(
        "run_id,template,status,created_at,duration_seconds,tokens,cost_usd,unpriced_tokens\n",
    );
    for r in runs {
        out.push_str(&format!(
            "{},{},{},{},{},{},{:.6},{}\n",
            csv_field(&r.run_id),
            csv_field(&r.template),
            csv_field(&r.status),
            crate::time::rfc3339(r.created_at_ms),
            r.duration_ms
                .map(|ms| format!("{:.1}", ms as f64 / 1000.0))
                .unwrap_or_default(),
            r.tokens,
            r.cost_usd,
            r.unpriced_tokens
        ));
    }
    out
}

/// Dollars as people read them: cents under $100, whole dollars above.
pub fn usd(amount: f64) -> String {
    if amount != 0.0 && amount.abs() < 0.01 {
        "< $0.01".into()
    } else if amount.abs() < 100.0 {
        format!("${amount:.2}")
    } else {
        format!("${amount:.0}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_rows_quote_what_needs_quoting() {
        let run = RunCost {
            run_id: "01ABC".into(),
            template: "my,template".into(),
            status: "finished".into(),
            created_at_ms: 0,
            duration_ms: Some(61_500),
            tokens: 1500,
            cost_usd: 0.25,
            unpriced_tokens: 0,
        };
        let csv = runs_csv(&[run]);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(
            lines[1],
            "01ABC,\"my,template\",finished,1970-01-01T00:00:00Z,61.5,1500,0.250000,0"
        );
    }

    #[test]
    fn ranges_parse_and_unknown_ones_say_what_is_allowed() {
        assert_eq!(TimeRange::parse("7d").unwrap(), TimeRange::Week);
        let err = TimeRange::parse("1y").unwrap_err();
        assert_eq!(err.code.http_status(), 400);
        assert_eq!(
            err.message,
            "'1y' is not a time range: use one of 24h, 7d, 30d, 90d."
        );
    }

    #[test]
    fn buckets_cover_the_range_in_whole_days() {
        let now = 10 * DAY_MS + 5 * HOUR_MS;
        let from = TimeRange::Week.start_ms(now);
        assert_eq!(from, 4 * DAY_MS);
        let b = buckets(TimeRange::Week, from, now);
        assert_eq!(b.len(), 7);
        assert_eq!(b.last().unwrap().start_ms, 10 * DAY_MS);
        let hours = buckets(TimeRange::Day, TimeRange::Day.start_ms(now), now);
        assert_eq!(hours.len(), 24);
    }

    #[test]
    fn providers_sum_their_models_and_lose_the_cost_when_one_is_unpriced() {
        let m = |provider: &str, model: &str, input, cost| ModelUsage {
            provider: provider.into(),
            model: model.into(),
            runs: 1,
            input_tokens: input,
            cost_usd: cost,
            ..ModelUsage::default()
        };
        let report = MetricsReport {
            range: TimeRange::Week,
            from_ms: 0,
            to_ms: 1,
            runs: 3,
            models: vec![
                m("anthropic", "claude-a", 10, Some(1.0)),
                m("anthropic", "claude-b", 5, Some(2.0)),
                m("openai", "gpt-x", 100, None),
            ],
            total_cost_usd: 3.0,
            unpriced_models: vec!["gpt-x".into()],
            costliest_runs: vec![],
            outcomes: vec![],
            durations: vec![],
            grafana_url: None,
        };
        let p = report.providers();
        assert_eq!(p[0].provider, "openai");
        assert_eq!(p[0].cost_usd, None);
        assert_eq!((p[1].input_tokens, p[1].cost_usd), (15, Some(3.0)));
        assert_eq!(report.cost_per_run(), Some(1.0));
        assert_eq!(usd(0.004), "< $0.01");
        assert_eq!(usd(12.345), "$12.35");
        assert_eq!(usd(1234.5), "$1234");
    }
}
