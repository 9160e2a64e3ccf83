//! `/settings/audit` (admins): the audit log, newest first; `?before=<id>` pages back.
use super::{your_role, AdminOnly};
use crate::components::{ErrorBanner, Icon, I};
use crate::format;
use crate::server_fns::{audit_log, AuditPage};
use crate::session::use_session;
use domain::auth::{Action, AuditView};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn AuditLogPage() -> impl IntoView {
    if !use_session().can(Action::ReadAudit) {
        return view! {
            <Title text="Audit log"/>
            <AdminOnly
                title="Only admins can read the audit log"
                message=format!("{} The audit log records every change and sign-in; ask an admin if you need something from it.", your_role())
            />
        }
        .into_any();
    }
    let query = use_query_map();
    let before =
        Memo::new(move |_| query.with(|q| q.get("before").and_then(|b| b.parse::<i64>().ok())));
    let page = Resource::new(move || before.get(), audit_log);
    view! {
        <Title text="Audit log"/>
        <Transition fallback=|| view! { <div class="card h-96 animate-pulse"></div> }>
            {move || Suspend::new(async move {
                let before = before.get();
                match page.await {
                    Ok(p) => view! { <AuditTable page=p before/> }.into_any(),
                    Err(e) if e.code == domain::ErrorCode::Forbidden => view! {
                        <AdminOnly title="Only admins can read the audit log" message=e.message/>
                    }
                    .into_any(),
                    Err(e) => view! { <ErrorBanner error=e/> }.into_any(),
                }
            })}
        </Transition>
    }
    .into_any()
}

#[component]
fn AuditTable(page: AuditPage, before: Option<i64>) -> impl IntoView {
    let older = page
        .has_older
        .then(|| {
            page.entries
                .last()
                .map(|e| format!("/settings/audit?before={}", e.id))
        })
        .flatten();
    let empty = page.entries.is_empty();
    let count = page.entries.len();
    view! {
        <section class="card overflow-hidden">
            <div class="flex items-center gap-2 border-b border-slate-200 px-4 py-3 sm:px-6 dark:border-slate-800">
                <Icon icon=I::List class="h-4 w-4 text-slate-400"/>
                <h2 class="text-sm font-semibold">"Audit log"</h2>
                <span class="ml-auto text-xs text-slate-500 dark:text-slate-400">
                    {if before.is_some() { "older entries, newest first" } else { "newest first" }}
                </span>
            </div>
            {if empty {
                view! {
                    <p data-testid="audit-empty" class="px-4 py-12 text-center text-sm text-slate-500 dark:text-slate-400">
                        {if before.is_some() {
                            "No older entries: this is the beginning of the log."
                        } else {
                            "Nothing recorded yet. Sign-ins, dispatches, gate decisions and user changes appear here."
                        }}
                    </p>
                }
                .into_any()
            } else {
                view! {
                    <table class="stack-table w-full text-sm" data-testid="audit-table">
                        <thead class="table-head">
                            <tr>
                                <th scope="col" class="px-4 py-2.5 sm:pl-6">"Time (UTC)"</th>
                                <th scope="col" class="px-3 py-2.5">"Actor"</th>
                                <th scope="col" class="px-3 py-2.5">"From"</th>
                                <th scope="col" class="px-3 py-2.5">"Action"</th>
                                <th scope="col" class="px-3 py-2.5">"Target"</th>
                                <th scope="col" class="px-4 py-2.5 sm:pr-6">"Detail"</th>
                            </tr>
                        </thead>
                        <tbody class="divide-y divide-slate-100 dark:divide-slate-800">
                            {page.entries.into_iter().map(|e| view! { <AuditRow entry=e/> }).collect_view()}
                        </tbody>
                    </table>
                }
                .into_any()
            }}
        </section>
        <nav class="flex flex-wrap items-center justify-between gap-3" aria-label="Audit log pages">
            <p class="text-sm text-slate-500 dark:text-slate-400" data-testid="audit-count">
                {match count {
                    0 => String::new(),
                    1 => "1 entry".to_string(),
                    n => format!("{n} entries"),
                }}
                {before.is_some().then_some(" · older page")}
            </p>
            <div class="flex gap-2">
                {before.is_some().then(|| view! {
                    <a href="/settings/audit" class="btn btn-secondary" data-testid="audit-newest">"Newest"</a>
                })}
                {older.map(|href| view! {
                    <a href=href class="btn btn-secondary" data-testid="audit-older">
                        "Older"
                        <Icon icon=I::ArrowRight class="h-4 w-4"/>
                    </a>
                })}
            </div>
        </nav>
    }
}

/// Failed sign-ins and refusals stand out.
fn action_tone(action: &str) -> &'static str {
    let a = action.to_ascii_lowercase();
    if ["fail", "denied", "refused", "forbidden", "rate"]
        .iter()
        .any(|w| a.contains(w))
    {
        "bg-red-50 text-red-700 ring-red-200 dark:bg-red-500/10 dark:text-red-300 dark:ring-red-500/30"
    } else if a.starts_with("user") || a.starts_with("token") {
        "bg-indigo-50 text-indigo-700 ring-indigo-200 dark:bg-indigo-500/10 dark:text-indigo-300 dark:ring-indigo-500/30"
    } else {
        "bg-slate-100 text-slate-700 ring-slate-200 dark:bg-slate-800 dark:text-slate-200 dark:ring-slate-700"
    }
}

#[component]
fn AuditRow(entry: AuditView) -> impl IntoView {
    let dash = || view! { <span class="text-slate-400">"—"</span> };
    view! {
        <tr data-testid=format!("audit-row-{}", entry.id) data-action=entry.action.clone()>
            <td class="c-head whitespace-nowrap px-4 py-2.5 font-mono text-xs text-slate-600 sm:pl-6 dark:text-slate-300">
                <time datetime=domain::time::rfc3339(entry.at_ms)>{format::datetime(entry.at_ms).trim_end_matches(" UTC").to_string()}</time>
            </td>
            <td class="px-3 py-2.5 font-medium" data-label="Actor">
                <span class="break-all">{entry.actor.clone()}</span>
            </td>
            <td class="px-3 py-2.5 font-mono text-xs text-slate-500 dark:text-slate-400" data-label="From">
                {match entry.source.clone() {
                    Some(s) => view! { <span class="break-all">{s}</span> }.into_any(),
                    None => dash().into_any(),
                }}
            </td>
            <td class="px-3 py-2.5" data-label="Action">
                <span class=format!("inline-flex whitespace-nowrap rounded-md px-1.5 py-0.5 font-mono text-xs font-medium ring-1 ring-inset {}", action_tone(&entry.action))>
                    {entry.action.clone()}
                </span>
            </td>
            <td class="px-3 py-2.5" data-label="Target">
                {match entry.target.clone() {
                    // A run id (a ULID) links to its run.
                    Some(t) if t.len() == 26 && t.chars().all(|c| c.is_ascii_digit() || c.is_ascii_uppercase()) => view! {
                        <a href=format!("/runs/{t}") class="break-all font-mono text-xs text-indigo-600 hover:underline dark:text-indigo-400">{t.clone()}</a>
                    }
                    .into_any(),
                    Some(t) => view! { <span class="break-all font-mono text-xs">{t}</span> }.into_any(),
                    None => dash().into_any(),
                }}
            </td>
            <td class="px-4 py-2.5 text-slate-600 sm:pr-6 dark:text-slate-300" data-label="Detail">
                {match entry.detail.clone() {
                    Some(d) => view! { <span class="break-words">{d}</span> }.into_any(),
                    None => dash().into_any(),
                }}
            </td>
        </tr>
    }
}
