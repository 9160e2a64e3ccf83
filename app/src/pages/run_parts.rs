//! Sections shared by the run page and the feedback page.
use crate::components::fields::{row_headline, FieldList};
use crate::components::{Icon, LiveDuration, NodeStateIcon, RelativeTime, I};
use crate::format::{self, humanize, thousands};
use domain::run::{
    Execution, GateStatus, GateView, OutputRow, ReviewVerdict, TaskView, TimelineEntry, TokenUsage,
};
use domain::status::latest_iterations;
use leptos::prelude::*;
use std::collections::HashSet;

/// A titled card.
#[component]
pub fn Card(
    title: &'static str,
    icon: I,
    #[prop(optional)] testid: Option<&'static str>,
    /// Shown at the right of the title bar.
    #[prop(optional)]
    aside: Option<ViewFn>,
    children: Children,
) -> impl IntoView {
    view! {
        <section data-testid=testid class="card overflow-hidden">
            <div class="flex items-center gap-2 border-b border-slate-200 px-4 py-3 dark:border-slate-800">
                <Icon icon=icon class="h-4 w-4 text-slate-400"/>
                <h2 class="text-sm font-semibold">{title}</h2>
                <div class="ml-auto text-xs text-slate-500 dark:text-slate-400">
                    {aside.map(|a| move || a.run())}
                </div>
            </div>
            {children()}
        </section>
    }
}

/// One row per node (its latest iteration), with state, attempts, iteration, duration.
#[component]
pub fn TaskList(tasks: Memo<Vec<TaskView>>, server_now: Memo<i64>) -> impl IntoView {
    move || {
        let tasks: Vec<TaskView> = latest_iterations(&tasks.get())
            .into_iter()
            .cloned()
            .collect();
        let now = server_now.get_untracked();
        if tasks.is_empty() {
            return view! {
                <p class="px-4 py-8 text-center text-sm text-slate-500 dark:text-slate-400">
                    "No tasks recorded yet. They appear as soon as the workflow starts them."
                </p>
            }
            .into_any();
        }
        view! {
            <ul class="divide-y divide-slate-100 dark:divide-slate-800" data-testid="task-list">
                {tasks.into_iter().map(|t| view! { <TaskRow task=t server_now=now/> }).collect_view()}
            </ul>
        }
        .into_any()
    }
}

#[component]
fn TaskRow(task: TaskView, server_now: i64) -> impl IntoView {
    let title = task.label.clone().unwrap_or_else(|| task.node_id.clone());
    let show_id = task.label.is_some();
    let running = task.state == domain::run::NodeState::InProgress;
    let row_tone = match task.state {
        domain::run::NodeState::InProgress => "bg-blue-50/60 dark:bg-blue-500/5",
        domain::run::NodeState::WaitingApproval => "bg-amber-50/60 dark:bg-amber-500/5",
        domain::run::NodeState::Failed => "bg-red-50/60 dark:bg-red-500/5",
        _ => "",
    };
    let mut meta = vec![task.state.label().to_string()];
    if task.attempts > 1 {
        meta.push(format!("{} attempts", task.attempts));
    } else if task.attempts == 1 {
        meta.push("1 attempt".into());
    }
    if task.iteration > 0 {
        meta.push(format!("iteration {}", task.iteration));
    }
    view! {
        <li
            data-testid=format!("task-row-{}", task.node_id)
            data-state=task.state.as_str()
            class=format!("flex items-start gap-3 px-4 py-2.5 {row_tone}")
        >
            <div class="pt-0.5">
                <NodeStateIcon state=task.state/>
            </div>
            <div class="min-w-0 flex-1">
                <div class="flex flex-wrap items-baseline gap-x-2">
                    <span class="truncate text-sm font-medium">{title}</span>
                    {show_id
                        .then(|| {
                            view! {
                                <span class="font-mono text-xs text-slate-400">{task.node_id.clone()}</span>
                            }
                        })}
                </div>
                <p class="text-xs text-slate-500 dark:text-slate-400">{meta.join(" · ")}</p>
                {task
                    .error
                    .clone()
                    .map(|e| {
                        view! {
                            <p class="mt-1 break-words text-xs text-red-600 dark:text-red-400">{e}</p>
                        }
                    })}
            </div>
            <div class="shrink-0 pt-0.5 text-xs text-slate-500 dark:text-slate-400">
                {if running || task.finished_at_ms.is_some() {
                    view! {
                        <LiveDuration
                            start=task.started_at_ms
                            end=task.finished_at_ms
                            server_now=server_now
                        />
                    }
                        .into_any()
                } else {
                    ().into_any()
                }}
            </div>
        </li>
    }
}

/// Output rows grouped by table, each expandable. `open` remembers which rows are
/// expanded so a live refresh doesn't fold them.
#[component]
pub fn Reports(outputs: Memo<Vec<OutputRow>>, open: RwSignal<HashSet<String>>) -> impl IntoView {
    move || {
        let rows = outputs.get();
        if rows.is_empty() {
            return view! {
                <p class="px-4 py-8 text-center text-sm text-slate-500 dark:text-slate-400">
                    "No reports yet. Tasks write them when they finish."
                </p>
            }
            .into_any();
        }
        let mut tables: Vec<(String, Vec<OutputRow>)> = Vec::new();
        for row in rows {
            match tables.iter_mut().find(|(t, _)| *t == row.table) {
                Some((_, list)) => list.push(row),
                None => tables.push((row.table.clone(), vec![row])),
            }
        }
        view! {
            <div class="divide-y divide-slate-200 dark:divide-slate-800">
                {tables
                    .into_iter()
                    .map(|(table, rows)| {
                        let count = rows.len();
                        view! {
                            <div data-testid=format!("report-table-{table}")>
                                <h3 class="flex items-center gap-2 bg-slate-50 px-4 py-2 text-xs font-semibold uppercase tracking-wide text-slate-500 dark:bg-slate-950/40 dark:text-slate-400">
                                    {humanize(&table)}
                                    <span class="rounded-full bg-slate-200 px-1.5 py-px text-[10px] font-medium text-slate-600 dark:bg-slate-800 dark:text-slate-300">
                                        {count}
                                    </span>
                                </h3>
                                <div class="divide-y divide-slate-100 dark:divide-slate-800">
                                    {rows
                                        .into_iter()
                                        .map(|row| view! { <ReportRow row open/> })
                                        .collect_view()}
                                </div>
                            </div>
                        }
                    })
                    .collect_view()}
            </div>
        }
        .into_any()
    }
}

#[component]
fn ReportRow(row: OutputRow, open: RwSignal<HashSet<String>>) -> impl IntoView {
    let key = format!(
        "{}/{}/{}",
        row.table,
        row.node_id.clone().unwrap_or_default(),
        row.iteration
    );
    let is_open = {
        let key = key.clone();
        move || open.with(|o| o.contains(&key))
    };
    let headline = row_headline(&row.fields);
    let node = row.node_id.clone().unwrap_or_else(|| "—".into());
    let on_toggle = move |ev: leptos::ev::Event| {
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            if let Some(d) = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlDetailsElement>().ok())
            {
                let now_open = d.open();
                open.update(|o| {
                    if now_open {
                        o.insert(key.clone());
                    } else {
                        o.remove(&key);
                    }
                });
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (ev, &key);
    };
    view! {
        <details class="group" open=is_open on:toggle=on_toggle>
            <summary class="flex cursor-pointer list-none items-center gap-3 px-4 py-2.5 text-sm hover:bg-slate-50 dark:hover:bg-slate-800/50">
                <Icon icon=I::ChevronDown class="h-4 w-4 shrink-0 -rotate-90 text-slate-400 transition group-open:rotate-0"/>
                <span class="shrink-0 font-mono text-xs text-slate-600 dark:text-slate-300">{node}</span>
                {(row.iteration > 0)
                    .then(|| {
                        view! {
                            <span class="shrink-0 rounded bg-slate-100 px-1.5 text-[11px] text-slate-500 dark:bg-slate-800 dark:text-slate-400">
                                {format!("iter {}", row.iteration)}
                            </span>
                        }
                    })}
                <span class="min-w-0 flex-1 truncate text-slate-500 dark:text-slate-400">
                    {headline.unwrap_or_default()}
                </span>
            </summary>
            <div class="px-4 pb-3 pl-11">
                <FieldList fields=row.fields/>
            </div>
        </details>
    }
}

/// Approved / changes requested per reviewer.
#[component]
pub fn Reviews(reviews: Memo<Vec<ReviewVerdict>>) -> impl IntoView {
    move || {
        let reviews = reviews.get();
        if reviews.is_empty() {
            return view! {
                <p class="px-4 py-8 text-center text-sm text-slate-500 dark:text-slate-400">
                    "No reviews yet."
                </p>
            }
            .into_any();
        }
        view! {
            <ul class="grid gap-3 p-4 sm:grid-cols-2">
                {reviews.into_iter().map(|r| view! { <ReviewCard review=r/> }).collect_view()}
            </ul>
        }
        .into_any()
    }
}

/// (approved, changes requested, pending) counts.
pub fn review_counts(reviews: &[ReviewVerdict]) -> (usize, usize, usize) {
    let approved = reviews.iter().filter(|r| r.approved == Some(true)).count();
    let rejected = reviews.iter().filter(|r| r.approved == Some(false)).count();
    (approved, rejected, reviews.len() - approved - rejected)
}

#[component]
fn ReviewCard(review: ReviewVerdict) -> impl IntoView {
    let (tone, icon, icon_tone, verdict) = match review.approved {
        Some(true) => (
            "border-emerald-200 dark:border-emerald-500/30",
            I::CheckCircle,
            "text-emerald-500",
            "✓ Approved",
        ),
        Some(false) => (
            "border-red-200 dark:border-red-500/30",
            I::XCircle,
            "text-red-500",
            "✗ Changes requested",
        ),
        None => (
            "border-slate-200 dark:border-slate-700",
            I::Clock,
            "text-slate-400",
            "No verdict",
        ),
    };
    let verdict_tone = match review.approved {
        Some(true) => "text-emerald-700 dark:text-emerald-400",
        Some(false) => "text-red-700 dark:text-red-400",
        None => "text-slate-500",
    };
    let testid = format!("review-{}", review.reviewer);
    let approved_attr = match review.approved {
        Some(true) => "true",
        Some(false) => "false",
        None => "unknown",
    };
    let issues = review.issues.clone();
    view! {
        <li
            data-testid=testid
            data-approved=approved_attr
            class=format!("rounded-lg border bg-white p-3 dark:bg-slate-900 {tone}")
        >
            <div class="flex items-start gap-2">
                <span class=format!("mt-0.5 {icon_tone}")>
                    <Icon icon=icon class="h-5 w-5"/>
                </span>
                <div class="min-w-0 flex-1">
                    <p class="text-sm font-semibold">{humanize(&review.reviewer)}</p>
                    <p class=format!("text-xs font-medium {verdict_tone}")>{verdict}</p>
                </div>
            </div>
            {review
                .summary
                .clone()
                .map(|s| {
                    view! { <p class="mt-2 text-sm text-slate-700 dark:text-slate-300">{s}</p> }
                })}
            {(!issues.is_empty())
                .then(|| {
                    view! {
                        <div class="mt-2">
                            <p class="text-xs font-medium uppercase tracking-wide text-slate-500">
                                {format!("Issues ({})", issues.len())}
                            </p>
                            <ul class="mt-1 list-disc space-y-0.5 pl-5 text-sm text-slate-700 marker:text-slate-400 dark:text-slate-300">
                                {issues.into_iter().map(|i| view! { <li>{i}</li> }).collect_view()}
                            </ul>
                        </div>
                    }
                })}
        </li>
    }
}

/// Tokens per model plus the run's total.
#[component]
pub fn TokenTable(tokens: Memo<Vec<TokenUsage>>, totals: Memo<TokenUsage>) -> impl IntoView {
    move || {
        let rows = tokens.get();
        if rows.is_empty() {
            return view! {
                <p class="px-4 py-6 text-center text-sm text-slate-500 dark:text-slate-400">
                    "No token usage reported by this run."
                </p>
            }
            .into_any();
        }
        let total = totals.get();
        let cell = "px-3 py-2 text-right tabular-nums";
        view! {
            <div class="overflow-x-auto">
                <table class="w-full text-sm" data-testid="token-table">
                    <thead class="text-xs text-slate-500 dark:text-slate-400">
                        <tr class="border-b border-slate-200 dark:border-slate-800">
                            <th class="px-4 py-2 text-left font-medium">"Model"</th>
                            <th class="px-3 py-2 text-right font-medium">"Input"</th>
                            <th class="px-3 py-2 text-right font-medium">"Output"</th>
                            <th class="px-3 py-2 text-right font-medium">"Cache read"</th>
                            <th class="px-3 py-2 text-right font-medium">"Cache write"</th>
                            <th class="px-3 py-2 text-right font-medium">"Reasoning"</th>
                            <th class="px-4 py-2 text-right font-medium">"Total"</th>
                        </tr>
                    </thead>
                    <tbody class="divide-y divide-slate-100 dark:divide-slate-800">
                        {rows
                            .into_iter()
                            .map(|t| {
                                view! {
                                    <tr>
                                        <td class="px-4 py-2 font-mono text-xs">{t.model.clone()}</td>
                                        <td class=cell>{thousands(t.input_tokens)}</td>
                                        <td class=cell>{thousands(t.output_tokens)}</td>
                                        <td class=cell>{thousands(t.cache_read_tokens)}</td>
                                        <td class=cell>{thousands(t.cache_write_tokens)}</td>
                                        <td class=cell>{thousands(t.reasoning_tokens)}</td>
                                        <td class="px-4 py-2 text-right font-medium tabular-nums">
                                            {thousands(t.total())}
                                        </td>
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
                    <tfoot>
                        <tr class="border-t border-slate-200 bg-slate-50 font-semibold dark:border-slate-800 dark:bg-slate-950/40">
                            <td class="px-4 py-2">"All models"</td>
                            <td class=cell>{thousands(total.input_tokens)}</td>
                            <td class=cell>{thousands(total.output_tokens)}</td>
                            <td class=cell>{thousands(total.cache_read_tokens)}</td>
                            <td class=cell>{thousands(total.cache_write_tokens)}</td>
                            <td class=cell>{thousands(total.reasoning_tokens)}</td>
                            <td class="px-4 py-2 text-right tabular-nums">{thousands(total.total())}</td>
                        </tr>
                    </tfoot>
                </table>
            </div>
        }
        .into_any()
    }
}

/// Events, newest first.
#[component]
pub fn Timeline(entries: Memo<Vec<TimelineEntry>>, server_now: Memo<i64>) -> impl IntoView {
    const FIRST: usize = 60;
    let show_all = RwSignal::new(false);
    move || {
        let mut list = entries.get();
        let now = server_now.get_untracked();
        list.sort_by_key(|e| std::cmp::Reverse(e.at_ms));
        let total = list.len();
        if total == 0 {
            return view! {
                <p class="px-4 py-6 text-center text-sm text-slate-500 dark:text-slate-400">
                    "Nothing has happened yet."
                </p>
            }
            .into_any();
        }
        let shown: Vec<TimelineEntry> = if show_all.get() {
            list
        } else {
            list.into_iter().take(FIRST).collect()
        };
        view! {
            <ol class="relative px-4 py-3">
                {shown
                    .into_iter()
                    .map(|e| {
                        let source_tone = if e.source == "fabrik" {
                            "bg-indigo-50 text-indigo-700 ring-indigo-200 dark:bg-indigo-500/10 dark:text-indigo-300 dark:ring-indigo-500/30"
                        } else {
                            "bg-violet-50 text-violet-700 ring-violet-200 dark:bg-violet-500/10 dark:text-violet-300 dark:ring-violet-500/30"
                        };
                        view! {
                            <li class="relative flex gap-3 pb-3 pl-5 before:absolute before:top-2 before:bottom-0 before:left-[5px] before:w-px before:bg-slate-200 last:pb-0 last:before:hidden dark:before:bg-slate-800">
                                <span class="absolute top-1.5 left-0 h-[11px] w-[11px] rounded-full border-2 border-white bg-slate-300 dark:border-slate-900 dark:bg-slate-600"></span>
                                <div class="min-w-0 flex-1">
                                    <div class="flex flex-wrap items-center gap-x-2 gap-y-0.5 text-xs">
                                        <time
                                            class="font-mono tabular-nums text-slate-600 dark:text-slate-300"
                                            title=format::datetime(e.at_ms)
                                            datetime=domain::time::rfc3339(e.at_ms)
                                        >
                                            {format::time_of_day(e.at_ms)}
                                        </time>
                                        <span class="text-slate-400">
                                            <RelativeTime at_ms=e.at_ms server_now=now/>
                                        </span>
                                        <span class=format!(
                                            "rounded px-1.5 py-px text-[10px] font-medium uppercase ring-1 ring-inset {source_tone}",
                                        )>{e.source.clone()}</span>
                                        <span class="font-mono text-slate-500 dark:text-slate-400">{e.kind.clone()}</span>
                                    </div>
                                    <p class="mt-0.5 break-words text-sm">{e.message.clone()}</p>
                                </div>
                            </li>
                        }
                    })
                    .collect_view()}
            </ol>
            {(total > FIRST && !show_all.get())
                .then(|| {
                    view! {
                        <div class="border-t border-slate-100 px-4 py-2 text-center dark:border-slate-800">
                            <button
                                type="button"
                                class="link text-sm"
                                on:click=move |_| show_all.set(true)
                            >
                                {format!("Show all {total} events")}
                            </button>
                        </div>
                    }
                })}
        }
        .into_any()
    }
}

/// How the process (or Job) is doing.
#[component]
pub fn ExecutionInfo(execution: Memo<Execution>) -> impl IntoView {
    move || {
        let e = execution.get();
        let state = format!("{:?}", e.state).to_lowercase();
        let state_tone = match e.state {
            domain::run::ExecState::Running => "text-blue-600 dark:text-blue-400",
            domain::run::ExecState::Lost => "text-red-600 dark:text-red-400",
            _ => "",
        };
        let exit = e.exit_code.map(|c| {
            let meaning = match c {
                domain::status::EXIT_FINISHED => " (finished)",
                domain::status::EXIT_FAILED => " (failed)",
                domain::status::EXIT_CANCELLED => " (cancelled)",
                domain::status::EXIT_WAITING_APPROVAL => " (waiting for approval)",
                _ => "",
            };
            format!("{c}{meaning}")
        });
        view! {
            <dl class="divide-y divide-slate-100 text-sm dark:divide-slate-800" data-testid="execution">
                <InfoRow label="Backend">{e.backend.clone()}</InfoRow>
                <InfoRow label="State">
                    <span class=format!("font-medium capitalize {state_tone}")>{state}</span>
                </InfoRow>
                <InfoRow label="Protection">
                    <span data-testid="protection">{e.protection.clone()}</span>
                </InfoRow>
                <InfoRow label="Exit code">
                    <span class="font-mono">{exit.unwrap_or_else(|| "—".into())}</span>
                </InfoRow>
                {e.options.describe().map(|settings| view! {
                    <InfoRow label="Settings">
                        <span class="break-words" data-testid="run-settings">{settings}</span>
                    </InfoRow>
                })}
                {e
                    .detail
                    .clone()
                    .map(|d| {
                        view! {
                            <InfoRow label="Detail">
                                <span class="break-words">{d}</span>
                            </InfoRow>
                        }
                    })}
            </dl>
        }
    }
}

#[component]
pub fn InfoRow(label: &'static str, children: Children) -> impl IntoView {
    view! {
        <div class="flex gap-4 px-4 py-2">
            <dt class="w-24 shrink-0 text-slate-500 dark:text-slate-400">{label}</dt>
            <dd class="min-w-0 flex-1 text-right sm:text-left">{children()}</dd>
        </div>
    }
}

/// One human gate: requested, and who decided what.
#[component]
pub fn GateSummary(gate: GateView, server_now: i64) -> impl IntoView {
    let (word, tone) = match gate.status {
        GateStatus::Requested => (
            "Waiting for a decision",
            "text-amber-700 dark:text-amber-400",
        ),
        GateStatus::Approved => ("Approved", "text-emerald-700 dark:text-emerald-400"),
        GateStatus::Denied => ("Rejected", "text-red-700 dark:text-red-400"),
    };
    view! {
        <dl class="divide-y divide-slate-100 text-sm dark:divide-slate-800">
            <InfoRow label="Gate">
                <span class="font-mono text-xs">{gate.node_id.clone()}</span>
            </InfoRow>
            <InfoRow label="Status">
                <span class=format!("font-medium {tone}")>{word}</span>
            </InfoRow>
            {gate
                .requested_at_ms
                .map(|at| {
                    view! {
                        <InfoRow label="Requested">
                            <RelativeTime at_ms=at server_now/>
                        </InfoRow>
                    }
                })}
            {gate
                .decided_by
                .clone()
                .map(|who| {
                    view! { <InfoRow label="Decided by">{who}</InfoRow> }
                })}
            {gate
                .decided_at_ms
                .map(|at| {
                    view! {
                        <InfoRow label="Decided">
                            <RelativeTime at_ms=at server_now/>
                        </InfoRow>
                    }
                })}
            {gate
                .note
                .clone()
                .map(|n| {
                    view! {
                        <InfoRow label="Note">
                            <span class="whitespace-pre-wrap break-words">{n}</span>
                        </InfoRow>
                    }
                })}
        </dl>
    }
}
