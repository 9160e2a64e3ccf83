//! `/specs/new`: fabrik's 10 interview questions, one step at a time, each checked
//! before Next (the same rules the server applies on save), with the spec's JSON live
//! beside the form. The draft is kept in this browser, so a reload or a server restart
//! loses nothing.
use super::lists::{ListEditor, Problems};
use super::SpecStatusBadge;
use crate::browser::{read_picked_file, store, stored, today};
use crate::components::{ErrorBanner, Icon, I};
use crate::error::AppError;
use crate::server_fns::create_spec;
use crate::session::use_session;
use domain::auth::Action;
use domain::spec::{check_spec, describe_problems, parse_spec, FieldProblem, Spec, STEPS};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_meta::Title;
use leptos_router::hooks::use_navigate;
use serde::{Deserialize, Serialize};

const DRAFT_KEY: &str = "fabrik.spec-draft";

/// What this browser keeps between visits.
#[derive(Serialize, Deserialize)]
struct Kept {
    spec: Spec,
    step: usize,
}

#[derive(Clone, Copy)]
struct Wizard {
    spec: RwSignal<Spec>,
    step: RwSignal<usize>,
    /// Problems shown since Next or Save was refused; they update as the person types.
    shown: RwSignal<bool>,
}

impl Wizard {
    fn problems(&self) -> Vec<FieldProblem> {
        let step = self.step.get();
        self.spec.with(|s| STEPS[step].problems(s))
    }
}

#[component]
pub fn SpecWizardPage() -> impl IntoView {
    let session = use_session();
    let refusal = session.refusal(Action::EditSpecs);
    let refused = refusal.is_some();
    let wizard = Wizard {
        spec: RwSignal::new(Spec::new_draft("")),
        step: RwSignal::new(0),
        shown: RwSignal::new(false),
    };
    keep_draft(wizard);
    let error = RwSignal::new(None::<AppError>);
    let loaded = RwSignal::new(None::<Result<String, String>>);
    let saving = RwSignal::new(false);
    let navigate = use_navigate();

    let next = move |_| {
        if wizard.problems().is_empty() {
            wizard.shown.set(false);
            wizard.step.update(|s| *s = (*s + 1).min(STEPS.len() - 1));
        } else {
            wizard.shown.set(true);
        }
    };
    let back = move |_| {
        wizard.shown.set(false);
        wizard.step.update(|s| *s = s.saturating_sub(1));
    };
    let save = move |_| {
        let spec = wizard.spec.get_untracked();
        if let Some(first) = check_spec(&spec).first() {
            // Go to the first step with a problem, and show it there.
            let step = STEPS
                .iter()
                .position(|s| !s.problems(&spec).is_empty())
                .unwrap_or(0);
            wizard.step.set(step);
            wizard.shown.set(true);
            error.set(Some(AppError::new(
                domain::ErrorCode::BadRequest,
                first.to_string(),
            )));
            return;
        }
        saving.set(true);
        let navigate = navigate.clone();
        spawn_local(async move {
            let id = spec.id.clone();
            match create_spec(spec).await {
                Ok(_) => {
                    store(DRAFT_KEY, None);
                    navigate(&format!("/specs/{id}"), Default::default());
                }
                Err(e) => {
                    saving.set(false);
                    error.set(Some(e));
                }
            }
        });
    };
    let load_file = move |ev| {
        read_picked_file(ev, move |name, text| {
            let result = match text.as_deref().map(parse_spec) {
                Some(Ok(spec)) => {
                    wizard.spec.set(spec);
                    wizard.step.set(0);
                    Ok(format!("Loaded {name}. Check each step, then save."))
                }
                Some(Err(problems)) => Err(format!(
                    "{name} doesn't fit fabrik's spec schema:\n{}",
                    describe_problems(&problems)
                )),
                None => Err(format!("{name} could not be read as text.")),
            };
            loaded.set(Some(result));
        })
    };
    let start_over = move |_| {
        store(DRAFT_KEY, None);
        wizard.spec.set(Spec::new_draft(&today()));
        wizard.step.set(0);
        wizard.shown.set(false);
        loaded.set(None);
    };
    let last = move || wizard.step.get() == STEPS.len() - 1;

    view! {
        <Title text="New spec"/>
        <div class="mx-auto max-w-7xl space-y-5 px-4 py-6 sm:px-6 lg:px-8">
            <header class="flex flex-wrap items-end gap-3">
                <div class="min-w-[14rem] flex-1">
                    <h1 class="text-xl font-semibold tracking-tight">"New spec"</h1>
                    <p class="mt-1 text-sm text-slate-500 dark:text-slate-400">
                        "Ten questions turn an idea into a spec fabrik can run. Your answers stay in this browser until you save."
                    </p>
                </div>
                <label class="btn btn-secondary cursor-pointer" data-testid="spec-load">
                    <Icon icon=I::FileText class="h-4 w-4"/>
                    "Load spec JSON"
                    <input type="file" accept=".json,application/json" class="sr-only" data-testid="spec-load-input" on:change=load_file/>
                </label>
                <button type="button" class="btn btn-ghost" data-testid="spec-start-over" on:click=start_over>"Start over"</button>
            </header>
            {move || loaded.get().map(|r| match r {
                Ok(text) => view! { <p class="text-sm text-emerald-700 dark:text-emerald-400" data-testid="spec-loaded">{text}</p> }.into_any(),
                Err(text) => view! { <p class="whitespace-pre-line text-sm text-red-600 dark:text-red-400" data-testid="spec-load-error">{text}</p> }.into_any(),
            })}
            {refusal.clone().map(|why| view! { <ErrorBanner error=AppError::new(domain::ErrorCode::Forbidden, why)/> })}

            <div class="grid gap-5 lg:grid-cols-[13rem_1fr_24rem]">
                <StepList wizard/>
                <section class="card min-w-0 space-y-5 p-4 sm:p-6" data-testid="spec-step">
                    {move || {
                        let step = &STEPS[wizard.step.get()];
                        view! {
                            <div>
                                <p class="text-xs font-medium uppercase tracking-wide text-slate-500 dark:text-slate-400">
                                    {format!("Step {} of {}", step.number, STEPS.len())}
                                </p>
                                <h2 class="mt-1 text-lg font-semibold" data-testid="spec-step-title">{step.title}</h2>
                                <p class="mt-1 text-sm text-slate-600 dark:text-slate-300" data-testid="spec-step-guidance">{step.guidance}</p>
                            </div>
                        }
                    }}
                    <StepFields wizard/>
                    <Show when=move || wizard.shown.get() && !wizard.problems().is_empty()>
                        <div class="rounded-lg border border-red-200 bg-red-50 px-4 py-3 text-sm text-red-800 dark:border-red-900 dark:bg-red-950/40 dark:text-red-300" data-testid="spec-step-problems">
                            <p class="font-medium">"Fix these before going on:"</p>
                            <ul class="mt-1 list-disc pl-5">
                                {move || wizard.problems().into_iter().map(|p| view! { <li>{p.to_string()}</li> }).collect_view()}
                            </ul>
                        </div>
                    </Show>
                    {move || error.get().map(|e| view! { <ErrorBanner error=e testid="form-error"/> })}
                    <div class="flex items-center justify-between gap-2 border-t border-slate-200 pt-4 dark:border-slate-800">
                        <button type="button" class="btn btn-secondary" data-testid="spec-back"
                            disabled=move || wizard.step.get() == 0 on:click=back>
                            <Icon icon=I::ArrowLeft class="h-4 w-4"/>
                            "Back"
                        </button>
                        <Show when=last fallback=move || view! {
                            <button type="button" class="btn btn-primary" data-testid="spec-next" on:click=next>
                                "Next"
                                <Icon icon=I::ArrowRight class="h-4 w-4"/>
                            </button>
                        }>
                            <button type="button" class="btn btn-primary" data-testid="spec-save"
                                disabled=move || saving.get() || refused on:click=save.clone()>
                                <Icon icon=I::Check class="h-4 w-4"/>
                                {move || if saving.get() { "Saving…" } else { "Save spec" }}
                            </button>
                        </Show>
                    </div>
                </section>
                <aside class="card min-w-0 p-4 lg:sticky lg:top-4 lg:self-start">
                    <h2 class="text-sm font-semibold">"spec.json"</h2>
                    <pre class="mt-2 max-h-[32rem] overflow-auto whitespace-pre-wrap break-words font-mono text-xs text-slate-700 dark:text-slate-300" data-testid="spec-preview">
                        {move || wizard.spec.with(|s| serde_json::to_string_pretty(s).unwrap_or_default())}
                    </pre>
                </aside>
            </div>
        </div>
    }
}

/// Restores the draft this browser kept, then keeps every change.
fn keep_draft(wizard: Wizard) {
    Effect::new(move |restored: Option<()>| {
        if restored.is_none() {
            match stored(DRAFT_KEY).and_then(|text| serde_json::from_str::<Kept>(&text).ok()) {
                Some(kept) => {
                    wizard.spec.set(kept.spec);
                    wizard.step.set(kept.step.min(STEPS.len() - 1));
                }
                None => wizard.spec.update(|s| s.last_updated = today()),
            }
        }
        let kept = Kept {
            spec: wizard.spec.get(),
            step: wizard.step.get(),
        };
        if let Ok(text) = serde_json::to_string(&kept) {
            store(DRAFT_KEY, Some(&text));
        }
    });
}

/// The ten steps; passed ones are ticked, and any step before the current one can be
/// revisited.
#[component]
fn StepList(wizard: Wizard) -> impl IntoView {
    view! {
        <nav aria-label="Interview steps" class="card min-w-0 p-2 lg:self-start">
            <ol class="flex gap-1 overflow-x-auto lg:flex-col" data-testid="spec-steps">
                {STEPS.iter().enumerate().map(|(i, step)| {
                    let done = move || i < wizard.step.get() && wizard.spec.with(|s| STEPS[i].problems(s).is_empty());
                    let current = move || wizard.step.get() == i;
                    let reachable = move || i <= wizard.step.get();
                    view! {
                        <li>
                            <button type="button"
                                class=move || format!(
                                    "flex w-full items-center gap-2 whitespace-nowrap rounded-md px-2.5 py-1.5 text-left text-sm {}",
                                    if current() { "bg-indigo-50 font-medium text-indigo-700 dark:bg-indigo-950/50 dark:text-indigo-300" }
                                    else { "text-slate-600 hover:bg-slate-50 disabled:opacity-50 disabled:hover:bg-transparent dark:text-slate-300 dark:hover:bg-slate-800/50" }
                                )
                                aria-current=move || current().then_some("step")
                                data-testid=format!("spec-step-{}", step.number)
                                disabled=move || !reachable()
                                on:click=move |_| { wizard.shown.set(false); wizard.step.set(i); }>
                                <span class=move || format!(
                                    "flex h-5 w-5 flex-none items-center justify-center rounded-full text-[11px] {}",
                                    if done() && !current() { "bg-emerald-100 text-emerald-700 dark:bg-emerald-900/50 dark:text-emerald-300" }
                                    else { "bg-slate-100 text-slate-600 dark:bg-slate-800 dark:text-slate-300" }
                                )>
                                    {move || if done() && !current() { view! { <Icon icon=I::Check class="h-3 w-3"/> }.into_any() } else { step.number.to_string().into_any() }}
                                </span>
                                {step.title}
                            </button>
                        </li>
                    }
                }).collect_view()}
            </ol>
        </nav>
    }
}

/// The inputs of the current step.
#[component]
fn StepFields(wizard: Wizard) -> impl IntoView {
    let spec = wizard.spec;
    let problems = Signal::derive(move || {
        if wizard.shown.get() {
            wizard.problems()
        } else {
            Vec::new()
        }
    });
    move || {
        match wizard.step.get() {
        0 => view! {
            <TextInput label="Id" testid="spec-id" placeholder="weekly-summary" problems
                field="id" get=|s| s.id.clone() set=|s, v| s.id = v spec/>
        }.into_any(),
        1 => view! {
            <TextInput label="Title" testid="spec-title" placeholder="Send each team a weekly summary of its merged work" problems
                field="title" get=|s| s.title.clone() set=|s, v| s.title = v spec/>
        }.into_any(),
        2 => view! {
            <div class="space-y-4">
                <p class="text-sm">"Status: " {move || view! { <SpecStatusBadge status=spec.with(|s| s.status.clone())/> }}</p>
                <div class="grid gap-4 sm:grid-cols-2">
                    <TextInput label="Version" testid="spec-version" placeholder="1.0.0" problems
                        field="version" get=|s| s.version.clone() set=|s, v| s.version = v spec/>
                    <TextInput label="Last updated" testid="spec-last-updated" placeholder="2026-11-26" problems
                        field="lastUpdated" get=|s| s.last_updated.clone() set=|s, v| s.last_updated = v spec/>
                </div>
                <ListEditor spec problems label="Depends on (spec ids)" field="dependsOn" testid="spec-depends" placeholder="000-base"
                    read=|s| &s.depends_on write=|s| &mut s.depends_on/>
                <ListEditor spec problems label="Supersedes (spec ids)" field="supersedes" testid="spec-supersedes" placeholder="010-old-summary"
                    read=|s| &s.supersedes write=|s| &mut s.supersedes/>
            </div>
        }.into_any(),
        3 => view! {
            <ListEditor spec problems label="Goals" field="goals" testid="spec-goals" placeholder="Show every run's progress within 1 s"
                read=|s| &s.goals write=|s| &mut s.goals/>
        }.into_any(),
        4 => view! {
            <ListEditor spec problems label="Non-goals" field="nonGoals" testid="spec-non-goals" placeholder="No Slack integration"
                read=|s| &s.non_goals write=|s| &mut s.non_goals/>
        }.into_any(),
        5 => view! {
            <ListEditor spec problems label="API" field="req.api" testid="spec-api" placeholder="GET /api/v1/summaries lists summaries"
                read=|s| &s.req.api write=|s| &mut s.req.api/>
        }.into_any(),
        6 => view! {
            <div class="space-y-4">
                <ListEditor spec problems label="Behaviour" field="req.behavior" testid="spec-behavior" placeholder="Given …, when …, then …"
                    read=|s| &s.req.behavior write=|s| &mut s.req.behavior/>
                <GivenWhenThen spec/>
            </div>
        }.into_any(),
        7 => view! {
            <ListEditor spec problems label="Observability" field="req.obs" testid="spec-obs" placeholder="summaries_sent_total counter"
                read=|s| &s.req.obs write=|s| &mut s.req.obs/>
        }.into_any(),
        8 => view! {
            <ListEditor spec problems label="Acceptance criteria" field="accept" testid="spec-accept" placeholder="Lists every pull request merged in the last 7 days"
                read=|s| &s.accept write=|s| &mut s.accept checklist=true/>
        }.into_any(),
        _ => view! {
            <div class="space-y-4">
                <ListEditor spec problems label="Assumptions" field="assume" testid="spec-assume" placeholder="Teams have a time zone set"
                    read=|s| &s.assume write=|s| &mut s.assume/>
                <ListEditor spec problems label="Environment variables it needs (cfg.env)" field="cfg.env" testid="spec-env" placeholder="WEBHOOK_SECRET"
                    read=|s| s.cfg.as_ref().map(|c| &c.env).unwrap_or(&NO_ITEMS) write=|s| &mut s.cfg.get_or_insert_with(Default::default).env/>
            </div>
        }.into_any(),
    }
    }
}

static NO_ITEMS: Vec<String> = Vec::new();

/// One text field of the spec, with its problems under it.
#[component]
fn TextInput(
    spec: RwSignal<Spec>,
    label: &'static str,
    field: &'static str,
    testid: &'static str,
    placeholder: &'static str,
    get: fn(&Spec) -> String,
    set: fn(&mut Spec, String),
    problems: Signal<Vec<FieldProblem>>,
) -> impl IntoView {
    view! {
        <label class="block">
            <span class="label">{label}</span>
            <input type="text" class="input mt-1" data-testid=testid placeholder=placeholder
                prop:value=move || spec.with(get)
                on:input=move |ev| { let v = event_target_value(&ev); spec.update(|s| set(s, v)); }/>
            <Problems problems field exact=true/>
        </label>
    }
}

/// Builds one "Given …, when …, then …" behaviour from three parts.
#[component]
fn GivenWhenThen(spec: RwSignal<Spec>) -> impl IntoView {
    let parts = [
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
    ];
    let complete = move || parts.iter().all(|p| p.with(|t| !t.trim().is_empty()));
    let add = move |_| {
        let [given, when, then] = parts.map(|p| p.get_untracked().trim().to_string());
        spec.update(|s| {
            s.req
                .behavior
                .push(format!("Given {given}, when {when}, then {then}"))
        });
        parts.iter().for_each(|p| p.set(String::new()));
    };
    view! {
        <fieldset class="rounded-lg border border-dashed border-slate-300 p-3 dark:border-slate-700" data-testid="spec-gwt">
            <legend class="px-1 text-xs font-medium uppercase tracking-wide text-slate-500 dark:text-slate-400">"Given / When / Then"</legend>
            <div class="grid gap-2 sm:grid-cols-3">
                {["Given", "When", "Then"].into_iter().zip(parts).map(|(word, part)| view! {
                    <label class="block">
                        <span class="text-xs text-slate-500 dark:text-slate-400">{word}</span>
                        <input type="text" class="input mt-1" data-testid=format!("spec-gwt-{}", word.to_lowercase())
                            prop:value=move || part.get() on:input=move |ev| part.set(event_target_value(&ev))/>
                    </label>
                }).collect_view()}
            </div>
            <button type="button" class="btn btn-secondary mt-2" data-testid="spec-gwt-add" disabled=move || !complete() on:click=add>
                <Icon icon=I::Plus class="h-4 w-4"/>
                "Add behaviour"
            </button>
        </fieldset>
    }
}
