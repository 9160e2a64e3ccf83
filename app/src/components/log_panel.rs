//! The live log: the tail of the log file (read once through `read_logs`), then
//! everything new streamed from `GET /api/v1/runs/{id}/logs?follow=true&offset=N`.
//! Follow (auto-scroll), search (filter + highlight) and download.
use super::icons::{Icon, I};
use crate::format::clean_log_line;
use domain::run::RunStatus;
use leptos::html::Div;
use leptos::prelude::*;
use std::sync::Arc;

/// How much of an existing log the panel loads at first; the rest is a download away.
pub const TAIL_BYTES: u64 = 256 * 1024;
/// Lines kept in the page; older ones are dropped (the download has everything).
pub const MAX_LINES: usize = 20_000;
/// Matching lines shown while searching.
const MAX_MATCHES: usize = 2_000;

#[derive(Debug, Clone, PartialEq)]
struct LogLine {
    n: u64,
    text: Arc<str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
enum StreamState {
    Loading,
    Streaming,
    Reconnecting,
    Ended,
}

/// Where streamed text goes. All signals, so it is `Copy` and safe to call late.
#[derive(Clone, Copy)]
struct Sink {
    lines: RwSignal<Vec<LogLine>>,
    partial: RwSignal<String>,
    trimmed: RwSignal<bool>,
    state: RwSignal<StreamState>,
}

impl Sink {
    /// Appends raw log text: complete lines go to `lines`, the rest waits in `partial`.
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    fn append(self, text: &str) {
        if text.is_empty() {
            return;
        }
        let Some(mut buf) = self.partial.try_get_untracked() else {
            return;
        };
        buf.push_str(text);
        let mut complete = Vec::new();
        while let Some(i) = buf.find('\n') {
            let line: String = buf.drain(..=i).collect();
            complete.push(clean_log_line(line.trim_end_matches('\n')));
        }
        self.partial.try_set(buf);
        if complete.is_empty() {
            return;
        }
        let mut dropped = false;
        self.lines.try_update(|lines| {
            let first = lines.last().map(|l| l.n + 1).unwrap_or(1);
            for (n, text) in (first..).zip(complete) {
                lines.push(LogLine {
                    n,
                    text: text.into(),
                });
            }
            if lines.len() > MAX_LINES {
                lines.drain(..lines.len() - MAX_LINES);
                dropped = true;
            }
        });
        if dropped {
            self.trimmed.try_set(true);
        }
    }
}

#[component]
pub fn LogPanel(
    run_id: String,
    /// Size of the log when the page loaded; the panel starts near its end.
    log_bytes: u64,
    /// The run's status, to reopen the stream when a resumed run writes again.
    #[prop(into)]
    status: Signal<RunStatus>,
) -> impl IntoView {
    let sink = Sink {
        lines: RwSignal::new(Vec::new()),
        partial: RwSignal::new(String::new()),
        trimmed: RwSignal::new(false),
        state: RwSignal::new(StreamState::Loading),
    };
    let follow = RwSignal::new(true);
    let search = RwSignal::new(String::new());
    let container = NodeRef::<Div>::new();

    #[cfg(feature = "hydrate")]
    {
        let stream = browser::LogStream::new(run_id.clone(), sink);
        stream.start(log_bytes);
        let on_status = stream.clone();
        Effect::new(move |prev: Option<RunStatus>| {
            let now = status.get();
            if prev.is_some_and(|p| p != now)
                && matches!(now, RunStatus::Running | RunStatus::Pending)
            {
                on_status.reopen_if_ended();
            }
            now
        });
        let closer = send_wrapper::SendWrapper::new(stream);
        on_cleanup(move || closer.close());

        // Follow: keep the newest line in view.
        Effect::new(move |_| {
            sink.lines.track();
            sink.partial.track();
            if follow.get() {
                if let Some(el) = container.get() {
                    request_animation_frame(move || el.set_scroll_top(el.scroll_height()));
                }
            }
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (log_bytes, status);

    let on_scroll = move |_| {
        #[cfg(feature = "hydrate")]
        if let Some(el) = container.get_untracked() {
            let from_bottom = el.scroll_height() - el.scroll_top() - el.client_height();
            if from_bottom > 32 && follow.get_untracked() {
                follow.set(false);
            }
        }
    };

    let download = format!(
        "/api/v1/runs/{}/logs?download=true",
        domain::filter::encode_component(&run_id)
    );
    let line_count = move || sink.lines.with(|l| l.len());
    let query = move || search.with(|s| s.trim().to_string());

    view! {
        <section
            data-testid="log-panel"
            class="overflow-hidden rounded-xl border border-slate-200 bg-white shadow-sm dark:border-slate-800 dark:bg-slate-900"
        >
            <div class="flex flex-wrap items-center gap-x-3 gap-y-2 border-b border-slate-200 px-4 py-3 dark:border-slate-800">
                <h2 class="flex items-center gap-2 text-sm font-semibold">
                    <Icon icon=I::Terminal class="h-4 w-4 text-slate-400"/>
                    "Log"
                </h2>
                <StreamPill state=sink.state/>
                <span class="text-xs tabular-nums text-slate-400">
                    {move || format!("{} lines", line_count())}
                </span>
                <div class="flex w-full flex-wrap items-center gap-2 sm:ml-auto sm:w-auto">
                    <label class="relative min-w-0 flex-1 sm:w-56 sm:flex-none">
                        <span class="sr-only">"Search the log"</span>
                        <span class="pointer-events-none absolute inset-y-0 left-2.5 flex items-center text-slate-400">
                            <Icon icon=I::Search class="h-3.5 w-3.5"/>
                        </span>
                        <input
                            type="search"
                            data-testid="log-search"
                            placeholder="Search log…"
                            autocomplete="off"
                            class="input h-8 pl-8 text-xs"
                            prop:value=move || search.get()
                            on:input=move |ev| search.set(event_target_value(&ev))
                        />
                    </label>
                    <label class="inline-flex h-8 cursor-pointer items-center gap-2 rounded-lg px-2 text-xs font-medium text-slate-600 ring-1 ring-inset ring-slate-200 dark:text-slate-300 dark:ring-slate-700">
                        <input
                            type="checkbox"
                            role="switch"
                            data-testid="log-follow"
                            class="switch"
                            prop:checked=move || follow.get()
                            on:change=move |ev| follow.set(event_target_checked(&ev))
                        />
                        "Follow"
                    </label>
                    <a
                        href=download
                        download=""
                        rel="external"
                        data-testid="log-download"
                        class="btn btn-secondary h-8 px-2.5 text-xs"
                    >
                        <Icon icon=I::Download class="h-3.5 w-3.5"/>
                        "Download"
                    </a>
                </div>
            </div>
            <Show when=move || !query().is_empty()>
                <div class="border-b border-slate-200 bg-amber-50 px-4 py-1.5 text-xs text-amber-900 dark:border-slate-800 dark:bg-amber-500/10 dark:text-amber-200">
                    {move || {
                        let q = query();
                        let n = sink.lines.with(|ls| ls.iter().filter(|l| contains_ci(&l.text, &q)).count());
                        match n {
                            0 => format!("No lines match “{q}”."),
                            1 => format!("1 line matches “{q}”."),
                            n if n > MAX_MATCHES => format!("{n} lines match “{q}”; showing the last {MAX_MATCHES}."),
                            n => format!("{n} lines match “{q}”."),
                        }
                    }}
                </div>
            </Show>
            <div
                node_ref=container
                on:scroll=on_scroll
                class="log-view h-[28rem] overflow-auto bg-slate-950 px-4 py-3 font-mono text-xs leading-5 text-slate-200 max-sm:h-[22rem]"
                tabindex="0"
                aria-label="Run log output"
                aria-live="off"
            >
                <Show when=move || sink.trimmed.get()>
                    <p class="mb-2 border-b border-dashed border-slate-700 pb-2 text-slate-500">
                        "Earlier output is not shown here. Download the log for all of it."
                    </p>
                </Show>
                {move || {
                    let q = query();
                    if q.is_empty() {
                        view! {
                            <For
                                each=move || sink.lines.get()
                                key=|line| line.n
                                children=|line| {
                                    let tone = line_tone(&line.text);
                                    view! {
                                        <div class=format!("min-h-5 whitespace-pre-wrap break-all {tone}")>
                                            {line.text.to_string()}
                                        </div>
                                    }
                                }
                            />
                            <div class="min-h-5 whitespace-pre-wrap break-all">
                                {move || clean_log_line(&sink.partial.get())}
                            </div>
                        }
                            .into_any()
                    } else {
                        let matches = sink.lines.with(|ls| {
                            let all: Vec<LogLine> = ls
                                .iter()
                                .filter(|l| contains_ci(&l.text, &q))
                                .cloned()
                                .collect();
                            let skip = all.len().saturating_sub(MAX_MATCHES);
                            all.into_iter().skip(skip).collect::<Vec<_>>()
                        });
                        if matches.is_empty() {
                            return view! {
                                <p class="text-slate-500">"No matching lines. New lines that match appear here as the run writes them."</p>
                            }
                            .into_any();
                        }
                        matches
                            .into_iter()
                            .map(|line| {
                                view! {
                                    <div class="flex min-h-5 gap-3">
                                        <span class="w-12 shrink-0 select-none text-right text-slate-600">
                                            {line.n}
                                        </span>
                                        <span class="min-w-0 whitespace-pre-wrap break-all">
                                            {highlight(&line.text, &q)}
                                        </span>
                                    </div>
                                }
                            })
                            .collect_view()
                            .into_any()
                    }
                }}
                <Show when=move || {
                    line_count() == 0 && sink.partial.with(|p| p.is_empty()) && query().is_empty()
                }>
                    <p class="text-slate-500">
                        {move || match sink.state.get() {
                            StreamState::Loading => "Loading log…",
                            StreamState::Ended => "This run wrote no output.",
                            _ => "No output yet. New lines appear here as the run writes them.",
                        }}
                    </p>
                </Show>
            </div>
        </section>
    }
}

#[component]
fn StreamPill(state: RwSignal<StreamState>) -> impl IntoView {
    let text = move || match state.get() {
        StreamState::Loading => "Connecting…",
        StreamState::Streaming => "Streaming",
        StreamState::Reconnecting => "Reconnecting…",
        StreamState::Ended => "Complete",
    };
    let dot = move || match state.get() {
        StreamState::Loading | StreamState::Reconnecting => "bg-amber-500 animate-pulse",
        StreamState::Streaming => "bg-emerald-500 animate-pulse",
        StreamState::Ended => "bg-slate-400",
    };
    view! {
        <span
            data-testid="log-state"
            data-state=move || format!("{:?}", state.get()).to_lowercase()
            class="inline-flex items-center gap-1.5 rounded-full bg-slate-100 px-2 py-0.5 text-xs text-slate-600 dark:bg-slate-800 dark:text-slate-300"
        >
            <span class=move || format!("h-1.5 w-1.5 rounded-full {}", dot())></span>
            {text}
        </span>
    }
}

/// ASCII case-insensitive substring test (byte offsets stay valid for highlighting).
fn contains_ci(hay: &str, needle: &str) -> bool {
    find_ci(hay, needle, 0).is_some()
}

fn find_ci(hay: &str, needle: &str, from: usize) -> Option<usize> {
    if needle.is_empty() || from > hay.len() {
        return None;
    }
    let h = hay.as_bytes();
    let n = needle.as_bytes();
    (from..=h.len().saturating_sub(n.len()))
        .find(|&i| h.len() >= n.len() && h[i..i + n.len()].eq_ignore_ascii_case(n))
        .filter(|&i| hay.is_char_boundary(i) && hay.is_char_boundary(i + n.len()))
}

fn highlight(text: &str, q: &str) -> impl IntoView {
    let mut parts = Vec::new();
    let mut at = 0;
    while let Some(i) = find_ci(text, q, at) {
        parts.push((text[at..i].to_string(), false));
        parts.push((text[i..i + q.len()].to_string(), true));
        at = i + q.len();
    }
    parts.push((text[at..].to_string(), false));
    parts
        .into_iter()
        .map(|(s, hit)| {
            if hit {
                view! { <mark class="rounded-sm bg-amber-300 px-0.5 text-slate-950">{s}</mark> }
                    .into_any()
            } else {
                s.into_any()
            }
        })
        .collect_view()
}

/// A hint of colour for lines that announce success or failure.
fn line_tone(line: &str) -> &'static str {
    // Skip a leading "[…]" stamp such as "[00:00:23]".
    let mut l = line.trim_start();
    if l.starts_with('[') {
        if let Some(end) = l.find(']') {
            l = l[end + 1..].trim_start();
        }
    }
    let lower = l.to_ascii_lowercase();
    if l.starts_with('✗') || lower.starts_with("error") || lower.contains(" failed") {
        "text-red-300"
    } else if l.starts_with('✓') {
        "text-emerald-300"
    } else if l.starts_with('→') {
        "text-sky-300"
    } else {
        ""
    }
}

#[cfg(feature = "hydrate")]
mod browser {
    use super::{Sink, StreamState, TAIL_BYTES};
    use crate::server_fns::read_logs;
    use domain::run::LogChunk;
    use leptos::prelude::*;
    use std::cell::RefCell;
    use std::rc::Rc;
    use std::time::Duration;
    use wasm_bindgen::prelude::*;
    use wasm_bindgen::JsCast;
    use web_sys::{EventSource, MessageEvent};

    struct Inner {
        run_id: String,
        sink: Sink,
        es: Option<EventSource>,
        /// Byte offset of the next text we expect.
        offset: u64,
        ended: bool,
        closed: bool,
        failures: u32,
    }

    #[derive(Clone)]
    pub struct LogStream(Rc<RefCell<Inner>>);

    impl LogStream {
        pub fn new(run_id: String, sink: Sink) -> Self {
            LogStream(Rc::new(RefCell::new(Inner {
                run_id,
                sink,
                es: None,
                offset: 0,
                ended: false,
                closed: false,
                failures: 0,
            })))
        }

        /// Loads the tail of the existing log, then follows from its end.
        pub fn start(&self, log_bytes: u64) {
            let this = self.clone();
            leptos::task::spawn_local(async move {
                let (run_id, sink) = {
                    let i = this.0.borrow();
                    (i.run_id.clone(), i.sink)
                };
                let start = log_bytes.saturating_sub(TAIL_BYTES);
                if let Ok(chunk) = read_logs(run_id, start, TAIL_BYTES).await {
                    let mut text = chunk.text.as_str();
                    if chunk.offset > 0 {
                        // We began mid-file: drop the partial first line.
                        sink.trimmed.try_set(true);
                        text = text.split_once('\n').map(|(_, rest)| rest).unwrap_or("");
                    }
                    sink.append(text);
                    this.0.borrow_mut().offset = chunk.next_offset;
                }
                if !this.0.borrow().closed {
                    this.open();
                }
            });
        }

        fn open(&self) {
            let url = {
                let i = self.0.borrow();
                format!(
                    "/api/v1/runs/{}/logs?follow=true&offset={}",
                    domain::filter::encode_component(&i.run_id),
                    i.offset
                )
            };
            let Ok(es) = EventSource::new(&url) else {
                self.retry();
                return;
            };

            let this = self.clone();
            let on_open = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
                let i = this.0.borrow();
                i.sink.state.try_set(StreamState::Streaming);
            });
            es.set_onopen(Some(on_open.as_ref().unchecked_ref()));
            on_open.forget();

            let this = self.clone();
            let on_log = Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
                let Some(data) = ev.data().as_string() else {
                    return;
                };
                let Ok(chunk) = serde_json::from_str::<LogChunk>(&data) else {
                    leptos::logging::warn!("ignoring a log event I can't read");
                    return;
                };
                this.accept(chunk);
            });
            let _ = es.add_event_listener_with_callback("log", on_log.as_ref().unchecked_ref());
            on_log.forget();

            let this = self.clone();
            let on_end = Closure::<dyn FnMut(MessageEvent)>::new(move |_| {
                let mut i = this.0.borrow_mut();
                i.ended = true;
                if let Some(es) = i.es.take() {
                    es.close();
                }
                i.sink.state.try_set(StreamState::Ended);
            });
            let _ = es.add_event_listener_with_callback("end", on_end.as_ref().unchecked_ref());
            on_end.forget();

            let this = self.clone();
            let on_error = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
                {
                    let mut i = this.0.borrow_mut();
                    if i.ended || i.closed {
                        return;
                    }
                    // Reopen ourselves so the stream resumes at our offset, not at the
                    // offset in the original URL.
                    if let Some(es) = i.es.take() {
                        es.close();
                    }
                    i.sink.state.try_set(StreamState::Reconnecting);
                }
                this.retry();
            });
            es.set_onerror(Some(on_error.as_ref().unchecked_ref()));
            on_error.forget();

            self.0.borrow_mut().es = Some(es);
        }

        fn accept(&self, chunk: LogChunk) {
            let mut i = self.0.borrow_mut();
            i.failures = 0;
            if chunk.next_offset <= i.offset {
                return; // already have it
            }
            let text = if chunk.offset < i.offset {
                let skip = (i.offset - chunk.offset) as usize;
                chunk.text.get(skip..).unwrap_or("").to_string()
            } else {
                chunk.text
            };
            i.offset = i.offset.max(chunk.next_offset);
            let sink = i.sink;
            drop(i);
            sink.state.try_set(StreamState::Streaming);
            sink.append(&text);
        }

        fn retry(&self) {
            let delay = {
                let mut i = self.0.borrow_mut();
                i.failures += 1;
                Duration::from_secs(2u64.saturating_pow(i.failures.min(4)).min(15))
            };
            let this = self.clone();
            set_timeout(
                move || {
                    let i = this.0.borrow();
                    if i.closed || i.ended || i.es.is_some() {
                        return;
                    }
                    drop(i);
                    this.open();
                },
                delay,
            );
        }

        /// A resumed run writes again: follow it once more.
        pub fn reopen_if_ended(&self) {
            let reopen = {
                let mut i = self.0.borrow_mut();
                let reopen = i.ended && !i.closed && i.es.is_none();
                if reopen {
                    i.ended = false;
                    i.sink.state.try_set(StreamState::Loading);
                }
                reopen
            };
            if reopen {
                self.open();
            }
        }

        /// The panel is going away.
        pub fn close(&self) {
            let mut i = self.0.borrow_mut();
            i.closed = true;
            if let Some(es) = i.es.take() {
                es.close();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_insensitive_search_finds_every_hit() {
        assert!(contains_ci("Build FAILED at step 3", "failed"));
        assert!(!contains_ci("all good", "fail"));
        assert_eq!(find_ci("aXa", "x", 0), Some(1));
        assert_eq!(find_ci("aXa", "x", 2), None);
        assert_eq!(find_ci("✓ plan", "plan", 0), Some(4));
        assert_eq!(find_ci("ab", "abc", 0), None);
    }

    #[test]
    fn lines_are_toned_after_their_stamp() {
        assert_eq!(
            line_tone("[00:00:23] ✓ review (attempt 1)"),
            "text-emerald-300"
        );
        assert_eq!(line_tone("[00:00:20] → plan"), "text-sky-300");
        assert_eq!(line_tone("Error: boom"), "text-red-300");
        assert_eq!(line_tone("[demo] plan: started"), "");
    }
}
