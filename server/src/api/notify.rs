//! `/api/v1/push/…` (this user's browsers, and Approve from a notification) and
//! `/api/v1/notifications/…` (channels, settings and the outbox; admins).
use super::{fail, json_body, ApiResult};
use crate::auth::http::ClientAddr;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use domain::auth::Principal;
use domain::notify::{
    ApproveRequest, ChannelKind, ChannelUpdate, NotifySettings, PushSubscription,
};
use domain::service::{Actor, NotifyService};
use serde::Deserialize;
use serde_json::json;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/push/vapid-public-key", get(vapid_public_key))
        .route(
            "/push/subscriptions",
            get(devices).post(subscribe).delete(unsubscribe),
        )
        .route(
            "/push/subscriptions/{id}",
            axum::routing::delete(remove_device),
        )
        .route("/push/test", post(test_push))
        .route("/push/approve", post(approve))
        .route("/notifications/settings", get(settings).put(save_settings))
        .route("/notifications/channels", get(channels))
        .route(
            "/notifications/channels/{kind}",
            axum::routing::put(save_channel).delete(delete_channel),
        )
        .route("/notifications/channels/{kind}/test", post(test_channel))
        .route("/notifications/outbox", get(outbox))
}

async fn vapid_public_key(
    State(s): State<AppState>,
    Extension(who): Extension<Actor>,
) -> ApiResult {
    let key = s.service.vapid_public_key(&who).await.map_err(fail)?;
    Ok(Json(json!({ "public_key": key })).into_response())
}

async fn devices(State(s): State<AppState>, Extension(who): Extension<Actor>) -> ApiResult {
    let devices = s.service.devices(&who).await.map_err(fail)?;
    Ok(Json(json!({ "devices": devices })).into_response())
}

async fn subscribe(
    State(s): State<AppState>,
    Extension(who): Extension<Actor>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let sub: PushSubscription = json_body(&body).map_err(fail)?;
    let agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let device = s
        .service
        .subscribe_push(&who, sub, agent)
        .await
        .map_err(fail)?;
    Ok((StatusCode::CREATED, Json(device)).into_response())
}

#[derive(Deserialize)]
struct Unsubscribe {
    endpoint: String,
}

async fn unsubscribe(
    State(s): State<AppState>,
    Extension(who): Extension<Actor>,
    body: Bytes,
) -> ApiResult {
    let request: Unsubscribe = json_body(&body).map_err(fail)?;
    s.service
        .unsubscribe_push(&who, None, Some(request.endpoint))
        .await
        .map_err(fail)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn remove_device(
    State(s): State<AppState>,
    Extension(who): Extension<Actor>,
    Path(id): Path<String>,
) -> ApiResult {
    let id = id.parse::<i64>().map_err(|_| {
        fail(domain::Error::not_found(
            "You have no such subscribed browser.",
        ))
    })?;
    s.service
        .unsubscribe_push(&who, Some(id), None)
        .await
        .map_err(fail)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn test_push(State(s): State<AppState>, Extension(who): Extension<Actor>) -> ApiResult {
    let devices = s.service.test_push(&who).await.map_err(fail)?;
    Ok((StatusCode::ACCEPTED, Json(json!({ "queued": devices }))).into_response())
}

/// Public (the guard lets it through): the token is the credential. A signed-in caller
/// must be the token's user.
async fn approve(
    State(s): State<AppState>,
    caller: Option<Extension<Principal>>,
    Extension(ClientAddr(client)): Extension<ClientAddr>,
    body: Bytes,
) -> ApiResult {
    let request: ApproveRequest = json_body(&body).map_err(fail)?;
    let caller = caller.map(|Extension(p)| p);
    let run = s
        .service
        .approve_by_token(caller.as_ref(), Some(client.to_string()), request)
        .await
        .map_err(|e| fail(e.public()))?;
    Ok(Json(run).into_response())
}

async fn settings(State(s): State<AppState>, Extension(who): Extension<Actor>) -> ApiResult {
    let settings = s.service.notify_settings(&who).await.map_err(fail)?;
    Ok(Json(settings).into_response())
}

async fn save_settings(
    State(s): State<AppState>,
    Extension(who): Extension<Actor>,
    body: Bytes,
) -> ApiResult {
    let settings: NotifySettings = json_body(&body).map_err(fail)?;
    let saved = s
        .service
        .save_notify_settings(&who, settings)
        .await
        .map_err(fail)?;
    Ok(Json(saved).into_response())
}

async fn channels(State(s): State<AppState>, Extension(who): Extension<Actor>) -> ApiResult {
    let channels = s.service.channels(&who).await.map_err(fail)?;
    Ok(Json(json!({ "channels": channels })).into_response())
}

async fn save_channel(
    State(s): State<AppState>,
    Extension(who): Extension<Actor>,
    Path(kind): Path<String>,
    body: Bytes,
) -> ApiResult {
    let kind = ChannelKind::parse(&kind).map_err(fail)?;
    let update: ChannelUpdate = json_body(&body).map_err(fail)?;
    let view = s
        .service
        .save_channel(&who, kind, update)
        .await
        .map_err(fail)?;
    Ok(Json(view).into_response())
}

async fn delete_channel(
    State(s): State<AppState>,
    Extension(who): Extension<Actor>,
    Path(kind): Path<String>,
) -> ApiResult {
    let kind = ChannelKind::parse(&kind).map_err(fail)?;
    s.service.delete_channel(&who, kind).await.map_err(fail)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn test_channel(
    State(s): State<AppState>,
    Extension(who): Extension<Actor>,
    Path(kind): Path<String>,
) -> ApiResult {
    let kind = ChannelKind::parse(&kind).map_err(fail)?;
    s.service.test_channel(&who, kind).await.map_err(fail)?;
    Ok((StatusCode::ACCEPTED, Json(json!({ "queued": 1 }))).into_response())
}

async fn outbox(State(s): State<AppState>, Extension(who): Extension<Actor>) -> ApiResult {
    let status = s.service.outbox_status(&who).await.map_err(fail)?;
    Ok(Json(status).into_response())
}
