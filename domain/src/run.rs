//! What a run is, as every front end sees it.
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Lifecycle of a run. `WaitingApproval` is what people call "blocked" / "needs feedback".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunStatus {
    Pending,
    Running,
    WaitingApproval,
    Finished,
    Failed,
    Cancelled,
}

impl RunStatus {
    pub const ALL: [RunStatus; 6] = [
        RunStatus::Pending,
        RunStatus::Running,
        RunStatus::WaitingApproval,
        RunStatus::Finished,
        RunStatus::Failed,
        RunStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Pending => "pending",
            RunStatus::Running => "running",
            RunStatus::WaitingApproval => "waiting-approval",
            RunStatus::Finished => "finished",
            RunStatus::Failed => "failed",
            RunStatus::Cancelled => "cancelled",
        }
    }

    /// Accepts the stored names plus the words people use ("blocked", "needs-feedback").
    pub fn parse(s: &str) -> Option<RunStatus> {
        let s = s.trim().to_ascii_lowercase();
        Some(match s.as_str() {
            "pending" => RunStatus::Pending,
            "running" => RunStatus::Running,
            "waiting-approval" | "waiting_approval" | "blocked" | "needs-feedback" => {
                RunStatus::WaitingApproval
            }
            "finished" | "succeeded" | "done" => RunStatus::Finished,
            "failed" => RunStatus::Failed,
            "cancelled" | "canceled" => RunStatus::Cancelled,
            _ => return None,
        })
    }

    /// The word shown in badges.
    pub fn label(self) -> &'static str {
        match self {
            RunStatus::WaitingApproval => "blocked",
            other => other.as_str(),
        }
    }

    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            RunStatus::Finished | RunStatus::Failed | RunStatus::Cancelled
        )
    }

    /// fabrik's `outcome` field: only set once a run has ended.
    pub fn outcome(self) -> Option<&'static str> {
        match self {
            RunStatus::Finished => Some("succeeded"),
            RunStatus::Failed | RunStatus::Cancelled => Some("failed"),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Progress {
    pub finished: u32,
    pub total: u32,
}

impl Progress {
    pub fn percent(self) -> u32 {
        (self.finished.min(self.total) * 100)
            .checked_div(self.total)
            .unwrap_or(0)
    }
}

/// One row of the runs list. Field names up to `progress` are the real fabrik CLI's.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RunSummary {
    pub run_id: String,
    pub project: Option<String>,
    /// The env set the run got its variables from.
    #[serde(default)]
    pub env: Option<String>,
    pub spec: Option<String>,
    pub phase: String,
    pub status: RunStatus,
    pub task: Option<String>,
    pub outcome: Option<String>,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub progress: Progress,
    // Our own fields.
    pub template: String,
    pub workflow: Option<String>,
    pub backend: String,
    pub created_at_ms: i64,
    pub started_at_ms: Option<i64>,
    pub finished_at_ms: Option<i64>,
    pub needs_feedback: bool,
    /// Why the run ended badly, or why its state is uncertain, in words.
    pub error: Option<String>,
}

impl RunSummary {
    /// A running run of the demo template, for tests.
    #[cfg(test)]
    pub(crate) fn sample(id: &str) -> Self {
        RunSummary {
            run_id: id.into(),
            project: None,
            env: None,
            spec: Some("specs/auth.json".into()),
            phase: "implement".into(),
            status: RunStatus::Running,
            task: Some("impl-api".into()),
            outcome: None,
            started_at: None,
            finished_at: None,
            progress: Progress::default(),
            template: "demo".into(),
            workflow: None,
            backend: "local".into(),
            created_at_ms: 86_400_000 + 5,
            started_at_ms: None,
            finished_at_ms: None,
            needs_feedback: false,
            error: None,
        }
    }

    /// Wall-clock duration so far (or in total once finished).
    pub fn duration_ms(&self, now_ms: i64) -> Option<i64> {
        let start = self.started_at_ms?;
        Some(self.finished_at_ms.unwrap_or(now_ms) - start)
    }
}

/// State of one Smithers node (task).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NodeState {
    Pending,
    InProgress,
    Finished,
    Failed,
    Cancelled,
    Skipped,
    WaitingApproval,
    #[serde(other)]
    Unknown,
}

impl NodeState {
    pub fn parse(s: &str) -> NodeState {
        serde_json::from_value(Value::String(s.to_string())).unwrap_or(NodeState::Unknown)
    }
    pub fn as_str(self) -> &'static str {
        match self {
            NodeState::Pending => "pending",
            NodeState::InProgress => "in-progress",
            NodeState::Finished => "finished",
            NodeState::Failed => "failed",
            NodeState::Cancelled => "cancelled",
            NodeState::Skipped => "skipped",
            NodeState::WaitingApproval => "waiting-approval",
            NodeState::Unknown => "unknown",
        }
    }

    /// The word shown next to a task's state icon.
    pub fn label(self) -> &'static str {
        match self {
            NodeState::Pending => "Pending",
            NodeState::InProgress => "In progress",
            NodeState::Finished => "Finished",
            NodeState::Failed => "Failed",
            NodeState::Cancelled => "Cancelled",
            NodeState::Skipped => "Skipped",
            NodeState::WaitingApproval => "Waiting for approval",
            NodeState::Unknown => "Unknown",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskView {
    pub node_id: String,
    pub label: Option<String>,
    pub iteration: i64,
    pub state: NodeState,
    pub attempts: u32,
    pub started_at_ms: Option<i64>,
    pub finished_at_ms: Option<i64>,
    pub updated_at_ms: Option<i64>,
    pub error: Option<String>,
}

/// A row of a workflow-defined output table (task reports, implement/validate output…).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutputRow {
    pub table: String,
    pub node_id: Option<String>,
    pub iteration: i64,
    /// Column → value; JSON text columns are decoded.
    pub fields: serde_json::Map<String, Value>,
}

/// One reviewer's verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewVerdict {
    pub reviewer: String,
    pub approved: Option<bool>,
    pub summary: Option<String>,
    pub issues: Vec<String>,
    pub node_id: Option<String>,
    pub iteration: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GateStatus {
    Requested,
    Approved,
    Denied,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GateView {
    pub node_id: String,
    pub iteration: i64,
    pub status: GateStatus,
    pub requested_at_ms: Option<i64>,
    pub decided_at_ms: Option<i64>,
    pub note: Option<String>,
    pub decided_by: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineEntry {
    pub at_ms: i64,
    /// "smithers" for run-DB events, "fabrik" for our own (dispatch, cancel, exit…).
    pub source: String,
    pub kind: String,
    pub message: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TokenUsage {
    pub model: String,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_read_tokens: u64,
    pub cache_write_tokens: u64,
    pub reasoning_tokens: u64,
}

impl TokenUsage {
    pub fn total(&self) -> u64 {
        self.input_tokens + self.output_tokens + self.cache_read_tokens + self.cache_write_tokens
    }
}

/// Status of the Smithers run itself, as written in `_smithers_runs.status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SmithersRunStatus {
    Running,
    WaitingApproval,
    Finished,
    Failed,
    Cancelled,
    #[serde(other)]
    Unknown,
}

impl SmithersRunStatus {
    pub fn parse(s: &str) -> SmithersRunStatus {
        serde_json::from_value(Value::String(s.to_string())).unwrap_or(SmithersRunStatus::Unknown)
    }
}

/// Everything read from one run's Smithers database. Every part is optional: a DB may
/// be missing, from an older Smithers, or hold only output tables.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SmithersSnapshot {
    pub run_status: Option<SmithersRunStatus>,
    pub workflow_name: Option<String>,
    pub started_at_ms: Option<i64>,
    pub finished_at_ms: Option<i64>,
    pub heartbeat_at_ms: Option<i64>,
    pub error: Option<String>,
    pub tasks: Vec<TaskView>,
    pub outputs: Vec<OutputRow>,
    pub reviews: Vec<ReviewVerdict>,
    pub gates: Vec<GateView>,
    pub events: Vec<TimelineEntry>,
    pub tokens: Vec<TokenUsage>,
}

/// How the run's process (or Job) is doing, independent of what Smithers wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExecState {
    /// Accepted, not started yet.
    Pending,
    Running,
    /// Ended with an exit code.
    Exited,
    /// Gone without us seeing how it ended (e.g. the server was down).
    Lost,
    /// Stopped on a person's request.
    Cancelled,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Execution {
    pub backend: String,
    pub state: ExecState,
    pub exit_code: Option<i32>,
    pub detail: Option<String>,
    /// What keeps the run's agent away from the server's secrets, in words (e.g.
    /// "runs as nobody; writes confined to its workspace (Landlock)").
    pub protection: String,
    /// The settings it was dispatched with.
    #[serde(default)]
    pub options: crate::dispatch::RunOptions,
}

/// Where the run's Smithers DB stands, for the page to explain missing data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SmithersSource {
    /// Why nothing (or only part) could be read, in words; `None` when all is well.
    pub problem: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Heartbeat {
    pub at_ms: i64,
    pub age_ms: i64,
    pub stale: bool,
}

/// Everything `/runs/:id` and `/runs/:id/feedback` show.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunDetail {
    pub summary: RunSummary,
    pub execution: Execution,
    pub smithers: SmithersSnapshot,
    pub source: SmithersSource,
    pub heartbeat: Option<Heartbeat>,
    pub timeline: Vec<TimelineEntry>,
    pub actions: Actions,
    pub log_bytes: u64,
    pub now_ms: i64,
    /// Estimated from the site's price table; `None` when a model used has no price.
    #[serde(default)]
    pub cost_usd: Option<f64>,
    /// The site's Grafana dashboard for this run, when an admin set one.
    #[serde(default)]
    pub grafana_url: Option<String>,
}

impl RunDetail {
    /// The gate a person should decide now, if any.
    pub fn open_gate(&self) -> Option<&GateView> {
        self.smithers
            .gates
            .iter()
            .rev()
            .find(|g| g.status == GateStatus::Requested)
    }
    /// The most recent decided gate.
    pub fn decided_gate(&self) -> Option<&GateView> {
        self.smithers
            .gates
            .iter()
            .rev()
            .find(|g| g.status != GateStatus::Requested)
    }
    pub fn token_totals(&self) -> TokenUsage {
        let mut total = TokenUsage {
            model: "all".into(),
            ..TokenUsage::default()
        };
        for t in &self.smithers.tokens {
            total.input_tokens += t.input_tokens;
            total.output_tokens += t.output_tokens;
            total.cache_read_tokens += t.cache_read_tokens;
            total.cache_write_tokens += t.cache_write_tokens;
            total.reasoning_tokens += t.reasoning_tokens;
        }
        total
    }
}

/// Which buttons make sense right now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actions {
    pub cancel: bool,
    pub resume: bool,
    pub feedback: bool,
    /// Made by the fabrik CLI: its gate is decided, and the run resumed, there
    /// ([`DECIDE_WITH_THE_CLI`]); here it can be reviewed and cancelled.
    #[serde(default)]
    pub elsewhere: bool,
}

/// Why a run the fabrik CLI made can't be decided or resumed here.
pub const DECIDE_WITH_THE_CLI: &str = "This run was made by the fabrik CLI, and fabrik-server resumes only the runs it dispatched: decide its gate with `smithers approve|deny` in its pod and resume it with the fabrik CLI.";

impl Actions {
    /// The actions of a run the fabrik CLI made: no resume, no decision here.
    pub fn made_elsewhere(self) -> Actions {
        Actions {
            resume: false,
            elsewhere: true,
            ..self
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunPage {
    pub runs: Vec<RunSummary>,
    pub next_cursor: Option<String>,
}

/// Largest log slice one call returns (API, pages and CLI alike).
pub const MAX_LOG_CHUNK: u64 = 512 * 1024;

/// A slice of a run's log file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogChunk {
    pub offset: u64,
    pub next_offset: u64,
    pub text: String,
    /// True once the run can write no more to it.
    pub complete: bool,
}
