//! The dashboard's views drawn on ratatui's `TestBackend` (snapshots: wide, narrow,
//! several sources with one stale, a run at its gate, help, a tiny terminal) and its
//! keys, from real API answers saved in `fixtures/`.
use super::state::{App, Effect, Mode, RunRef, Screen, Source};
use super::view::{draw, Palette};
use domain::run::{RunDetail, RunPage};
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::style::Color;
use ratatui::Terminal;

fn page() -> RunPage {
    serde_json::from_str(include_str!("fixtures/runs.json")).unwrap()
}

fn detail() -> RunDetail {
    serde_json::from_str(include_str!("fixtures/detail-at-gate.json")).unwrap()
}

fn app() -> App {
    App::new(vec![Source {
        name: "local".into(),
        runs: page().runs,
        stale: None,
    }])
}

fn screen(app: &App, width: u16, height: u16) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal
        .draw(|frame| draw(frame, app, Palette::ansi16()))
        .unwrap();
    terminal
}

fn key(app: &mut App, code: KeyCode) -> Effect {
    app.key(KeyEvent::new(code, KeyModifiers::NONE))
}

#[test]
fn the_runs_view_wide_and_narrow() {
    let app = app();
    insta::assert_snapshot!("runs_wide", screen(&app, 130, 12).backend());
    insta::assert_snapshot!("runs_narrow", screen(&app, 60, 10).backend());
}

#[test]
fn blocked_runs_are_yellow_and_failed_ones_red() {
    let app = app();
    let terminal = screen(&app, 130, 12);
    let buffer = terminal.backend().buffer();
    let colour_of = |word: &str| {
        let area = buffer.area;
        (0..area.height)
            .find_map(|y| {
                let line: String = (0..area.width).map(|x| buffer[(x, y)].symbol()).collect();
                line.find(word).map(|x| buffer[(x as u16, y)].fg)
            })
            .unwrap()
    };
    assert_eq!(colour_of("blocked"), Color::Yellow);
    assert_eq!(colour_of("failed"), Color::Red);
    assert_eq!(colour_of("finished"), Color::Green);
}

#[test]
fn several_sources_get_a_source_column_and_a_stale_one_says_so() {
    let mut runs = page().runs;
    let other = runs.split_off(2);
    let app = App::new(vec![
        Source {
            name: "laptop".into(),
            runs,
            stale: None,
        },
        Source {
            name: "k3s".into(),
            runs: other,
            stale: Some("Cannot reach fabrik-server".into()),
        },
    ]);
    insta::assert_snapshot!(
        "runs_two_sources_one_stale",
        screen(&app, 140, 10).backend()
    );
}

#[test]
fn a_run_at_its_gate_and_the_decision_prompt() {
    let mut app = app();
    let run = RunRef {
        source: 0,
        run_id: detail().summary.run_id.clone(),
    };
    app.screen_stack.push(Screen::Detail(run.clone()));
    app.detail = Some(detail());
    insta::assert_snapshot!("detail_at_gate", screen(&app, 100, 30).backend());
    assert_eq!(key(&mut app, KeyCode::Char('f')), Effect::None);
    assert_eq!(key(&mut app, KeyCode::Char('a')), Effect::None);
    for c in "ship it".chars() {
        key(&mut app, KeyCode::Char(c));
    }
    insta::assert_snapshot!("feedback_prompt", screen(&app, 100, 8).backend());
    assert_eq!(
        key(&mut app, KeyCode::Enter),
        Effect::Decide {
            run,
            approve: true,
            notes: "ship it".into()
        }
    );
}

#[test]
fn help_and_a_terminal_too_small() {
    let mut app = app();
    key(&mut app, KeyCode::Char('?'));
    insta::assert_snapshot!("help", screen(&app, 80, 14).backend());
    key(&mut app, KeyCode::Char('x'));
    assert_eq!(*app.mode(), Mode::Normal, "any key closes the help");
    insta::assert_snapshot!("too_small", screen(&app, 20, 5).backend());
}

#[test]
fn keys_move_open_filter_confirm_and_quit() {
    let mut app = app();
    assert_eq!(app.rows().len(), 4);
    key(&mut app, KeyCode::Char('j'));
    key(&mut app, KeyCode::Char('j'));
    assert_eq!(app.selected, 2);
    key(&mut app, KeyCode::Char('k'));
    assert_eq!(app.selected, 1);
    // Filter: only the failed run.
    key(&mut app, KeyCode::Char('/'));
    for c in "fail".chars() {
        key(&mut app, KeyCode::Char(c));
    }
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.rows().len(), 1);
    assert_eq!(app.selected, 0);
    // A failed run can't be cancelled, nor decided.
    assert_eq!(key(&mut app, KeyCode::Char('c')), Effect::None);
    assert!(app
        .message
        .as_ref()
        .unwrap()
        .0
        .contains("nothing to cancel"));
    assert_eq!(key(&mut app, KeyCode::Char('f')), Effect::None);
    assert!(app.message.as_ref().unwrap().0.contains("not waiting"));
    // Back to all runs; the first waits at its gate: cancel asks first.
    key(&mut app, KeyCode::Char('/'));
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.rows().len(), 4);
    key(&mut app, KeyCode::Char('c'));
    assert!(matches!(app.mode(), Mode::ConfirmCancel(_)));
    assert_eq!(
        key(&mut app, KeyCode::Char('n')),
        Effect::None,
        "anything but y keeps it"
    );
    key(&mut app, KeyCode::Char('c'));
    let first = app.rows()[0].1.run_id.clone();
    assert_eq!(
        key(&mut app, KeyCode::Char('y')),
        Effect::Cancel(RunRef {
            source: 0,
            run_id: first.clone()
        })
    );
    // Enter opens it, l its log, q goes back, g s the specs, q at the top quits.
    assert_eq!(key(&mut app, KeyCode::Enter), Effect::Refresh);
    assert_eq!(
        app.screen(),
        Screen::Detail(RunRef {
            source: 0,
            run_id: first.clone()
        })
    );
    key(&mut app, KeyCode::Char('l'));
    assert_eq!(
        app.screen(),
        Screen::Logs(RunRef {
            source: 0,
            run_id: first
        })
    );
    key(&mut app, KeyCode::Char('q'));
    key(&mut app, KeyCode::Char('q'));
    assert_eq!(app.screen(), Screen::Runs);
    key(&mut app, KeyCode::Char('g'));
    key(&mut app, KeyCode::Char('s'));
    assert_eq!(app.screen(), Screen::Specs);
    key(&mut app, KeyCode::Char('q'));
    assert_eq!(key(&mut app, KeyCode::Char('q')), Effect::Quit);
    let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
    assert_eq!(app.key(ctrl_c), Effect::Quit);
}

#[test]
fn the_selection_stays_on_screen_in_a_long_list() {
    let template = page().runs[0].clone();
    let runs = (0..200)
        .map(|i| {
            let mut r = template.clone();
            r.run_id = format!("RUN-{i:03}");
            r
        })
        .collect();
    let mut app = App::new(vec![Source {
        name: "local".into(),
        runs,
        stale: None,
    }]);
    for _ in 0..30 {
        key(&mut app, KeyCode::Char('j'));
    }
    let terminal = screen(&app, 130, 12);
    let text = format!("{}", terminal.backend());
    assert!(text.contains("RUN-030"), "{text}");
    assert!(
        !text.contains("RUN-000"),
        "scrolled past the first rows: {text}"
    );
    let buffer = terminal.backend().buffer();
    let row = (0..buffer.area.height)
        .find(|y| {
            (0..10)
                .map(|x| buffer[(x, *y)].symbol())
                .collect::<String>()
                .contains("RUN-030")
        })
        .unwrap();
    assert!(
        buffer[(2, row)]
            .modifier
            .contains(ratatui::style::Modifier::REVERSED),
        "the selected row is highlighted"
    );
}

#[test]
fn the_dispatch_form_picks_a_template_and_fills_fields() {
    let mut app = app();
    assert_eq!(key(&mut app, KeyCode::Char('d')), Effect::None);
    assert!(app.message.as_ref().unwrap().0.contains("No templates"));
    app.templates = vec!["coding".into(), "demo".into()];
    key(&mut app, KeyCode::Char('d'));
    key(&mut app, KeyCode::Right);
    key(&mut app, KeyCode::Tab);
    for c in "specs/x.json".chars() {
        key(&mut app, KeyCode::Char(c));
    }
    key(&mut app, KeyCode::Tab);
    for c in "hoth".chars() {
        key(&mut app, KeyCode::Char(c));
    }
    key(&mut app, KeyCode::Tab);
    key(&mut app, KeyCode::Tab);
    key(&mut app, KeyCode::Char('2'));
    key(&mut app, KeyCode::Tab);
    for c in "4Gi".chars() {
        key(&mut app, KeyCode::Char(c));
    }
    insta::assert_snapshot!("dispatch_form", screen(&app, 100, 16).backend());
    assert_eq!(
        key(&mut app, KeyCode::Enter),
        Effect::Dispatch(super::DispatchForm {
            source: 0,
            template: "demo".into(),
            spec: Some("specs/x.json".into()),
            project: Some("hoth".into()),
            env: None,
            cpu: Some("2".into()),
            memory: Some("4Gi".into()),
        })
    );
    assert_eq!(*app.mode(), Mode::Normal);
}

#[test]
fn the_log_follows_its_end_until_scrolled_back() {
    let mut app = app();
    let run = RunRef {
        source: 0,
        run_id: "01ABC".into(),
    };
    app.screen_stack.push(Screen::Logs(run));
    app.log_follow = true;
    app.log = (1..=100).map(|i| format!("line {i}\n")).collect();
    let text = format!("{}", screen(&app, 80, 12).backend());
    assert!(
        text.contains("line 100") && !text.contains("line 1 "),
        "{text}"
    );
    key(&mut app, KeyCode::Char('k'));
    key(&mut app, KeyCode::Char('k'));
    assert!(!app.log_follow);
    let text = format!("{}", screen(&app, 80, 12).backend());
    assert!(
        text.contains("line 98") && text.contains("follow: off"),
        "{text}"
    );
    key(&mut app, KeyCode::Char('G'));
    let text = format!("{}", screen(&app, 80, 12).backend());
    assert!(
        text.contains("line 100") && text.contains("follow: on"),
        "{text}"
    );
}

#[test]
fn with_several_servers_the_form_asks_which() {
    let mut app = App::new(vec![
        Source {
            name: "laptop".into(),
            ..Default::default()
        },
        Source {
            name: "k3s".into(),
            ..Default::default()
        },
    ]);
    app.templates = vec!["demo".into()];
    key(&mut app, KeyCode::Char('d'));
    key(&mut app, KeyCode::BackTab);
    key(&mut app, KeyCode::Right);
    let text = format!("{}", screen(&app, 100, 16).backend());
    assert!(text.contains("◀ k3s ▶"), "{text}");
    match key(&mut app, KeyCode::Enter) {
        Effect::Dispatch(form) => assert_eq!(form.source, 1),
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_admin_view_sums_runs_credentials_and_storage() {
    use domain::fleet::{Amount, CredentialsView, FleetView, Machine, ProviderKeys, Volume};
    let mut app = app();
    app.screen_stack.push(Screen::Admin);
    app.fleet = Some(FleetView {
        backend: "kube".into(),
        source: "the cluster (runs in namespace fabrik-runs)".into(),
        machines: vec![Machine {
            name: "k3s-server-1".into(),
            ready: true,
            status: "Ready".into(),
            cpu: Amount {
                capacity: Some(8000),
                allocatable: Some(8000),
                used: Some(2000),
            },
            memory: Amount {
                capacity: Some(32 << 30),
                allocatable: Some(32 << 30),
                used: Some(8 << 30),
            },
            disk: Amount::default(),
        }],
        volumes: vec![Volume {
            name: "data-fabrik-01abc".into(),
            size_bytes: Some(10 << 30),
            ..Default::default()
        }],
        ..Default::default()
    });
    app.credentials = Some(CredentialsView {
        source: "Secret fabrik-system/fabrik-credentials".into(),
        providers: vec![
            ProviderKeys {
                provider: "anthropic".into(),
                keys: 2,
                rate_limit: domain::credentials::RateLimitState {
                    limited: true,
                    ..Default::default()
                },
                ..Default::default()
            },
            ProviderKeys {
                provider: "github".into(),
                keys: 1,
                ..Default::default()
            },
        ],
        note: None,
    });
    insta::assert_snapshot!("admin", screen(&app, 100, 14).backend());
}
