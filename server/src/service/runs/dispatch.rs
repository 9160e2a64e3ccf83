//! Starting a run: the request checked, the launch built from its template, the run
//! stored with its audit entry, the process started and its pid stored — all under the
//! run's lock, so a cancel that arrives meanwhile waits and then finds the process.
use crate::backend::{EnvSetRef, Launch, RunInput};
use crate::clock::now_ms;
use crate::error::Result;
use crate::service::specs::invalid;
use crate::service::{audit_entry, Service};
use crate::store::{NewEvent, NewRun, RunRecord};
use domain::auth::Action;
use domain::dispatch::{check_workflow_path, DispatchRequest, Dispatched, RunOptions};
use domain::env::EnvVars;
use domain::service::Actor;
use domain::spec::{is_kebab_id, spec_from_value, FieldProblem};
use domain::template::{expand, Placeholders, Template};
use domain::Error as DomainError;
use std::path::{Path, PathBuf};

impl Service {
    pub(crate) async fn dispatch_run(
        &self,
        actor: &Actor,
        request: DispatchRequest,
    ) -> Result<Dispatched> {
        actor.role.require(Action::Dispatch)?;
        let run_id = ulid::Ulid::new().to_string();
        let Planned {
            template,
            new,
            launch,
        } = self.plan_run(request, &run_id).await?;
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

    /// What `request` makes of run `run_id`: its record and its launch, checked (the
    /// backend's preflight too) before anything is stored, so bad input leaves no trace.
    pub(crate) async fn plan_run(&self, request: DispatchRequest, run_id: &str) -> Result<Planned> {
        let request = request.normalized()?;
        let template = self.templates.get(&request.template)?;
        let workflow = self.resolve_workflow(&template, request.workflow.as_deref())?;
        let env_vars = self
            .env_for_run(request.project.as_deref(), request.env.as_deref())
            .await?;
        let (spec, inputs) = self.spec_for_run(&request).await?;
        let layout = self.backend.layout(run_id);
        let new = NewRun {
            run_id: run_id.to_string(),
            template: template.name.clone(),
            workflow,
            spec,
            project: request.project.clone(),
            env: request.env.clone(),
            options: RunOptions {
                inputs: inputs.iter().map(|i| i.name.to_string()).collect(),
                ..request.options()
            },
            backend: self.backend.name().into(),
            created_at_ms: now_ms(),
            workspace: layout.workspace.display().to_string(),
            db_path: layout.db_path.display().to_string(),
            log_path: layout.log_path.display().to_string(),
        };
        let mut launch = self.launch_for(&template, &RunRecord::pending(&new), false, env_vars)?;
        launch.inputs = inputs;
        self.backend.preflight(&launch)?;
        Ok(Planned {
            template,
            new,
            launch,
        })
    }

    /// Whether `request` would be dispatched now (template, workflow, env and spec all
    /// usable), without starting anything: what a schedule is checked with.
    pub(crate) async fn check_dispatch(&self, request: &DispatchRequest) -> Result<()> {
        let request = request.clone().normalized()?;
        let template = self.templates.get(&request.template)?;
        self.resolve_workflow(&template, request.workflow.as_deref())?;
        self.env_for_run(request.project.as_deref(), request.env.as_deref())
            .await?;
        self.spec_for_run(&request).await?;
        Ok(())
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
        let spec = spec_argument(record);
        let placeholders = Placeholders {
            root: &root,
            workflow: &workflow,
            run_id: &record.run_id,
            workspace: &record.workspace,
            db_path: &record.db_path,
            spec: &spec,
        };
        let command = if resume {
            &template.resume_command
        } else {
            &template.command
        };
        let env_set = match (&record.project, &record.env) {
            (Some(project), Some(env)) => Some(EnvSetRef {
                project: project.clone(),
                env: env.clone(),
                vars: env_vars.clone(),
            }),
            _ => None,
        };
        let mut env = template.env.clone();
        env.extend(env_vars);
        env.insert("SMITHERS_DB_PATH".into(), record.db_path.clone());
        for (key, value) in record.options.env() {
            env.insert(key.into(), value);
        }
        for (key, file) in [
            ("FABRIK_SPEC_PATH", SPEC_FILE),
            ("FABRIK_TODO_PATH", TODO_FILE),
        ] {
            if let Some(path) = input_path(record, file) {
                env.insert(key.into(), path);
            }
        }
        Ok(Launch {
            run_id: record.run_id.clone(),
            command: expand(command, &placeholders, template.allow_option_values)?,
            env,
            workspace: PathBuf::from(&record.workspace),
            log_path: PathBuf::from(&record.log_path),
            purpose: if resume { "resume" } else { "run" },
            inputs: Vec::new(),
            spec: record.spec.clone(),
            project: record.project.clone(),
            env_set,
            credential_picks: Default::default(),
        })
    }

    /// The spec a run implements: what to record, and the files to give it. A stored
    /// spec (named by its id) must be ready — its todo approved — and comes with its
    /// todo; a spec given as JSON must fit fabrik's schema; anything else is a path the
    /// workflow resolves itself.
    async fn spec_for_run(
        &self,
        request: &DispatchRequest,
    ) -> Result<(Option<String>, Vec<RunInput>)> {
        if let Some(json) = &request.spec_json {
            let spec = spec_from_value(json.clone()).map_err(|p| invalid("spec JSON", &p))?;
            if !is_kebab_id(&spec.id) {
                return Err(invalid(
                    "spec JSON",
                    &[FieldProblem::new(
                        "id",
                        "use kebab-case, e.g. weekly-summary",
                    )],
                )
                .into());
            }
            let text = serde_json::to_string_pretty(&spec)?;
            return Ok((
                Some(spec.id),
                vec![RunInput {
                    name: SPEC_FILE,
                    text,
                }],
            ));
        }
        let Some(wanted) = request.spec.as_deref().filter(|s| is_kebab_id(s)) else {
            return Ok((request.spec.clone(), Vec::new()));
        };
        let Some(stored) = self.store.spec(wanted).await? else {
            return Err(DomainError::bad_request(format!(
                "No spec '{wanted}'. Pick one from /specs, or give the path of a spec file (e.g. specs/{wanted}.json)."
            ))
            .into());
        };
        let todo = match (&stored.todo, stored.can_dispatch()) {
            (Some(todo), true) => todo.todo.clone(),
            _ => {
                return Err(DomainError::bad_request(format!(
                "Spec '{wanted}' is {}, not ready: approve its todo first at /specs/{wanted}/todo.",
                stored.spec.status
            ))
                .into())
            }
        };
        let inputs = vec![
            RunInput {
                name: SPEC_FILE,
                text: serde_json::to_string_pretty(&stored.spec)?,
            },
            RunInput {
                name: TODO_FILE,
                text: serde_json::to_string_pretty(&todo)?,
            },
        ];
        Ok((Some(stored.spec.id), inputs))
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

/// A run as a dispatch request makes it, not stored yet.
pub(crate) struct Planned {
    pub template: Template,
    pub new: NewRun,
    pub launch: Launch,
}

/// Where a stored or uploaded spec, and its todo, sit in the run's workspace.
pub(crate) const SPEC_FILE: &str = "spec.json";
pub(crate) const TODO_FILE: &str = "todo.json";

/// Where `file` sits in the run's workspace, if the server wrote it there.
fn input_path(record: &RunRecord, file: &str) -> Option<String> {
    record.options.inputs.iter().any(|i| i == file).then(|| {
        Path::new(&record.workspace)
            .join(file)
            .display()
            .to_string()
    })
}

/// The `{spec}` of a run's command: the spec file in its workspace for a stored or
/// uploaded spec, else the path given at dispatch.
fn spec_argument(record: &RunRecord) -> String {
    input_path(record, SPEC_FILE)
        .or_else(|| record.spec.clone())
        .unwrap_or_default()
}
