//! `/env/:project/:env/diff`: every change this tab's draft would make, key by key,
//! before it is saved. Values not revealed here stay dots.
use super::draft::{use_draft, Draft, SaveControls};
use super::frame::{Back, EnvSetFrame};
use crate::components::ErrorBanner;
use crate::session::use_session;
use domain::auth::Action;
use domain::env::{draft_changes, draft_diff, ChangeKind, DraftChange};
use leptos::prelude::*;

#[component]
pub fn EnvReviewPage() -> impl IntoView {
    view! {
        <EnvSetFrame title="Review " back=Back::Editor render=|project, env, loaded| {
            let draft = use_draft(&project, &env, loaded.as_ref());
            view! { <Review project env draft/> }.into_any()
        }/>
    }
}

#[component]
fn Review(project: String, env: String, draft: Draft) -> impl IntoView {
    let can_edit = use_session().refusal(Action::EditEnv).is_none();
    let changes = Memo::new(move |_| {
        draft
            .rows
            .with(|r| draft.base.with(|b| draft_changes(b, r)))
    });
    let diff = Memo::new(move |_| draft.rows.with(|r| draft.base.with(|b| draft_diff(b, r))));
    let summary = move || diff.with(|d| d.summary());
    let editor = format!("/env/{project}/{env}");
    view! {
        <header>
            <h1 class="text-xl font-semibold tracking-tight" data-testid="env-review-title">
                "Review changes to "
                <span class="text-slate-500">{project.clone()} " / "</span>
                <span class="font-mono">{env.clone()}</span>
            </h1>
            <p class="mt-1 text-sm" data-testid="env-review-summary">{summary}</p>
        </header>

        {move || draft.merge.with(Option::is_some).then(|| view! {
            <div class="rounded-lg border border-amber-300 bg-amber-50 px-4 py-3 text-sm text-amber-900 dark:border-amber-700 dark:bg-amber-950/40 dark:text-amber-200" data-testid="env-review-merge">
                "Someone saved this env since you loaded it. "
                <a class="font-medium underline" href=editor.clone()>"Merge in the editor"</a>
                " before saving."
            </div>
        })}

        {move || if changes.with(Vec::is_empty) {
            view! {
                <div class="card px-4 py-8 text-center text-sm text-slate-500 dark:text-slate-400" data-testid="env-review-empty">
                    "No unsaved changes in this tab. Edit, paste or upload in the editor, then review here."
                </div>
            }.into_any()
        } else {
            view! { <ChangeTable changes=changes.get()/> }.into_any()
        }}

        {move || draft.error.get().map(|e| view! { <ErrorBanner error=e testid="form-error"/> })}

        {can_edit.then(|| view! {
            <section class="card flex flex-col gap-3 p-4 sm:flex-row sm:items-center sm:justify-end sm:px-6">
                <SaveControls draft project=project.clone() env=env.clone() has_changes=Signal::derive(move || !diff.with(|d| d.is_empty()))/>
            </section>
        })}
    }
}

#[component]
fn ChangeTable(changes: Vec<DraftChange>) -> impl IntoView {
    view! {
        <section class="card overflow-hidden">
            <table class="w-full table-fixed text-sm" data-testid="env-review-table">
                <thead class="table-head">
                    <tr>
                        <th scope="col" class="w-24 px-4 py-2.5 sm:pl-6">"Change"</th>
                        <th scope="col" class="px-3 py-2.5">"Key"</th>
                        <th scope="col" class="px-3 py-2.5">"Before"</th>
                        <th scope="col" class="px-3 py-2.5 sm:pr-6">"After"</th>
                    </tr>
                </thead>
                <tbody class="divide-y divide-slate-100 font-mono text-xs dark:divide-slate-800">
                    {changes.into_iter().map(|c| {
                        let (label, tone) = match c.kind {
                            ChangeKind::Added => ("added", "text-emerald-700 dark:text-emerald-400"),
                            ChangeKind::Modified => ("modified", "text-amber-700 dark:text-amber-400"),
                            ChangeKind::Deleted => ("deleted", "text-red-700 dark:text-red-400"),
                        };
                        let before = shown(c.kind != ChangeKind::Added, c.before);
                        let after = shown(c.kind != ChangeKind::Deleted, c.after);
                        let testid = format!("env-change-{}", c.key);
                        view! {
                            <tr data-testid=testid>
                                <td class=format!("px-4 py-2 font-sans font-medium sm:pl-6 {tone}")>{label}</td>
                                <td class="break-all px-3 py-2">{c.key}</td>
                                <td class="break-all px-3 py-2 text-slate-500 dark:text-slate-400">{before}</td>
                                <td class="break-all px-3 py-2 sm:pr-6">{after}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </section>
    }
}

/// A side of a change: its value, dots when it has one not revealed here, or nothing.
fn shown(has_value: bool, value: Option<String>) -> String {
    match (has_value, value) {
        (_, Some(v)) => v,
        (true, None) => "••••••••".into(),
        (false, None) => "—".into(),
    }
}
