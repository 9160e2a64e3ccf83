//! The Leptos pages, their server functions and the static site (WASM, CSS, PWA files).
use crate::state::AppState;
use app::{shell, App};
use axum::routing::post;
use axum::Router;
use domain::service::{AdminService, EnvService, RunService, ScheduleService, SpecService};
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
    Router::new()
        .route("/api/{*fn_name}", post(server_fns.clone()).get(server_fns))
        .leptos_routes_with_context(state, generate_route_list(App), context, move || {
            shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
}

/// What pages and server functions find in their Leptos context: the services. Who is
/// asking comes with the request (the auth guard puts an `Actor` in its extensions).
fn request_context(state: &AppState) -> impl Fn() + Clone + Send + Sync + 'static {
    let runs: Arc<dyn RunService> = state.service.clone();
    let env: Arc<dyn EnvService> = state.service.clone();
    let specs: Arc<dyn SpecService> = state.service.clone();
    let schedules: Arc<dyn ScheduleService> = state.service.clone();
    let admin: Arc<dyn AdminService> = state.auth.clone();
    move || {
        provide_context(runs.clone());
        provide_context(env.clone());
        provide_context(specs.clone());
        provide_context(schedules.clone());
        provide_context(admin.clone());
    }
}
