//! `/admin`: mission control at a glance. Every item links to where it is handled:
//! a waiting gate to its review, a failure to its run, a schedule to the schedules,
//! the machines to the cluster page.
use crate::components::{ErrorBanner, Icon, I};
use crate::format;
use crate::server_fns::load_overview;
use domain::overview::Overview;
use domain::time::human_duration;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn OverviewPage() -> impl IntoView {
    let overview = Resource::new(|| (), |_| load_overview());
    view! {
        <Title text="Admin"/>
        <Transition fallback=|| view! { <div class="card h-64 animate-pulse"></div> }>
            {move || overview.get().map(|r| match r {
                Ok(o) => view! { <Glance o/> }.into_any(),
                Err(e) => view! { <ErrorBanner error=e/> }.into_any(),
            })}
        </Transition>
    }
}

#[component]
fn Glance(o: Overview) -> impl IntoView {
    let now = o.now_ms;
    let overdue = o.waiting.iter().filter(|w| w.overdue(now)).count();
    let figures = [
        (
            "Active runs",
            o.active_total().to_string(),
            "overview-active",
            "/runs?status=running",
        ),
        (
            "Waiting at a gate",
            o.waiting.len().to_string(),
            "overview-waiting",
            "/runs?status=blocked",
        ),
        (
            "Recent failures",
            o.failures.len().to_string(),
            "overview-failures",
            "/runs?status=failed",
        ),
        (
            "Scheduled next",
            o.upcoming.len().to_string(),
            "overview-upcoming",
            "/schedules",
        ),
    ];
    let for_templates = o.clone();
    let fleet_line = format!("From {}. {}", o.fleet_source, o.fleet_notes.join(" "));
    view! {
        <div class="space-y-6" data-testid="overview">
            <div class="grid grid-cols-2 gap-3 lg:grid-cols-4">
                {figures.into_iter().map(|(label, value, testid, href)| view! {
                    <a href=href class="card block p-4 transition hover:border-indigo-300 dark:hover:border-indigo-500/50">
                        <p class="text-xs font-medium uppercase tracking-wide text-slate-500 dark:text-slate-400">{label}</p>
                        <p class="mt-1 text-2xl font-semibold tabular-nums" data-testid=testid>{value}</p>
                    </a>
                }).collect_view()}
            </div>
            {(overdue > 0).then(|| view! {
                <p class="text-sm font-medium text-amber-700 dark:text-amber-300" data-testid="overview-overdue">
                    {format!("{overdue} gate(s) have waited more than {} for a decision.", human_duration(domain::overview::GATE_OVERDUE_MS))}
                </p>
            })}
            <div class="grid gap-6 lg:grid-cols-2">
                <Panel title="Active runs by template" icon=I::Cpu testid="overview-templates">
                    <ActiveByTemplate o=for_templates/>
                </Panel>
                <Panel title="Waiting for a decision" icon=I::PauseCircle testid="overview-gates">
                    <Rows empty="No run is waiting at a gate." count=o.waiting.len()>
                        {o.waiting.iter().map(|w| {
                            let late = w.overdue(now);
                            view! {
                                <li class="flex flex-wrap items-center gap-x-3 gap-y-1 px-4 py-2.5 text-sm sm:px-5" data-testid="waiting-run">
                                    <a href=format!("/runs/{}/feedback", w.run_id) class="font-mono text-xs text-indigo-600 hover:underline dark:text-indigo-400">{format::short_id(&w.run_id)}</a>
                                    <span class="text-slate-600 dark:text-slate-300">{w.template.clone()}</span>
                                    <span class=if late { "ml-auto font-medium text-amber-700 dark:text-amber-300" } else { "ml-auto text-slate-500 dark:text-slate-400" } data-testid="waiting-age">
                                        {format!("waiting {}", human_duration(now - w.since_ms))}
                                    </span>
                                    <a href=format!("/runs/{}/feedback", w.run_id) class="btn btn-secondary px-2.5 py-1 text-xs">"Review"</a>
                                </li>
                            }
                        }).collect_view()}
                    </Rows>
                </Panel>
                <Panel title="Recent failures" icon=I::XCircle testid="overview-failed">
                    <Rows empty="No run has failed." count=o.failures.len()>
                        {o.failures.iter().map(|f| view! {
                            <li class="space-y-0.5 px-4 py-2.5 text-sm sm:px-5" data-testid="failed-run">
                                <div class="flex flex-wrap items-center gap-x-3">
                                    <a href=format!("/runs/{}", f.run_id) class="font-mono text-xs text-indigo-600 hover:underline dark:text-indigo-400">{format::short_id(&f.run_id)}</a>
                                    <span class="text-slate-600 dark:text-slate-300">{f.template.clone()}</span>
                                    <span class="ml-auto text-xs text-slate-500 dark:text-slate-400">{format!("{} ago", human_duration(now - f.at_ms))}</span>
                                </div>
                                <p class="line-clamp-2 text-xs text-red-700 dark:text-red-400" data-testid="failure-reason">
                                    {f.reason.clone().unwrap_or_else(|| "No reason recorded: open the run's log.".into())}
                                </p>
                            </li>
                        }).collect_view()}
                    </Rows>
                </Panel>
                <Panel title="Upcoming scheduled runs" icon=I::Clock testid="overview-schedules">
                    <Rows empty="No schedule will fire: create one under Schedules." count=o.upcoming.len()>
                        {o.upcoming.iter().map(|u| view! {
                            <li class="flex items-center gap-3 px-4 py-2.5 text-sm sm:px-5" data-testid="upcoming-run">
                                <a href="/schedules" class="font-medium hover:underline">{u.schedule.clone()}</a>
                                <span class="text-slate-500 dark:text-slate-400">{u.template.clone()}</span>
                                <span class="ml-auto text-xs text-slate-500 dark:text-slate-400">{format!("in {} · {}", human_duration(u.at_ms - now), format::datetime(u.at_ms))}</span>
                            </li>
                        }).collect_view()}
                    </Rows>
                </Panel>
            </div>
            <Panel title="Utilisation" icon=I::Cpu testid="overview-machines">
                <ul class="divide-y divide-slate-100 dark:divide-slate-800">
                    {o.machines.iter().map(|m| {
                        let pct = |a: domain::fleet::Amount| a.used_percent().map(|p| format!("{p}%")).unwrap_or_else(|| "—".into());
                        view! {
                            <li class="flex flex-wrap items-center gap-x-4 gap-y-1 px-4 py-2.5 text-sm sm:px-5" data-testid="overview-machine">
                                <a href="/admin/cluster" class="font-mono font-medium hover:underline">{m.name.clone()}</a>
                                <span class="text-xs text-slate-500 dark:text-slate-400">{m.status.clone()}</span>
                                <span class="ml-auto tabular-nums text-slate-600 dark:text-slate-300">
                                    {format!("CPU {} · memory {} · disk {}", pct(m.cpu), pct(m.memory), pct(m.disk))}
                                </span>
                            </li>
                        }
                    }).collect_view()}
                </ul>
                <p class="px-4 py-2 text-xs text-slate-500 sm:px-5 dark:text-slate-400">
                    {fleet_line}
                </p>
            </Panel>
        </div>
    }
}

#[component]
fn ActiveByTemplate(o: Overview) -> impl IntoView {
    let rows = o.by_template();
    if rows.is_empty() {
        return view! { <p class="px-4 py-8 text-center text-sm text-slate-500 dark:text-slate-400">"Nothing is running."</p> }.into_any();
    }
    view! {
        <ul class="divide-y divide-slate-100 dark:divide-slate-800">
            {rows.into_iter().map(|(template, statuses)| view! {
                <li class="flex flex-wrap items-center gap-2 px-4 py-2.5 text-sm sm:px-5" data-testid="active-template" data-template=template.clone()>
                    <a href=format!("/runs?template={template}") class="font-medium hover:underline">{template.clone()}</a>
                    <span class="ml-auto flex flex-wrap gap-1.5">
                        {statuses.into_iter().map(|(status, n)| view! {
                            <span class="rounded-md bg-slate-100 px-1.5 py-0.5 text-xs tabular-nums dark:bg-slate-800">{format!("{n} {status}")}</span>
                        }).collect_view()}
                    </span>
                </li>
            }).collect_view()}
        </ul>
    }
    .into_any()
}

#[component]
fn Panel(title: &'static str, icon: I, testid: &'static str, children: Children) -> impl IntoView {
    view! {
        <section class="card overflow-hidden" data-testid=testid>
            <div class="flex items-center gap-2 border-b border-slate-200 px-4 py-3 sm:px-5 dark:border-slate-800">
                <Icon icon=icon class="h-4 w-4 text-slate-400"/>
                <h2 class="text-sm font-semibold">{title}</h2>
            </div>
            {children()}
        </section>
    }
}

/// A list of `count` items, or a line saying it is empty.
#[component]
fn Rows(empty: &'static str, count: usize, children: Children) -> impl IntoView {
    if count == 0 {
        return view! { <p class="px-4 py-8 text-center text-sm text-slate-500 dark:text-slate-400">{empty}</p> }.into_any();
    }
    view! { <ul class="divide-y divide-slate-100 dark:divide-slate-800">{children()}</ul> }
        .into_any()
}
