//! Every manifest in `deploy/` is a valid Kubernetes object (it parses into its
//! k8s-openapi type, and nothing in it is a field that type doesn't have), and the Role
//! grants exactly what the cluster backend asks for (`backend::cluster::rbac::ALL`).
mod common;

use common::repo_root;
use fabrik_server::backend::cluster::rbac::{Scope, ALL};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{
    ConfigMap, Namespace, PersistentVolumeClaim, Service, ServiceAccount,
};
use k8s_openapi::api::networking::v1::Ingress;
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeSet;

fn documents() -> Vec<(String, Value)> {
    let mut docs = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(repo_root().join("deploy"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 3, "{files:?}");
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let parsed: Vec<Value> = serde_saphyr::from_multiple(&text)
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        for doc in parsed.into_iter().filter(|d| !d.is_null()) {
            docs.push((file.display().to_string(), doc));
        }
    }
    docs
}

/// Parses `doc` as `T` and back: a field `T` doesn't know would be lost on the way.
fn typed<T: DeserializeOwned + Serialize>(file: &str, doc: &Value) -> T {
    let object: T =
        serde_json::from_value(doc.clone()).unwrap_or_else(|e| panic!("{file}: {e}: {doc}"));
    let back = serde_json::to_value(&object).unwrap();
    assert_eq!(
        strip_nulls(doc.clone()),
        strip_nulls(back),
        "{file}: a field k8s-openapi doesn't know"
    );
    object
}

fn strip_nulls(v: Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, strip_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(strip_nulls).collect()),
        other => other,
    }
}

#[test]
fn every_manifest_is_a_valid_object_and_the_role_grants_exactly_what_the_code_uses() {
    let mut roles = Vec::new();
    let mut kinds = BTreeSet::new();
    for (file, doc) in documents() {
        let kind = doc["kind"]
            .as_str()
            .unwrap_or_else(|| panic!("{file}: no kind"))
            .to_string();
        match kind.as_str() {
            "Namespace" => drop(typed::<Namespace>(&file, &doc)),
            "ServiceAccount" => drop(typed::<ServiceAccount>(&file, &doc)),
            "Role" => {
                let role = typed::<Role>(&file, &doc);
                let scope = match role.metadata.namespace.as_deref() {
                    Some("fabrik-runs") => Scope::Runs,
                    Some("fabrik-system") => Scope::System,
                    other => panic!("a Role in {other:?}"),
                };
                roles.push((scope, role.rules.unwrap_or_default()));
            }
            "ClusterRole" => {
                let role = typed::<ClusterRole>(&file, &doc);
                roles.push((Scope::Cluster, role.rules.unwrap_or_default()));
            }
            "ClusterRoleBinding" => drop(typed::<ClusterRoleBinding>(&file, &doc)),
            "RoleBinding" => drop(typed::<RoleBinding>(&file, &doc)),
            "PersistentVolumeClaim" => drop(typed::<PersistentVolumeClaim>(&file, &doc)),
            "Deployment" => drop(typed::<Deployment>(&file, &doc)),
            "Service" => drop(typed::<Service>(&file, &doc)),
            "ConfigMap" => drop(typed::<ConfigMap>(&file, &doc)),
            "Ingress" => drop(typed::<Ingress>(&file, &doc)),
            other => panic!("{file}: add a check for {other}"),
        }
        kinds.insert(kind);
    }
    for needed in [
        "Namespace",
        "ServiceAccount",
        "Role",
        "RoleBinding",
        "Deployment",
        "Service",
    ] {
        assert!(kinds.contains(needed), "deploy/ has no {needed}");
    }
    assert_eq!(
        roles.len(),
        3,
        "one Role for the runs' namespace, one for the system's, one ClusterRole"
    );
    for (scope, rules) in roles {
        let mut granted = BTreeSet::new();
        for rule in rules {
            let rule: PolicyRule = rule;
            for group in rule.api_groups.clone().unwrap_or_default() {
                for resource in rule.resources.clone().unwrap_or_default() {
                    for verb in &rule.verbs {
                        granted.insert((group.clone(), resource.clone(), verb.clone()));
                    }
                }
            }
        }
        let used: BTreeSet<(String, String, String)> = ALL
            .iter()
            .filter(|p| p.scope == scope)
            .map(|p| {
                (
                    p.group.to_string(),
                    p.resource.to_string(),
                    p.verb.to_string(),
                )
            })
            .collect();
        assert_eq!(
            granted, used,
            "deploy/rbac.yaml grants exactly the verbs the code uses in {scope:?}"
        );
    }
}
