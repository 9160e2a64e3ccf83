//! Specs and todos as the API and pages show them.
use super::{Spec, SpecStatus, Todo};
use serde::{Deserialize, Serialize};

/// A row of the specs list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpecSummary {
    pub id: String,
    pub title: String,
    pub status: String,
    pub goals: usize,
    pub todo: TodoState,
    pub updated_at_ms: i64,
    pub updated_by: String,
}

/// How far a spec's todo is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TodoState {
    None,
    Generated,
    Approved,
}

/// A spec with its stored revision (for saves that must not overwrite a newer one),
/// and its todo if there is one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpecView {
    pub spec: Spec,
    pub revision: i64,
    pub updated_at_ms: i64,
    pub updated_by: String,
    pub todo: Option<TodoView>,
}

impl SpecView {
    pub fn status(&self) -> Option<SpecStatus> {
        SpecStatus::parse(&self.spec.status)
    }

    /// Only a ready spec is dispatched: its todo has been approved.
    pub fn can_dispatch(&self) -> bool {
        self.status() == Some(SpecStatus::Ready)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TodoView {
    pub todo: Todo,
    pub approved_by: Option<String>,
    pub approved_at_ms: Option<i64>,
    pub updated_at_ms: i64,
    pub updated_by: String,
}

impl TodoView {
    pub fn state(&self) -> TodoState {
        if self.approved_at_ms.is_some() {
            TodoState::Approved
        } else {
            TodoState::Generated
        }
    }
}
