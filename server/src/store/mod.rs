//! The server's own state in SQLite (runs, run events, audit log), under the data dir.
//! One writing connection behind a mutex ([`Store::call`]) and a few read-only ones
//! ([`Store::read`]); every call runs on the blocking pool.
mod audit;
mod backups;
mod board;
mod credentials;
mod env;
mod metrics;
mod migrations;
mod notify;
mod readers;
mod runs;
mod schedules;
mod settings;
mod specs;
mod telemetry;

pub use audit::AuditEntry;
pub use credentials::RateLimitEvent;
pub use env::{StaleVersion, StoredEnvSet};
pub use notify::{OutboxItem, StoredChannel, StoredSubscription, TokenUse};
pub use runs::{ExecChange, NewEvent, NewRun, RunRecord, Transition, UpdateOutcome};
pub use schedules::{pending, FireId, NewFire, StoredSchedule};
pub use specs::{SpecWrite, Stamp};

use crate::error::Result;
use rusqlite::Connection;
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

#[derive(Clone)]
pub struct Store {
    conn: Arc<Mutex<Connection>>,
    readers: Arc<readers::Readers>,
    /// Bumped after every call on the writing connection that changed a row: what was
    /// read before a bump may be out of date after it (the page cache keys on it). Calls
    /// that change nothing (the outbox's polls, a touch of nothing) leave it be.
    writes: Arc<std::sync::atomic::AtomicU64>,
    /// Settings as last read or written (run pages read the price table and links on
    /// every view); this store is the only writer while the server runs.
    settings: Arc<Mutex<HashMap<&'static str, Option<String>>>>,
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
            readers: Arc::new(readers::Readers::new(
                path.to_path_buf(),
                readers::Readers::default_size(),
            )),
            writes: Arc::default(),
            settings: Default::default(),
        })
    }

    /// Runs a read on one of the read-only connections: it sees every committed write
    /// and waits for no writer.
    pub async fn read<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        use tracing::Instrument;
        self.readers.read(f).instrument(span_for::<F>()).await
    }

    /// Runs `f` with the writing connection on the blocking pool.
    pub async fn call<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    {
        let conn = self.conn.clone();
        let writes = self.writes.clone();
        let span = span_for::<F>();
        tokio::task::spawn_blocking(move || {
            span.in_scope(|| {
                let mut guard = conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                let before = guard.total_changes();
                let out = f(&mut guard);
                if guard.total_changes() != before {
                    writes.fetch_add(1, std::sync::atomic::Ordering::Release);
                }
                out
            })
        })
        .await?
    }

    /// Changes with every call on the writing connection that changed a row.
    pub fn write_version(&self) -> u64 {
        self.writes.load(std::sync::atomic::Ordering::Acquire)
    }
}

/// A trace span for a store call, only beneath a request or a service call: the
/// watcher's own ticks would otherwise send a trace every 50 ms.
fn span_for<F>() -> tracing::Span {
    if tracing::Span::current().is_none() {
        tracing::Span::none()
    } else {
        tracing::info_span!("store", op = operation::<F>())
    }
}

/// The store method a closure was written in, for its trace span:
/// `fabrik_server::store::runs::<impl …Store>::list::{{closure}}` → `runs::list`.
fn operation<F>() -> String {
    operation_of(std::any::type_name::<F>())
}

fn operation_of(type_name: &str) -> String {
    let mut depth = 0;
    let plain: String = type_name
        .chars()
        .filter(|c| {
            match c {
                '<' => depth += 1,
                '>' => depth -= 1,
                _ => return depth == 0,
            }
            false
        })
        .collect();
    let parts: Vec<&str> = plain
        .split("::")
        .filter(|p| !p.is_empty() && !p.starts_with('{'))
        .collect();
    let from = parts.iter().position(|p| *p == "store").unwrap_or(0) + 1;
    parts[from.min(parts.len())..].join("::")
}

#[cfg(test)]
mod operation_tests {
    #[test]
    fn a_closures_type_name_becomes_its_store_method() {
        let name = "fabrik_server::store::runs::<impl fabrik_server::store::Store>::list::{{closure}}::{{closure}}";
        assert_eq!(super::operation_of(name), "runs::list");
        assert_eq!(
            super::operation_of("fabrik_server::service::x::{{closure}}"),
            "service::x"
        );
    }
}
