//! `/api/v1/schedules…` and `/api/v1/cron/preview`.
use super::{fail, json_body, ApiResult};
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use domain::schedule::{CronPreviewRequest, NewSchedule};
use domain::service::{Actor, ScheduleService};
use domain::Error as DomainError;
use serde_json::json;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/schedules", get(list).post(create))
        .route("/schedules/{name}", get(show).delete(remove))
        .route("/schedules/{name}/{action}", post(act))
        .route("/cron/preview", post(preview))
}

async fn list(State(s): State<AppState>, Extension(who): Extension<Actor>) -> ApiResult {
    let schedules = s.service.list_schedules(&who).await.map_err(fail)?;
    Ok(Json(json!({ "schedules": schedules })).into_response())
}

async fn create(
    State(s): State<AppState>,
    Extension(who): Extension<Actor>,
    body: Bytes,
) -> ApiResult {
    let request: NewSchedule = json_body(&body).map_err(fail)?;
    let view = s
        .service
        .create_schedule(&who, request)
        .await
        .map_err(fail)?;
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

async fn show(
    State(s): State<AppState>,
    Extension(who): Extension<Actor>,
    Path(name): Path<String>,
) -> ApiResult {
    Ok(Json(s.service.get_schedule(&who, &name).await.map_err(fail)?).into_response())
}

async fn remove(
    State(s): State<AppState>,
    Extension(who): Extension<Actor>,
    Path(name): Path<String>,
) -> ApiResult {
    s.service.delete_schedule(&who, &name).await.map_err(fail)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `suspend`, `resume` or `trigger` (now).
async fn act(
    State(s): State<AppState>,
    Extension(who): Extension<Actor>,
    Path((name, action)): Path<(String, String)>,
) -> ApiResult {
    let view = match action.as_str() {
        "suspend" => s.service.suspend_schedule(&who, &name, true).await,
        "resume" => s.service.suspend_schedule(&who, &name, false).await,
        "trigger" => s.service.trigger_schedule(&who, &name).await,
        other => Err(DomainError::not_found(format!(
            "A schedule has no '{other}'; use suspend, resume or trigger."
        ))),
    };
    Ok(Json(view.map_err(fail)?).into_response())
}

async fn preview(
    State(s): State<AppState>,
    Extension(who): Extension<Actor>,
    body: Bytes,
) -> ApiResult {
    let request: CronPreviewRequest = json_body(&body).map_err(fail)?;
    Ok(Json(s.service.cron_preview(&who, request).await.map_err(fail)?).into_response())
}
