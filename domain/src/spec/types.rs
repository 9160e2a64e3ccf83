//! Specs and todos exactly as fabrik's `specs/schema/{spec,todo}.schema.json` define
//! them: the same field names and order, no other properties.
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Spec {
    pub v: u32,
    pub id: String,
    pub title: String,
    pub status: String,
    pub version: String,
    pub last_updated: String,
    #[serde(default)]
    pub supersedes: Vec<String>,
    #[serde(default)]
    pub depends_on: Vec<String>,
    pub goals: Vec<String>,
    pub non_goals: Vec<String>,
    pub req: Req,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cfg: Option<Cfg>,
    pub accept: Vec<String>,
    pub assume: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Req {
    pub api: Vec<String>,
    pub behavior: Vec<String>,
    pub obs: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cfg {
    #[serde(default)]
    pub env: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Todo {
    pub v: u32,
    pub id: String,
    pub tdd: bool,
    pub dod: Vec<String>,
    pub tasks: Vec<Task>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Task {
    pub id: String,
    #[serde(rename = "do")]
    pub action: String,
    pub verify: String,
}

/// Where a spec is in its life. fabrik's schema keeps `status` a free string; these are
/// the values its interview defines, and the only ones this product writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SpecStatus {
    Draft,
    Ready,
    InProgress,
    Review,
    Done,
    Superseded,
}

impl SpecStatus {
    pub const ALL: [SpecStatus; 6] = [
        SpecStatus::Draft,
        SpecStatus::Ready,
        SpecStatus::InProgress,
        SpecStatus::Review,
        SpecStatus::Done,
        SpecStatus::Superseded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SpecStatus::Draft => "draft",
            SpecStatus::Ready => "ready",
            SpecStatus::InProgress => "in-progress",
            SpecStatus::Review => "review",
            SpecStatus::Done => "done",
            SpecStatus::Superseded => "superseded",
        }
    }

    pub fn parse(s: &str) -> Option<SpecStatus> {
        SpecStatus::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// The lifecycle: draft → ready (only by approving its todo) → in-progress → review
    /// → done; review may go back to in-progress; anything but done may be superseded.
    pub fn can_become(self, next: SpecStatus) -> bool {
        use SpecStatus::*;
        matches!(
            (self, next),
            (Draft, Ready)
                | (Ready, Draft)
                | (Ready, InProgress)
                | (InProgress, Review)
                | (Review, InProgress)
                | (Review, Done)
        ) || (next == Superseded && self != Done && self != Superseded)
    }
}

impl std::fmt::Display for SpecStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
