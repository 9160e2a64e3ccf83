//! Editing the spec's lists (goals, behaviours, criteria…): one input per item, add and
//! remove, each item's problems under it.
use crate::components::{Icon, I};
use domain::spec::{FieldProblem, Spec};
use leptos::prelude::*;

#[component]
pub fn ListEditor(
    spec: RwSignal<Spec>,
    label: &'static str,
    /// The field's path in problems (`goals`, `req.api`).
    field: &'static str,
    testid: &'static str,
    placeholder: &'static str,
    read: fn(&Spec) -> &Vec<String>,
    write: fn(&mut Spec) -> &mut Vec<String>,
    problems: Signal<Vec<FieldProblem>>,
    /// Items shown as a checklist (acceptance criteria).
    #[prop(optional)]
    checklist: bool,
) -> impl IntoView {
    let len = move || spec.with(|s| read(s).len());
    let add = move |_| spec.update(|s| write(s).push(String::new()));
    view! {
        <div data-testid=testid>
            <span class="label">{label}</span>
            <ul class="mt-1 space-y-2">
                <For each=move || 0..len() key=|i| *i children=move |i| {
                    let item_field = format!("{field}[{i}]");
                    view! {
                        <li data-testid=format!("{testid}-item")>
                            <div class="flex items-start gap-2">
                                {checklist.then(|| view! {
                                    <span class="mt-2.5 flex h-4 w-4 flex-none items-center justify-center rounded border border-emerald-500 text-emerald-600 dark:text-emerald-400">
                                        <Icon icon=I::Check class="h-3 w-3"/>
                                    </span>
                                })}
                                <input type="text" class="input flex-1" placeholder=placeholder data-testid=format!("{testid}-input")
                                    prop:value=move || spec.with(|s| read(s).get(i).cloned().unwrap_or_default())
                                    on:input=move |ev| {
                                        let v = event_target_value(&ev);
                                        spec.update(|s| if let Some(x) = write(s).get_mut(i) { *x = v; });
                                    }/>
                                <button type="button" class="btn btn-ghost h-9 px-2" title="Remove this item" data-testid=format!("{testid}-remove")
                                    on:click=move |_| spec.update(|s| { let list = write(s); if i < list.len() { list.remove(i); } })>
                                    <Icon icon=I::X class="h-4 w-4"/>
                                </button>
                            </div>
                            <Problems problems field=item_field exact=true/>
                        </li>
                    }
                }/>
            </ul>
            <button type="button" class="btn btn-ghost mt-2" data-testid=format!("{testid}-add") on:click=add>
                <Icon icon=I::Plus class="h-4 w-4"/>
                "Add"
            </button>
            <Problems problems field=field.to_string() exact=true/>
        </div>
    }
}

/// The problems of one field (`exact`) or of it and everything under it.
#[component]
pub fn Problems(
    problems: Signal<Vec<FieldProblem>>,
    #[prop(into)] field: String,
    #[prop(optional)] exact: bool,
) -> impl IntoView {
    move || {
        let field = field.clone();
        problems
            .get()
            .into_iter()
            .filter(|p| p.field == field || (!exact && p.field.starts_with(&field)))
            .map(|p| view! { <p class="mt-1 text-xs text-red-600 dark:text-red-400" data-testid="field-problem">{p.message}</p> })
            .collect_view()
    }
}
