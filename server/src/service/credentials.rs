//! Credentials: the backend's key names per provider, with which key of a pool runs
//! get (rotated by an admin) and whether runs are hitting the provider's rate limit —
//! noted from their Smithers DBs as they are observed.
use super::Service;
use crate::clock::now_ms;
use crate::error::Result;
use crate::store::{AuditEntry, RateLimitEvent};
use domain::credentials::{
    looks_rate_limited, next_key, picks, rate_limit_provider, Rotation, Rotations,
};
use domain::fleet::CredentialsView;
use domain::run::SmithersSnapshot;
use domain::service::Actor;
use domain::Error as DomainError;
use std::collections::BTreeMap;

const ROTATIONS: &str = "credential_rotations";

impl Service {
    pub(super) async fn credentials_view(&self) -> Result<CredentialsView> {
        let view = self.backend.credentials().await?;
        self.with_rotations_and_limits(view).await
    }

    /// The backend's key names with which key each pool gives runs and the rate limits.
    async fn with_rotations_and_limits(
        &self,
        mut view: CredentialsView,
    ) -> Result<CredentialsView> {
        let rotations = self.rotations().await?;
        let limits = self.store.rate_limit_states(now_ms()).await?;
        for p in &mut view.providers {
            p.rotation = rotations
                .get(&p.provider)
                .filter(|r| p.names.contains(&r.active))
                .cloned();
            p.rate_limit = limits.get(&p.provider).cloned().unwrap_or_default();
        }
        Ok(view)
    }

    pub(super) async fn rotate(&self, actor: &Actor, provider: &str) -> Result<CredentialsView> {
        let view = self.backend.credentials().await?;
        let Some(pool) = view.providers.iter().find(|p| p.provider == provider) else {
            return Err(DomainError::not_found(format!(
                "No credentials for '{provider}' in {}: add its keys there first.",
                view.source
            ))
            .into());
        };
        if pool.names.len() < 2 {
            return Err(DomainError::conflict(format!(
                "{provider} has one key ({}): add another (e.g. {}_2) to {} to rotate.",
                pool.names.join(""),
                domain::credentials::base_var(&pool.names[0]),
                view.source
            ))
            .into());
        }
        let mut rotations = self.rotations().await?;
        let current = rotations.get(provider).map(|r| r.active.as_str());
        let active = next_key(pool, current).unwrap_or_default();
        let audit = AuditEntry {
            at_ms: now_ms(),
            actor: actor.name.clone(),
            source: actor.from.clone(),
            action: "credentials.rotate".into(),
            target: Some(provider.to_string()),
            detail: Some(format!("runs now get {active}")),
        };
        rotations.insert(
            provider.to_string(),
            Rotation {
                active,
                at_ms: audit.at_ms,
                by: actor.name.clone(),
            },
        );
        self.store.set_setting(ROTATIONS, &rotations, audit).await?;
        // A cluster's CronJobs carry the picks in their Job template.
        self.refresh_schedules(|_| true).await;
        self.with_rotations_and_limits(view).await
    }

    async fn rotations(&self) -> Result<Rotations> {
        Ok(self.store.setting(ROTATIONS).await?.unwrap_or_default())
    }

    /// The provider variables a new run gets from its rotated pool (`ANTHROPIC_API_KEY`
    /// ← `ANTHROPIC_API_KEY_2`); empty until an admin rotates.
    pub(crate) async fn credential_picks(&self) -> BTreeMap<String, String> {
        match self.rotations().await {
            Ok(rotations) => picks(&rotations),
            Err(e) => {
                tracing::warn!(error = %e, "could not read the credential rotations");
                BTreeMap::new()
            }
        }
    }

    /// Keeps the run's rate-limit failures (each once), so the credentials page can say
    /// which providers are limiting runs without opening run DBs.
    pub(crate) async fn note_rate_limits(
        &self,
        run_id: &str,
        snapshot: &SmithersSnapshot,
    ) -> Result<()> {
        let models: Vec<String> = snapshot.tokens.iter().map(|t| t.model.clone()).collect();
        let events: Vec<RateLimitEvent> = snapshot
            .events
            .iter()
            .filter(|e| {
                e.source == "smithers"
                    && matches!(e.kind.as_str(), "NodeFailed" | "RunFailed")
                    && looks_rate_limited(&e.message)
            })
            .map(|e| RateLimitEvent {
                run_id: run_id.to_string(),
                at_ms: e.at_ms,
                provider: rate_limit_provider(&e.message, &models),
                message: e.message.chars().take(500).collect(),
            })
            .collect();
        self.store.record_rate_limits(events).await
    }
}
