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
        Ok(self)
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
    fn unknown_fields_are_refused() {
        assert!(
            serde_json::from_str::<DispatchRequest>(r#"{"template":"demo","tempalte":1}"#).is_err()
        );
    }
}
