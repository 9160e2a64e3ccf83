//! The server's one error type: every failure maps to an HTTP status and a message a
//! person can act on; internals are logged, not shown.
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use domain::ErrorCode;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Domain(#[from] domain::Error),
    #[error("store: {0}")]
    Store(#[from] rusqlite::Error),
    #[error("run database: {0}")]
    Smithers(#[from] smithers::Error),
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    #[error("background task failed: {0}")]
    Join(#[from] tokio::task::JoinError),
    #[error("stored JSON: {0}")]
    Json(#[from] serde_json::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// What a client may see: domain errors as they are, run-DB problems explained,
    /// anything else as a 500 that points at the server log.
    pub fn public(&self) -> domain::Error {
        match self {
            Error::Domain(e) => e.clone(),
            Error::Smithers(e) => smithers_public(e),
            other => {
                tracing::error!(error = %other, "internal error");
                domain::Error::internal(
                    "Something went wrong on the server; nothing was changed. The server log has the details.",
                )
            }
        }
    }
}

fn smithers_public(e: &smithers::Error) -> domain::Error {
    use smithers::Error as S;
    let msg = e.to_string();
    // A bad run DB is a problem with that run, not with the server: 409, so clients
    // show the message instead of retrying blindly.
    match e {
        S::GateNotOpen { .. }
        | S::AlreadyDecided { .. }
        | S::Missing(_)
        | S::Corrupt { .. }
        | S::Locked(_) => domain::Error::new(ErrorCode::Conflict, msg),
        S::AmbiguousGate { .. } => domain::Error::bad_request(msg),
        S::Sql(_) => domain::Error::internal(msg),
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        error_response(&self.public())
    }
}

pub fn error_response(e: &domain::Error) -> Response {
    let status =
        StatusCode::from_u16(e.code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::json!({ "error": { "code": e.code, "message": e.message } });
    (status, Json(body)).into_response()
}
