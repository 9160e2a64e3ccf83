//! The runs list, rendered once and served to everyone who asks for the same view while
//! nothing changed.
//!
//! `/runs` is the page a team keeps open; a reload storm (a deploy, a Monday morning)
//! asks for the same rows many times a second. An entry is keyed by the view (path and
//! query), who asks (user and role: the page shows what they may do), the coding, and the
//! store's write version, so a write makes every older entry unreachable. Entries also
//! expire after [`TTL`]: the page carries the server's clock for its relative times.
//! Only what the auth guard let through reaches this layer, and the page is stored
//! already compressed.
use crate::compress::{compress_whole, Coding};
use crate::state::AppState;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use domain::auth::{Principal, Role};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long an entry is served. The runs list's relative times ("5m ago") are rendered
/// with the server's clock, and the page's own clock takes over once it hydrates.
pub const TTL: Duration = Duration::from_secs(1);
/// Entries kept; past this the expired go, then everything.
const CAPACITY: usize = 256;
/// The pages served from the cache.
const CACHED_PATHS: &[&str] = &["/runs"];
/// Rendered pages above this are not kept.
const MAX_PAGE: usize = 4 << 20;

#[derive(Clone, PartialEq, Eq, Hash)]
struct Key {
    path_and_query: String,
    user: String,
    role: Role,
    coding: Option<Coding>,
    version: u64,
}

struct Entry {
    at: Instant,
    content_type: HeaderValue,
    body: Bytes,
}

#[derive(Default)]
pub struct PageCache {
    entries: Mutex<HashMap<Key, Entry>>,
}

impl PageCache {
    fn get(&self, key: &Key, now: Instant) -> Option<(HeaderValue, Bytes)> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let entry = entries.get(key)?;
        (now.duration_since(entry.at) < TTL).then(|| (entry.content_type.clone(), entry.body.clone()))
    }

    fn put(&self, key: Key, entry: Entry, now: Instant) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= CAPACITY {
            entries.retain(|k, e| k.version == key.version && now.duration_since(e.at) < TTL);
            if entries.len() >= CAPACITY {
                entries.clear();
            }
        }
        entries.insert(key, entry);
    }
}

/// The middleware, around the pages.
pub async fn serve(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let Some(key) = key_for(&state, &req) else {
        return next.run(req).await;
    };
    let now = Instant::now();
    if let Some((content_type, body)) = state.page_cache.get(&key, now) {
        return page(content_type, key.coding, body);
    }
    let res = next.run(req).await;
    let cacheable = res.status() == StatusCode::OK
        && !res.headers().contains_key(header::SET_COOKIE)
        && !res.headers().contains_key(header::CONTENT_ENCODING)
        && res
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|t| t.as_bytes().starts_with(b"text/html"));
    if !cacheable {
        return res;
    }
    let (parts, body) = res.into_parts();
    let Ok(html) = axum::body::to_bytes(body, MAX_PAGE).await else {
        return Response::builder()
            .status(StatusCode::INTERNAL_SERVER_ERROR)
            .body(Body::from("The page could not be rendered. Reload to try again."))
            .unwrap_or_default();
    };
    let body = match key.coding {
        Some(coding) => Bytes::from(compress_whole(coding, &html)),
        None => html,
    };
    let content_type = parts.headers[header::CONTENT_TYPE].clone();
    let coding = key.coding;
    state.page_cache.put(
        key,
        Entry {
            at: now,
            content_type: content_type.clone(),
            body: body.clone(),
        },
        now,
    );
    page(content_type, coding, body)
}

fn key_for(state: &AppState, req: &Request) -> Option<Key> {
    if req.method() != Method::GET || !CACHED_PATHS.contains(&req.uri().path()) {
        return None;
    }
    let who = req.extensions().get::<Principal>()?;
    Some(Key {
        path_and_query: req.uri().path_and_query()?.as_str().to_string(),
        user: who.username.clone(),
        role: who.role,
        coding: Coding::preferred(req.headers()),
        version: state.service.store().write_version(),
    })
}

fn page(content_type: HeaderValue, coding: Option<Coding>, body: Bytes) -> Response {
    let mut res = Response::new(Body::from(body));
    let headers = res.headers_mut();
    headers.insert(header::CONTENT_TYPE, content_type);
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    // Per user: never in a shared cache.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-cache"));
    if let Some(coding) = coding {
        headers.insert(header::CONTENT_ENCODING, coding.header_value());
    }
    res
}
