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
    // The fill's colour per status is in the stylesheet (`.bar-fill.st-*`).
    let fill = status.map_or("", RunStatus::as_str);
    let track = if wide {
        "bar-track bar-wide"
    } else {
        "bar-track"
    };
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
            class="bar"
        >
            <div class=track>
                <div class=format!("bar-fill st-{fill}") style=format!("width: {pct}%")></div>
            </div>
            <span class="bar-count">
                {format!("{}/{}", progress.finished, progress.total)}
            </span>
        </div>
    }
}
