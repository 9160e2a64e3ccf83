//! One module per page.
pub mod admin;
pub mod dispatch;
pub mod env;
pub mod feedback;
pub mod login;
pub mod not_found;
pub mod run;
pub mod run_data;
pub mod run_parts;
pub mod runs;
pub mod schedules;
pub mod settings;
pub mod specs;
