//! The dashboard's loop on a real terminal: keys from a reader thread, each source's
//! event stream (`/api/v1/events`) saying when to read it again, every source polled
//! every 2 s besides (the fallback when a stream is down), effects sent to the
//! source's server.
use super::state::{App, DispatchForm, Effect, RunRef, Screen, Source};
use super::view::{self, Palette};
use crate::client::{segment, Client};
use crate::error::{CliError, Result};
use domain::run::{RunDetail, RunPage};
use ratatui::crossterm::event::{self, Event, KeyEventKind};
use serde_json::{json, Value};
use std::io::IsTerminal;
use std::time::Duration;

/// How often the servers are asked again when nothing happens.
pub const POLL: Duration = Duration::from_secs(2);
/// How often the admin view reads the machines again.
const FLEET_EVERY: Duration = Duration::from_secs(10);
pub async fn run(sources: Vec<(String, Client)>) -> Result<i32> {
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        return Err(CliError::Usage(
            "fabrik dashboard needs a terminal; in a pipe or script use fabrik runs list -o json."
                .into(),
        ));
    }
    let (names, clients): (Vec<String>, Vec<Client>) = sources.into_iter().unzip();
    let mut app = App::new(
        names
            .into_iter()
            .map(|name| Source {
                name,
                ..Default::default()
            })
            .collect(),
    );
    let palette = Palette::detect();
    let (keys_tx, mut keys) = tokio::sync::mpsc::unbounded_channel();
    std::thread::spawn(move || {
        while let Ok(event) = event::read() {
            if keys_tx.send(event).is_err() {
                break;
            }
        }
    });
    let (changed_tx, mut changed) = tokio::sync::mpsc::unbounded_channel();
    for client in &clients {
        client.clone().follow_events(changed_tx.clone());
    }
    let mut terminal = ratatui::init();
    let mut tick = tokio::time::interval(POLL);
    let outcome = loop {
        if let Err(e) = terminal.draw(|frame| view::draw(frame, &app, palette)) {
            break Err(CliError::Failed(format!("drawing the dashboard: {e}")));
        }
        let effect = tokio::select! {
            _ = tick.tick() => Effect::Refresh,
            Some(()) = changed.recv() => {
                // What arrived together is read once.
                while changed.try_recv().is_ok() {}
                Effect::Refresh
            }
            event = keys.recv() => match event {
                Some(Event::Key(key)) if key.kind == KeyEventKind::Press => app.key(key),
                Some(_) => Effect::None,
                None => Effect::Quit,
            },
        };
        match effect {
            Effect::None => {}
            Effect::Quit => break Ok(0),
            Effect::Refresh => refresh(&mut app, &clients).await,
            action => {
                act(&mut app, &clients, action).await;
                refresh(&mut app, &clients).await;
            }
        }
    };
    ratatui::restore();
    outcome
}

/// Every source's runs, and what the open view shows.
pub async fn refresh(app: &mut App, clients: &[Client]) {
    for (source, client) in app.sources.iter_mut().zip(clients) {
        if let Some((page, stale)) = from_daemon(&source.name).await {
            source.runs = page.runs;
            source.stale = stale;
            continue;
        }
        match client.get::<RunPage>("/runs?limit=200").await {
            Ok(page) => {
                source.runs = page.runs;
                source.stale = None;
            }
            Err(e) => source.stale = Some(e.to_string()),
        }
    }
    app.clamp();
    let first = &clients[0];
    if app.templates.is_empty() {
        if let Ok(all) = first.get::<Value>("/templates").await {
            let names = all["templates"].as_array().into_iter().flatten();
            app.templates = names
                .filter_map(|t| t["name"].as_str().map(str::to_string))
                .collect();
        }
    }
    match app.screen() {
        Screen::Detail(run) => {
            let client = &clients[run.source];
            if let Ok(detail) = client.get::<RunDetail>(&run_path(&run)).await {
                app.detail = Some(detail);
            }
            read_log(app, client, &run).await;
        }
        Screen::Logs(run) => read_log(app, &clients[run.source], &run).await,
        Screen::Specs => {
            if let Ok(all) = first.get::<Value>("/specs").await {
                app.specs = serde_json::from_value(all["specs"].clone()).unwrap_or_default();
            }
        }
        Screen::Admin if app.fleet_read.is_some_and(|at| at.elapsed() < FLEET_EVERY) => {}
        Screen::Admin => {
            app.fleet_read = Some(std::time::Instant::now());
            match first.get("/admin/cluster").await {
                Ok(fleet) => app.fleet = Some(fleet),
                Err(e) => app.message = Some((e.to_string(), false)),
            }
            app.credentials = first.get("/admin/credentials").await.ok();
        }
        Screen::Runs => {}
    }
}

/// Dispatches the form's run and opens it; a refusal is the footer's message.
async fn dispatch(app: &mut App, clients: &[Client], form: DispatchForm) {
    let request = json!({"template": form.template, "spec": form.spec, "project": form.project,
        "env": form.env, "cpu": form.cpu, "memory": form.memory});
    match clients[form.source].post::<Value>("/runs", &request).await {
        Ok(answer) => {
            let run_id = answer["run_id"].as_str().unwrap_or_default().to_string();
            app.message = Some((format!("Dispatched {run_id}."), true));
            app.show_run(RunRef {
                source: form.source,
                run_id,
            });
        }
        Err(e) => app.message = Some((e.to_string(), false)),
    }
}

/// The context's runs as the daemon has them, when one runs and knows the context.
async fn from_daemon(context: &str) -> Option<(RunPage, Option<String>)> {
    let request = crate::daemon::Request::Runs {
        context: context.to_string(),
    };
    let answer = crate::daemon::ask(&request).await?;
    let page = serde_json::from_value(answer.get("runs")?.clone()).ok()?;
    Some((page, answer["stale"].as_str().map(str::to_string)))
}

/// What the run wrote since the last read (the API's `?offset=`), added to the log.
async fn read_log(app: &mut App, client: &Client, run: &RunRef) {
    let path = format!("{}/logs?offset={}", run_path(run), app.log_offset);
    let Ok(response) = client.stream(&path).await else {
        return;
    };
    if let Ok(bytes) = response.bytes().await {
        app.log_offset += bytes.len() as u64;
        app.log.push_str(&String::from_utf8_lossy(&bytes));
    }
}

fn run_path(run: &RunRef) -> String {
    format!("/runs/{}", segment(&run.run_id))
}

async fn act(app: &mut App, clients: &[Client], effect: Effect) {
    let (run, path, body, done) = match effect {
        Effect::Dispatch(form) => return dispatch(app, clients, form).await,
        Effect::Cancel(run) => {
            let path = format!("{}/cancel", run_path(&run));
            (run, path, json!({}), "Cancelled.")
        }
        Effect::Resume(run) => {
            let path = format!("{}/resume", run_path(&run));
            (run, path, json!({}), "Resumed.")
        }
        Effect::Decide {
            run,
            approve,
            notes,
        } => {
            let decision = if approve { "approve" } else { "reject" };
            let path = format!("{}/feedback", run_path(&run));
            let done = if approve {
                "Approved: the run resumes."
            } else {
                "Rejected."
            };
            (
                run,
                path,
                json!({"decision": decision, "notes": notes}),
                done,
            )
        }
        _ => return,
    };
    app.message = Some(
        match clients[run.source].post::<Value>(&path, &body).await {
            Ok(_) => (format!("{done} ({})", run.run_id), true),
            Err(e) => (e.to_string(), false),
        },
    );
}
