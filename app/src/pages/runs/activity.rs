//! `/runs/activity`: what happened to runs lately, newest first, refreshed live.
use crate::components::{EmptyState, ErrorBanner, RelativeTime, I};
use crate::format::short_id;
use crate::live::refetch_on_live;
use crate::server_fns::runs_activity;
use domain::board::{ActivityItem, ACTIVITY_DEFAULT};
use leptos::prelude::*;
use std::time::Duration;

#[component]
pub fn RunsActivity() -> impl IntoView {
    let feed = Resource::new(|| (), |_| runs_activity(ACTIVITY_DEFAULT));
    // One refetch per second at most, however many runs change at once.
    refetch_on_live(Duration::from_secs(1), move || feed.refetch());
    view! {
        <Transition fallback=|| view! { <div class="card h-64 animate-pulse"></div> }>
            {move || feed.get().map(|r| match r {
                Ok((events, now)) => view! { <Feed events now/> }.into_any(),
                Err(e) => view! { <ErrorBanner error=e/> }.into_any(),
            })}
        </Transition>
    }
}

#[component]
fn Feed(events: Vec<ActivityItem>, now: i64) -> impl IntoView {
    if events.is_empty() {
        return view! {
            <EmptyState icon=I::Clock title="No events yet"
                message="Dispatches, starts, gate decisions and exits of every run show here as they happen."
                testid="activity-empty"/>
        }
        .into_any();
    }
    view! {
        <ol class="card divide-y divide-slate-100 dark:divide-slate-800" data-testid="activity">
            {events.into_iter().map(|e| view! {
                <li class="flex items-baseline gap-3 px-4 py-2.5 text-sm sm:px-6" data-testid="activity-item" data-kind=e.kind.clone()>
                    <span class="w-20 shrink-0 text-xs text-slate-500 dark:text-slate-400">
                        <RelativeTime at_ms=e.at_ms server_now=now/>
                    </span>
                    <a href=format!("/runs/{}", e.run_id) class="link shrink-0 font-mono text-xs">{short_id(&e.run_id)}</a>
                    <span class="min-w-0 flex-1">
                        <span class="font-medium">{sentence_case(&e.kind)}</span>
                        <span class="text-slate-600 dark:text-slate-300">" — "{e.message}</span>
                        {e.actor.map(|a| view! { <span class="text-slate-500">" by "{a}</span> })}
                    </span>
                </li>
            }).collect_view()}
        </ol>
    }
    .into_any()
}

/// `gate-approve` → `Gate approve`.
fn sentence_case(kind: &str) -> String {
    let words = kind.replace('-', " ");
    let mut chars = words.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}
