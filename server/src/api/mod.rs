//! The JSON API under `/api/v1`: thin handlers over [`Service`]; errors are
//! `{"error":{"code","message"}}` with a fitting status.
mod backups;
mod board;
mod env;
mod events;
mod fleet;
mod logs;
mod metrics;
mod notify;
mod schedules;
mod specs;

use crate::error::error_response;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use domain::dispatch::DispatchRequest;
use domain::feedback::FeedbackRequest;
use domain::filter::RunFilter;
use domain::service::{Actor, RunService};
use serde::de::DeserializeOwned;

/// Every JSON API route (method, path under `/api/v1`), for tests that must cover them
/// all. Keep in step with [`routes`] and `auth::http::api_routes`.
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/runs"),
    ("POST", "/runs"),
    ("GET", "/runs/{id}"),
    ("POST", "/runs/{id}/cancel"),
    ("POST", "/runs/{id}/resume"),
    ("POST", "/runs/{id}/feedback"),
    ("GET", "/runs/{id}/logs"),
    ("GET", "/templates"),
    ("GET", "/events"),
    ("GET", "/env"),
    ("POST", "/env/parse"),
    ("GET", "/env/{project}/{env}"),
    ("PUT", "/env/{project}/{env}"),
    ("DELETE", "/env/{project}/{env}"),
    ("GET", "/env/{project}/{env}/dotenv"),
    ("POST", "/env/{project}/{env}/validate"),
    ("PUT", "/env/{project}/{env}/keys/{key}"),
    ("DELETE", "/env/{project}/{env}/keys/{key}"),
    ("GET", "/specs"),
    ("POST", "/specs"),
    ("POST", "/specs/validate"),
    ("GET", "/specs/{id}"),
    ("PUT", "/specs/{id}"),
    ("DELETE", "/specs/{id}"),
    ("POST", "/specs/{id}/todo"),
    ("PUT", "/specs/{id}/todo"),
    ("POST", "/specs/{id}/todo/approve"),
    ("GET", "/schedules"),
    ("POST", "/schedules"),
    ("GET", "/schedules/{name}"),
    ("DELETE", "/schedules/{name}"),
    ("POST", "/schedules/{name}/suspend"),
    ("POST", "/schedules/{name}/resume"),
    ("POST", "/schedules/{name}/trigger"),
    ("POST", "/cron/preview"),
    ("GET", "/push/vapid-public-key"),
    ("GET", "/push/subscriptions"),
    ("POST", "/push/subscriptions"),
    ("DELETE", "/push/subscriptions"),
    ("DELETE", "/push/subscriptions/{id}"),
    ("POST", "/push/test"),
    ("POST", "/push/approve"),
    ("GET", "/notifications/settings"),
    ("PUT", "/notifications/settings"),
    ("GET", "/notifications/channels"),
    ("PUT", "/notifications/channels/{kind}"),
    ("DELETE", "/notifications/channels/{kind}"),
    ("POST", "/notifications/channels/{kind}/test"),
    ("GET", "/notifications/outbox"),
    ("POST", "/auth/token"),
    ("GET", "/auth/me"),
    ("GET", "/auth/tokens"),
    ("POST", "/auth/tokens"),
    ("DELETE", "/auth/tokens/{id}"),
    ("GET", "/users"),
    ("POST", "/users"),
    ("PATCH", "/users/{name}"),
    ("GET", "/audit"),
    ("GET", "/board"),
    ("GET", "/activity"),
    ("GET", "/admin/cluster"),
    ("GET", "/admin/credentials"),
    ("POST", "/admin/credentials/{provider}/rotate"),
    ("GET", "/admin/metrics"),
    ("GET", "/admin/metrics/{file}"),
    ("GET", "/admin/prices"),
    ("PUT", "/admin/prices"),
    ("GET", "/admin/overview"),
    ("GET", "/admin/links"),
    ("PUT", "/admin/links"),
    ("POST", "/admin/links/check"),
    ("GET", "/admin/backups"),
    ("POST", "/admin/backups"),
];

/// Largest request body any endpoint (API or server function) accepts.
pub const BODY_LIMIT: usize = 2 * 1024 * 1024;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/runs", get(list_runs).post(dispatch))
        .route("/runs/{id}", get(get_run))
        .route("/runs/{id}/cancel", post(cancel))
        .route("/runs/{id}/resume", post(resume))
        .route("/runs/{id}/feedback", post(feedback))
        .route("/runs/{id}/logs", get(logs::logs))
        .route("/templates", get(templates))
        .route("/events", get(events::events))
        .merge(env::routes())
        .merge(specs::routes())
        .merge(schedules::routes())
        .merge(fleet::routes())
        .merge(metrics::routes())
        .merge(board::routes())
        .merge(backups::routes())
        .merge(notify::routes())
        .fallback(|| async {
            error_response(&domain::Error::not_found(
                "No such API endpoint. The API lives under /api/v1 (runs, templates, events, env, specs, schedules, push, notifications, admin).",
            ))
        })
}

pub(crate) type ApiResult = Result<Response, Response>;

/// `body` as a file the browser saves as `filename` (plain ASCII names only).
pub(crate) fn download(content_type: &str, filename: &str, body: String) -> Response {
    (
        [
            (axum::http::header::CONTENT_TYPE, content_type.to_string()),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
        ],
        body,
    )
        .into_response()
}

pub(crate) fn fail(e: domain::Error) -> Response {
    error_response(&e)
}

/// Parses a JSON body with an error message that names the problem.
pub(crate) fn json_body<T: DeserializeOwned>(body: &Bytes) -> Result<T, domain::Error> {
    serde_json::from_slice(body).map_err(|e| {
        domain::Error::bad_request(format!(
            "The request body is not valid JSON for this endpoint: {e}."
        ))
    })
}

async fn list_runs(
    State(state): State<AppState>,
    Extension(who): Extension<Actor>,
    Query(params): Query<Vec<(String, String)>>,
) -> ApiResult {
    if let Some((_, format)) = params.iter().find(|(k, _)| k == "format") {
        return board::export(&state, &who, format, &params).await;
    }
    let filter = RunFilter::from_pairs(params.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .map_err(fail)?;
    let page = state.service.list_runs(&who, filter).await.map_err(fail)?;
    Ok(Json(page).into_response())
}

async fn get_run(
    State(state): State<AppState>,
    Extension(who): Extension<Actor>,
    Path(id): Path<String>,
) -> ApiResult {
    let detail = state.service.get_run(&who, &id).await.map_err(fail)?;
    Ok(Json(detail).into_response())
}

async fn dispatch(
    State(state): State<AppState>,
    Extension(who): Extension<Actor>,
    body: Bytes,
) -> ApiResult {
    let request: DispatchRequest = json_body(&body).map_err(fail)?;
    let dispatched = state.service.dispatch(&who, request).await.map_err(fail)?;
    Ok((StatusCode::CREATED, Json(dispatched)).into_response())
}

async fn cancel(
    State(state): State<AppState>,
    Extension(who): Extension<Actor>,
    Path(id): Path<String>,
) -> ApiResult {
    let run = state.service.cancel(&who, &id).await.map_err(fail)?;
    Ok(Json(run).into_response())
}

async fn resume(
    State(state): State<AppState>,
    Extension(who): Extension<Actor>,
    Path(id): Path<String>,
) -> ApiResult {
    let run = state.service.resume(&who, &id).await.map_err(fail)?;
    Ok(Json(run).into_response())
}

async fn feedback(
    State(state): State<AppState>,
    Extension(who): Extension<Actor>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let request: FeedbackRequest = json_body(&body).map_err(fail)?;
    let run = state
        .service
        .feedback(&who, &id, request)
        .await
        .map_err(fail)?;
    Ok(Json(run).into_response())
}

async fn templates(State(state): State<AppState>, Extension(who): Extension<Actor>) -> ApiResult {
    let list = state.service.templates(&who).await.map_err(fail)?;
    Ok(Json(serde_json::json!({ "templates": list })).into_response())
}
