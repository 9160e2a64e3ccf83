//! `GET /api/v1/events`: every change the UI shows, as server-sent events. The stream
//! counts against the user's stream cap and ends when their credentials are revoked.
//!
//! Every stream reads the one broadcast of [`Published`] events. A client too slow to
//! keep up is sent `resync` with a reconnect hint and dropped: its backlog never grows
//! past the broadcast's bounded buffer, and on reconnecting it refetches what it shows.
use crate::error::error_response;
use crate::service::Published;
use crate::state::AppState;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use domain::service::Actor;
use futures::{Stream, StreamExt as _};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;
use tokio_stream::wrappers::BroadcastStream;

/// How soon a dropped slow client should come back.
const RECONNECT_AFTER: Duration = Duration::from_secs(1);

pub async fn events(State(state): State<AppState>, Extension(who): Extension<Actor>) -> Response {
    let ticket = match state.streams.open(&who.name) {
        Ok(t) => t,
        Err(e) => return error_response(&e),
    };
    let stream = frames(state.service.subscribe())
        .map(Frame::into_event)
        .take_until(ticket.revoked())
        .map(Ok::<_, std::convert::Infallible>);
    Sse::new(stream)
        .keep_alive(
            KeepAlive::new()
                .interval(Duration::from_secs(15))
                .text("keep-alive"),
        )
        .into_response()
}

enum Frame {
    Hello,
    Live(Arc<Published>),
    /// The client missed events: it refetches, reconnecting after the hint.
    Resync,
}

impl Frame {
    fn into_event(self) -> Event {
        match self {
            Frame::Hello => Event::default().event("hello").data("{}"),
            Frame::Live(published) => Event::default()
                .event(published.event.name())
                .data(&published.json),
            Frame::Resync => Event::default()
                .event("resync")
                .retry(RECONNECT_AFTER)
                .data("{}"),
        }
    }
}

/// Hello, then every live event, until the receiver lags: then resync, and the end.
fn frames(live: broadcast::Receiver<Arc<Published>>) -> impl Stream<Item = Frame> {
    let updates = BroadcastStream::new(live).scan(false, |dropped, item| {
        let next = match item {
            _ if *dropped => None,
            Ok(published) => Some(Frame::Live(published)),
            Err(BroadcastStreamRecvError::Lagged(_)) => {
                *dropped = true;
                Some(Frame::Resync)
            }
        };
        std::future::ready(next)
    });
    futures::stream::once(async { Frame::Hello }).chain(updates)
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::event::LiveEvent;

    fn published(n: usize) -> Arc<Published> {
        let run = domain::run::RunSummary {
            run_id: format!("r{n}"),
            project: None,
            env: None,
            spec: None,
            phase: "implement".into(),
            status: domain::run::RunStatus::Running,
            task: None,
            outcome: None,
            started_at: None,
            finished_at: None,
            progress: Default::default(),
            template: "demo".into(),
            workflow: None,
            backend: "local".into(),
            created_at_ms: 0,
            started_at_ms: None,
            finished_at_ms: None,
            needs_feedback: false,
            error: None,
        };
        let event = LiveEvent::RunChanged { run };
        let json = serde_json::to_string(&event).unwrap();
        Arc::new(Published { event, json })
    }

    fn kind(f: &Frame) -> String {
        match f {
            Frame::Hello => "hello".into(),
            Frame::Live(p) => p.event.run_id().to_string(),
            Frame::Resync => "resync".into(),
        }
    }

    #[tokio::test]
    async fn a_client_that_keeps_up_gets_every_event_in_order() {
        let (tx, rx) = broadcast::channel(4);
        let mut frames = Box::pin(frames(rx));
        assert_eq!(kind(&frames.next().await.unwrap()), "hello");
        for n in 0..10 {
            tx.send(published(n)).unwrap();
            assert_eq!(kind(&frames.next().await.unwrap()), format!("r{n}"));
        }
    }

    #[tokio::test]
    async fn a_client_that_falls_behind_is_told_to_resync_and_dropped() {
        let (tx, rx) = broadcast::channel(4);
        let mut frames = Box::pin(frames(rx));
        assert_eq!(kind(&frames.next().await.unwrap()), "hello");
        for n in 0..10 {
            tx.send(published(n)).unwrap();
        }
        assert_eq!(kind(&frames.next().await.unwrap()), "resync");
        tx.send(published(11)).unwrap();
        assert!(frames.next().await.is_none(), "the stream ends");
    }
}
