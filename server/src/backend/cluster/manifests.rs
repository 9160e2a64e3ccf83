//! The objects a run is made of in a cluster, shaped exactly as the real fabrik CLI
//! makes them (../shared/FABRIK-AND-SMITHERS.md): the Job `fabrik-<run-id>`, its PVC
//! `data-fabrik-<run-id>`, and — ours — a Secret with the run's environment and a
//! ConfigMap with the files it reads. Pure functions: no API calls here.
use crate::backend::{EnvSetRef, Launch, RunInput};
use k8s_openapi::api::batch::v1::{
    Job, JobSpec, PodFailurePolicy, PodFailurePolicyOnExitCodesRequirement, PodFailurePolicyRule,
};
use k8s_openapi::api::core::v1::{
    ConfigMap, ConfigMapVolumeSource, Container, EnvFromSource, EnvVar, EnvVarSource,
    PersistentVolumeClaim, PersistentVolumeClaimSpec, PersistentVolumeClaimVolumeSource, Pod,
    PodSpec, PodTemplateSpec, ResourceRequirements, Secret, SecretEnvSource, SecretKeySelector,
    SecretVolumeSource, Volume, VolumeMount, VolumeResourceRequirements,
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
/// On a schedule's CronJob and its runs (in place of `fabrik.sh/run-id`, which would
/// be the same for all of them): the schedule's name.
pub const SCHEDULE: &str = "fabrik.sh/schedule";
/// What the Job controller labels a Job's pods with (`job-name` before 1.27).
pub const JOB_NAME: &str = "batch.kubernetes.io/job-name";
/// On a reader pod: the run whose volume it mounts. Not `fabrik.sh/run-id`, so the
/// pod watcher never takes a reader's end for the run's.
pub const VOLUME_OF: &str = "fabrik.sh/volume-of";
/// `smithers run|resume` exits 3 when the run waits at its human gate.
pub const GATE_EXIT: i32 = 3;
/// How long a reader pod may live, whatever happens to the server.
const READER_DEADLINE_S: i64 = 900;
/// A week, as fabrik keeps finished Jobs.
const TTL_AFTER_FINISHED: i32 = 604_800;

/// How this server makes runs: the runner image (by digest) and what a run may use.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSettings {
    pub namespace: String,
    /// Where env sets are kept as the fabrik CLI keeps them.
    pub system_namespace: String,
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
/// characters, ending in an alphanumeric. A run a CronJob made is named by its Job.
pub fn job_name(run_id: &str) -> String {
    match cron_of(run_id) {
        Some(_) => run_id.to_string(),
        None => dns_label(&format!("fabrik-{run_id}")),
    }
}

/// A schedule's CronJob, `fabrik-cron-<name>`: at most 52 characters, as Kubernetes
/// wants (the controller adds `-<minutes>` to name its Jobs).
pub fn cron_job_name(schedule: &str) -> String {
    let name = dns_label(&format!("fabrik-cron-{schedule}"));
    name.chars()
        .take(52)
        .collect::<String>()
        .trim_end_matches('-')
        .to_string()
}

/// The CronJob that made the run, if a CronJob did: its runs are its Jobs,
/// `fabrik-cron-<name>-<digits>` (the controller's minutes, or the seconds of a
/// "trigger now").
pub fn cron_of(run_id: &str) -> Option<&str> {
    let (cron, time) = run_id.rsplit_once('-')?;
    let digits = !time.is_empty() && time.bytes().all(|b| b.is_ascii_digit());
    (digits && cron.starts_with("fabrik-cron-")).then_some(cron)
}

/// Where a schedule's runs work: one volume, a directory of its own for each run.
pub fn cron_pvc_name(cron_job: &str) -> String {
    format!("data-{cron_job}")
}

/// The run a pod is part of: its `fabrik.sh/run-id`, or for a run a schedule's
/// CronJob made (whose runs share one pod template), the Job the pod belongs to.
pub fn pod_run_id(labels: &BTreeMap<String, String>) -> Option<String> {
    if let Some(id) = labels.get(RUN_ID) {
        return Some(id.clone());
    }
    labels.get(SCHEDULE)?;
    labels
        .get(JOB_NAME)
        .or_else(|| labels.get("job-name"))
        .cloned()
}

/// A resume's Job: the first Job of a run stays (its PVC is owned by it), so each
/// resume is a Job of its own, `fabrik-<run-id>-r<base36 time>`.
pub fn resume_job_name(run_id: &str, at_ms: i64) -> String {
    suffixed(
        &job_name(run_id),
        &format!("r{}", base36(at_ms.max(0) as u64)),
    )
}

/// The pod that mounts a run's volume once the run's own pod is gone.
pub fn reader_name(run_id: &str) -> String {
    suffixed(&job_name(run_id), "db")
}

/// `base-suffix`, the base shortened so the whole stays a DNS label.
fn suffixed(base: &str, suffix: &str) -> String {
    let keep = 63 - suffix.len() - 1;
    let base: String = base.chars().take(keep).collect();
    format!("{}-{suffix}", base.trim_end_matches('-'))
}

fn base36(mut n: u64) -> String {
    const DIGITS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::new();
    loop {
        out.push(DIGITS[(n % 36) as usize]);
        n /= 36;
        if n == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

pub fn pvc_name(run_id: &str) -> String {
    match cron_of(run_id) {
        Some(cron) => cron_pvc_name(cron),
        None => dns_label(&format!("data-fabrik-{run_id}")),
    }
}

/// An env set as the fabrik CLI keeps it: `fabrik-env-<project>-<env>` (`_` → `-`).
pub fn env_set_secret_name(project: &str, env: &str) -> String {
    dns_label(&format!("fabrik-env-{project}-{env}"))
}

/// Where a run finds its env set's values as files, as fabrik mounts them.
pub const ENV_SET_MOUNT: &str = "/etc/fabrik/env";

/// The fabrik CLI's credentials (in the system namespace; a copy in the runs'): each
/// key a file under [`CREDENTIALS_MOUNT`], the keys that are env names exported.
pub const CREDENTIALS: &str = "fabrik-credentials";
pub const CREDENTIALS_MOUNT: &str = "/etc/fabrik/credentials";

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
    meta_in(name, &settings.namespace, labels)
}

fn meta_in(name: String, namespace: &str, labels: &BTreeMap<String, String>) -> ObjectMeta {
    ObjectMeta {
        name: Some(name),
        namespace: Some(namespace.to_string()),
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

/// The env set's Secret in `namespace` (the system one, or the runs' copy of it).
pub fn env_set_secret(set: &EnvSetRef, namespace: &str) -> Secret {
    let labels = BTreeMap::from([
        (MANAGED_BY.to_string(), "fabrik".to_string()),
        ("fabrik.sh/project".to_string(), label_value(&set.project)),
        ("fabrik.sh/env".to_string(), label_value(&set.env)),
    ]);
    Secret {
        metadata: meta_in(
            env_set_secret_name(&set.project, &set.env),
            namespace,
            &labels,
        ),
        type_: Some("Opaque".into()),
        string_data: Some(set.vars.clone()),
        ..Default::default()
    }
}

/// A spec and its todo as files, where the fabrik CLI and people can read them.
pub fn spec_config_map_name(id: &str) -> String {
    dns_label(&format!("fabrik-spec-{id}"))
}

pub fn spec_config_map(id: &str, files: &[RunInput], namespace: &str) -> ConfigMap {
    let labels = BTreeMap::from([
        (MANAGED_BY.to_string(), "fabrik".to_string()),
        ("fabrik.sh/spec".to_string(), label_value(id)),
    ]);
    ConfigMap {
        metadata: meta_in(spec_config_map_name(id), namespace, &labels),
        data: Some(
            files
                .iter()
                .map(|f| (f.name.to_string(), f.text.clone()))
                .collect(),
        ),
        ..Default::default()
    }
}

/// The run's own environment: what its env set doesn't already give it (the env set's
/// Secret comes first in `envFrom`, so a value set here wins, as at dispatch).
pub fn env_secret(launch: &Launch, run: &RunLabels, settings: &RunSettings) -> Secret {
    Secret {
        metadata: meta(
            env_secret_name(&launch.run_id),
            settings,
            &labels(&launch.run_id, run),
        ),
        type_: Some("Opaque".into()),
        string_data: Some(own_env(launch)),
        ..Default::default()
    }
}

fn own_env(launch: &Launch) -> BTreeMap<String, String> {
    let from_set = |k: &String, v: &String| {
        launch
            .env_set
            .as_ref()
            .is_some_and(|set| set.vars.get(k) == Some(v))
    };
    launch
        .env
        .iter()
        .filter(|(k, v)| !from_set(k, v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
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

/// A pod that mounts the run's volume and waits, so its Smithers DB can be read and
/// a gate decision written after the run's pod is gone. Same image as the run (it has
/// `sh`), no secrets, a deadline of its own.
pub fn reader_pod(run_id: &str, settings: &RunSettings) -> Pod {
    let labels = BTreeMap::from([
        (VOLUME_OF.to_string(), label_value(run_id)),
        (MANAGED_BY.to_string(), "fabrik".to_string()),
    ]);
    Pod {
        metadata: meta(reader_name(run_id), settings, &labels),
        spec: Some(PodSpec {
            restart_policy: Some("Never".into()),
            active_deadline_seconds: Some(READER_DEADLINE_S),
            containers: vec![Container {
                name: CONTAINER.into(),
                image: Some(settings.image.clone()),
                command: Some(vec!["sleep".into(), READER_DEADLINE_S.to_string()]),
                volume_mounts: Some(vec![VolumeMount {
                    sub_path: cron_of(run_id).map(|_| run_id.to_string()),
                    ..workspace_mount()
                }]),
                ..Default::default()
            }],
            volumes: Some(vec![workspace_volume(run_id)]),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// A rotated pool's key as the provider's variable, read from the credentials Secret
/// (explicit `env` wins over every `envFrom`), unless the run sets the variable itself.
fn credential_picks(launch: &Launch) -> Option<Vec<EnvVar>> {
    let vars: Vec<EnvVar> = launch
        .credential_picks
        .iter()
        .filter(|(var, _)| !launch.env.contains_key(*var))
        .map(|(var, key)| EnvVar {
            name: var.clone(),
            value_from: Some(EnvVarSource {
                secret_key_ref: Some(SecretKeySelector {
                    name: CREDENTIALS.into(),
                    key: key.clone(),
                    optional: Some(true),
                }),
                ..Default::default()
            }),
            ..Default::default()
        })
        .collect();
    (!vars.is_empty()).then_some(vars)
}

fn secret_env(name: String) -> EnvFromSource {
    EnvFromSource {
        secret_ref: Some(SecretEnvSource {
            name,
            optional: Some(false),
        }),
        ..Default::default()
    }
}

fn workspace_mount() -> VolumeMount {
    VolumeMount {
        name: "workspace".into(),
        mount_path: WORKSPACE.into(),
        ..Default::default()
    }
}

fn workspace_volume(run_id: &str) -> Volume {
    Volume {
        name: "workspace".into(),
        persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
            claim_name: pvc_name(run_id),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// Waiting at the gate (exit 3) ends the Job instead of retrying the pod: the run is
/// resumed by a Job of its own once the gate is decided.
fn gate_ends_job() -> PodFailurePolicy {
    PodFailurePolicy {
        rules: vec![PodFailurePolicyRule {
            action: "FailJob".into(),
            on_exit_codes: Some(PodFailurePolicyOnExitCodesRequirement {
                container_name: Some(CONTAINER.into()),
                operator: "In".into(),
                values: vec![GATE_EXIT],
            }),
            on_pod_conditions: None,
        }],
    }
}

/// The run's Job; a resume's is named by [`resume_job_name`].
pub fn job(launch: &Launch, run: &RunLabels, settings: &RunSettings, name: String) -> Job {
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
        sub_path: cron_of(&launch.run_id).map(|_| launch.run_id.clone()),
        ..workspace_mount()
    }];
    let mut volumes = vec![workspace_volume(&launch.run_id)];
    // Later sources win: the run's own settings over its env set over the credentials.
    let mut env_from = vec![EnvFromSource {
        secret_ref: Some(SecretEnvSource {
            name: CREDENTIALS.into(),
            optional: Some(true),
        }),
        ..Default::default()
    }];
    let mut mount_secret = |name: &str, secret: String, path: &str, optional: bool| {
        mounts.push(VolumeMount {
            name: name.into(),
            mount_path: path.into(),
            read_only: Some(true),
            ..Default::default()
        });
        volumes.push(Volume {
            name: name.into(),
            secret: Some(SecretVolumeSource {
                secret_name: Some(secret),
                optional: optional.then_some(true),
                ..Default::default()
            }),
            ..Default::default()
        });
    };
    mount_secret("credentials", CREDENTIALS.into(), CREDENTIALS_MOUNT, true);
    if let Some(set) = &launch.env_set {
        let name = env_set_secret_name(&set.project, &set.env);
        env_from.push(secret_env(name.clone()));
        mount_secret("env", name, ENV_SET_MOUNT, false);
    }
    env_from.push(secret_env(env_secret_name(&launch.run_id)));
    mounts.extend(launch.inputs.iter().map(|i| VolumeMount {
        name: "inputs".into(),
        mount_path: format!("{WORKSPACE}/{}", i.name),
        sub_path: Some(i.name.to_string()),
        read_only: Some(true),
        ..Default::default()
    }));
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
        env_from: Some(env_from),
        env: credential_picks(launch),
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
            ..meta(name, settings, &labels)
        },
        spec: Some(JobSpec {
            backoff_limit: Some(1),
            pod_failure_policy: Some(gate_ends_job()),
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
    use crate::backend::EnvSetRef;
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
            project: Some("hoth".into()),
            env_set: Some(EnvSetRef {
                project: "hoth".into(),
                env: "dev_eu".into(),
                vars: BTreeMap::from([("ANTHROPIC_API_KEY".to_string(), "sk-1".to_string())]),
            }),
            credential_picks: Default::default(),
        }
    }

    fn settings() -> RunSettings {
        RunSettings {
            namespace: "fabrik-runs".into(),
            system_namespace: "fabrik-system".into(),
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
        let job = job(&launch(), &run, &settings(), job_name(&launch().run_id));
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
        let rule = &spec.pod_failure_policy.as_ref().unwrap().rules[0];
        let exits = rule.on_exit_codes.as_ref().unwrap();
        assert_eq!(
            (
                rule.action.as_str(),
                exits.container_name.as_deref(),
                exits.values.as_slice()
            ),
            ("FailJob", Some("fabrik"), &[3][..]),
            "waiting at the gate ends the Job instead of running the pod again"
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
        let env_from: Vec<&str> = c
            .env_from
            .as_ref()
            .unwrap()
            .iter()
            .map(|e| e.secret_ref.as_ref().unwrap().name.as_str())
            .collect();
        assert_eq!(
            env_from,
            [
                "fabrik-credentials",
                "fabrik-env-hoth-dev-eu",
                "fabrik-run-env-hoth-todo-loop-e2e-20260312-39"
            ],
            "the credentials, then the env set, so the run's own values win"
        );
        let mounts = c.volume_mounts.as_ref().unwrap();
        let paths: Vec<&str> = mounts.iter().map(|m| m.mount_path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "/workspace",
                "/etc/fabrik/credentials",
                "/etc/fabrik/env",
                "/workspace/spec.json"
            ]
        );
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
    fn a_rotated_pool_sets_the_providers_variable_from_the_credentials_secret() {
        let mut rotated = launch();
        rotated.credential_picks = BTreeMap::from([
            (
                "ANTHROPIC_API_KEY".to_string(),
                "ANTHROPIC_API_KEY_2".to_string(),
            ),
            ("OPENAI_API_KEY".to_string(), "OPENAI_API_KEY_3".to_string()),
        ]);
        let job = job(
            &rotated,
            &RunLabels::default(),
            &settings(),
            "fabrik-x".into(),
        );
        let container = &job.spec.unwrap().template.spec.unwrap().containers[0];
        let env = container.env.clone().unwrap();
        assert_eq!(
            env.len(),
            1,
            "the run's own ANTHROPIC_API_KEY wins: {env:?}"
        );
        assert_eq!(env[0].name, "OPENAI_API_KEY");
        let from = env[0].value_from.clone().unwrap().secret_key_ref.unwrap();
        assert_eq!(
            (from.name.as_str(), from.key.as_str()),
            (CREDENTIALS, "OPENAI_API_KEY_3")
        );
        assert!(env[0].value.is_none(), "never a value in the manifest");
        let plain = job_of(&launch());
        assert!(plain.is_none(), "no rotation, no env entries");
    }

    fn job_of(launch: &Launch) -> Option<Vec<EnvVar>> {
        let job = job(
            launch,
            &RunLabels::default(),
            &settings(),
            "fabrik-x".into(),
        );
        job.spec.unwrap().template.spec.unwrap().containers[0]
            .env
            .clone()
    }

    #[test]
    fn resume_jobs_and_reader_pods_have_names_of_their_own_within_63_characters() {
        let long = "x".repeat(80);
        for name in [
            resume_job_name(&long, 1_764_000_000_000),
            reader_name(&long),
        ] {
            assert!(name.len() <= 63, "{name}");
            assert!(name.starts_with("fabrik-xxx"), "{name}");
        }
        assert_eq!(resume_job_name("01ABC", 35), "fabrik-01abc-rz");
        assert_ne!(
            resume_job_name("01ABC", 1_764_000_000_000),
            resume_job_name("01ABC", 1_764_000_000_001)
        );
        assert_eq!(reader_name("01ABC"), "fabrik-01abc-db");
    }

    #[test]
    fn a_reader_pod_mounts_the_runs_volume_without_the_run_id_label() {
        let pod = reader_pod("01ABC", &settings());
        let labels = pod.metadata.labels.unwrap();
        assert!(
            !labels.contains_key(RUN_ID),
            "the pod watcher must not take it for the run"
        );
        assert_eq!(labels[VOLUME_OF], "01ABC");
        let spec = pod.spec.unwrap();
        assert_eq!(
            spec.volumes.unwrap()[0]
                .persistent_volume_claim
                .as_ref()
                .unwrap()
                .claim_name,
            "data-fabrik-01abc"
        );
        assert!(spec.active_deadline_seconds.is_some());
        assert!(spec.containers[0].env_from.is_none(), "no secrets");
    }

    #[test]
    fn secrets_go_to_the_secret_and_files_to_the_config_map() {
        let run = RunLabels::default();
        let secret = env_secret(&launch(), &run, &settings());
        let own = secret.string_data.unwrap();
        assert!(
            !own.contains_key("ANTHROPIC_API_KEY"),
            "the env set's values stay in its own Secret"
        );
        assert_eq!(own["FABRIK_CPU"], "2");
        let set = env_set_secret(launch().env_set.as_ref().unwrap(), "fabrik-system");
        assert_eq!(set.metadata.name.as_deref(), Some("fabrik-env-hoth-dev-eu"));
        assert_eq!(set.metadata.namespace.as_deref(), Some("fabrik-system"));
        assert_eq!(set.string_data.unwrap()["ANTHROPIC_API_KEY"], "sk-1");
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
