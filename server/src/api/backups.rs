//! `/api/v1/admin/backups`: the history (GET) and "Back up now" (POST), admins only.
use super::{fail, ApiResult};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Extension, Json, Router};
use domain::service::{Actor, BackupService};

pub fn routes() -> Router<AppState> {
    Router::new().route("/admin/backups", get(history).post(back_up_now))
}

async fn history(State(s): State<AppState>, Extension(who): Extension<Actor>) -> ApiResult {
    Ok(Json(s.service.backups(&who).await.map_err(fail)?).into_response())
}

async fn back_up_now(State(s): State<AppState>, Extension(who): Extension<Actor>) -> ApiResult {
    let made = s.service.back_up_now(&who).await.map_err(fail)?;
    Ok((StatusCode::CREATED, Json(made)).into_response())
}
