//! Properties of the `.env` code that examples can't cover: round trips, no panics on
//! any input, and merges that never settle a conflict on their own.
use domain::env::{
    apply_incoming, draft_diff, incoming_diff, merge3, parse, write, DraftRow, EnvVars,
    Strategy as MergeStrategy,
};
use proptest::prelude::*;
use std::collections::BTreeMap;

fn key() -> impl Strategy<Value = String> {
    "[A-Za-z_][A-Za-z0-9_]{0,20}".prop_filter("not reserved", |k| {
        !k.starts_with("FABRIK_") && !k.starts_with("SMITHERS_")
    })
}

fn vars() -> impl Strategy<Value = EnvVars> {
    proptest::collection::btree_map(key(), "[^\u{0}]{0,40}", 0..12)
}

/// Small alphabets, so sides collide on keys and values often.
fn small_vars() -> impl Strategy<Value = EnvVars> {
    proptest::collection::btree_map("[ABCD]", "[123]", 0..4)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn write_then_parse_is_identity(v in vars()) {
        prop_assert_eq!(parse(&write(&v)).unwrap().vars, v);
    }

    #[test]
    fn any_text_parses_or_fails_without_panicking(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let text = String::from_utf8_lossy(&bytes);
        if let Ok(p) = parse(&text) {
            prop_assert_eq!(parse(&write(&p.vars)).unwrap().vars, p.vars);
        }
    }

    #[test]
    fn export_crlf_and_a_bom_read_the_same(v in vars()) {
        let lines: String = write(&v).lines().map(|l| format!("export {l}\r\n")).collect();
        let text = format!("\u{feff}{lines}");
        prop_assert_eq!(parse(&text).unwrap().vars, v);
    }

    #[test]
    fn a_merge_without_conflicts_does_not_depend_on_the_side(b in small_vars(), c in small_vars(), i in small_vars()) {
        let one = merge3(&b, &c, &i);
        let other = merge3(&b, &i, &c);
        prop_assert_eq!(one.conflicts.len(), other.conflicts.len());
        if one.conflicts.is_empty() {
            prop_assert_eq!(one.merged, other.merged);
        }
    }

    #[test]
    fn one_sided_changes_are_taken_whole(b in small_vars(), c in small_vars()) {
        let m = merge3(&b, &c, &b);
        prop_assert!(m.conflicts.is_empty());
        prop_assert_eq!(m.merged, c.clone());
        let m = merge3(&b, &b, &c);
        prop_assert!(m.conflicts.is_empty());
        prop_assert_eq!(m.merged, c);
    }

    #[test]
    fn a_conflict_is_never_settled_silently(b in small_vars(), c in small_vars(), i in small_vars()) {
        let m = merge3(&b, &c, &i);
        for key in b.keys().chain(c.keys()).chain(i.keys()) {
            let (bv, cv, iv) = (b.get(key), c.get(key), i.get(key));
            let both_changed = cv != bv && iv != bv && cv != iv;
            prop_assert_eq!(both_changed, m.conflicts.iter().any(|x| &x.key == key));
            if both_changed {
                prop_assert!(!m.merged.contains_key(key));
            }
        }
        let undecided = m.resolve(&MergeStrategy::PerKey(BTreeMap::new()));
        prop_assert_eq!(undecided.is_err(), !m.conflicts.is_empty());
    }

    #[test]
    fn the_paste_preview_counts_what_applying_the_paste_would_change(
        rows in proptest::collection::vec(("[ABCD ]{0,2}", proptest::option::of("[123]")), 0..6),
        incoming in small_vars(),
    ) {
        let rows: Vec<DraftRow> = rows.into_iter().map(|(key, value)| DraftRow { key, value }).collect();
        let applied = draft_diff(&rows, &apply_incoming(&rows, &incoming));
        let counted = incoming_diff(&rows, &incoming);
        prop_assert_eq!(
            (counted.added, counted.modified, counted.deleted),
            (applied.added, applied.modified, applied.deleted)
        );
    }
}
