//! `/api/v1/admin/metrics` (the report, and every run's cost as CSV or JSON),
//! `/api/v1/admin/prices` (the price table) and `/api/v1/admin/overview`, admins only.
use super::{download, fail, json_body, ApiResult};
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Extension, Json, Router};
use domain::cost::PriceTable;
use domain::metrics::{runs_csv, TimeRange};
use domain::service::{Actor, MetricsService};
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/metrics", get(report))
        .route("/admin/metrics/{file}", get(export))
        .route("/admin/prices", get(prices).put(set_prices))
        .route("/admin/overview", get(overview))
        .route("/admin/links", get(links).put(set_links))
        .route("/admin/links/check", axum::routing::post(check_links))
}

async fn links(State(s): State<AppState>, Extension(who): Extension<Actor>) -> ApiResult {
    Ok(Json(s.service.links(&who).await.map_err(fail)?).into_response())
}

async fn set_links(
    State(s): State<AppState>,
    Extension(who): Extension<Actor>,
    body: Bytes,
) -> ApiResult {
    let links = json_body(&body).map_err(fail)?;
    Ok(Json(s.service.set_links(&who, links).await.map_err(fail)?).into_response())
}

async fn check_links(State(s): State<AppState>, Extension(who): Extension<Actor>) -> ApiResult {
    Ok(Json(s.service.check_links(&who).await.map_err(fail)?).into_response())
}

async fn overview(State(s): State<AppState>, Extension(who): Extension<Actor>) -> ApiResult {
    Ok(Json(s.service.overview(&who).await.map_err(fail)?).into_response())
}

#[derive(Deserialize)]
struct RangeQuery {
    range: Option<String>,
}

impl RangeQuery {
    fn range(&self) -> domain::Result<TimeRange> {
        TimeRange::parse(self.range.as_deref().unwrap_or("7d"))
    }
}

async fn report(
    State(s): State<AppState>,
    Extension(who): Extension<Actor>,
    Query(q): Query<RangeQuery>,
) -> ApiResult {
    let range = q.range().map_err(fail)?;
    Ok(Json(s.service.metrics(&who, range).await.map_err(fail)?).into_response())
}

/// `runs.csv` or `runs.json`: one row per run created in range, as a download.
async fn export(
    State(s): State<AppState>,
    Extension(who): Extension<Actor>,
    Path(file): Path<String>,
    Query(q): Query<RangeQuery>,
) -> ApiResult {
    let range = q.range().map_err(fail)?;
    let (content_type, body) = match file.as_str() {
        "runs.csv" => {
            let runs = s.service.run_costs(&who, range).await.map_err(fail)?;
            ("text/csv; charset=utf-8", runs_csv(&runs))
        }
        "runs.json" => {
            let runs = s.service.run_costs(&who, range).await.map_err(fail)?;
            let json = serde_json::to_string_pretty(&runs)
                .map_err(|e| fail(domain::Error::internal(e.to_string())))?;
            ("application/json", json)
        }
        other => {
            return Err(fail(domain::Error::not_found(format!(
                "No export '{other}': use runs.csv or runs.json."
            ))))
        }
    };
    let filename = format!(
        "fabrik-runs-{}.{}",
        range.as_str(),
        file.rsplit('.').next().unwrap_or("txt")
    );
    Ok(download(content_type, &filename, body))
}

async fn prices(State(s): State<AppState>, Extension(who): Extension<Actor>) -> ApiResult {
    Ok(Json(s.service.price_table(&who).await.map_err(fail)?).into_response())
}

async fn set_prices(
    State(s): State<AppState>,
    Extension(who): Extension<Actor>,
    body: Bytes,
) -> ApiResult {
    let table: PriceTable = json_body(&body).map_err(fail)?;
    Ok(Json(s.service.set_price_table(&who, table).await.map_err(fail)?).into_response())
}
