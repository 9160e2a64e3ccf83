//! `/runs`: every run, newest first, filtered by the URL query, updated live; its board
//! (`/runs/board`) and activity feed (`/runs/activity`) views.
pub(crate) mod activity;
pub(crate) mod board;

use crate::browser::lowercase;
use crate::components::{
    ErrorBanner, Icon, LiveDuration, NeedsFeedbackBadge, PageTab, ProgressBar, RelativeTime,
    StatusBadge, TabBar, I,
};
use crate::error::AppError;
use crate::format::short_id;
use crate::live::{on_live, LiveMsg};
use crate::server_fns::{list_runs, RunListing};
use crate::session::use_session;
use domain::auth::Action;
use domain::filter::RunFilter;
use domain::run::{RunStatus, RunSummary};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{Outlet, Redirect};
use leptos_router::hooks::{use_location, use_navigate, use_query_map};

/// The query keys `RunFilter::from_pairs` understands.
const KEYS: [&str; 8] = [
    "status", "template", "spec", "q", "from", "to", "limit", "cursor",
];
/// At most this many live-inserted rows above the page.
const MAX_INSERTED: usize = 50;

/// `/runs?…` for a filter.
pub fn runs_href(filter: &RunFilter) -> String {
    let q = filter.to_query();
    if q.is_empty() {
        "/runs".into()
    } else {
        format!("/runs?{q}")
    }
}

/// `/runs` and its views: the heading and the view tabs, around the list (here), the
/// board or the activity feed (lazy routes of their own: `/runs/board`, `/runs/activity`).
#[component]
pub fn RunsPage() -> impl IntoView {
    let location = use_location();
    let blurb = move || match location.pathname.get().as_str() {
        "/runs/board" => "The active runs' tasks, lane by lane. Updates live.",
        "/runs/activity" => "What happened to runs lately, newest first. Updates live.",
        _ => "Every run, newest first. Status, progress and new runs update live.",
    };

    view! {
        <Title text="Runs"/>
        <div class="page space-y-5">
            <div class="flex flex-wrap items-end justify-between gap-4">
                <div>
                    <h1 class="text-2xl font-semibold tracking-tight">"Runs"</h1>
                    <p class="mt-1 text-sm text-slate-500 dark:text-slate-400">{blurb}</p>
                </div>
                {match use_session().refusal(Action::Dispatch) {
                    None => view! {
                        <a href="/dispatch" class="btn btn-primary" data-testid="runs-dispatch-link">
                            <Icon icon=I::Plus class="h-4 w-4"/>
                            "Dispatch run"
                        </a>
                    }
                    .into_any(),
                    Some(why) => view! {
                        <span title=why class="inline-flex">
                            <button type="button" class="btn btn-primary" data-testid="runs-dispatch-link" data-denied="true" disabled>
                                <Icon icon=I::Plus class="h-4 w-4"/>
                                "Dispatch run"
                            </button>
                        </span>
                    }
                    .into_any(),
                }}
            </div>
            <TabBar label="Runs views">
                <PageTab href="/runs" testid="runs-view-list" icon=I::List label="List"/>
                <PageTab href="/runs/board" testid="runs-view-board" icon=I::Square label="Board"/>
                <PageTab href="/runs/activity" testid="runs-view-activity" icon=I::Clock label="Activity"/>
            </TabBar>
            <Outlet/>
        </div>
    }
}

/// `/runs?view=board` and `?view=activity`, the views' addresses before they had paths
/// of their own, still lead there.
fn old_view_address(query: &leptos_router::params::ParamsMap) -> Option<&'static str> {
    match query.get_str("view") {
        Some("board") => Some("/runs/board"),
        Some("activity") => Some("/runs/activity"),
        _ => None,
    }
}

/// The filtered, paged list with its export links.
#[component]
pub fn RunsListView() -> impl IntoView {
    let query = use_query_map();
    if let Some(path) = query.with_untracked(old_view_address) {
        return view! { <Redirect path/> }.into_any();
    }
    let filter = Memo::new(move |_| {
        query.with(|q| {
            let pairs: Vec<(&str, &str)> = KEYS
                .iter()
                .filter_map(|k| q.get_str(k).map(|v| (*k, v)))
                .collect();
            RunFilter::from_pairs(pairs).map_err(AppError::from)
        })
    });
    let runs = Resource::new(
        move || filter.get(),
        |f| async move {
            match f {
                Ok(f) => list_runs(f).await,
                Err(e) => Err(e),
            }
        },
    );

    // Back after an interruption: events may have been missed.
    on_live(move |msg| {
        if *msg == LiveMsg::Resync {
            runs.refetch();
        }
    });

    let loading = RwSignal::new(false);
    let export = move |format: &str| {
        let mut f = filter.get().unwrap_or_default();
        f.limit = None;
        f.cursor = None;
        let q = f.to_query();
        let sep = if q.is_empty() { "" } else { "&" };
        format!("/api/v1/runs?format={format}{sep}{q}")
    };

    let listing = move || {
        Suspend::new(async move {
            let f = filter.get();
            match (runs.await, f) {
                (Ok(listing), Ok(f)) => view! { <RunsList listing filter=f/> }.into_any(),
                (Err(e), _) | (_, Err(e)) => view! {
                    <ErrorBanner error=e>
                        <a href="/runs" class="link font-medium">"Clear filters"</a>
                    </ErrorBanner>
                }
                .into_any(),
            }
        })
    };
    // Only the browser gets the "Loading…" hint. On the server, `set_pending` starts an
    // isomorphic effect that reads the Transition's task list from a tokio worker while
    // the render writes it; leptos reads it with a try-lock and panics ("already been
    // disposed") when the lock is taken, and that render's memory was never freed
    // (`fabrik-bench ssr`: panics in 3 runs of 5, RSS 100 MB after them instead of 55).
    #[cfg(feature = "hydrate")]
    let list = view! {
        <Transition fallback=|| view! { <TableSkeleton/> } set_pending=loading>{listing}</Transition>
    };
    #[cfg(not(feature = "hydrate"))]
    let list = view! { <Transition fallback=|| view! { <TableSkeleton/> }>{listing}</Transition> };

    view! {
        <FilterBar query filter loading/>
        <div class="flex justify-end gap-2 text-sm">
            <a href=move || export("csv") download="fabrik-runs.csv" class="btn btn-secondary" data-testid="runs-export-csv">
                <Icon icon=I::Download class="h-4 w-4"/>"CSV"
            </a>
            <a href=move || export("json") download="fabrik-runs.json" class="btn btn-secondary" data-testid="runs-export-json">
                <Icon icon=I::Download class="h-4 w-4"/>"JSON"
            </a>
        </div>
        {list}
    }
    .into_any()
}

#[component]
fn FilterBar(
    query: Memo<leptos_router::params::ParamsMap>,
    filter: Memo<Result<RunFilter, AppError>>,
    loading: RwSignal<bool>,
) -> impl IntoView {
    let raw = move |k: &str| query.with_untracked(|q| q.get(k).unwrap_or_default());
    let status_value = |raw: String| {
        RunStatus::parse(&raw)
            .map(|s| s.as_str().to_string())
            .unwrap_or_default()
    };
    let status = RwSignal::new(status_value(raw("status")));
    let template = RwSignal::new(raw("template"));
    let spec = RwSignal::new(raw("spec"));
    let q = RwSignal::new(raw("q"));
    let from = RwSignal::new(raw("from"));
    let to = RwSignal::new(raw("to"));
    let form_error = RwSignal::new(None::<AppError>);
    // On phones the less-used fields fold away unless one of them is set.
    let more = RwSignal::new(
        ["template", "spec", "from", "to"]
            .iter()
            .any(|k| !raw(k).is_empty()),
    );
    // On phones the less-used filters fold away behind "More filters".
    let folded = Signal::derive(move || !more.get());

    // Back/forward and links change the URL: show what it says.
    Effect::new(move |_| {
        query.with(|p| {
            let get = |k: &str| p.get(k).unwrap_or_default();
            status.set(status_value(get("status")));
            template.set(get("template"));
            spec.set(get("spec"));
            q.set(get("q"));
            from.set(get("from"));
            to.set(get("to"));
        });
        form_error.set(None);
    });

    let navigate = use_navigate();
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let values = [
            ("status", status.get_untracked()),
            ("template", template.get_untracked()),
            ("spec", spec.get_untracked()),
            ("q", q.get_untracked()),
            ("from", from.get_untracked()),
            ("to", to.get_untracked()),
        ];
        match RunFilter::from_pairs(values.iter().map(|(k, v)| (*k, v.as_str()))) {
            Ok(mut f) => {
                form_error.set(None);
                // Keep the page size; a new filter starts at the first page.
                f.limit = filter.get_untracked().ok().and_then(|old| old.limit);
                f.cursor = None;
                navigate(&runs_href(&f), Default::default());
            }
            Err(e) => form_error.set(Some(e.into())),
        }
    };
    let has_filters = move || filter.with(|f| f.as_ref().map(|f| !f.is_empty()).unwrap_or(true));

    view! {
        <form
            role="search"
            method="get"
            action="/runs"
            on:submit=on_submit
            class="card p-4"
            data-testid="runs-filters"
        >
            <div class="grid gap-3 sm:grid-cols-2 md:grid-cols-4 lg:grid-cols-6">
                <label class="sm:col-span-2 md:col-span-4 lg:col-span-3">
                    <span class="label">"Search"</span>
                    <span class="relative mt-1 block">
                        <span class="pointer-events-none absolute inset-y-0 left-3 flex items-center text-slate-400">
                            <Icon icon=I::Search class="h-4 w-4"/>
                        </span>
                        <input
                            type="search"
                            name="q"
                            data-testid="filter-q"
                            placeholder="Run id, spec, template, task…"
                            autocomplete="off"
                            class="input pl-9"
                            prop:value=move || q.get()
                            on:input=move |ev| q.set(event_target_value(&ev))
                        />
                    </span>
                </label>
                <label>
                    <span class="label">"Status"</span>
                    <select
                        name="status"
                        data-testid="filter-status"
                        class="input mt-1"
                        prop:value=move || status.get()
                        on:change=move |ev| status.set(event_target_value(&ev))
                    >
                        <option value="" selected=move || status.get().is_empty()>"All statuses"</option>
                        {RunStatus::ALL
                            .into_iter()
                            .map(|s| {
                                let text = match s {
                                    RunStatus::WaitingApproval => "Blocked — needs feedback",
                                    RunStatus::Pending => "Pending",
                                    RunStatus::Running => "Running",
                                    RunStatus::Finished => "Finished",
                                    RunStatus::Failed => "Failed",
                                    RunStatus::Cancelled => "Cancelled",
                                };
                                view! {
                                    <option value=s.as_str() selected=move || status.get() == s.as_str()>
                                        {text}
                                    </option>
                                }
                            })
                            .collect_view()}
                    </select>
                </label>
                <FilterInput label="Template" name="template" kind="text" value=template folded/>
                <FilterInput label="Spec" name="spec" kind="text" value=spec folded/>
                <FilterInput label="Created from" name="from" kind="date" value=from folded/>
                <FilterInput label="Created to" name="to" kind="date" value=to folded/>
                <div class="flex flex-wrap items-end gap-2 sm:col-span-2 md:col-span-3 md:justify-end lg:col-span-4">
                    <button
                        type="button"
                        class="btn btn-ghost sm:hidden"
                        aria-expanded=move || more.get().to_string()
                        on:click=move |_| more.update(|m| *m = !*m)
                    >
                        {move || if more.get() { "Fewer filters" } else { "More filters" }}
                    </button>
                    <Show when=move || loading.get()>
                        <span class="self-center text-xs text-slate-500 lg:mr-2" data-testid="runs-loading">
                            "Loading…"
                        </span>
                    </Show>
                    <Show when=has_filters>
                        <a href="/runs" class="btn btn-ghost" data-testid="filter-clear">
                            <Icon icon=I::X class="h-4 w-4"/>
                            "Clear"
                        </a>
                    </Show>
                    <button type="submit" class="btn btn-primary ml-auto md:ml-0" data-testid="filter-apply">
                        <Icon icon=I::Filter class="h-4 w-4"/>
                        "Apply filters"
                    </button>
                </div>
            </div>
            {move || form_error.get().map(|e| view! {
                <div class="mt-3"><ErrorBanner error=e testid="form-error"/></div>
            })}
        </form>
    }
}

/// One loaded page, with live changes applied on top: rows on the page update in
/// place, and new runs that match the filter appear at the top of the first page.
#[component]
fn RunsList(listing: RunListing, filter: RunFilter) -> impl IntoView {
    let server_now = listing.now_ms;
    let base = listing.page.runs;
    let next_cursor = listing.page.next_cursor;
    let on_later_page = filter.cursor.is_some();

    // The page's rows as the live stream last sent them (at most a page: a list, not a
    // hash map, which would be one more map type in the main WASM module).
    let overrides = RwSignal::new(Vec::<RunSummary>::new());
    let inserted = RwSignal::new(Vec::<RunSummary>::new());
    {
        let on_page: Vec<String> = base.iter().map(|r| r.run_id.clone()).collect();
        let newest = base.first().map(|r| r.created_at_ms);
        let filter = filter.clone();
        on_live(move |msg| {
            let LiveMsg::Run(run) = msg else {
                return;
            };
            let run: &RunSummary = run;
            let id = run.run_id.as_str();
            if inserted.with_untracked(|v| v.iter().any(|r| r.run_id == id)) {
                inserted.update(|v| {
                    if let Some(r) = v.iter_mut().find(|r| r.run_id == id) {
                        *r = run.clone();
                    }
                });
            } else if on_page.iter().any(|r| r == id) {
                overrides.update(|o| match o.iter_mut().find(|r| r.run_id == id) {
                    Some(r) => *r = run.clone(),
                    None => o.push(run.clone()),
                });
            } else if !on_later_page
                && newest.is_none_or(|n| run.created_at_ms >= n)
                && filter.matches_lowering(run, lowercase)
            {
                inserted.update(|v| {
                    v.insert(0, run.clone());
                    v.truncate(MAX_INSERTED);
                });
            }
        });
    }

    let rows = move || {
        let extra = inserted.get();
        let changed = overrides.get();
        let mut out: Vec<(RunSummary, bool)> = extra.iter().cloned().map(|r| (r, true)).collect();
        for r in &base {
            if extra.iter().any(|e| e.run_id == r.run_id) {
                continue;
            }
            match changed.iter().find(|c| c.run_id == r.run_id) {
                Some(newer) => out.push((newer.clone(), true)),
                None => out.push((r.clone(), false)),
            }
        }
        out
    };
    let count = {
        let rows = rows.clone();
        move || rows().len()
    };
    let empty = {
        let count = count.clone();
        move || count() == 0
    };

    let first_href = runs_href(&RunFilter {
        cursor: None,
        ..filter.clone()
    });
    let next_href = next_cursor.map(|c| {
        runs_href(&RunFilter {
            cursor: Some(c),
            ..filter.clone()
        })
    });
    let filtered = !filter.is_empty();
    let may_dispatch = use_session().can(Action::Dispatch);

    view! {
        <Show
            when=move || !empty()
            fallback=move || {
                if on_later_page {
                    view! {
                        <div data-testid="runs-empty" class="empty-box">
                            <h3 class="text-base font-semibold">"No more runs"</h3>
                            <p class="mt-1 text-sm text-slate-500 dark:text-slate-400">"You have reached the end of the list."</p>
                            <a href=first_href.clone() class="btn btn-secondary mt-5">"First page"</a>
                        </div>
                    }
                    .into_any()
                } else if filtered {
                    view! {
                        <div data-testid="runs-empty" data-reason="filtered" class="empty-box">
                            <div class="empty-icon"><Icon icon=I::Filter class="h-6 w-6"/></div>
                            <h3 class="mt-4 text-base font-semibold">"No runs match these filters"</h3>
                            <p class="mt-1 text-sm text-slate-500 dark:text-slate-400">
                                "Try fewer filters or a wider date range. New runs that match appear here live."
                            </p>
                            <a href="/runs" class="btn btn-secondary mt-5">"Clear filters"</a>
                        </div>
                    }
                    .into_any()
                } else if !may_dispatch {
                    view! {
                        <div data-testid="runs-empty" data-reason="none" class="empty-box">
                            <div class="empty-icon"><Icon icon=I::List class="h-6 w-6"/></div>
                            <h3 class="mt-4 text-base font-semibold">"No runs yet"</h3>
                            <p class="mt-1 max-w-md text-sm text-slate-500 dark:text-slate-400">
                                "When an operator or admin dispatches a run, it shows up here, live."
                            </p>
                        </div>
                    }
                    .into_any()
                } else {
                    view! {
                        <div data-testid="runs-empty" data-reason="none" class="empty-box">
                            <div class="empty-icon"><Icon icon=I::Send class="h-6 w-6"/></div>
                            <h3 class="mt-4 text-base font-semibold">
                                "No runs yet — "
                                <a href="/dispatch" class="link">"Dispatch one"</a>
                            </h3>
                            <p class="mt-1 max-w-md text-sm text-slate-500 dark:text-slate-400">
                                "Pick a template (try the bundled demo) and the run shows up here, live."
                            </p>
                            <a href="/dispatch" class="btn btn-primary mt-5">
                                <Icon icon=I::Plus class="h-4 w-4"/>
                                "Dispatch a run"
                            </a>
                        </div>
                    }
                    .into_any()
                }
            }
        >
            <div class="card overflow-hidden">
                <table data-testid="runs-table" class="runs-table w-full text-sm">
                    <thead class="table-head">
                        <tr>
                            <th scope="col" class="px-4 py-2.5">"Run"</th>
                            <th scope="col" class="px-3 py-2.5">"Spec"</th>
                            <th scope="col" class="hidden px-3 py-2.5 lg:table-cell">"Template"</th>
                            <th scope="col" class="px-3 py-2.5">"Status"</th>
                            <th scope="col" class="px-3 py-2.5">"Current task"</th>
                            <th scope="col" class="px-3 py-2.5">"Progress"</th>
                            <th scope="col" class="px-3 py-2.5">"Duration"</th>
                            <th scope="col" class="hidden px-4 py-2.5 lg:table-cell">"Created"</th>
                        </tr>
                    </thead>
                    <tbody class="divide-y divide-slate-100 dark:divide-slate-800">
                        <For
                            each=rows.clone()
                            key=|(r, fresh)| row_key(r, *fresh)
                            children=move |(run, fresh)| view! { <RunRow run fresh server_now/> }
                        />
                    </tbody>
                </table>
            </div>
        </Show>
        <nav class="flex flex-wrap items-center justify-between gap-3" aria-label="Pages">
            <p class="text-sm text-slate-500 dark:text-slate-400" data-testid="runs-count">
                {move || match count() {
                    0 => String::new(),
                    1 => "1 run".to_string(),
                    n => format!("{n} runs"),
                }}
                {on_later_page.then_some(" · later page")}
            </p>
            <div class="flex gap-2">
                {on_later_page.then(|| view! {
                    <a href=runs_href(&RunFilter { cursor: None, ..filter.clone() }) class="btn btn-secondary" data-testid="first-page">
                        "First page"
                    </a>
                })}
                {next_href.map(|href| view! {
                    <a href=href class="btn btn-secondary" data-testid="next-page">
                        "Next page"
                        <Icon icon=I::ArrowRight class="h-4 w-4"/>
                    </a>
                })}
            </div>
        </nav>
    }
}

/// A row is redrawn when anything in it changed (a hash of the row, not its JSON: this
/// runs for every row of every render).
fn row_key(run: &RunSummary, fresh: bool) -> (bool, u64) {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::hash::DefaultHasher::new();
    run.hash(&mut hasher);
    (fresh, hasher.finish())
}

#[component]
fn RunRow(run: RunSummary, fresh: bool, server_now: i64) -> impl IntoView {
    let href = format!("/runs/{}", run.run_id);
    let navigate = use_navigate();
    let row_href = href.clone();
    let on_click = move |ev: leptos::ev::MouseEvent| {
        // The whole row opens the run, unless a link inside it was clicked.
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            let inside_link = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                .and_then(|el| el.closest("a").ok().flatten())
                .is_some();
            let selecting = window()
                .get_selection()
                .ok()
                .flatten()
                .is_some_and(|s| !s.is_collapsed());
            if !inside_link && !selecting {
                navigate(&row_href, Default::default());
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (ev, &navigate, &row_href);
    };
    let status = run.status;
    view! {
        <tr
            data-testid=format!("run-row-{}", run.run_id)
            data-status=status.as_str()
            class=if fresh { "run-row row-flash" } else { "run-row" }
            on:click=on_click
        >
            <td class="c-id">
                <a href=href data-testid="run-link" title=run.run_id.clone() class="run-id">
                    {short_id(&run.run_id)}
                </a>
            </td>
            <td class="c-spec" data-label="Spec">
                <span class="cell-text" title=run.spec.clone().unwrap_or_default()>
                    {run.spec.clone().unwrap_or_else(|| "—".into())}
                </span>
            </td>
            <td class="c-template" data-label="Template">
                <span class="chip">
                    {run.template.clone()}
                </span>
            </td>
            <td class="c-status">
                <div class="cell-badges">
                    <StatusBadge status/>
                    {run.needs_feedback.then(|| view! { <NeedsFeedbackBadge run_id=run.run_id.clone()/> })}
                </div>
            </td>
            <td class="c-task" data-label="Task">
                <span class="cell-mono" title=run.task.clone().unwrap_or_default()>
                    {run.task.clone().unwrap_or_else(|| "—".into())}
                </span>
            </td>
            <td class="c-progress" data-label="Progress">
                <ProgressBar progress=run.progress status/>
            </td>
            <td class="c-duration" data-label="Duration">
                <LiveDuration start=run.started_at_ms end=run.finished_at_ms server_now/>
            </td>
            <td class="c-created" data-label="Created">
                <RelativeTime at_ms=run.created_at_ms server_now/>
            </td>
        </tr>
    }
}

#[component]
fn TableSkeleton() -> impl IntoView {
    view! {
        <div class="card animate-pulse divide-y divide-slate-100 dark:divide-slate-800" aria-busy="true" aria-label="Loading runs">
            {(0..6)
                .map(|_| view! {
                    <div class="flex items-center gap-4 px-4 py-4">
                        <div class="h-3 w-24 rounded bg-slate-200 dark:bg-slate-800"></div>
                        <div class="h-3 flex-1 rounded bg-slate-200 dark:bg-slate-800"></div>
                        <div class="h-5 w-20 rounded-full bg-slate-200 dark:bg-slate-800"></div>
                        <div class="hidden h-2 w-32 rounded bg-slate-200 sm:block dark:bg-slate-800"></div>
                    </div>
                })
                .collect_view()}
        </div>
    }
}

/// One of the foldable filter fields: a labelled input bound to its signal.
#[component]
fn FilterInput(
    label: &'static str,
    name: &'static str,
    kind: &'static str,
    value: RwSignal<String>,
    folded: Signal<bool>,
) -> impl IntoView {
    let class = move || if folded.get() { "max-sm:hidden" } else { "" };
    let placeholder = (kind == "text").then_some("Any");
    view! {
        <label class=class>
            <span class="label">{label}</span>
            <input
                type=kind
                name=name
                data-testid=format!("filter-{name}")
                placeholder=placeholder
                autocomplete="off"
                class="input mt-1"
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))
            />
        </label>
    }
}
