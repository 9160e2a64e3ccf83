//! The embedded scheduler's tick: for each due schedule, claim its cron time (once),
//! record fires missed while the server was down, catch up the latest one, and start
//! the run under the schedule's concurrency policy.
use super::cron::CronSchedule;
use crate::error::Result;
use crate::service::Service;
use crate::store::{pending, NewFire, StoredSchedule};
use domain::auth::Role;
use domain::schedule::{ConcurrencyPolicy, FireOutcome};
use domain::service::Actor;
use std::sync::Arc;

/// Cron times counted past this many are not walked one by one (a schedule of every
/// minute, down for weeks); the missed count says "at least".
const MAX_WALK: u32 = 10_000;

/// What a due schedule's tick decided.
#[derive(Debug, PartialEq, Eq)]
struct Due {
    /// The latest cron time at or before now: it fires (once).
    latest: i64,
    /// Earlier cron times that passed unhandled.
    missed: u32,
    /// The first cron time after now.
    next: Option<i64>,
}

fn due(cron: &CronSchedule, first: i64, now: i64) -> Due {
    let (mut latest, mut missed) = (first, 0);
    let mut next = cron.next_after(first);
    while let Some(t) = next.filter(|t| *t <= now) {
        latest = t;
        missed += 1;
        next = if missed >= MAX_WALK {
            cron.next_after(now)
        } else {
            cron.next_after(t)
        };
    }
    Due {
        latest,
        missed,
        next,
    }
}

/// Who the scheduler acts as in runs and the audit log.
pub fn scheduler_actor(schedule: &str) -> Actor {
    Actor {
        name: format!("schedule:{schedule}"),
        role: Role::Operator,
        from: None,
    }
}

impl Service {
    /// Handles every schedule due at `now_ms`. The background loop calls it each
    /// second; tests call it with the times they want.
    pub async fn schedule_tick(&self, now_ms: i64) -> Result<()> {
        if self.backend.fires_schedules() {
            return Ok(());
        }
        for stored in self.store.due_schedules(now_ms).await? {
            if let Err(e) = self.tick_one(&stored, now_ms).await {
                tracing::warn!(schedule = %stored.schedule.name, error = %e, "schedule tick failed");
            }
        }
        Ok(())
    }

    async fn tick_one(&self, stored: &StoredSchedule, now: i64) -> Result<()> {
        let s = &stored.schedule;
        let Some(first) = stored.next_fire_ms.filter(|t| *t <= now) else {
            return Ok(());
        };
        let cron = CronSchedule::parse(&s.cron, &s.timezone)?;
        let d = due(&cron, first, now);
        let mut fires = Vec::new();
        if d.missed > 0 {
            fires.push(NewFire {
                scheduled_ms: first,
                fired_at_ms: now,
                kind: "cron",
                outcome: FireOutcome::Missed { count: d.missed },
            });
        }
        // On time within a minute is a normal fire; later is the one catch-up.
        let kind = if d.missed == 0 && now - d.latest < 60_000 {
            "cron"
        } else {
            "catch-up"
        };
        fires.push(NewFire {
            scheduled_ms: d.latest,
            fired_at_ms: now,
            kind,
            outcome: pending(),
        });
        let Some(ids) = self
            .store
            .claim_fire(&s.name, Some(first), d.next, fires)
            .await?
        else {
            return Ok(()); // another tick claimed it
        };
        let fire = *ids.last().expect("the fire was recorded");
        let outcome = self.fire(&s.name, s.concurrency).await;
        self.store.record_fire(fire, outcome).await
    }

    /// Starts the schedule's run as its policy says, and how that went.
    pub(crate) async fn fire(&self, name: &str, policy: ConcurrencyPolicy) -> FireOutcome {
        match self.fire_inner(name, policy).await {
            Ok(outcome) => outcome,
            Err(e) => FireOutcome::Failed {
                error: e.public().message,
            },
        }
    }

    async fn fire_inner(&self, name: &str, policy: ConcurrencyPolicy) -> Result<FireOutcome> {
        let Some(stored) = self.store.schedule(name).await? else {
            return Ok(FireOutcome::Failed {
                error: "The schedule was deleted.".into(),
            });
        };
        let actor = scheduler_actor(name);
        let active = self.store.active_schedule_runs(name).await?;
        match (policy, active.as_slice()) {
            (ConcurrencyPolicy::Forbid, [run, ..]) => {
                return Ok(FireOutcome::Skipped {
                    reason: format!("Run {run} from the previous fire is still going (Forbid)."),
                })
            }
            (ConcurrencyPolicy::Replace, running) => {
                for run in running {
                    self.cancel_run(&actor, run).await?;
                }
            }
            _ => {}
        }
        let dispatched = self
            .dispatch_run(&actor, stored.schedule.dispatch.clone())
            .await?;
        Ok(FireOutcome::Started {
            run_id: dispatched.run_id,
        })
    }

    /// Ticks every second until the server stops.
    pub fn spawn_scheduler(self: &Arc<Self>) {
        let service = self.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(std::time::Duration::from_secs(1));
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            loop {
                every.tick().await;
                if let Err(e) = service.schedule_tick(crate::clock::now_ms()).await {
                    tracing::warn!(error = %e, "scheduler tick failed");
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn downtime_gives_one_catch_up_and_counts_the_rest() {
        let cron = CronSchedule::parse("*/10 * * * *", "UTC").unwrap();
        let m = 60_000;
        // Due at 10:00 exactly.
        assert_eq!(
            due(&cron, 600 * m, 600 * m),
            Due {
                latest: 600 * m,
                missed: 0,
                next: Some(610 * m)
            }
        );
        // Down from 10:00 to 10:35: 10:00, 10:10, 10:20 missed, 10:30 caught up.
        assert_eq!(
            due(&cron, 600 * m, 635 * m),
            Due {
                latest: 630 * m,
                missed: 3,
                next: Some(640 * m)
            }
        );
    }
}
