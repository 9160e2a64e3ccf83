//! Server functions for notifications: this user's browsers, and (admins) the alert
//! channels and site settings.
use super::JsonText;
#[cfg(feature = "ssr")]
use super::{actor, answer, ctx};
use crate::error::AppError;
use domain::notify::{
    ChannelKind, ChannelUpdate, ChannelView, DeviceView, NotifySettings, OutboxStatus,
    PushSubscription,
};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

#[server(endpoint = "vapid_key", input = Json, output = JsonText)]
pub async fn vapid_key() -> Result<String, AppError> {
    let result = async move { Ok(ctx::notify()?.vapid_public_key(&actor()?).await?) }.await;
    answer(result)
}

#[server(endpoint = "my_devices", input = Json, output = JsonText)]
pub async fn my_devices() -> Result<Vec<DeviceView>, AppError> {
    let result = async move { Ok(ctx::notify()?.devices(&actor()?).await?) }.await;
    answer(result)
}

#[server(endpoint = "add_device", input = Json, output = JsonText)]
pub async fn add_device(
    subscription: PushSubscription,
    user_agent: Option<String>,
) -> Result<DeviceView, AppError> {
    let result = async move {
        Ok(ctx::notify()?
            .subscribe_push(&actor()?, subscription, user_agent)
            .await?)
    }
    .await;
    answer(result)
}

#[server(endpoint = "forget_device", input = Json, output = JsonText)]
pub async fn forget_device(id: i64) -> Result<(), AppError> {
    let result = async move {
        Ok(ctx::notify()?
            .unsubscribe_push(&actor()?, Some(id), None)
            .await?)
    }
    .await;
    answer(result)
}

#[server(endpoint = "test_my_devices", input = Json, output = JsonText)]
pub async fn test_my_devices() -> Result<usize, AppError> {
    let result = async move { Ok(ctx::notify()?.test_push(&actor()?).await?) }.await;
    answer(result)
}

#[server(endpoint = "load_notify_settings", input = Json, output = JsonText)]
pub async fn load_notify_settings() -> Result<NotifySettings, AppError> {
    let result = async move { Ok(ctx::notify()?.notify_settings(&actor()?).await?) }.await;
    answer(result)
}

#[server(endpoint = "store_notify_settings", input = Json, output = JsonText)]
pub async fn store_notify_settings(settings: NotifySettings) -> Result<NotifySettings, AppError> {
    let result = async move {
        Ok(ctx::notify()?
            .save_notify_settings(&actor()?, settings)
            .await?)
    }
    .await;
    answer(result)
}

#[server(endpoint = "notify_channels", input = Json, output = JsonText)]
pub async fn notify_channels() -> Result<Vec<ChannelView>, AppError> {
    let result = async move { Ok(ctx::notify()?.channels(&actor()?).await?) }.await;
    answer(result)
}

#[server(endpoint = "store_channel", input = Json, output = JsonText)]
pub async fn store_channel(
    kind: ChannelKind,
    update: ChannelUpdate,
) -> Result<ChannelView, AppError> {
    let result =
        async move { Ok(ctx::notify()?.save_channel(&actor()?, kind, update).await?) }.await;
    answer(result)
}

#[server(endpoint = "test_channel", input = Json, output = JsonText)]
pub async fn try_channel(kind: ChannelKind) -> Result<(), AppError> {
    let result = async move { Ok(ctx::notify()?.test_channel(&actor()?, kind).await?) }.await;
    answer(result)
}

#[server(endpoint = "outbox_status", input = Json, output = JsonText)]
pub async fn load_outbox() -> Result<OutboxStatus, AppError> {
    let result = async move { Ok(ctx::notify()?.outbox_status(&actor()?).await?) }.await;
    answer(result)
}
