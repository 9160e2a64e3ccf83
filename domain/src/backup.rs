//! Backups of the server's state, as the admin page and the CLI show them.
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackupView {
    pub id: i64,
    pub started_at_ms: i64,
    pub finished_at_ms: Option<i64>,
    /// The backup's directory on the server (when it succeeded).
    pub path: Option<String>,
    pub bytes: u64,
    pub runs: u64,
    /// Why it failed; `None` when it succeeded or is still running.
    pub error: Option<String>,
    pub by: String,
}

impl BackupView {
    pub fn succeeded(&self) -> bool {
        self.finished_at_ms.is_some() && self.error.is_none()
    }

    /// The shell command that restores this backup into an empty data dir.
    pub fn restore_command(&self) -> Option<String> {
        let path = self.path.as_ref().filter(|_| self.succeeded())?;
        Some(format!(
            "fabrik-server --data-dir /path/to/empty-dir restore {}",
            shell_quote(path)
        ))
    }
}

fn shell_quote(s: &str) -> String {
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-+:=".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_finished_backup_has_a_restore_command_and_paths_are_quoted() {
        let mut b = BackupView {
            id: 1,
            started_at_ms: 0,
            finished_at_ms: Some(1),
            path: Some("/var/lib/fabrik/backups/fabrik-backup-x".into()),
            bytes: 10,
            runs: 1,
            error: None,
            by: "admin".into(),
        };
        assert_eq!(
            b.restore_command().unwrap(),
            "fabrik-server --data-dir /path/to/empty-dir restore /var/lib/fabrik/backups/fabrik-backup-x"
        );
        b.path = Some("/backups/it's here".into());
        assert!(b
            .restore_command()
            .unwrap()
            .ends_with(r"restore '/backups/it'\''s here'"));
        b.error = Some("disk full".into());
        assert_eq!(b.restore_command(), None);
    }
}
