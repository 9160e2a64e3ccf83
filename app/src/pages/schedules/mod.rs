//! `/schedules`: every schedule with its next fire and last runs; suspend, resume,
//! trigger now, delete.
pub mod new;

use crate::components::{EmptyState, ErrorBanner, Icon, PageHeader, I};
use crate::error::AppError;
use crate::server_fns::{fire_schedule, list_schedules, pause_schedule, remove_schedule};
use crate::session::use_session;
use domain::auth::Action;
use domain::schedule::{FireOutcome, ScheduleFire, ScheduleView};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_meta::Title;

#[component]
pub fn SchedulesPage() -> impl IntoView {
    let schedules = Resource::new(|| (), |_| list_schedules());
    let error = RwSignal::new(None::<AppError>);
    view! {
        <Title text="Schedules"/>
        <div class="mx-auto max-w-6xl space-y-6 px-4 py-6 sm:px-6 lg:px-8">
            <PageHeader title="Schedules" blurb="Runs dispatched on a cron. A time missed while the server was down is recorded, and the latest one runs once when it is back." new=("/schedules/new", "New schedule", "schedule-new")/>
            {move || error.get().map(|e| view! { <ErrorBanner error=e testid="form-error"/> })}
            <Transition fallback=|| view! { <div class="card h-40 animate-pulse"></div> }>
                {move || schedules.get().map(|r| match r {
                    Ok(all) if all.is_empty() => view! {
                        <EmptyState icon=I::Clock title="No schedules yet"
                            message="New schedule dispatches a template on a cron, e.g. every weekday at 09:00."
                            testid="schedules-empty"/>
                    }.into_any(),
                    Ok(all) => view! {
                        <div class="space-y-3" data-testid="schedules-list">
                            {all.into_iter().map(|s| view! { <ScheduleCard schedule=s schedules error/> }).collect_view()}
                        </div>
                    }.into_any(),
                    Err(e) => view! { <ErrorBanner error=e/> }.into_any(),
                })}
            </Transition>
        </div>
    }
}

#[component]
fn ScheduleCard(
    schedule: ScheduleView,
    schedules: Resource<Result<Vec<ScheduleView>, AppError>>,
    error: RwSignal<Option<AppError>>,
) -> impl IntoView {
    let can_act = use_session().refusal(Action::Dispatch).is_none();
    let name = schedule.name.clone();
    let busy = RwSignal::new(false);
    let act = move |call: Act| {
        let name = name.clone();
        busy.set(true);
        spawn_local(async move {
            let result = match call {
                Act::Suspend(on) => pause_schedule(name, on).await.map(drop),
                Act::Trigger => fire_schedule(name).await.map(drop),
                Act::Delete => remove_schedule(name).await,
            };
            busy.set(false);
            match result {
                Ok(()) => {
                    error.set(None);
                    schedules.refetch();
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let confirm_delete = RwSignal::new(false);
    let next = match (schedule.suspended, &schedule.next_fire_local) {
        (true, _) => "suspended".to_string(),
        (false, Some(local)) => format!("next {local}"),
        (false, None) => "never fires again".to_string(),
    };
    let s = schedule.clone();
    view! {
        <section class="card p-4 sm:px-6" data-testid=format!("schedule-{}", s.name)>
            <div class="flex flex-wrap items-start gap-3">
                <div class="min-w-[14rem] flex-1">
                    <h2 class="font-mono text-base font-semibold">{s.name.clone()}</h2>
                    <p class="text-sm text-slate-700 dark:text-slate-200">
                        {s.description.clone()} " "
                        <span class="font-mono text-xs text-slate-500 dark:text-slate-400">{format!("({} · {})", s.cron, s.timezone)}</span>
                    </p>
                    <p class="mt-1 text-xs text-slate-500 dark:text-slate-400">
                        <span data-testid="schedule-next">{next}</span>
                        {format!(" · template {} · {}", s.dispatch.template, s.concurrency.as_str())}
                        {s.dispatch.spec.clone().map(|spec| format!(" · spec {spec}"))}
                    </p>
                </div>
                {can_act.then(|| {
                    let act = act.clone();
                    let (act2, act3) = (act.clone(), act.clone());
                    let suspended = s.suspended;
                    view! {
                        <div class="flex flex-wrap gap-2">
                            <button type="button" class="btn btn-secondary" data-testid="schedule-trigger" disabled=move || busy.get()
                                on:click=move |_| act(Act::Trigger)>
                                <Icon icon=I::Send class="h-4 w-4"/>
                                "Trigger now"
                            </button>
                            <button type="button" class="btn btn-secondary" data-testid="schedule-suspend" disabled=move || busy.get()
                                on:click=move |_| act2(Act::Suspend(!suspended))>
                                {if suspended { "Resume" } else { "Suspend" }}
                            </button>
                            <Show when=move || confirm_delete.get() fallback=move || view! {
                                <button type="button" class="btn btn-ghost" data-testid="schedule-delete" on:click=move |_| confirm_delete.set(true)>
                                    <Icon icon=I::X class="h-4 w-4"/>
                                    "Delete"
                                </button>
                            }>
                                {
                                    let act3 = act3.clone();
                                    view! {
                                        <button type="button" class="btn btn-danger" data-testid="schedule-delete-confirm" disabled=move || busy.get()
                                            on:click=move |_| act3(Act::Delete)>
                                            "Delete for good"
                                        </button>
                                    }
                                }
                            </Show>
                        </div>
                    }
                })}
            </div>
            <History fires=s.history.clone()/>
        </section>
    }
}

#[derive(Clone, Copy)]
enum Act {
    Suspend(bool),
    Trigger,
    Delete,
}

/// The last fires: when, how, and the run's status now.
#[component]
fn History(fires: Vec<ScheduleFire>) -> impl IntoView {
    if fires.is_empty() {
        return view! { <p class="mt-3 text-xs text-slate-500 dark:text-slate-400">"Not fired yet."</p> }.into_any();
    }
    view! {
        <ul class="mt-3 divide-y divide-slate-100 border-t border-slate-100 text-sm dark:divide-slate-800 dark:border-slate-800" data-testid="schedule-history">
            {fires.into_iter().take(5).map(|f| {
                let (what, link) = match &f.outcome {
                    FireOutcome::Started { run_id } => (
                        format!("run {}", f.run_status.clone().unwrap_or_else(|| "started".into())),
                        Some(run_id.clone()),
                    ),
                    FireOutcome::Skipped { reason } => (format!("skipped: {reason}"), None),
                    FireOutcome::Missed { count } => (format!("{count} missed while the server was down"), None),
                    FireOutcome::Failed { error } => (format!("failed: {error}"), None),
                };
                view! {
                    <li class="flex flex-wrap items-center gap-x-3 py-1.5" data-testid="schedule-fire">
                        <span class="tabular-nums text-slate-500 dark:text-slate-400">{crate::format::datetime(f.scheduled_ms)}</span>
                        <span class="text-xs uppercase tracking-wide text-slate-400">{f.kind.clone()}</span>
                        <span class="min-w-0 flex-1 break-words">{what}</span>
                        {link.map(|id| view! {
                            <a class="link font-mono text-xs" href=format!("/runs/{id}") data-testid="schedule-run-link">{crate::format::short_id(&id)}</a>
                        })}
                    </li>
                }
            }).collect_view()}
        </ul>
    }
    .into_any()
}
