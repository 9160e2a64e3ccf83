//! The one error type of the web UI. Every server function returns it; pages show its
//! `message` to people and branch on its `code`.
use domain::ErrorCode;
use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct AppError {
    pub code: ErrorCode,
    pub message: String,
}

impl AppError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    pub fn is_not_found(&self) -> bool {
        self.code == ErrorCode::NotFound
    }

    /// A short title for banners ("Not found", "Conflict"…).
    pub fn title(&self) -> &'static str {
        match self.code {
            ErrorCode::BadRequest => "Check the input",
            ErrorCode::NotFound => "Not found",
            ErrorCode::Conflict => "Conflict",
            ErrorCode::Unauthorized => "Sign in required",
            ErrorCode::Forbidden => "Not allowed",
            ErrorCode::Unavailable => "Unavailable",
            ErrorCode::Internal => "Something went wrong",
        }
    }
}

impl From<domain::Error> for AppError {
    fn from(e: domain::Error) -> Self {
        Self {
            code: e.code,
            message: e.message,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Request(detail) => Self::new(
                ErrorCode::Unavailable,
                format!(
                    "Could not reach Fabrik. Check that fabrik-server is running and your \
                     network is up, then try again. ({detail})"
                ),
            ),
            ServerFnErrorErr::Args(detail) | ServerFnErrorErr::MissingArg(detail) => Self::new(
                ErrorCode::BadRequest,
                format!("The request was not understood: {detail}"),
            ),
            other => Self::new(
                ErrorCode::Internal,
                format!("Unexpected error: {other}. Reload the page and try again."),
            ),
        }
    }
}
