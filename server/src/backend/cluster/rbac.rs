//! Every request the cluster backend makes of the API server, as RBAC names it. Call
//! sites name their permission from here, so `deploy/rbac.yaml` is checked against the
//! one list the code uses (`server/tests/deploy.rs`).

/// Which of fabrik's namespaces a permission is needed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scope {
    /// Where runs go (`--namespace`, `fabrik-runs`).
    Runs,
    /// Where env sets live as the fabrik CLI keeps them (`--system-namespace`,
    /// `fabrik-system`).
    System,
    /// Cluster-wide objects (nodes, storage classes), read for the admin page.
    Cluster,
}

/// One verb on one resource in one of fabrik's namespaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Permission {
    pub scope: Scope,
    /// The API group: "" for the core group.
    pub group: &'static str,
    pub resource: &'static str,
    pub verb: &'static str,
}

const fn p(group: &'static str, resource: &'static str, verb: &'static str) -> Permission {
    Permission {
        scope: Scope::Runs,
        group,
        resource,
        verb,
    }
}

const fn system(resource: &'static str, verb: &'static str) -> Permission {
    Permission {
        scope: Scope::System,
        group: "",
        resource,
        verb,
    }
}

const fn cluster(group: &'static str, resource: &'static str, verb: &'static str) -> Permission {
    Permission {
        scope: Scope::Cluster,
        group,
        resource,
        verb,
    }
}

pub const LIST_JOBS: Permission = p("batch", "jobs", "list");
pub const CREATE_JOBS: Permission = p("batch", "jobs", "create");
pub const DELETE_JOBS: Permission = p("batch", "jobs", "delete");
/// The Job watcher (runs the fabrik CLI made) lists, then watches.
pub const WATCH_JOBS: Permission = p("batch", "jobs", "watch");
pub const LIST_PODS: Permission = p("", "pods", "list");
/// The pod watcher lists, then watches.
pub const WATCH_PODS: Permission = p("", "pods", "watch");
pub const GET_POD_LOGS: Permission = p("", "pods/log", "get");
/// Reader pods mount a run's volume once its own pod is gone.
pub const CREATE_PODS: Permission = p("", "pods", "create");
pub const GET_PODS: Permission = p("", "pods", "get");
pub const DELETE_PODS: Permission = p("", "pods", "delete");
/// Exec (over WebSocket, authorised as `create` since Kubernetes 1.30) copies a run's
/// Smithers DB out of its pod and a decided gate back in.
pub const EXEC_PODS: Permission = p("", "pods/exec", "create");
pub const CREATE_SECRETS: Permission = p("", "secrets", "create");
/// A run's copy of its env set is brought up to date at each dispatch.
pub const UPDATE_SECRETS: Permission = p("", "secrets", "update");
/// The runs' copy of `fabrik-credentials` goes when the system namespace has none.
pub const DELETE_SECRETS: Permission = p("", "secrets", "delete");
pub const CREATE_CONFIGMAPS: Permission = p("", "configmaps", "create");
pub const CREATE_PVCS: Permission = p("", "persistentvolumeclaims", "create");
/// A schedule's runs share its env Secret and input files, kept up to date.
pub const UPDATE_CONFIGMAPS: Permission = p("", "configmaps", "update");
/// Schedules are CronJobs `fabrik-cron-<name>`; "trigger now" reads one to make a Job.
pub const CREATE_CRONJOBS: Permission = p("batch", "cronjobs", "create");
pub const UPDATE_CRONJOBS: Permission = p("batch", "cronjobs", "update");
pub const GET_CRONJOBS: Permission = p("batch", "cronjobs", "get");
pub const DELETE_CRONJOBS: Permission = p("batch", "cronjobs", "delete");
/// Env sets as Secrets `fabrik-env-<project>-<env>`, where the fabrik CLI reads them.
pub const CREATE_ENV_SECRETS: Permission = system("secrets", "create");
pub const UPDATE_ENV_SECRETS: Permission = system("secrets", "update");
pub const DELETE_ENV_SECRETS: Permission = system("secrets", "delete");
/// `fabrik-credentials`, copied for runs and counted for the admin page.
pub const GET_CREDENTIALS: Permission = system("secrets", "get");
/// The admin page's cluster facts: nodes, their usage (metrics-server), the runs'
/// volumes and the storage classes.
pub const LIST_NODES: Permission = cluster("", "nodes", "list");
pub const LIST_NODE_METRICS: Permission = cluster("metrics.k8s.io", "nodes", "list");
pub const LIST_STORAGE_CLASSES: Permission = cluster("storage.k8s.io", "storageclasses", "list");
pub const LIST_PVCS: Permission = p("", "persistentvolumeclaims", "list");
/// Specs and their todos as ConfigMaps `fabrik-spec-<id>`.
pub const CREATE_SPEC_CONFIGMAPS: Permission = system("configmaps", "create");
pub const UPDATE_SPEC_CONFIGMAPS: Permission = system("configmaps", "update");
pub const DELETE_SPEC_CONFIGMAPS: Permission = system("configmaps", "delete");

/// Everything, for the RBAC check.
pub const ALL: &[Permission] = &[
    LIST_JOBS,
    CREATE_JOBS,
    DELETE_JOBS,
    WATCH_JOBS,
    LIST_PODS,
    WATCH_PODS,
    GET_POD_LOGS,
    CREATE_PODS,
    GET_PODS,
    DELETE_PODS,
    EXEC_PODS,
    CREATE_SECRETS,
    UPDATE_SECRETS,
    DELETE_SECRETS,
    CREATE_CONFIGMAPS,
    CREATE_PVCS,
    UPDATE_CONFIGMAPS,
    CREATE_CRONJOBS,
    UPDATE_CRONJOBS,
    GET_CRONJOBS,
    DELETE_CRONJOBS,
    CREATE_ENV_SECRETS,
    UPDATE_ENV_SECRETS,
    DELETE_ENV_SECRETS,
    GET_CREDENTIALS,
    LIST_NODES,
    LIST_NODE_METRICS,
    LIST_STORAGE_CLASSES,
    LIST_PVCS,
    CREATE_SPEC_CONFIGMAPS,
    UPDATE_SPEC_CONFIGMAPS,
    DELETE_SPEC_CONFIGMAPS,
];
