use crate::run::RunSummary;
use serde::{Deserialize, Serialize};

/// What `/api/v1/events` pushes. The SSE event name is [`LiveEvent::name`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LiveEvent {
    /// Anything about a run changed (status, progress, tasks, gate, log); the summary is
    /// the new state, and pages showing the run's detail refetch it.
    RunChanged { run: RunSummary },
}

impl LiveEvent {
    pub fn name(&self) -> &'static str {
        match self {
            LiveEvent::RunChanged { .. } => "run",
        }
    }
    pub fn run_id(&self) -> &str {
        match self {
            LiveEvent::RunChanged { run } => &run.run_id,
        }
    }
}
