//! The fleet runs go to, for the admin pages: the machines (this host, or the
//! cluster's nodes) with what they have and use, the volumes runs keep their work on,
//! the storage classes, and the credentials runs get — key names counted per
//! provider, never a value.
use serde::{Deserialize, Serialize};

/// What the backend says about where runs go.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FleetView {
    /// "local" or "kube".
    pub backend: String,
    /// Where the figures come from, in words ("this host", "cluster at https://…").
    pub source: String,
    pub machines: Vec<Machine>,
    pub volumes: Vec<Volume>,
    /// Empty for the local backend.
    pub storage_classes: Vec<StorageClass>,
    /// What could not be read, and why (e.g. no metrics API): the rest still shows.
    pub notes: Vec<String>,
}

/// A host or a node.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Machine {
    pub name: String,
    pub ready: bool,
    /// "Ready", or the condition that isn't ("MemoryPressure", "NotReady"…).
    pub status: String,
    /// In millicores.
    pub cpu: Amount,
    /// In bytes.
    pub memory: Amount,
    /// In bytes: the data dir's disk locally, ephemeral storage on a node.
    pub disk: Amount,
}

/// How much of something there is, may be used, and is used (each when known).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Amount {
    pub capacity: Option<u64>,
    pub allocatable: Option<u64>,
    pub used: Option<u64>,
}

impl Amount {
    /// Used, in percent of what may be used (allocatable, else capacity).
    pub fn used_percent(&self) -> Option<u8> {
        let of = self.allocatable.or(self.capacity).filter(|n| *n > 0)?;
        let used = self.used?;
        Some(((used.min(of) as f64 / of as f64) * 100.0).round() as u8)
    }
}

/// Where a run keeps its work: a PVC in a cluster, a workspace directory locally.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Volume {
    pub name: String,
    /// The run it belongs to, when one does.
    pub run_id: Option<String>,
    /// Requested (a PVC) or found on disk (a workspace), in bytes.
    pub size_bytes: Option<u64>,
    /// "Bound", "Pending"… for a PVC; "on disk" locally.
    pub status: String,
    pub storage_class: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StorageClass {
    pub name: String,
    pub provisioner: String,
    pub is_default: bool,
    pub reclaim_policy: Option<String>,
}

/// The credentials runs get, as key names (never values).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CredentialsView {
    /// Where they are kept, in words ("Secret fabrik-system/fabrik-credentials").
    pub source: String,
    pub providers: Vec<ProviderKeys>,
    /// Why there are none, when there are none (missing Secret or file).
    pub note: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderKeys {
    pub provider: String,
    pub keys: usize,
    pub names: Vec<String>,
    /// The key runs get as the provider's variable, once an admin rotated.
    #[serde(default)]
    pub rotation: Option<crate::credentials::Rotation>,
    #[serde(default)]
    pub rate_limit: crate::credentials::RateLimitState,
}

/// Key names grouped by provider, as the seed spec names them: `ANTHROPIC_API_KEY`,
/// `ANTHROPIC_API_KEY_2` → anthropic (2 keys); `GITHUB_TOKEN` → github. Providers in
/// name order, key names sorted.
pub fn group_keys<'a>(names: impl IntoIterator<Item = &'a str>) -> Vec<ProviderKeys> {
    let mut by_provider: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for name in names {
        by_provider
            .entry(provider_of(name))
            .or_default()
            .push(name.to_string());
    }
    by_provider
        .into_iter()
        .map(|(provider, mut names)| {
            names.sort();
            ProviderKeys {
                provider,
                keys: names.len(),
                names,
                ..Default::default()
            }
        })
        .collect()
}

fn provider_of(key: &str) -> String {
    let upper = key.to_ascii_uppercase();
    let base = match upper.rsplit_once('_') {
        Some((base, n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => base,
        _ => upper.as_str(),
    };
    let base = ["_API_KEY", "_KEY", "_TOKEN", "_SECRET"]
        .iter()
        .find_map(|suffix| base.strip_suffix(suffix))
        .filter(|b| !b.is_empty())
        .unwrap_or(base);
    base.to_ascii_lowercase().replace('_', "-")
}

/// A Kubernetes quantity ("250m", "1.5", "16Gi", "100M", "1e3") in base units (cores,
/// bytes); `None` for what isn't one.
pub fn parse_quantity(text: &str) -> Option<f64> {
    let text = text.trim();
    let split = text
        .find(|c: char| c.is_ascii_alphabetic() && c != 'e' && c != 'E')
        .unwrap_or(text.len());
    let (number, suffix) = text.split_at(split);
    let factor = match suffix {
        "" => 1.0,
        "n" => 1e-9,
        "u" => 1e-6,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "Ki" => 1024f64,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "Ei" => 1024f64.powi(6),
        _ => return None,
    };
    let value: f64 = number.parse().ok()?;
    (value.is_finite() && value >= 0.0).then_some(value * factor)
}

/// Cores as millicores, and bytes as bytes, from a quantity.
pub fn millicores(text: &str) -> Option<u64> {
    parse_quantity(text).map(|cores| (cores * 1000.0).round() as u64)
}

pub fn bytes(text: &str) -> Option<u64> {
    parse_quantity(text).map(|b| b.round() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_read_as_kubernetes_writes_them() {
        assert_eq!(millicores("250m"), Some(250));
        assert_eq!(millicores("4"), Some(4000));
        assert_eq!(millicores("1.5"), Some(1500));
        assert_eq!(millicores("123456789n"), Some(123));
        assert_eq!(bytes("16Gi"), Some(17_179_869_184));
        assert_eq!(bytes("100M"), Some(100_000_000));
        assert_eq!(bytes("8039792Ki"), Some(8_232_747_008));
        assert_eq!(bytes("1e3"), Some(1000));
        for bad in ["", "abc", "12Xi", "-1", "1.2.3"] {
            assert_eq!(parse_quantity(bad), None, "{bad}");
        }
    }

    #[test]
    fn keys_are_counted_per_provider_without_their_numbers_and_suffixes() {
        let grouped = group_keys([
            "ANTHROPIC_API_KEY_2",
            "ANTHROPIC_API_KEY",
            "ANTHROPIC_API_KEY_1",
            "OPENAI_API_KEY",
            "GITHUB_TOKEN",
            "CLAUDE_CODE_OAUTH_TOKEN",
            "TOKEN",
        ]);
        let counts: Vec<(&str, usize)> = grouped
            .iter()
            .map(|p| (p.provider.as_str(), p.keys))
            .collect();
        assert_eq!(
            counts,
            [
                ("anthropic", 3),
                ("claude-code-oauth", 1),
                ("github", 1),
                ("openai", 1),
                ("token", 1)
            ]
        );
        assert_eq!(
            grouped[0].names,
            [
                "ANTHROPIC_API_KEY",
                "ANTHROPIC_API_KEY_1",
                "ANTHROPIC_API_KEY_2"
            ]
        );
    }

    #[test]
    fn usage_is_a_share_of_what_may_be_used() {
        let memory = Amount {
            capacity: Some(16),
            allocatable: Some(8),
            used: Some(2),
        };
        assert_eq!(memory.used_percent(), Some(25));
        let unknown = Amount {
            used: None,
            ..memory
        };
        assert_eq!(unknown.used_percent(), None);
        let over = Amount {
            capacity: Some(4),
            allocatable: None,
            used: Some(9),
        };
        assert_eq!(over.used_percent(), Some(100));
    }
}
