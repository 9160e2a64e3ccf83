//! One error type for the CLI, each kind with its exit code and a message that says
//! what to do.
use thiserror::Error;

#[derive(Debug, Error)]
pub enum CliError {
    /// Bad input on the command line or in a file (exit 2, as clap's own).
    #[error("{0}")]
    Usage(String),
    /// No token, or the server no longer takes it (exit 3).
    #[error("{0}")]
    SignIn(String),
    /// The role may not do this (exit 4).
    #[error("{0}")]
    Forbidden(String),
    /// No such run, spec, schedule… (exit 5).
    #[error("{0}")]
    NotFound(String),
    /// Refused in the current state, e.g. a run that already ended (exit 6).
    #[error("{0}")]
    Conflict(String),
    /// The server can't be reached (exit 7).
    #[error("{0}")]
    Unreachable(String),
    /// Anything else the server or this machine got wrong (exit 1).
    #[error("{0}")]
    Failed(String),
}

pub type Result<T> = std::result::Result<T, CliError>;

impl CliError {
    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::Failed(_) => 1,
            CliError::Usage(_) => 2,
            CliError::SignIn(_) => 3,
            CliError::Forbidden(_) => 4,
            CliError::NotFound(_) => 5,
            CliError::Conflict(_) => 6,
            CliError::Unreachable(_) => 7,
        }
    }

    /// The error the API answered with (`{"error":{"code","message"}}`), by status.
    pub fn from_api(status: u16, message: String) -> CliError {
        match status {
            400 | 413 | 422 => CliError::Usage(message),
            401 => CliError::SignIn(format!(
                "{message} Sign in again: fabrik login --server <url> --username <name>."
            )),
            403 => CliError::Forbidden(message),
            404 => CliError::NotFound(message),
            409 | 412 => CliError::Conflict(message),
            _ => CliError::Failed(message),
        }
    }
}

impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> Self {
        CliError::Failed(e.to_string())
    }
}
