//! The spec a run implements: a stored spec (ready ones can be chosen), a fabrik spec
//! JSON file, or the path of a spec file the workflow finds itself.
use crate::browser::read_picked_file;
use crate::server_fns::list_specs;
use domain::spec::{describe_problems, parse_spec, SpecStatus};
use leptos::prelude::*;

const NONE: &str = "";
const UPLOAD: &str = "@upload";
const PATH: &str = "@path";

/// What the person picked, and the uploaded JSON or typed path behind it.
#[derive(Clone, Copy)]
pub struct SpecChoice {
    picked: RwSignal<String>,
    path: RwSignal<String>,
    upload: RwSignal<Option<Result<serde_json::Value, String>>>,
}

impl SpecChoice {
    /// `prefill`: a stored spec's id, or a path (from a link).
    pub fn new(prefill: String) -> Self {
        let is_path = prefill.contains('/') || prefill.ends_with(".json");
        SpecChoice {
            picked: RwSignal::new(if is_path {
                PATH.into()
            } else {
                prefill.clone()
            }),
            path: RwSignal::new(if is_path { prefill } else { String::new() }),
            upload: RwSignal::new(None),
        }
    }

    /// The request's `spec` and `spec_json`.
    pub fn request(&self) -> (Option<String>, Option<serde_json::Value>) {
        match self.picked.get_untracked().as_str() {
            NONE => (None, None),
            UPLOAD => (None, self.upload.get_untracked().and_then(Result::ok)),
            PATH => (Some(self.path.get_untracked()), None),
            id => (Some(id.to_string()), None),
        }
    }
}

#[component]
pub fn SpecField(choice: SpecChoice, pending: Signal<bool>) -> impl IntoView {
    let specs = Resource::new(|| (), |_| list_specs());
    let on_file = move |ev| {
        read_picked_file(ev, move |name, text| {
            let result = match text.as_deref().map(parse_spec) {
                Some(Ok(spec)) => serde_json::to_value(&spec).map_err(|e| e.to_string()),
                Some(Err(p)) => Err(format!(
                    "{name} doesn't fit fabrik's spec schema:\n{}",
                    describe_problems(&p)
                )),
                None => Err(format!("{name} could not be read as text.")),
            };
            choice.upload.set(Some(result));
        })
    };
    view! {
        <div class="space-y-2">
            <label class="block">
                <span class="label">"Spec" <span class="optional">"optional"</span></span>
                <Transition fallback=|| view! { <div class="input mt-1 h-9 animate-pulse"></div> }>
                    {move || {
                        let stored = specs.get().and_then(Result::ok).unwrap_or_default();
                        view! {
                            <select class="input mt-1" data-testid="spec-select" disabled=move || pending.get()
                                on:change=move |ev| choice.picked.set(event_target_value(&ev))>
                                <option value=NONE selected=move || choice.picked.get() == NONE>"No spec"</option>
                                {stored.into_iter().map(|s| {
                                    let ready = SpecStatus::parse(&s.status) == Some(SpecStatus::Ready);
                                    let label = if ready { format!("{} — {}", s.id, s.title) } else { format!("{} ({}: approve its todo first)", s.id, s.status) };
                                    let id = s.id.clone();
                                    view! { <option value=s.id disabled=!ready selected=move || choice.picked.get() == id>{label}</option> }
                                }).collect_view()}
                                <option value=UPLOAD selected=move || choice.picked.get() == UPLOAD>"Upload a spec JSON file…"</option>
                                <option value=PATH selected=move || choice.picked.get() == PATH>"Path of a spec file…"</option>
                            </select>
                        }
                    }}
                </Transition>
                <span class="hint">"Only ready specs (their todo approved) can be dispatched; the run gets the spec and todo as spec.json and todo.json."</span>
            </label>
            <Show when=move || choice.picked.get() == UPLOAD>
                <input type="file" accept=".json,application/json" data-testid="spec-upload-input" class="block text-sm" on:change=on_file/>
                {move || choice.upload.get().map(|r| match r {
                    Ok(v) => view! { <p class="text-sm text-emerald-700 dark:text-emerald-400" data-testid="spec-upload-ok">{format!("Spec {} loaded.", v["id"].as_str().unwrap_or("?"))}</p> }.into_any(),
                    Err(e) => view! { <p class="whitespace-pre-line text-sm text-red-600 dark:text-red-400" data-testid="spec-upload-error">{e}</p> }.into_any(),
                })}
            </Show>
            <Show when=move || choice.picked.get() == PATH>
                <input type="text" class="input font-mono" data-testid="spec-input" placeholder="specs/feature.json"
                    prop:value=move || choice.path.get() on:input=move |ev| choice.path.set(event_target_value(&ev))/>
            </Show>
        </div>
    }
}
