//! The Smithers run database, read and decided from Rust.
//!
//! Smithers (smithers-orchestrator, run under bun) writes one SQLite database per run:
//! its own `_smithers_*` tables plus one output table per workflow schema key. Column
//! sets differ between Smithers versions, so every query is built from the columns the
//! database actually has. Reading never disturbs the live WAL writer.

mod error;
mod events;
mod gate;
mod open;
mod outputs;
mod read;
mod schema;
mod shm;
mod values;
mod vfs;
mod watch;

pub use error::{Error, Result};
pub use events::TIMELINE_LIMIT;
pub use gate::{decide_gate, Decision};
pub use read::{output_tables, read_snapshot};
pub use vfs::{name as reader_vfs, open_reader};
pub use watch::{DbChange, Watcher};
