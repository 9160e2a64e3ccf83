//! Stored env sets: names, required keys, what the pages and API see.
use super::{check_key, EnvVars};
use crate::error::{Error, Result};
use crate::template::is_slug;
use serde::{Deserialize, Serialize};

/// Keys every env set needs before a run may use it, unless configured otherwise.
pub const DEFAULT_REQUIRED: [&str; 2] = ["ANTHROPIC_API_KEY", "LAOS_LOKI_URL"];
/// Envs whose changes ask for typed confirmation in the UI.
pub const PROTECTED_ENVS: [&str; 3] = ["prod", "production", "live"];
/// Largest value, in bytes (a PEM bundle fits; a binary blob does not belong here).
pub const MAX_VALUE_BYTES: usize = 64 * 1024;
/// Most variables one set may hold.
pub const MAX_VARS: usize = 5_000;

/// A project or env name: a DNS-1123 label (lowercase letters, digits, `-`; ≤ 63),
/// since the Kubernetes backend names Secrets after it.
pub fn check_name(what: &str, name: &str) -> Result<()> {
    if is_slug(name) && !name.ends_with('-') {
        Ok(())
    } else {
        Err(Error::bad_request(format!(
            "The {what} name '{name}' must be 1–63 lowercase letters, digits or '-', not starting or ending with '-' (e.g. acme, dev)."
        )))
    }
}

/// Every key valid, values within limits; the first problem found.
pub fn check_vars(vars: &EnvVars) -> Result<()> {
    if vars.len() > MAX_VARS {
        return Err(Error::bad_request(format!(
            "{} variables; a set holds at most {MAX_VARS}.",
            vars.len()
        )));
    }
    for (key, value) in vars {
        check_key(key).map_err(Error::bad_request)?;
        if value.len() > MAX_VALUE_BYTES {
            return Err(Error::bad_request(format!(
                "The value of {key} is {} KiB; values are at most {} KiB.",
                value.len() / 1024,
                MAX_VALUE_BYTES / 1024
            )));
        }
        if value.contains('\0') {
            return Err(Error::bad_request(format!(
                "The value of {key} contains a NUL byte."
            )));
        }
    }
    Ok(())
}

/// Required keys absent (or empty) in `vars`.
pub fn missing_required(vars: &EnvVars, required: &[String]) -> Vec<String> {
    required
        .iter()
        .filter(|k| vars.get(*k).is_none_or(|v| v.trim().is_empty()))
        .cloned()
        .collect()
}

/// "Missing required: LAOS_LOKI_URL" — the words the dispatch form and the API use.
pub fn missing_message(missing: &[String]) -> String {
    format!("Missing required: {}", missing.join(", "))
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvSetSummary {
    pub project: String,
    pub env: String,
    pub version: i64,
    pub keys: usize,
    pub updated_at_ms: i64,
    pub updated_by: String,
    /// Required keys the set lacks (by name; an empty value is caught at dispatch).
    #[serde(default)]
    pub missing_required: Vec<String>,
}

/// One variable as shown: `value` is `None` while masked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvVarView {
    pub key: String,
    pub value: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvSetView {
    pub project: String,
    pub env: String,
    /// Send this back when saving: a save against an older version is refused.
    pub version: i64,
    pub vars: Vec<EnvVarView>,
    pub revealed: bool,
    pub updated_at_ms: i64,
    pub updated_by: String,
    pub missing_required: Vec<String>,
}

impl EnvSetView {
    /// The values, when revealed (a masked view has none to give).
    pub fn revealed_vars(&self) -> Option<EnvVars> {
        self.vars
            .iter()
            .map(|v| Some((v.key.clone(), v.value.clone()?)))
            .collect()
    }
}

/// `PUT /api/v1/env/{project}/{env}`: the whole set, and the version it was based on
/// (`None` to create a new set).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SaveEnvSet {
    #[serde(default)]
    pub version: Option<i64>,
    pub vars: EnvVars,
    /// Keys whose stored value stays as it is: an editor that never revealed a value
    /// sends its key here instead of the value.
    #[serde(default)]
    pub keep: Vec<String>,
}

/// A save either lands, or meets a newer version (returned, revealed, so the editor can
/// merge against it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum SaveOutcome {
    Saved { set: EnvSetView },
    Stale { current: EnvSetView },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_dns_labels_and_required_keys_are_listed() {
        assert!(check_name("project", "acme-2").is_ok());
        for bad in ["", "Acme", "-x", "x-", "a_b", &"a".repeat(64)] {
            assert!(check_name("project", bad).is_err(), "{bad}");
        }
        let vars = EnvVars::from([
            ("ANTHROPIC_API_KEY".to_string(), "sk".to_string()),
            ("LAOS_LOKI_URL".to_string(), " ".to_string()),
        ]);
        let required: Vec<String> = DEFAULT_REQUIRED.iter().map(|s| s.to_string()).collect();
        let missing = missing_required(&vars, &required);
        assert_eq!(missing_message(&missing), "Missing required: LAOS_LOKI_URL");
        let mut bad = vars.clone();
        bad.insert("BAD KEY".into(), "x".into());
        assert!(check_vars(&bad).is_err());
        bad.remove("BAD KEY");
        bad.insert("BIG".into(), "x".repeat(MAX_VALUE_BYTES + 1));
        assert!(check_vars(&bad).unwrap_err().message.contains("BIG"));
    }
}
