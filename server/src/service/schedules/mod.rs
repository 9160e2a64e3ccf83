//! Schedules on the embedded scheduler: created only when their dispatch would be
//! accepted, fired at most once per cron time (the fire is claimed in the store before
//! the run starts), missed fires recorded, at most one catch-up after downtime, and the
//! concurrency policy applied. In a cluster, CronJobs take this over (`delegated`).
pub mod cron;
mod delegated;
mod fire;

use super::{audit_entry, public, Service};
use crate::clock::now_ms;
use crate::error::Result;
use crate::store::{pending, NewFire, StoredSchedule};
use cron::CronSchedule;
use domain::auth::Action;
use domain::schedule::{CronPreview, CronPreviewRequest, NewSchedule, ScheduleView};
use domain::service::{Actor, ScheduleService};
use domain::Error as DomainError;

/// Fires kept in a schedule's history view.
const HISTORY: usize = 20;

fn exists(name: &str) -> DomainError {
    DomainError::conflict(format!(
        "A schedule '{name}' exists already. Pick another name, or delete it first."
    ))
}

fn not_found(name: &str) -> DomainError {
    DomainError::not_found(format!("No schedule '{name}'. See /schedules."))
}

impl Service {
    async fn schedule_view(&self, stored: StoredSchedule) -> Result<ScheduleView> {
        let s = stored.schedule;
        let cron = CronSchedule::parse(&s.cron, &s.timezone).ok();
        // A backend that fires schedules keeps no next time in the store.
        let next_fire_ms = match (&cron, self.backend.fires_schedules()) {
            (Some(cron), true) => cron.next_after(now_ms()),
            _ => stored.next_fire_ms,
        }
        .filter(|_| !stored.suspended);
        let description = cron.as_ref().map(|c| c.describe()).unwrap_or_default();
        let next_fire_local = cron
            .as_ref()
            .zip(next_fire_ms)
            .map(|(c, ms)| c.wall_clock(ms));
        Ok(ScheduleView {
            history: self.store.schedule_fires(&s.name, HISTORY).await?,
            description,
            next_fire_ms,
            next_fire_local,
            suspended: stored.suspended,
            created_by: stored.created_by,
            created_at_ms: stored.created_at_ms,
            name: s.name,
            cron: s.cron,
            timezone: s.timezone,
            concurrency: s.concurrency,
            dispatch: s.dispatch,
        })
    }

    async fn stored_schedule(&self, name: &str) -> Result<StoredSchedule> {
        Ok(self
            .store
            .schedule(name)
            .await?
            .ok_or_else(|| not_found(name))?)
    }

    async fn create_one(&self, actor: &Actor, schedule: NewSchedule) -> Result<ScheduleView> {
        actor.role.require(Action::Dispatch)?;
        let schedule = schedule.normalized()?;
        let cron = CronSchedule::parse(&schedule.cron, &schedule.timezone)?;
        self.check_dispatch(&schedule.dispatch).await?;
        let now = now_ms();
        let stored = StoredSchedule {
            next_fire_ms: cron.next_after(now),
            suspended: false,
            created_at_ms: now,
            created_by: actor.name.clone(),
            schedule,
        };
        let name = stored.schedule.name.clone();
        if self.store.schedule(&name).await?.is_some() {
            return Err(exists(&name).into());
        }
        // The backend first: a schedule it can't keep is not stored.
        self.publish_schedule(&stored).await?;
        let detail = Some(format!(
            "{} ({})",
            stored.schedule.cron, stored.schedule.timezone
        ));
        let audit = audit_entry(
            actor,
            "schedule.create",
            &format!("schedule/{name}"),
            detail,
        );
        if !self.store.insert_schedule(stored, audit).await? {
            // Created meanwhile by someone else: theirs is the one the backend keeps.
            if let Some(theirs) = self.store.schedule(&name).await? {
                self.publish_schedule(&theirs).await?;
            }
            return Err(exists(&name).into());
        }
        self.schedule_view(self.stored_schedule(&name).await?).await
    }

    async fn set_suspended(
        &self,
        actor: &Actor,
        name: &str,
        suspend: bool,
    ) -> Result<ScheduleView> {
        actor.role.require(Action::Dispatch)?;
        let stored = self.stored_schedule(name).await?;
        // Resumed, it fires at its next cron time from now: times passed while
        // suspended are skipped, not caught up.
        let next = match suspend {
            true => stored.next_fire_ms,
            false => CronSchedule::parse(&stored.schedule.cron, &stored.schedule.timezone)?
                .next_after(now_ms()),
        };
        let action = if suspend {
            "schedule.suspend"
        } else {
            "schedule.resume"
        };
        let audit = audit_entry(actor, action, &format!("schedule/{name}"), None);
        let changed = StoredSchedule {
            suspended: suspend,
            next_fire_ms: next,
            ..stored
        };
        self.publish_schedule(&changed).await?;
        self.store.set_suspended(name, suspend, next, audit).await?;
        self.schedule_view(self.stored_schedule(name).await?).await
    }

    async fn trigger_now(&self, actor: &Actor, name: &str) -> Result<ScheduleView> {
        actor.role.require(Action::Dispatch)?;
        let stored = self.stored_schedule(name).await?;
        if self.backend.fires_schedules() {
            let audit = audit_entry(actor, "schedule.trigger", &format!("schedule/{name}"), None);
            self.store.audit(audit).await?;
            self.trigger_in_backend(name).await?;
            return self.schedule_view(self.stored_schedule(name).await?).await;
        }
        let now = now_ms();
        let fire = NewFire {
            scheduled_ms: now,
            fired_at_ms: now,
            kind: "manual",
            outcome: pending(),
        };
        let ids = self
            .store
            .claim_fire(name, None, stored.next_fire_ms, vec![fire])
            .await?
            .ok_or_else(|| {
                DomainError::conflict("Triggered twice in the same millisecond; try again.")
            })?;
        let audit = audit_entry(actor, "schedule.trigger", &format!("schedule/{name}"), None);
        self.store.audit(audit).await?;
        // A manual trigger is a Job made from the CronJob: it runs beside any other.
        let outcome = self
            .fire(name, domain::schedule::ConcurrencyPolicy::Allow)
            .await;
        self.store.record_fire(ids[0], outcome).await?;
        self.schedule_view(self.stored_schedule(name).await?).await
    }
}

#[async_trait::async_trait]
impl ScheduleService for Service {
    async fn list_schedules(&self, actor: &Actor) -> domain::Result<Vec<ScheduleView>> {
        actor.role.require(Action::View)?;
        let result = async {
            let mut views = Vec::new();
            for stored in self.store.schedules().await? {
                views.push(self.schedule_view(stored).await?);
            }
            Ok(views)
        };
        public(result.await)
    }

    async fn get_schedule(&self, actor: &Actor, name: &str) -> domain::Result<ScheduleView> {
        actor.role.require(Action::View)?;
        public(async { self.schedule_view(self.stored_schedule(name).await?).await }.await)
    }

    async fn create_schedule(
        &self,
        actor: &Actor,
        schedule: NewSchedule,
    ) -> domain::Result<ScheduleView> {
        public(self.create_one(actor, schedule).await)
    }

    async fn delete_schedule(&self, actor: &Actor, name: &str) -> domain::Result<()> {
        actor.role.require(Action::Dispatch)?;
        public(self.stored_schedule(name).await)?;
        public(self.backend.withdraw_schedule(name).await)?;
        let audit = audit_entry(actor, "schedule.delete", &format!("schedule/{name}"), None);
        match public(self.store.delete_schedule(name, audit).await)? {
            true => Ok(()),
            false => Err(not_found(name)),
        }
    }

    async fn suspend_schedule(
        &self,
        actor: &Actor,
        name: &str,
        suspend: bool,
    ) -> domain::Result<ScheduleView> {
        public(self.set_suspended(actor, name, suspend).await)
    }

    async fn trigger_schedule(&self, actor: &Actor, name: &str) -> domain::Result<ScheduleView> {
        public(self.trigger_now(actor, name).await)
    }

    async fn cron_preview(
        &self,
        actor: &Actor,
        request: CronPreviewRequest,
    ) -> domain::Result<CronPreview> {
        actor.role.require(Action::View)?;
        let zone = match request.tz.trim() {
            "" => "UTC",
            zone => zone,
        };
        let cron = CronSchedule::parse(request.expr.trim(), zone)?;
        Ok(CronPreview {
            description: cron.describe(),
            timezone: zone.to_string(),
            next: cron.upcoming(now_ms(), 5),
        })
    }
}
