//! The `fabrik` command line's core, apart from argument parsing: where servers and
//! tokens are kept (`config`), the API client (`client`), output as a table, JSON or
//! YAML (`output`), and one module per command group (`commands`). Everything goes
//! through fabrik-server's `/api/v1`, so the CLI and the web UI give the same results.
pub mod client;
pub mod commands;
pub mod config;
pub mod daemon;
pub mod error;
pub mod output;
pub mod tui;

pub use error::{CliError, Result};
