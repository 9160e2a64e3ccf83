//! The Leptos pages, their server functions and the static site (WASM, CSS, PWA files).
use crate::state::AppState;
use app::{shell, App};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use domain::service::{
    AdminService, BackupService, EnvService, FleetService, MetricsService, NotifyService,
    RunService, ScheduleService, SpecService,
};
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, handle_server_fns_with_context, LeptosRoutes};
use std::sync::Arc;

pub fn routes(state: &AppState) -> Router<AppState> {
    let context = request_context(state);
    let server_fns = {
        let context = context.clone();
        move |req| handle_server_fns_with_context(context.clone(), req)
    };
    let options = state.leptos_options.clone();
    // The app's catch-all route (its "not found" page) is left to the fallback, which
    // serves a file when there is one (`/pkg/…`) and otherwise renders the app, and so
    // that route.
    let pages: Vec<_> = generate_route_list(App)
        .into_iter()
        .filter(|route| !route.path().contains('*'))
        .collect();
    Router::new()
        .route("/api/{*fn_name}", post(server_fns.clone()).get(server_fns))
        .route("/sw.js", get(service_worker))
        .route("/manifest.webmanifest", get(manifest))
        .leptos_routes_with_context(state, pages, context, move || shell(options.clone()))
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::page_cache::serve,
        ))
}

/// What pages and server functions find in their Leptos context: the services. Who is
/// asking comes with the request (the auth guard puts an `Actor` in its extensions).
fn request_context(state: &AppState) -> impl Fn() + Clone + Send + Sync + 'static {
    let runs: Arc<dyn RunService> = state.service.clone();
    let env: Arc<dyn EnvService> = state.service.clone();
    let specs: Arc<dyn SpecService> = state.service.clone();
    let schedules: Arc<dyn ScheduleService> = state.service.clone();
    let notify: Arc<dyn NotifyService> = state.service.clone();
    let fleet: Arc<dyn FleetService> = state.service.clone();
    let metrics: Arc<dyn MetricsService> = state.service.clone();
    let backups: Arc<dyn BackupService> = state.service.clone();
    let admin: Arc<dyn AdminService> = state.auth.clone();
    move || {
        provide_context(notify.clone());
        provide_context(runs.clone());
        provide_context(env.clone());
        provide_context(specs.clone());
        provide_context(schedules.clone());
        provide_context(fleet.clone());
        provide_context(metrics.clone());
        provide_context(backups.clone());
        provide_context(admin.clone());
    }
}

/// The service worker: never cached (a new version applies on the next load), allowed
/// to control the whole site.
async fn service_worker() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
            (
                header::HeaderName::from_static("service-worker-allowed"),
                "/",
            ),
        ],
        include_str!("../../public/sw.js"),
    )
}

/// The web app manifest, with the content type installability checks expect.
async fn manifest() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "application/manifest+json"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../public/manifest.webmanifest"),
    )
}
