//! The editor's working copy of a set: rows whose value is known (typed, pasted,
//! revealed) or masked (still the stored value, never sent to the browser).
use super::{check_key, diff, merge3, EnvDiff, EnvSetView, EnvVars, Merge, SaveEnvSet};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};

/// Stands for a masked value in diffs and merges: equal to itself, to nothing else.
const MASKED: &str = "\u{0}masked";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DraftRow {
    pub key: String,
    /// `None`: masked, the stored value stays.
    pub value: Option<String>,
}

/// The rows of a stored set, as the editor starts them.
pub fn rows_of(set: &EnvSetView) -> Vec<DraftRow> {
    set.vars
        .iter()
        .map(|v| DraftRow {
            key: v.key.clone(),
            value: v.value.clone(),
        })
        .collect()
}

/// What is wrong with each row (index, message): bad keys and keys given twice.
pub fn row_problems(rows: &[DraftRow]) -> Vec<(usize, String)> {
    let mut seen = BTreeSet::new();
    let mut problems = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        let key = row.key.trim();
        if let Err(e) = check_key(key) {
            problems.push((i, e));
        } else if !seen.insert(key.to_string()) {
            problems.push((i, format!("{key} is already a row above.")));
        }
    }
    problems
}

/// The save request for these rows (based on `version`), or the row problems.
pub fn to_save(
    rows: &[DraftRow],
    version: Option<i64>,
) -> Result<SaveEnvSet, Vec<(usize, String)>> {
    let problems = row_problems(rows);
    if !problems.is_empty() {
        return Err(problems);
    }
    let mut save = SaveEnvSet {
        version,
        vars: EnvVars::new(),
        keep: Vec::new(),
    };
    for row in rows {
        let key = row.key.trim().to_string();
        match &row.value {
            Some(v) => {
                save.vars.insert(key, v.clone());
            }
            None => save.keep.push(key),
        }
    }
    Ok(save)
}

/// Keys and values of `rows`, masked values standing in as themselves.
fn comparable(rows: &[DraftRow]) -> EnvVars {
    rows.iter()
        .filter(|r| check_key(r.key.trim()).is_ok())
        .map(|r| {
            let v = r.value.clone().unwrap_or_else(|| MASKED.to_string());
            (r.key.trim().to_string(), v)
        })
        .collect()
}

/// What saving `rows` would change in `base` (a masked row is unchanged).
pub fn draft_diff(base: &[DraftRow], rows: &[DraftRow]) -> EnvDiff {
    diff(&comparable(base), &comparable(rows))
}

/// How one key changes when the rows are saved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChangeKind {
    Added,
    Modified,
    Deleted,
}

/// One line of the review before a save: the key, and its value before and after
/// (`None`: not revealed here, or no value on that side).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DraftChange {
    pub key: String,
    pub kind: ChangeKind,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// Every change saving `rows` would make to `base`, sorted by key: what the review page
/// lists. Agrees with [`draft_diff`], which only counts.
pub fn draft_changes(base: &[DraftRow], rows: &[DraftRow]) -> Vec<DraftChange> {
    let (old, new) = (comparable(base), comparable(rows));
    let known = |v: Option<&String>| v.filter(|v| *v != MASKED).cloned();
    let d = diff(&old, &new);
    let (old, new) = (&old, &new);
    let changes = |keys: Vec<String>, kind| {
        keys.into_iter().map(move |key| DraftChange {
            before: known(old.get(&key)),
            after: known(new.get(&key)),
            key,
            kind,
        })
    };
    let mut all: Vec<DraftChange> = changes(d.added, ChangeKind::Added)
        .chain(changes(d.modified, ChangeKind::Modified))
        .chain(changes(d.deleted, ChangeKind::Deleted))
        .collect();
    all.sort_by(|a, b| a.key.cmp(&b.key));
    all
}

/// A pasted or uploaded set laid over the rows: its keys win, other rows stay.
pub fn apply_incoming(rows: &[DraftRow], incoming: &EnvVars) -> Vec<DraftRow> {
    let mut out: Vec<DraftRow> = rows
        .iter()
        .map(|r| match incoming.get(r.key.trim()) {
            Some(v) => DraftRow {
                key: r.key.clone(),
                value: Some(v.clone()),
            },
            None => r.clone(),
        })
        .collect();
    let present: BTreeSet<&str> = rows.iter().map(|r| r.key.trim()).collect();
    out.extend(
        incoming
            .iter()
            .filter(|(key, _)| !present.contains(key.as_str()))
            .map(|(key, value)| DraftRow {
                key: key.clone(),
                value: Some(value.clone()),
            }),
    );
    out
}

/// What laying `incoming` over the rows changes (what [`apply_incoming`] then
/// [`draft_diff`] would say), without building either: the paste box shows it on every
/// keystroke, for pastes of thousands of keys.
pub fn incoming_diff(rows: &[DraftRow], incoming: &EnvVars) -> EnvDiff {
    let current: HashMap<&str, Option<&str>> = rows
        .iter()
        .map(|r| (r.key.trim(), r.value.as_deref()))
        .filter(|(key, _)| check_key(key).is_ok())
        .collect();
    let mut d = EnvDiff::default();
    for (key, value) in incoming {
        let into = match current.get(key.as_str()) {
            None => &mut d.added,
            Some(Some(v)) if *v == value => &mut d.unchanged,
            Some(_) => &mut d.modified,
        };
        into.push(key.clone());
    }
    d
}

/// A save met a newer set (`current`, revealed): the three-way merge of what this
/// editor started from (`base`), what it has now (`rows`) and the newer set. A value
/// this editor changed without ever seeing the stored one is a conflict unless the
/// newer set has the same value: nobody can tell whether the other side changed it.
pub fn merge_with_newer(base: &[DraftRow], rows: &[DraftRow], current: &EnvSetView) -> Merge {
    let newer = current.revealed_vars().unwrap_or_default();
    merge3(&comparable(base), &comparable(rows), &newer)
}

/// An uploaded file merged into the rows: keys only on one side stay; a key whose
/// values differ (or whose stored value was never revealed here) is a conflict.
pub fn merge_upload(rows: &[DraftRow], incoming: &EnvVars) -> Merge {
    super::merge2(&comparable(rows), incoming)
}

/// A value in a merge view: its text, "(deleted)", or a note that it was never revealed.
pub fn shown_value(value: &Option<String>) -> String {
    match value.as_deref() {
        None => "(deleted)".into(),
        Some(MASKED) => "•••••••• (not revealed)".into(),
        Some(v) => v.to_string(),
    }
}

/// A row's value for a merge view (masked ones say so).
pub fn shown_row(row: &DraftRow) -> String {
    shown_value(&Some(
        row.value.clone().unwrap_or_else(|| MASKED.to_string()),
    ))
}

/// Rows from a resolved merge (every value known again).
pub fn rows_from(vars: &EnvVars) -> Vec<DraftRow> {
    vars.iter()
        .map(|(k, v)| DraftRow {
            key: k.clone(),
            value: (v != MASKED).then(|| v.clone()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::{EnvVarView, Strategy};

    #[test]
    fn an_upload_asks_about_differences_and_unrevealed_values() {
        let rows = [row("A", None), row("B", Some("1")), row("C", Some("3"))];
        let upload = EnvVars::from([
            ("A".into(), "a".into()),
            ("B".into(), "2".into()),
            ("C".into(), "3".into()),
            ("D".into(), "4".into()),
        ]);
        let m = merge_upload(&rows, &upload);
        let keys: Vec<&str> = m.conflicts.iter().map(|c| c.key.as_str()).collect();
        assert_eq!(keys, ["A", "B"]);
        let kept = rows_from(&m.resolve(&Strategy::KeepCurrent).unwrap());
        assert_eq!(
            kept,
            [
                row("A", None),
                row("B", Some("1")),
                row("C", Some("3")),
                row("D", Some("4"))
            ]
        );
    }

    fn row(k: &str, v: Option<&str>) -> DraftRow {
        DraftRow {
            key: k.into(),
            value: v.map(str::to_string),
        }
    }

    fn view(version: i64, vars: &[(&str, &str)]) -> EnvSetView {
        EnvSetView {
            project: "acme".into(),
            env: "dev".into(),
            version,
            vars: vars
                .iter()
                .map(|(k, v)| EnvVarView {
                    key: k.to_string(),
                    value: Some(v.to_string()),
                })
                .collect(),
            revealed: true,
            updated_at_ms: 0,
            updated_by: "x".into(),
            missing_required: vec![],
        }
    }

    #[test]
    fn masked_rows_are_kept_not_sent() {
        let rows = [row("A", None), row("B", Some("2")), row("C", Some(""))];
        let save = to_save(&rows, Some(3)).unwrap();
        assert_eq!(save.keep, ["A"]);
        assert_eq!(save.vars.len(), 2);
        let bad = [
            row("A", None),
            row("A", Some("1")),
            row("BAD KEY", Some("1")),
        ];
        let problems = to_save(&bad, None).unwrap_err();
        assert_eq!(problems.iter().map(|p| p.0).collect::<Vec<_>>(), [1, 2]);
    }

    #[test]
    fn a_stale_save_merges_with_the_newer_set_masked_values_included() {
        let base = [row("A", None), row("B", None)];
        // This tab changed B and added C; the other tab changed A and deleted nothing.
        let mine = [row("A", None), row("B", Some("mine")), row("C", Some("3"))];
        let newer = view(2, &[("A", "theirs"), ("B", "old-b")]);
        let m = merge_with_newer(&base, &mine, &newer);
        // B's stored value was never seen here, so whether the other tab changed it is
        // unknown: it is asked, not guessed.
        assert_eq!(m.conflicts.len(), 1, "{m:?}");
        assert_eq!(m.conflicts[0].key, "B");
        let rows = rows_from(&m.resolve(&Strategy::KeepCurrent).unwrap());
        assert_eq!(
            rows,
            [
                row("A", Some("theirs")),
                row("B", Some("mine")),
                row("C", Some("3"))
            ]
        );
        assert_eq!(
            draft_diff(&base, &mine).summary(),
            "1 added, 1 modified, 0 deleted"
        );
    }

    #[test]
    fn the_review_lists_each_change_with_what_is_known_of_its_values() {
        let base = [row("A", None), row("B", Some("1")), row("C", None)];
        let rows = [
            row("A", Some("new")),
            row("B", Some("1")),
            row("D", Some("4")),
        ];
        let changes = draft_changes(&base, &rows);
        let summary: Vec<_> = changes
            .iter()
            .map(|c| {
                (
                    c.key.as_str(),
                    c.kind,
                    c.before.as_deref(),
                    c.after.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                ("A", ChangeKind::Modified, None, Some("new")),
                ("C", ChangeKind::Deleted, None, None),
                ("D", ChangeKind::Added, None, Some("4")),
            ]
        );
        assert_eq!(changes.len(), {
            let d = draft_diff(&base, &rows);
            d.added.len() + d.modified.len() + d.deleted.len()
        });
    }

    #[test]
    fn a_paste_lays_its_keys_over_the_rows() {
        let rows = [row("A", None), row("B", Some("1"))];
        let pasted = EnvVars::from([("B".into(), "2".into()), ("C".into(), "3".into())]);
        let out = apply_incoming(&rows, &pasted);
        assert_eq!(
            out,
            [row("A", None), row("B", Some("2")), row("C", Some("3"))]
        );
    }
}
