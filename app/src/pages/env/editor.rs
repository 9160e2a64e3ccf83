//! `/env/:project/:env`: the editor. Rows with masked values (reveal one at a time),
//! add and delete rows, paste a `.env` with a diff before applying, download, save
//! with a diff preview; a save that meets a newer version opens the merge view. The
//! rules (parse, diff, merge, what a save sends) are `domain::env`'s.
use super::draft::{use_draft, Draft, SaveControls};
use super::frame::{Back, EnvSetFrame};
use crate::browser::read_picked_file;
use crate::components::{ErrorBanner, Icon, I};
use crate::server_fns::reveal_env_value;
use crate::session::use_session;
use domain::auth::Action;
use domain::env::{
    apply_incoming, describe, draft_diff, incoming_diff, merge_upload, parse, rows_from, rows_of,
    shown_row, shown_value, Choice, DraftRow, EnvSetView, EnvVars, Merge, Strategy,
};
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::collections::{BTreeMap, BTreeSet};

#[component]
pub fn EnvEditorPage() -> impl IntoView {
    view! {
        <EnvSetFrame title="" back=Back::Project render=|project, env, loaded| view! { <Editor project env loaded/> }.into_any()/>
    }
}

/// Changed keys named beside the summary; the review page lists them all.
const SHOWN_CHANGES: usize = 12;

#[component]
fn Editor(project: String, env: String, loaded: Option<EnvSetView>) -> impl IntoView {
    let session = use_session();
    let can_edit = session.refusal(Action::EditEnv).is_none();
    let can_reveal = session.refusal(Action::SeeSecrets).is_none();
    let draft = use_draft(&project, &env, loaded.as_ref());
    let paste_open = RwSignal::new(false);
    let upload = RwSignal::new(None::<Upload>);

    let changes = Memo::new(move |_| draft.rows.with(|r| draft.base.with(|b| draft_diff(b, r))));
    let stored_keys = Memo::new(move |_| {
        draft
            .base
            .with(|b| b.iter().map(|r| r.key.clone()).collect::<BTreeSet<_>>())
    });
    let download = format!("/api/v1/env/{project}/{env}/dotenv");
    let review = format!("/env/{project}/{env}/diff");

    view! {
        <header class="flex flex-wrap items-end gap-3">
            <div class="min-w-0 flex-1">
                <h1 class="text-xl font-semibold tracking-tight" data-testid="env-title">
                    <span class="text-slate-500">{project.clone()} " / "</span>
                    <span class="font-mono">{env.clone()}</span>
                </h1>
                <p class="mt-1 text-sm text-slate-500 dark:text-slate-400" data-testid="env-version">
                    {move || match draft.version.get() {
                        Some(v) => format!("Version {v}"),
                        None => "New env: nothing is stored until you save.".to_string(),
                    }}
                </p>
            </div>
            <div class="flex flex-wrap gap-2">
                {can_edit.then(|| view! {
                    <button type="button" class="btn btn-secondary" data-testid="env-paste" on:click=move |_| paste_open.set(true)>
                        <Icon icon=I::FileText class="h-4 w-4"/>
                        "Paste .env"
                    </button>
                })}
                {can_edit.then(|| view! {
                    <label class="btn btn-secondary cursor-pointer" data-testid="env-upload">
                        <Icon icon=I::ArrowRight class="h-4 w-4 -rotate-90"/>
                        "Upload and merge"
                        <input type="file" accept=".env,text/plain" class="sr-only" data-testid="env-upload-input"
                            on:change=move |ev| read_upload(ev, upload)/>
                    </label>
                })}
                {move || (draft.version.get().is_some() && can_reveal).then(|| view! {
                    <a class="btn btn-secondary" href=download.clone() download data-testid="env-download" rel="external">
                        <Icon icon=I::Download class="h-4 w-4"/>
                        "Download .env"
                    </a>
                })}
            </div>
        </header>

        {move || {
            let missing = draft.missing.get();
            (!missing.is_empty()).then(|| view! {
                <div class="rounded-lg border border-amber-300 bg-amber-50 px-4 py-3 text-sm text-amber-900 dark:border-amber-700 dark:bg-amber-950/40 dark:text-amber-200" data-testid="env-missing">
                    {domain::env::missing_message(&missing)} " — runs can't use this env until it is set."
                </div>
            })
        }}

        <Show when=move || paste_open.get()>
            <PastePanel draft on_close=Callback::new(move |_| paste_open.set(false))/>
        </Show>

        {move || draft.merge.get().map(|(merge, current)| view! { <MergePanel draft merge current/> })}

        {move || upload.get().map(|u| view! { <UploadPanel draft upload=u on_close=Callback::new(move |_| upload.set(None))/> })}

        <section class="card overflow-hidden">
            <table class="w-full table-fixed text-sm" data-testid="env-rows">
                <thead class="table-head">
                    <tr>
                        <th scope="col" class="w-2/5 px-4 py-2.5 sm:pl-6">"Key"</th>
                        <th scope="col" class="px-3 py-2.5">"Value"</th>
                        <th scope="col" class="w-12 px-2 py-2.5 sm:w-20 sm:pr-6"><span class="sr-only">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody class="divide-y divide-slate-100 dark:divide-slate-800">
                    <For
                        each=move || 0..draft.rows.with(Vec::len)
                        key=|i| *i
                        children={
                            let (project, env) = (project.clone(), env.clone());
                            move |i| view! { <Row i draft stored_keys project=project.clone() env=env.clone() can_edit can_reveal/> }
                        }
                    />
                </tbody>
            </table>
            <Show when=move || draft.rows.with(Vec::is_empty)>
                <p class="px-4 py-8 text-center text-sm text-slate-500 dark:text-slate-400" data-testid="env-no-rows">
                    "No variables yet. Paste a .env or add them one by one."
                </p>
            </Show>
            {can_edit.then(|| view! {
                <div class="border-t border-slate-200 px-4 py-3 sm:px-6 dark:border-slate-800">
                    <button type="button" class="btn btn-ghost" data-testid="env-add"
                        on:click=move |_| draft.rows.update(|r| r.push(DraftRow { key: String::new(), value: Some(String::new()) }))>
                        <Icon icon=I::Plus class="h-4 w-4"/>
                        "Add variable"
                    </button>
                </div>
            })}
        </section>

        {move || draft.error.get().map(|e| view! { <ErrorBanner error=e testid="form-error"/> })}

        {can_edit.then(|| view! {
            <section class="card flex flex-col gap-3 p-4 sm:flex-row sm:items-center sm:px-6">
                <p class="flex-1 text-sm" data-testid="env-diff">
                    <span class="font-medium">"Diff: "</span>
                    {move || changes.with(|c| c.summary())}
                    {move || changes.with(|c| {
                        let named: Vec<String> = c.added.iter().map(|k| format!("+{k}"))
                            .chain(c.modified.iter().map(|k| format!("~{k}")))
                            .chain(c.deleted.iter().map(|k| format!("-{k}")))
                            .collect();
                        let more = named.len().saturating_sub(SHOWN_CHANGES);
                        (!named.is_empty()).then(|| view! {
                            <span class="ml-2 break-all font-mono text-xs text-slate-500 dark:text-slate-400">
                                {named[..named.len() - more].join(" ")}
                                {(more > 0).then(|| format!(" and {more} more"))}
                            </span>
                        })
                    })}
                    {move || (!changes.with(|c| c.is_empty())).then(|| view! {
                        <a class="ml-2 whitespace-nowrap text-blue-600 hover:underline dark:text-blue-400" href=review.clone() data-testid="env-review">
                            "Review changes"
                        </a>
                    })}
                </p>
                <SaveControls draft project=project.clone() env=env.clone() has_changes=Signal::derive(move || !changes.with(|c| c.is_empty()))/>
            </section>
        })}
    }
}

#[component]
fn Row(
    i: usize,
    draft: Draft,
    stored_keys: Memo<BTreeSet<String>>,
    project: String,
    env: String,
    can_edit: bool,
    can_reveal: bool,
) -> impl IntoView {
    let row = move || draft.rows.with(|r| r.get(i).cloned());
    let stored = move || row().is_some_and(|r| stored_keys.with(|k| k.contains(&r.key)));
    let problem = move || {
        let r = row()?;
        domain::env::check_key(r.key.trim())
            .err()
            .filter(|_| !r.key.is_empty())
    };
    let reveal = move |_| {
        let Some(r) = row() else { return };
        let (project, env) = (project.clone(), env.clone());
        spawn_local(async move {
            match reveal_env_value(project, env, r.key.clone()).await {
                Ok(v) => draft.rows.update(|rows| {
                    if let Some(x) = rows.get_mut(i).filter(|x| x.key == r.key) {
                        x.value = Some(v);
                    }
                }),
                Err(e) => draft.error.set(Some(e)),
            }
        });
    };
    view! {
        <tr data-testid=move || format!("env-row-{}", row().map(|r| r.key).unwrap_or_default())>
            <td class="px-3 py-2 align-top sm:pl-6">
                {move || if stored() {
                    view! { <span class="break-all font-mono">{row().map(|r| r.key)}</span> }.into_any()
                } else {
                    view! {
                        <input type="text" class="input font-mono" placeholder="KEY" data-testid="env-key-input"
                            disabled=!can_edit
                            prop:value=move || row().map(|r| r.key).unwrap_or_default()
                            on:input=move |ev| { let v = event_target_value(&ev); draft.rows.update(|r| if let Some(x) = r.get_mut(i) { x.key = v; }); }/>
                    }.into_any()
                }}
                {move || problem().map(|p| view! { <p class="mt-1 text-xs text-red-600 dark:text-red-400" data-testid="env-key-error">{p}</p> })}
            </td>
            <td class="px-3 py-2 align-top">
                {move || match row().and_then(|r| r.value) {
                    Some(value) => view! {
                        <input type="text" class="input font-mono" data-testid="env-value-input" disabled=!can_edit
                            prop:value=value
                            on:input=move |ev| { let v = event_target_value(&ev); draft.rows.update(|r| if let Some(x) = r.get_mut(i) { x.value = Some(v); }); }/>
                    }.into_any(),
                    None => view! {
                        <span class="flex flex-wrap items-center gap-x-2">
                            <span class="font-mono tracking-widest text-slate-400" data-testid="env-masked">"••••••••"</span>
                            {can_reveal.then(|| view! {
                                <button type="button" class="btn btn-ghost h-7 px-2 text-xs" data-testid="env-reveal" on:click=reveal.clone()>
                                    <Icon icon=I::Lock class="h-3.5 w-3.5"/>
                                    "Reveal"
                                </button>
                            })}
                        </span>
                    }.into_any(),
                }}
            </td>
            <td class="px-2 py-2 text-right align-top sm:pr-6">
                {can_edit.then(|| view! {
                    <button type="button" class="btn btn-ghost h-8 px-2" data-testid="env-delete" title="Delete this variable"
                        on:click=move |_| draft.rows.update(|r| { if i < r.len() { r.remove(i); } })>
                        <Icon icon=I::X class="h-4 w-4"/>
                    </button>
                })}
            </td>
        </tr>
    }
}

/// A `.env` pasted as text: parsed as you type, its effect shown as a diff, applied
/// over the rows.
#[component]
fn PastePanel(draft: Draft, on_close: Callback<()>) -> impl IntoView {
    // Only the textarea writes `text`: writing it back would make the browser lay out
    // the whole text again on every keystroke (most of the time for a large paste).
    let text = RwSignal::new(String::new());
    let parsed = Memo::new(move |_| text.with(|t| parse(t)));
    let preview = move || {
        parsed.with(|p| match p {
            Ok(p) if p.vars.is_empty() => "Nothing to apply yet.".to_string(),
            Ok(p) => draft
                .rows
                .with(|rows| incoming_diff(rows, &p.vars).summary()),
            Err(problems) => describe(problems),
        })
    };
    let apply = move |_| {
        if let Ok(p) = parsed.get_untracked() {
            draft
                .rows
                .update(|rows| *rows = apply_incoming(rows, &p.vars));
            on_close.run(());
        }
    };
    view! {
        <section class="card space-y-3 p-4 sm:p-6" data-testid="env-paste-panel">
            <h2 class="text-sm font-semibold">"Paste .env"</h2>
            <textarea class="input h-40 font-mono text-xs" data-testid="env-paste-text"
                placeholder="ANTHROPIC_API_KEY=sk-...\nLAOS_LOKI_URL=http://..."
                on:input=move |ev| text.set(event_target_value(&ev))></textarea>
            <p class=move || if parsed.with(Result::is_err) { "whitespace-pre-line text-sm text-red-600 dark:text-red-400" } else { "text-sm" }
                data-testid="env-paste-diff">{preview}</p>
            {move || parsed.with(|p| p.as_ref().ok().map(|p| p.warnings.iter().map(|w| view! {
                <p class="text-xs text-amber-700 dark:text-amber-400">{w.to_string()}</p>
            }).collect_view()))}
            <div class="flex justify-end gap-2">
                <button type="button" class="btn btn-ghost" on:click=move |_| on_close.run(())>"Cancel"</button>
                <button type="button" class="btn btn-primary" data-testid="env-paste-apply"
                    disabled=move || parsed.with(|p| p.as_ref().map(|p| p.vars.is_empty()).unwrap_or(true))
                    on:click=apply>
                    "Apply"
                </button>
            </div>
        </section>
    }
}

/// Someone saved this env since it was loaded: their set and ours, merged per key, with
/// a choice for every key both changed.
#[component]
fn MergePanel(draft: Draft, merge: Merge, current: EnvSetView) -> impl IntoView {
    let choices = RwSignal::new(BTreeMap::<String, Choice>::new());
    let problem = RwSignal::new(None::<String>);
    let version = current.version;
    let updated_by = current.updated_by.clone();
    let resolve = {
        let (merge, current) = (merge.clone(), current.clone());
        move |strategy: Strategy| match merge.resolve(&strategy) {
            Ok(vars) => {
                draft.base.set(rows_of(&current));
                draft.rows.set(rows_from(&vars));
                draft.version.set(Some(current.version));
                draft.merge.set(None);
            }
            Err(e) => problem.set(Some(e.to_string())),
        }
    };
    let (keep, take, per_key) = (resolve.clone(), resolve.clone(), resolve);
    let conflicts = merge.conflicts.clone();
    view! {
        <section class="card space-y-3 border-amber-300 p-4 sm:p-6 dark:border-amber-700" data-testid="env-merge">
            <h2 class="text-sm font-semibold">
                {format!("{updated_by} saved version {version} since you loaded this env. Merge before saving.")}
            </h2>
            <p class="text-sm text-slate-600 dark:text-slate-300" data-testid="env-merge-summary">
                {format!("{} keys merge cleanly; {} changed on both sides.", merge.merged.len(), conflicts.len())}
            </p>
            {(!conflicts.is_empty()).then(|| view! {
                <table class="w-full text-sm" data-testid="env-conflicts">
                    <thead class="text-left text-xs uppercase text-slate-500">
                        <tr><th class="py-1">"Key"</th><th>"Yours (current)"</th><th>"Theirs (incoming)"</th></tr>
                    </thead>
                    <tbody>
                        {conflicts.iter().map(|c| {
                            let (k1, k2) = (c.key.clone(), c.key.clone());
                            view! {
                                <tr data-testid=format!("env-conflict-{}", c.key)>
                                    <td class="py-1 font-mono">{c.key.clone()}</td>
                                    <td><label class="inline-flex items-center gap-2">
                                        <input type="radio" name=format!("pick-{}", c.key) data-testid="pick-current"
                                            on:change=move |_| choices.update(|m| { m.insert(k1.clone(), Choice::Current); })/>
                                        <span class="font-mono text-xs">{shown_value(&c.current)}</span>
                                    </label></td>
                                    <td><label class="inline-flex items-center gap-2">
                                        <input type="radio" name=format!("pick-{}", c.key) data-testid="pick-incoming"
                                            on:change=move |_| choices.update(|m| { m.insert(k2.clone(), Choice::Incoming); })/>
                                        <span class="font-mono text-xs">{shown_value(&c.incoming)}</span>
                                    </label></td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            })}
            {move || problem.get().map(|p| view! { <p class="text-sm text-red-600 dark:text-red-400" data-testid="env-merge-problem">{p}</p> })}
            <div class="flex flex-wrap justify-end gap-2">
                <button type="button" class="btn btn-secondary" data-testid="merge-keep-current" on:click=move |_| keep(Strategy::KeepCurrent)>"Keep mine"</button>
                <button type="button" class="btn btn-secondary" data-testid="merge-take-incoming" on:click=move |_| take(Strategy::TakeIncoming)>"Take theirs"</button>
                <button type="button" class="btn btn-primary" data-testid="merge-apply" on:click=move |_| per_key(Strategy::PerKey(choices.get_untracked()))>"Apply my picks"</button>
            </div>
        </section>
    }
}

/// A `.env` file chosen for "Upload and merge": its name and what it holds (or why not).
#[derive(Clone)]
struct Upload {
    name: String,
    parsed: Result<EnvVars, String>,
}

/// Reads the chosen file in the browser (nothing is sent until Save).
fn read_upload(ev: leptos::ev::Event, upload: RwSignal<Option<Upload>>) {
    read_picked_file(ev, move |name, text| {
        let parsed = match text {
            Some(text) => parse(&text).map(|p| p.vars).map_err(|p| describe(&p)),
            None => Err("The file could not be read as text.".into()),
        };
        upload.set(Some(Upload { name, parsed }));
    });
}

/// Current | incoming | merged, per key, with a strategy for keys that differ.
#[component]
fn UploadPanel(draft: Draft, upload: Upload, on_close: Callback<()>) -> impl IntoView {
    let incoming = match upload.parsed {
        Ok(vars) => vars,
        Err(problems) => {
            return view! {
                <section class="card space-y-2 p-4 sm:p-6" data-testid="env-upload-panel">
                    <h2 class="text-sm font-semibold">{format!("{} can't be read; nothing was changed", upload.name)}</h2>
                    <p class="whitespace-pre-line text-sm text-red-600 dark:text-red-400" data-testid="env-upload-error">{problems}</p>
                    <div class="flex justify-end"><button type="button" class="btn btn-ghost" on:click=move |_| on_close.run(())>"Close"</button></div>
                </section>
            }
            .into_any();
        }
    };
    let merge = draft
        .rows
        .with_untracked(|rows| merge_upload(rows, &incoming));
    let current = draft.rows.get_untracked();
    let strategy = RwSignal::new(Strategy::KeepCurrent);
    let resolved = {
        let merge = merge.clone();
        Memo::new(move |_| strategy.with(|s| merge.resolve(s).ok()))
    };
    let keys: Vec<String> = {
        let mut k: Vec<String> = current.iter().map(|r| r.key.trim().to_string()).collect();
        k.extend(incoming.keys().cloned());
        k.sort();
        k.dedup();
        k
    };
    let conflicts = merge.conflicts.len();
    let apply = move |_| {
        if let Some(vars) = resolved.get_untracked() {
            draft.rows.set(rows_from(&vars));
            on_close.run(());
        }
    };
    view! {
        <section class="card space-y-3 p-4 sm:p-6" data-testid="env-upload-panel">
            <h2 class="text-sm font-semibold">{format!("Merge {} into this env", upload.name)}</h2>
            <p class="text-sm text-slate-600 dark:text-slate-300">
                {format!("{} keys in the file; {conflicts} differ from what is here.", incoming.len())}
            </p>
            <div class="flex flex-wrap gap-4 text-sm" role="radiogroup">
                <label class="inline-flex items-center gap-2"><input type="radio" name="upload-strategy" checked
                    data-testid="upload-keep-current" on:change=move |_| strategy.set(Strategy::KeepCurrent)/>"Keep current"</label>
                <label class="inline-flex items-center gap-2"><input type="radio" name="upload-strategy"
                    data-testid="upload-take-incoming" on:change=move |_| strategy.set(Strategy::TakeIncoming)/>"Take incoming"</label>
            </div>
            <div class="overflow-x-auto">
                <table class="w-full text-sm" data-testid="env-upload-table">
                    <thead class="text-left text-xs uppercase text-slate-500">
                        <tr><th class="py-1 pr-3">"Key"</th><th class="pr-3">"Current"</th><th class="pr-3">"Incoming"</th><th>"Merged"</th></tr>
                    </thead>
                    <tbody class="divide-y divide-slate-100 dark:divide-slate-800">
                        {keys.into_iter().map(|key| {
                            let here = current.iter().find(|r| r.key.trim() == key).map(shown_row);
                            let there = incoming.get(&key).cloned();
                            let k = key.clone();
                            let merged = move || resolved.with(|r| r.as_ref().map(|v| shown_value(&v.get(&k).cloned())).unwrap_or_default());
                            view! {
                                <tr data-testid=format!("upload-row-{key}")>
                                    <td class="py-1 pr-3 font-mono">{key.clone()}</td>
                                    <td class="pr-3 font-mono text-xs">{here.unwrap_or_else(|| "—".into())}</td>
                                    <td class="pr-3 font-mono text-xs">{there.unwrap_or_else(|| "—".into())}</td>
                                    <td class="font-mono text-xs" data-testid="upload-merged">{merged}</td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
            <div class="flex justify-end gap-2">
                <button type="button" class="btn btn-ghost" on:click=move |_| on_close.run(())>"Cancel"</button>
                <button type="button" class="btn btn-primary" data-testid="upload-apply" on:click=apply>"Apply merge"</button>
            </div>
        </section>
    }
    .into_any()
}
