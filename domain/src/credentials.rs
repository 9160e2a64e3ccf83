//! Credentials beyond counting keys: which key of a provider's pool runs use now (and
//! rotating to the next), and whether the provider is rate-limiting runs — read from
//! the runs' own failures, as Smithers records them.
use crate::fleet::ProviderKeys;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A provider counts as limited this long after its last rate-limit failure.
pub const LIMITED_FOR_MS: i64 = 15 * 60 * 1000;

/// The key a provider's runs get now, since when, and who chose it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rotation {
    pub active: String,
    pub at_ms: i64,
    pub by: String,
}

/// Per provider.
pub type Rotations = BTreeMap<String, Rotation>;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateLimitState {
    /// A run failed on a rate limit within [`LIMITED_FOR_MS`].
    pub limited: bool,
    pub last_at_ms: Option<i64>,
    pub last_run: Option<String>,
    pub last_message: Option<String>,
    /// Rate-limit failures in the last 24 hours.
    pub events_24h: u32,
}

/// Whether a failure's words say a provider refused for rate or quota.
pub fn looks_rate_limited(text: &str) -> bool {
    let t = text.to_ascii_lowercase();
    [
        "rate limit",
        "rate_limit",
        "ratelimit",
        "rate-limit",
        "too many requests",
        "status 429",
        "status code 429",
        "429 ",
        "(429)",
        "quota exceeded",
        "insufficient_quota",
    ]
    .iter()
    .any(|needle| t.contains(needle))
        || t.ends_with("429")
}

/// The provider a failure names (its API host or its name), if any.
pub fn provider_named(text: &str) -> Option<&'static str> {
    let t = text.to_ascii_lowercase();
    [
        ("anthropic", "anthropic"),
        ("claude", "anthropic"),
        ("openai", "openai"),
        ("googleapis", "google"),
        ("gemini", "google"),
        ("mistral", "mistral"),
        ("openrouter", "openrouter"),
        ("groq", "groq"),
        ("deepseek", "deepseek"),
    ]
    .iter()
    .find(|(needle, _)| t.contains(needle))
    .map(|(_, provider)| *provider)
}

/// Whose limit a run hit: the provider its failure names, else the one provider whose
/// models the run used, else "unknown".
pub fn rate_limit_provider(message: &str, models: &[String]) -> String {
    if let Some(p) = provider_named(message) {
        return p.into();
    }
    let mut used: Vec<&str> = models
        .iter()
        .map(|m| crate::cost::provider_of(m))
        .filter(|p| *p != "unknown" && *p != "mock")
        .collect();
    used.sort();
    used.dedup();
    match used.as_slice() {
        [one] => (*one).into(),
        _ => "unknown".into(),
    }
}

/// The variable a pooled key stands in for: `ANTHROPIC_API_KEY_2` → `ANTHROPIC_API_KEY`.
pub fn base_var(key: &str) -> &str {
    match key.rsplit_once('_') {
        Some((base, n))
            if !base.is_empty() && !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) =>
        {
            base
        }
        _ => key,
    }
}

/// The key after `active` in the provider's pool (names sorted), wrapping around; the
/// first when none is active yet or the active one is gone.
pub fn next_key(pool: &ProviderKeys, active: Option<&str>) -> Option<String> {
    let names = &pool.names;
    let next = match active.and_then(|a| names.iter().position(|n| n == a)) {
        Some(i) => (i + 1) % names.len(),
        None if names.len() > 1 => 1,
        None => 0,
    };
    names.get(next).cloned()
}

/// What runs get for the rotated providers: the base variable set from the active key
/// (`ANTHROPIC_API_KEY` ← `ANTHROPIC_API_KEY_2`).
pub fn picks(rotations: &Rotations) -> BTreeMap<String, String> {
    rotations
        .values()
        .filter(|r| base_var(&r.active) != r.active)
        .map(|r| (base_var(&r.active).to_string(), r.active.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limit_failures_are_told_from_others() {
        for yes in [
            "implement failed (attempt 1): 429 {\"type\":\"error\",\"error\":{\"type\":\"rate_limit_error\"}}",
            "AI_APICallError: Too Many Requests",
            "Request failed with status code 429",
            "You exceeded your current quota (insufficient_quota)",
        ] {
            assert!(looks_rate_limited(yes), "{yes}");
        }
        for no in [
            "implement failed (attempt 1): tests did not pass",
            "exit code 1 after 4290 ms",
            "",
        ] {
            assert!(!looks_rate_limited(no), "{no}");
        }
    }

    #[test]
    fn the_provider_comes_from_the_message_or_the_models_used() {
        let models = vec!["claude-sonnet-4".to_string(), "claude-haiku-4".to_string()];
        assert_eq!(
            rate_limit_provider("POST https://api.openai.com/v1 429", &models),
            "openai"
        );
        assert_eq!(
            rate_limit_provider("429 Too Many Requests", &models),
            "anthropic"
        );
        let mixed = vec!["claude-sonnet-4".to_string(), "gpt-5".to_string()];
        assert_eq!(rate_limit_provider("429", &mixed), "unknown");
    }

    #[test]
    fn rotation_walks_the_pool_and_picks_the_base_variable() {
        let pool = ProviderKeys {
            provider: "anthropic".into(),
            keys: 3,
            names: vec![
                "ANTHROPIC_API_KEY_1".into(),
                "ANTHROPIC_API_KEY_2".into(),
                "ANTHROPIC_API_KEY_3".into(),
            ],
            ..Default::default()
        };
        assert_eq!(
            next_key(&pool, None).as_deref(),
            Some("ANTHROPIC_API_KEY_2")
        );
        assert_eq!(
            next_key(&pool, Some("ANTHROPIC_API_KEY_3")).as_deref(),
            Some("ANTHROPIC_API_KEY_1")
        );
        assert_eq!(
            next_key(&pool, Some("GONE")).as_deref(),
            Some("ANTHROPIC_API_KEY_2")
        );
        let rotations = Rotations::from([
            (
                "anthropic".to_string(),
                Rotation {
                    active: "ANTHROPIC_API_KEY_2".into(),
                    at_ms: 1,
                    by: "admin".into(),
                },
            ),
            (
                "github".to_string(),
                Rotation {
                    active: "GITHUB_TOKEN".into(),
                    at_ms: 1,
                    by: "admin".into(),
                },
            ),
        ]);
        assert_eq!(
            picks(&rotations),
            BTreeMap::from([(
                "ANTHROPIC_API_KEY".to_string(),
                "ANTHROPIC_API_KEY_2".to_string()
            )])
        );
    }
}
