//! `/runs/board`: the active runs' tasks in four lanes, refreshed as runs change.
use crate::components::{EmptyState, ErrorBanner, NodeStateIcon, RelativeTime, I};
use crate::format::short_id;
use crate::live::refetch_on_live;
use crate::server_fns::runs_board;
use domain::board::{Board, Card, LaneView};
use domain::run::NodeState;
use leptos::prelude::*;
use std::time::Duration;

#[component]
pub fn RunsBoard() -> impl IntoView {
    let board = Resource::new(|| (), |_| runs_board());
    // One refetch per second at most, however many runs change at once.
    refetch_on_live(Duration::from_secs(1), move || board.refetch());
    view! {
        <Transition fallback=|| view! { <div class="card h-64 animate-pulse"></div> }>
            {move || board.get().map(|r| match r {
                Ok((board, now)) => view! { <Lanes board now/> }.into_any(),
                Err(e) => view! { <ErrorBanner error=e/> }.into_any(),
            })}
        </Transition>
    }
}

#[component]
fn Lanes(board: Board, now: i64) -> impl IntoView {
    if board.runs == 0 {
        return view! {
            <EmptyState icon=I::List title="No active runs"
                message="Runs that are pending, running or waiting at a gate show here, task by task."
                testid="board-empty"/>
        }
        .into_any();
    }
    let unread = board.unread.clone();
    view! {
        <div class="space-y-3" data-testid="board">
            <p class="text-sm text-slate-500 dark:text-slate-400" data-testid="board-runs">
                {format!("{} active run{}", board.runs, if board.runs == 1 { "" } else { "s" })}
            </p>
            {(!unread.is_empty()).then(|| view! {
                <ul class="card space-y-1 p-3 text-sm text-amber-800 dark:text-amber-300" data-testid="board-unread">
                    {unread.into_iter().map(|(run, why)| view! {
                        <li><a class="link font-mono" href=format!("/runs/{run}")>{short_id(&run)}</a>": "{why}</li>
                    }).collect_view()}
                </ul>
            })}
            <div class="grid gap-4 md:grid-cols-2 xl:grid-cols-4">
                {board.lanes.into_iter().map(|lane| view! { <LaneColumn lane now/> }).collect_view()}
            </div>
        </div>
    }
    .into_any()
}

#[component]
fn LaneColumn(lane: LaneView, now: i64) -> impl IntoView {
    let hidden = lane.total - lane.cards.len();
    view! {
        <section class="flex min-h-32 flex-col rounded-xl bg-slate-100/70 p-2 dark:bg-slate-900/60"
            data-testid="lane" data-lane=lane.lane.as_str()>
            <h2 class="flex items-center justify-between px-2 py-1.5 text-sm font-semibold">
                {lane.lane.title()}
                <span class="rounded-full bg-white px-2 text-xs tabular-nums text-slate-600 ring-1 ring-slate-200 dark:bg-slate-800 dark:text-slate-300 dark:ring-slate-700"
                    data-testid="lane-count">{lane.total}</span>
            </h2>
            <ul class="mt-1 space-y-2">
                {lane.cards.into_iter().map(|card| view! { <CardItem card now/> }).collect_view()}
            </ul>
            {(hidden > 0).then(|| view! {
                <p class="px-2 pt-2 text-xs text-slate-500">{format!("and {hidden} more")}</p>
            })}
        </section>
    }
}

#[component]
fn CardItem(card: Card, now: i64) -> impl IntoView {
    let state = NodeState::parse(&card.state);
    let href = if state == NodeState::WaitingApproval {
        format!("/runs/{}/feedback", card.run_id)
    } else {
        format!("/runs/{}", card.run_id)
    };
    let title = card.task.clone().unwrap_or_else(|| "Starting".into());
    let failed = matches!(state, NodeState::Failed | NodeState::Cancelled);
    view! {
        <li>
            <a href=href data-testid="card" data-run=card.run_id.clone() data-state=card.state.clone()
                class="block rounded-lg bg-white p-3 shadow-sm ring-1 ring-slate-200 transition hover:ring-indigo-300 dark:bg-slate-800 dark:ring-slate-700 dark:hover:ring-indigo-500/60">
                <div class="flex items-start gap-2">
                    <NodeStateIcon state/>
                    <div class="min-w-0 flex-1">
                        <p class="truncate text-sm font-medium" data-testid="card-task">{title}</p>
                        <p class="truncate text-xs text-slate-500 dark:text-slate-400">
                            <span class="font-mono">{short_id(&card.run_id)}</span>
                            " · "{card.spec.clone().unwrap_or_else(|| card.template.clone())}
                        </p>
                    </div>
                </div>
                <div class="mt-2 flex items-center justify-between text-xs text-slate-500 dark:text-slate-400">
                    <span class=if failed { "font-medium capitalize text-red-600 dark:text-red-400" } else { "capitalize" }>
                        {card.state.replace('-', " ")}
                        {(card.attempts > 1).then(|| format!(" · attempt {}", card.attempts))}
                    </span>
                    <RelativeTime at_ms=card.since_ms server_now=now/>
                </div>
            </a>
        </li>
    }
}
