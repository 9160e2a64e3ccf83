//! `/api/v1/board` (the active runs' tasks in lanes), `/api/v1/activity` (recent run
//! events) and the runs list as a download (`/api/v1/runs?format=csv|json&…filters`).
use super::{download, fail, ApiResult};
use crate::state::AppState;
use axum::extract::{Query, State};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Extension, Json, Router};
use domain::board::ACTIVITY_DEFAULT;
use domain::export::runs_list_csv;
use domain::filter::RunFilter;
use domain::service::{Actor, RunService};
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/board", get(board))
        .route("/activity", get(activity))
}

async fn board(State(s): State<AppState>, Extension(who): Extension<Actor>) -> ApiResult {
    Ok(Json(s.service.board(&who).await.map_err(fail)?).into_response())
}

#[derive(Deserialize)]
struct ActivityQuery {
    limit: Option<String>,
}

async fn activity(
    State(s): State<AppState>,
    Extension(who): Extension<Actor>,
    Query(q): Query<ActivityQuery>,
) -> ApiResult {
    let limit = match q.limit.as_deref().map(str::trim) {
        None | Some("") => ACTIVITY_DEFAULT,
        Some(text) => text.parse().map_err(|_| {
            fail(domain::Error::bad_request(format!(
                "limit must be a whole number, not '{text}'."
            )))
        })?,
    };
    let events = s.service.activity(&who, limit).await.map_err(fail)?;
    Ok(Json(serde_json::json!({ "events": events })).into_response())
}

/// Every run `params` (the list's filters) match, as `fabrik-runs.csv` or `.json`.
pub(super) async fn export(
    s: &AppState,
    who: &Actor,
    format: &str,
    params: &[(String, String)],
) -> ApiResult {
    if !matches!(format, "csv" | "json") {
        return Err(fail(domain::Error::bad_request(format!(
            "format must be csv or json, not '{format}'."
        ))));
    }
    let filter = RunFilter::from_pairs(
        params
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "format" | "limit" | "cursor"))
            .map(|(k, v)| (k.as_str(), v.as_str())),
    )
    .map_err(fail)?;
    let runs = s.service.export_runs(who, filter).await.map_err(fail)?;
    let body = if format == "csv" {
        runs_list_csv(&runs, crate::clock::now_ms())
    } else {
        serde_json::to_string_pretty(&runs)
            .map_err(|e| fail(domain::Error::internal(e.to_string())))?
    };
    let content_type = if format == "csv" {
        "text/csv; charset=utf-8"
    } else {
        "application/json"
    };
    Ok(download(
        content_type,
        &format!("fabrik-runs.{format}"),
        body,
    ))
}
