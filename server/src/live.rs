//! Keeps stored run state in step with reality: applies process events from the backend
//! and notices Smithers DB writes of watched runs (active ones, and those waiting at a
//! gate, which may be decided outside the product). Each run is refreshed on its own
//! task, so one slow DB never delays the others.
use crate::backend::{ChangeProbe, ExecEvent};
use crate::service::Service;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc::UnboundedReceiver;

/// How often watched runs' DBs are checked for changes.
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

/// Runs being refreshed, and whether they changed again meanwhile.
type InFlight = Arc<Mutex<HashMap<String, bool>>>;

struct Watched {
    probe: Box<dyn ChangeProbe>,
    /// The last poll error, logged once until it changes.
    last_error: Option<String>,
}

async fn watch_run_dbs(service: Arc<Service>) {
    let mut watched: HashMap<String, Watched> = HashMap::new();
    let in_flight: InFlight = Arc::default();
    let mut tick = tokio::time::interval(POLL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let runs = match service.store().watched_runs().await {
            Ok(runs) => runs,
            Err(e) => {
                tracing::warn!(error = %e, "could not list the runs to watch");
                continue;
            }
        };
        watched.retain(|id, _| runs.iter().any(|r| &r.run_id == id));
        for run in runs {
            let w = watched
                .entry(run.run_id.clone())
                .or_insert_with(|| Watched {
                    probe: service.backend().change_probe(&run),
                    last_error: None,
                });
            match w.probe.changed() {
                Ok(true) => refresh_in_background(&service, &in_flight, run.run_id),
                Ok(false) => w.last_error = None,
                Err(e) if w.last_error.as_ref() != Some(&e) => {
                    tracing::warn!(run_id = %run.run_id, error = %e, "cannot watch the run database");
                    w.last_error = Some(e);
                }
                Err(_) => {}
            }
        }
    }
}

/// Refreshes the run on a task of its own. A change seen while that refresh runs marks
/// it dirty, and the task refreshes once more before it ends, so no write is missed.
fn refresh_in_background(service: &Arc<Service>, in_flight: &InFlight, run_id: String) {
    {
        let mut map = in_flight.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(dirty) = map.get_mut(&run_id) {
            *dirty = true;
            return;
        }
        map.insert(run_id.clone(), false);
    }
    let (service, in_flight) = (service.clone(), in_flight.clone());
    tokio::spawn(async move {
        loop {
            if let Err(e) = service.refresh(&run_id).await {
                tracing::warn!(%run_id, error = %e, "refreshing the run failed");
            }
            let mut map = in_flight.lock().unwrap_or_else(|p| p.into_inner());
            match map.get_mut(&run_id) {
                Some(dirty) if *dirty => *dirty = false,
                _ => {
                    map.remove(&run_id);
                    return;
                }
            }
        }
    });
}
