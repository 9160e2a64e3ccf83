//! `/admin/backups`: back up the store and every run DB now, the history of backups
//! with their size, and the command that restores one.
use crate::components::{ErrorBanner, Icon, I};
use crate::format;
use crate::server_fns::{list_backups, BackUpNow};
use domain::backup::BackupView;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn BackupsPage() -> impl IntoView {
    let back_up = ServerAction::<BackUpNow>::new();
    let history = Resource::new(move || back_up.version().get(), |_| list_backups());
    let pending = back_up.pending();
    view! {
        <Title text="Backups"/>
        <div class="space-y-6">
            <section class="card flex flex-wrap items-center gap-4 p-4 sm:p-6">
                <div class="min-w-[16rem] flex-1">
                    <h2 class="text-base font-semibold">"Back up now"</h2>
                    <p class="mt-1 text-sm text-slate-500 dark:text-slate-400">
                        "Copies the store (runs, users, audit log, env sets, specs, schedules), every run's Smithers DB and log, and the keys that open stored secrets. Safe while runs write. From a shell: "
                        <code>"fabrik-server backup"</code> "."
                    </p>
                </div>
                <button class="btn btn-primary" data-testid="backup-now" disabled=move || pending.get()
                    on:click=move |_| { back_up.dispatch(BackUpNow {}); }>
                    <Icon icon=I::Download class="h-4 w-4"/>
                    {move || if pending.get() { "Backing up…" } else { "Back up now" }}
                </button>
            </section>
            {move || match back_up.value().get() {
                Some(Err(e)) => view! { <ErrorBanner error=e/> }.into_any(),
                Some(Ok(b)) => view! {
                    <p class="text-sm text-emerald-700 dark:text-emerald-400" data-testid="backup-done">
                        {format!("Backed up {} runs ({}) to {}.", b.runs, format::bytes(b.bytes), b.path.clone().unwrap_or_default())}
                    </p>
                }.into_any(),
                None => ().into_any(),
            }}
            <Transition fallback=|| view! { <div class="card h-40 animate-pulse"></div> }>
                {move || history.get().map(|r| match r {
                    Ok(list) => view! { <History list/> }.into_any(),
                    Err(e) => view! { <ErrorBanner error=e/> }.into_any(),
                })}
            </Transition>
        </div>
    }
}

#[component]
fn History(list: Vec<BackupView>) -> impl IntoView {
    if list.is_empty() {
        return view! {
            <p data-testid="backups-empty" class="card px-4 py-10 text-center text-sm text-slate-500 dark:text-slate-400">
                "No backup yet. Back up before upgrading, and on a schedule (cron running fabrik-server backup)."
            </p>
        }
        .into_any();
    }
    view! {
        <section class="card overflow-hidden" data-testid="backup-history">
            <div class="border-b border-slate-200 px-4 py-3 sm:px-6 dark:border-slate-800">
                <h2 class="text-sm font-semibold">"History"</h2>
            </div>
            <ul class="divide-y divide-slate-100 dark:divide-slate-800">
                {list.into_iter().map(|b| view! { <BackupRow backup=b/> }).collect_view()}
            </ul>
        </section>
    }
    .into_any()
}

#[component]
fn BackupRow(backup: BackupView) -> impl IntoView {
    let (tone, state) = match (&backup.error, backup.finished_at_ms) {
        (Some(_), _) => ("text-red-700 dark:text-red-400", "failed"),
        (None, None) => ("text-sky-700 dark:text-sky-300", "running"),
        (None, Some(_)) => ("text-emerald-700 dark:text-emerald-400", "ok"),
    };
    let command = backup.restore_command();
    view! {
        <li class="space-y-1.5 px-4 py-3 text-sm sm:px-6" data-testid="backup-row" data-state=state>
            <div class="flex flex-wrap items-center gap-x-3 gap-y-1">
                <span class=format!("font-medium {tone}")>{state}</span>
                <span class="text-slate-600 dark:text-slate-300">{format::datetime(backup.started_at_ms)}</span>
                <span class="text-slate-500 dark:text-slate-400">{format!("by {}", backup.by)}</span>
                {backup.succeeded().then(|| view! {
                    <span class="ml-auto tabular-nums text-slate-600 dark:text-slate-300" data-testid="backup-size">
                        {format!("{} runs · {}", backup.runs, format::bytes(backup.bytes))}
                    </span>
                })}
            </div>
            {backup.error.clone().map(|e| view! { <p class="text-red-700 dark:text-red-400">{e}</p> })}
            {command.map(|c| view! {
                <div class="flex items-center gap-2">
                    <span class="text-xs text-slate-500 dark:text-slate-400">"Restore:"</span>
                    <code class="min-w-0 flex-1 overflow-x-auto whitespace-nowrap rounded bg-slate-100 px-2 py-1 font-mono text-xs dark:bg-slate-800" data-testid="restore-command">{c}</code>
                </div>
            })}
        </li>
    }
}
