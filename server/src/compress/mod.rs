//! Compression of pages, API answers and logs as they are sent.
//!
//! tower-http's compression gave every response a brotli encoder with a 4 MiB window,
//! and zero-filling those buffers took more time than rendering the runs page (perf:
//! 26% of the server's CPU in `memset` under load, BENCHMARKS.md). Here the window fits
//! the body: a body of known length is compressed in one go with the smallest window
//! that holds it, and a stream (a page as it renders, a followed log) through a modest
//! window, flushed at every chunk so nothing waits in the encoder.
//!
//! Brotli's working memory is pooled per thread (`pool.rs`).
//!
//! Responses that are already encoded (the precompressed WASM, JS and CSS), event
//! streams, images and tiny bodies pass through untouched.
use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use futures::StreamExt;
use http_body::Body as _;
use std::io::Write;

mod pool;

/// Brotli's level for responses made per request: above it, time grows much faster than
/// the bytes shrink (BENCHMARKS.md).
const BROTLI_QUALITY: u32 = 2;
/// gzip's level, for clients without brotli.
const GZIP_LEVEL: u32 = 1;
/// The window for streams, whose length is unknown: pages are a few hundred KiB at most.
const STREAM_WINDOW_BITS: u32 = 18;
/// Smaller bodies gain nothing from an encoding header.
const MIN_SIZE: u64 = 32;
/// Bodies of known length up to this are compressed in one go.
const ONE_SHOT_MAX: u64 = 8 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Coding {
    Brotli,
    Gzip,
}

impl Coding {
    /// The coding to answer with: brotli when the client takes it, else gzip, else none.
    /// `q=0` refuses a coding; `*` stands for any not named.
    pub fn preferred(headers: &HeaderMap) -> Option<Coding> {
        let mut br = None;
        let mut gzip = None;
        let mut any = None;
        for value in headers.get_all(header::ACCEPT_ENCODING) {
            let Ok(value) = value.to_str() else { continue };
            for item in value.split(',') {
                let mut parts = item.split(';');
                let name = parts.next().unwrap_or("").trim().to_ascii_lowercase();
                let accepted = parts
                    .filter_map(|p| p.trim().strip_prefix("q="))
                    .all(|q| q.trim().parse::<f32>().is_ok_and(|q| q > 0.0));
                match name.as_str() {
                    "br" => br = Some(accepted),
                    "gzip" | "x-gzip" => gzip = Some(accepted),
                    "*" => any = Some(accepted),
                    _ => {}
                }
            }
        }
        let takes = |named: Option<bool>| named.or(any).unwrap_or(false);
        if takes(br) {
            Some(Coding::Brotli)
        } else if takes(gzip) {
            Some(Coding::Gzip)
        } else {
            None
        }
    }

    pub fn header_value(self) -> HeaderValue {
        HeaderValue::from_static(match self {
            Coding::Brotli => "br",
            Coding::Gzip => "gzip",
        })
    }
}

/// The middleware.
pub async fn compress(req: Request, next: Next) -> Response {
    let coding = Coding::preferred(req.headers());
    let head = req.method() == Method::HEAD;
    let mut res = next.run(req).await;
    if !compressible(&res) {
        return res;
    }
    res.headers_mut()
        .append(header::VARY, HeaderValue::from_static("accept-encoding"));
    let Some(coding) = coding.filter(|_| !head) else {
        return res;
    };
    let (mut parts, body) = res.into_parts();
    let size = body.size_hint().exact();
    if size.is_some_and(|n| n < MIN_SIZE) {
        return Response::from_parts(parts, body);
    }
    parts
        .headers
        .insert(header::CONTENT_ENCODING, coding.header_value());
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.remove(header::ACCEPT_RANGES);
    let body = match size {
        Some(n) if n <= ONE_SHOT_MAX => match axum::body::to_bytes(body, n as usize).await {
            Ok(bytes) => Body::from(compress_whole(coding, &bytes)),
            Err(e) => Body::from_stream(futures::stream::once(async move { Err::<Bytes, _>(e) })),
        },
        _ => compress_stream(coding, body),
    };
    Response::from_parts(parts, body)
}

/// Whether the response is worth compressing at all.
fn compressible(res: &Response) -> bool {
    if res.status() == StatusCode::NO_CONTENT
        || res.status() == StatusCode::NOT_MODIFIED
        || res.headers().contains_key(header::CONTENT_ENCODING)
    {
        return false;
    }
    let kind = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let already_compressed = ["application/gzip", "application/zip", "font/woff2"];
    !(kind.starts_with("text/event-stream")
        || kind.starts_with("application/grpc")
        || (kind.starts_with("image/") && !kind.starts_with("image/svg+xml"))
        || already_compressed.iter().any(|k| kind.starts_with(k)))
}

/// A body whose whole length is known: the window just holds it.
pub fn compress_whole(coding: Coding, data: &[u8]) -> Vec<u8> {
    let mut encoder = Encoder::new(coding, window_bits_for(data.len()));
    encoder.write(data);
    encoder.finish()
}

/// The smallest brotli window (10–22 bits, as brotli allows) that holds `len` bytes.
fn window_bits_for(len: usize) -> u32 {
    (usize::BITS - len.saturating_sub(1).leading_zeros()).clamp(10, 22)
}

fn compress_stream(coding: Coding, body: Body) -> Body {
    let mut encoder = Some(Encoder::new(coding, STREAM_WINDOW_BITS));
    let frames = body
        .into_data_stream()
        .map(Some)
        .chain(futures::stream::once(async { None }));
    let out = frames.filter_map(move |item| {
        let produced = match item {
            Some(Ok(chunk)) => encoder.as_mut().map(|e| {
                e.write(&chunk);
                Ok(Bytes::from(e.flush()))
            }),
            Some(Err(e)) => {
                encoder = None;
                Some(Err(e))
            }
            None => encoder.take().map(|e| Ok(Bytes::from(e.finish()))),
        };
        futures::future::ready(produced.filter(|r| r.as_ref().map_or(true, |b| !b.is_empty())))
    });
    Body::from_stream(out)
}

type BrotliWriter =
    brotli::enc::writer::CompressorWriterCustomAlloc<Vec<u8>, pool::Cells<u8>, pool::Pooled>;

enum Encoder {
    Brotli(Box<BrotliWriter>),
    Gzip(flate2::write::GzEncoder<Vec<u8>>),
}

impl Encoder {
    fn new(coding: Coding, window_bits: u32) -> Encoder {
        match coding {
            Coding::Brotli => {
                let mut alloc = pool::Pooled;
                let buffer = brotli::Allocator::<u8>::alloc_cell(&mut alloc, 4096);
                Encoder::Brotli(Box::new(BrotliWriter::new(
                    Vec::new(),
                    buffer,
                    alloc,
                    BROTLI_QUALITY,
                    window_bits,
                )))
            }
            Coding::Gzip => Encoder::Gzip(flate2::write::GzEncoder::new(
                Vec::new(),
                flate2::Compression::new(GZIP_LEVEL),
            )),
        }
    }

    // Writing into a Vec cannot fail.
    fn write(&mut self, data: &[u8]) {
        let _ = match self {
            Encoder::Brotli(w) => w.write_all(data),
            Encoder::Gzip(w) => w.write_all(data),
        };
    }

    /// What the encoder has produced so far, with everything written made decodable.
    fn flush(&mut self) -> Vec<u8> {
        match self {
            Encoder::Brotli(w) => {
                let _ = w.flush();
                std::mem::take(w.get_mut())
            }
            Encoder::Gzip(w) => {
                let _ = w.flush();
                std::mem::take(w.get_mut())
            }
        }
    }

    fn finish(self) -> Vec<u8> {
        match self {
            Encoder::Brotli(w) => w.into_inner(),
            Encoder::Gzip(w) => w.finish().unwrap_or_default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::get;
    use axum::Router;
    use std::io::Read;
    use tower::ServiceExt;

    fn accept(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_str(value).unwrap(),
        );
        h
    }

    #[test]
    fn brotli_is_preferred_and_refusals_are_honoured() {
        assert_eq!(
            Coding::preferred(&accept("gzip, deflate, br, zstd")),
            Some(Coding::Brotli)
        );
        assert_eq!(Coding::preferred(&accept("br")), Some(Coding::Brotli));
        assert_eq!(
            Coding::preferred(&accept("br;q=0, gzip")),
            Some(Coding::Gzip)
        );
        assert_eq!(Coding::preferred(&accept("GZIP;q=0.5")), Some(Coding::Gzip));
        assert_eq!(Coding::preferred(&accept("*")), Some(Coding::Brotli));
        assert_eq!(Coding::preferred(&accept("*, br;q=0")), Some(Coding::Gzip));
        assert_eq!(Coding::preferred(&accept("identity")), None);
        assert_eq!(Coding::preferred(&accept("deflate")), None);
        assert_eq!(Coding::preferred(&HeaderMap::new()), None);
    }

    #[test]
    fn the_window_just_holds_the_body() {
        assert_eq!(window_bits_for(0), 10);
        assert_eq!(window_bits_for(1024), 10);
        assert_eq!(window_bits_for(1025), 11);
        assert_eq!(window_bits_for(120_000), 17);
        assert_eq!(window_bits_for(usize::MAX), 22);
    }

    fn decode(coding: &str, bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        match coding {
            "br" => brotli::Decompressor::new(bytes, 4096).read_to_end(&mut out),
            "gzip" => flate2::read::GzDecoder::new(bytes).read_to_end(&mut out),
            other => panic!("unexpected coding {other}"),
        }
        .unwrap();
        out
    }

    fn page() -> String {
        (0..2000)
            .map(|i| format!("<tr><td class=\"run-id\">run {i}</td></tr>"))
            .collect()
    }

    fn app() -> Router {
        let chunks = || {
            let parts = ["first chunk ", "second chunk ", "third"];
            Body::from_stream(futures::stream::iter(
                parts.map(|p| Ok::<_, std::convert::Infallible>(Bytes::from(p))),
            ))
        };
        Router::new()
            .route("/page", get(|| async { axum::response::Html(page()) }))
            .route("/tiny", get(|| async { "ok" }))
            .route(
                "/stream",
                get(move || async move { ([(header::CONTENT_TYPE, "text/plain")], chunks()) }),
            )
            .route(
                "/events",
                get(|| async { ([(header::CONTENT_TYPE, "text/event-stream")], page()) }),
            )
            .route(
                "/precompressed",
                get(|| async {
                    (
                        [
                            (header::CONTENT_TYPE, "application/wasm"),
                            (header::CONTENT_ENCODING, "br"),
                        ],
                        "not really brotli",
                    )
                }),
            )
            .layer(axum::middleware::from_fn(compress))
    }

    async fn get_with(path: &str, accept_encoding: &str, method: Method) -> Response {
        let req = Request::builder()
            .method(method)
            .uri(path)
            .header(header::ACCEPT_ENCODING, accept_encoding)
            .body(Body::empty())
            .unwrap();
        app().oneshot(req).await.unwrap()
    }

    async fn body_of(res: Response) -> Vec<u8> {
        axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .unwrap()
            .to_vec()
    }

    #[tokio::test]
    async fn pages_come_back_whole_in_either_coding() {
        for coding in ["br", "gzip"] {
            let res = get_with("/page", coding, Method::GET).await;
            assert_eq!(res.headers()[header::CONTENT_ENCODING], coding);
            assert_eq!(res.headers()[header::VARY], "accept-encoding");
            let bytes = body_of(res).await;
            assert!(
                bytes.len() * 5 < page().len(),
                "{coding}: {} bytes",
                bytes.len()
            );
            assert_eq!(decode(coding, &bytes), page().as_bytes());
        }
    }

    #[test]
    fn reused_working_memory_compresses_as_fresh_memory_does() {
        let fresh = |data: &[u8]| {
            let mut w = brotli::CompressorWriter::new(
                Vec::new(),
                4096,
                BROTLI_QUALITY,
                window_bits_for(data.len()),
            );
            w.write_all(data).unwrap();
            w.into_inner()
        };
        let (short, long) = (page(), page().repeat(3));
        let bodies = [
            short.as_bytes(),
            long.as_bytes(),
            b"a different, short body",
        ];
        // Each body twice and in turn, so every one after the first runs on reused blocks
        // that held another body's tables.
        for body in bodies.iter().chain(bodies.iter()) {
            let pooled = compress_whole(Coding::Brotli, body);
            assert_eq!(pooled, fresh(body), "the same bytes as a fresh encoder's");
            assert_eq!(decode("br", &pooled), *body);
        }
    }

    #[tokio::test]
    async fn without_a_taken_coding_the_body_is_as_sent() {
        let res = get_with("/page", "identity", Method::GET).await;
        assert!(!res.headers().contains_key(header::CONTENT_ENCODING));
        assert_eq!(body_of(res).await, page().as_bytes());
        let head = get_with("/page", "br", Method::HEAD).await;
        assert!(!head.headers().contains_key(header::CONTENT_ENCODING));
    }

    #[tokio::test]
    async fn streams_are_flushed_chunk_by_chunk_and_decode_whole() {
        let res = get_with("/stream", "br", Method::GET).await;
        assert_eq!(res.headers()[header::CONTENT_ENCODING], "br");
        let mut frames = res.into_body().into_data_stream();
        let first = frames.next().await.unwrap().unwrap();
        // The first chunk decodes on its own: a follower sees it before the rest exists.
        let mut seen = Vec::new();
        let mut partial = brotli::Decompressor::new(&first[..], 4096);
        let mut buf = [0u8; 64];
        while let Ok(n) = partial.read(&mut buf) {
            if n == 0 {
                break;
            }
            seen.extend_from_slice(&buf[..n]);
        }
        assert_eq!(seen, b"first chunk ");
        let mut all = first.to_vec();
        while let Some(frame) = frames.next().await {
            all.extend_from_slice(&frame.unwrap());
        }
        assert_eq!(decode("br", &all), b"first chunk second chunk third");
    }

    #[tokio::test]
    async fn event_streams_encoded_and_tiny_bodies_pass_untouched() {
        let sse = get_with("/events", "br", Method::GET).await;
        assert!(!sse.headers().contains_key(header::CONTENT_ENCODING));
        assert_eq!(body_of(sse).await, page().as_bytes());
        let pre = get_with("/precompressed", "br, gzip", Method::GET).await;
        assert_eq!(pre.headers()[header::CONTENT_ENCODING], "br");
        assert_eq!(body_of(pre).await, b"not really brotli");
        let tiny = get_with("/tiny", "br", Method::GET).await;
        assert!(!tiny.headers().contains_key(header::CONTENT_ENCODING));
        assert_eq!(body_of(tiny).await, b"ok");
    }
}
