//! Renders workflow output rows (task reports, review reports…) for people: arrays as
//! lists, booleans as yes/no, nested objects as indented JSON.
use crate::format::humanize;
use leptos::prelude::*;
use serde_json::{Map, Value};

/// Field names that identify a row rather than describe it; shown in the summary line.
const HIDDEN: [&str; 3] = ["run_id", "node_id", "iteration"];
/// Fields shown before the others, in this order.
const FIRST: [&str; 10] = [
    "summary", "status", "approved", "reviewer", "work", "issues", "next", "files", "tests", "note",
];

/// A definition list of every field of one output row.
#[component]
pub fn FieldList(fields: Map<String, Value>) -> impl IntoView {
    let mut fields: Vec<(String, Value)> = fields
        .into_iter()
        .filter(|(k, _)| !HIDDEN.contains(&k.as_str()))
        .collect();
    // What a person reads first, then the rest alphabetically.
    fields.sort_by_key(|(k, _)| FIRST.iter().position(|f| f == k).unwrap_or(FIRST.len()));
    let rows = fields
        .into_iter()
        .map(|(key, value)| {
            view! {
                <div class="grid gap-1 py-2 sm:grid-cols-[10rem_1fr] sm:gap-4">
                    <dt class="text-xs font-medium uppercase tracking-wide text-slate-500 dark:text-slate-400">
                        {humanize(&key)}
                    </dt>
                    <dd class="min-w-0 text-sm text-slate-800 dark:text-slate-200">
                        <FieldValue value/>
                    </dd>
                </div>
            }
        })
        .collect_view();
    view! { <dl class="divide-y divide-slate-100 dark:divide-slate-800">{rows}</dl> }
}

#[component]
pub fn FieldValue(value: Value) -> impl IntoView {
    match value {
        Value::Null => view! { <span class="text-slate-400">"—"</span> }.into_any(),
        Value::Bool(b) => {
            if b {
                view! { <span class="font-medium text-emerald-600 dark:text-emerald-400">"✓ yes"</span> }
                    .into_any()
            } else {
                view! { <span class="font-medium text-red-600 dark:text-red-400">"✗ no"</span> }
                    .into_any()
            }
        }
        Value::Number(n) => view! { <span class="tabular-nums">{n.to_string()}</span> }.into_any(),
        Value::String(s) => {
            view! { <span class="whitespace-pre-wrap break-words">{s}</span> }.into_any()
        }
        Value::Array(items) if items.is_empty() => {
            view! { <span class="text-slate-400">"none"</span> }.into_any()
        }
        Value::Array(items) if items.iter().all(is_scalar) => view! {
            <ul class="list-disc space-y-0.5 pl-5 marker:text-slate-400">
                {items
                    .into_iter()
                    .map(|item| view! { <li class="break-words">{scalar_text(&item)}</li> })
                    .collect_view()}
            </ul>
        }
        .into_any(),
        other => view! {
            <pre class="overflow-x-auto rounded-lg bg-slate-50 p-3 font-mono text-xs text-slate-700 dark:bg-slate-950 dark:text-slate-300">
                {serde_json::to_string_pretty(&other).unwrap_or_default()}
            </pre>
        }
        .into_any(),
    }
}

fn is_scalar(v: &Value) -> bool {
    !matches!(v, Value::Array(_) | Value::Object(_))
}

/// A one-line text for a scalar value.
pub fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "—".into(),
        other => other.to_string(),
    }
}

/// A short description of a row for its collapsed summary: the first of a few
/// well-known text fields.
pub fn row_headline(fields: &Map<String, Value>) -> Option<String> {
    [
        "summary", "status", "title", "task_id", "reviewer", "verdict",
    ]
    .iter()
    .find_map(|k| fields.get(*k).filter(|v| is_scalar(v) && !v.is_null()))
    .map(scalar_text)
}
