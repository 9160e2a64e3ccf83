use clap::Parser;
use std::net::SocketAddr;
use std::path::PathBuf;

/// Fabrik Mission Control: web UI, JSON API and live events for AI coding-agent runs.
#[derive(Debug, Clone, Parser)]
#[command(name = "fabrik-server", version)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "FABRIK_LISTEN", default_value = "127.0.0.1:3000")]
    pub listen: SocketAddr,

    /// Where the store, run workspaces and logs live (default: the XDG data dir).
    #[arg(long, env = "FABRIK_DATA_DIR", global = true)]
    pub data_dir: Option<PathBuf>,

    /// Run workflows as Kubernetes Jobs, reaching the cluster with this kubeconfig.
    #[arg(long, env = "FABRIK_KUBECONFIG")]
    pub kubeconfig: Option<PathBuf>,

    /// Run workflows as Kubernetes Jobs, with the service account of the pod this server
    /// runs in.
    #[arg(long, env = "FABRIK_IN_CLUSTER")]
    pub in_cluster: bool,

    /// Namespace of run Jobs in kube mode.
    #[arg(long, env = "FABRIK_NAMESPACE", default_value = "fabrik-runs")]
    pub namespace: String,

    /// Namespace where env sets are kept as Secrets `fabrik-env-<project>-<env>` in kube
    /// mode (where the fabrik CLI reads them).
    #[arg(long, env = "FABRIK_SYSTEM_NAMESPACE", default_value = "fabrik-system")]
    pub system_namespace: String,

    /// The image of a run's `fabrik` container in kube mode, by digest
    /// (`registry/runner@sha256:…`).
    #[arg(long, env = "FABRIK_KUBE_IMAGE")]
    pub kube_image: Option<String>,

    /// Size of each run's volume (PVC) in kube mode.
    #[arg(long, env = "FABRIK_KUBE_STORAGE", default_value = "10Gi")]
    pub kube_storage: String,

    /// Install root holding templates/, workflows/ and node_modules/ (the Smithers
    /// runtime). Default: the current directory if it has templates/, else the source tree.
    #[arg(long, env = "FABRIK_ROOT")]
    pub root: Option<PathBuf>,

    /// Password of the first user, `admin`, created on an empty store (default: a
    /// generated one, printed once to the log).
    #[arg(long, env = "FABRIK_ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: Option<String>,

    /// When the server runs as root, runs switch to this user (default: nobody). Pass
    /// `root` to keep runs as root (not recommended).
    #[arg(long, env = "FABRIK_RUN_USER")]
    pub run_user: Option<String>,

    /// Proxies whose `X-Forwarded-For` is believed (IPs or CIDRs, comma-separated), so
    /// sign-in limits and the audit log see the real client address.
    #[arg(long, env = "FABRIK_TRUSTED_PROXY", value_delimiter = ',')]
    pub trusted_proxy: Vec<String>,

    /// Live streams (event streams, log follows) one user may hold open at once.
    #[arg(long, env = "FABRIK_MAX_STREAMS_PER_USER", default_value_t = 32)]
    pub max_streams_per_user: usize,

    /// Live streams the server holds open in total.
    #[arg(long, env = "FABRIK_MAX_STREAMS", default_value_t = 4096)]
    pub max_streams: usize,

    /// Don't fire schedules from this server (tests drive the scheduler themselves).
    #[arg(long, hide = true)]
    pub no_scheduler: bool,

    /// Keys every env set needs before a run may use it (comma-separated; empty for none).
    #[arg(
        long,
        env = "FABRIK_REQUIRED_ENV",
        value_delimiter = ',',
        default_value = "ANTHROPIC_API_KEY,LAOS_LOKI_URL"
    )]
    pub required_env: Vec<String>,

    /// Who push services may contact about our notifications (RFC 8292 `sub`).
    #[arg(
        long,
        env = "FABRIK_VAPID_SUBJECT",
        default_value = "mailto:fabrik@localhost"
    )]
    pub vapid_subject: String,

    /// The first retry of a failed notification waits this long (ms); each next one
    /// twice as long.
    #[arg(
        long,
        env = "FABRIK_NOTIFY_RETRY_MS",
        default_value_t = 2000,
        hide = true
    )]
    pub notify_retry_ms: u64,

    /// Accept http:// push endpoints (tests run a push service on loopback).
    #[arg(long, env = "FABRIK_ALLOW_HTTP_PUSH", hide = true)]
    pub allow_http_push: bool,

    /// Always mark the session cookie Secure (it is anyway behind a proxy that sends
    /// `X-Forwarded-Proto: https`).
    #[arg(long, env = "FABRIK_COOKIE_SECURE")]
    pub cookie_secure: bool,

    /// `pretty` for people at a terminal, `json` (one object per line) for log shippers.
    #[arg(long, env = "FABRIK_LOG_FORMAT", value_enum, default_value_t = LogFormat::Pretty, global = true)]
    pub log_format: LogFormat,

    /// A bearer token that lets a scraper read `/metrics` (admins' sign-ins work too).
    #[arg(long, env = "FABRIK_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,

    /// Also serve `/metrics`, with no sign-in, on this address (keep it private).
    #[arg(long, env = "FABRIK_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,

    /// Where backups go (default: `backups` in the data dir). Put it on another disk.
    #[arg(long, env = "FABRIK_BACKUP_DIR", global = true)]
    pub backup_dir: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Pretty,
    Json,
}

/// What to do instead of serving.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum Command {
    /// Back up the data dir (store, run DBs, logs, keys) into the backup dir, and exit.
    /// Safe while a server runs on it.
    Backup,
    /// Restore a backup into the data dir, which must be empty, and exit.
    Restore {
        /// The backup's directory (`fabrik-backup-…`).
        from: PathBuf,
    },
}

impl Config {
    pub fn data_dir(&self) -> PathBuf {
        self.data_dir.clone().unwrap_or_else(default_data_dir)
    }

    pub fn backup_dir(&self) -> PathBuf {
        self.backup_dir
            .clone()
            .unwrap_or_else(|| self.data_dir().join("backups"))
    }

    pub fn root(&self) -> PathBuf {
        if let Some(root) = &self.root {
            return root.clone();
        }
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        if cwd.join("templates").is_dir() {
            return cwd;
        }
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
    }
}

fn default_data_dir() -> PathBuf {
    if let Some(xdg) = std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(xdg).join("fabrik");
    }
    let home = std::env::var_os("HOME").unwrap_or_else(|| ".".into());
    PathBuf::from(home).join(".local/share/fabrik")
}
