use crate::clock::use_clock;
use crate::format;
use domain::time::{ago, human_duration};
use leptos::prelude::*;

/// "5m ago", kept current by the clock; the absolute time is in the tooltip.
#[component]
pub fn RelativeTime(at_ms: i64, server_now: i64) -> impl IntoView {
    let clock = use_clock();
    view! {
        <time datetime=domain::time::rfc3339(at_ms) title=format::datetime(at_ms)>
            {move || ago(clock.now_or(server_now), at_ms)}
        </time>
    }
}

/// Time between `start` and `end` (or now, while running); "—" before it starts.
#[component]
pub fn LiveDuration(start: Option<i64>, end: Option<i64>, server_now: i64) -> impl IntoView {
    let clock = use_clock();
    view! {
        <span class="tabular-nums">
            {move || match start {
                Some(s) => human_duration(end.unwrap_or_else(|| clock.now_or(server_now)) - s),
                None => "—".to_string(),
            }}
        </span>
    }
}
