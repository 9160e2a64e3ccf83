//! `/specs`: every spec with its status and todo; the wizard, a spec, and its todo.
pub mod detail;
mod lists;
pub mod todo;
pub mod wizard;

use crate::components::{EmptyState, ErrorBanner, PageHeader, I};
use crate::server_fns::list_specs;
use domain::spec::{SpecStatus, SpecSummary, TodoState};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn SpecsPage() -> impl IntoView {
    let specs = Resource::new(|| (), |_| list_specs());
    view! {
        <Title text="Specs"/>
        <div class="mx-auto max-w-5xl space-y-6 px-4 py-6 sm:px-6 lg:px-8">
            <PageHeader title="Specs" blurb="What to build, in fabrik's format. A spec is ready to dispatch once its todo is approved." new=("/specs/new", "New spec", "spec-new")/>
            <Suspense fallback=|| view! { <div class="card h-40 animate-pulse"></div> }>
                {move || Suspend::new(async move {
                    match specs.await {
                        Ok(all) => view! { <SpecTable specs=all/> }.into_any(),
                        Err(e) => view! { <ErrorBanner error=e/> }.into_any(),
                    }
                })}
            </Suspense>
        </div>
    }
}

#[component]
fn SpecTable(specs: Vec<SpecSummary>) -> impl IntoView {
    if specs.is_empty() {
        return view! {
            <EmptyState icon=I::FileText title="No specs yet"
                message="Start one with New spec: ten questions turn an idea into a spec fabrik can run."
                testid="specs-empty"/>
        }
        .into_any();
    }
    view! {
        <section class="card overflow-hidden">
            <table class="stack-table w-full text-sm" data-testid="specs-table">
                <thead class="table-head">
                    <tr>
                        <th scope="col" class="px-4 py-2.5 sm:pl-6">"Spec"</th>
                        <th scope="col" class="px-3 py-2.5">"Status"</th>
                        <th scope="col" class="px-3 py-2.5">"Todo"</th>
                        <th scope="col" class="px-3 py-2.5">"Updated"</th>
                    </tr>
                </thead>
                <tbody class="divide-y divide-slate-100 dark:divide-slate-800">
                    {specs.into_iter().map(|s| view! {
                        <tr data-testid=format!("spec-row-{}", s.id)>
                            <td class="px-4 py-2.5 sm:pl-6">
                                <a class="font-mono text-indigo-600 hover:underline dark:text-indigo-400" href=format!("/specs/{}", s.id)>{s.id.clone()}</a>
                                <p class="text-slate-600 dark:text-slate-300">{s.title.clone()}</p>
                            </td>
                            <td class="px-3 py-2.5"><SpecStatusBadge status=s.status.clone()/></td>
                            <td class="px-3 py-2.5 text-slate-600 dark:text-slate-300">{todo_word(s.todo)}</td>
                            <td class="px-3 py-2.5 text-slate-500 dark:text-slate-400">
                                {crate::format::datetime(s.updated_at_ms)} " by " {s.updated_by.clone()}
                            </td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </section>
    }
    .into_any()
}

fn todo_word(state: TodoState) -> &'static str {
    match state {
        TodoState::None => "none yet",
        TodoState::Generated => "waiting for approval",
        TodoState::Approved => "approved",
    }
}

/// A spec's status word, coloured: ready green, draft grey, in progress blue…
#[component]
pub fn SpecStatusBadge(status: String) -> impl IntoView {
    let tone = match SpecStatus::parse(&status) {
        Some(SpecStatus::Ready) => "bg-emerald-50 text-emerald-700 ring-emerald-200 dark:bg-emerald-950/40 dark:text-emerald-300 dark:ring-emerald-800",
        Some(SpecStatus::InProgress | SpecStatus::Review) => "bg-blue-50 text-blue-700 ring-blue-200 dark:bg-blue-950/40 dark:text-blue-300 dark:ring-blue-800",
        Some(SpecStatus::Done) => "bg-indigo-50 text-indigo-700 ring-indigo-200 dark:bg-indigo-950/40 dark:text-indigo-300 dark:ring-indigo-800",
        _ => "bg-slate-100 text-slate-700 ring-slate-200 dark:bg-slate-800 dark:text-slate-200 dark:ring-slate-700",
    };
    let word = status.clone();
    view! {
        <span data-testid="spec-status-badge" data-status=word
            class=format!("inline-flex items-center whitespace-nowrap rounded-full px-2 py-0.5 text-xs font-medium ring-1 ring-inset {tone}")>
            {status}
        </span>
    }
}
