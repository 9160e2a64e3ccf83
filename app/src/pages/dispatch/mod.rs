//! `/dispatch`: start a run from a template, for a spec, with a project's env and the
//! run's settings (repo, resources, model, iterations).
mod env_field;
mod fields;
mod spec_field;

pub use fields::{DispatchFields, DispatchFieldsView};

use crate::components::{ErrorBanner, Icon, I};
use crate::error::AppError;
use crate::server_fns::{list_templates, DispatchRun};
use crate::session::use_session;
use domain::auth::Action;
use domain::template::TemplateSummary;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_query_map};

#[component]
pub fn DispatchPage() -> impl IntoView {
    if let Some(why) = use_session().refusal(Action::Dispatch) {
        return view! { <DispatchDenied why/> }.into_any();
    }
    let templates = Resource::new(|| (), |_| list_templates());
    view! {
        <Title text="Dispatch"/>
        <div class="page">
            <div class="mx-auto max-w-2xl space-y-6">
                <div>
                    <h1 class="text-2xl font-semibold tracking-tight">"Dispatch a run"</h1>
                    <p class="mt-1 text-sm text-slate-500 dark:text-slate-400">
                        "A template names the workflow to run and its defaults. Leave a field empty to use the template's default."
                    </p>
                </div>
                <Suspense fallback=|| view! { <div class="card h-96 animate-pulse"></div> }>
                    {move || Suspend::new(async move {
                        match templates.await {
                            Ok(list) if list.is_empty() => view! {
                                <ErrorBanner error=AppError::new(
                                    domain::ErrorCode::Unavailable,
                                    "No templates are installed, so nothing can be dispatched. Add a template file to the server's templates directory and reload.",
                                )/>
                            }
                            .into_any(),
                            Ok(list) => view! { <DispatchForm templates=list/> }.into_any(),
                            Err(e) => view! { <ErrorBanner error=e/> }.into_any(),
                        }
                    })}
                </Suspense>
            </div>
        </div>
    }
    .into_any()
}

/// What a viewer sees instead of the form.
#[component]
fn DispatchDenied(why: String) -> impl IntoView {
    view! {
        <Title text="Dispatch"/>
        <div class="page">
            <div class="mx-auto max-w-2xl space-y-6">
                <h1 class="text-2xl font-semibold tracking-tight">"Dispatch a run"</h1>
                <div data-testid="dispatch-denied" class="empty-box">
                    <div class="empty-icon"><Icon icon=I::Lock class="h-6 w-6"/></div>
                    <h2 class="mt-4 text-base font-semibold">"You can watch runs, not start them"</h2>
                    <p class="mt-1 max-w-md text-sm text-slate-500 dark:text-slate-400">{why}</p>
                    <a href="/runs" class="btn btn-secondary mt-5">
                        <Icon icon=I::ArrowLeft class="h-4 w-4"/>
                        "Back to runs"
                    </a>
                </div>
            </div>
        </div>
    }
}

#[component]
fn DispatchForm(templates: Vec<TemplateSummary>) -> impl IntoView {
    // Links may prefill the form: /dispatch?template=demo&spec=…
    let query = use_query_map();
    let fields = DispatchFields::new(&templates, |k| {
        query.with_untracked(|q| q.get(k).unwrap_or_default())
    });
    let local_error = RwSignal::new(None::<AppError>);
    let action = ServerAction::<DispatchRun>::new();
    let pending = Signal::from(action.pending());
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(d)) = action.value().get() {
            navigate(&format!("/runs/{}", d.run_id), Default::default());
        }
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if pending.get_untracked() {
            return;
        }
        match fields.request() {
            Ok(request) => {
                local_error.set(None);
                action.dispatch(DispatchRun { request });
            }
            Err(e) => local_error.set(Some(e)),
        }
    };
    let error = move || {
        local_error.get().or_else(|| match action.value().get() {
            Some(Err(e)) => Some(e),
            _ => None,
        })
    };

    view! {
        <form on:submit=on_submit class="card overflow-hidden divide-y divide-slate-200 dark:divide-slate-800" data-testid="dispatch-form">
            <div class="space-y-5 p-4 sm:p-6">
                <DispatchFieldsView fields templates pending/>
                {move || error().map(|e| view! { <ErrorBanner error=e testid="form-error"/> })}
            </div>
            <div class="flex flex-col-reverse gap-3 bg-slate-50 px-4 py-3 sm:flex-row sm:items-center sm:justify-end sm:px-6 dark:bg-slate-950/30">
                <a href="/runs" class="btn btn-ghost justify-center">"Cancel"</a>
                <button
                    type="submit"
                    data-testid="dispatch-submit"
                    class="btn btn-primary justify-center"
                    disabled=move || pending.get() || fields.env_problem.with(Option::is_some)
                >
                    <Icon icon=I::Send class="h-4 w-4"/>
                    {move || if pending.get() { "Dispatching…" } else { "Dispatch" }}
                </button>
            </div>
        </form>
    }
}
