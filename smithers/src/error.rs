use std::path::{Path, PathBuf};

use domain::run::GateStatus;
use domain::time::rfc3339;
use rusqlite::ErrorCode;

pub type Result<T> = std::result::Result<T, Error>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "Smithers database {} does not exist (yet): the run has not started Smithers, or the path is wrong",
        .0.display()
    )]
    Missing(PathBuf),

    #[error(
        "{} is not a readable Smithers database ({detail}); check that the path points at the run's state.db and that the file was not truncated",
        path.display()
    )]
    Corrupt { path: PathBuf, detail: String },

    #[error(
        "Smithers database {} is locked by another process (Smithers is probably writing); try again in a moment",
        .0.display()
    )]
    Locked(PathBuf),

    #[error("SQLite error on the Smithers database: {0}")]
    Sql(#[source] rusqlite::Error),

    #[error("{}", gate_not_open_message(run_id, node_id.as_deref()))]
    GateNotOpen {
        run_id: String,
        node_id: Option<String>,
    },

    #[error(
        "Smithers run {run_id} has several gates waiting ({}); say which one to decide",
        open.join(", ")
    )]
    AmbiguousGate { run_id: String, open: Vec<String> },

    #[error("{}", already_decided_message(node_id, *iteration, *decision, by.as_deref(), *at))]
    AlreadyDecided {
        node_id: String,
        iteration: i64,
        decision: GateStatus,
        by: Option<String>,
        at: Option<i64>,
    },
}

fn gate_not_open_message(run_id: &str, node_id: Option<&str>) -> String {
    let which = match node_id {
        Some(node) => format!("gate {node}"),
        None => "any gate".to_string(),
    };
    format!(
        "No approval is waiting for {which} in Smithers run {run_id}: the run has not reached a gate yet, or the id is wrong"
    )
}

fn already_decided_message(
    node_id: &str,
    iteration: i64,
    decision: GateStatus,
    by: Option<&str>,
    at: Option<i64>,
) -> String {
    let verb = match decision {
        GateStatus::Approved => "approved",
        GateStatus::Denied => "denied",
        GateStatus::Requested => "requested",
    };
    let by = by.map(|b| format!(" by {b}")).unwrap_or_default();
    let at = at
        .map(|ms| format!(" at {}", rfc3339(ms)))
        .unwrap_or_default();
    format!(
        "Gate {node_id} (iteration {iteration}) was already {verb}{by}{at}; nothing was changed. Reload to see the current state"
    )
}

impl Error {
    /// Turns a SQLite failure into the error a person can act on.
    pub(crate) fn from_sql(path: &Path, err: rusqlite::Error) -> Error {
        let Some(code) = err.sqlite_error_code() else {
            return Error::Sql(err);
        };
        match code {
            ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => Error::Locked(path.into()),
            ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt => Error::Corrupt {
                path: path.into(),
                detail: err.to_string(),
            },
            ErrorCode::CannotOpen if !path.exists() => Error::Missing(path.into()),
            _ => Error::Sql(err),
        }
    }
}

/// `.at(path)` on a rusqlite result classifies its error for that database.
pub(crate) trait At<T> {
    fn at(self, path: &Path) -> Result<T>;
}

impl<T> At<T> for rusqlite::Result<T> {
    fn at(self, path: &Path) -> Result<T> {
        self.map_err(|e| Error::from_sql(path, e))
    }
}

impl From<Error> for domain::Error {
    fn from(err: Error) -> Self {
        use domain::ErrorCode as Code;
        let code = match &err {
            Error::Missing(_) | Error::Locked(_) => Code::Unavailable,
            Error::Corrupt { .. } | Error::Sql(_) => Code::Internal,
            Error::GateNotOpen { .. } | Error::AlreadyDecided { .. } => Code::Conflict,
            Error::AmbiguousGate { .. } => Code::BadRequest,
        };
        domain::Error::new(code, err.to_string())
    }
}
