//! Keeps stored run state in step with reality: applies process events from the backend
//! and notices Smithers DB writes of active runs (cheaply, via `PRAGMA data_version`).
use crate::backend::ExecEvent;
use crate::service::Service;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::UnboundedReceiver;

/// How often active runs' DBs are checked for changes.
pub const POLL: Duration = Duration::from_millis(50);

pub fn spawn(service: Arc<Service>, exec_events: UnboundedReceiver<ExecEvent>) {
    tokio::spawn(apply_exec_events(service.clone(), exec_events));
    tokio::spawn(watch_run_dbs(service));
}

async fn apply_exec_events(service: Arc<Service>, mut events: UnboundedReceiver<ExecEvent>) {
    while let Some(event) = events.recv().await {
        if let Err(e) = service.on_exec_event(event.clone()).await {
            tracing::warn!(?event, error = %e, "could not apply a process event");
        }
    }
}

async fn watch_run_dbs(service: Arc<Service>) {
    let mut watchers: HashMap<String, smithers::Watcher> = HashMap::new();
    let mut tick = tokio::time::interval(POLL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let active = match service.store().active_runs().await {
            Ok(runs) => runs,
            Err(e) => {
                tracing::warn!(error = %e, "could not list active runs");
                continue;
            }
        };
        watchers.retain(|id, _| active.iter().any(|r| &r.run_id == id));
        for run in active {
            let watcher = watchers
                .entry(run.run_id.clone())
                .or_insert_with(|| smithers::Watcher::new(run.db_path.clone()));
            if matches!(watcher.poll(), Ok(smithers::DbChange::Changed)) {
                if let Err(e) = service.refresh(&run.run_id).await {
                    tracing::warn!(run_id = %run.run_id, error = %e, "refresh failed");
                }
            }
        }
    }
}
