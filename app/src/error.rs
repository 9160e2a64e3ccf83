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
            ErrorCode::TooLarge => "Too large",
            ErrorCode::TooManyRequests => "Too many requests",
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

/// What an error response body may look like: the server functions' own
/// `{"code","message"}`, or the JSON API's `{"error":{"code","message"}}` (which the
/// server's auth middleware may answer before a server function runs). One struct, not
/// an untagged enum: that would bring serde's buffering into the browser's main module.
#[derive(Deserialize)]
struct Wire {
    code: Option<ErrorCode>,
    message: Option<String>,
    error: Option<Flat>,
}

#[derive(Deserialize)]
struct Flat {
    code: ErrorCode,
    message: String,
}

impl AppError {
    /// Reads an error response body; anything unreadable becomes an `Internal` error
    /// that quotes the beginning of the body.
    pub fn from_body(body: &[u8]) -> Self {
        // Read as text, as every answer is (`server_fns::JsonText`): one JSON reader in
        // the WASM instead of two.
        let wire = std::str::from_utf8(body).map(serde_json::from_str::<Wire>);
        match wire.ok().and_then(Result::ok) {
            Some(Wire {
                code: Some(code),
                message: Some(message),
                ..
            }) => Self::new(code, message),
            Some(Wire {
                error: Some(error), ..
            }) => Self::new(error.code, error.message),
            _ => {
                let text = String::from_utf8_lossy(body);
                let text: String = text.trim().chars().take(200).collect();
                if text.is_empty() {
                    Self::new(
                        ErrorCode::Internal,
                        "The server answered with an error and no explanation. Reload the page; \
                         if you were signed out, sign in again.",
                    )
                } else {
                    Self::new(
                        ErrorCode::Internal,
                        format!("Unexpected answer from the server: {text}. Reload the page and try again."),
                    )
                }
            }
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn de(data: leptos::server_fn::Bytes) -> Self {
        Self::from_body(&data)
    }

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_error_shapes() {
        let flat = AppError::from_body(br#"{"code":"forbidden","message":"No."}"#);
        assert_eq!(flat, AppError::new(ErrorCode::Forbidden, "No."));
        let wrapped =
            AppError::from_body(br#"{"error":{"code":"unauthorized","message":"Sign in."}}"#);
        assert_eq!(wrapped, AppError::new(ErrorCode::Unauthorized, "Sign in."));
        let half = AppError::from_body(br#"{"code":"forbidden"}"#);
        assert_eq!(
            half.code,
            ErrorCode::Internal,
            "a code without a message is not an answer"
        );
        let text = AppError::from_body(b"Bad Gateway");
        assert_eq!(text.code, ErrorCode::Internal);
        assert!(text.message.contains("Bad Gateway"));
    }
}
