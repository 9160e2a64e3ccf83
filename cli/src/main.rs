//! `fabrik`: Fabrik Mission Control from the terminal, through fabrik-server's API.
use clap::{CommandFactory, Parser, Subcommand};
use domain::dispatch::DispatchRequest;
use fabrik_cli::commands::login::{login, Login};
use fabrik_cli::commands::runs::ListFilter;
use fabrik_cli::commands::{run, runs, Session};
use fabrik_cli::output::Format;
use fabrik_cli::Result;

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

#[derive(clap::Args)]
struct RunArgs {
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
    /// Follows the run until it ends or waits at its gate.
    #[arg(long)]
    wait: bool,
}

impl RunArgs {
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
                RunsCommand::Logs { id, follow } => runs::logs(&s, &id, follow).await,
                RunsCommand::Cancel { id } => runs::cancel(&s, &id).await,
                RunsCommand::Resume { id } => runs::resume(&s, &id).await,
            }
        }
        Command::Run(args) => {
            let wait = args.wait;
            run::dispatch(&session()?, args.request(), wait).await
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
