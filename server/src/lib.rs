//! fabrik-server: pages, JSON API, live events and run backends in one binary.
pub mod api;
pub mod auth;
pub mod backend;
pub mod backup;
pub mod client_addr;
pub mod clock;
pub mod compress;
pub mod config;
pub mod data_dir;
pub mod error;
pub mod live;
pub mod memory;
pub mod notify;
pub mod page_cache;
pub mod sealed;
pub mod service;
pub mod state;
pub mod store;
pub mod streams;
pub mod telemetry;
pub mod templates;
pub mod traces;
pub mod web;

use crate::auth::Auth;
use crate::backend::local::confine::Confinement;
use crate::backend::local::LocalBackend;
use crate::client_addr::TrustedProxies;
use crate::config::Config;
use crate::sealed::Sealer;
use crate::service::{Service, ServiceParts};
use crate::state::AppState;
use crate::store::Store;
use crate::streams::Streams;
use crate::templates::Templates;
use axum::routing::get;
use axum::{Json, Router};
use leptos::config::LeptosOptions;
use std::sync::Arc;

/// Everything wired together, ready to serve.
pub async fn build(config: &Config) -> anyhow::Result<(Router, Arc<Service>)> {
    let data_dir = config.data_dir();
    let root = config.root();
    let confinement = Confinement::detect(&root, config.run_user.as_deref());
    data_dir::prepare(&data_dir, confinement.run_user.is_some())?;
    let store = Store::open(&data_dir.join("fabrik.db"))?;
    data_dir::protect_store(&data_dir)?;
    let (exec_tx, exec_rx) = tokio::sync::mpsc::unbounded_channel();
    let backend = select_backend(config, &data_dir, exec_tx, confinement).await?;
    let sealer = Sealer::open(&data_dir.join("env.key"))?;
    let vapid =
        notify::push::Vapid::open(&data_dir.join("vapid.key"), config.vapid_subject.clone())?;
    let notifier = Arc::new(notify::Notifier::new(
        store.clone(),
        sealer.clone(),
        vapid,
        notify::NotifyOptions {
            retry_base: std::time::Duration::from_millis(config.notify_retry_ms),
            allow_http_push: config.allow_http_push,
            listen: Some(config.listen),
            ..Default::default()
        },
    )?);
    let templates = Templates::new(vec![root.join("templates"), data_dir.join("templates")]);
    let telemetry = telemetry::Telemetry::new();
    let service = Arc::new(
        Service::new(ServiceParts {
            store: store.clone(),
            backend: backend.clone(),
            templates,
            root: root.clone(),
            data_dir: data_dir.clone(),
            sealer,
            notifier,
            backup_dir: config.backup_dir(),
            telemetry: telemetry.clone(),
            required_env: config
                .required_env
                .iter()
                .map(|k| k.trim().to_string())
                .filter(|k| !k.is_empty())
                .collect(),
        })
        .await?,
    );
    let streams = Arc::new(Streams::new(
        config.max_streams_per_user,
        config.max_streams,
    ));
    let proxies = TrustedProxies::parse(&config.trusted_proxy).map_err(|e| anyhow::anyhow!(e))?;
    let auth = Arc::new(Auth::new(store.clone(), streams.clone())?);
    auth.spawn_sweeper();
    auth.bootstrap_admin(config.admin_password.clone())
        .await
        .map_err(|e| anyhow::anyhow!(e.public().message))?;

    backend.adopt(store.active_runs().await?).await;
    live::spawn(service.clone(), exec_rx);
    notify::spawn(service.clone());
    if backend.keeps_published() {
        tokio::spawn(service.clone().publish_env_sets());
        tokio::spawn(service.clone().publish_specs());
        tokio::spawn(service.clone().publish_schedules());
    }
    if !config.no_scheduler {
        service.spawn_scheduler();
    }

    let state = AppState {
        leptos_options: leptos_options(config, &root),
        service: service.clone(),
        auth,
        streams,
        proxies: Arc::new(proxies),
        secure_cookies: config.cookie_secure,
        telemetry,
        metrics_token: config.metrics_token.clone().filter(|t| !t.is_empty()),
        page_cache: Arc::default(),
    };
    if let Some(addr) = config.metrics_listen {
        serve_metrics(addr, state.clone()).await?;
    }
    let router = Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(telemetry::guarded))
        .nest("/api/v1", api::routes().merge(auth::http::api_routes()))
        .merge(auth::http::routes())
        .merge(web::routes(&state))
        // Default deny: the guard sees every request, including unmatched paths.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::http::guard,
        ))
        // Outside the guard, so refusals are counted too.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            telemetry::track,
        ))
        // One body limit for everything (API, server functions, forms): an announced
        // length over it is refused before a byte of the body is read.
        .layer(tower_http::limit::RequestBodyLimitLayer::new(
            api::BODY_LIMIT,
        ))
        .layer(axum::middleware::map_response(explain_too_large))
        // Pages, API answers and logs are compressed as they are sent (see `compress`);
        // release builds serve the WASM, JS and CSS precompressed at the highest level
        // (`cargo leptos build --precompress`).
        .layer(axum::middleware::from_fn(compress::compress))
        .with_state(state);
    Ok((router, service))
}

/// `/metrics` with no sign-in on an address of its own.
async fn serve_metrics(addr: std::net::SocketAddr, state: AppState) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| {
        anyhow::anyhow!("Cannot serve metrics on {addr}: {e}. Pick another --metrics-listen.")
    })?;
    let router = Router::new()
        .route("/metrics", get(telemetry::open))
        .with_state(state);
    tracing::info!("metrics on http://{addr}/metrics");
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router).await {
            tracing::error!(error = %e, "the metrics listener stopped");
        }
    });
    Ok(())
}

/// The local backend, or Jobs in a cluster when a kubeconfig (or the pod's service
/// account) is given.
async fn select_backend(
    config: &Config,
    data_dir: &std::path::Path,
    exec_tx: tokio::sync::mpsc::UnboundedSender<backend::ExecEvent>,
    confinement: Confinement,
) -> anyhow::Result<Arc<dyn backend::Backend>> {
    use backend::cluster::{connect, KubeBackend, KubeTarget};
    let target = match (&config.kubeconfig, config.in_cluster) {
        (Some(path), _) => KubeTarget::Kubeconfig(path.clone()),
        (None, true) => KubeTarget::InCluster,
        (None, false) => return Ok(Arc::new(LocalBackend::new(data_dir, exec_tx, confinement))),
    };
    let image = config.kube_image.clone().ok_or_else(|| {
        anyhow::anyhow!(
            "The Kubernetes backend needs the runner image: pass --kube-image registry/runner@sha256:… (by digest, as fabrik pins it)."
        )
    })?;
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let client = connect(&target, &config.namespace).await?;
    let settings = backend::cluster::manifests::RunSettings {
        namespace: config.namespace.clone(),
        system_namespace: config.system_namespace.clone(),
        image,
        storage: config.kube_storage.clone(),
    };
    let cluster = KubeBackend::new(client, settings, exec_tx, data_dir.join("kube-runs"));
    cluster.spawn_watcher();
    Ok(Arc::new(cluster))
}

/// The body limit's bare 413 becomes an answer that says what to do.
async fn explain_too_large(response: axum::response::Response) -> axum::response::Response {
    let is_json = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if response.status() != axum::http::StatusCode::PAYLOAD_TOO_LARGE || is_json {
        return response;
    }
    error::error_response(&domain::Error::new(
        domain::ErrorCode::TooLarge,
        format!(
            "The request body is larger than {} MiB, the most the server accepts. Send less (e.g. split the .env).",
            api::BODY_LIMIT >> 20
        ),
    ))
}

/// Liveness plus what protects the server from the runs' agents.
async fn healthz(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> Json<serde_json::Value> {
    let backend = state.service.backend();
    Json(serde_json::json!({
        "status": "ok",
        "backend": backend.name(),
        "run_protection": backend.protection(),
    }))
}

/// Site settings: cargo-leptos passes them as LEPTOS_* variables; a bare binary finds
/// the built site under the install root.
fn leptos_options(config: &Config, root: &std::path::Path) -> LeptosOptions {
    let site_root = std::env::var("LEPTOS_SITE_ROOT")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| root.join("target/site"));
    LeptosOptions::builder()
        .output_name(std::env::var("LEPTOS_OUTPUT_NAME").unwrap_or_else(|_| "fabrik".into()))
        .site_root(site_root.display().to_string())
        .site_pkg_dir("pkg")
        .site_addr(config.listen)
        .reload_port(3001)
        .build()
}
