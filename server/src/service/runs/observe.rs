//! Observing a run's Smithers DB: `refresh` stores what it derives (the live watcher
//! and every state change call it, under the run's lock); `detail` only reads, for the
//! run page.
use crate::backend::SnapshotRead;
use crate::clock::now_ms;
use crate::error::Result;
use crate::service::Service;
use crate::store::{RunRecord, UpdateOutcome};
use domain::run::{
    ExecState, Execution, RunDetail, RunSummary, SmithersSnapshot, SmithersSource, TimelineEntry,
};
use domain::status::{self, Derived};

/// One read of a run's Smithers DB, with what it means for the run.
pub(super) struct Observed {
    pub record: RunRecord,
    pub snapshot: SmithersSnapshot,
    /// The stored summary changed and was announced.
    pub announced: bool,
}

impl Service {
    /// After the run's DB changed: re-reads it, stores the derived state and announces
    /// the run — also when only its detail changed (a gate decided outside the product,
    /// new timeline events), so open pages refetch it.
    pub async fn refresh(&self, run_id: &str) -> Result<RunSummary> {
        let _lock = self.locks.lock(run_id).await;
        let observed = self.observe_locked(run_id).await?;
        if !observed.announced {
            self.announce(&observed.record);
        }
        Ok(observed.record.summary())
    }

    /// [`Service::refresh`] for a caller that holds the run's lock.
    pub(super) async fn observe_locked(&self, run_id: &str) -> Result<Observed> {
        let seq = self.next_observation();
        let record = self.record(run_id).await?;
        let (snapshot, problem) = self.read_snapshot(&record).await;
        let derived = status::derive(&record.facts(), &snapshot, problem.as_deref(), now_ms());
        if problem.is_none() {
            self.note_rate_limits(run_id, &snapshot).await?;
        }
        let tokens = problem.is_none().then(|| snapshot.tokens.clone());
        let outcome = self
            .store
            .apply_update(run_id, derived.clone(), tokens, seq, now_ms())
            .await?;
        let record = match outcome {
            UpdateOutcome::Stale => self.record(run_id).await?,
            _ => record.with(&derived),
        };
        let announced = outcome == UpdateOutcome::Changed;
        if announced {
            self.announce(&record);
            self.sync_gate_alert(&record, &snapshot).await;
        }
        Ok(Observed {
            record,
            snapshot,
            announced,
        })
    }

    /// Everything the run page shows, derived from the DB as it is now; stores nothing.
    pub(super) async fn detail(&self, run_id: &str) -> Result<RunDetail> {
        let record = self.record(run_id).await?;
        self.backend.wanted(&record);
        let (snapshot, problem) = self.read_snapshot(&record).await;
        let now = now_ms();
        let derived: Derived = status::derive(&record.facts(), &snapshot, problem.as_deref(), now);
        let record = record.with(&derived);
        let mut timeline: Vec<TimelineEntry> = self.store.events_for(run_id).await?;
        timeline.extend(snapshot.events.iter().cloned());
        timeline.sort_by_key(|e| e.at_ms);
        Ok(RunDetail {
            summary: record.summary(),
            execution: Execution {
                backend: record.backend.clone(),
                state: record.exec_state,
                exit_code: record.exit_code,
                detail: record.exec_detail.clone(),
                protection: self.backend.protection(),
                options: record.options.clone(),
            },
            heartbeat: status::heartbeat(now, snapshot.heartbeat_at_ms, record.status),
            actions: match record.template.as_str() {
                super::found::FOUND_TEMPLATE => {
                    status::actions(record.status, &snapshot).made_elsewhere()
                }
                _ => status::actions(record.status, &snapshot),
            },
            log_bytes: self.backend.log_size(&record).await,
            cost_usd: self.prices().await.cost_of(&snapshot.tokens),
            grafana_url: self.site_links().await.grafana_for_run(run_id),
            smithers: snapshot,
            source: SmithersSource { problem },
            timeline,
            now_ms: now,
        })
    }

    /// The run's Smithers snapshot; a problem becomes words for the page, not an error.
    pub(crate) async fn read_snapshot(
        &self,
        record: &RunRecord,
    ) -> (SmithersSnapshot, Option<String>) {
        snapshot_or_problem(record, self.backend.snapshot(record).await)
    }
}

/// What a snapshot read gives the page: the snapshot, or an empty one and why.
pub(crate) fn snapshot_or_problem(
    record: &RunRecord,
    read: SnapshotRead,
) -> (SmithersSnapshot, Option<String>) {
    match read {
        SnapshotRead::Read(snapshot) => (*snapshot, None),
        SnapshotRead::Missing
            if matches!(record.exec_state, ExecState::Pending | ExecState::Running) =>
        {
            (SmithersSnapshot::default(), None)
        }
        SnapshotRead::Missing => (
            SmithersSnapshot::default(),
            Some("The run database does not exist: the run ended before Smithers started.".into()),
        ),
        SnapshotRead::Problem(p) => (SmithersSnapshot::default(), Some(p)),
    }
}
