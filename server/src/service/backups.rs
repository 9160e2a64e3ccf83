//! "Back up now" and the history of backups (admins). The copying itself is
//! [`crate::backup`], shared with `fabrik-server backup`.
use super::{public, Service};
use crate::backend::artifacts::FileOwner;
use crate::backup::{self, RunFiles};
use crate::clock::now_ms;
use crate::error::Result;
use crate::store::Store;
use domain::auth::Action;
use domain::backup::BackupView;
use domain::service::{Actor, BackupService};
use std::path::PathBuf;

pub(crate) struct Backups {
    dir: PathBuf,
    /// One backup at a time.
    running: tokio::sync::Mutex<()>,
}

impl Backups {
    pub fn new(dir: PathBuf) -> Backups {
        Backups {
            dir,
            running: tokio::sync::Mutex::new(()),
        }
    }
}

/// What a backup of the store's runs includes.
pub async fn run_files(store: &Store, owner: FileOwner) -> Result<Vec<RunFiles>> {
    Ok(store
        .run_paths()
        .await?
        .into_iter()
        .map(|(run_id, db, log)| RunFiles {
            run_id,
            db: db.into(),
            log: log.into(),
            owner,
        })
        .collect())
}

#[async_trait::async_trait]
impl BackupService for Service {
    async fn backups(&self, actor: &Actor) -> domain::Result<Vec<BackupView>> {
        actor.role.require(Action::Backup)?;
        public(self.store.backups().await)
    }

    async fn back_up_now(&self, actor: &Actor) -> domain::Result<BackupView> {
        actor.role.require(Action::Backup)?;
        let Ok(_running) = self.backups.running.try_lock() else {
            return Err(domain::Error::conflict(
                "A backup is already running; it shows in the history when it ends.",
            ));
        };
        let id = public(self.store.backup_started(now_ms(), &actor.name).await)?;
        let runs = public(run_files(&self.store, self.backend.file_owner()).await)?;
        let (data_dir, dir) = (self.data_dir.clone(), self.backups.dir.clone());
        let made =
            tokio::task::spawn_blocking(move || backup::create(&data_dir, &dir, &runs, now_ms()))
                .await
                .map_err(|e| domain::Error::internal(format!("The backup stopped: {e}")))?;
        let outcome = match &made {
            Ok((path, manifest)) => Ok((
                path.display().to_string(),
                manifest.bytes,
                manifest.runs.len() as u64,
            )),
            Err(e) => Err(e.to_string()),
        };
        public(self.store.backup_finished(id, now_ms(), outcome).await)?;
        self.audit_backup(actor, &made).await;
        if let Err(e) = made {
            return Err(domain::Error::unavailable(format!(
                "The backup failed and nothing was kept: {e}. Check that {} is writable and has room.",
                self.backups.dir.display()
            )));
        }
        let all = public(self.store.backups().await)?;
        all.into_iter()
            .find(|b| b.id == id)
            .ok_or_else(|| domain::Error::internal("The backup vanished from the history."))
    }
}

impl Service {
    async fn audit_backup(
        &self,
        actor: &Actor,
        made: &std::result::Result<(PathBuf, backup::Manifest), backup::BackupError>,
    ) {
        let detail = match made {
            Ok((path, m)) => format!(
                "{} ({} runs, {} bytes)",
                path.display(),
                m.runs.len(),
                m.bytes
            ),
            Err(e) => format!("failed: {e}"),
        };
        let entry = super::audit_entry(actor, "backup.create", "store", Some(detail));
        if let Err(e) = self.store.audit(entry).await {
            tracing::warn!(error = %e, "could not record the backup in the audit log");
        }
    }
}
