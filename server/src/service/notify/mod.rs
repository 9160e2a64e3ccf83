//! Notifications, the service side: who is subscribed, the channels and their
//! settings, raising and settling gate alerts as runs reach and leave their gates, and
//! approving a gate from a notification with its single-use token.
mod approve;
mod retry;
mod settings;

pub use approve::token_hash;
pub(crate) use retry::GateRetry;

use crate::backend::SnapshotRead;
use crate::clock::now_ms;
use crate::error::Result;
use crate::notify::Notifier;
use crate::service::runs::snapshot_or_problem;
use crate::service::Service;
use crate::store::RunRecord;
use domain::notify::{AlertKind, GateAlert};
use domain::run::{ExecState, GateStatus, GateView, RunStatus, SmithersSnapshot};
use std::sync::Arc;

impl Service {
    pub fn notifier(&self) -> &Arc<Notifier> {
        &self.notifier
    }

    /// Raises or settles the run's gate alert to match what was just observed. Called
    /// under the run's lock after every change; never fails the observation.
    pub(super) async fn sync_gate_alert(&self, record: &RunRecord, snapshot: &SmithersSnapshot) {
        if let Err(e) = self.sync_gate_alert_inner(record, snapshot).await {
            tracing::warn!(run_id = %record.run_id, error = %e, "could not queue the gate's notifications");
        }
    }

    async fn sync_gate_alert_inner(
        &self,
        record: &RunRecord,
        snapshot: &SmithersSnapshot,
    ) -> Result<()> {
        let queued = if record.status == RunStatus::WaitingApproval {
            let Some(gate) = snapshot
                .gates
                .iter()
                .rev()
                .find(|g| g.status == GateStatus::Requested)
            else {
                return Ok(());
            };
            let summary = record.summary();
            let alert = GateAlert {
                run_id: record.run_id.clone(),
                spec: summary.spec,
                template: summary.template,
                phase: summary.phase,
                gate: gate_key(gate),
                raised_at_ms: now_ms(),
            };
            self.store.raise_gate(alert).await?.is_some()
        } else {
            let decided = decision(snapshot, record.status);
            self.store
                .settle_gates(record.run_id.clone(), decided, now_ms())
                .await?
                > 0
        };
        if queued {
            self.notifier.wake();
        }
        Ok(())
    }

    /// Brings every run whose alert disagrees with its status back in step. A run whose
    /// DB is gone (with its workspace) can't be, so it is looked at again only every
    /// [`retry::GATE_RETRY`].
    pub async fn reconcile_gates(&self) {
        let runs = match self.store.gates_out_of_step().await {
            Ok(runs) => runs,
            Err(e) => return tracing::warn!(error = %e, "could not compare gates and runs"),
        };
        let now = std::time::Instant::now();
        let due = self.gate_retry().due(&runs, now);
        for run_id in due {
            let _lock = self.locks.lock(&run_id).await;
            let Ok(record) = self.record(&run_id).await else {
                continue;
            };
            let read = self.backend().snapshot(&record).await;
            // A DB that can't be read now (busy, mid-copy, not made yet by a running run)
            // is tried again next round.
            let ended = !matches!(record.exec_state, ExecState::Pending | ExecState::Running);
            let gone = ended && matches!(read, SnapshotRead::Missing);
            let (snapshot, _) = snapshot_or_problem(&record, read);
            self.sync_gate_alert(&record, &snapshot).await;
            self.gate_retry().looked_at(run_id, gone, now);
        }
    }

    fn gate_retry(&self) -> std::sync::MutexGuard<'_, GateRetry> {
        self.gate_retry.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// `node#iteration`: the same gate met again after a rework is a new alert.
fn gate_key(gate: &GateView) -> String {
    format!("{}#{}", gate.node_id, gate.iteration)
}

/// How the last decided gate went, as the messages say it.
fn decision(snapshot: &SmithersSnapshot, now: RunStatus) -> AlertKind {
    let last = snapshot.gates.last().filter(|g| g.decided_at_ms.is_some());
    match last {
        Some(g) => AlertKind::Decided {
            decision: match g.status {
                GateStatus::Denied => "rejected".into(),
                _ => "approved".into(),
            },
            by: g.decided_by.clone(),
        },
        None => AlertKind::Decided {
            decision: format!("{} before its gate was decided", now.as_str()),
            by: None,
        },
    }
}
