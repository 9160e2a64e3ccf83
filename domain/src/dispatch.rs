use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// `POST /api/v1/runs` and the dispatch form.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DispatchRequest {
    pub template: String,
    /// Overrides the template's workflow file.
    #[serde(default)]
    pub workflow: Option<String>,
    /// Path of the spec JSON the run implements.
    #[serde(default)]
    pub spec: Option<String>,
    #[serde(default)]
    pub project: Option<String>,
    /// The project's env set whose variables the run gets.
    #[serde(default)]
    pub env: Option<String>,
    /// A spec given as fabrik JSON instead of a stored spec or a path.
    #[serde(default)]
    pub spec_json: Option<serde_json::Value>,
    /// The repository the agents work on (https://, ssh:// or git@host:path).
    #[serde(default)]
    pub repo: Option<String>,
    /// CPU for the run, as Kubernetes writes it: `500m`, `2`.
    #[serde(default)]
    pub cpu: Option<String>,
    /// Memory for the run, as Kubernetes writes it: `512Mi`, `4Gi`.
    #[serde(default)]
    pub memory: Option<String>,
    #[serde(default)]
    pub model: Option<String>,
    /// Most implement → review rounds before the run stops (1–100).
    #[serde(default)]
    pub iterations: Option<u32>,
}

/// The run settings a dispatch records beside template and spec; shown on the run's
/// page and handed to the workflow (as `FABRIK_*` variables, and as resources on a
/// cluster).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunOptions {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repo: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iterations: Option<u32>,
    /// Files the server wrote into the run's workspace (`spec.json`, `todo.json`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inputs: Vec<String>,
}

impl RunOptions {
    /// "repo … · cpu 500m · memory 1Gi · model … · 3 iterations"; `None` when unset.
    pub fn describe(&self) -> Option<String> {
        let parts: Vec<String> = [
            self.repo.as_ref().map(|r| format!("repo {r}")),
            self.cpu.as_ref().map(|c| format!("cpu {c}")),
            self.memory.as_ref().map(|m| format!("memory {m}")),
            self.model.as_ref().map(|m| format!("model {m}")),
            self.iterations.map(|n| format!("{n} iterations")),
        ]
        .into_iter()
        .flatten()
        .collect();
        (!parts.is_empty()).then(|| parts.join(" · "))
    }

    /// The variables the run's process gets for these settings.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        [
            ("FABRIK_REPO_URL", self.repo.clone()),
            ("FABRIK_CPU", self.cpu.clone()),
            ("FABRIK_MEMORY", self.memory.clone()),
            ("FABRIK_MODEL", self.model.clone()),
            (
                "FABRIK_MAX_ITERATIONS",
                self.iterations.map(|n| n.to_string()),
            ),
        ]
        .into_iter()
        .filter_map(|(k, v)| Some((k, v?)))
        .collect()
    }
}

/// `https://…`, `http://…`, `ssh://…` or `git@host:path`, without spaces.
pub fn check_repo(url: &str) -> Result<()> {
    let ok = (url.starts_with("https://")
        || url.starts_with("http://")
        || url.starts_with("ssh://")
        || (url.starts_with("git@") && url.contains(':')))
        && !url.chars().any(|c| c.is_whitespace() || c.is_control())
        && url.len() <= 2048;
    ok.then_some(()).ok_or_else(|| {
        Error::bad_request(format!(
            "repo: '{url}' is not a repository URL; use https://host/org/repo.git or git@host:org/repo.git."
        ))
    })
}

/// A Kubernetes CPU quantity: `2`, `0.5`, `500m`.
pub fn check_cpu(cpu: &str) -> Result<()> {
    let digits = cpu.strip_suffix('m').unwrap_or(cpu);
    let mut parts = digits.splitn(2, '.');
    let whole = parts.next().unwrap_or("");
    let fraction = parts.next();
    let number = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let ok =
        number(whole) && fraction.is_none_or(number) && !(cpu.ends_with('m') && fraction.is_some());
    ok.then_some(()).ok_or_else(|| {
        Error::bad_request(format!(
            "cpu: '{cpu}' is not a CPU amount; write e.g. 2, 0.5 or 500m."
        ))
    })
}

/// A Kubernetes memory quantity: `512Mi`, `4Gi`, `1G`.
pub fn check_memory(memory: &str) -> Result<()> {
    const UNITS: [&str; 9] = ["Ki", "Mi", "Gi", "Ti", "K", "M", "G", "T", ""];
    let ok = UNITS.iter().any(|unit| {
        memory
            .strip_suffix(unit)
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    });
    ok.then_some(()).ok_or_else(|| {
        Error::bad_request(format!(
            "memory: '{memory}' is not a memory amount; write e.g. 512Mi or 4Gi."
        ))
    })
}

/// Letters, digits and `. _ : / -`, as model names are written.
pub fn check_model(model: &str) -> Result<()> {
    let ok = model.len() <= 128
        && model
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._:/-".contains(&b));
    ok.then_some(()).ok_or_else(|| {
        Error::bad_request(format!(
            "model: '{model}' is not a model name, e.g. claude-sonnet-4-5."
        ))
    })
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dispatched {
    pub run_id: String,
}

impl DispatchRequest {
    /// Trims fields, drops empty optionals, and refuses values that can't be a path/name.
    pub fn normalized(mut self) -> Result<Self> {
        self.template = self.template.trim().to_string();
        if self.template.is_empty() {
            return Err(Error::bad_request(
                "Choose a template (for example 'demo').",
            ));
        }
        for (name, field) in [
            ("workflow", &mut self.workflow),
            ("spec", &mut self.spec),
            ("project", &mut self.project),
            ("env", &mut self.env),
            ("repo", &mut self.repo),
            ("cpu", &mut self.cpu),
            ("memory", &mut self.memory),
            ("model", &mut self.model),
        ] {
            *field = field
                .take()
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty());
            if let Some(v) = field {
                if v.contains('\0') || v.len() > 4096 {
                    return Err(Error::bad_request(format!("{name} is not a usable value.")));
                }
            }
        }
        self.repo.as_deref().map(check_repo).transpose()?;
        self.cpu.as_deref().map(check_cpu).transpose()?;
        self.memory.as_deref().map(check_memory).transpose()?;
        self.model.as_deref().map(check_model).transpose()?;
        if let Some(n) = self.iterations.filter(|n| !(1..=100).contains(n)) {
            return Err(Error::bad_request(format!(
                "iterations: {n} is out of range; allow 1 to 100 rounds."
            )));
        }
        if self.spec.is_some() && self.spec_json.is_some() {
            return Err(Error::bad_request(
                "Give the spec once: a stored spec (or path), or its JSON, not both.",
            ));
        }
        Ok(self)
    }

    pub fn options(&self) -> RunOptions {
        RunOptions {
            repo: self.repo.clone(),
            cpu: self.cpu.clone(),
            memory: self.memory.clone(),
            model: self.model.clone(),
            iterations: self.iterations,
            inputs: Vec::new(),
        }
    }
}

/// A workflow named at dispatch must be a plain relative path (resolved inside the
/// template's workflow directories): no absolute paths, no `..`, no option-like names.
/// The message never depends on what exists on disk.
pub fn check_workflow_path(path: &str) -> Result<()> {
    let refuse = |why: &str| {
        Err(Error::bad_request(format!(
            "Workflow '{path}' is not allowed: {why}. Name a file under the template's workflows/ directory, e.g. workflows/demo/workflow.tsx."
        )))
    };
    if path.starts_with('/') || path.starts_with('\\') || path.contains(':') {
        return refuse("it must be a relative path");
    }
    if path.starts_with('-') {
        return refuse("it must not start with '-'");
    }
    if path.split(['/', '\\']).any(|part| part == "..") {
        return refuse("it must not contain '..'");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workflow_paths_stay_relative() {
        assert!(check_workflow_path("workflows/demo/workflow.tsx").is_ok());
        for bad in [
            "/etc/passwd",
            "../x.tsx",
            "workflows/../../etc",
            "-e",
            "C:\\x",
            "a\\..\\b",
        ] {
            assert!(check_workflow_path(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn normalizes_blank_fields() {
        let r = DispatchRequest {
            template: " demo ".into(),
            spec: Some("  ".into()),
            ..Default::default()
        }
        .normalized()
        .unwrap();
        assert_eq!(r.template, "demo");
        assert_eq!(r.spec, None);
        assert!(DispatchRequest::default().normalized().is_err());
    }

    #[test]
    fn run_settings_are_checked_field_by_field() {
        let with = |f: &dyn Fn(&mut DispatchRequest)| {
            let mut r = DispatchRequest {
                template: "demo".into(),
                ..Default::default()
            };
            f(&mut r);
            r.normalized().map(|r| r.options())
        };
        let ok = with(&|r| {
            r.repo = Some("git@github.com:acme/app.git".into());
            r.cpu = Some("500m".into());
            r.memory = Some("4Gi".into());
            r.model = Some("claude-sonnet-4-5".into());
            r.iterations = Some(3);
        })
        .unwrap();
        assert_eq!(ok.env().len(), 5);
        for (bad, field) in [
            (
                &(|r: &mut DispatchRequest| r.repo = Some("not a url".into()))
                    as &dyn Fn(&mut DispatchRequest),
                "repo:",
            ),
            (
                &|r: &mut DispatchRequest| r.cpu = Some("1.5m".into()),
                "cpu:",
            ),
            (
                &|r: &mut DispatchRequest| r.cpu = Some("two".into()),
                "cpu:",
            ),
            (
                &|r: &mut DispatchRequest| r.memory = Some("4GB".into()),
                "memory:",
            ),
            (
                &|r: &mut DispatchRequest| r.model = Some("rm -rf".into()),
                "model:",
            ),
            (
                &|r: &mut DispatchRequest| r.iterations = Some(0),
                "iterations:",
            ),
        ] {
            let e = with(bad).unwrap_err();
            assert!(e.message.starts_with(field), "{}", e.message);
        }
        assert!(with(&|r| r.cpu = Some("0.25".into())).is_ok());
    }

    #[test]
    fn unknown_fields_are_refused() {
        assert!(
            serde_json::from_str::<DispatchRequest>(r#"{"template":"demo","tempalte":1}"#).is_err()
        );
    }
}
