//! The editor's working copy of one env, shared by the editor and its review page
//! (`/env/:project/:env/diff`). It lives as long as the tab: moving between the two
//! pages keeps every unsaved edit; a reload starts again from what is stored.
use crate::components::toast::{use_toasts, Toasts};
use crate::components::{Icon, I};
use crate::error::AppError;
use crate::server_fns::save_env;
use domain::env::{merge_with_newer, rows_of, to_save, DraftRow, EnvSetView, Merge, SaveOutcome};
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::collections::HashMap;

/// What is being edited, what it started from, an open merge, and the save's state.
#[derive(Clone, Copy)]
pub struct Draft {
    pub base: RwSignal<Vec<DraftRow>>,
    pub rows: RwSignal<Vec<DraftRow>>,
    pub version: RwSignal<Option<i64>>,
    pub missing: RwSignal<Vec<String>>,
    pub merge: RwSignal<Option<(Merge, EnvSetView)>>,
    /// What the person typed to confirm a save to a protected env.
    pub confirm: RwSignal<String>,
    pub saving: RwSignal<bool>,
    pub error: RwSignal<Option<AppError>>,
}

/// Every env's draft this tab has opened, owned by the app so a page change keeps them.
#[derive(Clone, Copy)]
struct EnvDrafts {
    owner: StoredValue<Owner>,
    drafts: StoredValue<HashMap<(String, String), Draft>>,
}

pub fn provide_env_drafts() {
    let owner = Owner::current().expect("provide_env_drafts runs inside the app");
    provide_context(EnvDrafts {
        owner: StoredValue::new(owner),
        drafts: StoredValue::new(HashMap::new()),
    });
}

/// The draft of `project/env`: the one this tab already has, or a new one from `loaded`
/// (the stored set; `None` for an env not saved yet).
pub fn use_draft(project: &str, env: &str, loaded: Option<&EnvSetView>) -> Draft {
    let key = (project.to_string(), env.to_string());
    let Some(all) = use_context::<EnvDrafts>() else {
        return Draft::new(loaded);
    };
    if let Some(draft) = all.drafts.with_value(|d| d.get(&key).copied()) {
        return draft;
    }
    let draft = all.owner.with_value(|o| o.with(|| Draft::new(loaded)));
    all.drafts.update_value(|d| {
        d.insert(key, draft);
    });
    draft
}

impl Draft {
    fn new(loaded: Option<&EnvSetView>) -> Self {
        let draft = Draft {
            base: RwSignal::new(Vec::new()),
            rows: RwSignal::new(Vec::new()),
            version: RwSignal::new(None),
            missing: RwSignal::new(Vec::new()),
            merge: RwSignal::new(None),
            confirm: RwSignal::new(String::new()),
            saving: RwSignal::new(false),
            error: RwSignal::new(None),
        };
        draft.load(loaded);
        draft
    }

    pub fn load(&self, set: Option<&EnvSetView>) {
        let rows = set.map(rows_of).unwrap_or_default();
        self.base.set(rows.clone());
        self.rows.set(rows);
        self.version.set(set.map(|s| s.version));
        self.missing
            .set(set.map(|s| s.missing_required.clone()).unwrap_or_default());
        self.merge.set(None);
        self.confirm.set(String::new());
    }

    /// Saves the rows against the version they started from. A newer stored set opens
    /// the merge instead of overwriting it.
    pub fn save(self, project: String, env: String, toasts: Toasts) {
        if self.saving.get_untracked() {
            return;
        }
        let save = match self
            .rows
            .with_untracked(|r| to_save(r, self.version.get_untracked()))
        {
            Ok(save) => save,
            Err(problems) => {
                let text = problems
                    .iter()
                    .map(|(i, m)| format!("row {}: {m}", i + 1))
                    .collect::<Vec<_>>()
                    .join(" ");
                let problem = AppError::new(domain::ErrorCode::BadRequest, text);
                self.error.set(Some(problem));
                return;
            }
        };
        self.error.set(None);
        self.saving.set(true);
        spawn_local(async move {
            let result = save_env(project, env, save).await;
            self.saving.try_set(false);
            match result {
                Ok(SaveOutcome::Saved { set }) => {
                    self.load(Some(&set));
                    toasts.success("Environment saved");
                }
                Ok(SaveOutcome::Stale { current }) => {
                    let merge = self.rows.with_untracked(|r| {
                        self.base
                            .with_untracked(|b| merge_with_newer(b, r, &current))
                    });
                    self.merge.try_set(Some((merge, current)));
                }
                Err(e) => {
                    self.error.try_set(Some(e));
                }
            }
        });
    }

    /// Whether Save must wait: a save under way, nothing to save, an unconfirmed
    /// protected env, or an open merge.
    pub fn save_blocked(&self, env: &str, has_changes: bool) -> bool {
        let is_new = self.version.with(Option::is_none);
        self.saving.get()
            || (!has_changes && !is_new)
            || (domain::env::PROTECTED_ENVS.contains(&env) && self.confirm.with(|c| c != env))
            || self.merge.with(Option::is_some)
    }
}

/// The typed name a protected env asks for, and Save: the same on the editor and the
/// review page.
#[component]
pub fn SaveControls(
    draft: Draft,
    project: String,
    env: String,
    #[prop(into)] has_changes: Signal<bool>,
) -> impl IntoView {
    let toasts = use_toasts();
    let protected = domain::env::PROTECTED_ENVS.contains(&env.as_str());
    let on_save = {
        let (project, env) = (project.clone(), env.clone());
        move |_| draft.save(project.clone(), env.clone(), toasts)
    };
    let blocked = {
        let env = env.clone();
        move || draft.save_blocked(&env, has_changes.get())
    };
    view! {
        {protected.then(|| view! {
            <label class="text-sm">
                <span class="mr-2 text-red-700 dark:text-red-400">{format!("Type {env} to confirm")}</span>
                <input type="text" class="input inline-block w-32 font-mono" data-testid="env-confirm"
                    prop:value=move || draft.confirm.get() on:input=move |ev| draft.confirm.set(event_target_value(&ev))/>
            </label>
        })}
        <button type="button" class="btn btn-primary justify-center" data-testid="env-save"
            disabled=blocked on:click=on_save>
            <Icon icon=I::Check class="h-4 w-4"/>
            {move || if draft.saving.get() { "Saving…" } else { "Save changes" }}
        </button>
    }
}
