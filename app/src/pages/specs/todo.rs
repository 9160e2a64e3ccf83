//! `/specs/:id/todo`: generate the todo, edit its tasks, approve it; then the spec is
//! ready and Dispatch opens the form with it.
use super::detail::spec_id;
use super::SpecStatusBadge;
use crate::components::{ErrorBanner, Icon, I};
use crate::error::AppError;
use crate::server_fns::{approve_spec_todo, load_spec, make_todo, save_todo_edits};
use crate::session::use_session;
use domain::auth::Action;
use domain::spec::{SpecView, Task, Todo};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_meta::Title;

#[component]
pub fn TodoPage() -> impl IntoView {
    let id = spec_id();
    let spec = Resource::new(id.clone(), load_spec);
    view! {
        <Title text={ let id = id.clone(); move || format!("Todo · {}", id()) }/>
        <div class="mx-auto max-w-5xl space-y-5 px-4 py-6 sm:px-6 lg:px-8">
            <a href=move || format!("/specs/{}", id()) class="back-link"><Icon icon=I::ArrowLeft class="h-4 w-4"/>"Spec"</a>
            <Suspense fallback=|| view! { <div class="card h-64 animate-pulse"></div> }>
                {move || Suspend::new(async move {
                    match spec.await {
                        Ok(view) => view! { <TodoEditor view/> }.into_any(),
                        Err(e) => view! { <ErrorBanner error=e/> }.into_any(),
                    }
                })}
            </Suspense>
        </div>
    }
}

#[component]
fn TodoEditor(view: SpecView) -> impl IntoView {
    let can_edit = use_session().refusal(Action::EditSpecs).is_none();
    let current = RwSignal::new(view);
    let todo = RwSignal::new(current.with_untracked(|v| v.todo.as_ref().map(|t| t.todo.clone())));
    let error = RwSignal::new(None::<AppError>);
    let busy = RwSignal::new(false);
    let id = current.with_untracked(|v| v.spec.id.clone());
    let edited = move || todo.get() != current.with(|v| v.todo.as_ref().map(|t| t.todo.clone()));
    let approved =
        move || current.with(|v| v.todo.as_ref().is_some_and(|t| t.approved_at_ms.is_some()));

    // Runs one call; its answer becomes what the page shows.
    let call = move |what: Call| {
        busy.set(true);
        error.set(None);
        let id = current.with_untracked(|v| v.spec.id.clone());
        let edits = todo.get_untracked();
        spawn_local(async move {
            let result = match (what, edits) {
                (Call::Generate, _) => make_todo(id).await,
                (Call::Save, Some(t)) => save_todo_edits(id, t).await,
                (Call::Save, None) => return,
                (Call::Approve, _) => approve_spec_todo(id).await,
            };
            busy.set(false);
            match result {
                Ok(view) => {
                    todo.set(view.todo.as_ref().map(|t| t.todo.clone()));
                    current.set(view);
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };

    view! {
        <header class="flex flex-wrap items-center gap-2">
            <h1 class="text-xl font-semibold tracking-tight">"Todo for " <span class="font-mono">{id.clone()}</span></h1>
            {move || view! { <SpecStatusBadge status=current.with(|v| v.spec.status.clone())/> }}
        </header>
        {move || error.get().map(|e| view! { <ErrorBanner error=e testid="form-error"/> })}
        {move || match todo.get() {
            None => view! {
                <section class="card p-6 text-center text-sm" data-testid="todo-none">
                    <p class="text-slate-600 dark:text-slate-300">"No todo yet: generate one from the spec's goals, requirements and acceptance criteria."</p>
                    {can_edit.then(|| view! {
                        <button type="button" class="btn btn-primary mt-4" data-testid="todo-generate" disabled=move || busy.get()
                            on:click=move |_| call(Call::Generate)>
                            <Icon icon=I::List class="h-4 w-4"/>
                            "Generate todo"
                        </button>
                    })}
                </section>
            }.into_any(),
            Some(_) => view! { <TodoFields todo can_edit/> }.into_any(),
        }}
        <Show when=move || todo.with(Option::is_some)>
            <section class="card flex flex-col gap-3 p-4 sm:flex-row sm:items-center sm:px-6" data-testid="todo-actions">
                <p class="flex-1 text-sm" data-testid="todo-state">
                    {move || if edited() { "Unsaved changes: save them before approving." }
                        else if approved() { "Approved: the spec is ready to dispatch." }
                        else { "Review the tasks, then approve: the spec becomes ready." }}
                </p>
                {can_edit.then(|| view! {
                    <button type="button" class="btn btn-ghost" data-testid="todo-regenerate" disabled=move || busy.get() || edited()
                        title="Generate again from the spec (replaces the tasks)" on:click=move |_| call(Call::Generate)>
                        <Icon icon=I::Rotate class="h-4 w-4"/>
                        "Regenerate"
                    </button>
                    <button type="button" class="btn btn-secondary" data-testid="todo-save" disabled=move || busy.get() || !edited()
                        on:click=move |_| call(Call::Save)>
                        <Icon icon=I::Check class="h-4 w-4"/>
                        "Save"
                    </button>
                    <button type="button" class="btn btn-success" data-testid="todo-approve" disabled=move || busy.get() || edited() || approved()
                        on:click=move |_| call(Call::Approve)>
                        <Icon icon=I::CheckCircle class="h-4 w-4"/>
                        "Approve"
                    </button>
                })}
                {move || current.with(SpecView::can_dispatch).then(|| view! {
                    <a class="btn btn-primary" href=format!("/dispatch?spec={}", current.with(|v| v.spec.id.clone())) data-testid="todo-dispatch">
                        <Icon icon=I::Send class="h-4 w-4"/>
                        "Dispatch"
                    </a>
                })}
            </section>
        </Show>
    }
}

#[derive(Clone, Copy)]
enum Call {
    Generate,
    Save,
    Approve,
}

/// The todo's tasks (do / verify), test-first flag and definition of done.
#[component]
fn TodoFields(todo: RwSignal<Option<Todo>>, can_edit: bool) -> impl IntoView {
    let edit = move |f: &dyn Fn(&mut Todo)| {
        todo.update(|t| {
            if let Some(t) = t.as_mut() {
                f(t)
            }
        })
    };
    let tasks = move || todo.with(|t| t.as_ref().map(|t| t.tasks.len()).unwrap_or(0));
    let task = move |i: usize| {
        todo.with(|t| t.as_ref().and_then(|t| t.tasks.get(i).cloned()))
            .unwrap_or_default()
    };
    view! {
        <section class="card space-y-3 p-4 sm:px-6">
            <label class="flex items-center gap-2 text-sm">
                <input type="checkbox" data-testid="todo-tdd" disabled=!can_edit
                    prop:checked=move || todo.with(|t| t.as_ref().is_some_and(|t| t.tdd))
                    on:change=move |ev| { let on = event_target_checked(&ev); edit(&|t| t.tdd = on); }/>
                "Test first (tdd)"
            </label>
            <div>
                <span class="label">"Definition of done"</span>
                <ul class="mt-1 list-disc pl-5 text-sm" data-testid="todo-dod">
                    {move || todo.with(|t| t.as_ref().map(|t| t.dod.clone()).unwrap_or_default()).into_iter().map(|d| view! { <li>{d}</li> }).collect_view()}
                </ul>
            </div>
        </section>
        <ol class="space-y-3" data-testid="todo-tasks">
            <For each=move || 0..tasks() key=|i| *i children=move |i| view! {
                <li class="card space-y-2 p-4 sm:px-6" data-testid="todo-task">
                    <div class="flex items-center gap-2">
                        <span class="font-mono text-xs text-slate-500 dark:text-slate-400">{move || task(i).id}</span>
                        <span class="flex-1"></span>
                        {can_edit.then(|| view! {
                            <button type="button" class="btn btn-ghost h-8 px-2" title="Remove this task" data-testid="todo-task-remove"
                                on:click=move |_| edit(&|t| { if i < t.tasks.len() { t.tasks.remove(i); } })>
                                <Icon icon=I::X class="h-4 w-4"/>
                            </button>
                        })}
                    </div>
                    <label class="block">
                        <span class="label">"Do"</span>
                        <textarea class="input mt-1 h-16" data-testid="todo-task-do" disabled=!can_edit
                            prop:value=move || task(i).action
                            on:input=move |ev| { let v = event_target_value(&ev); edit(&|t| if let Some(x) = t.tasks.get_mut(i) { x.action = v.clone(); }); }></textarea>
                    </label>
                    <label class="block">
                        <span class="label">"Verify"</span>
                        <textarea class="input mt-1 h-16" data-testid="todo-task-verify" disabled=!can_edit
                            prop:value=move || task(i).verify
                            on:input=move |ev| { let v = event_target_value(&ev); edit(&|t| if let Some(x) = t.tasks.get_mut(i) { x.verify = v.clone(); }); }></textarea>
                    </label>
                </li>
            }/>
        </ol>
        {can_edit.then(|| view! {
            <button type="button" class="btn btn-ghost" data-testid="todo-task-add"
                on:click=move |_| edit(&|t| {
                    let n = next_task_number(&t.tasks);
                    t.tasks.push(Task { id: format!("{}-{n}", t.id), action: String::new(), verify: String::new() });
                })>
                <Icon icon=I::Plus class="h-4 w-4"/>
                "Add task"
            </button>
        })}
    }
}

/// The next free number for a task id `<spec>-<n>`.
fn next_task_number(tasks: &[Task]) -> usize {
    tasks
        .iter()
        .filter_map(|t| t.id.rsplit('-').next()?.parse::<usize>().ok())
        .max()
        .unwrap_or(0)
        + 1
}
