//! `/admin/cluster`: this host (local) or the cluster's nodes (kube) — status, CPU,
//! memory, disk — the runs' volumes and the storage classes.
use crate::components::{ErrorBanner, Icon, WarningBanner, I};
use crate::format;
use crate::server_fns::fleet;
use domain::fleet::{Amount, FleetView, Machine, StorageClass, Volume};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn ClusterPage() -> impl IntoView {
    let view_of = Resource::new(|| (), |_| fleet());
    view! {
        <Title text="Cluster"/>
        <Transition fallback=|| view! { <div class="card h-64 animate-pulse"></div> }>
            {move || view_of.get().map(|r| match r {
                Ok(v) => view! { <Fleet fleet=v/> }.into_any(),
                Err(e) => view! { <ErrorBanner error=e/> }.into_any(),
            })}
        </Transition>
    }
}

#[component]
fn Fleet(fleet: FleetView) -> impl IntoView {
    let kube = fleet.backend == "kube";
    let machines_title = if kube { "Nodes" } else { "Host" };
    let volumes_title = if kube {
        "Run volumes (PVCs)"
    } else {
        "Run workspaces"
    };
    let total: u64 = fleet.volumes.iter().filter_map(|v| v.size_bytes).sum();
    view! {
        <div class="space-y-6" data-testid="fleet" data-backend=fleet.backend.clone()>
            <p class="text-sm text-slate-500 dark:text-slate-400" data-testid="fleet-source">
                "From " {fleet.source.clone()}
            </p>
            {fleet.notes.into_iter().map(|n| view! {
                <WarningBanner title="Not everything could be read".to_string() message=n testid="fleet-note"/>
            }).collect_view()}
            <section class="space-y-3">
                <h2 class="text-sm font-semibold">{machines_title}</h2>
                <div class="grid gap-3 md:grid-cols-2" data-testid="machines">
                    {fleet.machines.into_iter().map(|m| view! { <MachineCard machine=m kube/> }).collect_view()}
                </div>
            </section>
            <section class="card overflow-hidden">
                <div class="flex items-center gap-2 border-b border-slate-200 px-4 py-3 sm:px-6 dark:border-slate-800">
                    <Icon icon=I::FileText class="h-4 w-4 text-slate-400"/>
                    <h2 class="text-sm font-semibold">{volumes_title}</h2>
                    <span class="ml-auto text-xs text-slate-500 dark:text-slate-400" data-testid="volumes-total">
                        {format!("{} · {}", plural(fleet.volumes.len(), "volume"), format::bytes(total))}
                    </span>
                </div>
                <VolumeTable volumes=fleet.volumes kube/>
            </section>
            {kube.then(|| view! { <StorageClasses classes=fleet.storage_classes/> })}
        </div>
    }
}

#[component]
fn MachineCard(machine: Machine, kube: bool) -> impl IntoView {
    let tone = if machine.ready && machine.status == "Ready" {
        "bg-emerald-50 text-emerald-700 ring-emerald-200 dark:bg-emerald-500/10 dark:text-emerald-300 dark:ring-emerald-500/30"
    } else {
        "bg-amber-50 text-amber-800 ring-amber-200 dark:bg-amber-500/10 dark:text-amber-200 dark:ring-amber-500/30"
    };
    view! {
        <article class="card p-4 sm:p-5" data-testid="machine" data-name=machine.name.clone()>
            <div class="flex items-center gap-2">
                <Icon icon=I::Cpu class="h-4 w-4 text-slate-400"/>
                <h3 class="min-w-0 flex-1 truncate font-mono text-sm font-semibold">{machine.name.clone()}</h3>
                <span data-testid="machine-status" class=format!("rounded-md px-1.5 py-0.5 text-xs font-medium ring-1 ring-inset {tone}")>
                    {machine.status.clone()}
                </span>
            </div>
            <dl class="mt-4 space-y-3">
                // Locally, what is in use is the load average.
                <Meter label="CPU" hint=(!kube).then_some("load, 1 min") amount=machine.cpu show=format::cores/>
                <Meter label="Memory" amount=machine.memory show=format::bytes/>
                <Meter label="Disk" amount=machine.disk show=format::bytes/>
            </dl>
        </article>
    }
}

/// One resource: used of allocatable (capacity), with a bar when usage is known.
#[component]
fn Meter(
    label: &'static str,
    #[prop(optional_no_strip)] hint: Option<&'static str>,
    amount: Amount,
    show: fn(u64) -> String,
) -> impl IntoView {
    let percent = amount.used_percent();
    let of = amount.allocatable.or(amount.capacity);
    let text = match (amount.used, of) {
        (Some(used), Some(of)) => format!("{} of {}", show(used), show(of)),
        (None, Some(of)) => format!("{} (usage unknown)", show(of)),
        _ => "unknown".into(),
    };
    let capacity = amount
        .capacity
        .filter(|c| Some(*c) != amount.allocatable && amount.allocatable.is_some())
        .map(|c| format!("capacity {}", show(c)));
    let bar = match percent {
        Some(p) if p >= 90 => "bg-red-500",
        Some(p) if p >= 75 => "bg-amber-500",
        _ => "bg-indigo-500",
    };
    view! {
        <div data-testid=format!("meter-{}", label.to_ascii_lowercase())>
            <div class="flex items-baseline justify-between gap-2 text-xs">
                <dt class="font-medium text-slate-600 dark:text-slate-300">
                    {label}
                    {hint.map(|h| view! { <span class="ml-1 font-normal text-slate-400">{format!("({h})")}</span> })}
                </dt>
                <dd class="text-right text-slate-500 dark:text-slate-400">
                    {text}
                    {percent.map(|p| view! { <span class="ml-1 font-semibold text-slate-700 dark:text-slate-200">{format!("{p}%")}</span> })}
                </dd>
            </div>
            <div class="mt-1 h-1.5 overflow-hidden rounded-full bg-slate-100 dark:bg-slate-800">
                <div class=format!("h-full rounded-full {bar}") style=format!("width: {}%", percent.unwrap_or(0))></div>
            </div>
            {capacity.map(|c| view! { <p class="mt-0.5 text-[11px] text-slate-400">{c}</p> })}
        </div>
    }
}

#[component]
fn VolumeTable(volumes: Vec<Volume>, kube: bool) -> impl IntoView {
    if volumes.is_empty() {
        return view! {
            <p data-testid="volumes-empty" class="px-4 py-10 text-center text-sm text-slate-500 dark:text-slate-400">
                "No run has a volume yet."
            </p>
        }
        .into_any();
    }
    view! {
        <table class="stack-table w-full text-sm" data-testid="volumes">
            <thead class="table-head">
                <tr>
                    <th scope="col" class="px-4 py-2.5 sm:pl-6">"Volume"</th>
                    <th scope="col" class="px-3 py-2.5">"Run"</th>
                    <th scope="col" class="px-3 py-2.5">"Size"</th>
                    <th scope="col" class="px-3 py-2.5">"Status"</th>
                    {kube.then(|| view! { <th scope="col" class="px-4 py-2.5 sm:pr-6">"Storage class"</th> })}
                </tr>
            </thead>
            <tbody class="divide-y divide-slate-100 dark:divide-slate-800">
                {volumes.into_iter().map(|v| view! {
                    <tr data-testid="volume-row">
                        <td class="c-head px-4 py-2.5 font-mono text-xs sm:pl-6"><span class="break-all">{v.name}</span></td>
                        <td class="px-3 py-2.5" data-label="Run">
                            {match v.run_id {
                                Some(id) => view! {
                                    <a href=format!("/runs/{id}") class="font-mono text-xs text-indigo-600 hover:underline dark:text-indigo-400">{format::short_id(&id)}</a>
                                }.into_any(),
                                None => view! { <span class="text-slate-400">"—"</span> }.into_any(),
                            }}
                        </td>
                        <td class="px-3 py-2.5 whitespace-nowrap" data-label="Size">{v.size_bytes.map(format::bytes).unwrap_or_else(|| "—".into())}</td>
                        <td class="px-3 py-2.5" data-label="Status">{v.status}</td>
                        {kube.then(|| view! {
                            <td class="px-4 py-2.5 sm:pr-6" data-label="Storage class">{v.storage_class.unwrap_or_else(|| "default".into())}</td>
                        })}
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

#[component]
fn StorageClasses(classes: Vec<StorageClass>) -> impl IntoView {
    view! {
        <section class="card overflow-hidden" data-testid="storage-classes">
            <div class="flex items-center gap-2 border-b border-slate-200 px-4 py-3 sm:px-6 dark:border-slate-800">
                <Icon icon=I::Square class="h-4 w-4 text-slate-400"/>
                <h2 class="text-sm font-semibold">"Storage classes"</h2>
            </div>
            {if classes.is_empty() {
                view! { <p class="px-4 py-8 text-center text-sm text-slate-500 dark:text-slate-400">"The cluster has no storage class: run volumes stay Pending until one exists."</p> }.into_any()
            } else {
                view! {
                    <ul class="divide-y divide-slate-100 dark:divide-slate-800">
                        {classes.into_iter().map(|c| view! {
                            <li class="flex flex-wrap items-center gap-2 px-4 py-2.5 text-sm sm:px-6" data-testid="storage-class">
                                <span class="font-mono font-medium">{c.name}</span>
                                {c.is_default.then(|| view! { <span class="rounded-md bg-indigo-50 px-1.5 py-0.5 text-xs font-medium text-indigo-700 dark:bg-indigo-500/10 dark:text-indigo-300">"default"</span> })}
                                <span class="ml-auto text-xs text-slate-500 dark:text-slate-400">
                                    {c.provisioner}
                                    {c.reclaim_policy.map(|p| format!(" · reclaim {p}"))}
                                </span>
                            </li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
    }
}

fn plural(n: usize, what: &str) -> String {
    match n {
        1 => format!("1 {what}"),
        n => format!("{n} {what}s"),
    }
}
