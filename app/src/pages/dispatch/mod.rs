//! `/dispatch`: start a run from a template, for a spec, with a project's env and the
//! run's settings (repo, resources, model, iterations).
mod env_field;
mod spec_field;

use crate::components::{ErrorBanner, Icon, I};
use crate::error::AppError;
use crate::server_fns::{list_templates, DispatchRun};
use crate::session::use_session;
use domain::auth::Action;
use domain::dispatch::DispatchRequest;
use domain::template::TemplateSummary;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_query_map};

/// The template chosen when none is: the bundled demo, else the first one.
fn default_template(templates: &[TemplateSummary]) -> String {
    templates
        .iter()
        .find(|t| t.name == "demo")
        .or_else(|| templates.first())
        .map(|t| t.name.clone())
        .unwrap_or_default()
}

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
    let prefill = move |k: &str| query.with_untracked(|q| q.get(k).unwrap_or_default());
    let template = RwSignal::new({
        let wanted = prefill("template");
        if templates.iter().any(|t| t.name == wanted) {
            wanted
        } else {
            default_template(&templates)
        }
    });
    let workflow = RwSignal::new(prefill("workflow"));
    let spec = spec_field::SpecChoice::new(prefill("spec"));
    let project = RwSignal::new(prefill("project"));
    let env = RwSignal::new(prefill("env"));
    let repo = RwSignal::new(prefill("repo"));
    let cpu = RwSignal::new(prefill("cpu"));
    let memory = RwSignal::new(prefill("memory"));
    let model = RwSignal::new(prefill("model"));
    let iterations = RwSignal::new(prefill("iterations"));
    let env_problem = env_field::use_env_check(project, env);
    let local_error = RwSignal::new(None::<AppError>);

    let action = ServerAction::<DispatchRun>::new();
    let pending = action.pending();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(d)) = action.value().get() {
            navigate(&format!("/runs/{}", d.run_id), Default::default());
        }
    });

    let selected = {
        let templates = templates.clone();
        move || template.with(|name| templates.iter().find(|t| &t.name == name).cloned())
    };
    let workflow_placeholder = {
        let selected = selected.clone();
        move || {
            selected()
                .and_then(|t| t.workflow)
                .unwrap_or_else(|| "The template's default workflow".into())
        }
    };

    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if pending.get_untracked() {
            return;
        }
        let iterations = match iterations.get_untracked().trim() {
            "" => None,
            n => match n.parse() {
                Ok(n) => Some(n),
                Err(_) => {
                    local_error.set(Some(AppError::new(
                        domain::ErrorCode::BadRequest,
                        "iterations: write a whole number from 1 to 100.",
                    )));
                    return;
                }
            },
        };
        let (spec, spec_json) = spec.request();
        let request = DispatchRequest {
            template: template.get_untracked(),
            workflow: Some(workflow.get_untracked()),
            spec,
            spec_json,
            project: Some(project.get_untracked()),
            env: Some(env.get_untracked()),
            repo: Some(repo.get_untracked()),
            cpu: Some(cpu.get_untracked()),
            memory: Some(memory.get_untracked()),
            model: Some(model.get_untracked()),
            iterations,
        };
        match request.normalized() {
            Ok(request) => {
                local_error.set(None);
                action.dispatch(DispatchRun { request });
            }
            Err(e) => local_error.set(Some(e.into())),
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
                <label class="block">
                    <span class="label">"Template"</span>
                    <select
                        name="template"
                        data-testid="template-select"
                        class="input mt-1"
                        prop:value=move || template.get()
                        on:change=move |ev| template.set(event_target_value(&ev))
                        disabled=move || pending.get()
                    >
                        {templates
                            .iter()
                            .map(|t| {
                                let name = t.name.clone();
                                let value = t.name.clone();
                                view! {
                                    <option value=value selected=move || template.get() == name>
                                        {t.name.clone()}
                                    </option>
                                }
                            })
                            .collect_view()}
                    </select>
                    <span class="mt-1.5 block text-sm text-slate-500 dark:text-slate-400" data-testid="template-description">
                        {move || selected().map(|t| t.description).filter(|d| !d.is_empty()).unwrap_or_else(|| "No description.".into())}
                    </span>
                </label>
                <label class="block">
                    <span class="label">"Workflow" <span class="optional">"optional"</span></span>
                    <input
                        type="text"
                        name="workflow"
                        data-testid="workflow-input"
                        class="input mt-1 font-mono"
                        autocomplete="off"
                        spellcheck="false"
                        placeholder=workflow_placeholder
                        prop:value=move || workflow.get()
                        on:input=move |ev| workflow.set(event_target_value(&ev))
                        disabled=move || pending.get()
                    />
                    <span class="hint">"Path of the workflow file; relative paths are resolved on the server."</span>
                </label>
                <spec_field::SpecField choice=spec pending/>
                <OptionalField label="Repository" name="repo" testid="repo-input" mono=true placeholder="https://github.com/acme/app.git"
                    hint="The repository the agents work on." value=repo pending/>
                <div class="grid gap-5 sm:grid-cols-2">
                    <OptionalField label="Project" name="project" testid="project-input" mono=false placeholder="e.g. acme"
                        hint="" value=project pending/>
                    <env_field::EnvField project env pending/>
                </div>
                {move || env_problem.get().map(|(text, href)| view! {
                    <p class="-mt-3 text-sm text-red-600 dark:text-red-400" data-testid="env-problem">
                        {text} " " <a class="link font-medium" href=href data-testid="env-fix-link">"Fix it"</a>
                    </p>
                })}
                <div class="grid gap-5 sm:grid-cols-2">
                    <OptionalField label="CPU" name="cpu" testid="cpu-input" mono=true placeholder="e.g. 2 or 500m"
                        hint="" value=cpu pending/>
                    <OptionalField label="Memory" name="memory" testid="memory-input" mono=true placeholder="e.g. 4Gi"
                        hint="" value=memory pending/>
                    <OptionalField label="Model" name="model" testid="model-input" mono=true placeholder="e.g. claude-sonnet-4-5"
                        hint="" value=model pending/>
                    <OptionalField label="Max iterations" name="iterations" testid="iterations-input" mono=false placeholder="1–100"
                        hint="" value=iterations pending/>
                </div>
                {move || error().map(|e| view! { <ErrorBanner error=e testid="form-error"/> })}
            </div>
            <div class="flex flex-col-reverse gap-3 bg-slate-50 px-4 py-3 sm:flex-row sm:items-center sm:justify-end sm:px-6 dark:bg-slate-950/30">
                <a href="/runs" class="btn btn-ghost justify-center">"Cancel"</a>
                <button
                    type="submit"
                    data-testid="dispatch-submit"
                    class="btn btn-primary justify-center"
                    disabled=move || pending.get() || env_problem.with(Option::is_some)
                >
                    <Icon icon=I::Send class="h-4 w-4"/>
                    {move || if pending.get() { "Dispatching…" } else { "Dispatch" }}
                </button>
            </div>
        </form>
    }
}

/// A labelled, optional one-line text field of the form.
#[component]
fn OptionalField(
    label: &'static str,
    name: &'static str,
    testid: &'static str,
    mono: bool,
    placeholder: &'static str,
    hint: &'static str,
    value: RwSignal<String>,
    pending: Memo<bool>,
) -> impl IntoView {
    view! {
        <label class="block">
            <span class="label">{label} <span class="optional">"optional"</span></span>
            <input
                type="text"
                name=name
                data-testid=testid
                class=if mono { "input mt-1 font-mono" } else { "input mt-1" }
                autocomplete="off"
                spellcheck="false"
                placeholder=placeholder
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))
                disabled=move || pending.get()
            />
            {(!hint.is_empty()).then(|| view! { <span class="hint">{hint}</span> })}
        </label>
    }
}
