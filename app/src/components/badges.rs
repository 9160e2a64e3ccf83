use super::icons::{Icon, I};
use domain::auth::Role;
use domain::run::{NodeState, RunStatus};
use leptos::prelude::*;

fn status_tone(status: RunStatus) -> (&'static str, &'static str) {
    // (badge classes, dot classes)
    match status {
        RunStatus::Pending => (
            "bg-slate-100 text-slate-700 ring-slate-300 dark:bg-slate-800 dark:text-slate-300 dark:ring-slate-600",
            "bg-slate-400",
        ),
        RunStatus::Running => (
            "bg-blue-50 text-blue-700 ring-blue-200 dark:bg-blue-500/10 dark:text-blue-300 dark:ring-blue-500/30",
            "bg-blue-500 animate-pulse",
        ),
        RunStatus::WaitingApproval => (
            "bg-amber-50 text-amber-800 ring-amber-300 dark:bg-amber-500/10 dark:text-amber-300 dark:ring-amber-500/30",
            "bg-amber-500",
        ),
        RunStatus::Finished => (
            "bg-emerald-50 text-emerald-700 ring-emerald-200 dark:bg-emerald-500/10 dark:text-emerald-300 dark:ring-emerald-500/30",
            "bg-emerald-500",
        ),
        RunStatus::Failed => (
            "bg-red-50 text-red-700 ring-red-200 dark:bg-red-500/10 dark:text-red-300 dark:ring-red-500/30",
            "bg-red-500",
        ),
        RunStatus::Cancelled => (
            "bg-zinc-100 text-zinc-600 ring-zinc-300 dark:bg-zinc-800 dark:text-zinc-400 dark:ring-zinc-600",
            "bg-zinc-400",
        ),
    }
}

/// The run's status word (from `RunStatus::label`), coloured by status.
#[component]
pub fn StatusBadge(
    status: RunStatus,
    /// `status-badge` in lists, `run-status` on the run page.
    #[prop(default = "status-badge")]
    testid: &'static str,
    #[prop(optional)] large: bool,
) -> impl IntoView {
    let (tone, dot) = status_tone(status);
    let size = if large {
        "px-3 py-1 text-sm"
    } else {
        "px-2 py-0.5 text-xs"
    };
    view! {
        <span
            data-testid=testid
            data-status=status.as_str()
            class=format!(
                "inline-flex items-center gap-1.5 whitespace-nowrap rounded-full font-medium capitalize ring-1 ring-inset {size} {tone}",
            )
        >
            <span class=format!("h-1.5 w-1.5 rounded-full {dot}")></span>
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
