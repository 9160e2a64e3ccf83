//! The history of backups: one row per attempt, finished or failed.
use super::Store;
use crate::error::Result;
use domain::backup::BackupView;
use rusqlite::params;

/// How many backups the history shows.
const HISTORY: i64 = 50;

impl Store {
    pub async fn backup_started(&self, at_ms: i64, by: &str) -> Result<i64> {
        let by = by.to_string();
        self.call(move |c| {
            c.execute(
                "INSERT INTO backups (started_at_ms, by) VALUES (?1, ?2)",
                params![at_ms, by],
            )?;
            Ok(c.last_insert_rowid())
        })
        .await
    }

    /// Records how attempt `id` ended: its directory and size, or why it failed.
    pub async fn backup_finished(
        &self,
        id: i64,
        at_ms: i64,
        outcome: std::result::Result<(String, u64, u64), String>,
    ) -> Result<()> {
        self.call(move |c| {
            match outcome {
                Ok((path, bytes, runs)) => c.execute(
                    "UPDATE backups SET finished_at_ms = ?2, path = ?3, bytes = ?4, runs = ?5 WHERE id = ?1",
                    params![id, at_ms, path, bytes as i64, runs as i64],
                )?,
                Err(why) => c.execute(
                    "UPDATE backups SET finished_at_ms = ?2, error = ?3 WHERE id = ?1",
                    params![id, at_ms, why],
                )?,
            };
            Ok(())
        })
        .await
    }

    pub async fn backups(&self) -> Result<Vec<BackupView>> {
        self.read(|c| {
            let mut stmt = c.prepare(
                "SELECT id, started_at_ms, finished_at_ms, path, bytes, runs, error, by \
                 FROM backups ORDER BY id DESC LIMIT ?1",
            )?;
            let rows = stmt.query_map([HISTORY], |r| {
                Ok(BackupView {
                    id: r.get(0)?,
                    started_at_ms: r.get(1)?,
                    finished_at_ms: r.get(2)?,
                    path: r.get(3)?,
                    bytes: r.get::<_, i64>(4)? as u64,
                    runs: r.get::<_, i64>(5)? as u64,
                    error: r.get(6)?,
                    by: r.get(7)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }
}

impl Store {
    /// Every run's id, DB path and log path, oldest first.
    pub async fn run_paths(&self) -> Result<Vec<(String, String, String)>> {
        self.call(|c| {
            let mut stmt =
                c.prepare("SELECT run_id, db_path, log_path FROM runs ORDER BY created_at_ms")?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }
}
