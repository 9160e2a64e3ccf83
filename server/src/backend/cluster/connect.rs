//! Reaching the cluster, and saying what to do when that fails: no kubeconfig, an API
//! server that doesn't answer, a missing namespace, or RBAC that lacks a verb.
use super::rbac::{self, Permission, Scope};
use k8s_openapi::api::batch::v1::Job;
use kube::api::ListParams;
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Api, Client, Config};
use std::path::PathBuf;

#[derive(Debug, Clone)]
pub enum KubeTarget {
    Kubeconfig(PathBuf),
    InCluster,
}

/// A client for `target`, checked by listing Jobs in `namespace` once.
pub async fn connect(target: &KubeTarget, namespace: &str) -> anyhow::Result<Client> {
    let config = match target {
        KubeTarget::Kubeconfig(path) => {
            let file = Kubeconfig::read_from(path).map_err(|e| {
                anyhow::anyhow!(
                    "Cannot read the kubeconfig {}: {e}. Pass the file kubectl uses (e.g. ~/.kube/config, or /etc/rancher/k3s/k3s.yaml on k3s).",
                    path.display()
                )
            })?;
            Config::from_custom_kubeconfig(file, &KubeConfigOptions::default())
                .await
                .map_err(|e| anyhow::anyhow!("The kubeconfig {} is not usable: {e}.", path.display()))?
        }
        KubeTarget::InCluster => Config::incluster().map_err(|e| {
            anyhow::anyhow!(
                "--in-cluster needs the service account Kubernetes mounts into a pod ({e}). Outside a cluster, pass --kubeconfig."
            )
        })?,
    };
    let server = config.cluster_url.to_string();
    let client = Client::try_from(config)?;
    let jobs: Api<Job> = Api::namespaced(client.clone(), namespace);
    jobs.list(&ListParams::default().limit(1))
        .await
        .map_err(|e| anyhow::anyhow!(explain_at(e, rbac::LIST_JOBS, namespace, &server)))?;
    Ok(client)
}

/// A Kubernetes failure as a message a person can act on.
pub fn explain(e: kube::Error, asked: Permission, namespace: &str) -> crate::error::Error {
    let message = explain_at(e, asked, namespace, "the Kubernetes API server");
    domain::Error::unavailable(message).into()
}

fn explain_at(e: kube::Error, asked: Permission, namespace: &str, server: &str) -> String {
    let Permission {
        verb,
        resource,
        scope,
        ..
    } = asked;
    let place = match scope {
        Scope::Cluster => "in the cluster (a ClusterRole)".to_string(),
        _ => format!("in namespace {namespace}"),
    };
    match e {
        kube::Error::Api(s) if s.code == 403 => format!(
            "Kubernetes refused: fabrik-server may not {verb} {resource} {place} ({}). Grant it (deploy/rbac.yaml has every verb fabrik-server uses).",
            s.message
        ),
        kube::Error::Api(s) if s.code == 401 => format!(
            "Kubernetes did not accept fabrik-server's credentials ({}). Refresh the kubeconfig's token or certificate.",
            s.message
        ),
        kube::Error::Api(s) if s.code == 404 && s.message.contains("namespace") => format!(
            "The namespace {namespace} does not exist. Create it (kubectl create namespace {namespace}) or start with --namespace naming one that does."
        ),
        kube::Error::Api(s) => format!("Kubernetes answered {} to {verb} {resource}: {}", s.code, s.message),
        other @ (kube::Error::HyperError(_) | kube::Error::Service(_)) => format!(
            "Cannot reach {server} ({other}). Check that the cluster is up and the kubeconfig's server address is right."
        ),
        other => format!("Kubernetes: {verb} {resource} in {namespace} failed: {other}"),
    }
}
