//! `/admin/metrics`: tokens and estimated cost per provider and model, the costliest
//! runs, outcomes over time and durations by template, over a chosen range — small
//! SVG charts rendered on the server, CSV/JSON export, Grafana for anything deeper.
use crate::components::charts::{bars_svg, columns_svg, Bar, Column};
use crate::components::{ErrorBanner, Icon, I};
use crate::format;
use crate::server_fns::load_metrics;
use domain::metrics::{usd, MetricsReport, ModelUsage, Outcomes, TimeRange};
use domain::time::human_duration;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn MetricsPage() -> impl IntoView {
    let query = use_query_map();
    let range = Memo::new(move |_| query.with(|q| q.get("range").unwrap_or_else(|| "7d".into())));
    let report = Resource::new(move || range.get(), load_metrics);
    view! {
        <Title text="Metrics"/>
        <div class="space-y-6">
            <RangePicker range/>
            <Transition fallback=|| view! { <div class="card h-64 animate-pulse"></div> }>
                {move || report.get().map(|r| match r {
                    Ok(r) => view! { <Report report=r/> }.into_any(),
                    Err(e) => view! { <ErrorBanner error=e/> }.into_any(),
                })}
            </Transition>
        </div>
    }
}

/// Plain links, so the range changes without WASM too.
#[component]
fn RangePicker(range: Memo<String>) -> impl IntoView {
    view! {
        <div class="flex flex-wrap items-center gap-2">
            <nav class="inline-flex rounded-lg border border-slate-200 bg-white p-0.5 text-sm dark:border-slate-800 dark:bg-slate-900" aria-label="Time range" data-testid="range-picker">
                {TimeRange::ALL.map(|r| {
                    let active = move || range.get() == r.as_str();
                    view! {
                        <a href=format!("/admin/metrics?range={}", r.as_str())
                            data-testid=format!("range-{}", r.as_str())
                            aria-current=move || active().then_some("page")
                            class=move || if active() {
                                "rounded-md bg-indigo-600 px-3 py-1.5 font-medium text-white"
                            } else {
                                "rounded-md px-3 py-1.5 text-slate-600 hover:bg-slate-100 dark:text-slate-300 dark:hover:bg-slate-800"
                            }>
                            {r.as_str()}
                        </a>
                    }
                }).into_iter().collect_view()}
            </nav>
            <div class="ml-auto flex gap-2">
                <a class="btn btn-secondary" data-testid="export-csv" download
                    href=move || format!("/api/v1/admin/metrics/runs.csv?range={}", range.get())>
                    <Icon icon=I::Download class="h-4 w-4"/> "CSV"
                </a>
                <a class="btn btn-secondary" data-testid="export-json" download
                    href=move || format!("/api/v1/admin/metrics/runs.json?range={}", range.get())>
                    <Icon icon=I::Download class="h-4 w-4"/> "JSON"
                </a>
            </div>
        </div>
    }
}

#[component]
fn Report(report: MetricsReport) -> impl IntoView {
    let ended: Outcomes = report
        .outcomes
        .iter()
        .fold(Outcomes::default(), |a, o| Outcomes {
            finished: a.finished + o.finished,
            failed: a.failed + o.failed,
            cancelled: a.cancelled + o.cancelled,
            open: a.open + o.open,
            ..a
        });
    let success = ended
        .success_percent()
        .map(|p| format!("{p}%"))
        .unwrap_or_else(|| "—".into());
    let per_run = report.cost_per_run().map(usd).unwrap_or_else(|| "—".into());
    let range = report.range.as_str();
    let span = format!(
        "{}: runs created {} – {}.",
        report.range.label(),
        format::datetime(report.from_ms),
        format::datetime(report.to_ms)
    );
    let (cost, tokens, runs) = (
        usd(report.total_cost_usd),
        format::thousands(report.total_tokens()),
        format::thousands(report.runs),
    );
    let unpriced = (!report.unpriced_models.is_empty()).then(|| {
        format!(
            "No price for {}: their tokens are not in the cost. ",
            report.unpriced_models.join(", ")
        )
    });
    let (models_svg, no_models) = (model_chart(&report.models), report.models.is_empty());
    let (durations_svg, no_durations) = (duration_chart(&report), report.durations.is_empty());
    let (outcomes_svg, no_runs) = (outcome_chart(&report), report.runs == 0);
    let for_table = report.clone();
    let grafana = report.grafana_url.clone();
    view! {
        <div class="space-y-6" data-testid="metrics" data-range=range>
            <p class="text-sm text-slate-500 dark:text-slate-400">{span}</p>
            <div class="grid grid-cols-2 gap-3 lg:grid-cols-5">
                <Figure label="Estimated cost" value=cost testid="total-cost"/>
                <Figure label="Cost per run" value=per_run testid="cost-per-run"/>
                <Figure label="Tokens" value=tokens testid="total-tokens"/>
                <Figure label="Runs" value=runs testid="run-count"/>
                <Figure label="Succeeded" value=success testid="success-rate"/>
            </div>
            {unpriced.map(|text| view! {
                <p class="text-sm text-amber-700 dark:text-amber-300" data-testid="unpriced">
                    {text}
                    <a href="/settings/prices" class="font-medium underline">"Add prices"</a>
                </p>
            })}
            <div class="grid gap-6 lg:grid-cols-2">
                <ChartCard title="Tokens by model" testid="chart-models" svg=models_svg
                    empty=no_models empty_text="No run in this range reported token usage."/>
                <ChartCard title="Average duration by template" testid="chart-durations" svg=durations_svg
                    empty=no_durations empty_text="No run in this range has ended yet."/>
            </div>
            <ChartCard title="Outcomes over time" testid="chart-outcomes" svg=outcomes_svg
                empty=no_runs empty_text="No run was created in this range."/>
            <Legend/>
            <ProviderTable report=for_table/>
            <CostliestRuns report/>
            {match grafana {
                Some(url) => view! {
                    <p class="text-sm">
                        <a href=url target="_blank" rel="noopener noreferrer" data-testid="metrics-grafana"
                            class="link inline-flex items-center gap-1.5 font-medium">
                            <Icon icon=I::ArrowRight class="h-4 w-4"/>"Open this range in Grafana"
                        </a>
                    </p>
                }.into_any(),
                None => view! {
                    <p class="text-xs text-slate-500 dark:text-slate-400">
                        "For anything deeper, scrape " <code>"/metrics"</code> " into Prometheus and set Grafana's URL in "
                        <a href="/settings/observability" class="link">"Settings"</a>"."
                    </p>
                }.into_any(),
            }}
        </div>
    }
}

#[component]
fn Figure(label: &'static str, value: String, testid: &'static str) -> impl IntoView {
    view! {
        <div class="card p-4">
            <p class="text-xs font-medium uppercase tracking-wide text-slate-500 dark:text-slate-400">{label}</p>
            <p class="mt-1 text-2xl font-semibold tabular-nums" data-testid=testid>{value}</p>
        </div>
    }
}

#[component]
fn ChartCard(
    title: &'static str,
    testid: &'static str,
    svg: String,
    empty: bool,
    empty_text: &'static str,
) -> impl IntoView {
    view! {
        <section class="card p-4 sm:p-5" data-testid=testid>
            <h2 class="mb-3 text-sm font-semibold">{title}</h2>
            {if empty {
                view! { <p class="py-8 text-center text-sm text-slate-500 dark:text-slate-400">{empty_text}</p> }.into_any()
            } else {
                view! { <div inner_html=svg></div> }.into_any()
            }}
        </section>
    }
}

#[component]
fn Legend() -> impl IntoView {
    let item = |class: &'static str, label: &'static str| {
        view! {
            <span class="inline-flex items-center gap-1.5">
                <svg class="h-2.5 w-2.5" viewBox="0 0 10 10"><rect class=class width="10" height="10" rx="2"/></svg>
                {label}
            </span>
        }
    };
    view! {
        <p class="-mt-4 flex flex-wrap gap-4 text-xs text-slate-500 dark:text-slate-400">
            {item("chart-ok", "finished")}
            {item("chart-bad", "failed")}
            {item("chart-cancelled", "cancelled")}
            {item("chart-open", "still open")}
        </p>
    }
}

fn model_chart(models: &[ModelUsage]) -> String {
    let bars: Vec<Bar> = models
        .iter()
        .take(12)
        .map(|m| Bar {
            label: m.model.clone(),
            value: m.total_tokens() as f64,
            shown: compact(m.total_tokens()),
        })
        .collect();
    bars_svg("Tokens by model", &bars)
}

fn duration_chart(report: &MetricsReport) -> String {
    let bars: Vec<Bar> = report
        .durations
        .iter()
        .take(12)
        .map(|d| Bar {
            label: d.template.clone(),
            value: d.average_ms as f64,
            shown: human_duration(d.average_ms),
        })
        .collect();
    bars_svg("Average duration by template", &bars)
}

fn outcome_chart(report: &MetricsReport) -> String {
    let hourly = report.range == TimeRange::Day;
    let columns: Vec<Column> = report
        .outcomes
        .iter()
        .map(|o| {
            let when = if hourly {
                format!("{}:00", &domain::time::rfc3339(o.start_ms)[11..13])
            } else {
                domain::time::rfc3339(o.start_ms)[5..10].to_string()
            };
            Column {
                title: format!(
                    "{when}: {} finished, {} failed, {} cancelled, {} open",
                    o.finished, o.failed, o.cancelled, o.open
                ),
                label: when,
                parts: vec![
                    ("chart-ok", o.finished),
                    ("chart-bad", o.failed),
                    ("chart-cancelled", o.cancelled),
                    ("chart-open", o.open),
                ],
            }
        })
        .collect();
    let every = (columns.len() / 8).max(1);
    columns_svg("Outcomes over time", &columns, every)
}

/// 1234567 → `1.2M`.
fn compact(n: u64) -> String {
    match n {
        n if n >= 1_000_000 => format!("{:.1}M", n as f64 / 1e6),
        n if n >= 10_000 => format!("{}k", n / 1000),
        n => format::thousands(n),
    }
}

#[component]
fn ProviderTable(report: MetricsReport) -> impl IntoView {
    let providers = report.providers();
    view! {
        <section class="card overflow-hidden" data-testid="model-table">
            <div class="border-b border-slate-200 px-4 py-3 sm:px-6 dark:border-slate-800">
                <h2 class="text-sm font-semibold">"Usage by provider and model"</h2>
            </div>
            <table class="stack-table w-full text-sm">
                <thead class="table-head">
                    <tr>
                        <th scope="col" class="px-4 py-2.5 sm:pl-6">"Provider / model"</th>
                        <th scope="col" class="px-3 py-2.5 text-right">"Runs"</th>
                        <th scope="col" class="px-3 py-2.5 text-right">"Input"</th>
                        <th scope="col" class="px-3 py-2.5 text-right">"Output"</th>
                        <th scope="col" class="px-3 py-2.5 text-right">"Cache"</th>
                        <th scope="col" class="px-4 py-2.5 text-right sm:pr-6">"Cost"</th>
                    </tr>
                </thead>
                <tbody class="divide-y divide-slate-100 dark:divide-slate-800">
                    {providers.into_iter().map(|p| {
                        let models: Vec<ModelUsage> = report.models.iter().filter(|m| m.provider == p.provider).cloned().collect();
                        view! {
                            <UsageRow usage=p strong=true/>
                            {models.into_iter().map(|m| view! { <UsageRow usage=m strong=false/> }).collect_view()}
                        }
                    }).collect_view()}
                </tbody>
            </table>
            {report.models.is_empty().then(|| view! {
                <p class="px-4 py-8 text-center text-sm text-slate-500 dark:text-slate-400">"No token usage in this range."</p>
            })}
        </section>
    }
}

#[component]
fn UsageRow(usage: ModelUsage, strong: bool) -> impl IntoView {
    let name = if strong {
        usage.provider.clone()
    } else {
        usage.model.clone()
    };
    let cost = usage.cost_usd.map(usd).unwrap_or_else(|| "no price".into());
    let name_attr = name.clone();
    let num = "px-3 py-2 text-right tabular-nums";
    view! {
        <tr data-testid=if strong { "provider-row" } else { "model-row" } data-name=name_attr
            class=if strong { "bg-slate-50/60 font-medium dark:bg-slate-800/40" } else { "" }>
            <td class=if strong { "c-head px-4 py-2 sm:pl-6" } else { "c-head px-4 py-2 pl-8 font-mono text-xs sm:pl-10" }>{name}</td>
            <td class=num data-label="Runs">{format::thousands(usage.runs)}</td>
            <td class=num data-label="Input">{format::thousands(usage.input_tokens)}</td>
            <td class=num data-label="Output">{format::thousands(usage.output_tokens)}</td>
            <td class=num data-label="Cache">{format::thousands(usage.cache_read_tokens + usage.cache_write_tokens)}</td>
            <td class="px-4 py-2 text-right tabular-nums sm:pr-6" data-label="Cost">{cost}</td>
        </tr>
    }
}

#[component]
fn CostliestRuns(report: MetricsReport) -> impl IntoView {
    view! {
        <section class="card overflow-hidden" data-testid="costliest-runs">
            <div class="border-b border-slate-200 px-4 py-3 sm:px-6 dark:border-slate-800">
                <h2 class="text-sm font-semibold">"Most expensive runs"</h2>
            </div>
            <ul class="divide-y divide-slate-100 dark:divide-slate-800">
                {report.costliest_runs.into_iter().map(|r| view! {
                    <li class="flex flex-wrap items-center gap-x-3 gap-y-1 px-4 py-2.5 text-sm sm:px-6" data-testid="costly-run">
                        <a href=format!("/runs/{}", r.run_id) class="font-mono text-xs text-indigo-600 hover:underline dark:text-indigo-400">{format::short_id(&r.run_id)}</a>
                        <span class="text-slate-600 dark:text-slate-300">{r.template}</span>
                        <span class="text-xs text-slate-500 dark:text-slate-400">{r.status}</span>
                        <span class="ml-auto tabular-nums text-slate-500 dark:text-slate-400">{format!("{} tokens", format::thousands(r.tokens))}</span>
                        <span class="w-20 text-right font-medium tabular-nums">{usd(r.cost_usd)}</span>
                    </li>
                }).collect_view()}
            </ul>
        </section>
    }
}
