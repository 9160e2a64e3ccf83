//! Server functions for `/admin/backups`.
use super::JsonText;
#[cfg(feature = "ssr")]
use super::{actor, answer, ctx};
use crate::error::AppError;
use domain::backup::BackupView;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

#[server(endpoint = "backups", input = Json, output = JsonText)]
pub async fn list_backups() -> Result<Vec<BackupView>, AppError> {
    let result = async move { Ok(ctx::backups()?.backups(&actor()?).await?) }.await;
    answer(result)
}

#[server(endpoint = "back_up_now", output = JsonText)]
pub async fn back_up_now() -> Result<BackupView, AppError> {
    let result = async move { Ok(ctx::backups()?.back_up_now(&actor()?).await?) }.await;
    answer(result)
}
