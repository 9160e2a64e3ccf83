//! Server functions for `/admin/metrics` and the price table in `/settings/prices`.
use super::JsonText;
#[cfg(feature = "ssr")]
use super::{actor, answer, ctx};
use crate::error::AppError;
use domain::metrics::MetricsReport;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

/// The report over `range` (`24h`, `7d`, `30d` or `90d`).
#[server(endpoint = "metrics", input = Json, output = JsonText)]
pub async fn load_metrics(range: String) -> Result<MetricsReport, AppError> {
    let result = async move {
        let range = domain::metrics::TimeRange::parse(&range)?;
        Ok(ctx::metrics()?.metrics(&actor()?, range).await?)
    }
    .await;
    answer(result)
}

/// The price table in its text form (one model per line).
#[server(endpoint = "prices", input = Json, output = JsonText)]
pub async fn prices_text() -> Result<String, AppError> {
    let result = async move { Ok(ctx::metrics()?.price_table(&actor()?).await?.to_text()) }.await;
    answer(result)
}

/// Saves the table written as text; errors name the line or the model.
#[server(endpoint = "save_prices", output = JsonText)]
pub async fn save_prices(text: String) -> Result<usize, AppError> {
    let result = async move {
        let table = domain::cost::PriceTable::parse(&text)?;
        let saved = ctx::metrics()?.set_price_table(&actor()?, table).await?;
        Ok(saved.prices.len())
    }
    .await;
    answer(result)
}

/// What `/admin` shows.
#[server(endpoint = "overview", input = Json, output = JsonText)]
pub async fn load_overview() -> Result<domain::overview::Overview, AppError> {
    let result = async move { Ok(ctx::metrics()?.overview(&actor()?).await?) }.await;
    answer(result)
}

#[server(endpoint = "links", input = Json, output = JsonText)]
pub async fn load_links() -> Result<domain::links::ObservabilityLinks, AppError> {
    let result = async move { Ok(ctx::metrics()?.links(&actor()?).await?) }.await;
    answer(result)
}

#[server(endpoint = "save_links", output = JsonText)]
pub async fn save_links(
    grafana: String,
    loki: String,
    laos: String,
) -> Result<domain::links::ObservabilityLinks, AppError> {
    let result = async move {
        let links = domain::links::ObservabilityLinks {
            grafana: Some(grafana),
            loki: Some(loki),
            laos: Some(laos),
        };
        Ok(ctx::metrics()?.set_links(&actor()?, links).await?)
    }
    .await;
    answer(result)
}

#[server(endpoint = "check_links", output = JsonText)]
pub async fn check_links() -> Result<Vec<domain::links::LinkCheck>, AppError> {
    let result = async move { Ok(ctx::metrics()?.check_links(&actor()?).await?) }.await;
    answer(result)
}
