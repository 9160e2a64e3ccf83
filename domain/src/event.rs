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

/// The data of a `run` event, as the browser reads it. Reading [`LiveEvent`] itself
/// would go through serde's buffering of internally tagged enums, which costs the
/// browser's main WASM module for this one message; the event's name already says
/// which variant it is.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct RunChangedData {
    pub run: RunSummary,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_event_reads_back_as_its_data() {
        let run = RunSummary::sample("01JRUN");
        let event = LiveEvent::RunChanged { run: run.clone() };
        assert_eq!(event.name(), "run");
        let json = serde_json::to_string(&event).unwrap();
        assert!(json.contains(r#""type":"run_changed""#), "{json}");
        let data: RunChangedData = serde_json::from_str(&json).unwrap();
        assert_eq!(data.run, run);
    }
}
