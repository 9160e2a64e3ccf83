//! `GET /api/v1/events`: every change the UI shows, as server-sent events.
use crate::state::AppState;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;
use std::convert::Infallible;
use std::time::Duration;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::StreamExt;

pub async fn events(
    State(state): State<AppState>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let hello = tokio_stream::once(Ok(Event::default().event("hello").data("{}")));
    let updates = BroadcastStream::new(state.service.subscribe()).map(|item| {
        Ok(match item {
            Ok(event) => Event::default()
                .event(event.name())
                .json_data(&event)
                .unwrap_or_else(|_| Event::default().comment("unserializable event")),
            // The client fell behind: it should refetch what it shows.
            Err(BroadcastStreamRecvError::Lagged(_)) => Event::default().event("resync").data("{}"),
        })
    });
    Sse::new(hello.chain(updates)).keep_alive(
        KeepAlive::new()
            .interval(Duration::from_secs(15))
            .text("keep-alive"),
    )
}
