//! The objects a run is made of in a cluster, shaped exactly as the real fabrik CLI
//! makes them (../shared/FABRIK-AND-SMITHERS.md): the Job `fabrik-<run-id>`, its PVC
//! `data-fabrik-<run-id>`, and — ours — a Secret with the run's environment and a
//! ConfigMap with the files it reads. Pure functions: no API calls here.
use crate::backend::Launch;
use k8s_openapi::api::batch::v1::{Job, JobSpec};
use k8s_openapi::api::core::v1::{
    ConfigMap, ConfigMapVolumeSource, Container, EnvFromSource, PersistentVolumeClaim,
    PersistentVolumeClaimSpec, PersistentVolumeClaimVolumeSource, PodSpec, PodTemplateSpec,
    ResourceRequirements, Secret, SecretEnvSource, Volume, VolumeMount, VolumeResourceRequirements,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use std::collections::BTreeMap;

/// Where the PVC is mounted in the `fabrik` container.
pub const WORKSPACE: &str = "/workspace";
/// The run's Smithers DB inside the pod.
pub const SMITHERS_DB: &str = "/workspace/.smithers/state.db";
pub const CONTAINER: &str = "fabrik";
pub const MANAGED_BY: &str = "fabrik.sh/managed-by";
pub const RUN_ID: &str = "fabrik.sh/run-id";
/// A week, as fabrik keeps finished Jobs.
const TTL_AFTER_FINISHED: i32 = 604_800;

/// How this server makes runs: the runner image (by digest) and what a run may use.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSettings {
    pub namespace: String,
    pub image: String,
    pub storage: String,
}

/// What is known about the run besides its launch: for labels and annotations.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunLabels {
    pub spec: Option<String>,
    pub project: Option<String>,
    pub phase: String,
}

/// `fabrik-<run-id>`: lowercased, anything but `[a-z0-9-]` made `-`, at most 63
/// characters, ending in an alphanumeric.
pub fn job_name(run_id: &str) -> String {
    dns_label(&format!("fabrik-{run_id}"))
}

pub fn pvc_name(run_id: &str) -> String {
    dns_label(&format!("data-fabrik-{run_id}"))
}

/// Ours: the run's environment (keys are env names) and its input files.
pub fn env_secret_name(run_id: &str) -> String {
    dns_label(&format!("fabrik-run-env-{run_id}"))
}

pub fn inputs_name(run_id: &str) -> String {
    dns_label(&format!("fabrik-run-inputs-{run_id}"))
}

fn dns_label(s: &str) -> String {
    let mut out: String = s
        .to_ascii_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '-'
            }
        })
        .take(63)
        .collect();
    while out.ends_with('-') {
        out.pop();
    }
    out
}

/// A label value: at most 63 characters of `[A-Za-z0-9._-]`, alphanumeric at both ends.
pub fn label_value(s: &str) -> String {
    let cleaned: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .take(63)
        .collect();
    cleaned
        .trim_matches(|c: char| !c.is_ascii_alphanumeric())
        .to_string()
}

/// The labels fabrik puts on the Job, its pod template and its PVC.
pub fn labels(run_id: &str, run: &RunLabels) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::from([
        (RUN_ID.to_string(), label_value(run_id)),
        (MANAGED_BY.to_string(), "fabrik".to_string()),
        ("fabrik.sh/phase".to_string(), label_value(&run.phase)),
        ("fabrik.sh/status".to_string(), "pending".to_string()),
    ]);
    if let Some(spec) = &run.spec {
        labels.insert("fabrik.sh/spec".into(), label_value(spec));
    }
    if let Some(project) = &run.project {
        labels.insert("fabrik.sh/project".into(), label_value(project));
    }
    labels
}

fn meta(name: String, settings: &RunSettings, labels: &BTreeMap<String, String>) -> ObjectMeta {
    ObjectMeta {
        name: Some(name),
        namespace: Some(settings.namespace.clone()),
        labels: Some(labels.clone()),
        ..Default::default()
    }
}

pub fn pvc(launch: &Launch, run: &RunLabels, settings: &RunSettings) -> PersistentVolumeClaim {
    PersistentVolumeClaim {
        metadata: meta(
            pvc_name(&launch.run_id),
            settings,
            &labels(&launch.run_id, run),
        ),
        spec: Some(PersistentVolumeClaimSpec {
            access_modes: Some(vec!["ReadWriteOnce".into()]),
            resources: Some(VolumeResourceRequirements {
                requests: Some(BTreeMap::from([(
                    "storage".to_string(),
                    Quantity(settings.storage.clone()),
                )])),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

pub fn env_secret(launch: &Launch, run: &RunLabels, settings: &RunSettings) -> Secret {
    Secret {
        metadata: meta(
            env_secret_name(&launch.run_id),
            settings,
            &labels(&launch.run_id, run),
        ),
        type_: Some("Opaque".into()),
        string_data: Some(launch.env.clone()),
        ..Default::default()
    }
}

pub fn inputs(launch: &Launch, run: &RunLabels, settings: &RunSettings) -> ConfigMap {
    ConfigMap {
        metadata: meta(
            inputs_name(&launch.run_id),
            settings,
            &labels(&launch.run_id, run),
        ),
        data: Some(
            launch
                .inputs
                .iter()
                .map(|i| (i.name.to_string(), i.text.clone()))
                .collect(),
        ),
        ..Default::default()
    }
}

pub fn job(launch: &Launch, run: &RunLabels, settings: &RunSettings) -> Job {
    let labels = labels(&launch.run_id, run);
    let mut annotations = BTreeMap::from([(
        "fabrik.sh/status".to_string(),
        serde_json::json!({
            "phase": run.phase,
            "current_task": null,
            "attempt": 1,
            "progress": {"finished": 0, "total": 0},
        })
        .to_string(),
    )]);
    if let Some(path) = launch.env.get("FABRIK_SPEC_PATH") {
        annotations.insert("fabrik.sh/spec-path".into(), path.clone());
    }
    let mut mounts = vec![VolumeMount {
        name: "workspace".into(),
        mount_path: WORKSPACE.into(),
        ..Default::default()
    }];
    mounts.extend(launch.inputs.iter().map(|i| VolumeMount {
        name: "inputs".into(),
        mount_path: format!("{WORKSPACE}/{}", i.name),
        sub_path: Some(i.name.to_string()),
        read_only: Some(true),
        ..Default::default()
    }));
    let mut volumes = vec![Volume {
        name: "workspace".into(),
        persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
            claim_name: pvc_name(&launch.run_id),
            ..Default::default()
        }),
        ..Default::default()
    }];
    if !launch.inputs.is_empty() {
        volumes.push(Volume {
            name: "inputs".into(),
            config_map: Some(ConfigMapVolumeSource {
                name: inputs_name(&launch.run_id),
                ..Default::default()
            }),
            ..Default::default()
        });
    }
    // The dispatch form's resources, as the run's options carry them.
    let limits: BTreeMap<String, Quantity> = [("cpu", "FABRIK_CPU"), ("memory", "FABRIK_MEMORY")]
        .into_iter()
        .filter_map(|(k, var)| {
            launch
                .env
                .get(var)
                .map(|v| (k.to_string(), Quantity(v.clone())))
        })
        .collect();
    let container = Container {
        name: CONTAINER.into(),
        image: Some(settings.image.clone()),
        command: Some(launch.command.clone()),
        working_dir: Some(WORKSPACE.into()),
        env_from: Some(vec![EnvFromSource {
            secret_ref: Some(SecretEnvSource {
                name: env_secret_name(&launch.run_id),
                optional: Some(false),
            }),
            ..Default::default()
        }]),
        volume_mounts: Some(mounts),
        resources: (!limits.is_empty()).then(|| ResourceRequirements {
            requests: Some(limits.clone()),
            limits: Some(limits),
            ..Default::default()
        }),
        ..Default::default()
    };
    Job {
        metadata: ObjectMeta {
            annotations: Some(annotations),
            ..meta(job_name(&launch.run_id), settings, &labels)
        },
        spec: Some(JobSpec {
            backoff_limit: Some(1),
            ttl_seconds_after_finished: Some(TTL_AFTER_FINISHED),
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(labels),
                    ..Default::default()
                }),
                spec: Some(PodSpec {
                    restart_policy: Some("Never".into()),
                    containers: vec![container],
                    volumes: Some(volumes),
                    ..Default::default()
                }),
            },
            ..Default::default()
        }),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::RunInput;
    use std::path::PathBuf;

    fn launch() -> Launch {
        Launch {
            run_id: "Hoth_Todo-Loop.E2E-20260312-39".into(),
            command: vec!["bun".into(), "smithers".into(), "run".into()],
            env: BTreeMap::from([
                ("ANTHROPIC_API_KEY".to_string(), "sk-1".to_string()),
                ("FABRIK_CPU".to_string(), "2".to_string()),
                (
                    "FABRIK_SPEC_PATH".to_string(),
                    "/workspace/spec.json".to_string(),
                ),
            ]),
            workspace: PathBuf::from(WORKSPACE),
            log_path: PathBuf::from("/dev/null"),
            purpose: "run",
            inputs: vec![RunInput {
                name: "spec.json",
                text: "{}".into(),
            }],
            spec: None,
            project: None,
        }
    }

    fn settings() -> RunSettings {
        RunSettings {
            namespace: "fabrik-runs".into(),
            image: "ghcr.io/example/runner@sha256:abc".into(),
            storage: "10Gi".into(),
        }
    }

    #[test]
    fn names_are_dns_labels_as_fabrik_makes_them() {
        assert_eq!(
            job_name("Hoth_Todo-Loop.E2E-20260312-39"),
            "fabrik-hoth-todo-loop-e2e-20260312-39"
        );
        assert_eq!(pvc_name("01JABC"), "data-fabrik-01jabc");
        let long = "x".repeat(100);
        assert_eq!(job_name(&long).len(), 63);
        assert_eq!(job_name("ends-with_"), "fabrik-ends-with");
        assert_eq!(
            label_value("specs/feature one.json"),
            "specs-feature-one.json"
        );
    }

    #[test]
    fn the_job_has_fabriks_settings_labels_and_mounts() {
        let run = RunLabels {
            spec: Some("add-login".into()),
            project: Some("acme".into()),
            phase: "implement".into(),
        };
        let job = job(&launch(), &run, &settings());
        let labels = job.metadata.labels.clone().unwrap();
        assert_eq!(labels["fabrik.sh/run-id"], "Hoth_Todo-Loop.E2E-20260312-39");
        assert_eq!(labels["fabrik.sh/managed-by"], "fabrik");
        assert_eq!(labels["fabrik.sh/spec"], "add-login");
        assert_eq!(labels["fabrik.sh/project"], "acme");
        let status: serde_json::Value =
            serde_json::from_str(&job.metadata.annotations.as_ref().unwrap()["fabrik.sh/status"])
                .unwrap();
        assert_eq!(status["phase"], "implement");
        let spec = job.spec.unwrap();
        assert_eq!(
            (spec.backoff_limit, spec.ttl_seconds_after_finished),
            (Some(1), Some(604_800))
        );
        let pod = spec.template.spec.unwrap();
        assert_eq!(pod.restart_policy.as_deref(), Some("Never"));
        assert_eq!(
            spec.template.metadata.unwrap().labels.unwrap(),
            labels,
            "the pod carries the same labels"
        );
        let c = &pod.containers[0];
        assert_eq!(c.name, "fabrik");
        assert_eq!(
            c.image.as_deref(),
            Some("ghcr.io/example/runner@sha256:abc")
        );
        assert!(c.env.is_none(), "no value in the Job itself: {:?}", c.env);
        assert_eq!(
            c.env_from.as_ref().unwrap()[0]
                .secret_ref
                .as_ref()
                .unwrap()
                .name,
            "fabrik-run-env-hoth-todo-loop-e2e-20260312-39"
        );
        let mounts = c.volume_mounts.as_ref().unwrap();
        assert_eq!(mounts[0].mount_path, "/workspace");
        assert_eq!(mounts[1].mount_path, "/workspace/spec.json");
        assert_eq!(
            c.resources.as_ref().unwrap().limits.as_ref().unwrap()["cpu"].0,
            "2"
        );
        let volumes = pod.volumes.unwrap();
        assert_eq!(
            volumes[0]
                .persistent_volume_claim
                .as_ref()
                .unwrap()
                .claim_name,
            "data-fabrik-hoth-todo-loop-e2e-20260312-39"
        );
    }

    #[test]
    fn secrets_go_to_the_secret_and_files_to_the_config_map() {
        let run = RunLabels::default();
        let secret = env_secret(&launch(), &run, &settings());
        assert_eq!(secret.string_data.unwrap()["ANTHROPIC_API_KEY"], "sk-1");
        let inputs = inputs(&launch(), &run, &settings());
        assert_eq!(inputs.data.unwrap()["spec.json"], "{}");
        let pvc = pvc(&launch(), &run, &settings());
        let spec = pvc.spec.unwrap();
        assert_eq!(spec.access_modes.unwrap(), ["ReadWriteOnce"]);
        assert_eq!(
            spec.resources.unwrap().requests.unwrap()["storage"].0,
            "10Gi"
        );
    }
}
