//! What every channel says about a gate: one set of facts, worded once.
use super::NotifySettings;
use serde::{Deserialize, Serialize};

/// A run waiting at (or released from) its human gate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GateAlert {
    pub run_id: String,
    pub spec: Option<String>,
    pub template: String,
    pub phase: String,
    /// The gate's node in the workflow, with its iteration: `gate#0`.
    pub gate: String,
    pub raised_at_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum AlertKind {
    /// The run reached the gate.
    Gate,
    /// Nobody answered in time.
    Escalated { waited_minutes: u32 },
    /// Somebody decided.
    Decided {
        decision: String,
        by: Option<String>,
    },
    /// "Send test" on the settings page.
    Test { by: String },
}

impl AlertKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            AlertKind::Gate => "gate",
            AlertKind::Escalated { .. } => "escalated",
            AlertKind::Decided { .. } => "decided",
            AlertKind::Test { .. } => "test",
        }
    }
}

/// The words and links of one notification, the same on every channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub title: String,
    pub body: String,
    /// The run page where the decision is made.
    pub url: String,
    /// Groups a run's messages: later ones replace earlier ones where a channel can.
    pub tag: String,
}

impl GateAlert {
    pub fn feedback_path(&self) -> String {
        format!("/runs/{}/feedback", self.run_id)
    }

    /// `run_id` shortened the way the UI shows it.
    pub fn short_id(&self) -> &str {
        let n = self.run_id.len().min(10);
        &self.run_id[self.run_id.len() - n..]
    }

    pub fn dedup_key(&self) -> String {
        format!("fabrik-{}-{}", self.run_id, self.gate)
    }

    pub fn facts(&self) -> String {
        format!(
            "Spec {} · template {} · phase {}",
            self.spec.as_deref().unwrap_or("none"),
            self.template,
            self.phase
        )
    }

    pub fn message(&self, kind: &AlertKind, settings: &NotifySettings) -> Message {
        let run = self.short_id();
        let (title, lead) = match kind {
            AlertKind::Gate => (
                format!("Run {run} is waiting for approval"),
                "It reached its human gate. Approve or reject it.".to_string(),
            ),
            AlertKind::Escalated { waited_minutes } => (
                format!("Run {run} still waits for approval"),
                format!("Nobody has decided its gate for {waited_minutes} minutes."),
            ),
            AlertKind::Decided { decision, by } => (
                format!("Run {run} was {decision}"),
                match by {
                    Some(by) => format!("{by} decided its gate; the run goes on."),
                    None => "Its gate was decided; the run goes on.".to_string(),
                },
            ),
            AlertKind::Test { by } => (
                "Test notification from Fabrik".to_string(),
                format!("{by} sent this test. Gates will look like this."),
            ),
        };
        Message {
            title,
            body: format!("{lead}\n{} · run {}", self.facts(), self.run_id),
            url: settings.link(&self.feedback_path()),
            tag: format!("gate-{}", self.run_id),
        }
    }

    /// The alert a "Send test" describes.
    pub fn sample(now_ms: i64) -> GateAlert {
        GateAlert {
            run_id: "test-notification".into(),
            spec: Some("example-spec".into()),
            template: "coding".into(),
            phase: "review".into(),
            gate: "gate#0".into(),
            raised_at_ms: now_ms,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert() -> GateAlert {
        GateAlert {
            run_id: "01JABCDEFGHJKMNPQRSTVWXYZ0".into(),
            spec: Some("add-login".into()),
            template: "coding".into(),
            phase: "review".into(),
            gate: "gate#1".into(),
            raised_at_ms: 0,
        }
    }

    #[test]
    fn every_message_names_run_spec_template_phase_and_link() {
        let settings = NotifySettings {
            external_url: "https://fabrik.example.com/".into(),
            ..Default::default()
        };
        for kind in [
            AlertKind::Gate,
            AlertKind::Escalated { waited_minutes: 60 },
            AlertKind::Decided {
                decision: "approved".into(),
                by: Some("ada".into()),
            },
        ] {
            let m = alert().message(&kind, &settings);
            for part in [
                "01JABCDEFGHJKMNPQRSTVWXYZ0",
                "add-login",
                "coding",
                "review",
            ] {
                assert!(m.body.contains(part), "{kind:?}: {}", m.body);
            }
            assert_eq!(
                m.url,
                "https://fabrik.example.com/runs/01JABCDEFGHJKMNPQRSTVWXYZ0/feedback"
            );
        }
    }
}
