//! `/api/v1/admin/cluster`, `/api/v1/admin/credentials` and rotating a provider's key
//! (admins only).
use super::{fail, ApiResult};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Extension, Json, Router};
use domain::service::{Actor, FleetService};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/cluster", get(cluster))
        .route("/admin/credentials", get(credentials))
        .route(
            "/admin/credentials/{provider}/rotate",
            axum::routing::post(rotate),
        )
}

async fn cluster(State(s): State<AppState>, Extension(who): Extension<Actor>) -> ApiResult {
    Ok(Json(s.service.fleet(&who).await.map_err(fail)?).into_response())
}

async fn credentials(State(s): State<AppState>, Extension(who): Extension<Actor>) -> ApiResult {
    Ok(Json(s.service.credentials(&who).await.map_err(fail)?).into_response())
}

async fn rotate(
    State(s): State<AppState>,
    Extension(who): Extension<Actor>,
    Path(provider): Path<String>,
) -> ApiResult {
    let view = s.service.rotate_credential(&who, &provider).await;
    Ok(Json(view.map_err(fail)?).into_response())
}
