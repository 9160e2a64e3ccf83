//! `/runs/:id`: everything about one run, kept live.
use super::run_data::{set_page_status, use_run_data, RunData};
use super::run_parts::{
    review_counts, Card, ExecutionInfo, GateSummary, Reports, Reviews, TaskList, Timeline,
    TokenTable,
};
use crate::components::log_panel::LogPanel;
use crate::components::{
    ErrorBanner, Icon, LiveDuration, NeedsFeedbackBadge, ProgressBar, RelativeTime, StatusBadge,
    WarningBanner, I,
};
use crate::format::short_id;
use crate::server_fns::{CancelRun, ResumeRun};
use crate::session::use_session;
use domain::auth::Action;
use domain::run::RunDetail;
use leptos::prelude::*;
use leptos_meta::Title;
use std::collections::HashSet;

/// While a run is active, refetch this often so a silent writer shows up as stale.
#[cfg(feature = "hydrate")]
const POLL_SECS: u64 = 5;

#[component]
pub fn RunPage() -> impl IntoView {
    run_frame(
        "Run",
        |_| "/runs".into(),
        "Runs",
        |data, initial| view! { <RunView data initial/> }.into_any(),
    )
}

/// What `/runs/:id` and its feedback page share: the title, a back link, and the run
/// loaded once with its skeleton, not-found and error states; `body` shows the run.
pub fn run_frame(
    title_prefix: &'static str,
    back_href: impl Fn(&str) -> String + Send + Sync + 'static,
    back_label: &'static str,
    body: fn(RunData, RunDetail) -> AnyView,
) -> impl IntoView {
    let data = use_run_data();
    // try_get: a page torn down mid-render (the browser navigated away) has no id.
    let title = move || {
        format!(
            "{title_prefix} {}",
            short_id(&data.id.try_get().unwrap_or_default())
        )
    };
    let href = move || back_href(&data.id.try_get().unwrap_or_default());
    view! {
        <Title text=title/>
        <div class="page space-y-6">
            <a href=href class="back-link">
                <Icon icon=I::ArrowLeft class="h-4 w-4"/>
                {back_label}
            </a>
            <Transition fallback=|| view! { <RunSkeleton/> }>
                {move || Suspend::new(async move {
                    match data.resource.await {
                        Ok(initial) => body(data, initial),
                        Err(e) if e.is_not_found() => {
                            set_page_status(404);
                            view! { <RunNotFound message=e.message/> }.into_any()
                        }
                        Err(e) => view! { <ErrorBanner error=e/> }.into_any(),
                    }
                })}
            </Transition>
        </div>
    }
}

#[component]
fn RunView(data: RunData, initial: RunDetail) -> impl IntoView {
    let run_id = initial.summary.run_id.clone();
    let log_bytes = initial.log_bytes;
    let detail = data.current(initial);

    let summary = Memo::new(move |_| detail.with(|d| d.summary.clone()));
    let status = Signal::derive(move || summary.with(|s| s.status));
    let actions = Memo::new(move |_| detail.with(|d| d.actions));
    let server_now = Memo::new(move |_| detail.with(|d| d.now_ms));
    let heartbeat = Memo::new(move |_| detail.with(|d| d.heartbeat.clone()));
    let problem = Memo::new(move |_| detail.with(|d| d.source.problem.clone()));
    let execution = Memo::new(move |_| detail.with(|d| d.execution.clone()));
    let tasks = Memo::new(move |_| detail.with(|d| d.smithers.tasks.clone()));
    let outputs = Memo::new(move |_| detail.with(|d| d.smithers.outputs.clone()));
    let reviews = Memo::new(move |_| detail.with(|d| d.smithers.reviews.clone()));
    let tokens = Memo::new(move |_| detail.with(|d| d.smithers.tokens.clone()));
    let totals = Memo::new(move |_| detail.with(|d| d.token_totals()));
    let cost = Memo::new(move |_| {
        detail.with(|d| match (d.cost_usd, d.smithers.tokens.is_empty()) {
            (_, true) => String::new(),
            (Some(usd), false) => format!("estimated {}", domain::metrics::usd(usd)),
            (None, false) => "no price for a model used".into(),
        })
    });
    let timeline = Memo::new(move |_| detail.with(|d| d.timeline.clone()));
    let grafana = Memo::new(move |_| detail.with(|d| d.grafana_url.clone()));
    let gate =
        Memo::new(move |_| detail.with(|d| d.open_gate().or_else(|| d.decided_gate()).cloned()));

    // What this user's role may not do: the buttons stay visible but disabled, and say why.
    let session = use_session();
    let no_cancel = session.refusal(Action::Cancel);
    let no_resume = session.refusal(Action::Resume);
    let may_decide = session.can(Action::DecideGate);

    let cancel = ServerAction::<CancelRun>::new();
    let resume = ServerAction::<ResumeRun>::new();
    let confirm_cancel = RwSignal::new(false);
    let open_rows = RwSignal::new(HashSet::<String>::new());

    // Show the new state as soon as an action is done.
    Effect::new(move |_| {
        if let Some(Ok(_)) = cancel.value().get() {
            confirm_cancel.set(false);
            data.refresh();
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(_)) = resume.value().get() {
            data.refresh();
        }
    });

    #[cfg(feature = "hydrate")]
    {
        let handle = set_interval_with_handle(
            move || {
                let active = matches!(
                    status.try_get_untracked(),
                    Some(domain::run::RunStatus::Running | domain::run::RunStatus::Pending)
                );
                if active && !document().hidden() {
                    data.refresh();
                }
            },
            std::time::Duration::from_secs(POLL_SECS),
        );
        if let Ok(h) = handle {
            on_cleanup(move || h.clear());
        }
    }

    let id_for_cancel = run_id.clone();
    let id_for_resume = run_id.clone();
    let id_for_feedback = run_id.clone();
    let id_for_log = run_id.clone();

    view! {
        // Header
        <section class="card p-4 sm:p-6" data-testid="run-header">
            <div class="flex flex-wrap items-start gap-4">
                <div class="min-w-0 flex-1">
                    <div class="flex flex-wrap items-center gap-x-3 gap-y-2">
                        <h1 class="text-lg font-semibold tracking-tight sm:text-xl">
                            <span class="text-slate-500 dark:text-slate-400">"Run "</span>
                            <span class="break-all font-mono" data-testid="run-id">{run_id.clone()}</span>
                        </h1>
                        {move || {
                            let s = summary.get();
                            view! {
                                <StatusBadge status=s.status testid="run-status" large=true/>
                                {s.needs_feedback.then(|| view! { <NeedsFeedbackBadge run_id=s.run_id.clone()/> })}
                            }
                        }}
                    </div>
                    <p class="mt-1.5 flex flex-wrap items-center gap-x-2 gap-y-1 text-sm max-sm:flex-col max-sm:items-start text-slate-500 dark:text-slate-400">
                        {move || {
                            let s = summary.get();
                            let now = server_now.get_untracked();
                            view! {
                                <span>
                                    "Template "
                                    <span class="font-medium text-slate-700 dark:text-slate-200" data-testid="run-template">
                                        {s.template.clone()}
                                    </span>
                                </span>
                                <span aria-hidden="true" class="max-sm:hidden">"·"</span>
                                <span class="min-w-0 break-all">
                                    "Spec "
                                    <span class="font-mono text-xs text-slate-700 dark:text-slate-200" data-testid="run-spec">
                                        {s.spec.clone().unwrap_or_else(|| "none".into())}
                                    </span>
                                </span>
                                {s.project.clone().map(|p| view! {
                                    <span aria-hidden="true" class="max-sm:hidden">"·"</span>
                                    <span>"Project " <span class="font-medium text-slate-700 dark:text-slate-200">{p}</span></span>
                                })}
                                <span aria-hidden="true" class="max-sm:hidden">"·"</span>
                                <span>"Created " <RelativeTime at_ms=s.created_at_ms server_now=now/></span>
                            }
                        }}
                    </p>
                </div>
                <div class="flex flex-wrap gap-2">
                    {move || {
                        let a = actions.get();
                        let resume_id = id_for_resume.clone();
                        let no_resume = no_resume.clone();
                        let no_cancel = no_cancel.clone();
                        view! {
                            {a.resume.then(|| {
                                let id = resume_id.clone();
                                let denied = no_resume.is_some();
                                view! {
                                    <span title=no_resume.clone() class="inline-flex">
                                        <button
                                            type="button"
                                            data-testid="resume-button"
                                            data-denied=denied.then_some("true")
                                            class="btn btn-secondary"
                                            disabled=move || denied || resume.pending().get()
                                            on:click=move |_| {
                                                resume.dispatch(ResumeRun { run_id: id.clone() });
                                            }
                                        >
                                            <Icon icon=I::Rotate class="h-4 w-4"/>
                                            {move || if resume.pending().get() { "Resuming…" } else { "Resume" }}
                                        </button>
                                    </span>
                                }
                            })}
                            {a.cancel.then(|| {
                                let denied = no_cancel.is_some();
                                view! {
                                    <span title=no_cancel.clone() class="inline-flex">
                                        <button
                                            type="button"
                                            data-testid="cancel-button"
                                            data-denied=denied.then_some("true")
                                            class="btn btn-danger-outline"
                                            disabled=denied
                                            aria-expanded=move || confirm_cancel.get().to_string()
                                            on:click=move |_| confirm_cancel.update(|c| *c = !*c)
                                        >
                                            <Icon icon=I::Square class="h-4 w-4"/>
                                            "Cancel run"
                                        </button>
                                    </span>
                                }
                            })}
                        }
                    }}
                </div>
            </div>

            <Show when=move || confirm_cancel.get() && actions.with(|a| a.cancel)>
                {
                    let id = id_for_cancel.clone();
                    view! {
                        <div class="mt-4 flex flex-col gap-3 rounded-lg border border-red-200 bg-red-50 p-3 text-sm text-red-900 sm:flex-row sm:items-center dark:border-red-500/30 dark:bg-red-500/10 dark:text-red-200">
                            <Icon icon=I::Triangle class="hidden h-5 w-5 shrink-0 text-red-500 sm:block"/>
                            <p class="flex-1">
                                <span class="font-semibold">"Cancel this run?"</span>
                                " Its process is stopped now. You can resume it later from where it stopped."
                            </p>
                            <div class="flex gap-2">
                                <button
                                    type="button"
                                    class="btn btn-secondary"
                                    on:click=move |_| confirm_cancel.set(false)
                                >
                                    "Keep running"
                                </button>
                                <button
                                    type="button"
                                    data-testid="cancel-confirm"
                                    class="btn btn-danger"
                                    disabled=move || cancel.pending().get()
                                    on:click={
                                        let id = id.clone();
                                        move |_| {
                                            cancel.dispatch(CancelRun { run_id: id.clone() });
                                        }
                                    }
                                >
                                    {move || if cancel.pending().get() { "Cancelling…" } else { "Yes, cancel run" }}
                                </button>
                            </div>
                        </div>
                    }
                }
            </Show>
            {move || match cancel.value().get() {
                Some(Err(e)) => view! { <div class="mt-4"><ErrorBanner error=e/></div> }.into_any(),
                _ => ().into_any(),
            }}
            {move || match resume.value().get() {
                Some(Err(e)) => view! { <div class="mt-4"><ErrorBanner error=e/></div> }.into_any(),
                _ => ().into_any(),
            }}

            <div class="mt-5">
                {move || {
                    let s = summary.get();
                    view! { <ProgressBar progress=s.progress status=s.status wide=true/> }
                }}
            </div>

            <dl class="mt-5 grid grid-cols-2 gap-x-6 gap-y-4 sm:grid-cols-4">
                <Stat label="Phase">
                    <span class="inline-flex rounded-md bg-slate-100 px-2 py-0.5 font-mono text-xs font-medium text-slate-700 dark:bg-slate-800 dark:text-slate-200" data-testid="run-phase">
                        {move || summary.with(|s| s.phase.clone())}
                    </span>
                </Stat>
                <Stat label="Current task">
                    <span data-testid="current-task" class="break-all font-mono text-xs">
                        {move || summary.with(|s| s.task.clone()).unwrap_or_else(|| "—".into())}
                    </span>
                </Stat>
                <Stat label="Duration">
                    {move || {
                        let s = summary.get();
                        view! {
                            <LiveDuration
                                start=s.started_at_ms
                                end=s.finished_at_ms
                                server_now=server_now.get_untracked()
                            />
                        }
                    }}
                </Stat>
                <Stat label="Heartbeat">
                    {move || match heartbeat.get() {
                        None => view! { <span class="text-slate-400">"—"</span> }.into_any(),
                        Some(h) => view! {
                            <span class="inline-flex flex-wrap items-center gap-1.5" data-testid="heartbeat" data-stale=h.stale.to_string()>
                                <Icon icon=I::Heart class=if h.stale { "h-3.5 w-3.5 text-red-500" } else { "h-3.5 w-3.5 text-emerald-500" }/>
                                <span title=crate::format::datetime(h.at_ms)>
                                    {format!("{} ago", domain::time::human_duration(h.age_ms))}
                                </span>
                                {h.stale.then(|| view! {
                                    <span
                                        data-testid="stale-marker"
                                        class="rounded bg-red-600 px-1.5 py-px text-[10px] font-bold uppercase tracking-wide text-white"
                                        title="The workflow has stopped writing heartbeats; its process may be gone."
                                    >
                                        "stale"
                                    </span>
                                })}
                            </span>
                        }
                        .into_any(),
                    }}
                </Stat>
            </dl>
            {move || data.refresh_error.get().map(|e| view! {
                <p class="mt-4 text-xs text-amber-700 dark:text-amber-400">
                    {format!("Could not refresh this page: {} Showing the last data received.", e.message)}
                </p>
            })}
        </section>

        // Calls to attention
        {move || actions.get().feedback.then(|| {
            let id = id_for_feedback.clone();
            let may_decide = may_decide && !actions.get().elsewhere;
            let elsewhere = actions.get().elsewhere;
            view! {
                <div
                    data-testid="feedback-banner"
                    class="flex flex-col gap-4 rounded-xl border border-amber-300 bg-amber-50 p-4 shadow-sm sm:flex-row sm:items-center dark:border-amber-500/40 dark:bg-amber-500/10"
                >
                    <div class="flex h-10 w-10 shrink-0 items-center justify-center rounded-full bg-amber-400 text-amber-950">
                        <Icon icon=I::Message class="h-5 w-5"/>
                    </div>
                    <div class="flex-1">
                        <p class="font-semibold text-amber-900 dark:text-amber-200">
                            {if may_decide { "This run is waiting for your decision" } else { "This run is waiting for a decision" }}
                        </p>
                        <p class="text-sm text-amber-800 dark:text-amber-300/80">
                            {if elsewhere {
                                domain::run::DECIDE_WITH_THE_CLI
                            } else if may_decide {
                                "It reached its human gate. Review what it did and approve or reject it."
                            } else {
                                "It reached its human gate. An operator or admin approves or rejects it; you can review what it did."
                            }}
                        </p>
                    </div>
                    <a href=format!("/runs/{id}/feedback") data-testid="feedback-link" class="btn btn-amber">
                        {if may_decide { "Give feedback" } else { "Review" }}
                        <Icon icon=I::ArrowRight class="h-4 w-4"/>
                    </a>
                </div>
            }
        })}
        {move || problem.get().map(|p| view! {
            <WarningBanner
                title="Part of this run's data could not be read".to_string()
                message=p
                testid="source-problem"
            />
        })}
        {move || summary.with(|s| s.error.clone()).map(|e| view! {
            <div data-testid="run-error" class="flex gap-3 rounded-xl border border-red-200 bg-red-50 p-4 text-sm text-red-800 dark:border-red-500/30 dark:bg-red-500/10 dark:text-red-200">
                <Icon icon=I::XCircle class="mt-0.5 h-5 w-5 shrink-0 text-red-500"/>
                <p class="break-words"><span class="font-semibold">"What went wrong: "</span>{e}</p>
            </div>
        })}

        <div class="grid gap-6 lg:grid-cols-3">
            <div class="lg:col-span-2">
                <Card
                    title="Tasks"
                    icon=I::List
                    aside=ViewFn::from(move || {
                        let p = summary.with(|s| s.progress);
                        format!("{} of {} finished", p.finished, p.total)
                    })
                >
                    <TaskList tasks server_now/>
                </Card>
            </div>
            <div class="space-y-6">
                <Card title="Execution" icon=I::Cpu>
                    <ExecutionInfo execution/>
                    {move || grafana.get().map(|url| view! {
                        <a href=url target="_blank" rel="noopener noreferrer" data-testid="run-grafana"
                            class="link mt-4 inline-flex items-center gap-1.5 text-sm font-medium">
                            <Icon icon=I::ArrowRight class="h-4 w-4"/>"Open in Grafana"
                        </a>
                    })}
                </Card>
                {move || gate.get().map(|g| view! {
                    <Card title="Human gate" icon=I::Shield testid="gate-card">
                        <GateSummary gate=g server_now=server_now.get_untracked()/>
                    </Card>
                })}
            </div>
        </div>

        <LogPanel run_id=id_for_log log_bytes status/>

        <Card
            title="Reviews"
            icon=I::Shield
            aside=ViewFn::from(move || {
                let (ok, bad, _) = reviews.with(|r| review_counts(r));
                if ok + bad == 0 { String::new() } else { format!("{ok} approved · {bad} changes requested") }
            })
        >
            <Reviews reviews/>
        </Card>
        <Card title="Reports" icon=I::FileText>
            <Reports outputs open=open_rows/>
        </Card>
        <Card title="Token usage" icon=I::Hash aside=ViewFn::from(move || view! {
            <span data-testid="run-cost">{move || cost.get()}</span>
        })>
            <TokenTable tokens totals/>
        </Card>
        <Card title="Timeline" icon=I::Clock testid="timeline" aside=ViewFn::from(|| "newest first")>
            <Timeline entries=timeline server_now/>
        </Card>
    }
}

#[component]
fn Stat(label: &'static str, children: Children) -> impl IntoView {
    view! {
        <div class="min-w-0">
            <dt class="text-xs font-medium uppercase tracking-wide text-slate-500 dark:text-slate-400">{label}</dt>
            <dd class="mt-1 text-sm">{children()}</dd>
        </div>
    }
}

#[component]
pub fn RunNotFound(message: String) -> impl IntoView {
    view! {
        <div data-testid="run-not-found" class="mx-auto max-w-lg py-16 text-center">
            <p class="text-sm font-semibold text-indigo-600 dark:text-indigo-400">"404"</p>
            <h1 class="mt-2 text-2xl font-bold tracking-tight">"Run not found"</h1>
            <p class="mt-3 text-slate-600 dark:text-slate-400">{message}</p>
            <a href="/runs" class="btn btn-primary mt-8">
                <Icon icon=I::ArrowLeft class="h-4 w-4"/>
                "Back to runs"
            </a>
        </div>
    }
}

#[component]
pub fn RunSkeleton() -> impl IntoView {
    view! {
        <div class="space-y-6" aria-busy="true" aria-label="Loading run">
            <div class="card animate-pulse p-6">
                <div class="h-6 w-2/3 rounded bg-slate-200 dark:bg-slate-800"></div>
                <div class="mt-3 h-4 w-1/3 rounded bg-slate-200 dark:bg-slate-800"></div>
                <div class="mt-6 h-2.5 w-full rounded bg-slate-200 dark:bg-slate-800"></div>
                <div class="mt-6 grid grid-cols-4 gap-6">
                    <div class="h-8 rounded bg-slate-200 dark:bg-slate-800"></div>
                    <div class="h-8 rounded bg-slate-200 dark:bg-slate-800"></div>
                    <div class="h-8 rounded bg-slate-200 dark:bg-slate-800"></div>
                    <div class="h-8 rounded bg-slate-200 dark:bg-slate-800"></div>
                </div>
            </div>
            <div class="card h-64 animate-pulse"></div>
        </div>
    }
}
