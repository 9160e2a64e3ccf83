//! `/runs/:id/feedback`: the human gate. What the run did, what the reviewers said,
//! and Approve / Reject with notes.
use super::run::run_frame;
use super::run_data::RunData;
use super::run_parts::{review_counts, Card, GateSummary, Reports, Reviews, TaskList};
use crate::components::{ErrorBanner, Icon, ProgressBar, RelativeTime, StatusBadge, I};
use crate::error::AppError;
use crate::server_fns::SubmitFeedback;
use crate::session::use_session;
use domain::auth::Action;
use domain::feedback::{Decision, FeedbackRequest, MAX_NOTES_CHARS};
use domain::run::{GateStatus, RunDetail};
use leptos::prelude::*;
use std::collections::HashSet;

#[component]
pub fn FeedbackPage() -> impl IntoView {
    run_frame(
        "Feedback · run",
        |id| format!("/runs/{id}"),
        "Run page",
        |data, initial| view! { <FeedbackView data initial/> }.into_any(),
    )
}

#[component]
fn FeedbackView(data: RunData, initial: RunDetail) -> impl IntoView {
    let run_id = initial.summary.run_id.clone();
    let detail = data.current(initial);
    let summary = Memo::new(move |_| detail.with(|d| d.summary.clone()));
    let server_now = Memo::new(move |_| detail.with(|d| d.now_ms));
    let tasks = Memo::new(move |_| detail.with(|d| d.smithers.tasks.clone()));
    let outputs = Memo::new(move |_| detail.with(|d| d.smithers.outputs.clone()));
    let reviews = Memo::new(move |_| detail.with(|d| d.smithers.reviews.clone()));
    let open_gate = Memo::new(move |_| detail.with(|d| d.open_gate().cloned()));
    let decided_gate = Memo::new(move |_| detail.with(|d| d.decided_gate().cloned()));
    let can_decide = Memo::new(move |_| detail.with(|d| d.actions.feedback));
    let open_rows = RwSignal::new(HashSet::<String>::new());
    // Viewers see the gate and the evidence, but the decision is disabled and says why.
    let denied = use_session().refusal(Action::DecideGate).or_else(|| {
        detail
            .with_untracked(|d| d.actions.elsewhere)
            .then(|| domain::run::DECIDE_WITH_THE_CLI.to_string())
    });

    let submit = ServerAction::<SubmitFeedback>::new();
    let notes = RwSignal::new(String::new());
    let local_error = RwSignal::new(None::<AppError>);
    let chosen = RwSignal::new(None::<Decision>);

    Effect::new(move |_| {
        if let Some(Ok(_)) = submit.value().get() {
            data.refresh();
        }
    });

    let decide = {
        let run_id = run_id.clone();
        move |decision: Decision| {
            let request = FeedbackRequest {
                decision,
                notes: Some(notes.get_untracked()),
            };
            if let Err(e) = request.validate() {
                local_error.set(Some(e.into()));
                return;
            }
            local_error.set(None);
            chosen.set(Some(decision));
            submit.dispatch(SubmitFeedback {
                run_id: run_id.clone(),
                decision,
                notes: request.clean_notes(),
            });
        }
    };
    let approve = decide.clone();
    let reject = decide;

    let error = move || {
        local_error.get().or_else(|| match submit.value().get() {
            Some(Err(e)) => Some(e),
            _ => None,
        })
    };
    let succeeded = move || matches!(submit.value().get(), Some(Ok(_)));
    let pending = submit.pending();
    let run_link = format!("/runs/{run_id}");
    let run_link2 = run_link.clone();

    view! {
        <header class="flex flex-wrap items-start gap-4">
            <div class="min-w-0 flex-1">
                <p class="text-sm font-medium text-amber-600 dark:text-amber-400">"Human gate"</p>
                <h1 class="mt-1 text-xl font-semibold tracking-tight sm:text-2xl">
                    "Review run "
                    <a href=run_link.clone() class="break-all font-mono hover:underline">{run_id.clone()}</a>
                </h1>
                {move || {
                    let s = summary.get();
                    view! {
                        <div class="mt-2 flex flex-wrap items-center gap-x-3 gap-y-2 text-sm text-slate-500 dark:text-slate-400">
                            <StatusBadge status=s.status testid="run-status"/>
                            <span>"Template " <span class="font-medium text-slate-700 dark:text-slate-200">{s.template.clone()}</span></span>
                            <span class="break-all">"Spec " <span class="font-mono text-xs text-slate-700 dark:text-slate-200">{s.spec.clone().unwrap_or_else(|| "none".into())}</span></span>
                            <span>"Phase " <span class="font-medium text-slate-700 dark:text-slate-200">{s.phase.clone()}</span></span>
                        </div>
                    }
                }}
            </div>
        </header>

        <div class="grid items-start gap-6 lg:grid-cols-[1fr_24rem]">
            // The decision: first on phones, beside the evidence on wide screens.
            <aside class="space-y-4 lg:sticky lg:top-20 lg:order-last">
                <section class="card p-4 sm:p-5" data-testid="decision-panel">
                    <h2 class="text-base font-semibold">"Decision"</h2>
                    {move || {
                        let (ok, bad, waiting) = reviews.with(|r| review_counts(r));
                        view! {
                            <div class="mt-3 grid grid-cols-2 gap-2 text-center" data-testid="verdict-counts">
                                <div class="rounded-lg bg-emerald-50 p-2 dark:bg-emerald-500/10">
                                    <p class="text-xl font-semibold text-emerald-700 tabular-nums dark:text-emerald-400" data-testid="approved-count">{ok}</p>
                                    <p class="text-xs text-emerald-800 dark:text-emerald-300">"approved"</p>
                                </div>
                                <div class="rounded-lg bg-red-50 p-2 dark:bg-red-500/10">
                                    <p class="text-xl font-semibold text-red-700 tabular-nums dark:text-red-400" data-testid="changes-requested-count">{bad}</p>
                                    <p class="text-xs text-red-800 dark:text-red-300">"changes requested"</p>
                                </div>
                            </div>
                            {(waiting > 0).then(|| view! {
                                <p class="mt-2 text-xs text-slate-500">{format!("{waiting} reviewer(s) gave no verdict.")}</p>
                            })}
                        }
                    }}
                    {
                        let run_link = run_link2.clone();
                        let approve = approve.clone();
                        let reject = reject.clone();
                        let denied = denied.clone();
                        move || {
                            if succeeded() {
                                let approved = chosen.get() == Some(Decision::Approve);
                                return view! {
                                    <div
                                        data-testid="feedback-result"
                                        data-decision=if approved { "approve" } else { "reject" }
                                        class=if approved {
                                            "mt-4 rounded-lg border border-emerald-200 bg-emerald-50 p-3 text-sm text-emerald-900 dark:border-emerald-500/30 dark:bg-emerald-500/10 dark:text-emerald-200"
                                        } else {
                                            "mt-4 rounded-lg border border-red-200 bg-red-50 p-3 text-sm text-red-900 dark:border-red-500/30 dark:bg-red-500/10 dark:text-red-200"
                                        }
                                    >
                                        <p class="font-semibold">
                                            {if approved { "✓ You approved this run." } else { "✗ You rejected this run." }}
                                        </p>
                                        <p class="mt-1">
                                            {if approved {
                                                "It is resuming now and will finish on its own."
                                            } else {
                                                "It is resuming now and will end as failed."
                                            }}
                                        </p>
                                        <a href=run_link.clone() class="link mt-2 inline-flex items-center gap-1 font-medium">
                                            "Follow it on the run page"
                                            <Icon icon=I::ArrowRight class="h-4 w-4"/>
                                        </a>
                                    </div>
                                    {decided_gate.get().map(|g| view! { <DecisionView gate=g server_now=server_now.get_untracked()/> })}
                                }
                                .into_any();
                            }
                            if can_decide.get() {
                                let approve = approve.clone();
                                let reject = reject.clone();
                                let denied_msg = denied.clone();
                                let is_denied = denied_msg.is_some();
                                return view! {
                                    <div class="mt-4 space-y-3">
                                        {denied_msg.clone().map(|why| view! {
                                            <div
                                                data-testid="decide-denied"
                                                class="flex gap-2 rounded-lg border border-slate-200 bg-slate-50 p-3 text-sm text-slate-700 dark:border-slate-700 dark:bg-slate-800/50 dark:text-slate-300"
                                            >
                                                <Icon icon=I::Lock class="mt-0.5 h-4 w-4 shrink-0 text-slate-400"/>
                                                <p>{why}</p>
                                            </div>
                                        })}
                                        <label class="block">
                                            <span class="label">"Notes"</span>
                                            <textarea
                                                data-testid="feedback-notes"
                                                rows="5"
                                                class="input mt-1 min-h-28 resize-y"
                                                placeholder="What should happen next? Notes are recorded with your decision."
                                                prop:value=move || notes.get()
                                                on:input=move |ev| notes.set(event_target_value(&ev))
                                                disabled=move || is_denied || pending.get()
                                            ></textarea>
                                            <span class="mt-1 block text-right text-xs tabular-nums text-slate-400">
                                                {move || format!("{} / {}", notes.with(|n| n.chars().count()), crate::format::thousands(MAX_NOTES_CHARS as u64))}
                                            </span>
                                        </label>
                                        {move || error().map(|e| view! { <ErrorBanner error=e testid="form-error"/> })}
                                        <div class="grid grid-cols-2 gap-2" title=denied_msg.clone()>
                                            <button
                                                type="button"
                                                data-testid="reject-button"
                                                data-denied=is_denied.then_some("true")
                                                class="btn btn-danger justify-center"
                                                disabled=move || is_denied || pending.get()
                                                on:click=move |_| reject(Decision::Reject)
                                            >
                                                <Icon icon=I::X class="h-4 w-4"/>
                                                {move || if pending.get() && chosen.get() == Some(Decision::Reject) { "Rejecting…" } else { "Reject" }}
                                            </button>
                                            <button
                                                type="button"
                                                data-testid="approve-button"
                                                data-denied=is_denied.then_some("true")
                                                class="btn btn-success justify-center"
                                                disabled=move || is_denied || pending.get()
                                                on:click=move |_| approve(Decision::Approve)
                                            >
                                                <Icon icon=I::Check class="h-4 w-4"/>
                                                {move || if pending.get() && chosen.get() == Some(Decision::Approve) { "Approving…" } else { "Approve" }}
                                            </button>
                                        </div>
                                        <p class="text-xs text-slate-500 dark:text-slate-400">
                                            "Approving resumes the run. Rejecting resumes it to end as failed. A decision can't be changed."
                                        </p>
                                    </div>
                                }
                                .into_any();
                            }
                            if let Some(g) = decided_gate.get() {
                                return view! { <DecisionView gate=g server_now=server_now.get_untracked()/> }.into_any();
                            }
                            let s = summary.get();
                            view! {
                                <div data-testid="not-waiting" class="mt-4 rounded-lg border border-slate-200 bg-slate-50 p-3 text-sm dark:border-slate-700 dark:bg-slate-800/50">
                                    <p class="font-medium">"This run is not waiting for a decision."</p>
                                    <p class="mt-1 text-slate-600 dark:text-slate-400">
                                        {format!("It is {} (phase {}). Its human gate opens when the workflow reaches it; this page updates by itself.", s.status.label(), s.phase)}
                                    </p>
                                    {move || error().map(|e| view! { <div class="mt-3"><ErrorBanner error=e testid="form-error"/></div> })}
                                </div>
                            }
                            .into_any()
                        }
                    }
                </section>
                {move || open_gate.get().or_else(|| decided_gate.get()).map(|g| view! {
                    <Card title="Gate" icon=I::Shield testid="gate-info">
                        <GateSummary gate=g server_now=server_now.get_untracked()/>
                    </Card>
                })}
            </aside>

            <div class="min-w-0 space-y-6">
                <Card
                    title="What the run accomplished"
                    icon=I::List
                    aside=ViewFn::from(move || {
                        let p = summary.with(|s| s.progress);
                        format!("{} of {} tasks finished", p.finished, p.total)
                    })
                >
                    <div class="border-b border-slate-100 px-4 py-3 dark:border-slate-800">
                        {move || {
                            let s = summary.get();
                            view! { <ProgressBar progress=s.progress status=s.status wide=true/> }
                        }}
                    </div>
                    <TaskList tasks server_now/>
                </Card>
                <Card
                    title="Reviews"
                    icon=I::Shield
                    aside=ViewFn::from(move || {
                        let (ok, bad, _) = reviews.with(|r| review_counts(r));
                        format!("{ok} approved · {bad} changes requested")
                    })
                >
                    <Reviews reviews/>
                </Card>
                <Card title="Task reports" icon=I::FileText>
                    <Reports outputs open=open_rows/>
                </Card>
            </div>
        </div>
    }
}

/// The decision already made at the gate.
#[component]
fn DecisionView(gate: domain::run::GateView, server_now: i64) -> impl IntoView {
    let approved = gate.status == GateStatus::Approved;
    let status_word = match gate.status {
        GateStatus::Approved => "approved",
        GateStatus::Denied => "rejected",
        GateStatus::Requested => "requested",
    };
    let who = gate.decided_by.clone().unwrap_or_else(|| "someone".into());
    view! {
        <div
            data-testid="gate-decision"
            data-decision=status_word
            data-decided-by=gate.decided_by.clone().unwrap_or_default()
            class=if approved {
                "mt-4 rounded-lg border border-emerald-200 bg-emerald-50 p-3 text-sm dark:border-emerald-500/30 dark:bg-emerald-500/10"
            } else {
                "mt-4 rounded-lg border border-red-200 bg-red-50 p-3 text-sm dark:border-red-500/30 dark:bg-red-500/10"
            }
        >
            <p class=if approved {
                "font-semibold text-emerald-800 dark:text-emerald-300"
            } else {
                "font-semibold text-red-800 dark:text-red-300"
            }>
                {if approved { "✓ Approved" } else { "✗ Rejected" }}
                " by "
                <span data-testid="decided-by">{who}</span>
            </p>
            {gate.decided_at_ms.map(|at| view! {
                <p class="mt-0.5 text-xs text-slate-600 dark:text-slate-400">
                    "Decided " <RelativeTime at_ms=at server_now/>
                </p>
            })}
            {gate.note.clone().map(|n| view! {
                <blockquote class="mt-2 whitespace-pre-wrap break-words border-l-2 border-slate-300 pl-3 text-slate-700 dark:border-slate-600 dark:text-slate-300">
                    {n}
                </blockquote>
            })}
            <p class="mt-2 text-xs text-slate-500 dark:text-slate-400">"This gate is decided; it can't be decided again."</p>
        </div>
    }
}
