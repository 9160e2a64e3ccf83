use domain::run::{Progress, RunStatus};
use leptos::prelude::*;

/// Finished over total nodes, as a bar and a count.
#[component]
pub fn ProgressBar(
    progress: Progress,
    #[prop(optional)] status: Option<RunStatus>,
    #[prop(optional)] wide: bool,
) -> impl IntoView {
    let pct = progress.percent();
    let fill = match status {
        Some(RunStatus::Finished) => "bg-emerald-500",
        Some(RunStatus::Failed) => "bg-red-500",
        Some(RunStatus::WaitingApproval) => "bg-amber-500",
        Some(RunStatus::Cancelled) => "bg-zinc-400",
        _ => "bg-indigo-500",
    };
    let track = if wide { "h-2.5" } else { "h-1.5" };
    view! {
        <div
            data-testid="progress-bar"
            data-finished=progress.finished.to_string()
            data-total=progress.total.to_string()
            role="progressbar"
            aria-valuemin="0"
            aria-valuemax=progress.total.to_string()
            aria-valuenow=progress.finished.to_string()
            aria-label=format!("{} of {} tasks finished", progress.finished, progress.total)
            class="flex min-w-24 items-center gap-2"
        >
            <div class=format!(
                "{track} flex-1 overflow-hidden rounded-full bg-slate-200 dark:bg-slate-800",
            )>
                <div
                    class=format!("h-full rounded-full transition-[width] duration-500 {fill}")
                    style=format!("width: {pct}%")
                ></div>
            </div>
            <span class="shrink-0 text-xs tabular-nums text-slate-500 dark:text-slate-400">
                {format!("{}/{}", progress.finished, progress.total)}
            </span>
        </div>
    }
}
