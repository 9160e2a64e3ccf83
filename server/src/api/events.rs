//! `GET /api/v1/events`: every change the UI shows, as server-sent events. The stream
//! counts against the user's stream cap and ends when their credentials are revoked.
use crate::error::error_response;
use crate::state::AppState;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use domain::service::Actor;
use std::time::Duration;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::StreamExt;

pub async fn events(State(state): State<AppState>, Extension(who): Extension<Actor>) -> Response {
    let ticket = match state.streams.open(&who.name) {
        Ok(t) => t,
        Err(e) => return error_response(&e),
    };
    let hello = tokio_stream::once(Event::default().event("hello").data("{}"));
    let updates = BroadcastStream::new(state.service.subscribe()).map(|item| match item {
        Ok(event) => Event::default()
            .event(event.name())
            .json_data(&event)
            .unwrap_or_else(|_| Event::default().comment("unserializable event")),
        // The client fell behind: it should refetch what it shows.
        Err(BroadcastStreamRecvError::Lagged(_)) => Event::default().event("resync").data("{}"),
    });
    let stream = futures::StreamExt::take_until(hello.chain(updates), ticket.revoked())
        .map(Ok::<_, std::convert::Infallible>);
    Sse::new(stream)
        .keep_alive(
            KeepAlive::new()
                .interval(Duration::from_secs(15))
                .text("keep-alive"),
        )
        .into_response()
}
