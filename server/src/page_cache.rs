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
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::OnceCell;

/// How long an entry is served. The runs list's relative times ("5m ago") are rendered
/// with the server's clock, and the page's own clock takes over once it hydrates.
pub const TTL: Duration = Duration::from_secs(1);
/// Keys kept. Past this, keys of older versions and pages too old to stand in go,
/// then everything: a burst of one-off views (every search typed) holds at most this
/// many pages.
const CAPACITY: usize = 64;
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

/// An entry, or the render that will fill it: requests arriving meanwhile wait for that
/// one render instead of each starting their own (64 at once, every second, made the
/// p99 six times the median).
type Slot = Arc<OnceCell<Entry>>;

/// A key's current slot, and the one it replaced: while the current renders, the
/// previous page (same write version, so the same rows; only its clock is older) is
/// served for up to [`STALE_FOR`].
struct Slots {
    current: Slot,
    previous: Option<Slot>,
}

/// How long past [`TTL`] a page may stand in while its successor renders.
const STALE_FOR: Duration = Duration::from_secs(5);

#[derive(Default)]
pub struct PageCache {
    slots: Mutex<HashMap<Key, Slots>>,
}

impl PageCache {
    /// The key's slot to fill or read, and a stale page to serve meanwhile. A request
    /// that gets no stale page renders (or waits for the render under way).
    fn slot(&self, key: &Key, now: Instant) -> (Slot, Option<Slot>) {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        let fresh = |slot: &Slot| slot.get().is_none_or(|e| now.duration_since(e.at) < TTL);
        if let Some(s) = slots.get_mut(key) {
            if fresh(&s.current) {
                return (s.current.clone(), s.previous.clone());
            }
            let stale = std::mem::take(&mut s.current);
            s.previous = Some(stale);
            return (s.current.clone(), None);
        }
        if slots.len() >= CAPACITY {
            let usable = |s: &Slot| {
                s.get()
                    .is_none_or(|e| now.duration_since(e.at) < TTL + STALE_FOR)
            };
            slots.retain(|k, s| k.version == key.version && usable(&s.current));
            if slots.len() >= CAPACITY {
                slots.clear();
            }
        }
        let slot = Slot::default();
        let entry = Slots {
            current: slot.clone(),
            previous: None,
        };
        slots.insert(key.clone(), entry);
        (slot, None)
    }
}

/// The middleware, around the pages.
pub async fn serve(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let Some(key) = key_for(&state, &req) else {
        return next.run(req).await;
    };
    let now = Instant::now();
    let (slot, previous) = state.page_cache.slot(&key, now);
    if slot.get().is_none() {
        let stale = previous.as_ref().and_then(|p| p.get());
        if let Some(e) = stale.filter(|e| now.duration_since(e.at) < TTL + STALE_FOR) {
            return page(e.content_type.clone(), key.coding, e.body.clone());
        }
    }
    // A render that can't be kept (an error, a redirect) is answered as it is; a request
    // waiting on it then renders for itself. The render runs on a task of its own: others
    // may be waiting for it, so the client that started it going away must not cancel it
    // (a render cut short also left Leptos' resource tasks reading disposed signals).
    let coding = key.coding;
    let rendering = || async move {
        tokio::spawn(render(next, req, coding))
            .await
            .unwrap_or_else(|_| Err(Box::new(failed())))
    };
    match slot.get_or_try_init(rendering).await {
        Ok(entry) => page(entry.content_type.clone(), key.coding, entry.body.clone()),
        Err(response) => *response,
    }
}

/// Renders the page; `Err` carries a response that is not to be kept.
async fn render(next: Next, req: Request, coding: Option<Coding>) -> Result<Entry, Box<Response>> {
    let res = next.run(req).await;
    let keep = res.status() == StatusCode::OK
        && !res.headers().contains_key(header::SET_COOKIE)
        && !res.headers().contains_key(header::CONTENT_ENCODING)
        && res
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|t| t.as_bytes().starts_with(b"text/html"));
    if !keep {
        return Err(Box::new(res));
    }
    let (parts, body) = res.into_parts();
    let Ok(html) = axum::body::to_bytes(body, MAX_PAGE).await else {
        return Err(Box::new(failed()));
    };
    let body = match coding {
        Some(coding) => Bytes::from(compress_whole(coding, &html)),
        None => html,
    };
    Ok(Entry {
        at: Instant::now(),
        content_type: parts.headers[header::CONTENT_TYPE].clone(),
        body,
    })
}

fn failed() -> Response {
    Response::builder()
        .status(StatusCode::INTERNAL_SERVER_ERROR)
        .body(Body::from(
            "The page could not be rendered. Reload to try again.",
        ))
        .unwrap_or_default()
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
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    if let Some(coding) = coding {
        headers.insert(header::CONTENT_ENCODING, coding.header_value());
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> Key {
        Key {
            path_and_query: "/runs".into(),
            user: "ada".into(),
            role: Role::Admin,
            coding: Some(Coding::Brotli),
            version: 7,
        }
    }

    fn entry(at: Instant, body: &'static str) -> Entry {
        Entry {
            at,
            content_type: HeaderValue::from_static("text/html"),
            body: Bytes::from_static(body.as_bytes()),
        }
    }

    #[test]
    fn one_render_per_key_then_the_stale_page_stands_in_while_the_next_renders() {
        let cache = PageCache::default();
        let t0 = Instant::now();
        let (first, stale) = cache.slot(&key(), t0);
        assert!(stale.is_none(), "nothing to stand in yet");
        let (waiting, _) = cache.slot(&key(), t0);
        assert!(
            Arc::ptr_eq(&first, &waiting),
            "a second request waits for the same render"
        );
        first.set(entry(t0, "v1")).ok().unwrap();

        let (hit, _) = cache.slot(&key(), t0 + TTL / 2);
        assert_eq!(hit.get().unwrap().body, "v1");

        let later = t0 + TTL + Duration::from_millis(1);
        let (renderer, stale) = cache.slot(&key(), later);
        assert!(
            renderer.get().is_none() && stale.is_none(),
            "the first one after expiry renders"
        );
        let (next, stale) = cache.slot(&key(), later);
        assert!(Arc::ptr_eq(&renderer, &next));
        assert_eq!(
            stale.unwrap().get().unwrap().body,
            "v1",
            "the others get the old page meanwhile"
        );
    }

    #[test]
    fn another_version_user_or_coding_is_another_entry() {
        let cache = PageCache::default();
        let t0 = Instant::now();
        let (slot, _) = cache.slot(&key(), t0);
        slot.set(entry(t0, "v1")).ok().unwrap();
        let others = [
            Key {
                version: 8,
                ..key()
            },
            Key {
                user: "bob".into(),
                ..key()
            },
            Key {
                role: Role::Viewer,
                ..key()
            },
            Key {
                coding: None,
                ..key()
            },
            Key {
                path_and_query: "/runs?status=failed".into(),
                ..key()
            },
        ];
        for other in others {
            let (slot, stale) = cache.slot(&other, t0);
            assert!(slot.get().is_none() && stale.is_none());
        }
    }
}
