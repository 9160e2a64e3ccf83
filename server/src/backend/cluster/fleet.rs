//! The cluster for the admin page: nodes (status, capacity, allocatable, and usage
//! from `metrics.k8s.io` when the cluster has it), the runs' PVCs and the storage
//! classes. What can't be read becomes a note; the rest still shows.
use super::manifests::{MANAGED_BY, RUN_ID, SCHEDULE};
use super::{connect, rbac, KubeBackend};
use domain::fleet::{bytes, millicores, Amount, FleetView, Machine, StorageClass, Volume};
use k8s_openapi::api::core::v1::{Node, PersistentVolumeClaim};
use k8s_openapi::api::storage::v1::StorageClass as K8sStorageClass;
use kube::api::{ApiResource, DynamicObject, GroupVersionKind, ListParams};
use kube::Api;
use std::collections::BTreeMap;

/// Per node: CPU (millicores) and memory (bytes) in use.
type Usage = BTreeMap<String, (Option<u64>, Option<u64>)>;

impl KubeBackend {
    pub(super) async fn fleet_view(&self) -> FleetView {
        let mut notes = Vec::new();
        let (nodes, usage, volumes, classes) = tokio::join!(
            self.nodes(),
            self.usage(),
            self.volumes(),
            self.storage_classes()
        );
        let nodes = nodes.unwrap_or_else(|e| {
            notes.push(e);
            Vec::new()
        });
        let usage = usage.unwrap_or_else(|e| {
            notes.push(e);
            Usage::new()
        });
        let volumes = volumes.unwrap_or_else(|e| {
            notes.push(e);
            Vec::new()
        });
        let storage_classes = classes.unwrap_or_else(|e| {
            notes.push(e);
            Vec::new()
        });
        FleetView {
            backend: "kube".into(),
            source: format!(
                "the cluster (runs in namespace {})",
                self.settings.namespace
            ),
            machines: nodes.iter().map(|n| machine(n, &usage)).collect(),
            volumes,
            storage_classes,
            notes,
        }
    }

    async fn nodes(&self) -> Result<Vec<Node>, String> {
        let api: Api<Node> = Api::all(self.client.clone());
        api.list(&ListParams::default())
            .await
            .map(|l| l.items)
            .map_err(|e| self.note(e, rbac::LIST_NODES))
    }

    /// `metrics.k8s.io` (metrics-server): absent on many clusters, which is no fault.
    async fn usage(&self) -> Result<Usage, String> {
        let gvk = GroupVersionKind::gvk("metrics.k8s.io", "v1beta1", "NodeMetrics");
        let resource = ApiResource::from_gvk_with_plural(&gvk, "nodes");
        let api: Api<DynamicObject> = Api::all_with(self.client.clone(), &resource);
        let list = match api.list(&ListParams::default()).await {
            Ok(list) => list,
            Err(kube::Error::Api(s)) if matches!(s.code, 404 | 503) => {
                return Err("Usage is unknown: the cluster has no metrics API (metrics.k8s.io). Install metrics-server to see it.".into())
            }
            Err(e) => return Err(self.note(e, rbac::LIST_NODE_METRICS)),
        };
        Ok(list
            .items
            .into_iter()
            .map(|m| {
                let usage = &m.data["usage"];
                let cpu = usage["cpu"].as_str().and_then(millicores);
                let memory = usage["memory"].as_str().and_then(bytes);
                (m.metadata.name.unwrap_or_default(), (cpu, memory))
            })
            .collect())
    }

    async fn volumes(&self) -> Result<Vec<Volume>, String> {
        let params = ListParams::default().labels(&format!("{MANAGED_BY}=fabrik"));
        let claims = self
            .api::<PersistentVolumeClaim>()
            .list(&params)
            .await
            .map_err(|e| self.note(e, rbac::LIST_PVCS))?;
        Ok(claims.items.iter().map(volume).collect())
    }

    async fn storage_classes(&self) -> Result<Vec<StorageClass>, String> {
        let api: Api<K8sStorageClass> = Api::all(self.client.clone());
        let classes = api
            .list(&ListParams::default())
            .await
            .map_err(|e| self.note(e, rbac::LIST_STORAGE_CLASSES))?;
        Ok(classes
            .items
            .into_iter()
            .map(|c| StorageClass {
                is_default: c
                    .metadata
                    .annotations
                    .as_ref()
                    .and_then(|a| a.get("storageclass.kubernetes.io/is-default-class"))
                    .is_some_and(|v| v == "true"),
                name: c.metadata.name.unwrap_or_default(),
                provisioner: c.provisioner,
                reclaim_policy: c.reclaim_policy,
            })
            .collect())
    }

    fn note(&self, e: kube::Error, asked: rbac::Permission) -> String {
        connect::explain(e, asked, &self.settings.namespace)
            .public()
            .message
    }
}

fn machine(node: &Node, usage: &Usage) -> Machine {
    let name = node.metadata.name.clone().unwrap_or_default();
    let status = node.status.clone().unwrap_or_default();
    let conditions = status.conditions.unwrap_or_default();
    let ready = conditions
        .iter()
        .any(|c| c.type_ == "Ready" && c.status == "True");
    // The first pressure a node reports says more than "Ready".
    let trouble = conditions
        .iter()
        .find(|c| c.type_ != "Ready" && c.status == "True")
        .map(|c| c.type_.clone());
    let amount = |key: &str, read: fn(&str) -> Option<u64>, used: Option<u64>| Amount {
        capacity: status
            .capacity
            .as_ref()
            .and_then(|m| m.get(key))
            .and_then(|q| read(&q.0)),
        allocatable: status
            .allocatable
            .as_ref()
            .and_then(|m| m.get(key))
            .and_then(|q| read(&q.0)),
        used,
    };
    let (cpu_used, memory_used) = usage.get(&name).copied().unwrap_or_default();
    let unschedulable = node.spec.as_ref().and_then(|s| s.unschedulable) == Some(true);
    Machine {
        status: match (ready, trouble, unschedulable) {
            (_, Some(t), _) => t,
            (true, None, true) => "Ready, cordoned".into(),
            (true, None, false) => "Ready".into(),
            (false, None, _) => "NotReady".into(),
        },
        ready,
        cpu: amount("cpu", millicores, cpu_used),
        memory: amount("memory", bytes, memory_used),
        disk: amount("ephemeral-storage", bytes, None),
        name,
    }
}

fn volume(claim: &PersistentVolumeClaim) -> Volume {
    let labels = claim.metadata.labels.clone().unwrap_or_default();
    let spec = claim.spec.clone().unwrap_or_default();
    let status = claim.status.clone().unwrap_or_default();
    let size = status
        .capacity
        .as_ref()
        .and_then(|c| c.get("storage"))
        .or_else(|| spec.resources.as_ref()?.requests.as_ref()?.get("storage"))
        .and_then(|q| bytes(&q.0));
    Volume {
        name: claim.metadata.name.clone().unwrap_or_default(),
        run_id: labels.get(RUN_ID).or_else(|| labels.get(SCHEDULE)).cloned(),
        size_bytes: size,
        status: status.phase.unwrap_or_else(|| "Pending".into()),
        storage_class: spec.storage_class_name,
    }
}
