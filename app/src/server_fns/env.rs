//! Server functions for env sets: list, show (masked), reveal one value, save, delete.
use super::JsonText;
#[cfg(feature = "ssr")]
use super::{actor, answer, ctx};
use crate::error::AppError;
use domain::env::{EnvSetSummary, EnvSetView, SaveEnvSet, SaveOutcome};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

#[server(endpoint = "list_env_sets", input = Json, output = JsonText)]
pub async fn list_env_sets() -> Result<Vec<EnvSetSummary>, AppError> {
    let result = async move {
        let actor = actor()?;
        Ok(ctx::env()?.list_env_sets(&actor).await?)
    }
    .await;
    answer(result)
}

/// The set with its values masked; `None` when it does not exist yet (a new env).
#[server(endpoint = "get_env_set", input = Json, output = JsonText)]
pub async fn get_env_set(project: String, env: String) -> Result<Option<EnvSetView>, AppError> {
    let result = async move {
        let actor = actor()?;
        match ctx::env()?.get_env_set(&actor, &project, &env, false).await {
            Ok(set) => Ok(Some(set)),
            Err(e) if e.code == domain::ErrorCode::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
    .await;
    answer(result)
}

#[server(endpoint = "reveal_env_value", input = Json, output = JsonText)]
pub async fn reveal_env_value(
    project: String,
    env: String,
    key: String,
) -> Result<String, AppError> {
    let result = async move {
        let actor = actor()?;
        Ok(ctx::env()?
            .reveal_env_value(&actor, &project, &env, &key)
            .await?)
    }
    .await;
    answer(result)
}

#[server(endpoint = "save_env", input = Json, output = JsonText)]
pub async fn save_env(
    project: String,
    env: String,
    save: SaveEnvSet,
) -> Result<SaveOutcome, AppError> {
    let result = async move {
        let actor = actor()?;
        Ok(ctx::env()?
            .save_env_set(&actor, &project, &env, save)
            .await?)
    }
    .await;
    answer(result)
}

#[server(endpoint = "delete_env_set", input = Json, output = JsonText)]
pub async fn delete_env_set(project: String, env: String) -> Result<(), AppError> {
    let result = async move {
        let actor = actor()?;
        Ok(ctx::env()?.delete_env_set(&actor, &project, &env).await?)
    }
    .await;
    answer(result)
}
