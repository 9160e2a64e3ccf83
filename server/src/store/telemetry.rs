//! Figures `/metrics` reads from the store at each scrape.
use super::Store;
use crate::error::Result;

impl Store {
    /// Unexpired sessions, and runs by status, for `/metrics`.
    pub async fn telemetry_figures(&self, now_ms: i64) -> Result<(i64, Vec<(String, i64)>)> {
        self.read(move |c| {
            let sessions: i64 = c.query_row(
                "SELECT COUNT(*) FROM sessions WHERE expires_at_ms > ?1",
                [now_ms],
                |r| r.get(0),
            )?;
            let mut stmt = c.prepare_cached("SELECT status, COUNT(*) FROM runs GROUP BY status")?;
            let runs = stmt
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?;
            Ok((sessions, runs))
        })
        .await
    }
}
