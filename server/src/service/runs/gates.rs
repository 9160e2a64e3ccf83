//! Deciding a run's human gate: the decision written to its Smithers DB as `smithers
//! approve|deny` would, recorded and audited together, then the run resumed.
use crate::clock::now_ms;
use crate::error::Result;
use crate::service::{audit_entry, Service};
use crate::store::{NewEvent, Transition};
use domain::auth::Action;
use domain::feedback::{Decision, FeedbackRequest};
use domain::run::{RunStatus, RunSummary, SmithersSnapshot};
use domain::service::Actor;
use domain::Error as DomainError;

impl Service {
    pub(crate) async fn decide_gate(
        &self,
        actor: &Actor,
        run_id: &str,
        request: FeedbackRequest,
    ) -> Result<RunSummary> {
        let decision = request.decision;
        let decided = self.decide_gate_once(actor, run_id, request).await;
        if decided.is_ok() {
            self.telemetry.feedback_submitted(decision.as_str());
        }
        decided
    }

    async fn decide_gate_once(
        &self,
        actor: &Actor,
        run_id: &str,
        request: FeedbackRequest,
    ) -> Result<RunSummary> {
        actor.role.require(Action::DecideGate)?;
        request.validate()?;
        let _lock = self.locks.lock(run_id).await;
        let observed = self.observe_locked(run_id).await?;
        let record = observed.record;
        if record.status != RunStatus::WaitingApproval {
            return Err(not_waiting(run_id, record.status, &observed.snapshot).into());
        }
        self.resume_template(&record)?;
        let notes = request.clean_notes();
        let gate = self
            .backend
            .decide_gate(&record, request.decision, notes.clone(), &actor.name)
            .await?;
        let verb = match request.decision {
            Decision::Approve => "Approved",
            Decision::Reject => "Rejected",
        };
        let message = match &notes {
            Some(n) => format!("{verb} {}: {n}", gate.node_id),
            None => format!("{verb} {}", gate.node_id),
        };
        let decision = request.decision.as_str();
        let decided = Transition {
            event: Some(NewEvent::new(
                &format!("gate-{decision}"),
                message,
                Some(&actor.name),
            )),
            audit: Some(audit_entry(
                actor,
                &format!("gate.{decision}"),
                run_id,
                notes,
            )),
            ..Default::default()
        };
        self.store.transition(run_id, decided, now_ms()).await?;
        let why = format!("Resumed after the gate was {}", verb.to_lowercase());
        self.relaunch(&record, actor, &why, None).await?;
        Ok(self.record(run_id).await?.summary())
    }
}

fn not_waiting(run_id: &str, status: RunStatus, snapshot: &SmithersSnapshot) -> DomainError {
    match snapshot
        .gates
        .iter()
        .rev()
        .find(|g| g.decided_at_ms.is_some())
    {
        Some(g) => DomainError::conflict(format!(
            "This gate was already decided: {:?} by {} at {}.",
            g.status,
            g.decided_by.as_deref().unwrap_or("someone"),
            g.decided_at_ms
                .map(domain::time::rfc3339)
                .unwrap_or_default()
        )),
        None => DomainError::conflict(format!(
            "Run {run_id} is not waiting for a decision (it is {}).",
            status.as_str()
        )),
    }
}
