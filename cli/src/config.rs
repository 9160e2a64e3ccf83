//! Servers and tokens, as kubeconfig keeps clusters: named contexts and a current one,
//! in `$FABRIK_CONFIG` or `~/.config/fabrik/config.toml` (`$XDG_CONFIG_HOME` honoured),
//! readable by its owner only (0600).
use crate::error::{CliError, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Config {
    pub current: Option<String>,
    #[serde(default)]
    pub contexts: BTreeMap<String, Context>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Context {
    pub server: String,
    pub username: String,
    pub token: String,
}

/// Where the config lives.
pub fn path() -> PathBuf {
    if let Some(p) = std::env::var_os("FABRIK_CONFIG") {
        return PathBuf::from(p);
    }
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
        .unwrap_or_else(|| PathBuf::from("."));
    base.join("fabrik/config.toml")
}

impl Config {
    /// The config at `path`; none yet is an empty one.
    pub fn load(path: &Path) -> Result<Config> {
        match std::fs::read_to_string(path) {
            Ok(text) => toml::from_str(&text).map_err(|e| {
                CliError::Usage(format!(
                    "{} is not a fabrik config ({e}). Fix it, or remove it and run fabrik login again.",
                    path.display()
                ))
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
            Err(e) => Err(CliError::Failed(format!("{}: {e}", path.display()))),
        }
    }

    /// Written whole (a temp file renamed over it), owner-only.
    pub fn save(&self, path: &Path) -> Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let text = toml::to_string_pretty(self).map_err(|e| CliError::Failed(e.to_string()))?;
        let temp = path.with_extension("toml.tmp");
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&temp)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&temp, path)?;
        Ok(())
    }

    /// The context `wanted` (or the current one).
    pub fn context(&self, wanted: Option<&str>) -> Result<(&str, &Context)> {
        let name = match wanted.or(self.current.as_deref()) {
            Some(name) => name,
            None => {
                return Err(CliError::SignIn(
                    "No server yet: fabrik login --server <url> --username <name>.".into(),
                ))
            }
        };
        match self.contexts.get_key_value(name) {
            Some((name, context)) => Ok((name.as_str(), context)),
            None => Err(CliError::Usage(format!(
                "No context '{name}'. Known: {}. Add one with fabrik login --context {name} --server <url>.",
                self.known()
            ))),
        }
    }

    fn known(&self) -> String {
        match self.contexts.keys().cloned().collect::<Vec<_>>().join(", ") {
            names if names.is_empty() => "none".into(),
            names => names,
        }
    }
}

/// A context's name from a server URL: its host (and port), as kubectl names clusters.
pub fn context_name(server: &str) -> String {
    let rest = server.split("://").nth(1).unwrap_or(server);
    rest.trim_end_matches('/').replace(['/', ':'], "-")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn contexts_round_trip_owner_only_and_unknown_ones_say_which_exist() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fabrik/config.toml");
        let mut config = Config::load(&path).unwrap();
        assert!(config.context(None).is_err(), "nothing yet");
        config.contexts.insert(
            "prod".into(),
            Context {
                server: "https://fabrik.example".into(),
                username: "ann".into(),
                token: "fab_x".into(),
            },
        );
        config.current = Some("prod".into());
        config.save(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let again = Config::load(&path).unwrap();
        assert_eq!(again, config);
        assert_eq!(again.context(None).unwrap().0, "prod");
        let e = again.context(Some("dev")).unwrap_err();
        assert!(e.to_string().contains("Known: prod"), "{e}");
        assert_eq!(context_name("http://127.0.0.1:3000/"), "127.0.0.1-3000");
        std::fs::write(&path, "current = [").unwrap();
        assert_eq!(Config::load(&path).unwrap_err().exit_code(), 2);
    }
}
