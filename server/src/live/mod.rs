//! Keeps stored run state in step with reality: applies process events from the backend
//! and notices Smithers DB writes of watched runs ([`watch`]). Each run is refreshed on
//! its own task, so one slow DB never delays the others.
mod fs_events;
mod schedule;
mod watch;

pub use watch::{FALLBACK_POLL, POLL};

use crate::backend::ExecEvent;
use crate::service::Service;
use std::sync::Arc;
use tokio::sync::mpsc::UnboundedReceiver;

pub fn spawn(service: Arc<Service>, exec_events: UnboundedReceiver<ExecEvent>) {
    tokio::spawn(apply_exec_events(service.clone(), exec_events));
    tokio::spawn(watch::watch_run_dbs(service));
}

async fn apply_exec_events(service: Arc<Service>, mut events: UnboundedReceiver<ExecEvent>) {
    while let Some(event) = events.recv().await {
        if let Err(e) = service.on_exec_event(event.clone()).await {
            tracing::warn!(?event, error = %e, "could not apply a process event");
        }
    }
}
