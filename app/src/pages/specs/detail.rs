//! `/specs/:id`: the spec, readable, and where its todo stands.
use super::SpecStatusBadge;
use crate::components::{ErrorBanner, Icon, I};
use crate::server_fns::{load_spec, make_todo};
use crate::session::use_session;
use domain::auth::Action;
use domain::spec::{SpecView, TodoState};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map};

pub fn spec_id() -> impl Fn() -> String + Clone + Send + Sync + 'static {
    let params = use_params_map();
    move || params.with(|p| p.get("id").unwrap_or_default())
}

#[component]
pub fn SpecPage() -> impl IntoView {
    let id = spec_id();
    let spec = Resource::new(id.clone(), load_spec);
    view! {
        <Title text={ let id = id.clone(); move || format!("{} · Spec", id()) }/>
        <div class="mx-auto max-w-5xl space-y-5 px-4 py-6 sm:px-6 lg:px-8">
            <a href="/specs" class="back-link"><Icon icon=I::ArrowLeft class="h-4 w-4"/>"Specs"</a>
            <Suspense fallback=|| view! { <div class="card h-64 animate-pulse"></div> }>
                {move || Suspend::new(async move {
                    match spec.await {
                        Ok(view) => view! { <SpecDetail view/> }.into_any(),
                        Err(e) => view! { <ErrorBanner error=e/> }.into_any(),
                    }
                })}
            </Suspense>
        </div>
    }
}

#[component]
fn SpecDetail(view: SpecView) -> impl IntoView {
    let s = view.spec.clone();
    let sections: Vec<(&str, Vec<String>)> = vec![
        ("Goals", s.goals.clone()),
        ("Non-goals", s.non_goals.clone()),
        ("API", s.req.api.clone()),
        ("Behaviour", s.req.behavior.clone()),
        ("Observability", s.req.obs.clone()),
        ("Acceptance", s.accept.clone()),
        ("Assumptions", s.assume.clone()),
        (
            "Environment variables",
            s.cfg.clone().map(|c| c.env).unwrap_or_default(),
        ),
        ("Depends on", s.depends_on.clone()),
        ("Supersedes", s.supersedes.clone()),
    ];
    let json = serde_json::to_string_pretty(&s).unwrap_or_default();
    view! {
        <header class="space-y-1">
            <div class="flex flex-wrap items-center gap-2">
                <h1 class="font-mono text-xl font-semibold tracking-tight" data-testid="spec-detail-id">{s.id.clone()}</h1>
                <SpecStatusBadge status=s.status.clone()/>
            </div>
            <p class="text-base text-slate-700 dark:text-slate-200">{s.title.clone()}</p>
            <p class="text-xs text-slate-500 dark:text-slate-400">
                {format!("Version {} · last updated {} · revision {} by {}", s.version, s.last_updated, view.revision, view.updated_by)}
            </p>
        </header>
        <TodoCard view=view.clone()/>
        <section class="card divide-y divide-slate-100 dark:divide-slate-800">
            {sections.into_iter().filter(|(_, items)| !items.is_empty()).map(|(title, items)| view! {
                <div class="grid gap-1 px-4 py-3 sm:grid-cols-[11rem_1fr] sm:gap-4 sm:px-6">
                    <h2 class="text-xs font-medium uppercase tracking-wide text-slate-500 dark:text-slate-400">{title}</h2>
                    <ul class="list-disc space-y-1 pl-5 text-sm">
                        {items.into_iter().map(|i| view! { <li>{i}</li> }).collect_view()}
                    </ul>
                </div>
            }).collect_view()}
        </section>
        <details class="card p-4 sm:px-6">
            <summary class="cursor-pointer text-sm font-medium">"spec.json"</summary>
            <pre class="mt-2 overflow-auto whitespace-pre-wrap break-words font-mono text-xs" data-testid="spec-json">{json}</pre>
        </details>
    }
}

/// The todo's state and the next thing to do: generate, review, or dispatch.
#[component]
fn TodoCard(view: SpecView) -> impl IntoView {
    let can_edit = use_session().refusal(Action::EditSpecs).is_none();
    let id = view.spec.id.clone();
    let state = view
        .todo
        .as_ref()
        .map(|t| t.state())
        .unwrap_or(TodoState::None);
    let error = RwSignal::new(None);
    let busy = RwSignal::new(false);
    let navigate = use_navigate();
    let generate = {
        let id = id.clone();
        move |_| {
            busy.set(true);
            let (id, navigate) = (id.clone(), navigate.clone());
            spawn_local(async move {
                match make_todo(id.clone()).await {
                    Ok(_) => navigate(&format!("/specs/{id}/todo"), Default::default()),
                    Err(e) => {
                        busy.set(false);
                        error.set(Some(e));
                    }
                }
            });
        }
    };
    let text = match state {
        TodoState::None => "No todo yet. Generate one from this spec, review it, and approve it to make the spec ready.",
        TodoState::Generated => "The todo waits for review and approval.",
        TodoState::Approved => "The todo is approved: this spec is ready to dispatch.",
    };
    let tasks = view.todo.as_ref().map(|t| t.todo.tasks.len()).unwrap_or(0);
    view! {
        <section class="card flex flex-col gap-3 p-4 sm:flex-row sm:items-center sm:px-6" data-testid="spec-todo-card">
            <p class="flex-1 text-sm">
                <span class="font-medium">"Todo: "</span>{text}
                {(tasks > 0).then(|| format!(" ({tasks} tasks)"))}
            </p>
            {(state == TodoState::None && can_edit).then(|| view! {
                <button type="button" class="btn btn-primary" data-testid="spec-generate-todo" disabled=move || busy.get() on:click=generate.clone()>
                    <Icon icon=I::List class="h-4 w-4"/>
                    "Generate todo"
                </button>
            })}
            {(state != TodoState::None).then(|| view! {
                <a class="btn btn-secondary" href=format!("/specs/{id}/todo") data-testid="spec-open-todo">
                    <Icon icon=I::List class="h-4 w-4"/>
                    "Open todo"
                </a>
            })}
            {view.can_dispatch().then(|| view! {
                <a class="btn btn-primary" href=format!("/dispatch?spec={id}") data-testid="spec-dispatch">
                    <Icon icon=I::Send class="h-4 w-4"/>
                    "Dispatch"
                </a>
            })}
        </section>
        {move || error.get().map(|e| view! { <ErrorBanner error=e testid="form-error"/> })}
    }
}
