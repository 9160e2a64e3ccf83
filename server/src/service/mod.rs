//! The service layer behind the JSON API and the pages' server functions: every rule
//! is applied here, once. One module per capability (`runs/…`); they share the store,
//! the backend, the live channel and the per-run locks defined here.
pub(crate) mod backups;
mod credentials;
mod env;
mod fleet;
mod locks;
mod metrics;
mod notify;
pub mod runs;
pub mod schedules;
pub(crate) mod specs;

pub use notify::token_hash;

use crate::backend::Backend;
use crate::error::{Error, Result};
use crate::notify::Notifier;
use crate::sealed::Sealer;
use crate::store::{AuditEntry, RunRecord, Store};
use crate::templates::Templates;
use domain::event::LiveEvent;
use domain::service::Actor;
use domain::Error as DomainError;
use locks::RunLocks;
use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use tokio::sync::broadcast;

use crate::clock::now_ms;

pub struct Service {
    store: Store,
    backend: Arc<dyn Backend>,
    templates: Templates,
    root: PathBuf,
    /// Workflows named at dispatch are looked up from here and must lie in `workflows/`
    /// beneath one of them (the install root, the data dir).
    workflow_bases: Vec<PathBuf>,
    live: broadcast::Sender<Arc<Published>>,
    /// Every state change of a run happens under its lock, in one order.
    locks: RunLocks,
    /// Numbers Smithers observations, so an older read never overwrites a newer one.
    observations: AtomicI64,
    /// Seals env values at rest.
    sealer: Sealer,
    /// Keys every env set needs before a run may use it.
    required_env: Vec<String>,
    /// Delivers notifications from the outbox.
    notifier: Arc<Notifier>,
    data_dir: PathBuf,
    backups: backups::Backups,
    telemetry: Arc<crate::telemetry::Telemetry>,
    /// Runs whose gate could not be brought in step because their DB is gone, and when
    /// to look again.
    gate_retry: std::sync::Mutex<notify::GateRetry>,
}

/// A live event and its JSON, as every stream sends it.
#[derive(Debug)]
pub struct Published {
    pub event: LiveEvent,
    pub json: String,
}

/// What the server needs to build a [`Service`].
pub struct ServiceParts {
    pub store: Store,
    pub backend: Arc<dyn Backend>,
    pub templates: Templates,
    pub root: PathBuf,
    pub data_dir: PathBuf,
    pub sealer: Sealer,
    pub required_env: Vec<String>,
    pub notifier: Arc<Notifier>,
    /// Where "Back up now" writes.
    pub backup_dir: PathBuf,
    pub telemetry: Arc<crate::telemetry::Telemetry>,
}

impl Service {
    pub async fn new(parts: ServiceParts) -> Result<Service> {
        let (live, _) = broadcast::channel(1024);
        let last_seq = parts.store.max_observed_seq().await?;
        Ok(Service {
            workflow_bases: vec![parts.root.clone(), parts.data_dir.clone()],
            store: parts.store,
            backend: parts.backend,
            templates: parts.templates,
            root: parts.root,
            live,
            locks: RunLocks::default(),
            observations: AtomicI64::new(last_seq),
            sealer: parts.sealer,
            required_env: parts.required_env,
            notifier: parts.notifier,
            backups: backups::Backups::new(parts.backup_dir),
            telemetry: parts.telemetry,
            data_dir: parts.data_dir,
            gate_retry: Default::default(),
        })
    }

    /// Live events. Each is serialized once and shared, so a thousand open streams cost
    /// a thousand reference counts per event, not a thousand copies.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Published>> {
        self.live.subscribe()
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn backend(&self) -> &Arc<dyn Backend> {
        &self.backend
    }

    /// Notifications sent and failed, by channel and type, since the server started.
    pub fn notification_counts(&self) -> Vec<(String, String, bool, u64)> {
        self.notifier.counters.rows()
    }

    fn announce(&self, record: &RunRecord) {
        let event = LiveEvent::RunChanged {
            run: record.summary(),
        };
        match serde_json::to_string(&event) {
            Ok(json) => {
                let _ = self.live.send(Arc::new(Published { event, json }));
            }
            Err(e) => tracing::error!(error = %e, "a live event could not be serialized"),
        }
    }

    fn next_observation(&self) -> i64 {
        self.observations.fetch_add(1, Ordering::SeqCst) + 1
    }

    async fn record(&self, run_id: &str) -> Result<RunRecord> {
        self.store
            .get_run(run_id)
            .await?
            .ok_or_else(|| DomainError::run_not_found(run_id).into())
    }
}

/// An audit entry for `actor` doing `action` on `target`.
fn audit_entry(actor: &Actor, action: &str, target: &str, detail: Option<String>) -> AuditEntry {
    AuditEntry {
        at_ms: now_ms(),
        actor: actor.name.clone(),
        source: actor.from.clone(),
        action: action.into(),
        target: Some(target.into()),
        detail,
    }
}

fn public<T>(r: Result<T>) -> domain::Result<T> {
    r.map_err(|e: Error| e.public())
}
