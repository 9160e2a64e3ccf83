//! Schedules: a dispatch that fires on a cron expression in a time zone, with a
//! concurrency policy as Kubernetes CronJobs have. The cron arithmetic itself lives on
//! the server (the browser asks it for previews).
use crate::dispatch::DispatchRequest;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// What to do when a fire comes while the schedule's previous run is still going.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConcurrencyPolicy {
    /// Start another run beside it.
    Allow,
    /// Skip this fire.
    #[default]
    Forbid,
    /// Cancel the running one, then start.
    Replace,
}

impl ConcurrencyPolicy {
    pub const ALL: [ConcurrencyPolicy; 3] = [
        ConcurrencyPolicy::Forbid,
        ConcurrencyPolicy::Allow,
        ConcurrencyPolicy::Replace,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ConcurrencyPolicy::Allow => "Allow",
            ConcurrencyPolicy::Forbid => "Forbid",
            ConcurrencyPolicy::Replace => "Replace",
        }
    }

    pub fn explain(self) -> &'static str {
        match self {
            ConcurrencyPolicy::Allow => "start another run beside the running one",
            ConcurrencyPolicy::Forbid => "skip the fire while the previous run is still going",
            ConcurrencyPolicy::Replace => "cancel the running one, then start",
        }
    }
}

/// A new schedule, as the form and the API send it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewSchedule {
    /// kebab-case; also names the CronJob in a cluster (`fabrik-cron-<name>`).
    pub name: String,
    /// Kubernetes' 5 fields (`*/15 * * * *`) or `@hourly`, `@daily`…
    pub cron: String,
    /// IANA zone the cron is read in; UTC when empty.
    #[serde(default)]
    pub timezone: String,
    #[serde(default)]
    pub concurrency: ConcurrencyPolicy,
    pub dispatch: DispatchRequest,
}

/// `fabrik-cron-` and the name make the CronJob's name, which has at most 52.
pub const MAX_NAME: usize = 40;

impl NewSchedule {
    /// Trims, defaults the zone, and checks what can be checked without the cron
    /// engine (the server checks the expression and the zone).
    pub fn normalized(mut self) -> Result<Self> {
        self.name = self.name.trim().to_string();
        self.cron = self.cron.split_whitespace().collect::<Vec<_>>().join(" ");
        self.timezone = match self.timezone.trim() {
            "" => "UTC".into(),
            zone => zone.to_string(),
        };
        // A CronJob's name may be 52 characters long (its Jobs add 11).
        if !crate::spec::is_kebab_id(&self.name) || self.name.len() > MAX_NAME {
            return Err(Error::bad_request(
                "name: use kebab-case, at most 40 characters (e.g. nightly-report); it names the CronJob fabrik-cron-<name>.",
            ));
        }
        if self.cron.is_empty() {
            return Err(Error::bad_request(
                "cron: write when it fires, e.g. '0 9 * * 1-5' (09:00 on weekdays) or '@hourly'.",
            ));
        }
        self.dispatch = self.dispatch.normalized()?;
        Ok(self)
    }
}

/// How one fire went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum FireOutcome {
    Started {
        run_id: String,
    },
    /// Forbid, and the previous run was still going.
    Skipped {
        reason: String,
    },
    /// The server was down (or the schedule suspended) at that time.
    Missed {
        count: u32,
    },
    Failed {
        error: String,
    },
}

/// One entry of a schedule's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleFire {
    /// The time the cron named (for "trigger now", when it was pressed).
    pub scheduled_ms: i64,
    pub fired_at_ms: i64,
    /// "cron", "catch-up" or "manual".
    pub kind: String,
    #[serde(flatten)]
    pub outcome: FireOutcome,
    /// The run's status now, for started ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_status: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScheduleView {
    pub name: String,
    pub cron: String,
    pub timezone: String,
    /// "At 09:00 on Monday through Friday".
    pub description: String,
    pub concurrency: ConcurrencyPolicy,
    pub suspended: bool,
    pub dispatch: DispatchRequest,
    pub next_fire_ms: Option<i64>,
    /// The next fire in the schedule's zone: "2026-11-30 09:00 CET".
    #[serde(default)]
    pub next_fire_local: Option<String>,
    /// Newest first.
    pub history: Vec<ScheduleFire>,
    pub created_by: String,
    pub created_at_ms: i64,
}

/// `POST /api/v1/cron/preview`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CronPreviewRequest {
    pub expr: String,
    #[serde(default)]
    pub tz: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CronPreview {
    pub description: String,
    pub timezone: String,
    /// The next fire times, RFC 3339 with the zone's offset.
    pub next: Vec<String>,
}
