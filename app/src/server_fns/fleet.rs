//! Server functions for the admin pages on where runs go (`/admin/cluster`,
//! `/admin/credentials`).
use super::JsonText;
#[cfg(feature = "ssr")]
use super::{actor, answer, ctx};
use crate::error::AppError;
use domain::fleet::{CredentialsView, FleetView};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

#[server(endpoint = "fleet", input = Json, output = JsonText)]
pub async fn fleet() -> Result<FleetView, AppError> {
    let result = async move { Ok(ctx::fleet()?.fleet(&actor()?).await?) }.await;
    answer(result)
}

#[server(endpoint = "credential_keys", input = Json, output = JsonText)]
pub async fn credential_keys() -> Result<CredentialsView, AppError> {
    let result = async move { Ok(ctx::fleet()?.credentials(&actor()?).await?) }.await;
    answer(result)
}

/// Moves the provider's new runs to the next key of its pool; the page's new state.
#[server(endpoint = "rotate_credential", output = JsonText)]
pub async fn rotate_credential(provider: String) -> Result<CredentialsView, AppError> {
    let result = async move {
        Ok(ctx::fleet()?
            .rotate_credential(&actor()?, &provider)
            .await?)
    }
    .await;
    answer(result)
}
