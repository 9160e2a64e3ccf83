//! Server functions for schedules and the cron preview.
use super::JsonText;
#[cfg(feature = "ssr")]
use super::{actor, answer, ctx};
use crate::error::AppError;
use domain::schedule::{CronPreview, NewSchedule, ScheduleView};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

#[server(endpoint = "list_schedules", input = Json, output = JsonText)]
pub async fn list_schedules() -> Result<Vec<ScheduleView>, AppError> {
    let result = async move { Ok(ctx::schedules()?.list_schedules(&actor()?).await?) }.await;
    answer(result)
}

#[server(endpoint = "add_schedule", input = Json, output = JsonText)]
pub async fn add_schedule(schedule: NewSchedule) -> Result<ScheduleView, AppError> {
    let result = async move {
        Ok(ctx::schedules()?
            .create_schedule(&actor()?, schedule)
            .await?)
    }
    .await;
    answer(result)
}

#[server(endpoint = "remove_schedule", input = Json, output = JsonText)]
pub async fn remove_schedule(name: String) -> Result<(), AppError> {
    let result =
        async move { Ok(ctx::schedules()?.delete_schedule(&actor()?, &name).await?) }.await;
    answer(result)
}

#[server(endpoint = "pause_schedule", input = Json, output = JsonText)]
pub async fn pause_schedule(name: String, suspend: bool) -> Result<ScheduleView, AppError> {
    let result = async move {
        Ok(ctx::schedules()?
            .suspend_schedule(&actor()?, &name, suspend)
            .await?)
    }
    .await;
    answer(result)
}

#[server(endpoint = "fire_schedule", input = Json, output = JsonText)]
pub async fn fire_schedule(name: String) -> Result<ScheduleView, AppError> {
    let result =
        async move { Ok(ctx::schedules()?.trigger_schedule(&actor()?, &name).await?) }.await;
    answer(result)
}

#[server(endpoint = "preview_cron", input = Json, output = JsonText)]
pub async fn preview_cron(expr: String, tz: String) -> Result<CronPreview, AppError> {
    let result = async move {
        Ok(ctx::schedules()?
            .cron_preview(&actor()?, domain::schedule::CronPreviewRequest { expr, tz })
            .await?)
    }
    .await;
    answer(result)
}
