//! Pure types and rules shared by the server, the web UI and the CLI.
//! Nothing here performs I/O, so it compiles for wasm32 as well as the host.

pub mod auth;
pub mod backup;
pub mod board;
pub mod cost;
pub mod credentials;
pub mod dispatch;
pub mod env;
pub mod error;
pub mod event;
pub mod export;
pub mod feedback;
pub mod filter;
pub mod fleet;
pub mod links;
pub mod metrics;
pub mod notify;
pub mod overview;
pub mod run;
pub mod schedule;
pub mod service;
pub mod spec;
pub mod status;
pub mod template;
pub mod time;
pub mod units;

pub use error::{Error, ErrorCode, Result};
