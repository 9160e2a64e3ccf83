//! Merging variable sets per key. Three-way (`merge3`): two editors changed the same
//! base, e.g. two tabs; a key both changed differently is a conflict, never resolved
//! silently. Two-way (`merge2`): an uploaded file merged into what is stored.
use super::EnvVars;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// A key the two sides changed differently (`None`: absent / deleted on that side).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conflict {
    pub key: String,
    pub base: Option<String>,
    pub current: Option<String>,
    pub incoming: Option<String>,
}

/// A merge: what merged cleanly, and the conflicts left to decide.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Merge {
    pub merged: EnvVars,
    pub conflicts: Vec<Conflict>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Choice {
    Current,
    Incoming,
}

/// How to settle conflicts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    KeepCurrent,
    TakeIncoming,
    /// A choice for every conflicting key; a missing one is an error, not a default.
    PerKey(BTreeMap<String, Choice>),
}

/// Conflicts a strategy left undecided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unresolved {
    pub keys: Vec<String>,
}

impl std::fmt::Display for Unresolved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Choose current or incoming for: {}.",
            self.keys.join(", ")
        )
    }
}

/// Per key: a change on one side only is taken; the same change on both is taken once;
/// different changes on both sides are a conflict.
pub fn merge3(base: &EnvVars, current: &EnvVars, incoming: &EnvVars) -> Merge {
    let keys: BTreeSet<&String> = base
        .keys()
        .chain(current.keys())
        .chain(incoming.keys())
        .collect();
    let mut m = Merge::default();
    for key in keys {
        let (b, c, i) = (base.get(key), current.get(key), incoming.get(key));
        let taken = if c == i || i == b {
            c
        } else if c == b {
            i
        } else {
            m.conflicts.push(Conflict {
                key: key.clone(),
                base: b.cloned(),
                current: c.cloned(),
                incoming: i.cloned(),
            });
            continue;
        };
        if let Some(v) = taken {
            m.merged.insert(key.clone(), v.clone());
        }
    }
    m
}

/// An upload merged into what is stored: keys only in one of them are kept; a key with
/// a different value on each side is a conflict.
pub fn merge2(current: &EnvVars, incoming: &EnvVars) -> Merge {
    let mut m = Merge {
        merged: current.clone(),
        conflicts: Vec::new(),
    };
    for (key, value) in incoming {
        match current.get(key) {
            None => {
                m.merged.insert(key.clone(), value.clone());
            }
            Some(v) if v != value => {
                m.merged.remove(key);
                m.conflicts.push(Conflict {
                    key: key.clone(),
                    base: None,
                    current: Some(v.clone()),
                    incoming: Some(value.clone()),
                });
            }
            Some(_) => {}
        }
    }
    m
}

impl Merge {
    /// The merged set with every conflict settled by `strategy`.
    pub fn resolve(&self, strategy: &Strategy) -> Result<EnvVars, Unresolved> {
        let mut out = self.merged.clone();
        let mut missing = Vec::new();
        for c in &self.conflicts {
            let choice = match strategy {
                Strategy::KeepCurrent => Choice::Current,
                Strategy::TakeIncoming => Choice::Incoming,
                Strategy::PerKey(choices) => match choices.get(&c.key) {
                    Some(choice) => *choice,
                    None => {
                        missing.push(c.key.clone());
                        continue;
                    }
                },
            };
            let value = match choice {
                Choice::Current => &c.current,
                Choice::Incoming => &c.incoming,
            };
            if let Some(v) = value {
                out.insert(c.key.clone(), v.clone());
            }
        }
        if missing.is_empty() {
            Ok(out)
        } else {
            Err(Unresolved { keys: missing })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::test_vars as vars;

    #[test]
    fn two_tabs_merge_their_separate_edits_and_meet_on_the_same_key() {
        let base = vars(&[("A", "1"), ("B", "2"), ("C", "3")]);
        let tab1 = vars(&[("A", "10"), ("B", "2"), ("C", "3"), ("D", "4")]);
        let tab2 = vars(&[("A", "11"), ("B", "2"), ("E", "5")]);
        let m = merge3(&base, &tab1, &tab2);
        assert_eq!(m.merged, vars(&[("B", "2"), ("D", "4"), ("E", "5")]));
        assert_eq!(m.conflicts.len(), 1);
        assert_eq!(m.conflicts[0].key, "A");
        let err = m.resolve(&Strategy::PerKey(BTreeMap::new())).unwrap_err();
        assert_eq!(err.keys, ["A"]);
        let theirs = m.resolve(&Strategy::TakeIncoming).unwrap();
        assert_eq!(theirs["A"], "11");
        assert!(!theirs.contains_key("C"), "tab 2 deleted C, tab 1 left it");
    }

    #[test]
    fn an_upload_adds_keeps_and_asks_about_differences() {
        let current = vars(&[("A", "1"), ("B", "2")]);
        let upload = vars(&[("B", "20"), ("C", "3")]);
        let m = merge2(&current, &upload);
        assert_eq!(m.conflicts.len(), 1);
        assert_eq!(
            m.resolve(&Strategy::KeepCurrent).unwrap(),
            vars(&[("A", "1"), ("B", "2"), ("C", "3")])
        );
        assert_eq!(m.resolve(&Strategy::TakeIncoming).unwrap()["B"], "20");
    }
}
