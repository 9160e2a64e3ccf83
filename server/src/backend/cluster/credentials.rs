//! The fabrik CLI's credentials: the Secret `fabrik-credentials` in the system
//! namespace, copied into the runs' namespace before a run starts (a pod reads Secrets
//! of its own namespace only), and counted per provider for the admin page — key
//! names, never a value.
use super::manifests::{CREDENTIALS, MANAGED_BY};
use super::{connect, rbac, KubeBackend};
use crate::error::Result;
use domain::fleet::{group_keys, CredentialsView};
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::DeleteParams;
use kube::Api;
use std::collections::BTreeMap;

impl KubeBackend {
    /// The credentials as the system namespace has them, if it has them.
    async fn credentials_secret(&self) -> Result<Option<Secret>> {
        let ns = &self.settings.system_namespace;
        let api: Api<Secret> = Api::namespaced(self.client.clone(), ns);
        match api.get(CREDENTIALS).await {
            Ok(secret) => Ok(Some(secret)),
            Err(kube::Error::Api(s)) if s.code == 404 => Ok(None),
            Err(e) => Err(connect::explain(e, rbac::GET_CREDENTIALS, ns)),
        }
    }

    /// The runs' copy brought in step: written whole, or removed when the system
    /// namespace has none (runs then start without: the mount is optional).
    pub(super) async fn hand_over_credentials(&self) -> Result<()> {
        let ns = &self.settings.namespace;
        let Some(secret) = self.credentials_secret().await? else {
            let params = DeleteParams::default();
            return self
                .delete_in::<Secret>(ns, CREDENTIALS, &params, rbac::DELETE_SECRETS)
                .await;
        };
        let copy = Secret {
            metadata: ObjectMeta {
                name: Some(CREDENTIALS.into()),
                namespace: Some(ns.clone()),
                labels: Some(BTreeMap::from([(MANAGED_BY.into(), "fabrik".into())])),
                ..Default::default()
            },
            type_: Some("Opaque".into()),
            data: secret.data,
            string_data: secret.string_data,
            ..Default::default()
        };
        let perms = (rbac::CREATE_SECRETS, rbac::UPDATE_SECRETS);
        self.upsert(ns, copy, perms).await
    }

    pub(super) async fn credential_keys(&self) -> Result<CredentialsView> {
        let ns = &self.settings.system_namespace;
        let source = format!("Secret {ns}/{CREDENTIALS}");
        let Some(secret) = self.credentials_secret().await? else {
            return Ok(CredentialsView {
                note: Some(format!(
                    "There is no Secret {CREDENTIALS} in namespace {ns}, so runs start without credentials. Create it: kubectl -n {ns} create secret generic {CREDENTIALS} --from-literal=ANTHROPIC_API_KEY=…"
                )),
                source,
                providers: Vec::new(),
            });
        };
        let names = secret.data.iter().flat_map(|d| d.keys());
        let written = secret.string_data.iter().flat_map(|d| d.keys());
        let mut all: Vec<&str> = names.chain(written).map(String::as_str).collect();
        all.sort();
        all.dedup();
        Ok(CredentialsView {
            source,
            providers: group_keys(all),
            note: None,
        })
    }
}
