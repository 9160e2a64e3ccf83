//! `/admin`: the fleet at a glance — what runs now, what waits for a person and for how
//! long, what failed and why, what is scheduled next, and how busy the machines are.
use crate::fleet::Machine;
use serde::{Deserialize, Serialize};

/// How long a gate may wait before the overview calls it overdue.
pub const GATE_OVERDUE_MS: i64 = 4 * 3_600_000;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Overview {
    pub now_ms: i64,
    /// Pending, running and waiting runs, counted by template and status.
    pub active: Vec<ActiveCount>,
    /// Runs stopped at a human gate, longest waiting first.
    pub waiting: Vec<WaitingRun>,
    pub failures: Vec<FailedRun>,
    /// The next fires of unsuspended schedules, soonest first.
    pub upcoming: Vec<UpcomingRun>,
    pub machines: Vec<Machine>,
    /// Where the machines' figures come from, and what could not be read.
    pub fleet_source: String,
    pub fleet_notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActiveCount {
    pub template: String,
    pub status: String,
    pub runs: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitingRun {
    pub run_id: String,
    pub template: String,
    pub spec: Option<String>,
    /// When the run stopped at its gate (its last change).
    pub since_ms: i64,
}

impl WaitingRun {
    pub fn overdue(&self, now_ms: i64) -> bool {
        now_ms - self.since_ms > GATE_OVERDUE_MS
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailedRun {
    pub run_id: String,
    pub template: String,
    pub at_ms: i64,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpcomingRun {
    pub schedule: String,
    pub template: String,
    pub at_ms: i64,
}

impl Overview {
    pub fn active_total(&self) -> u64 {
        self.active.iter().map(|a| a.runs).sum()
    }

    /// Active runs per template, busiest first: `(template, [(status, runs)])`.
    pub fn by_template(&self) -> Vec<(String, Vec<(String, u64)>)> {
        let mut out: Vec<(String, Vec<(String, u64)>)> = Vec::new();
        for a in &self.active {
            match out.iter_mut().find(|(t, _)| *t == a.template) {
                Some((_, statuses)) => statuses.push((a.status.clone(), a.runs)),
                None => out.push((a.template.clone(), vec![(a.status.clone(), a.runs)])),
            }
        }
        out.sort_by_key(|(t, s)| {
            (
                std::cmp::Reverse(s.iter().map(|(_, n)| n).sum::<u64>()),
                t.clone(),
            )
        });
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn active_runs_group_by_template_busiest_first_and_old_gates_are_overdue() {
        let count = |template: &str, status: &str, runs| ActiveCount {
            template: template.into(),
            status: status.into(),
            runs,
        };
        let o = Overview {
            active: vec![
                count("demo", "running", 1),
                count("coding", "running", 2),
                count("coding", "waiting-approval", 3),
            ],
            ..Overview::default()
        };
        assert_eq!(o.active_total(), 6);
        let t = o.by_template();
        assert_eq!(t[0].0, "coding");
        assert_eq!(
            t[0].1,
            vec![("running".into(), 2), ("waiting-approval".into(), 3)]
        );
        let w = WaitingRun {
            run_id: "r".into(),
            template: "demo".into(),
            spec: None,
            since_ms: 0,
        };
        assert!(!w.overdue(GATE_OVERDUE_MS));
        assert!(w.overdue(GATE_OVERDUE_MS + 1));
    }
}
