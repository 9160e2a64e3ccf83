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

    /// The Grafana link for one run: the dashboard with `var-run_id` set, the variable
    /// name the fabrik dashboards (and Loki's `fabrik_run_id` label) filter by.
    pub fn grafana_for_run(&self, run_id: &str) -> Option<String> {
        let base = self.grafana.as_deref()?;
        Some(with_query(
            base,
            &format!("var-run_id={}", query_value(run_id)),
        ))
    }

    /// The Grafana link over the last `hours` (Grafana reads `from=now-7d&to=now`).
    pub fn grafana_for_range(&self, hours: i64) -> Option<String> {
        let base = self.grafana.as_deref()?;
        let from = if hours % 24 == 0 {
            format!("now-{}d", hours / 24)
        } else {
            format!("now-{hours}h")
        };
        Some(with_query(base, &format!("from={from}&to=now")))
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

fn with_query(base: &str, pair: &str) -> String {
    let (base, fragment) = base
        .split_once('#')
        .map_or((base, None), |(b, f)| (b, Some(f)));
    let sep = if base.contains('?') { '&' } else { '?' };
    let joined = format!("{base}{sep}{pair}");
    match fragment {
        Some(f) => format!("{joined}#{f}"),
        None => joined,
    }
}

/// Percent-encodes what a query value may not hold as it is.
fn query_value(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
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
    fn grafana_links_carry_the_run_or_the_range() {
        let none = ObservabilityLinks::default();
        assert_eq!(none.grafana_for_run("r1"), None);
        let plain = ObservabilityLinks {
            grafana: Some("https://g.example.com/d/abc/fabrik".into()),
            ..Default::default()
        };
        assert_eq!(
            plain.grafana_for_run("hoth loop/1").as_deref(),
            Some("https://g.example.com/d/abc/fabrik?var-run_id=hoth%20loop%2F1")
        );
        assert_eq!(
            plain.grafana_for_range(168).as_deref(),
            Some("https://g.example.com/d/abc/fabrik?from=now-7d&to=now")
        );
        let with_query = ObservabilityLinks {
            grafana: Some("https://g.example.com/d/abc?orgId=1#panel".into()),
            ..Default::default()
        };
        assert_eq!(
            with_query.grafana_for_range(24).as_deref(),
            Some("https://g.example.com/d/abc?orgId=1&from=now-1d&to=now#panel")
        );
        assert_eq!(
            with_query.grafana_for_range(6).as_deref(),
            Some("https://g.example.com/d/abc?orgId=1&from=now-6h&to=now#panel")
        );
    }

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
