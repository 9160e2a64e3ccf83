//! `/schedules/new`: the dispatch form plus a cron with its meaning in words and the
//! next five fire times in the chosen zone, and the concurrency policy.
use crate::components::{ErrorBanner, Icon, I};
use crate::error::AppError;
use crate::pages::dispatch::{DispatchFields, DispatchFieldsView};
use crate::server_fns::{add_schedule, list_templates, preview_cron};
use domain::schedule::{ConcurrencyPolicy, NewSchedule};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_query_map};

#[component]
pub fn NewSchedulePage() -> impl IntoView {
    let templates = Resource::new(|| (), |_| list_templates());
    view! {
        <Title text="New schedule"/>
        <div class="page">
            <div class="mx-auto max-w-2xl space-y-6">
                <div>
                    <h1 class="text-2xl font-semibold tracking-tight">"New schedule"</h1>
                    <p class="mt-1 text-sm text-slate-500 dark:text-slate-400">
                        "Dispatches a run on a cron, as a Kubernetes CronJob would."
                    </p>
                </div>
                <Suspense fallback=|| view! { <div class="card h-96 animate-pulse"></div> }>
                    {move || Suspend::new(async move {
                        match templates.await {
                            Ok(list) => view! { <ScheduleForm templates=list/> }.into_any(),
                            Err(e) => view! { <ErrorBanner error=e/> }.into_any(),
                        }
                    })}
                </Suspense>
            </div>
        </div>
    }
}

#[component]
fn ScheduleForm(templates: Vec<domain::template::TemplateSummary>) -> impl IntoView {
    let query = use_query_map();
    let fields = DispatchFields::new(&templates, |k| {
        query.with_untracked(|q| q.get(k).unwrap_or_default())
    });
    let name = RwSignal::new(String::new());
    let cron = RwSignal::new("0 9 * * 1-5".to_string());
    let zone = RwSignal::new(browser_zone());
    let policy = RwSignal::new(ConcurrencyPolicy::Forbid);
    let error = RwSignal::new(None::<AppError>);
    let saving = RwSignal::new(false);
    let pending = Signal::derive(move || saving.get());
    let preview = Resource::new(
        move || (cron.get(), zone.get()),
        |(expr, tz)| preview_cron(expr, tz),
    );
    let navigate = use_navigate();

    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let dispatch = match fields.request() {
            Ok(d) => d,
            Err(e) => return error.set(Some(e)),
        };
        let schedule = NewSchedule {
            name: name.get_untracked(),
            cron: cron.get_untracked(),
            timezone: zone.get_untracked(),
            concurrency: policy.get_untracked(),
            dispatch,
        };
        let schedule = match schedule.normalized() {
            Ok(s) => s,
            Err(e) => return error.set(Some(e.into())),
        };
        saving.set(true);
        let navigate = navigate.clone();
        spawn_local(async move {
            match add_schedule(schedule).await {
                Ok(_) => navigate("/schedules", Default::default()),
                Err(e) => {
                    saving.set(false);
                    error.set(Some(e));
                }
            }
        });
    };

    view! {
        <form on:submit=on_submit class="card overflow-hidden divide-y divide-slate-200 dark:divide-slate-800" data-testid="schedule-form">
            <div class="space-y-5 p-4 sm:p-6">
                <label class="block">
                    <span class="label">"Name"</span>
                    <input type="text" class="input mt-1 font-mono" data-testid="schedule-name" placeholder="nightly-report"
                        prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/>
                    <span class="hint">"kebab-case; in a cluster the CronJob is fabrik-cron-<name>."</span>
                </label>
                <div class="grid gap-5 sm:grid-cols-[1fr_14rem]">
                    <label class="block">
                        <span class="label">"Cron"</span>
                        <input type="text" class="input mt-1 font-mono" data-testid="schedule-cron" placeholder="*/15 * * * *"
                            prop:value=move || cron.get() on:input=move |ev| cron.set(event_target_value(&ev))/>
                        <span class="hint">"minute hour day-of-month month day-of-week, or @hourly, @daily, @weekly"</span>
                    </label>
                    <label class="block">
                        <span class="label">"Time zone"</span>
                        <input type="text" class="input mt-1" data-testid="schedule-zone" placeholder="UTC"
                            prop:value=move || zone.get() on:input=move |ev| zone.set(event_target_value(&ev))/>
                    </label>
                </div>
                <div class="rounded-lg bg-slate-50 px-4 py-3 text-sm dark:bg-slate-950/40" data-testid="schedule-preview">
                    <Transition fallback=|| view! { <p class="text-slate-500">"Reading the cron…"</p> }>
                        {move || preview.get().map(|r| match r {
                            Ok(p) => view! {
                                <p class="font-medium" data-testid="schedule-description">{p.description}</p>
                                <p class="mt-1 text-xs text-slate-500 dark:text-slate-400">{format!("Next 5 fires ({})", p.timezone)}</p>
                                <ol class="mt-1 font-mono text-xs" data-testid="schedule-next-fires">
                                    {p.next.into_iter().map(|t| view! { <li>{t}</li> }).collect_view()}
                                </ol>
                            }.into_any(),
                            Err(e) => view! { <p class="text-red-600 dark:text-red-400" data-testid="schedule-cron-error">{e.message}</p> }.into_any(),
                        })}
                    </Transition>
                </div>
                <fieldset>
                    <legend class="label">"If the previous run is still going"</legend>
                    <div class="mt-1 space-y-1">
                        {ConcurrencyPolicy::ALL.into_iter().map(|p| view! {
                            <label class="flex items-center gap-2 text-sm">
                                <input type="radio" name="concurrency" data-testid=format!("schedule-policy-{}", p.as_str().to_lowercase())
                                    prop:checked=move || policy.get() == p on:change=move |_| policy.set(p)/>
                                <span class="font-medium">{p.as_str()}</span>
                                <span class="text-slate-500 dark:text-slate-400">{format!("— {}", p.explain())}</span>
                            </label>
                        }).collect_view()}
                    </div>
                </fieldset>
                <DispatchFieldsView fields templates pending/>
                {move || error.get().map(|e| view! { <ErrorBanner error=e testid="form-error"/> })}
            </div>
            <div class="flex flex-col-reverse gap-3 bg-slate-50 px-4 py-3 sm:flex-row sm:items-center sm:justify-end sm:px-6 dark:bg-slate-950/30">
                <a href="/schedules" class="btn btn-ghost justify-center">"Cancel"</a>
                <button type="submit" class="btn btn-primary justify-center" data-testid="schedule-submit"
                    disabled=move || saving.get() || fields.env_problem.with(Option::is_some)>
                    <Icon icon=I::Clock class="h-4 w-4"/>
                    {move || if saving.get() { "Creating…" } else { "Create schedule" }}
                </button>
            </div>
        </form>
    }
}

/// This browser's IANA zone (UTC while rendering on the server).
fn browser_zone() -> String {
    #[cfg(feature = "hydrate")]
    {
        let options =
            js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &js_sys::Object::new())
                .resolved_options();
        if let Some(zone) = js_sys::Reflect::get(&options, &"timeZone".into())
            .ok()
            .and_then(|z| z.as_string())
        {
            return zone;
        }
    }
    "UTC".into()
}
