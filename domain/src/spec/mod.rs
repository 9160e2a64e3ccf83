//! Specs and todos: fabrik's formats, the interview that writes a spec, and the
//! generator that turns one into a todo. Pure, so the wizard in the browser and the
//! server check with the same rules.
mod generate;
mod interview;
mod shape;
mod types;
mod view;

pub use generate::{
    definition_of_done, generate_todo, is_logic_heavy, tier, Tier, MAX_TASKS, MIN_TASKS,
};
pub use interview::{check_spec, is_kebab_id, Step, STEPS};
pub use shape::{
    not_json, parse_spec, parse_todo, spec_from_value, todo_from_value, MAX_SPEC_BYTES,
};
pub use types::{Cfg, Req, Spec, SpecStatus, Task, Todo};
pub use view::{SpecSummary, SpecView, TodoState, TodoView};

use serde::{Deserialize, Serialize};

/// One thing wrong with a spec or todo: the field's path (`goals[2]`, `req.api`) and
/// what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldProblem {
    pub field: String,
    pub message: String,
}

impl FieldProblem {
    pub fn new(field: &str, message: impl Into<String>) -> Self {
        FieldProblem {
            field: field.to_string(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for FieldProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.field.as_str() {
            "" => f.write_str(&self.message),
            field => write!(f, "{field}: {}", self.message),
        }
    }
}

/// Every problem, one per line, for people.
pub fn describe_problems(problems: &[FieldProblem]) -> String {
    problems
        .iter()
        .map(FieldProblem::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

impl Spec {
    /// What the wizard starts from: a draft dated `today` (YYYY-MM-DD).
    pub fn new_draft(today: &str) -> Spec {
        Spec {
            v: 1,
            status: SpecStatus::Draft.as_str().into(),
            version: "1.0.0".into(),
            last_updated: today.into(),
            ..Spec::default()
        }
    }
}
