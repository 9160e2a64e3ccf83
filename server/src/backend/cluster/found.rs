//! Runs found in the cluster that this server did not start — Jobs made by the fabrik
//! CLI, with today's `fabrik.sh/*` labels or the seed-era `fabrik.dev/*` ones, and the
//! Jobs our schedules' CronJobs make — read into what the service stores for a run.
use super::manifests::SCHEDULE;
use crate::backend::{ExternalRun, Reported, ScheduledRun};
use domain::run::{ExecState, Progress};
use k8s_openapi::api::batch::v1::Job;
use std::collections::BTreeMap;

/// The run a Job is, if fabrik made it.
pub fn from_job(job: &Job) -> Option<ExternalRun> {
    let labels = job.metadata.labels.clone().unwrap_or_default();
    let annotations = job.metadata.annotations.clone().unwrap_or_default();
    let managed = ["fabrik.sh/managed-by", "app.kubernetes.io/managed-by"]
        .iter()
        .any(|k| labels.get(*k).is_some_and(|v| v == "fabrik"));
    if !managed {
        return None;
    }
    // A CronJob's runs share its labels: each is the Job it is.
    let by_cron = job
        .metadata
        .owner_references
        .iter()
        .flatten()
        .any(|o| o.kind == "CronJob");
    let run_id = match by_cron || labels.contains_key(SCHEDULE) {
        true => job.metadata.name.clone()?,
        false => first(&labels, &["fabrik.sh/run-id", "fabrik.dev/run-id"])?,
    };
    let status = job.status.clone().unwrap_or_default();
    let condition = |kind: &str| {
        status
            .conditions
            .iter()
            .flatten()
            .any(|c| c.type_ == kind && c.status == "True")
    };
    let outcome = annotations.get("fabrik.sh/outcome").map(String::as_str);
    let (exec, exit_code) = if condition("Complete") || outcome == Some("succeeded") {
        (ExecState::Exited, Some(0))
    } else if condition("Failed") || outcome == Some("failed") {
        (ExecState::Exited, Some(1))
    } else if status.active.unwrap_or(0) > 0 {
        (ExecState::Running, None)
    } else {
        (ExecState::Pending, None)
    };
    let time = |key: &str, fallback: Option<i64>| {
        annotations
            .get(key)
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.timestamp_millis())
            .or(fallback)
    };
    let started = time(
        "fabrik.sh/started-at",
        status.start_time.map(|t| t.0.as_millisecond()),
    );
    let finished = time(
        "fabrik.sh/finished-at",
        status.completion_time.map(|t| t.0.as_millisecond()),
    );
    let created = job
        .metadata
        .creation_timestamp
        .as_ref()
        .map(|t| t.0.as_millisecond());
    let scheduled = first(&labels, &[SCHEDULE]).map(|schedule| ScheduledRun {
        schedule,
        scheduled_at_ms: time("batch.kubernetes.io/cronjob-scheduled-timestamp", None)
            .or(created)
            .unwrap_or_default(),
        manual: annotations
            .get("cronjob.kubernetes.io/instantiate")
            .is_some_and(|v| v == "manual"),
    });
    Some(ExternalRun {
        run_id,
        job: job.metadata.name.clone().unwrap_or_default(),
        spec: first(&labels, &["fabrik.sh/spec"])
            .or_else(|| annotations.get("fabrik.sh/spec-path").cloned()),
        project: first(&labels, &["fabrik.sh/project"]),
        exec,
        exit_code,
        created_at_ms: created.or(started),
        started_at_ms: started,
        finished_at_ms: finished,
        reported: reported(&annotations, &labels),
        scheduled,
    })
}

/// `fabrik.sh/status` (`{"current_task", "progress": {"finished", "total"}}`), else
/// `fabrik.sh/progress`; the task label when the status has none.
fn reported(
    annotations: &BTreeMap<String, String>,
    labels: &BTreeMap<String, String>,
) -> Option<Reported> {
    let json = |key: &str| {
        annotations
            .get(key)
            .and_then(|v| serde_json::from_str::<serde_json::Value>(v).ok())
    };
    let status = json("fabrik.sh/status");
    let progress = status
        .as_ref()
        .map(|s| s["progress"].clone())
        .filter(|p| p.is_object())
        .or_else(|| json("fabrik.sh/progress"))?;
    let count = |k: &str| progress[k].as_u64().map(|n| n.min(u32::MAX as u64) as u32);
    let task = status
        .as_ref()
        .and_then(|s| s["current_task"].as_str().map(str::to_string))
        .or_else(|| first(labels, &["fabrik.sh/task"]));
    Some(Reported {
        progress: Progress {
            finished: count("finished")?,
            total: count("total")?,
        },
        task,
    })
}

fn first(map: &BTreeMap<String, String>, keys: &[&str]) -> Option<String> {
    keys.iter()
        .find_map(|k| map.get(*k))
        .filter(|v| !v.is_empty())
        .cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A Job as the fabrik CLI leaves it after a successful run.
    fn cli_job() -> Job {
        serde_json::from_value(serde_json::json!({
            "apiVersion": "batch/v1", "kind": "Job",
            "metadata": {
                "name": "fabrik-hoth-todo-loop-e2e-20260312-39",
                "namespace": "fabrik-runs",
                "creationTimestamp": "2026-03-12T10:00:00Z",
                "labels": {
                    "fabrik.sh/run-id": "hoth-todo-loop-e2e-20260312-39",
                    "fabrik.sh/spec": "todo-loop", "fabrik.sh/project": "hoth",
                    "fabrik.sh/phase": "done", "fabrik.sh/status": "succeeded",
                    "fabrik.sh/task": "validate", "fabrik.sh/managed-by": "fabrik"
                },
                "annotations": {
                    "fabrik.sh/status": "{\"phase\":\"done\",\"current_task\":\"validate\",\"attempt\":1,\"progress\":{\"finished\":14,\"total\":14}}",
                    "fabrik.sh/started-at": "2026-03-12T10:00:05Z",
                    "fabrik.sh/finished-at": "2026-03-12T10:42:00Z",
                    "fabrik.sh/outcome": "succeeded",
                    "fabrik.sh/progress": "{\"finished\":14,\"total\":14}"
                }
            },
            "spec": {"template": {"spec": {"containers": [{"name": "fabrik", "image": "x"}], "restartPolicy": "Never"}}},
            "status": {"conditions": [{"type": "Complete", "status": "True"}], "succeeded": 1}
        }))
        .unwrap()
    }

    #[test]
    fn a_finished_cli_job_is_a_finished_run() {
        let run = from_job(&cli_job()).unwrap();
        assert_eq!(run.run_id, "hoth-todo-loop-e2e-20260312-39");
        assert_eq!(
            (run.spec.as_deref(), run.project.as_deref()),
            (Some("todo-loop"), Some("hoth"))
        );
        assert_eq!((run.exec, run.exit_code), (ExecState::Exited, Some(0)));
        assert_eq!(run.started_at_ms, Some(1_773_309_605_000));
        assert_eq!(run.finished_at_ms, Some(1_773_312_120_000));
        let reported = run.reported.unwrap();
        assert_eq!(
            (reported.progress.finished, reported.progress.total),
            (14, 14)
        );
        assert_eq!(reported.task.as_deref(), Some("validate"));
    }

    #[test]
    fn progress_comes_from_the_progress_annotation_when_the_status_has_none() {
        let mut job = cli_job();
        let annotations = job.metadata.annotations.as_mut().unwrap();
        annotations.remove("fabrik.sh/status");
        annotations.insert(
            "fabrik.sh/progress".into(),
            r#"{"finished":3,"total":9}"#.into(),
        );
        let reported = from_job(&job).unwrap().reported.unwrap();
        assert_eq!(
            (reported.progress.finished, reported.progress.total),
            (3, 9)
        );
        assert_eq!(reported.task.as_deref(), Some("validate"), "from the label");
        annotations_broken(&mut job);
        assert_eq!(
            from_job(&job).unwrap().reported,
            None,
            "unreadable: nothing"
        );
    }

    fn annotations_broken(job: &mut Job) {
        let annotations = job.metadata.annotations.as_mut().unwrap();
        annotations.insert("fabrik.sh/progress".into(), "not json".into());
    }

    #[test]
    fn running_failed_and_seed_era_jobs_and_strangers() {
        let mut running = cli_job();
        running.status = Some(serde_json::from_value(serde_json::json!({"active": 1})).unwrap());
        running.metadata.annotations = None;
        assert_eq!(from_job(&running).unwrap().exec, ExecState::Running);
        let mut failed = cli_job();
        failed.status = Some(
            serde_json::from_value(
                serde_json::json!({"conditions": [{"type": "Failed", "status": "True"}]}),
            )
            .unwrap(),
        );
        failed.metadata.annotations = None;
        assert_eq!(from_job(&failed).unwrap().exit_code, Some(1));
        let seed: Job = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "fabrik-old", "labels": {"fabrik.dev/run-id": "old-1", "app.kubernetes.io/managed-by": "fabrik"}},
            "status": {}
        }))
        .unwrap();
        let old = from_job(&seed).unwrap();
        assert_eq!(
            (old.run_id.as_str(), old.exec),
            ("old-1", ExecState::Pending)
        );
        let stranger: Job = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "backup", "labels": {"fabrik.sh/run-id": "x"}}
        }))
        .unwrap();
        assert!(from_job(&stranger).is_none(), "not managed by fabrik");
    }

    #[test]
    fn each_job_of_a_cron_job_is_a_run_of_its_own() {
        // The fabrik CLI's CronJob: its Jobs carry the CronJob's run id.
        let mut cli = cli_job();
        cli.metadata.name = Some("fabrik-cron-nightly-29400000".into());
        cli.metadata.owner_references = Some(vec![serde_json::from_value(serde_json::json!(
            {"apiVersion": "batch/v1", "kind": "CronJob", "name": "fabrik-cron-nightly", "uid": "u"}
        ))
        .unwrap()]);
        let run = from_job(&cli).unwrap();
        assert_eq!(run.run_id, "fabrik-cron-nightly-29400000");
        assert_eq!(run.scheduled, None, "not one of this server's schedules");
        // Ours: the schedule's label, the controller's scheduled time.
        let mut ours = cli.clone();
        let labels = ours.metadata.labels.as_mut().unwrap();
        labels.remove("fabrik.sh/run-id");
        labels.insert(SCHEDULE.into(), "nightly".into());
        ours.metadata.annotations.as_mut().unwrap().insert(
            "batch.kubernetes.io/cronjob-scheduled-timestamp".into(),
            "2026-11-26T03:00:00Z".into(),
        );
        let run = from_job(&ours).unwrap();
        assert_eq!(run.run_id, "fabrik-cron-nightly-29400000");
        assert_eq!(
            run.scheduled,
            Some(ScheduledRun {
                schedule: "nightly".into(),
                scheduled_at_ms: 1_795_662_000_000,
                manual: false
            })
        );
    }
}
