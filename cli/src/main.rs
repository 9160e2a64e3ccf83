//! `fabrik`: Fabrik Mission Control from the terminal, through fabrik-server's API.
use clap::{CommandFactory, Parser, Subcommand};
use domain::dispatch::DispatchRequest;
use fabrik_cli::commands::login::{login, Login};
use fabrik_cli::commands::runs::ListFilter;
use fabrik_cli::commands::{admin, env, interview, run, runs, schedules, specs, Session};
use fabrik_cli::output::Format;
use fabrik_cli::Result;
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "fabrik",
    version,
    about = "Fabrik Mission Control from the terminal"
)]
struct Cli {
    /// The context (server and token) to use, from `fabrik login`.
    #[arg(long, global = true, env = "FABRIK_CONTEXT")]
    context: Option<String>,
    /// A server to use instead of the context's.
    #[arg(long, global = true, env = "FABRIK_SERVER")]
    server: Option<String>,
    /// An API token to use instead of the context's.
    #[arg(long, global = true, env = "FABRIK_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// How to print: a table for people, or JSON/YAML as the API has it.
    #[arg(short, long, global = true, value_enum, default_value_t = Format::Table)]
    output: Format,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Signs in and keeps a token for the server in a context.
    Login {
        #[arg(long)]
        server: String,
        #[arg(long)]
        username: String,
        /// Reads the password from standard input (for scripts).
        #[arg(long)]
        password_stdin: bool,
    },
    /// Lists, shows, follows and stops runs.
    Runs {
        #[command(subcommand)]
        command: RunsCommand,
    },
    /// Dispatches a run (`--wait` follows it and exits as smithers does).
    Run(RunArgs),
    /// Approves or rejects a run waiting at its human gate.
    Feedback {
        #[arg(long)]
        id: String,
        #[arg(long, conflicts_with = "reject", required_unless_present = "reject")]
        approve: bool,
        #[arg(long)]
        reject: bool,
        #[arg(long)]
        notes: Option<String>,
    },
    /// Env sets as `.env` files.
    Env {
        #[command(subcommand)]
        command: EnvCommand,
    },
    /// Specs: list, show, check a spec file.
    Spec {
        #[command(subcommand)]
        command: SpecCommand,
    },
    /// A spec's todo: generate it, approve it (the spec is then ready to dispatch).
    Todo {
        #[arg(value_parser = ["generate", "approve"])]
        action: String,
        spec: String,
    },
    /// Runs dispatched on a cron.
    Schedule {
        #[command(subcommand)]
        command: ScheduleCommand,
    },
    /// The credentials runs get: key names per provider (admins).
    Credentials {
        #[command(subcommand)]
        command: CredentialsCommand,
    },
    /// Checks the server, the sign-in and (admins) the machines, and says what to do.
    Doctor,
    /// Backs up the server's store and run DBs now (admins); `fabrik backup list` shows
    /// the history with each backup's restore command.
    Backup {
        #[command(subcommand)]
        command: Option<BackupCommand>,
    },
    /// A k9s-style view of every signed-in server's runs (? for the keys, q quits).
    Dashboard,
    /// A background process keeping every server's runs at hand for the dashboard and
    /// `runs show`.
    Daemon {
        #[command(subcommand)]
        command: DaemonCommand,
    },
    /// Prints a shell completion script.
    Completion {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[derive(Subcommand)]
enum RunsCommand {
    /// The newest runs first.
    List {
        #[arg(long)]
        status: Option<String>,
        #[arg(long)]
        template: Option<String>,
        #[arg(long)]
        spec: Option<String>,
        /// Free text: run id, spec, template, current task.
        #[arg(short, long)]
        query: Option<String>,
        #[arg(long)]
        limit: Option<u32>,
    },
    /// One run: status, progress, gate, exit.
    Show {
        id: String,
    },
    /// The runs, then each change as it happens (Ctrl+C ends it).
    Watch {
        #[arg(long)]
        status: Option<String>,
        #[arg(long)]
        template: Option<String>,
    },
    /// The run's log (`-f` follows it while the run writes).
    Logs {
        id: String,
        #[arg(short, long)]
        follow: bool,
    },
    Cancel {
        id: String,
    },
    Resume {
        id: String,
    },
}

#[derive(Subcommand)]
enum EnvCommand {
    /// Every env set: keys, version, missing required keys.
    Ls,
    /// The set as a .env file (to --file, or standard output).
    Pull {
        project: String,
        env: String,
        #[arg(long)]
        file: Option<PathBuf>,
    },
    /// A .env file becomes the whole set (refused if someone saved in between).
    Push {
        project: String,
        env: String,
        file: PathBuf,
    },
    /// Sets KEY=VALUE pairs, leaving the other keys as they are.
    Set {
        project: String,
        env: String,
        #[arg(required = true)]
        pairs: Vec<String>,
    },
    /// What pushing a file would change (keys only; exit 1 if anything).
    Diff {
        project: String,
        env: String,
        file: PathBuf,
    },
    /// Whether the set has every required key (exit 1 if not).
    Validate { project: String, env: String },
}

#[derive(Subcommand)]
enum SpecCommand {
    List,
    Show {
        id: String,
    },
    /// Checks a spec JSON file with the server's rules.
    Validate {
        file: PathBuf,
    },
    /// fabrik's 10 questions, each answer checked as the web wizard checks it; the
    /// spec is then saved on the server (or written to --file).
    Interview {
        #[arg(long)]
        file: Option<PathBuf>,
    },
}

// Parsed once per process: the size of a variant doesn't matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum ScheduleCommand {
    List,
    /// Creates a schedule: a cron and what each fire dispatches.
    Create {
        #[arg(long)]
        name: String,
        #[arg(long)]
        cron: String,
        #[arg(long, default_value = "UTC")]
        timezone: String,
        #[arg(long, value_parser = ["Forbid", "Allow", "Replace"], default_value = "Forbid")]
        concurrency: String,
        #[command(flatten)]
        run: DispatchArgs,
    },
    Delete {
        name: String,
    },
    Suspend {
        name: String,
    },
    Resume {
        name: String,
    },
    /// Starts a run now, whatever the cron says.
    Trigger {
        name: String,
    },
}

#[derive(Subcommand)]
enum DaemonCommand {
    Start,
    Stop,
    Status,
    /// The daemon itself (what `start` runs in the background).
    #[command(hide = true)]
    Serve,
}

#[derive(Subcommand)]
enum BackupCommand {
    /// The most recent backups, newest first.
    List,
}

#[derive(Subcommand)]
enum CredentialsCommand {
    List,
    /// Moves the provider's new runs to the next key of its pool (admins).
    Rotate {
        provider: String,
    },
}

#[derive(clap::Args)]
struct RunArgs {
    #[command(flatten)]
    run: DispatchArgs,
    /// Follows the run until it ends or waits at its gate.
    #[arg(long, conflicts_with = "cron")]
    wait: bool,
    /// Schedules it instead (needs --name): Kubernetes' 5 fields or @daily…
    #[arg(long, requires = "name")]
    cron: Option<String>,
    /// The schedule's name, with --cron.
    #[arg(long)]
    name: Option<String>,
    #[arg(long, default_value = "UTC")]
    timezone: String,
}

#[derive(clap::Args)]
struct DispatchArgs {
    #[arg(long)]
    template: String,
    /// A stored spec's id, or the path of a spec file.
    #[arg(long)]
    spec: Option<String>,
    #[arg(long)]
    workflow: Option<String>,
    #[arg(long)]
    project: Option<String>,
    /// The project's env set the run gets.
    #[arg(long)]
    env: Option<String>,
    #[arg(long)]
    repo: Option<String>,
    #[arg(long)]
    cpu: Option<String>,
    #[arg(long)]
    memory: Option<String>,
    #[arg(long)]
    model: Option<String>,
    #[arg(long)]
    iterations: Option<u32>,
}

impl DispatchArgs {
    fn request(self) -> DispatchRequest {
        DispatchRequest {
            template: self.template,
            workflow: self.workflow,
            spec: self.spec,
            project: self.project,
            env: self.env,
            spec_json: None,
            repo: self.repo,
            cpu: self.cpu,
            memory: self.memory,
            model: self.model,
            iterations: self.iterations,
        }
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let cli = Cli::parse();
    let code = match execute(cli).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("fabrik: {e}");
            e.exit_code()
        }
    };
    std::process::exit(code);
}

fn schedule(
    name: String,
    cron: String,
    timezone: String,
    concurrency: &str,
    run: DispatchArgs,
) -> Result<domain::schedule::NewSchedule> {
    let concurrency = serde_json::from_value(serde_json::json!(concurrency))
        .map_err(|e| fabrik_cli::CliError::Usage(format!("--concurrency: {e}")))?;
    Ok(domain::schedule::NewSchedule {
        name,
        cron,
        timezone,
        concurrency,
        dispatch: run.request(),
    })
}

async fn execute(cli: Cli) -> Result<i32> {
    let session = || {
        Session::open(
            cli.context.as_deref(),
            cli.server.as_deref(),
            cli.token.as_deref(),
            cli.output,
        )
    };
    match cli.command {
        Command::Login {
            ref server,
            ref username,
            password_stdin,
        } => {
            let args = Login {
                server: server.clone(),
                username: username.clone(),
                password_stdin,
                context: cli.context.clone(),
            };
            login(args).await
        }
        Command::Runs { command } => {
            let s = session()?;
            match command {
                RunsCommand::List {
                    status,
                    template,
                    spec,
                    query,
                    limit,
                } => {
                    let filter = ListFilter {
                        status,
                        template,
                        spec,
                        query,
                        limit,
                    };
                    runs::list(&s, filter).await
                }
                RunsCommand::Show { id } => runs::show(&s, &id).await,
                RunsCommand::Watch { status, template } => {
                    let filter = ListFilter {
                        status,
                        template,
                        ..Default::default()
                    };
                    runs::watch(&s, filter).await
                }
                RunsCommand::Logs { id, follow } => runs::logs(&s, &id, follow).await,
                RunsCommand::Cancel { id } => runs::cancel(&s, &id).await,
                RunsCommand::Resume { id } => runs::resume(&s, &id).await,
            }
        }
        Command::Run(args) => match (args.cron, args.name) {
            (Some(cron), Some(name)) => {
                let schedule = schedule(name, cron, args.timezone, "Forbid", args.run)?;
                schedules::create(&session()?, schedule).await
            }
            _ => run::dispatch(&session()?, args.run.request(), args.wait).await,
        },
        Command::Env { command } => {
            let s = session()?;
            match command {
                EnvCommand::Ls => env::list(&s).await,
                EnvCommand::Pull {
                    project,
                    env: e,
                    file,
                } => env::pull(&s, &project, &e, file.as_deref()).await,
                EnvCommand::Push {
                    project,
                    env: e,
                    file,
                } => env::push(&s, &project, &e, &file).await,
                EnvCommand::Set {
                    project,
                    env: e,
                    pairs,
                } => env::set(&s, &project, &e, &pairs).await,
                EnvCommand::Diff {
                    project,
                    env: e,
                    file,
                } => env::show_diff(&s, &project, &e, &file).await,
                EnvCommand::Validate { project, env: e } => env::validate(&s, &project, &e).await,
            }
        }
        Command::Spec { command } => {
            let s = session();
            match command {
                // Writing to a file needs no server.
                SpecCommand::Interview { file } => {
                    interview::interview(s.ok().as_ref(), file.as_deref()).await
                }
                SpecCommand::List => specs::list(&s?).await,
                SpecCommand::Show { id } => specs::show(&s?, &id).await,
                SpecCommand::Validate { file } => specs::validate(&s?, &file).await,
            }
        }
        Command::Todo { action, spec } => specs::todo(&session()?, &spec, &action).await,
        Command::Schedule { command } => {
            let s = session()?;
            match command {
                ScheduleCommand::List => schedules::list(&s).await,
                ScheduleCommand::Create {
                    name,
                    cron,
                    timezone,
                    concurrency,
                    run,
                } => {
                    schedules::create(&s, schedule(name, cron, timezone, &concurrency, run)?).await
                }
                ScheduleCommand::Delete { name } => schedules::delete(&s, &name).await,
                ScheduleCommand::Suspend { name } => schedules::act(&s, &name, "suspend").await,
                ScheduleCommand::Resume { name } => schedules::act(&s, &name, "resume").await,
                ScheduleCommand::Trigger { name } => schedules::act(&s, &name, "trigger").await,
            }
        }
        Command::Credentials {
            command: CredentialsCommand::List,
        } => admin::credentials(&session()?).await,
        Command::Credentials {
            command: CredentialsCommand::Rotate { provider },
        } => admin::rotate(&session()?, &provider).await,
        Command::Doctor => admin::doctor(&session()?).await,
        Command::Backup { command: None } => admin::backup(&session()?).await,
        Command::Backup {
            command: Some(BackupCommand::List),
        } => admin::backups(&session()?).await,
        Command::Daemon { command } => match command {
            DaemonCommand::Start => fabrik_cli::daemon::start().await,
            DaemonCommand::Stop => fabrik_cli::daemon::stop().await,
            DaemonCommand::Status => fabrik_cli::daemon::status(cli.output).await,
            DaemonCommand::Serve => fabrik_cli::daemon::serve().await,
        },
        Command::Dashboard => {
            let sources = fabrik_cli::commands::sources(
                cli.context.as_deref(),
                cli.server.as_deref(),
                cli.token.as_deref(),
            )?;
            fabrik_cli::tui::terminal::run(sources).await
        }
        Command::Feedback {
            ref id,
            approve,
            reject: _,
            ref notes,
        } => runs::feedback(&session()?, id, approve, notes.clone()).await,
        Command::Completion { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "fabrik", &mut std::io::stdout());
            Ok(0)
        }
    }
}
