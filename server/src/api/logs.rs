//! `GET /api/v1/runs/{id}/logs`: the whole log as text, `?download=true` as a file,
//! `?follow=true` as a stream (SSE for browsers, plain text otherwise) that ends when
//! the run can write no more.
use crate::service::Service;
use crate::state::AppState;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use domain::run::LogChunk;
use domain::service::{Actor, RunService};
use futures::StreamExt;
use serde::Deserialize;
use std::sync::Arc;
use std::time::Duration;

const CHUNK: u64 = 64 * 1024;
const FOLLOW_POLL: Duration = Duration::from_millis(200);

#[derive(Deserialize)]
pub struct LogParams {
    #[serde(default)]
    follow: bool,
    #[serde(default)]
    download: bool,
    #[serde(default)]
    offset: u64,
}

pub async fn logs(
    State(state): State<AppState>,
    Extension(who): Extension<Actor>,
    Path(id): Path<String>,
    Query(p): Query<LogParams>,
    headers: HeaderMap,
) -> Result<Response, Response> {
    let service = state.service.clone();
    // Answers 404 (or 403) before any streaming starts.
    service
        .logs(&who, &id, p.offset, 1)
        .await
        .map_err(super::fail)?;
    let wants_sse = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/event-stream"));
    let reader = LogReader {
        service,
        who,
        id: id.clone(),
    };
    if p.follow {
        let ticket = state.streams.open(&reader.who.name).map_err(super::fail)?;
        let chunks = chunks(reader, p.offset).take_until(ticket.revoked());
        return Ok(if wants_sse {
            sse(chunks).into_response()
        } else {
            text_stream(chunks)
        });
    }
    let mut response = (
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        Body::from_stream(written_so_far(reader, p.offset)),
    )
        .into_response();
    if p.download {
        let disposition = format!("attachment; filename=\"fabrik-{}.log\"", sanitize(&id));
        if let Ok(v) = HeaderValue::from_str(&disposition) {
            response
                .headers_mut()
                .insert(header::CONTENT_DISPOSITION, v);
        }
    }
    Ok(response)
}

/// Reads one run's log as one user.
#[derive(Clone)]
struct LogReader {
    service: Arc<Service>,
    who: Actor,
    id: String,
}

impl LogReader {
    async fn chunk(&self, offset: u64) -> Option<LogChunk> {
        self.service
            .logs(&self.who, &self.id, offset, CHUNK)
            .await
            .ok()
    }
}

/// The log as it stands now, in chunks (a long log is never held in memory whole).
fn written_so_far(
    reader: LogReader,
    offset: u64,
) -> impl futures::Stream<Item = Result<String, std::convert::Infallible>> {
    futures::stream::unfold(offset, move |offset| {
        let reader = reader.clone();
        async move {
            let chunk = reader.chunk(offset).await?;
            (chunk.next_offset > offset).then_some((Ok(chunk.text), chunk.next_offset))
        }
    })
}

/// Yields successive log chunks until the run can write no more.
fn chunks(reader: LogReader, offset: u64) -> impl futures::Stream<Item = LogChunk> {
    futures::stream::unfold(Some(offset), move |offset| {
        let reader = reader.clone();
        async move {
            let mut offset = offset?;
            loop {
                let chunk = reader.chunk(offset).await?;
                if !chunk.text.is_empty() || chunk.complete {
                    let next = (!chunk.complete).then_some(chunk.next_offset);
                    return Some((chunk, next));
                }
                offset = chunk.next_offset;
                tokio::time::sleep(FOLLOW_POLL).await;
            }
        }
    })
}

fn sse(chunks: impl futures::Stream<Item = LogChunk> + Send + 'static) -> impl IntoResponse {
    let stream = chunks.flat_map(|chunk| {
        let log = Event::default().event("log").json_data(&chunk).ok();
        let end = chunk
            .complete
            .then(|| Event::default().event("end").data("{}"));
        futures::stream::iter(
            log.into_iter()
                .chain(end)
                .map(Ok::<_, std::convert::Infallible>),
        )
    });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

fn text_stream(chunks: impl futures::Stream<Item = LogChunk> + Send + 'static) -> Response {
    let stream = chunks.map(|chunk| Ok::<_, std::convert::Infallible>(chunk.text));
    (
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        Body::from_stream(stream),
    )
        .into_response()
}

fn sanitize(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}
