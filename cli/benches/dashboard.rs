//! How long the dashboard takes to draw its runs view with 100, 1,000 and 10,000 runs
//! (ratatui's TestBackend, 200×50; median of many frames), as ratios to 100 runs
//! measured in the same process. `cargo bench -p fabrik-cli`.
use domain::run::{RunPage, RunStatus};
use fabrik_cli::tui::view::{draw, Palette};
use fabrik_cli::tui::{App, Source};
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use std::time::{Duration, Instant};

fn app(runs: usize) -> App {
    let page: RunPage =
        serde_json::from_str(include_str!("../src/tui/fixtures/runs.json")).unwrap();
    let statuses = [
        RunStatus::Running,
        RunStatus::WaitingApproval,
        RunStatus::Finished,
        RunStatus::Failed,
    ];
    let all = (0..runs)
        .map(|i| {
            let mut r = page.runs[i % page.runs.len()].clone();
            r.run_id = format!("01M8{i:022}");
            r.created_at_ms += i as i64 * 1000;
            r.status = statuses[i % statuses.len()];
            r
        })
        .collect();
    App::new(vec![Source {
        name: "local".into(),
        runs: all,
        stale: None,
    }])
}

/// Median time to draw one frame.
fn frame_time(app: &App) -> Duration {
    let mut terminal = Terminal::new(TestBackend::new(200, 50)).unwrap();
    let palette = Palette::ansi256();
    let mut times: Vec<Duration> = (0..200)
        .map(|_| {
            let start = Instant::now();
            terminal.draw(|f| draw(f, app, palette)).unwrap();
            start.elapsed()
        })
        .collect();
    times.sort();
    times[times.len() / 2]
}

fn main() {
    println!("# fabrik dashboard: runs view frame time (TestBackend 200×50, median of 200)\n");
    println!("| runs | frame | vs 100 runs |\n|---|---|---|");
    let base = frame_time(&app(100));
    for n in [100, 1_000, 10_000] {
        let t = frame_time(&app(n));
        println!(
            "| {n} | {:.3} ms | {:.2}× |",
            t.as_secs_f64() * 1000.0,
            t.as_secs_f64() / base.as_secs_f64()
        );
    }
}
