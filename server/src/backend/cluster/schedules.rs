//! Schedules in the cluster: each is a CronJob `fabrik-cron-<name>` that fires by
//! itself (the embedded scheduler leaves it alone). Each of its Jobs is a run of its
//! own: shaped as a dispatched run's Job, its id is its Job's name (which its pod reads
//! as `FABRIK_RUN_ID`), and it works in a directory of its own on the schedule's
//! volume. "Trigger now" is a Job made from the CronJob's template, as
//! `kubectl create job --from=cronjob/…` makes it.
use super::manifests::{
    self, cron_job_name, label_value, labels, RunLabels, RunSettings, RUN_ID, SCHEDULE,
};
use super::{connect, labels_for, rbac, KubeBackend};
use crate::backend::ScheduledLaunch;
use crate::error::Result;
use k8s_openapi::api::batch::v1::{CronJob, CronJobSpec, Job, JobTemplateSpec};
use k8s_openapi::api::core::v1::{
    ConfigMap, EnvVar, EnvVarSource, ObjectFieldSelector, PersistentVolumeClaim, Secret,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use k8s_openapi::Resource;
use kube::api::{DeleteParams, PostParams, PropagationPolicy};
use kube::Api;

/// As the fabrik CLI keeps a CronJob's Jobs.
const KEEP_SUCCEEDED: i32 = 3;
const KEEP_FAILED: i32 = 1;

/// What a schedule is made of in the runs' namespace.
pub struct CronObjects {
    pub env: Secret,
    pub inputs: Option<ConfigMap>,
    pub volume: PersistentVolumeClaim,
    pub cron_job: CronJob,
}

/// The schedule's objects: its runs' shared environment, input files and volume, and
/// the CronJob.
pub fn cron_objects(schedule: &ScheduledLaunch, settings: &RunSettings) -> CronObjects {
    let name = cron_job_name(&schedule.name);
    let mut launch = schedule.launch.clone();
    // The schedule's own objects are named as a run `cron-<name>`'s would be.
    launch.run_id = name.trim_start_matches("fabrik-").to_string();
    let run = labels_for(&launch);
    let job = manifests::job(&launch, &run, settings, name.clone());
    let mut volume = manifests::pvc(&launch, &run, settings);
    volume.metadata.name = Some(manifests::cron_pvc_name(&name));
    CronObjects {
        env: manifests::env_secret(&launch, &run, settings),
        inputs: (!launch.inputs.is_empty()).then(|| manifests::inputs(&launch, &run, settings)),
        cron_job: cron_job(schedule, &run, job, settings),
        volume,
    }
}

/// The labels of the schedule's runs: no run id (each is its Job), the schedule's name.
fn run_labels(schedule: &str, run: &RunLabels) -> std::collections::BTreeMap<String, String> {
    let mut labels = labels("", run);
    labels.remove(RUN_ID);
    labels.insert(SCHEDULE.into(), label_value(schedule));
    labels
}

fn cron_job(
    schedule: &ScheduledLaunch,
    run: &RunLabels,
    job: Job,
    settings: &RunSettings,
) -> CronJob {
    let name = job.metadata.name.clone().unwrap_or_default();
    let template_labels = run_labels(&schedule.name, run);
    let mut spec = job.spec.unwrap_or_default();
    spec.template.metadata = Some(ObjectMeta {
        labels: Some(template_labels.clone()),
        ..Default::default()
    });
    if let Some(pod) = spec.template.spec.as_mut() {
        for volume in pod.volumes.iter_mut().flatten() {
            if let Some(claim) = volume.persistent_volume_claim.as_mut() {
                if volume.name == "workspace" {
                    claim.claim_name = manifests::cron_pvc_name(&name);
                }
            }
        }
        for container in &mut pod.containers {
            // Keeps the Job's own (a rotated pool's key) after the run's id.
            let job_env = container.env.take().into_iter().flatten();
            container.env = Some(
                std::iter::once(run_id_from_job_name())
                    .chain(job_env)
                    .collect(),
            );
            for mount in container.volume_mounts.iter_mut().flatten() {
                if mount.name == "workspace" {
                    mount.sub_path_expr = Some(crate::backend::EACH_RUN_ID.into());
                }
            }
        }
    }
    let mut annotations = job.metadata.annotations.clone().unwrap_or_default();
    let job_annotations = annotations.clone();
    annotations.insert("fabrik.sh/cron-schedule".into(), schedule.cron.clone());
    let mut own_labels = template_labels.clone();
    // As the fabrik CLI labels its CronJobs.
    own_labels.insert(
        RUN_ID.into(),
        label_value(name.trim_start_matches("fabrik-")),
    );
    CronJob {
        metadata: ObjectMeta {
            name: Some(name),
            namespace: Some(settings.namespace.clone()),
            labels: Some(own_labels),
            annotations: Some(annotations),
            ..Default::default()
        },
        spec: CronJobSpec {
            schedule: schedule.cron.clone(),
            time_zone: Some(schedule.timezone.clone()),
            concurrency_policy: Some(format!("{:?}", schedule.concurrency)),
            suspend: Some(schedule.suspended),
            successful_jobs_history_limit: Some(KEEP_SUCCEEDED),
            failed_jobs_history_limit: Some(KEEP_FAILED),
            job_template: JobTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(template_labels),
                    annotations: Some(job_annotations),
                    ..Default::default()
                }),
                spec: Some(spec),
            },
            ..Default::default()
        },
        ..Default::default()
    }
}

/// `FABRIK_RUN_ID`: the pod's Job, which the Job controller labels it with.
fn run_id_from_job_name() -> EnvVar {
    EnvVar {
        name: "FABRIK_RUN_ID".into(),
        value_from: Some(EnvVarSource {
            field_ref: Some(ObjectFieldSelector {
                field_path: "metadata.labels['job-name']".into(),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// A run of the CronJob now: a Job from its template, owned by it, named
/// `<cron-job>-<unix seconds>` (the controller's own Jobs end in minutes).
pub fn job_from_cron(cron: &CronJob, at_ms: i64) -> Job {
    let name = cron.metadata.name.clone().unwrap_or_default();
    let template = cron.spec.job_template.clone();
    let meta = template.metadata.unwrap_or_default();
    let mut annotations = meta.annotations.unwrap_or_default();
    annotations.insert("cronjob.kubernetes.io/instantiate".into(), "manual".into());
    Job {
        metadata: ObjectMeta {
            name: Some(format!("{name}-{}", at_ms.max(0) / 1000)),
            namespace: cron.metadata.namespace.clone(),
            labels: meta.labels,
            annotations: Some(annotations),
            owner_references: Some(vec![OwnerReference {
                api_version: CronJob::API_VERSION.into(),
                kind: CronJob::KIND.into(),
                name,
                uid: cron.metadata.uid.clone().unwrap_or_default(),
                controller: Some(true),
                block_owner_deletion: None,
            }]),
            ..Default::default()
        },
        spec: template.spec,
        ..Default::default()
    }
}

impl KubeBackend {
    pub(super) async fn publish_cron(&self, schedule: &ScheduledLaunch) -> Result<()> {
        let ns = &self.settings.namespace;
        let objects = cron_objects(schedule, &self.settings);
        self.hand_over_credentials().await?;
        if let Some(set) = &schedule.launch.env_set {
            self.hand_over_set(set).await?;
        }
        let secrets = (rbac::CREATE_SECRETS, rbac::UPDATE_SECRETS);
        self.upsert(ns, objects.env, secrets).await?;
        if let Some(inputs) = objects.inputs {
            let maps = (rbac::CREATE_CONFIGMAPS, rbac::UPDATE_CONFIGMAPS);
            self.upsert(ns, inputs, maps).await?;
        }
        self.create(&objects.volume, rbac::CREATE_PVCS, true)
            .await?;
        let crons = (rbac::CREATE_CRONJOBS, rbac::UPDATE_CRONJOBS);
        self.upsert(ns, objects.cron_job, crons).await
    }

    /// Deletes the CronJob, leaving its Jobs (runs in flight go on; finished ones
    /// stay listed) and its volume, where those runs work.
    pub(super) async fn withdraw_cron(&self, schedule: &str) -> Result<()> {
        let ns = &self.settings.namespace;
        let name = cron_job_name(schedule);
        let orphan = DeleteParams {
            propagation_policy: Some(PropagationPolicy::Orphan),
            ..Default::default()
        };
        self.delete_in::<CronJob>(ns, &name, &orphan, rbac::DELETE_CRONJOBS)
            .await
    }

    pub(super) async fn trigger_cron(&self, schedule: &str) -> Result<String> {
        let ns = &self.settings.namespace;
        let name = cron_job_name(schedule);
        let api: Api<CronJob> = self.api();
        let cron = match api.get(&name).await {
            Ok(cron) => cron,
            Err(kube::Error::Api(s)) if s.code == 404 => {
                return Err(domain::Error::conflict(format!(
                    "The CronJob {name} is missing from namespace {ns}: save the schedule again (or restart the server) to make it."
                ))
                .into())
            }
            Err(e) => return Err(connect::explain(e, rbac::GET_CRONJOBS, ns)),
        };
        let job = job_from_cron(&cron, crate::clock::now_ms());
        let run_id = job.metadata.name.clone().unwrap_or_default();
        match self.api::<Job>().create(&PostParams::default(), &job).await {
            Ok(_) => Ok(run_id),
            Err(kube::Error::Api(s)) if s.code == 409 => Err(domain::Error::conflict(
                "Triggered twice in the same second; try again.",
            )
            .into()),
            Err(e) => Err(connect::explain(e, rbac::CREATE_JOBS, ns)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::{Launch, RunInput, EACH_RUN_ID};
    use domain::schedule::ConcurrencyPolicy;

    fn scheduled() -> ScheduledLaunch {
        ScheduledLaunch {
            name: "nightly".into(),
            cron: "0 3 * * *".into(),
            timezone: "Europe/Berlin".into(),
            concurrency: ConcurrencyPolicy::Forbid,
            suspended: false,
            launch: Launch {
                run_id: EACH_RUN_ID.into(),
                command: vec![
                    "smithers".into(),
                    "run".into(),
                    format!("--run-id={EACH_RUN_ID}"),
                ],
                env: [(
                    "SMITHERS_DB_PATH".to_string(),
                    manifests::SMITHERS_DB.to_string(),
                )]
                .into(),
                workspace: manifests::WORKSPACE.into(),
                log_path: "log".into(),
                purpose: "run",
                inputs: vec![RunInput {
                    name: "spec.json",
                    text: "{}".into(),
                }],
                spec: Some("weekly".into()),
                project: Some("hoth".into()),
                env_set: None,
                credential_picks: Default::default(),
            },
        }
    }

    fn settings() -> RunSettings {
        RunSettings {
            namespace: "fabrik-runs".into(),
            system_namespace: "fabrik-system".into(),
            image: "runner@sha256:1".into(),
            storage: "10Gi".into(),
        }
    }

    #[test]
    fn each_run_of_a_cron_job_has_its_own_id_and_directory() {
        let objects = cron_objects(&scheduled(), &settings());
        let cron = objects.cron_job;
        assert_eq!(cron.metadata.name.as_deref(), Some("fabrik-cron-nightly"));
        let spec = cron.spec;
        assert_eq!(
            (spec.schedule.as_str(), spec.time_zone.as_deref()),
            ("0 3 * * *", Some("Europe/Berlin"))
        );
        assert_eq!(spec.concurrency_policy.as_deref(), Some("Forbid"));
        assert_eq!(
            (
                spec.successful_jobs_history_limit,
                spec.failed_jobs_history_limit
            ),
            (Some(3), Some(1))
        );
        let template = spec.job_template;
        let labels = template.metadata.unwrap().labels.unwrap();
        assert!(
            !labels.contains_key(RUN_ID),
            "shared by every run: {labels:?}"
        );
        assert_eq!(labels[SCHEDULE], "nightly");
        let pod = template.spec.unwrap().template;
        assert_eq!(pod.metadata.unwrap().labels.unwrap(), labels);
        let pod = pod.spec.unwrap();
        let fabrik = &pod.containers[0];
        assert_eq!(
            fabrik.command.as_ref().unwrap()[2],
            "--run-id=$(FABRIK_RUN_ID)"
        );
        let env = &fabrik.env.as_ref().unwrap()[0];
        assert_eq!(env.name, "FABRIK_RUN_ID");
        let from = env.value_from.as_ref().unwrap().field_ref.as_ref().unwrap();
        assert_eq!(from.field_path, "metadata.labels['job-name']");
        let workspace = &fabrik.volume_mounts.as_ref().unwrap()[0];
        assert_eq!(
            (
                workspace.mount_path.as_str(),
                workspace.sub_path_expr.as_deref()
            ),
            ("/workspace", Some("$(FABRIK_RUN_ID)"))
        );
        let claim = pod.volumes.unwrap()[0]
            .persistent_volume_claim
            .clone()
            .unwrap();
        assert_eq!(claim.claim_name, "data-fabrik-cron-nightly");
        assert_eq!(
            objects.volume.metadata.name.as_deref(),
            Some("data-fabrik-cron-nightly")
        );
        let env_from = fabrik.env_from.as_ref().unwrap();
        let secret = env_from.last().unwrap().secret_ref.as_ref().unwrap();
        assert_eq!(Some(&secret.name), objects.env.metadata.name.as_ref());
        assert!(objects.inputs.is_some());
    }

    #[test]
    fn a_rotated_pools_key_is_in_the_cron_jobs_template_after_the_run_id() {
        let mut schedule = scheduled();
        schedule.launch.credential_picks = [(
            "ANTHROPIC_API_KEY".to_string(),
            "ANTHROPIC_API_KEY_2".to_string(),
        )]
        .into();
        let cron = cron_objects(&schedule, &settings()).cron_job;
        let pod = cron.spec.job_template.spec.unwrap().template.spec.unwrap();
        let env = pod.containers[0].env.clone().unwrap();
        let names: Vec<&str> = env.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["FABRIK_RUN_ID", "ANTHROPIC_API_KEY"]);
        let key = env[1]
            .value_from
            .as_ref()
            .unwrap()
            .secret_key_ref
            .as_ref()
            .unwrap();
        assert_eq!(key.key, "ANTHROPIC_API_KEY_2");
    }

    #[test]
    fn a_run_of_a_cron_job_is_named_found_and_mounted_as_its_job() {
        let mut cron = cron_objects(&scheduled(), &settings()).cron_job;
        cron.metadata.uid = Some("uid-cron".into());
        let job = job_from_cron(&cron, 1_795_662_000_999);
        let run_id = job.metadata.name.clone().unwrap();
        assert_eq!(run_id, "fabrik-cron-nightly-1795662000");
        let owner = &job.metadata.owner_references.as_ref().unwrap()[0];
        assert_eq!(
            (owner.kind.as_str(), owner.uid.as_str()),
            ("CronJob", "uid-cron")
        );
        // Found as a run of the schedule, named by its Job…
        let found = super::super::found::from_job(&job).unwrap();
        assert_eq!(found.run_id, run_id);
        let scheduled = found.scheduled.unwrap();
        assert_eq!(
            (scheduled.schedule.as_str(), scheduled.manual),
            ("nightly", true)
        );
        // …its pods are the run's…
        let mut pod_labels = job.spec.unwrap().template.metadata.unwrap().labels.unwrap();
        pod_labels.insert("job-name".into(), run_id.clone());
        assert_eq!(manifests::pod_run_id(&pod_labels), Some(run_id.clone()));
        // …and its Job, volume and reader are where the CronJob put them.
        assert_eq!(manifests::job_name(&run_id), run_id);
        assert_eq!(manifests::pvc_name(&run_id), "data-fabrik-cron-nightly");
        let reader = manifests::reader_pod(&run_id, &settings()).spec.unwrap();
        let mount = &reader.containers[0].volume_mounts.as_ref().unwrap()[0];
        assert_eq!(mount.sub_path.as_deref(), Some(run_id.as_str()));
        assert_eq!(
            manifests::cron_of("fabrik-cron-nightly-1795662000-r1"),
            None
        );
        assert_eq!(manifests::cron_of("01JABCDEF"), None);
    }
}
