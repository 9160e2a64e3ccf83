//! fabrik-server: pages, JSON API, live events and run backends in one binary.
pub mod api;
pub mod auth;
pub mod backend;
pub mod clock;
pub mod config;
pub mod error;
pub mod live;
pub mod service;
pub mod state;
pub mod store;
pub mod templates;
pub mod web;

use crate::auth::Auth;
use crate::backend::local::LocalBackend;
use crate::config::Config;
use crate::service::Service;
use crate::state::AppState;
use crate::store::Store;
use crate::templates::Templates;
use axum::routing::get;
use axum::{Json, Router};
use leptos::config::LeptosOptions;
use std::sync::Arc;

/// Everything wired together, ready to serve.
pub async fn build(config: &Config) -> anyhow::Result<(Router, Arc<Service>)> {
    if config.kubeconfig.is_some() || config.in_cluster {
        anyhow::bail!(
            "The Kubernetes backend is not available in this version. Start without --kubeconfig/--in-cluster to use the local backend."
        );
    }
    let data_dir = config.data_dir();
    std::fs::create_dir_all(&data_dir).map_err(|e| {
        anyhow::anyhow!(
            "Cannot create the data dir {}: {e}. Pass --data-dir with a writable path.",
            data_dir.display()
        )
    })?;
    let store = Store::open(&data_dir.join("fabrik.db"))?;
    let (exec_tx, exec_rx) = tokio::sync::mpsc::unbounded_channel();
    let backend = Arc::new(LocalBackend::new(&data_dir, exec_tx));
    let root = config.root();
    let templates = Templates::new(vec![root.join("templates"), data_dir.join("templates")]);
    let service = Arc::new(Service::new(
        store.clone(),
        backend.clone(),
        templates,
        root.clone(),
    ));
    let auth = Arc::new(Auth::new(store.clone())?);
    auth.bootstrap_admin(config.admin_password.clone())
        .await
        .map_err(|e| anyhow::anyhow!(e.public().message))?;

    use crate::backend::Backend;
    backend.adopt(store.active_runs().await?).await;
    live::spawn(service.clone(), exec_rx);

    let state = AppState {
        leptos_options: leptos_options(config, &root),
        service: service.clone(),
        auth,
        secure_cookies: config.cookie_secure,
    };
    let router = Router::new()
        .route(
            "/healthz",
            get(|| async { Json(serde_json::json!({ "status": "ok" })) }),
        )
        .nest("/api/v1", api::routes().merge(auth::http::api_routes()))
        .merge(auth::http::routes())
        .merge(web::routes(&state))
        // Default deny: the guard sees every request, including unmatched paths.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::http::guard,
        ))
        .layer(tower_http::compression::CompressionLayer::new())
        .with_state(state);
    Ok((router, service))
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
