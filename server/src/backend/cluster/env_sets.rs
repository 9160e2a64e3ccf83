//! Env sets in the cluster, kept as the fabrik CLI keeps them: a Secret
//! `fabrik-env-<project>-<env>` in the system namespace (so `fabrik run --env` finds
//! what was edited here), copied into the runs' namespace when a run uses it.
use super::manifests::{env_set_secret, env_set_secret_name};
use super::{rbac, KubeBackend};
use crate::backend::EnvSetRef;
use crate::error::Result;
use k8s_openapi::api::core::v1::Secret;
use kube::api::DeleteParams;
use std::collections::BTreeMap;

impl KubeBackend {
    pub(super) async fn publish_set(
        &self,
        project: &str,
        env: &str,
        vars: &BTreeMap<String, String>,
    ) -> Result<()> {
        let set = EnvSetRef {
            project: project.into(),
            env: env.into(),
            vars: vars.clone(),
        };
        let namespace = &self.settings.system_namespace;
        let secret = env_set_secret(&set, namespace);
        let perms = (rbac::CREATE_ENV_SECRETS, rbac::UPDATE_ENV_SECRETS);
        self.upsert(namespace, secret, perms).await
    }

    pub(super) async fn withdraw_set(&self, project: &str, env: &str) -> Result<()> {
        let name = env_set_secret_name(project, env);
        let namespace = &self.settings.system_namespace;
        let params = DeleteParams::default();
        self.delete_in::<Secret>(namespace, &name, &params, rbac::DELETE_ENV_SECRETS)
            .await
    }

    /// The run's copy of its env set, brought up to date.
    pub(super) async fn hand_over_set(&self, set: &EnvSetRef) -> Result<()> {
        let namespace = &self.settings.namespace;
        let secret = env_set_secret(set, namespace);
        let perms = (rbac::CREATE_SECRETS, rbac::UPDATE_SECRETS);
        self.upsert(namespace, secret, perms).await
    }
}
