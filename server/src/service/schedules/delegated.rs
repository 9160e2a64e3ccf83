//! Schedules a backend fires by itself (a cluster's CronJobs): the backend is told of
//! every change, and the runs it starts are stored as the schedule's dispatch would
//! store them, each with its fire in the schedule's history — once, whoever sees the
//! run first (the trigger that made it, or the watcher that found it).
use super::fire::scheduler_actor;
use crate::backend::{ScheduledLaunch, ScheduledRun, EACH_RUN_ID};
use crate::clock::now_ms;
use crate::error::Result;
use crate::service::{audit_entry, Service};
use crate::store::{NewEvent, NewFire, StoredSchedule};
use domain::dispatch::DispatchRequest;
use domain::schedule::FireOutcome;
use std::sync::Arc;

impl Service {
    /// The schedule as the backend keeps it, checked as its dispatch would be, with the
    /// keys its runs get from rotated pools (republished at each rotation).
    async fn scheduled_launch(&self, stored: &StoredSchedule) -> Result<ScheduledLaunch> {
        let s = &stored.schedule;
        let mut launch = self.plan_run(s.dispatch.clone(), EACH_RUN_ID).await?.launch;
        launch.credential_picks = self.credential_picks().await;
        Ok(ScheduledLaunch {
            name: s.name.clone(),
            cron: s.cron.clone(),
            timezone: s.timezone.clone(),
            concurrency: s.concurrency,
            suspended: stored.suspended,
            launch,
        })
    }

    /// Hands the schedule, as it is to be stored, to a backend that fires schedules.
    pub(super) async fn publish_schedule(&self, stored: &StoredSchedule) -> Result<()> {
        if !self.backend.fires_schedules() {
            return Ok(());
        }
        let launch = self.scheduled_launch(stored).await?;
        self.backend.publish_schedule(&launch).await
    }

    /// Every stored schedule, handed to the backend: at start, so what changed while
    /// the cluster was unreachable gets there too.
    pub async fn publish_schedules(self: Arc<Self>) {
        self.refresh_schedules(|_| true).await
    }

    /// The schedules whose dispatch `uses` something that changed (an env set, a
    /// spec) are handed to the backend again, so their next runs get it. Failures are
    /// logged: the store has the change, and the next start publishes it again.
    pub(crate) async fn refresh_schedules(&self, uses: impl Fn(&DispatchRequest) -> bool) {
        if !self.backend.fires_schedules() {
            return;
        }
        let schedules = match self.store.schedules().await {
            Ok(s) => s,
            Err(e) => {
                return tracing::warn!(error = %e.public().message, "listing schedules to publish")
            }
        };
        for stored in schedules.iter().filter(|s| uses(&s.schedule.dispatch)) {
            if let Err(e) = self.publish_schedule(stored).await {
                tracing::warn!(schedule = %stored.schedule.name, error = %e.public().message, "publishing a schedule");
            }
        }
    }

    /// Stores run `run_id` the backend's schedule started, unless it is stored already;
    /// says whether it did. The caller holds the run's lock. A run whose schedule is
    /// gone, or whose dispatch no longer holds, is left to be stored as a found run.
    pub(crate) async fn adopt_scheduled(&self, run_id: &str, run: &ScheduledRun) -> Result<bool> {
        if self.store.get_run(run_id).await?.is_some() {
            return Ok(true);
        }
        let Some(stored) = self.store.schedule(&run.schedule).await? else {
            return Ok(false);
        };
        let name = &stored.schedule.name;
        let planned = match self
            .plan_run(stored.schedule.dispatch.clone(), run_id)
            .await
        {
            Ok(planned) => planned,
            Err(e) => {
                tracing::warn!(schedule = %name, %run_id, error = %e.public().message, "a scheduled run listed as found");
                return Ok(false);
            }
        };
        let actor = scheduler_actor(name);
        let how = if run.manual { "Triggered" } else { "Fired" };
        let event = NewEvent::new(
            "dispatched",
            format!(
                "{how} by schedule {name} with template {}",
                planned.template.name
            ),
            Some(&actor.name),
        );
        let detail = Some(format!("template={}", planned.template.name));
        let audit = audit_entry(&actor, "run.dispatch", run_id, detail);
        let record = self.store.insert_run(planned.new, event, audit).await?;
        self.announce(&record);
        let started = FireOutcome::Started {
            run_id: run_id.to_string(),
        };
        let fire = NewFire {
            scheduled_ms: run.scheduled_at_ms,
            fired_at_ms: now_ms(),
            kind: if run.manual { "manual" } else { "cron" },
            outcome: started.clone(),
        };
        if let Some(ids) = self
            .store
            .claim_fire(name, None, stored.next_fire_ms, vec![fire])
            .await?
        {
            self.store.record_fire(ids[0], started).await?;
        }
        Ok(true)
    }

    /// "Trigger now" where the backend fires schedules: a run from the backend's
    /// schedule, stored at once; a refusal is recorded as the fire's outcome.
    pub(super) async fn trigger_in_backend(&self, name: &str) -> Result<()> {
        let now = now_ms();
        match self.backend.trigger_schedule(name).await {
            Ok(run_id) => {
                let _lock = self.locks.lock(&run_id).await;
                let run = ScheduledRun {
                    schedule: name.to_string(),
                    scheduled_at_ms: now,
                    manual: true,
                };
                self.adopt_scheduled(&run_id, &run).await?;
            }
            Err(e) => {
                let stored = self.stored_schedule(name).await?;
                let failed = NewFire {
                    scheduled_ms: now,
                    fired_at_ms: now,
                    kind: "manual",
                    outcome: FireOutcome::Failed {
                        error: e.public().message,
                    },
                };
                self.store
                    .claim_fire(name, None, stored.next_fire_ms, vec![failed])
                    .await?;
            }
        }
        Ok(())
    }
}
