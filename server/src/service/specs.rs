//! Specs and todos: checked against fabrik's schema and the interview rules before
//! anything is stored; a changed spec goes back to draft; only an approved todo makes a
//! spec ready to dispatch.
use super::{audit_entry, public, Service};
use crate::backend::RunInput;
use crate::clock::now_ms;
use crate::error::Result;
use crate::service::runs::{SPEC_FILE, TODO_FILE};
use crate::store::{SpecWrite, Stamp};
use domain::auth::Action;
use domain::service::{Actor, SpecService};
use domain::spec::{
    check_spec, describe_problems, generate_todo, is_kebab_id, FieldProblem, Spec, SpecStatus,
    SpecSummary, SpecView, Todo,
};
use domain::Error as DomainError;

/// A 400 naming every problem and its field.
pub fn invalid(what: &str, problems: &[FieldProblem]) -> DomainError {
    DomainError::bad_request(format!(
        "The {what} has {} problem{}:\n{}",
        problems.len(),
        if problems.len() == 1 { "" } else { "s" },
        describe_problems(problems)
    ))
}

fn not_found(id: &str) -> DomainError {
    DomainError::not_found(format!("No spec '{id}'. See the list at /specs."))
}

fn stamp(actor: &Actor) -> Stamp {
    Stamp {
        by: actor.name.clone(),
        at_ms: now_ms(),
    }
}

fn check_todo(todo: &Todo, id: &str) -> Result<(), DomainError> {
    let mut problems = Vec::new();
    if todo.id != id {
        problems.push(FieldProblem::new(
            "id",
            format!("must be the spec's id, '{id}'"),
        ));
    }
    if todo.tasks.is_empty() {
        problems.push(FieldProblem::new(
            "tasks",
            "0 given: a todo needs at least one task",
        ));
    }
    for (i, task) in todo.tasks.iter().enumerate() {
        for (field, text) in [
            ("id", &task.id),
            ("do", &task.action),
            ("verify", &task.verify),
        ] {
            if text.trim().is_empty() {
                problems.push(FieldProblem::new(
                    &format!("tasks[{i}].{field}"),
                    "is empty",
                ));
            }
        }
        if todo.tasks[..i].iter().any(|t| t.id == task.id) {
            problems.push(FieldProblem::new(
                &format!("tasks[{i}].id"),
                "repeats an id above",
            ));
        }
    }
    match problems.as_slice() {
        [] => Ok(()),
        all => Err(invalid("todo", all)),
    }
}

impl Service {
    async fn spec_or_404(&self, id: &str) -> Result<SpecView> {
        Ok(self.store.spec(id).await?.ok_or_else(|| not_found(id))?)
    }

    async fn after_write(&self, write: SpecWrite, id: &str) -> Result<SpecView> {
        match write {
            SpecWrite::Done => self.published(id).await,
            SpecWrite::Missing => Err(not_found(id).into()),
            SpecWrite::Stale => Err(DomainError::conflict(format!(
                "Spec '{id}' was changed by someone else since you loaded it. Reload it and apply your changes again."
            ))
            .into()),
            SpecWrite::NoTodo => Err(DomainError::bad_request(format!(
                "Spec '{id}' has no todo to approve yet. Generate one first at /specs/{id}/todo."
            ))
            .into()),
            SpecWrite::NotDraft => Err(DomainError::conflict(format!(
                "Spec '{id}' is not a draft, so its todo can't be approved again. Edit the todo or the spec first."
            ))
            .into()),
        }
    }

    async fn create(&self, actor: &Actor, spec: Spec) -> Result<SpecView> {
        actor.role.require(Action::EditSpecs)?;
        let problems = check_spec(&spec);
        if !problems.is_empty() {
            return Err(invalid("spec", &problems).into());
        }
        if spec.status != SpecStatus::Draft.as_str() {
            return Err(DomainError::bad_request(format!(
                "status: a new spec starts as draft, not '{}'; it becomes ready when its todo is approved.",
                spec.status
            ))
            .into());
        }
        let audit = audit_entry(actor, "spec.create", &format!("spec/{}", spec.id), None);
        let id = spec.id.clone();
        if !self.store.insert_spec(spec, stamp(actor), audit).await? {
            return Err(DomainError::conflict(format!(
                "A spec '{id}' exists already. Pick another id, or edit it at /specs/{id}."
            ))
            .into());
        }
        self.published(&id).await
    }

    /// The spec as stored now, handed to the backend (a cluster keeps it as a
    /// ConfigMap). A failure there is logged, not the write's: the store has the spec,
    /// and the next start publishes it again.
    async fn published(&self, id: &str) -> Result<SpecView> {
        let view = self.spec_or_404(id).await?;
        if let Err(e) = self.publish_spec(&view).await {
            tracing::warn!(spec = %id, error = %e.public().message, "keeping the spec as a ConfigMap in the cluster");
        }
        self.refresh_schedules(|d| d.spec.as_deref() == Some(id))
            .await;
        Ok(view)
    }

    async fn publish_spec(&self, view: &SpecView) -> Result<()> {
        let mut files = vec![RunInput {
            name: SPEC_FILE,
            text: serde_json::to_string_pretty(&view.spec)?,
        }];
        if let Some(todo) = &view.todo {
            files.push(RunInput {
                name: TODO_FILE,
                text: serde_json::to_string_pretty(&todo.todo)?,
            });
        }
        self.backend.publish_spec(&view.spec.id, &files).await
    }

    /// Every stored spec, handed to the backend: at start, so specs written while the
    /// cluster was unreachable get there too.
    pub async fn publish_specs(self: std::sync::Arc<Self>) {
        let specs = match self.store.specs().await {
            Ok(specs) => specs,
            Err(e) => {
                return tracing::warn!(error = %e.public().message, "listing specs to publish")
            }
        };
        for summary in specs {
            let published = async {
                let view = self.spec_or_404(&summary.id).await?;
                self.publish_spec(&view).await
            };
            if let Err(e) = published.await {
                tracing::warn!(spec = %summary.id, error = %e.public().message, "publishing a spec");
            }
        }
    }

    async fn replace(&self, actor: &Actor, mut spec: Spec, revision: i64) -> Result<SpecView> {
        actor.role.require(Action::EditSpecs)?;
        let problems = check_spec(&spec);
        if !problems.is_empty() {
            return Err(invalid("spec", &problems).into());
        }
        let current = self.spec_or_404(&spec.id).await?;
        // An edited spec needs its todo approved again before it is ready.
        if current.status() == Some(SpecStatus::Ready) && spec.status == SpecStatus::Ready.as_str()
        {
            spec.status = SpecStatus::Draft.as_str().into();
        }
        let from = current.status().unwrap_or(SpecStatus::Draft);
        let to = SpecStatus::parse(&spec.status).unwrap_or(SpecStatus::Draft);
        if from != to && !from.can_become(to) {
            return Err(DomainError::bad_request(format!(
                "status: a {from} spec can't become {to} by an edit."
            ))
            .into());
        }
        let audit = audit_entry(actor, "spec.replace", &format!("spec/{}", spec.id), None);
        let id = spec.id.clone();
        let write = self
            .store
            .replace_spec(spec, revision, stamp(actor), audit)
            .await?;
        self.after_write(write, &id).await
    }

    async fn store_todo(
        &self,
        actor: &Actor,
        id: &str,
        todo: Todo,
        action: &str,
    ) -> Result<SpecView> {
        actor.role.require(Action::EditSpecs)?;
        check_todo(&todo, id)?;
        let detail = Some(format!("{} tasks", todo.tasks.len()));
        let audit = audit_entry(actor, action, &format!("spec/{id}"), detail);
        let write = self.store.save_todo(todo, stamp(actor), audit).await?;
        self.after_write(write, id).await
    }
}

#[async_trait::async_trait]
impl SpecService for Service {
    async fn list_specs(&self, actor: &Actor) -> domain::Result<Vec<SpecSummary>> {
        actor.role.require(Action::View)?;
        public(self.store.specs().await)
    }

    async fn get_spec(&self, actor: &Actor, id: &str) -> domain::Result<SpecView> {
        actor.role.require(Action::View)?;
        public(self.spec_or_404(id).await)
    }

    async fn create_spec(&self, actor: &Actor, spec: Spec) -> domain::Result<SpecView> {
        public(self.create(actor, spec).await)
    }

    async fn replace_spec(
        &self,
        actor: &Actor,
        spec: Spec,
        revision: i64,
    ) -> domain::Result<SpecView> {
        public(self.replace(actor, spec, revision).await)
    }

    async fn delete_spec(&self, actor: &Actor, id: &str) -> domain::Result<()> {
        actor.role.require(Action::EditSpecs)?;
        if !is_kebab_id(id) {
            return Err(not_found(id));
        }
        let audit = audit_entry(actor, "spec.delete", &format!("spec/{id}"), None);
        match public(self.store.delete_spec(id, audit).await)? {
            true => {
                if let Err(e) = self.backend.withdraw_spec(id).await {
                    tracing::warn!(spec = %id, error = %e.public().message, "removing the spec's ConfigMap from the cluster");
                }
                Ok(())
            }
            false => Err(not_found(id)),
        }
    }

    async fn generate_todo(&self, actor: &Actor, id: &str) -> domain::Result<SpecView> {
        let result = async {
            let view = self.spec_or_404(id).await?;
            let todo = generate_todo(&view.spec);
            self.store_todo(actor, id, todo, "todo.generate").await
        };
        public(result.await)
    }

    async fn save_todo(&self, actor: &Actor, id: &str, todo: Todo) -> domain::Result<SpecView> {
        public(self.store_todo(actor, id, todo, "todo.save").await)
    }

    async fn approve_todo(&self, actor: &Actor, id: &str) -> domain::Result<SpecView> {
        let result = async {
            actor.role.require(Action::EditSpecs)?;
            let audit = audit_entry(actor, "todo.approve", &format!("spec/{id}"), None);
            let write = self.store.approve_todo(id, stamp(actor), audit).await?;
            self.after_write(write, id).await
        };
        public(result.await)
    }
}
