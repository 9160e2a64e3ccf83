//! The dispatch form's fields — template, workflow, spec, repo, project/env and the
//! run's settings — shared by `/dispatch` and `/schedules/new`.
use super::{env_field, spec_field};
use crate::error::AppError;
use domain::dispatch::DispatchRequest;
use domain::template::TemplateSummary;
use leptos::prelude::*;

/// The template chosen when none is: the bundled demo, else the first one.
fn default_template(templates: &[TemplateSummary]) -> String {
    templates
        .iter()
        .find(|t| t.name == "demo")
        .or_else(|| templates.first())
        .map(|t| t.name.clone())
        .unwrap_or_default()
}

#[derive(Clone, Copy)]
pub struct DispatchFields {
    template: RwSignal<String>,
    workflow: RwSignal<String>,
    spec: spec_field::SpecChoice,
    project: RwSignal<String>,
    env: RwSignal<String>,
    repo: RwSignal<String>,
    cpu: RwSignal<String>,
    memory: RwSignal<String>,
    model: RwSignal<String>,
    iterations: RwSignal<String>,
    env_sets: env_field::EnvSets,
    /// Why the chosen env can't be used, and where to fix it.
    pub env_problem: Signal<Option<(String, String)>>,
}

impl DispatchFields {
    /// `prefill`: a value per field name (from a link's query), empty for none.
    pub fn new(templates: &[TemplateSummary], prefill: impl Fn(&str) -> String) -> Self {
        let wanted = prefill("template");
        let template = if templates.iter().any(|t| t.name == wanted) {
            wanted
        } else {
            default_template(templates)
        };
        let (project, env) = (
            RwSignal::new(prefill("project")),
            RwSignal::new(prefill("env")),
        );
        let env_sets = env_field::use_env_sets();
        DispatchFields {
            template: RwSignal::new(template),
            workflow: RwSignal::new(prefill("workflow")),
            spec: spec_field::SpecChoice::new(prefill("spec")),
            project,
            env,
            repo: RwSignal::new(prefill("repo")),
            cpu: RwSignal::new(prefill("cpu")),
            memory: RwSignal::new(prefill("memory")),
            model: RwSignal::new(prefill("model")),
            iterations: RwSignal::new(prefill("iterations")),
            env_sets,
            env_problem: env_field::env_check(env_sets, project, env),
        }
    }

    /// The request the fields make, checked as the server will.
    pub fn request(&self) -> Result<DispatchRequest, AppError> {
        let iterations = match self.iterations.get_untracked().trim() {
            "" => None,
            n => Some(n.parse().map_err(|_| {
                AppError::new(
                    domain::ErrorCode::BadRequest,
                    "iterations: write a whole number from 1 to 100.",
                )
            })?),
        };
        let (spec, spec_json) = self.spec.request();
        let text = |s: RwSignal<String>| Some(s.get_untracked());
        let request = DispatchRequest {
            template: self.template.get_untracked(),
            workflow: text(self.workflow),
            spec,
            spec_json,
            project: text(self.project),
            env: text(self.env),
            repo: text(self.repo),
            cpu: text(self.cpu),
            memory: text(self.memory),
            model: text(self.model),
            iterations,
        };
        request.normalized().map_err(AppError::from)
    }
}

#[component]
pub fn DispatchFieldsView(
    fields: DispatchFields,
    templates: Vec<TemplateSummary>,
    pending: Signal<bool>,
) -> impl IntoView {
    let f = fields;
    let selected = {
        let templates = templates.clone();
        move || {
            f.template
                .with(|name| templates.iter().find(|t| &t.name == name).cloned())
        }
    };
    let workflow_placeholder = {
        let selected = selected.clone();
        move || {
            selected()
                .and_then(|t| t.workflow)
                .unwrap_or_else(|| "The template's default workflow".into())
        }
    };
    view! {
        <label class="block">
            <span class="label">"Template"</span>
            <select name="template" data-testid="template-select" class="input mt-1"
                prop:value=move || f.template.get()
                on:change=move |ev| f.template.set(event_target_value(&ev))
                disabled=move || pending.get()>
                {templates.iter().map(|t| {
                    let name = t.name.clone();
                    view! { <option value=t.name.clone() selected=move || f.template.get() == name>{t.name.clone()}</option> }
                }).collect_view()}
            </select>
            <span class="mt-1.5 block text-sm text-slate-500 dark:text-slate-400" data-testid="template-description">
                {move || selected().map(|t| t.description).filter(|d| !d.is_empty()).unwrap_or_else(|| "No description.".into())}
            </span>
        </label>
        <label class="block">
            <span class="label">"Workflow" <span class="optional">"optional"</span></span>
            <input type="text" name="workflow" data-testid="workflow-input" class="input mt-1 font-mono"
                autocomplete="off" spellcheck="false" placeholder=workflow_placeholder
                prop:value=move || f.workflow.get() on:input=move |ev| f.workflow.set(event_target_value(&ev))
                disabled=move || pending.get()/>
            <span class="hint">"Path of the workflow file; relative paths are resolved on the server."</span>
        </label>
        <spec_field::SpecField choice=f.spec pending/>
        <OptionalField label="Repository" name="repo" testid="repo-input" mono=true placeholder="https://github.com/acme/app.git"
            hint="The repository the agents work on." value=f.repo pending/>
        <div class="grid gap-5 sm:grid-cols-2">
            <OptionalField label="Project" name="project" testid="project-input" mono=false placeholder="e.g. acme"
                hint="" value=f.project pending/>
            <env_field::EnvField sets=f.env_sets project=f.project env=f.env pending/>
        </div>
        {move || f.env_problem.get().map(|(text, href)| view! {
            <p class="-mt-3 text-sm text-red-600 dark:text-red-400" data-testid="env-problem">
                {text} " " <a class="link font-medium" href=href data-testid="env-fix-link">"Fix it"</a>
            </p>
        })}
        <div class="grid gap-5 sm:grid-cols-2">
            <OptionalField label="CPU" name="cpu" testid="cpu-input" mono=true placeholder="e.g. 2 or 500m" hint="" value=f.cpu pending/>
            <OptionalField label="Memory" name="memory" testid="memory-input" mono=true placeholder="e.g. 4Gi" hint="" value=f.memory pending/>
            <OptionalField label="Model" name="model" testid="model-input" mono=true placeholder="e.g. claude-sonnet-4-5" hint="" value=f.model pending/>
            <OptionalField label="Max iterations" name="iterations" testid="iterations-input" mono=false placeholder="1–100" hint="" value=f.iterations pending/>
        </div>
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
    pending: Signal<bool>,
) -> impl IntoView {
    view! {
        <label class="block">
            <span class="label">{label} <span class="optional">"optional"</span></span>
            <input type="text" name=name data-testid=testid class=if mono { "input mt-1 font-mono" } else { "input mt-1" }
                autocomplete="off" spellcheck="false" placeholder=placeholder
                prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev))
                disabled=move || pending.get()/>
            {(!hint.is_empty()).then(|| view! { <span class="hint">{hint}</span> })}
        </label>
    }
}
