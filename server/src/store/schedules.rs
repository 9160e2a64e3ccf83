//! Schedules and their fires. A fire is claimed by moving the schedule's next fire time
//! on, in the same transaction that records it: a cron time is handled once, however
//! many ticks or restarts race for it.
use super::audit::commit_audited;
use super::{AuditEntry, Store};
use crate::error::Result;
use domain::schedule::{FireOutcome, NewSchedule, ScheduleFire};
use rusqlite::params;

/// A schedule as stored.
#[derive(Debug, Clone)]
pub struct StoredSchedule {
    pub schedule: NewSchedule,
    pub suspended: bool,
    pub next_fire_ms: Option<i64>,
    pub created_at_ms: i64,
    pub created_by: String,
}

/// A fire to record when claiming: when the cron named, how it came about, and (for a
/// run about to start) `Started` is written once the run exists.
#[derive(Debug, Clone)]
pub struct NewFire {
    pub scheduled_ms: i64,
    pub fired_at_ms: i64,
    pub kind: &'static str,
    pub outcome: FireOutcome,
}

/// What a claimed fire is called by, to record its outcome later.
pub type FireId = i64;

/// The outcome a fire has until its run starts.
pub fn pending() -> FireOutcome {
    FireOutcome::Failed {
        error: "The server stopped before the run started.".into(),
    }
}

impl Store {
    pub async fn schedules(&self) -> Result<Vec<StoredSchedule>> {
        self.select_schedules("ORDER BY name", Vec::new()).await
    }

    pub async fn schedule(&self, name: &str) -> Result<Option<StoredSchedule>> {
        let found = self
            .select_schedules("WHERE name = ?1", vec![name.to_string().into()])
            .await?;
        Ok(found.into_iter().next())
    }

    /// Schedules that should fire at `now_ms` (what the scheduler reads every second).
    pub async fn due_schedules(&self, now_ms: i64) -> Result<Vec<StoredSchedule>> {
        self.select_schedules(
            "WHERE suspended = 0 AND next_fire_ms <= ?1 ORDER BY name",
            vec![now_ms.into()],
        )
        .await
    }

    async fn select_schedules(
        &self,
        rest: &'static str,
        args: Vec<rusqlite::types::Value>,
    ) -> Result<Vec<StoredSchedule>> {
        self.call(move |c| {
            let mut stmt = c.prepare(&format!(
                "SELECT body, suspended, next_fire_ms, created_at_ms, created_by FROM schedules {rest}"
            ))?;
            let rows = stmt
                .query_map(rusqlite::params_from_iter(args), |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                    ))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            rows.into_iter()
                .map(|(body, suspended, next_fire_ms, created_at_ms, created_by)| {
                    Ok(StoredSchedule {
                        schedule: serde_json::from_str(&body)?,
                        suspended,
                        next_fire_ms,
                        created_at_ms,
                        created_by,
                    })
                })
                .collect()
        })
        .await
    }

    /// Stores a new schedule; false when the name is taken.
    pub async fn insert_schedule(&self, s: StoredSchedule, audit: AuditEntry) -> Result<bool> {
        self.call(move |c| {
            let tx = c.transaction()?;
            let n = tx.execute(
                "INSERT OR IGNORE INTO schedules (name, body, suspended, next_fire_ms, created_at_ms, created_by) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    s.schedule.name,
                    serde_json::to_string(&s.schedule)?,
                    s.suspended,
                    s.next_fire_ms,
                    s.created_at_ms,
                    s.created_by
                ],
            )?;
            Ok(commit_audited(tx, n, &audit)?)
        })
        .await
    }

    pub async fn delete_schedule(&self, name: &str, audit: AuditEntry) -> Result<bool> {
        let name = name.to_string();
        self.call(move |c| {
            let tx = c.transaction()?;
            tx.execute("DELETE FROM schedule_fires WHERE schedule = ?1", [&name])?;
            let n = tx.execute("DELETE FROM schedules WHERE name = ?1", [&name])?;
            Ok(commit_audited(tx, n, &audit)?)
        })
        .await
    }

    /// Suspends or resumes; a resumed schedule fires next at `next_fire_ms`.
    pub async fn set_suspended(
        &self,
        name: &str,
        suspended: bool,
        next_fire_ms: Option<i64>,
        audit: AuditEntry,
    ) -> Result<bool> {
        let name = name.to_string();
        self.call(move |c| {
            let tx = c.transaction()?;
            let n = tx.execute(
                "UPDATE schedules SET suspended = ?2, next_fire_ms = ?3 WHERE name = ?1",
                params![name, suspended, next_fire_ms],
            )?;
            Ok(commit_audited(tx, n, &audit)?)
        })
        .await
    }

    /// Claims the cron time `expected` of `name`: moves the next fire to `next` and
    /// records `fires`, unless another claim got there first (`None`). Returns the id of
    /// the last fire recorded.
    pub async fn claim_fire(
        &self,
        name: &str,
        expected: Option<i64>,
        next: Option<i64>,
        fires: Vec<NewFire>,
    ) -> Result<Option<Vec<FireId>>> {
        let name = name.to_string();
        self.call(move |c| {
            let tx = c.transaction()?;
            let moved = tx.execute(
                "UPDATE schedules SET next_fire_ms = ?3 WHERE name = ?1 AND next_fire_ms IS ?2",
                params![name, expected, next],
            )?;
            if moved == 0 && expected.is_some() {
                return Ok(None);
            }
            let mut ids = Vec::new();
            for fire in &fires {
                let inserted = tx.execute(
                    "INSERT OR IGNORE INTO schedule_fires (schedule, scheduled_ms, fired_at_ms, kind, outcome) \
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![name, fire.scheduled_ms, fire.fired_at_ms, fire.kind, serde_json::to_string(&fire.outcome)?],
                )?;
                if inserted == 0 {
                    return Ok(None);
                }
                ids.push(tx.last_insert_rowid());
            }
            tx.commit()?;
            Ok(Some(ids))
        })
        .await
    }

    pub async fn record_fire(&self, id: FireId, outcome: FireOutcome) -> Result<()> {
        self.call(move |c| {
            let run_id = match &outcome {
                FireOutcome::Started { run_id } => Some(run_id.clone()),
                _ => None,
            };
            c.execute(
                "UPDATE schedule_fires SET outcome = ?2, run_id = ?3 WHERE id = ?1",
                params![id, serde_json::to_string(&outcome)?, run_id],
            )?;
            Ok(())
        })
        .await
    }

    /// The schedule's fires, newest first, with each started run's status now.
    pub async fn schedule_fires(&self, name: &str, limit: usize) -> Result<Vec<ScheduleFire>> {
        let name = name.to_string();
        self.call(move |c| {
            let mut stmt = c.prepare(
                "SELECT f.scheduled_ms, f.fired_at_ms, f.kind, f.outcome, r.status \
                 FROM schedule_fires f LEFT JOIN runs r ON r.run_id = f.run_id \
                 WHERE f.schedule = ?1 ORDER BY f.id DESC LIMIT ?2",
            )?;
            let rows = stmt
                .query_map(params![name, limit as i64], |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        r.get(4)?,
                    ))
                })?
                .collect::<rusqlite::Result<Vec<(i64, i64, String, String, Option<String>)>>>()?;
            rows.into_iter()
                .map(|(scheduled_ms, fired_at_ms, kind, outcome, run_status)| {
                    Ok(ScheduleFire {
                        scheduled_ms,
                        fired_at_ms,
                        kind,
                        outcome: serde_json::from_str(&outcome)?,
                        run_status,
                    })
                })
                .collect()
        })
        .await
    }

    /// Runs started by the schedule that have not ended.
    pub async fn active_schedule_runs(&self, name: &str) -> Result<Vec<String>> {
        let name = name.to_string();
        self.call(move |c| {
            let mut stmt = c.prepare(
                "SELECT r.run_id FROM schedule_fires f JOIN runs r ON r.run_id = f.run_id \
                 WHERE f.schedule = ?1 AND r.status NOT IN ('finished', 'failed', 'cancelled')",
            )?;
            let ids = stmt
                .query_map([&name], |r| r.get(0))?
                .collect::<rusqlite::Result<Vec<String>>>()?;
            Ok(ids)
        })
        .await
    }
}
