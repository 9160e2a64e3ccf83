//! `/env` and `/env/:project`: every env set by project, and a form to start a new one.
pub mod diff;
mod draft;
pub mod editor;
mod frame;
mod tabs;

pub use draft::provide_env_drafts;

use crate::components::{EmptyState, ErrorBanner, Icon, PageHeader, I};
use crate::error::AppError;
use crate::server_fns::list_env_sets;
use crate::session::use_session;
use domain::auth::Action;
use domain::env::{check_name, EnvSetSummary};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};

/// The `(project, env)` the page's address names.
fn use_env_key() -> impl Fn() -> (String, String) + Copy + Send + Sync + 'static {
    let params = use_params_map();
    move || {
        params.with(|p| {
            (
                p.get("project").unwrap_or_default(),
                p.get("env").unwrap_or_default(),
            )
        })
    }
}

#[component]
pub fn EnvListPage() -> impl IntoView {
    let params = use_params_map();
    let project = move || params.with(|p| p.get("project"));
    let sets = Resource::new(|| (), |_| list_env_sets());
    view! {
        <Title text="Environments"/>
        <div class="mx-auto max-w-5xl space-y-6 px-4 py-6 sm:px-6 lg:px-8">
            <PageHeader title="Environments" blurb="Variables a run gets, per project and env. Values are encrypted at rest and masked until revealed."/>
            {move || project().map(|project| view! { <tabs::EnvTabs project current=None/> })}
            <NewEnvForm/>
            <Suspense fallback=|| view! { <div class="card h-40 animate-pulse"></div> }>
                {move || Suspend::new(async move {
                    match sets.await {
                        Ok(all) => {
                            let shown: Vec<EnvSetSummary> = match project() {
                                Some(p) => all.into_iter().filter(|s| s.project == p).collect(),
                                None => all,
                            };
                            view! { <EnvTable sets=shown/> }.into_any()
                        }
                        Err(e) => view! { <ErrorBanner error=e/> }.into_any(),
                    }
                })}
            </Suspense>
        </div>
    }
}

#[component]
fn EnvTable(sets: Vec<EnvSetSummary>) -> impl IntoView {
    if sets.is_empty() {
        return view! {
            <EmptyState
                icon=I::Key
                title="No environments yet"
                message="Create one above, e.g. project acme, env dev, then paste your .env."
                testid="env-empty"
            />
        }
        .into_any();
    }
    view! {
        <section class="card overflow-hidden">
            <table class="stack-table w-full text-sm" data-testid="env-table">
                <thead class="table-head">
                    <tr>
                        <th scope="col" class="px-4 py-2.5 sm:pl-6">"Project"</th>
                        <th scope="col" class="px-3 py-2.5">"Env"</th>
                        <th scope="col" class="px-3 py-2.5">"Variables"</th>
                        <th scope="col" class="px-3 py-2.5">"Updated"</th>
                    </tr>
                </thead>
                <tbody class="divide-y divide-slate-100 dark:divide-slate-800">
                    {sets
                        .into_iter()
                        .map(|s| {
                            let href = format!("/env/{}/{}", s.project, s.env);
                            view! {
                                <tr data-testid=format!("env-row-{}-{}", s.project, s.env)>
                                    <td class="px-4 py-2.5 font-medium sm:pl-6">
                                        <a class="hover:underline" href=format!("/env/{}", s.project)>{s.project.clone()}</a>
                                    </td>
                                    <td class="px-3 py-2.5">
                                        <a class="font-mono text-blue-600 hover:underline dark:text-blue-400" href=href>{s.env.clone()}</a>
                                    </td>
                                    <td class="px-3 py-2.5 tabular-nums">{s.keys}</td>
                                    <td class="px-3 py-2.5 text-slate-500 dark:text-slate-400">
                                        {crate::format::datetime(s.updated_at_ms)}
                                        " by " {s.updated_by.clone()}
                                    </td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </section>
    }
    .into_any()
}

/// Project + env name, checked as you type; opens the (empty) editor of the new env.
#[component]
fn NewEnvForm() -> impl IntoView {
    let session = use_session();
    let params = use_params_map();
    let query = use_query_map();
    let project = RwSignal::new(params.with_untracked(|p| p.get("project").unwrap_or_default()));
    let env = RwSignal::new(query.with_untracked(|q| q.get("new").unwrap_or_default()));
    let error = RwSignal::new(None::<AppError>);
    let navigate = use_navigate();
    let refusal = session.refusal(Action::EditEnv);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (p, e) = (project.get_untracked(), env.get_untracked());
        let (p, e) = (p.trim(), e.trim());
        match check_name("project", p).and_then(|_| check_name("env", e)) {
            Ok(()) => navigate(&format!("/env/{p}/{e}"), Default::default()),
            Err(e) => error.set(Some(e.into())),
        }
    };
    view! {
        <section class="card p-4 sm:p-6" data-testid="env-new">
            <form on:submit=on_submit class="flex flex-col gap-3 sm:flex-row sm:items-end">
                <label class="block flex-1">
                    <span class="label">"Project"</span>
                    <input type="text" class="input mt-1 font-mono" data-testid="env-new-project" placeholder="acme"
                        prop:value=move || project.get() on:input=move |ev| project.set(event_target_value(&ev))/>
                </label>
                <label class="block flex-1">
                    <span class="label">"Env"</span>
                    <input type="text" class="input mt-1 font-mono" data-testid="env-new-env" placeholder="dev"
                        prop:value=move || env.get() on:input=move |ev| env.set(event_target_value(&ev))/>
                </label>
                <button type="submit" class="btn btn-primary justify-center" data-testid="env-new-submit"
                    disabled=refusal.is_some() title=refusal.clone().unwrap_or_default()>
                    <Icon icon=I::Plus class="h-4 w-4"/>
                    "New env"
                </button>
            </form>
            {move || error.get().map(|e| view! { <div class="mt-3"><ErrorBanner error=e testid="form-error"/></div> })}
        </section>
    }
}
