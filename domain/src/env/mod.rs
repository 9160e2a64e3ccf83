//! Environment variable sets: the `.env` format, key rules, diffs and merges. Pure, so
//! the browser (for the live diff while typing) and the server (for the final check)
//! run the same code.
mod diff;
mod dotenv;
mod draft;
mod keys;
mod merge;
mod set;

pub use diff::{diff, EnvDiff};
pub use dotenv::{describe, parse, write, write_download, LineProblem, Parsed, MAX_DOTENV_BYTES};
pub use draft::{
    apply_incoming, draft_changes, draft_diff, incoming_diff, merge_upload, merge_with_newer,
    row_problems, rows_from, rows_of, shown_row, shown_value, to_save, ChangeKind, DraftChange,
    DraftRow,
};
pub use keys::{check_key, MAX_KEY_CHARS, RESERVED_PREFIXES};
pub use merge::{merge2, merge3, Choice, Conflict, Merge, Strategy, Unresolved};
pub use set::{
    check_name, check_vars, missing_message, missing_required, EnvSetSummary, EnvSetView,
    EnvVarView, SaveEnvSet, SaveOutcome, DEFAULT_REQUIRED, MAX_VALUE_BYTES, MAX_VARS,
    PROTECTED_ENVS,
};

use std::collections::BTreeMap;

/// One environment's variables, by key.
pub type EnvVars = BTreeMap<String, String>;

/// A set from literal pairs, for tests.
#[cfg(test)]
pub(crate) fn test_vars(pairs: &[(&str, &str)]) -> EnvVars {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}
