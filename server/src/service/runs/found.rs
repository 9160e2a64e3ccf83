//! Runs the backend found that this server didn't start (the fabrik CLI's Jobs in a
//! cluster): stored on first sight, kept in step with their Job after that.
use crate::backend::ExternalRun;
use crate::clock::now_ms;
use crate::error::Result;
use crate::service::Service;
use crate::store::{AuditEntry, ExecChange, NewEvent, NewRun, Transition};

/// The template a found run is listed under.
pub const FOUND_TEMPLATE: &str = "fabrik-cli";

impl Service {
    pub(super) async fn on_found(&self, run: ExternalRun) -> Result<()> {
        let _lock = self.locks.lock(&run.run_id).await;
        match self.store.get_run(&run.run_id).await? {
            // One of ours: its pod's exit keeps it current.
            Some(record) if record.template != FOUND_TEMPLATE => return Ok(()),
            Some(record)
                if record.exec_state == run.exec
                    && record.exit_code == run.exit_code
                    && run
                        .reported
                        .as_ref()
                        .is_none_or(|r| r.progress == record.progress && r.task == record.task) =>
            {
                return Ok(())
            }
            Some(_) => {}
            None => self.store_new(&run).await?,
        }
        let change = Transition {
            exec: Some(ExecChange {
                state: run.exec,
                pid: None,
                exit_code: run.exit_code,
                detail: None,
            }),
            started_at_ms: run.started_at_ms,
            reported: run.reported.clone().map(|r| (r.progress, r.task)),
            ..Default::default()
        };
        self.store.transition(&run.run_id, change, now_ms()).await?;
        self.observe_locked(&run.run_id).await?;
        Ok(())
    }

    /// A run one of our schedules started is stored as its dispatch would be; any
    /// other as found.
    async fn store_new(&self, run: &ExternalRun) -> Result<()> {
        if let Some(scheduled) = &run.scheduled {
            if self.adopt_scheduled(&run.run_id, scheduled).await? {
                return Ok(());
            }
        }
        self.store_found(run).await
    }

    async fn store_found(&self, run: &ExternalRun) -> Result<()> {
        let at = run.created_at_ms.unwrap_or_else(now_ms);
        let layout = self.backend.layout(&run.run_id);
        let new = NewRun {
            run_id: run.run_id.clone(),
            template: FOUND_TEMPLATE.into(),
            workflow: None,
            spec: run.spec.clone(),
            project: run.project.clone(),
            env: None,
            options: Default::default(),
            backend: self.backend.name().into(),
            created_at_ms: at,
            workspace: layout.workspace.display().to_string(),
            db_path: layout.db_path.display().to_string(),
            log_path: layout.log_path.display().to_string(),
        };
        let found = NewEvent::new(
            "found",
            format!(
                "Found Job {} in the cluster (made by the fabrik CLI)",
                run.job
            ),
            None,
        );
        let audit = AuditEntry {
            at_ms: now_ms(),
            actor: "cluster".into(),
            source: None,
            action: "run.found".into(),
            target: Some(run.run_id.clone()),
            detail: Some(run.job.clone()),
        };
        self.store.insert_run(new, found, audit).await?;
        Ok(())
    }
}
