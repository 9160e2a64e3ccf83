//! Missing, corrupt and locked databases give errors a person can act on.
mod common;

use std::time::{Duration, Instant};

use smithers::{read_snapshot, DbChange, Error, Watcher};

fn noise(len: usize, mut seed: u64) -> Vec<u8> {
    (0..len)
        .map(|_| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 56) as u8
        })
        .collect()
}

#[test]
fn a_missing_file_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let err = read_snapshot(&path, None).unwrap_err();
    assert!(matches!(&err, Error::Missing(p) if p == &path), "{err:?}");
    assert!(err.to_string().contains("does not exist"), "{err}");
    assert!(!path.exists(), "reading must not create the database");
}

#[test]
fn random_bytes_are_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    std::fs::write(&path, noise(16 * 1024, 7)).unwrap();
    let err = read_snapshot(&path, None).unwrap_err();
    assert!(
        matches!(&err, Error::Corrupt { path: p, .. } if p == &path),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("not a readable Smithers database"),
        "{err}"
    );
}

#[test]
fn a_text_file_is_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    std::fs::write(&path, "this is a log file, not a database\n".repeat(200)).unwrap();
    assert!(matches!(
        read_snapshot(&path, None),
        Err(Error::Corrupt { .. })
    ));
}

#[test]
fn a_damaged_schema_page_is_corrupt() {
    let db = common::shared("approval.db");
    let mut bytes = std::fs::read(&db.path).unwrap();
    // Keep the 100-byte header valid; scramble the rest of page 1 (the schema).
    bytes[100..4096].copy_from_slice(&noise(3996, 3));
    std::fs::write(&db.path, bytes).unwrap();
    let err = read_snapshot(&db.path, None).unwrap_err();
    assert!(matches!(err, Error::Corrupt { .. }), "{err:?}");
}

#[test]
fn an_exclusive_writer_makes_reading_locked_after_the_timeout() {
    // approval.db uses a rollback journal, where an EXCLUSIVE lock keeps readers out.
    let db = common::shared("approval.db");
    let holder = common::rw(&db.path);
    holder
        .execute_batch("BEGIN EXCLUSIVE; UPDATE _smithers_runs SET status = status;")
        .unwrap();
    let started = Instant::now();
    let err = read_snapshot(&db.path, None).unwrap_err();
    let waited = started.elapsed();
    assert!(matches!(&err, Error::Locked(p) if p == &db.path), "{err:?}");
    assert!(err.to_string().contains("locked"), "{err}");
    assert!(
        waited >= Duration::from_millis(900),
        "gave up after {waited:?}"
    );
    assert!(waited < Duration::from_secs(3), "waited {waited:?}");

    let mut watcher = Watcher::new(&db.path);
    assert!(matches!(watcher.poll(), Err(Error::Locked(_))));

    holder.execute_batch("COMMIT").unwrap();
    assert!(read_snapshot(&db.path, None).is_ok());
    assert_eq!(watcher.poll().unwrap(), DbChange::Changed);
}

#[test]
fn errors_map_to_domain_codes() {
    let dir = tempfile::tempdir().unwrap();
    let err: domain::Error = read_snapshot(&dir.path().join("x.db"), None)
        .unwrap_err()
        .into();
    assert_eq!(err.code, domain::ErrorCode::Unavailable);
    assert!(err.message.contains("x.db"));
}
