//! Starting a run: the request checked, the launch built from its template, the run
//! stored with its audit entry, the process started and its pid stored — all under the
//! run's lock, so a cancel that arrives meanwhile waits and then finds the process.
use crate::backend::Launch;
use crate::clock::now_ms;
use crate::error::Result;
use crate::service::{audit_entry, Service};
use crate::store::{NewEvent, NewRun, RunRecord};
use domain::auth::Action;
use domain::dispatch::{check_workflow_path, DispatchRequest, Dispatched};
use domain::env::EnvVars;
use domain::service::Actor;
use domain::template::{expand, Placeholders, Template};
use domain::Error as DomainError;
use std::path::{Path, PathBuf};

impl Service {
    pub(super) async fn dispatch_run(
        &self,
        actor: &Actor,
        request: DispatchRequest,
    ) -> Result<Dispatched> {
        actor.role.require(Action::Dispatch)?;
        let request = request.normalized()?;
        let template = self.templates.get(&request.template)?;
        let workflow = self.resolve_workflow(&template, request.workflow.as_deref())?;
        let env_vars = self
            .env_for_run(request.project.as_deref(), request.env.as_deref())
            .await?;
        let run_id = ulid::Ulid::new().to_string();
        let layout = self.backend.layout(&run_id);
        let new = NewRun {
            run_id: run_id.clone(),
            template: template.name.clone(),
            workflow,
            spec: request.spec.clone(),
            project: request.project.clone(),
            env: request.env.clone(),
            backend: self.backend.name().into(),
            created_at_ms: now_ms(),
            workspace: layout.workspace.display().to_string(),
            db_path: layout.db_path.display().to_string(),
            log_path: layout.log_path.display().to_string(),
        };
        // Check the launch before storing anything, so bad input leaves no trace.
        let launch = self.launch_for(&template, &RunRecord::pending(&new), false, env_vars)?;
        self.backend.preflight(&launch)?;
        let _lock = self.locks.lock(&run_id).await;
        let event = NewEvent::new(
            "dispatched",
            format!("Dispatched with template {}", template.name),
            Some(&actor.name),
        );
        let detail = Some(format!("template={}", template.name));
        let audit = audit_entry(actor, "run.dispatch", &run_id, detail);
        let record = self.store.insert_run(new, event, audit).await?;
        self.announce(&record);
        self.start(&record, launch).await?;
        Ok(Dispatched { run_id })
    }

    /// The command, environment and paths to start (or resume) `record`; `env_vars` (from
    /// its env set) override the template's defaults.
    pub(super) fn launch_for(
        &self,
        template: &Template,
        record: &RunRecord,
        resume: bool,
        env_vars: EnvVars,
    ) -> Result<Launch> {
        let root = self.root.display().to_string();
        let workflow = record.workflow.clone().unwrap_or_default();
        let placeholders = Placeholders {
            root: &root,
            workflow: &workflow,
            run_id: &record.run_id,
            workspace: &record.workspace,
            db_path: &record.db_path,
            spec: record.spec.as_deref().unwrap_or(""),
        };
        let command = if resume {
            &template.resume_command
        } else {
            &template.command
        };
        let mut env = template.env.clone();
        env.extend(env_vars);
        env.insert("SMITHERS_DB_PATH".into(), record.db_path.clone());
        Ok(Launch {
            run_id: record.run_id.clone(),
            command: expand(command, &placeholders, template.allow_option_values)?,
            env,
            workspace: PathBuf::from(&record.workspace),
            log_path: PathBuf::from(&record.log_path),
            purpose: if resume { "resume" } else { "run" },
        })
    }

    /// The workflow file to run: the template's own, or one named at dispatch, which
    /// must lie inside the allowed workflow directories.
    fn resolve_workflow(
        &self,
        template: &Template,
        requested: Option<&str>,
    ) -> Result<Option<String>> {
        if let Some(wanted) = requested {
            check_workflow_path(wanted)?;
            return self.confined_workflow(wanted).map(Some);
        }
        let Some(default) = template.workflow.as_deref() else {
            return Ok(None);
        };
        let path = self.root.join(default);
        if !path.is_file() {
            return Err(DomainError::conflict(format!(
                "The template '{}' names the workflow '{default}', which is missing under {}. Fix the template.",
                template.name,
                self.root.display()
            ))
            .into());
        }
        Ok(Some(path.display().to_string()))
    }

    fn confined_workflow(&self, wanted: &str) -> Result<String> {
        let found = self
            .workflow_bases
            .iter()
            .filter_map(|base| base.join(wanted).canonicalize().ok())
            .find(|path| path.is_file() && self.in_workflow_dirs(path));
        match found {
            Some(path) => Ok(path.display().to_string()),
            None => Err(DomainError::bad_request(format!(
                "No workflow '{wanted}' in the allowed workflow directories ({}). Name a file under workflows/.",
                self.workflow_bases
                    .iter()
                    .map(|d| d.join("workflows").display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
            .into()),
        }
    }

    fn in_workflow_dirs(&self, path: &Path) -> bool {
        self.workflow_bases
            .iter()
            .filter_map(|d| d.join("workflows").canonicalize().ok())
            .any(|d| path.starts_with(d))
    }
}
