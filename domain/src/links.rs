//! Where operators look deeper: Grafana dashboards, Loki logs and the LAOS stack, as
//! links the admin sets in `/settings/observability`, with a check that says exactly
//! what can't be reached and what to do.
use crate::{Error, Result};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObservabilityLinks {
    pub grafana: Option<String>,
    pub loki: Option<String>,
    pub laos: Option<String>,
}

/// One link, checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkCheck {
    pub name: String,
    pub url: String,
    pub ok: bool,
    /// "answered 200", or what failed and what to do.
    pub detail: String,
}

impl ObservabilityLinks {
    /// Blank fields become `None`; every bad URL is named at once.
    pub fn cleaned(self) -> Result<ObservabilityLinks> {
        let mut problems = Vec::new();
        let mut clean = |name: &str, value: Option<String>| -> Option<String> {
            let v = value?.trim().to_string();
            if v.is_empty() {
                return None;
            }
            if let Err(why) = check_url(&v) {
                problems.push(format!("{name}: {why}"));
            }
            Some(v.trim_end_matches('/').to_string())
        };
        let links = ObservabilityLinks {
            grafana: clean("Grafana", self.grafana),
            loki: clean("Loki", self.loki),
            laos: clean("LAOS", self.laos),
        };
        if problems.is_empty() {
            Ok(links)
        } else {
            Err(Error::bad_request(format!(
                "The links were not saved: {}.",
                problems.join("; ")
            )))
        }
    }

    /// `(name, base URL, the path that answers when it is up)` for each link set.
    pub fn probes(&self) -> Vec<(&'static str, String, &'static str)> {
        [
            ("Grafana", &self.grafana, "/api/health"),
            ("Loki", &self.loki, "/ready"),
            ("LAOS", &self.laos, ""),
        ]
        .into_iter()
        .filter_map(|(name, url, path)| Some((name, url.clone()?, path)))
        .collect()
    }
}

fn check_url(url: &str) -> std::result::Result<(), String> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| format!("'{url}' is not a URL: it must start with http:// or https://"))?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    if host.is_empty() || host.starts_with(':') {
        return Err(format!("'{url}' names no host"));
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("'{url}' contains spaces"));
    }
    if url.len() > 500 {
        return Err("the URL is longer than 500 characters".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked_blank_ones_dropped_and_every_problem_named() {
        let links = ObservabilityLinks {
            grafana: Some(" https://grafana.example.com/ ".into()),
            loki: Some("".into()),
            laos: None,
        }
        .cleaned()
        .unwrap();
        assert_eq!(
            links.grafana.as_deref(),
            Some("https://grafana.example.com")
        );
        assert_eq!(links.loki, None);
        assert_eq!(links.probes().len(), 1);

        let err = ObservabilityLinks {
            grafana: Some("grafana.local".into()),
            loki: Some("http://".into()),
            laos: Some("http://laos.local/a b".into()),
        }
        .cleaned()
        .unwrap_err();
        assert_eq!(err.code.http_status(), 400);
        assert!(
            err.message
                .contains("Grafana: 'grafana.local' is not a URL"),
            "{}",
            err.message
        );
        assert!(
            err.message.contains("Loki: 'http://' names no host"),
            "{}",
            err.message
        );
        assert!(
            err.message
                .contains("LAOS: 'http://laos.local/a b' contains spaces"),
            "{}",
            err.message
        );
    }
}
