//! Draws the dashboard: a header with each source's state, the current view, and a
//! footer with the keys (or the prompt the keyboard is in).
use super::state::{App, Form, Mode, Screen, FORM_FIELDS};
use domain::run::{RunStatus, RunSummary};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Clear, Paragraph, Row, Table, TableState, Wrap};
use ratatui::Frame;

/// The smallest screen the dashboard draws on; below it, it says so.
pub const MIN_SIZE: (u16, u16) = (40, 8);

/// Colours: 256-colour accents where the terminal has them, the 16 ANSI ones otherwise.
#[derive(Debug, Clone, Copy)]
pub struct Palette {
    pub accent: Color,
    pub good: Color,
    pub warn: Color,
    pub bad: Color,
    pub dim: Color,
}

impl Palette {
    pub fn ansi16() -> Palette {
        Palette {
            accent: Color::Cyan,
            good: Color::Green,
            warn: Color::Yellow,
            bad: Color::Red,
            dim: Color::DarkGray,
        }
    }

    pub fn ansi256() -> Palette {
        Palette {
            accent: Color::Indexed(111),
            good: Color::Indexed(114),
            warn: Color::Indexed(221),
            bad: Color::Indexed(203),
            dim: Color::Indexed(244),
        }
    }

    /// From `$TERM` / `$COLORTERM`.
    pub fn detect() -> Palette {
        let term = std::env::var("TERM").unwrap_or_default();
        let colorterm = std::env::var("COLORTERM").unwrap_or_default();
        match term.contains("256") || !colorterm.is_empty() {
            true => Palette::ansi256(),
            false => Palette::ansi16(),
        }
    }

    fn status(&self, status: RunStatus) -> Style {
        match status {
            RunStatus::WaitingApproval => Style::new().fg(self.warn),
            RunStatus::Failed => Style::new().fg(self.bad),
            RunStatus::Finished => Style::new().fg(self.good),
            RunStatus::Cancelled => Style::new().fg(self.dim),
            RunStatus::Pending | RunStatus::Running => Style::new(),
        }
    }
}

pub fn draw(frame: &mut Frame, app: &App, p: Palette) {
    let area = frame.area();
    if area.width < MIN_SIZE.0 || area.height < MIN_SIZE.1 {
        let text = format!(
            "Terminal too small ({}×{}): make it at least {}×{}, or press q.",
            area.width, area.height, MIN_SIZE.0, MIN_SIZE.1
        );
        frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }), area);
        return;
    }
    let [header, body, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(1),
    ])
    .areas(area);
    frame.render_widget(header_line(app, p), header);
    match app.screen() {
        Screen::Runs => runs(frame, app, p, body),
        Screen::Detail(_) => detail(frame, app, p, body),
        Screen::Logs(run) => logs(frame, app, &run.run_id, body),
        Screen::Specs => specs(frame, app, p, body),
        Screen::Admin => admin(frame, app, p, body),
    }
    frame.render_widget(footer_line(app, p), footer);
    match app.mode() {
        Mode::Help => help(frame, area),
        Mode::Dispatch(form) => dispatch_form(frame, app, form, p, area),
        _ => {}
    }
}

fn header_line(app: &App, p: Palette) -> Line<'static> {
    let title = match app.screen() {
        Screen::Runs => "runs".to_string(),
        Screen::Detail(r) => format!("run {}", r.run_id),
        Screen::Logs(r) => format!("log {}", r.run_id),
        Screen::Specs => "specs".to_string(),
        Screen::Admin => "admin".to_string(),
    };
    let mut spans = vec![
        Span::styled(" fabrik ", Style::new().fg(Color::Black).bg(p.accent)),
        Span::raw(format!(" {title} ")),
    ];
    for source in &app.sources {
        spans.push(Span::raw(" "));
        match &source.stale {
            None => spans.push(Span::styled(
                format!("● {}", source.name),
                Style::new().fg(p.good),
            )),
            Some(_) => spans.push(Span::styled(
                format!("● {} (stale)", source.name),
                Style::new().fg(p.bad),
            )),
        }
    }
    Line::from(spans)
}

fn footer_line(app: &App, p: Palette) -> Line<'static> {
    let prompt = Style::new().fg(p.warn).add_modifier(Modifier::BOLD);
    match app.mode() {
        Mode::Filter => Line::from(vec![
            Span::styled("/", prompt),
            Span::raw(app.filter.clone()),
            Span::styled("▏", Style::new().fg(p.accent)),
            Span::styled("  Enter keep · Esc clear", Style::new().fg(p.dim)),
        ]),
        Mode::Goto => Line::styled("g: r runs · s specs · a admin", prompt),
        Mode::Dispatch(_) => Line::styled(
            "Tab next field · ←/→ template · Enter dispatch · Esc back",
            prompt,
        ),
        Mode::ConfirmCancel(run) => Line::styled(format!("Cancel run {}? y to confirm, any other key to keep it", run.run_id), prompt),
        Mode::Feedback { approve: None, .. } => Line::styled("Gate: a approve · x reject · Esc back", prompt),
        Mode::Feedback { approve: Some(approve), notes, .. } => Line::from(vec![
            Span::styled(if *approve { "Approve, notes: " } else { "Reject, notes: " }, prompt),
            Span::raw(notes.clone()),
            Span::styled("▏  Enter send · Esc back", Style::new().fg(p.dim)),
        ]),
        _ => match &app.message {
            Some((text, ok)) => Line::styled(text.clone(), Style::new().fg(if *ok { p.good } else { p.warn })),
            None => Line::styled(
                "j/k move · Enter open · l log · f gate · c cancel · r resume · / filter · g r|s|a · ? help · q back",
                Style::new().fg(p.dim),
            ),
        },
    }
}

/// `██████░░ 6/8 75%`
pub fn bar(finished: u32, total: u32, width: usize) -> String {
    let (filled, percent) = match total {
        0 => (0, 0),
        t => (
            (finished.min(t) as usize * width) / t as usize,
            finished.min(t) * 100 / t,
        ),
    };
    format!(
        "{}{} {finished}/{total} {percent}%",
        "█".repeat(filled),
        "░".repeat(width - filled)
    )
}

/// A run's status with its mark: `⚠ blocked` needs someone, `✓ finished`, `✗ failed`.
pub fn status_text(status: RunStatus) -> String {
    let mark = match status {
        RunStatus::Pending => "…",
        RunStatus::Running => "▶",
        RunStatus::WaitingApproval => "⚠",
        RunStatus::Finished => "✓",
        RunStatus::Failed => "✗",
        RunStatus::Cancelled => "–",
    };
    format!("{mark} {}", status.label())
}

/// Columns of the runs table; a narrow screen keeps the ones that say most.
#[derive(Clone, Copy, PartialEq)]
enum Column {
    Source,
    Run,
    Status,
    Template,
    Spec,
    Progress,
    Task,
    Created,
}

impl Column {
    fn header(self) -> &'static str {
        match self {
            Column::Source => "SOURCE",
            Column::Run => "RUN",
            Column::Status => "STATUS",
            Column::Template => "TEMPLATE",
            Column::Spec => "SPEC",
            Column::Progress => "PROGRESS",
            Column::Task => "TASK",
            Column::Created => "CREATED",
        }
    }

    fn width(self, narrow: bool) -> Constraint {
        match self {
            Column::Source => Constraint::Length(12),
            Column::Run if narrow => Constraint::Length(11),
            Column::Run => Constraint::Length(26),
            Column::Status => Constraint::Length(12),
            Column::Template => Constraint::Length(10),
            Column::Spec => Constraint::Length(12),
            Column::Progress => Constraint::Length(20),
            Column::Task => Constraint::Min(8),
            Column::Created => Constraint::Length(11),
        }
    }
}

fn columns(several: bool, narrow: bool) -> Vec<Column> {
    let all = [
        Column::Source,
        Column::Run,
        Column::Status,
        Column::Template,
        Column::Spec,
        Column::Progress,
        Column::Task,
        Column::Created,
    ];
    all.into_iter()
        .filter(|c| *c != Column::Source || several)
        .filter(|c| !narrow || !matches!(c, Column::Template | Column::Spec | Column::Created))
        .collect()
}

/// A run id short enough for a narrow table; both ends stay visible.
fn short_id(id: &str) -> String {
    let chars: Vec<char> = id.chars().collect();
    match chars.len() {
        n if n <= 11 => id.to_string(),
        n => {
            let head: String = chars[..4].iter().collect();
            let tail: String = chars[n - 6..].iter().collect();
            format!("{head}…{tail}")
        }
    }
}

fn runs(frame: &mut Frame, app: &App, p: Palette, area: Rect) {
    let several = app.sources.len() > 1;
    let narrow = area.width < 100;
    let columns = columns(several, narrow);
    let rows = app.rows();
    let headers: Vec<&str> = columns.iter().map(|c| c.header()).collect();
    // Only the rows on screen are built: a frame costs the same with 10,000 runs.
    let visible = area.height.saturating_sub(3).max(1) as usize;
    let offset = (app.selected + 1).saturating_sub(visible);
    let table_rows: Vec<Row> = rows
        .iter()
        .skip(offset)
        .take(visible)
        .map(|(source, r)| {
            let stale = app.sources[*source].stale.is_some();
            let cells = columns.iter().map(|c| match c {
                Column::Source => Cell::from(app.sources[*source].name.clone()),
                Column::Run if narrow => Cell::from(short_id(&r.run_id)),
                Column::Run => Cell::from(r.run_id.clone()),
                Column::Status => Cell::from(status_text(r.status)).style(p.status(r.status)),
                Column::Template => Cell::from(r.template.clone()),
                Column::Spec => Cell::from(r.spec.clone().unwrap_or_else(|| "-".into())),
                Column::Progress => Cell::from(bar(r.progress.finished, r.progress.total, 8)),
                Column::Task => Cell::from(r.task.clone().unwrap_or_else(|| "-".into())),
                Column::Created => Cell::from(created(r)),
            });
            let row = Row::new(cells);
            match stale {
                true => row.style(Style::new().fg(p.dim).add_modifier(Modifier::ITALIC)),
                false => row,
            }
        })
        .collect();
    let widths: Vec<Constraint> = columns.iter().map(|c| c.width(narrow)).collect();
    let title = match (app.filter.is_empty(), rows.len()) {
        (true, n) => format!(" Runs ({n}) "),
        (false, n) => format!(" Runs ({n}) matching /{} ", app.filter),
    };
    let empty = rows.is_empty();
    let table = Table::new(table_rows, widths)
        .header(Row::new(headers).style(Style::new().fg(p.dim).add_modifier(Modifier::BOLD)))
        .block(Block::new().borders(Borders::ALL).title(title))
        .row_highlight_style(Style::new().add_modifier(Modifier::REVERSED));
    let mut state = TableState::default().with_selected((!empty).then_some(app.selected - offset));
    frame.render_stateful_widget(table, area, &mut state);
    if empty {
        let inner = area.inner(ratatui::layout::Margin::new(2, 2));
        let text = match app.filter.is_empty() {
            true => "No runs yet: dispatch one with fabrik run --template demo.",
            false => "No run matches the filter (Esc in / clears it).",
        };
        frame.render_widget(Paragraph::new(text).style(Style::new().fg(p.dim)), inner);
    }
}

fn created(r: &RunSummary) -> String {
    let t = domain::time::rfc3339(r.created_at_ms);
    format!("{} {}", &t[5..10], &t[11..16])
}

fn detail(frame: &mut Frame, app: &App, p: Palette, area: Rect) {
    let block = Block::new().borders(Borders::ALL).title(" Run ");
    let Some(d) = &app.detail else {
        frame.render_widget(Paragraph::new("Loading…").block(block), area);
        return;
    };
    let s = &d.summary;
    let key = |k: &str| Span::styled(format!("{k:<10}"), Style::new().fg(p.dim));
    let mut lines = vec![
        Line::from(vec![key("run"), Span::raw(s.run_id.clone())]),
        Line::from(vec![
            key("status"),
            Span::styled(s.status.label().to_string(), p.status(s.status)),
        ]),
        Line::from(vec![key("template"), Span::raw(s.template.clone())]),
        Line::from(vec![
            key("spec"),
            Span::raw(s.spec.clone().unwrap_or_else(|| "-".into())),
        ]),
        Line::from(vec![key("phase"), Span::raw(s.phase.clone())]),
        Line::from(vec![
            key("progress"),
            Span::raw(bar(s.progress.finished, s.progress.total, 20)),
        ]),
        Line::from(vec![key("backend"), Span::raw(d.execution.backend.clone())]),
    ];
    if let Some(e) = &s.error {
        lines.push(Line::from(vec![
            key("error"),
            Span::styled(e.clone(), Style::new().fg(p.bad)),
        ]));
    }
    if !app.log.is_empty() {
        lines.push(Line::raw(""));
        lines.push(Line::styled(
            "Last log output",
            Style::new().add_modifier(Modifier::BOLD),
        ));
        let tail: Vec<&str> = app.log.lines().filter(|l| !l.trim().is_empty()).collect();
        for line in &tail[tail.len().saturating_sub(5)..] {
            lines.push(Line::styled(format!("  {line}"), Style::new().fg(p.dim)));
        }
    }
    if d.actions.feedback {
        let how = match d.actions.elsewhere {
            true => domain::run::DECIDE_WITH_THE_CLI.to_string(),
            false => "waiting for a decision: f to approve or reject".to_string(),
        };
        lines.push(Line::from(vec![
            key("gate"),
            Span::styled(how, Style::new().fg(p.warn)),
        ]));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        "Tasks",
        Style::new().add_modifier(Modifier::BOLD),
    ));
    for task in domain::status::latest_iterations(&d.smithers.tasks) {
        lines.push(Line::from(vec![
            Span::styled(
                format!("  {:<18}", state_name(task.state)),
                Style::new().fg(p.dim),
            ),
            Span::raw(task.label.clone().unwrap_or_else(|| task.node_id.clone())),
        ]));
    }
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        area,
    );
}

/// A task's state as the API spells it (`waiting-approval`).
fn state_name(state: domain::run::NodeState) -> String {
    serde_json::to_value(state)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn logs(frame: &mut Frame, app: &App, run_id: &str, area: Rect) {
    let follow = if app.log_follow {
        "follow: on (k scrolls back)"
    } else {
        "follow: off (G follows)"
    };
    let block = Block::new()
        .borders(Borders::ALL)
        .title(format!(" Log of {run_id} · {follow} "));
    let text = match app.log.is_empty() {
        true => "No output yet.".to_string(),
        false => app.log.clone(),
    };
    // Following shows the end, as the run writes it.
    let visible = area.height.saturating_sub(2) as usize;
    let lines = text.lines().count();
    let scroll = match app.log_follow {
        true => lines.saturating_sub(visible) as u16,
        false => app.log_scroll,
    };
    frame.render_widget(Paragraph::new(text).block(block).scroll((scroll, 0)), area);
}

fn specs(frame: &mut Frame, app: &App, p: Palette, area: Rect) {
    let rows: Vec<Row> = app
        .specs
        .iter()
        .map(|s| {
            let tone = match s.status.as_str() {
                "ready" => Style::new().fg(p.good),
                _ => Style::new(),
            };
            Row::new(vec![
                Cell::from(s.id.clone()),
                Cell::from(s.status.clone()).style(tone),
                Cell::from(s.title.clone()),
            ])
        })
        .collect();
    let widths = [
        Constraint::Length(24),
        Constraint::Length(12),
        Constraint::Min(10),
    ];
    let table = Table::new(rows, widths)
        .header(Row::new(vec!["SPEC", "STATUS", "TITLE"]).style(Style::new().fg(p.dim)))
        .block(
            Block::new()
                .borders(Borders::ALL)
                .title(format!(" Specs ({}) ", app.specs.len())),
        );
    frame.render_widget(table, area);
}

fn admin(frame: &mut Frame, app: &App, p: Palette, area: Rect) {
    let block = Block::new()
        .borders(Borders::ALL)
        .title(" Admin: machines ");
    let Some(fleet) = &app.fleet else {
        frame.render_widget(Paragraph::new("Loading (admins only)…").block(block), area);
        return;
    };
    let [summary, area] = Layout::vertical([Constraint::Length(5), Constraint::Min(3)]).areas(area);
    frame.render_widget(admin_summary(app, fleet, p), summary);
    let percent = |a: &domain::fleet::Amount| {
        a.used_percent()
            .map_or("-".to_string(), |p| format!("{p}%"))
    };
    let rows: Vec<Row> = fleet
        .machines
        .iter()
        .map(|m| {
            let status = Style::new().fg(if m.ready { p.good } else { p.bad });
            Row::new(vec![
                Cell::from(m.name.clone()),
                Cell::from(m.status.clone()).style(status),
                Cell::from(percent(&m.cpu)),
                Cell::from(percent(&m.memory)),
                Cell::from(percent(&m.disk)),
            ])
        })
        .collect();
    let widths = [
        Constraint::Min(16),
        Constraint::Length(16),
        Constraint::Length(6),
        Constraint::Length(7),
        Constraint::Length(6),
    ];
    let table = Table::new(rows, widths)
        .header(
            Row::new(vec!["MACHINE", "STATUS", "CPU", "MEMORY", "DISK"])
                .style(Style::new().fg(p.dim)),
        )
        .block(block);
    frame.render_widget(table, area);
}

fn plural(n: usize, what: &str) -> String {
    match n {
        1 => format!("1 {what}"),
        n => format!("{n} {what}s"),
    }
}

/// A box in the middle of `area`.
fn centred(area: Rect, width: u16, height: u16) -> Rect {
    let (width, height) = (width.min(area.width), height.min(area.height));
    Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    }
}

fn dispatch_form(frame: &mut Frame, app: &App, form: &Form, p: Palette, area: Rect) {
    let focused = |i: usize| match form.focus == i {
        true => Style::new().fg(p.accent).add_modifier(Modifier::BOLD),
        false => Style::new().fg(p.dim),
    };
    let template = app
        .templates
        .get(form.template)
        .cloned()
        .unwrap_or_default();
    let mut lines = vec![Line::from(vec![
        Span::styled(format!("{:<10}", "template"), focused(0)),
        Span::raw(format!("◀ {template} ▶")),
    ])];
    for (i, name) in FORM_FIELDS.iter().enumerate() {
        let value = &form.fields[i];
        let cursor = if form.focus == i + 1 { "▏" } else { "" };
        lines.push(Line::from(vec![
            Span::styled(format!("{name:<10}"), focused(i + 1)),
            Span::raw(format!("{value}{cursor}")),
        ]));
    }
    if app.sources.len() > 1 {
        let server = app.sources.get(form.source).map_or("", |s| s.name.as_str());
        lines.push(Line::from(vec![
            Span::styled(format!("{:<10}", "server"), focused(6)),
            Span::raw(format!("◀ {server} ▶")),
        ]));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        "Enter dispatches; the run opens when it starts.",
        Style::new().fg(p.dim),
    ));
    let popup = centred(area, 64, 12);
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines).block(Block::new().borders(Borders::ALL).title(" Dispatch a run ")),
        popup,
    );
}

/// Runs by state, the credentials per provider, the runs' storage.
fn admin_summary(app: &App, fleet: &domain::fleet::FleetView, p: Palette) -> Paragraph<'static> {
    let count = |f: fn(RunStatus) -> bool| app.rows().iter().filter(|(_, r)| f(r.status)).count();
    let active = count(|s| matches!(s, RunStatus::Pending | RunStatus::Running));
    let blocked = count(|s| s == RunStatus::WaitingApproval);
    let failed = count(|s| s == RunStatus::Failed);
    let credentials = match &app.credentials {
        Some(c) if c.providers.is_empty() => {
            Span::styled("none (see /admin/credentials)", Style::new().fg(p.warn))
        }
        Some(c) => Span::raw(
            c.providers
                .iter()
                .map(|k| {
                    format!(
                        "{} {} key{}{}",
                        k.provider,
                        k.keys,
                        if k.keys == 1 { "" } else { "s" },
                        if k.rate_limit.limited {
                            " (rate-limited)"
                        } else {
                            ""
                        }
                    )
                })
                .collect::<Vec<_>>()
                .join(" · "),
        ),
        None => Span::styled("-", Style::new().fg(p.dim)),
    };
    let stored: u64 = fleet.volumes.iter().filter_map(|v| v.size_bytes).sum();
    let key = |k: &str| Span::styled(format!("{k:<13}"), Style::new().fg(p.dim));
    Paragraph::new(vec![
        Line::from(vec![
            key("runs"),
            Span::raw(format!("{active} active · ")),
            Span::styled(
                format!("{blocked} blocked"),
                Style::new().fg(if blocked > 0 { p.warn } else { p.dim }),
            ),
            Span::raw(" · "),
            Span::styled(
                format!("{failed} failed"),
                Style::new().fg(if failed > 0 { p.bad } else { p.dim }),
            ),
        ]),
        Line::from(vec![key("credentials"), credentials]),
        Line::from(vec![
            key("storage"),
            Span::raw(format!(
                "{} · {}",
                plural(fleet.volumes.len(), "volume"),
                domain::units::bytes(stored)
            )),
        ]),
        Line::from(vec![key("from"), Span::raw(fleet.source.clone())]),
    ])
    .block(Block::new().borders(Borders::TOP))
}

fn help(frame: &mut Frame, area: Rect) {
    let text = "j/k ↓/↑   move            Enter   open the run\n\
                l         its log          f       approve/reject its gate\n\
                c         cancel (asks)    r       resume\n\
                /         filter           Tab     next row\n\
                g r/s/a   runs/specs/admin d       dispatch a run\n\
                ?         this help\n\
                q / Esc   back, quit       Ctrl+C  quit";
    let popup = centred(area, 60, 9);
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(text).block(
            Block::new()
                .borders(Borders::ALL)
                .title(" Keys (any key closes) "),
        ),
        popup,
    );
}
