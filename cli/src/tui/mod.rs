//! `fabrik dashboard`: a k9s-style terminal view of every configured server's runs.
//! `state` holds what is shown and turns keys into effects (no I/O, tested alone),
//! `view` draws it (snapshot-tested with ratatui's `TestBackend`), and `terminal` runs
//! the loop: keys in, the servers polled, effects carried out.
pub mod state;
pub mod terminal;
#[cfg(test)]
mod tests;
pub mod view;

pub use state::{App, DispatchForm, Effect, RunRef, Screen, Source};
