//! The data dir holds the store, keys and run directories: only the server may read it.
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// Creates the data dir (0700; 0711 when runs switch to another user, who must reach
/// their own run directory but may list nothing).
pub fn prepare(dir: &Path, runs_switch_user: bool) -> anyhow::Result<()> {
    let runs = dir.join("runs");
    std::fs::create_dir_all(&runs).map_err(|e| {
        anyhow::anyhow!(
            "Cannot create the data dir {}: {e}. Pass --data-dir with a writable path.",
            dir.display()
        )
    })?;
    let mode = if runs_switch_user { 0o711 } else { 0o700 };
    for d in [dir, runs.as_path()] {
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(mode)).map_err(|e| {
            anyhow::anyhow!("Cannot restrict {} to the server's user: {e}.", d.display())
        })?;
    }
    Ok(())
}

/// Makes the store and its WAL files readable by the server's user only.
pub fn protect_store(dir: &Path) -> anyhow::Result<()> {
    for name in ["fabrik.db", "fabrik.db-wal", "fabrik.db-shm"] {
        let path = dir.join(name);
        if path.exists() {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_data_dir_is_closed_to_others() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("data");
        prepare(&dir, false).unwrap();
        let mode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
        std::fs::write(dir.join("fabrik.db"), "x").unwrap();
        std::fs::set_permissions(
            dir.join("fabrik.db"),
            std::fs::Permissions::from_mode(0o644),
        )
        .unwrap();
        protect_store(&dir).unwrap();
        let mode = std::fs::metadata(dir.join("fabrik.db"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        prepare(&dir, true).unwrap();
        let mode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o711, "traversable, not listable");
    }
}
