//! What changes between two sets of variables.
use super::EnvVars;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct EnvDiff {
    pub added: Vec<String>,
    pub modified: Vec<String>,
    pub deleted: Vec<String>,
    pub unchanged: Vec<String>,
}

impl EnvDiff {
    /// "3 added, 0 modified, 0 deleted".
    pub fn summary(&self) -> String {
        format!(
            "{} added, {} modified, {} deleted",
            self.added.len(),
            self.modified.len(),
            self.deleted.len()
        )
    }

    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.modified.is_empty() && self.deleted.is_empty()
    }
}

/// Keys added, modified, deleted and unchanged going from `old` to `new` (sorted). One
/// walk over both sorted sets, no lookups: the editor runs this on every keystroke.
pub fn diff(old: &EnvVars, new: &EnvVars) -> EnvDiff {
    use std::cmp::Ordering::*;
    let mut d = EnvDiff::default();
    let (mut old, mut new) = (old.iter().peekable(), new.iter().peekable());
    loop {
        let order = match (old.peek(), new.peek()) {
            (None, None) => return d,
            (Some(_), None) => Less,
            (None, Some(_)) => Greater,
            (Some((o, _)), Some((n, _))) => o.cmp(n),
        };
        match order {
            Less => d.deleted.extend(old.next().map(|(k, _)| k.clone())),
            Greater => d.added.extend(new.next().map(|(k, _)| k.clone())),
            Equal => {
                let ((key, was), (_, is)) = (old.next().unwrap(), new.next().unwrap());
                let into = if was == is {
                    &mut d.unchanged
                } else {
                    &mut d.modified
                };
                into.push(key.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::test_vars as vars;

    #[test]
    fn a_paste_into_an_empty_set_is_all_added() {
        let new = vars(&[("A", "1"), ("B", "2"), ("C", "3")]);
        let d = diff(&EnvVars::new(), &new);
        assert_eq!(d.summary(), "3 added, 0 modified, 0 deleted");
        let d = diff(&new, &vars(&[("A", "1"), ("B", "9"), ("D", "4")]));
        assert_eq!(
            (d.added, d.modified, d.deleted, d.unchanged),
            (
                vec!["D".into()],
                vec!["B".into()],
                vec!["C".into()],
                vec!["A".into()]
            )
        );
    }
}
