use super::icons::{Icon, I};
use domain::auth::Role;
use domain::run::{NodeState, RunStatus};
use leptos::prelude::*;

/// The run's status word (from `RunStatus::label`), coloured by status.
#[component]
pub fn StatusBadge(
    status: RunStatus,
    /// `status-badge` in lists, `run-status` on the run page.
    #[prop(default = "status-badge")]
    testid: &'static str,
    #[prop(optional)] large: bool,
) -> impl IntoView {
    // Colours per status live in the stylesheet (`.st-*`): a list of 50 runs would
    // otherwise carry the same long class lists 50 times.
    let size = if large { "badge-lg" } else { "badge-sm" };
    view! {
        <span
            data-testid=testid
            data-status=status.as_str()
            class=format!("badge {size} st-{}", status.as_str())
        >
            <span class="badge-dot"></span>
            {status.label()}
        </span>
    }
}

/// The amber call to action on a run waiting at an open human gate.
#[component]
pub fn NeedsFeedbackBadge(run_id: String) -> impl IntoView {
    view! {
        <a
            href=format!("/runs/{run_id}/feedback")
            data-testid="needs-feedback-badge"
            class="inline-flex items-center gap-1 whitespace-nowrap rounded-full bg-amber-400 px-2 py-0.5 text-xs font-semibold text-amber-950 shadow-sm hover:bg-amber-300 dark:bg-amber-400 dark:text-amber-950"
            title="This run is waiting for a person's decision"
        >
            <Icon icon=I::Message class="h-3 w-3"/>
            "Needs feedback"
        </a>
    }
}

/// A task's state as a coloured icon.
#[component]
pub fn NodeStateIcon(state: NodeState) -> impl IntoView {
    let label = state.label();
    match state {
        NodeState::InProgress => view! {
            <span class="relative flex h-5 w-5 items-center justify-center" title=label>
                <span class="absolute inline-flex h-3.5 w-3.5 animate-ping rounded-full bg-blue-400 opacity-60"></span>
                <span class="relative inline-flex h-2.5 w-2.5 rounded-full bg-blue-500"></span>
            </span>
        }
        .into_any(),
        other => {
            let (icon, color) = match other {
                NodeState::Finished => (I::CheckCircle, "text-emerald-500"),
                NodeState::Failed => (I::XCircle, "text-red-500"),
                NodeState::WaitingApproval => (I::PauseCircle, "text-amber-500"),
                NodeState::Cancelled => (I::Ban, "text-zinc-400"),
                NodeState::Skipped => (I::Minus, "text-slate-400"),
                _ => (I::Circle, "text-slate-300 dark:text-slate-600"),
            };
            view! {
                <span class=format!("flex h-5 w-5 items-center justify-center {color}") title=label>
                    <Icon icon=icon class="h-5 w-5"/>
                </span>
            }
            .into_any()
        }
    }
}

/// A user's role as a small pill: admin indigo, operator sky, viewer grey.
#[component]
pub fn RoleBadge(role: Role, #[prop(optional)] testid: Option<&'static str>) -> impl IntoView {
    let tone = match role {
        Role::Admin => "bg-indigo-50 text-indigo-700 ring-indigo-200 dark:bg-indigo-500/15 dark:text-indigo-300 dark:ring-indigo-500/30",
        Role::Operator => "bg-sky-50 text-sky-700 ring-sky-200 dark:bg-sky-500/10 dark:text-sky-300 dark:ring-sky-500/30",
        Role::Viewer => "bg-slate-100 text-slate-600 ring-slate-300 dark:bg-slate-800 dark:text-slate-300 dark:ring-slate-600",
    };
    view! {
        <span
            data-testid=testid
            data-role=role.as_str()
            class=format!("inline-flex items-center whitespace-nowrap rounded-full px-2 py-0.5 text-[11px] font-medium leading-4 ring-1 ring-inset {tone}")
        >
            {role.as_str()}
        </span>
    }
}
