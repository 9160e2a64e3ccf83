//! Rate-limit failures seen in runs, per provider, and what they add up to now.
use super::Store;
use crate::error::Result;
use domain::credentials::{RateLimitState, LIMITED_FOR_MS};
use rusqlite::params;
use std::collections::BTreeMap;

/// One failure: the run, when, whose limit, and the words.
#[derive(Debug, Clone, PartialEq)]
pub struct RateLimitEvent {
    pub run_id: String,
    pub at_ms: i64,
    pub provider: String,
    pub message: String,
}

impl Store {
    /// Keeps each failure once, however often the run is re-read.
    pub async fn record_rate_limits(&self, events: Vec<RateLimitEvent>) -> Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        self.call(move |c| {
            let tx = c.transaction()?;
            for e in &events {
                tx.execute(
                    "INSERT OR IGNORE INTO rate_limit_events (run_id, at_ms, provider, message) \
                     VALUES (?1, ?2, ?3, ?4)",
                    params![e.run_id, e.at_ms, e.provider, e.message],
                )?;
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }

    /// Each provider that hit a limit in the last day: limited now, the last failure,
    /// and how many there were.
    pub async fn rate_limit_states(&self, now_ms: i64) -> Result<BTreeMap<String, RateLimitState>> {
        self.call(move |c| {
            let mut stmt = c.prepare(
                "SELECT provider, COUNT(*), MAX(at_ms) FROM rate_limit_events \
                 WHERE at_ms >= ?1 GROUP BY provider",
            )?;
            let counts: Vec<(String, u32, i64)> = stmt
                .query_map([now_ms - 86_400_000], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })?
                .collect::<rusqlite::Result<_>>()?;
            let mut last = c.prepare(
                "SELECT run_id, message FROM rate_limit_events \
                 WHERE provider = ?1 AND at_ms = ?2 LIMIT 1",
            )?;
            let mut states = BTreeMap::new();
            for (provider, events_24h, at_ms) in counts {
                let (run, message): (String, String) =
                    last.query_row(params![provider, at_ms], |r| Ok((r.get(0)?, r.get(1)?)))?;
                states.insert(
                    provider,
                    RateLimitState {
                        limited: now_ms - at_ms < LIMITED_FOR_MS,
                        last_at_ms: Some(at_ms),
                        last_run: Some(run),
                        last_message: Some(message),
                        events_24h,
                    },
                );
            }
            Ok(states)
        })
        .await
    }
}
