//! `fabrik`: the command line for Fabrik Mission Control. Every command will talk to
//! fabrik-server's `/api/v1`; this first version only knows where the server is.
use clap::Parser;

#[derive(Parser)]
#[command(
    name = "fabrik",
    version,
    about = "Fabrik Mission Control from the terminal"
)]
struct Cli {
    /// The fabrik-server to talk to.
    #[arg(long, env = "FABRIK_SERVER", default_value = "http://127.0.0.1:3000")]
    server: String,
}

fn main() {
    let cli = Cli::parse();
    println!(
        "fabrik {}: server {}. Run commands arrive in a later release; use the web UI or {}/api/v1 meanwhile.",
        env!("CARGO_PKG_VERSION"),
        cli.server,
        cli.server
    );
}
