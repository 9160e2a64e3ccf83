//! The server's own state in SQLite (runs, run events, audit log), under the data dir.
//! One connection behind a mutex; every call runs on the blocking pool.
mod audit;
mod backups;
mod env;
mod metrics;
mod migrations;
mod notify;
mod runs;
mod schedules;
mod settings;
mod specs;
mod telemetry;

pub use audit::AuditEntry;
pub use env::{StaleVersion, StoredEnvSet};
pub use notify::{OutboxItem, StoredChannel, StoredSubscription, TokenUse};
pub use runs::{ExecChange, NewEvent, NewRun, RunRecord, Transition, UpdateOutcome};
pub use schedules::{pending, FireId, NewFire, StoredSchedule};
pub use specs::{SpecWrite, Stamp};

use crate::error::Result;
use rusqlite::Connection;
use std::path::Path;
use std::sync::{Arc, Mutex};

#[derive(Clone)]
pub struct Store {
    conn: Arc<Mutex<Connection>>,
}

impl Store {
    pub fn open(path: &Path) -> Result<Store> {
        let mut conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        migrations::apply(&mut conn)?;
        Ok(Store {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Runs `f` with the connection on the blocking pool.
    pub async fn call<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            f(&mut guard)
        })
        .await?
    }
}
