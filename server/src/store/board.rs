//! What the `/runs` board and activity feed read: the active runs (newest first) and
//! the most recent lines of every run's own timeline.
use super::runs::{RunRecord, COLUMNS};
use super::Store;
use crate::error::Result;
use domain::board::ActivityItem;

impl Store {
    /// Runs not yet ended (pending, running, at a gate), newest first, at most `limit`.
    pub async fn board_runs(&self, limit: u32) -> Result<Vec<RunRecord>> {
        self.read(move |c| {
            let mut stmt = c.prepare(&format!(
                "SELECT {COLUMNS} FROM runs
                 WHERE status IN ('pending', 'running', 'waiting-approval')
                 ORDER BY created_at_ms DESC, run_id DESC LIMIT ?1"
            ))?;
            let rows = stmt.query_map([limit], RunRecord::from_row)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    /// The newest `limit` timeline lines of all runs, newest first.
    pub async fn activity(&self, limit: u32) -> Result<Vec<ActivityItem>> {
        self.read(move |c| {
            let mut stmt = c.prepare(
                "SELECT run_id, at_ms, kind, message, actor FROM run_events
                 ORDER BY id DESC LIMIT ?1",
            )?;
            let rows = stmt.query_map([limit], |r| {
                Ok(ActivityItem {
                    run_id: r.get(0)?,
                    at_ms: r.get(1)?,
                    kind: r.get(2)?,
                    message: r.get(3)?,
                    actor: r.get(4)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }
}
