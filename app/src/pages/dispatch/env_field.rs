//! The env a run gets: suggested from the project's env sets, and checked before
//! Dispatch is enabled — a missing env or one without the required keys says so, with a
//! link to where it is fixed.
use crate::server_fns::list_env_sets;
use domain::env::{missing_message, EnvSetSummary};
use leptos::prelude::*;

/// Why the chosen project/env can't be used, and where to fix it; `None` when it can
/// (or nothing is chosen).
pub fn env_check(
    sets: EnvSets,
    project: RwSignal<String>,
    env: RwSignal<String>,
) -> Signal<Option<(String, String)>> {
    Signal::derive(move || {
        let (project, env) = (
            project.get().trim().to_string(),
            env.get().trim().to_string(),
        );
        if env.is_empty() {
            return None;
        }
        if project.is_empty() {
            return Some((
                "Choose the project this env belongs to.".into(),
                "/env".into(),
            ));
        }
        let sets = sets.get()?;
        match sets.iter().find(|s| s.project == project && s.env == env) {
            None => Some((
                format!("Environment '{env}' not found in project '{project}'."),
                format!("/env/{project}"),
            )),
            Some(set) if !set.missing_required.is_empty() => Some((
                format!("{}.", missing_message(&set.missing_required)),
                format!("/env/{project}/{env}"),
            )),
            Some(_) => None,
        }
    })
}

/// Every env set, loaded once for the form (`None` until loaded).
pub type EnvSets = Signal<Option<Vec<EnvSetSummary>>>;

pub fn use_env_sets() -> EnvSets {
    let sets = Resource::new(|| (), |_| list_env_sets());
    Signal::derive(move || sets.get().and_then(Result::ok))
}

#[component]
pub fn EnvField(
    sets: EnvSets,
    project: RwSignal<String>,
    env: RwSignal<String>,
    pending: Signal<bool>,
) -> impl IntoView {
    let known = move || {
        let project = project.get();
        sets.get()
            .unwrap_or_default()
            .into_iter()
            .filter(|s| s.project == project.trim())
            .map(|s| s.env)
            .collect::<Vec<_>>()
    };
    view! {
        <label class="block">
            <span class="label">"Env" <span class="optional">"optional"</span></span>
            <input type="text" name="env" data-testid="env-input" class="input mt-1" autocomplete="off" spellcheck="false"
                list="dispatch-envs" placeholder="e.g. dev"
                prop:value=move || env.get() on:input=move |ev| env.set(event_target_value(&ev))
                disabled=move || pending.get()/>
            <datalist id="dispatch-envs">
                {move || known().into_iter().map(|e| view! { <option value=e.clone()></option> }).collect_view()}
            </datalist>
            <span class="hint">"The project's env set whose variables the run gets."</span>
        </label>
    }
}
