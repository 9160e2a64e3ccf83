//! Specs in the cluster: each spec and its todo as a ConfigMap `fabrik-spec-<id>` in
//! the system namespace (`spec.json`, `todo.json`), where the fabrik CLI and people
//! with kubectl can read what was written here.
use super::manifests::{spec_config_map, spec_config_map_name};
use super::{rbac, KubeBackend};
use crate::backend::RunInput;
use crate::error::Result;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::DeleteParams;

impl KubeBackend {
    pub(super) async fn publish_spec_files(&self, id: &str, files: &[RunInput]) -> Result<()> {
        let namespace = &self.settings.system_namespace;
        let map = spec_config_map(id, files, namespace);
        let perms = (rbac::CREATE_SPEC_CONFIGMAPS, rbac::UPDATE_SPEC_CONFIGMAPS);
        self.upsert(namespace, map, perms).await
    }

    pub(super) async fn withdraw_spec_files(&self, id: &str) -> Result<()> {
        let namespace = &self.settings.system_namespace;
        let params = DeleteParams::default();
        let name = spec_config_map_name(id);
        self.delete_in::<ConfigMap>(namespace, &name, &params, rbac::DELETE_SPEC_CONFIGMAPS)
            .await
    }
}
