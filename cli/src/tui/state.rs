//! What the dashboard shows, and what each key does to it. Pure: effects that need a
//! server are returned for the loop to carry out.
use domain::fleet::FleetView;
use domain::run::{RunDetail, RunStatus, RunSummary};
use domain::spec::SpecSummary;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// One server (a context) and its runs as last read.
#[derive(Debug, Clone, Default)]
pub struct Source {
    pub name: String,
    pub runs: Vec<RunSummary>,
    /// Why its last read failed, while it keeps failing: its rows are then stale.
    pub stale: Option<String>,
}

/// A run on one of the sources.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRef {
    pub source: usize,
    pub run_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Screen {
    Runs,
    Detail(RunRef),
    Logs(RunRef),
    Specs,
    Admin,
}

/// What the keyboard is doing now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    Normal,
    /// Typing the `/` filter.
    Filter,
    /// `g` pressed: the next key picks a view.
    Goto,
    Help,
    /// Asked before cancelling.
    ConfirmCancel(RunRef),
    /// The dispatch form (`d`).
    Dispatch(Form),
    /// Deciding the gate: approve or reject, and notes.
    Feedback {
        run: RunRef,
        approve: Option<bool>,
        notes: String,
    },
}

/// The dispatch form: a template (←/→ picks one of the server's), and the spec,
/// project and env set typed in; Tab moves between fields.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Form {
    pub template: usize,
    /// spec, project, env set, CPU, memory
    pub fields: [String; 5],
    /// 0 the template, 1–5 the fields, 6 the server (with several).
    pub focus: usize,
    /// Which server it goes to.
    pub source: usize,
}

pub const FORM_FIELDS: [&str; 5] = ["spec", "project", "env set", "cpu", "memory"];

/// What a filled-in form asks the server for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DispatchForm {
    pub source: usize,
    pub template: String,
    pub spec: Option<String>,
    pub project: Option<String>,
    pub env: Option<String>,
    pub cpu: Option<String>,
    pub memory: Option<String>,
}

/// Work for the loop: what needs a server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    None,
    Quit,
    Refresh,
    Cancel(RunRef),
    Resume(RunRef),
    Dispatch(DispatchForm),
    Decide {
        run: RunRef,
        approve: bool,
        notes: String,
    },
}

#[derive(Debug, Default)]
pub struct App {
    pub sources: Vec<Source>,
    pub screen_stack: Vec<Screen>,
    pub selected: usize,
    pub filter: String,
    pub mode: ModeState,
    pub detail: Option<RunDetail>,
    pub log: String,
    /// How much of the log has been read: the next read asks only for what follows.
    pub log_offset: u64,
    pub log_scroll: u16,
    /// The log view shows the end as the run writes it, until scrolled back.
    pub log_follow: bool,
    pub credentials: Option<domain::fleet::CredentialsView>,
    /// When the admin view last read the machines: not at every 2-second refresh
    /// (locally that walks every workspace).
    pub fleet_read: Option<std::time::Instant>,
    pub specs: Vec<SpecSummary>,
    /// The first server's templates, for the dispatch form.
    pub templates: Vec<String>,
    pub fleet: Option<FleetView>,
    /// The last outcome worth telling (an action done or refused).
    pub message: Option<(String, bool)>,
}

/// `Mode` with a default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModeState(pub Mode);

impl Default for ModeState {
    fn default() -> Self {
        ModeState(Mode::Normal)
    }
}

impl App {
    pub fn new(sources: Vec<Source>) -> App {
        App {
            sources,
            ..Default::default()
        }
    }

    pub fn screen(&self) -> Screen {
        self.screen_stack.last().cloned().unwrap_or(Screen::Runs)
    }

    pub fn mode(&self) -> &Mode {
        &self.mode.0
    }

    /// The runs table: every source's runs matching the filter, newest first.
    pub fn rows(&self) -> Vec<(usize, &RunSummary)> {
        let needle = self.filter.to_lowercase();
        let mut rows: Vec<(usize, &RunSummary)> = self
            .sources
            .iter()
            .enumerate()
            .flat_map(|(i, s)| s.runs.iter().map(move |r| (i, r)))
            .filter(|(_, r)| needle.is_empty() || matches(r, &needle))
            .collect();
        // Each server lists its runs newest first already.
        if self.sources.len() > 1 {
            rows.sort_by_key(|(_, r)| std::cmp::Reverse(r.created_at_ms));
        }
        rows
    }

    fn selected_run(&self) -> Option<RunRef> {
        match self.screen() {
            Screen::Detail(run) | Screen::Logs(run) => Some(run),
            Screen::Runs => self.rows().get(self.selected).map(|(source, r)| RunRef {
                source: *source,
                run_id: r.run_id.clone(),
            }),
            _ => None,
        }
    }

    fn status_of(&self, run: &RunRef) -> Option<RunStatus> {
        let summary = self
            .sources
            .get(run.source)?
            .runs
            .iter()
            .find(|r| r.run_id == run.run_id)?;
        Some(summary.status)
    }

    fn open(&mut self, screen: Screen) -> Effect {
        self.detail = None;
        self.log.clear();
        self.log_offset = 0;
        self.fleet_read = None;
        self.log_scroll = 0;
        self.log_follow = true;
        self.screen_stack.push(screen);
        Effect::Refresh
    }

    /// Opens the run's page (a run just dispatched).
    pub fn show_run(&mut self, run: RunRef) {
        self.screen_stack.clear();
        self.open(Screen::Detail(run));
    }

    fn back(&mut self) -> Effect {
        match self.screen_stack.pop() {
            Some(_) => Effect::Refresh,
            None => Effect::Quit,
        }
    }

    pub fn key(&mut self, key: KeyEvent) -> Effect {
        if key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c') {
            return Effect::Quit;
        }
        match self.mode.0.clone() {
            Mode::Normal => self.normal_key(key.code),
            Mode::Help => {
                self.mode.0 = Mode::Normal;
                Effect::None
            }
            Mode::Goto => {
                self.mode.0 = Mode::Normal;
                let screen = match key.code {
                    KeyCode::Char('r') => Screen::Runs,
                    KeyCode::Char('s') => Screen::Specs,
                    KeyCode::Char('a') => Screen::Admin,
                    _ => return Effect::None,
                };
                self.screen_stack.clear();
                self.selected = 0;
                match screen {
                    Screen::Runs => Effect::Refresh,
                    other => self.open(other),
                }
            }
            Mode::Filter => {
                match key.code {
                    KeyCode::Enter => self.mode.0 = Mode::Normal,
                    KeyCode::Esc => {
                        self.filter.clear();
                        self.mode.0 = Mode::Normal;
                    }
                    KeyCode::Backspace => {
                        self.filter.pop();
                    }
                    KeyCode::Char(c) => self.filter.push(c),
                    _ => {}
                }
                self.selected = 0;
                Effect::None
            }
            Mode::ConfirmCancel(run) => {
                self.mode.0 = Mode::Normal;
                match key.code {
                    KeyCode::Char('y') => Effect::Cancel(run),
                    _ => {
                        self.message = Some(("Not cancelled.".into(), false));
                        Effect::None
                    }
                }
            }
            Mode::Feedback {
                run,
                approve,
                notes,
            } => self.feedback_key(key.code, run, approve, notes),
            Mode::Dispatch(form) => self.form_key(key.code, form),
        }
    }

    fn normal_key(&mut self, code: KeyCode) -> Effect {
        let count = self.rows().len();
        match code {
            KeyCode::Char('q') | KeyCode::Esc => self.back(),
            KeyCode::Char('G') | KeyCode::End => {
                self.log_follow = true;
                Effect::None
            }
            KeyCode::Char('j') | KeyCode::Down => {
                match self.screen() {
                    Screen::Logs(_) => self.log_scroll = self.log_scroll.saturating_add(1),
                    _ => self.selected = (self.selected + 1).min(count.saturating_sub(1)),
                }
                Effect::None
            }
            KeyCode::Char('k') | KeyCode::Up => {
                match self.screen() {
                    Screen::Logs(_) => {
                        if self.log_follow {
                            // Scrolling back starts from the end that was shown.
                            self.log_follow = false;
                            self.log_scroll = self.log.lines().count().saturating_sub(1) as u16;
                        }
                        self.log_scroll = self.log_scroll.saturating_sub(1)
                    }
                    _ => self.selected = self.selected.saturating_sub(1),
                }
                Effect::None
            }
            KeyCode::Enter => match (self.screen(), self.selected_run()) {
                (Screen::Runs, Some(run)) => self.open(Screen::Detail(run)),
                _ => Effect::None,
            },
            KeyCode::Char('l') => match self.selected_run() {
                Some(run) => self.open(Screen::Logs(run)),
                None => Effect::None,
            },
            KeyCode::Char('/') => {
                self.mode.0 = Mode::Filter;
                Effect::None
            }
            KeyCode::Char('d') => match self.templates.is_empty() {
                true => self.tell("No templates from the server yet (or none you may use)."),
                false => {
                    self.mode.0 = Mode::Dispatch(Form::default());
                    Effect::None
                }
            },
            KeyCode::Char('?') => {
                self.mode.0 = Mode::Help;
                Effect::None
            }
            KeyCode::Char('g') => {
                self.mode.0 = Mode::Goto;
                Effect::None
            }
            KeyCode::Char('c') => match self.selected_run() {
                Some(run) if self.status_of(&run).is_some_and(|s| !s.is_terminal()) => {
                    self.mode.0 = Mode::ConfirmCancel(run);
                    Effect::None
                }
                Some(_) => self.tell("That run has ended: nothing to cancel."),
                None => Effect::None,
            },
            KeyCode::Char('r') => match self.selected_run() {
                Some(run) => Effect::Resume(run),
                None => Effect::None,
            },
            KeyCode::Char('f') => match self.selected_run() {
                Some(run) if self.status_of(&run) == Some(RunStatus::WaitingApproval) => {
                    self.mode.0 = Mode::Feedback {
                        run,
                        approve: None,
                        notes: String::new(),
                    };
                    Effect::None
                }
                Some(_) => self.tell("That run is not waiting at a gate."),
                None => Effect::None,
            },
            KeyCode::Tab => {
                self.selected = (self.selected + 1) % count.max(1);
                Effect::None
            }
            _ => Effect::None,
        }
    }

    /// `a` approve / `x` reject, then notes, Enter to send, Esc to drop it.
    fn feedback_key(
        &mut self,
        code: KeyCode,
        run: RunRef,
        approve: Option<bool>,
        mut notes: String,
    ) -> Effect {
        match (approve, code) {
            (_, KeyCode::Esc) => {
                self.mode.0 = Mode::Normal;
                return self.tell("No decision sent.");
            }
            (None, KeyCode::Char('a')) => {
                self.mode.0 = Mode::Feedback {
                    run,
                    approve: Some(true),
                    notes,
                };
            }
            (None, KeyCode::Char('x')) => {
                self.mode.0 = Mode::Feedback {
                    run,
                    approve: Some(false),
                    notes,
                };
            }
            (Some(approve), KeyCode::Enter) => {
                self.mode.0 = Mode::Normal;
                return Effect::Decide {
                    run,
                    approve,
                    notes,
                };
            }
            (Some(approve), KeyCode::Backspace) => {
                notes.pop();
                self.mode.0 = Mode::Feedback {
                    run,
                    approve: Some(approve),
                    notes,
                };
            }
            (Some(approve), KeyCode::Char(c)) => {
                notes.push(c);
                self.mode.0 = Mode::Feedback {
                    run,
                    approve: Some(approve),
                    notes,
                };
            }
            _ => {}
        }
        Effect::None
    }

    fn form_key(&mut self, code: KeyCode, mut form: Form) -> Effect {
        let count = self.templates.len();
        // The server row only when there is a choice.
        let rows = if self.sources.len() > 1 { 7 } else { 6 };
        let sources = self.sources.len().max(1);
        match code {
            KeyCode::Esc => {
                self.mode.0 = Mode::Normal;
                return self.tell("Nothing dispatched.");
            }
            KeyCode::Tab | KeyCode::Down => form.focus = (form.focus + 1) % rows,
            KeyCode::BackTab | KeyCode::Up => form.focus = (form.focus + rows - 1) % rows,
            KeyCode::Left if form.focus == 6 => form.source = (form.source + sources - 1) % sources,
            KeyCode::Right if form.focus == 6 => form.source = (form.source + 1) % sources,
            KeyCode::Left if form.focus == 0 => form.template = (form.template + count - 1) % count,
            KeyCode::Right if form.focus == 0 => form.template = (form.template + 1) % count,
            KeyCode::Backspace if (1..=5).contains(&form.focus) => {
                form.fields[form.focus - 1].pop();
            }
            KeyCode::Char(c) if (1..=5).contains(&form.focus) => {
                form.fields[form.focus - 1].push(c)
            }
            KeyCode::Enter => {
                self.mode.0 = Mode::Normal;
                let field =
                    |i: usize| Some(form.fields[i].trim().to_string()).filter(|f| !f.is_empty());
                return Effect::Dispatch(DispatchForm {
                    source: form.source,
                    template: self.templates[form.template].clone(),
                    spec: field(0),
                    project: field(1),
                    env: field(2),
                    cpu: field(3),
                    memory: field(4),
                });
            }
            _ => {}
        }
        self.mode.0 = Mode::Dispatch(form);
        Effect::None
    }

    fn tell(&mut self, message: &str) -> Effect {
        self.message = Some((message.into(), false));
        Effect::None
    }

    /// Keeps the selection on a row after the rows changed.
    pub fn clamp(&mut self) {
        let count = self.rows().len();
        self.selected = self.selected.min(count.saturating_sub(1));
    }
}

fn matches(run: &RunSummary, needle: &str) -> bool {
    [
        Some(run.run_id.as_str()),
        Some(run.template.as_str()),
        Some(run.status.as_str()),
        Some(run.status.label()),
        run.spec.as_deref(),
        run.task.as_deref(),
        run.project.as_deref(),
    ]
    .into_iter()
    .flatten()
    .any(|field| field.to_lowercase().contains(needle))
}
