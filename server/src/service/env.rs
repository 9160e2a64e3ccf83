//! Env sets: stored sealed, shown masked, revealed only to those who may (audited),
//! saved only against the version they were based on, and handed to runs at launch.
use super::{audit_entry, public, Service};
use crate::clock::now_ms;
use crate::error::Result;
use crate::store::{AuditEntry, StoredEnvSet};
use domain::auth::Action;
use domain::dispatch::DispatchRequest;
use domain::env::{
    check_name, check_vars, diff, missing_message, missing_required, EnvSetSummary, EnvSetView,
    EnvVarView, EnvVars, SaveEnvSet, SaveOutcome,
};
use domain::service::{Actor, EnvService};
use domain::Error as DomainError;
use std::sync::Arc;

impl Service {
    /// The variables a run gets from `project`/`env` (none without an env), or why it
    /// can't have them, in words that say what to fix.
    pub(crate) async fn env_for_run(
        &self,
        project: Option<&str>,
        env: Option<&str>,
    ) -> Result<EnvVars> {
        let Some(env) = env else {
            return Ok(EnvVars::new());
        };
        let Some(project) = project else {
            return Err(DomainError::bad_request(format!(
                "Env '{env}' needs its project: choose the project too."
            ))
            .into());
        };
        let Some((_, vars)) = self.load_env(project, env).await? else {
            return Err(DomainError::bad_request(format!(
                "Environment '{env}' not found in project '{project}'. Create it first at /env/{project}."
            ))
            .into());
        };
        let missing = missing_required(&vars, &self.required_env);
        if !missing.is_empty() {
            return Err(DomainError::bad_request(format!(
                "{}. Add it at /env/{project}/{env}.",
                missing_message(&missing)
            ))
            .into());
        }
        Ok(vars)
    }

    async fn load_env(&self, project: &str, env: &str) -> Result<Option<(StoredEnvSet, EnvVars)>> {
        let Some(stored) = self.store.env_set(project, env).await? else {
            return Ok(None);
        };
        let mut vars = EnvVars::new();
        for (key, sealed) in &stored.sealed {
            let value = self
                .sealer
                .open_value(&seal_context(project, env, key), sealed)
                .ok_or_else(|| {
                    DomainError::internal(format!(
                        "The value of {key} in {project}/{env} can't be decrypted: the data dir's env.key is not the one it was saved with. Restore env.key from the backup."
                    ))
                })?;
            vars.insert(key.clone(), value);
        }
        Ok(Some((stored, vars)))
    }

    fn env_view(&self, stored: &StoredEnvSet, vars: &EnvVars, reveal: bool) -> EnvSetView {
        EnvSetView {
            project: stored.project.clone(),
            env: stored.env.clone(),
            version: stored.version,
            vars: vars
                .iter()
                .map(|(key, value)| EnvVarView {
                    key: key.clone(),
                    value: reveal.then(|| value.clone()),
                })
                .collect(),
            revealed: reveal,
            updated_at_ms: stored.updated_at_ms,
            updated_by: stored.updated_by.clone(),
            missing_required: missing_required(vars, &self.required_env),
        }
    }

    async fn get_env(
        &self,
        actor: &Actor,
        project: &str,
        env: &str,
        reveal: bool,
    ) -> Result<EnvSetView> {
        actor.role.require(Action::View)?;
        if reveal {
            actor.role.require(Action::SeeSecrets)?;
        }
        check_name("project", project)?;
        check_name("env", env)?;
        let (stored, vars) = self
            .load_env(project, env)
            .await?
            .ok_or_else(|| not_found(project, env))?;
        if reveal {
            self.store
                .audit(env_audit(actor, "env.reveal", project, env, None))
                .await?;
        }
        Ok(self.env_view(&stored, &vars, reveal))
    }

    async fn save_env(
        &self,
        actor: &Actor,
        project: &str,
        env: &str,
        save: SaveEnvSet,
    ) -> Result<SaveOutcome> {
        actor.role.require(Action::EditEnv)?;
        check_name("project", project)?;
        check_name("env", env)?;
        let loaded = self.load_env(project, env).await?;
        let before = loaded.as_ref().map(|(_, v)| v.clone()).unwrap_or_default();
        if loaded.as_ref().map(|(s, _)| s.version) != save.version {
            return self.stale(actor, project, env).await;
        }
        let mut vars = save.vars;
        for key in &save.keep {
            let kept = before.get(key).ok_or_else(|| {
                DomainError::bad_request(format!(
                    "{key} is marked to keep its value, but {project}/{env} has no {key}."
                ))
            })?;
            vars.entry(key.clone()).or_insert_with(|| kept.clone());
        }
        check_vars(&vars)?;
        let changes = diff(&before, &vars);
        let detail = format!(
            "{}{}",
            changes.summary(),
            keys_named(&changes.added, &changes.modified, &changes.deleted)
        );
        let now = now_ms();
        let stored = StoredEnvSet {
            project: project.into(),
            env: env.into(),
            version: 0,
            sealed: vars
                .iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        self.sealer.seal(&seal_context(project, env, k), v),
                    )
                })
                .collect(),
            updated_at_ms: now,
            updated_by: actor.name.clone(),
        };
        let audit = env_audit(actor, "env.save", project, env, Some(detail));
        match self
            .store
            .save_env_set(stored.clone(), save.version, audit)
            .await?
        {
            Ok(version) => {
                self.publish(project, env, &vars).await;
                let uses = |d: &DispatchRequest| {
                    d.project.as_deref() == Some(project) && d.env.as_deref() == Some(env)
                };
                self.refresh_schedules(uses).await;
                let stored = StoredEnvSet { version, ..stored };
                Ok(SaveOutcome::Saved {
                    set: self.env_view(&stored, &vars, false),
                })
            }
            Err(_) => self.stale(actor, project, env).await,
        }
    }

    /// Every stored env set, handed to the backend (a cluster keeps them as Secrets):
    /// at start, so sets saved while the cluster was unreachable get there too.
    pub async fn publish_env_sets(self: Arc<Self>) {
        let sets = match self.store.env_sets(Vec::new()).await {
            Ok(sets) => sets,
            Err(e) => {
                return tracing::warn!(error = %e.public().message, "listing env sets to publish")
            }
        };
        for set in sets {
            match self.load_env(&set.project, &set.env).await {
                Ok(Some((_, vars))) => self.publish(&set.project, &set.env, &vars).await,
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(project = %set.project, env = %set.env, error = %e.public().message, "reading an env set to publish")
                }
            }
        }
    }

    /// A failure is logged, not the save's: the store has the set, and the next start
    /// publishes it again.
    async fn publish(&self, project: &str, env: &str, vars: &EnvVars) {
        if let Err(e) = self.backend.publish_env_set(project, env, vars).await {
            tracing::warn!(%project, %env, error = %e.public().message, "keeping the env set as a Secret in the cluster");
        }
    }

    /// A save met a newer version: the current set, revealed (and audited as such), for
    /// the editor to merge.
    async fn stale(&self, actor: &Actor, project: &str, env: &str) -> Result<SaveOutcome> {
        match self.load_env(project, env).await? {
            Some((stored, vars)) => {
                let why = Some("the current set, to merge a stale save".to_string());
                let audit = env_audit(actor, "env.reveal", project, env, why);
                self.store.audit(audit).await?;
                Ok(SaveOutcome::Stale {
                    current: self.env_view(&stored, &vars, true),
                })
            }
            None => Err(DomainError::conflict(format!(
                "{project}/{env} was deleted meanwhile; save it again as a new env."
            ))
            .into()),
        }
    }
}

#[async_trait::async_trait]
impl EnvService for Service {
    async fn list_env_sets(&self, actor: &Actor) -> domain::Result<Vec<EnvSetSummary>> {
        actor.role.require(Action::View)?;
        public(self.store.env_sets(self.required_env.clone()).await)
    }

    async fn get_env_set(
        &self,
        actor: &Actor,
        project: &str,
        env: &str,
        reveal: bool,
    ) -> domain::Result<EnvSetView> {
        public(self.get_env(actor, project, env, reveal).await)
    }

    async fn save_env_set(
        &self,
        actor: &Actor,
        project: &str,
        env: &str,
        save: SaveEnvSet,
    ) -> domain::Result<SaveOutcome> {
        public(self.save_env(actor, project, env, save).await)
    }

    async fn reveal_env_value(
        &self,
        actor: &Actor,
        project: &str,
        env: &str,
        key: &str,
    ) -> domain::Result<String> {
        actor.role.require(Action::SeeSecrets)?;
        check_name("project", project)?;
        check_name("env", env)?;
        let (_, vars) =
            public(self.load_env(project, env).await)?.ok_or_else(|| not_found(project, env))?;
        let value = vars.get(key).cloned().ok_or_else(|| {
            DomainError::not_found(format!("{project}/{env} has no variable {key}."))
        })?;
        let audit = env_audit(actor, "env.reveal", project, env, Some(key.to_string()));
        public(self.store.audit(audit).await)?;
        Ok(value)
    }

    async fn delete_env_set(&self, actor: &Actor, project: &str, env: &str) -> domain::Result<()> {
        actor.role.require(Action::EditEnv)?;
        check_name("project", project)?;
        check_name("env", env)?;
        let audit = env_audit(actor, "env.delete", project, env, None);
        if public(self.store.delete_env_set(project, env, audit).await)? {
            if let Err(e) = self.backend.withdraw_env_set(project, env).await {
                tracing::warn!(%project, %env, error = %e.public().message, "removing the env set's Secret from the cluster");
            }
            Ok(())
        } else {
            Err(not_found(project, env))
        }
    }
}

fn seal_context(project: &str, env: &str, key: &str) -> String {
    format!("{project}/{env}/{key}")
}

fn not_found(project: &str, env: &str) -> DomainError {
    DomainError::not_found(format!(
        "No env '{env}' in project '{project}'. Create it at /env/{project}."
    ))
}

fn env_audit(
    actor: &Actor,
    action: &str,
    project: &str,
    env: &str,
    detail: Option<String>,
) -> AuditEntry {
    audit_entry(actor, action, &format!("{project}/{env}"), detail)
}

/// "; added A, B; modified C" — key names only, never values.
fn keys_named(added: &[String], modified: &[String], deleted: &[String]) -> String {
    [
        ("added", added),
        ("modified", modified),
        ("deleted", deleted),
    ]
    .iter()
    .filter(|(_, keys)| !keys.is_empty())
    .map(|(what, keys)| format!("; {what} {}", keys.join(", ")))
    .collect()
}
