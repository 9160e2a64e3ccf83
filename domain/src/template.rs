//! Templates: a named workflow command with defaults, written in TOML.
//!
//! ```toml
//! name = "demo"
//! description = "Eight mock tasks, four reviewers and a human gate."
//! workflow = "workflows/demo/workflow.tsx"
//! command = ["{root}/node_modules/.bin/bun", "{root}/node_modules/.bin/smithers", "run", "{workflow}", "--run-id", "{run_id}"]
//! resume_command = ["{root}/node_modules/.bin/bun", "{root}/node_modules/.bin/smithers", "resume", "{workflow}", "--run-id", "{run_id}"]
//! [env]
//! DEMO_TASK_MS = "2500"
//! ```
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Template {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Default workflow file; relative paths are resolved against the install root.
    #[serde(default)]
    pub workflow: Option<String>,
    pub command: Vec<String>,
    pub resume_command: Vec<String>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Lets dispatch values (spec, workflow) start with `-`. Off by default, so a value
    /// can never turn into a command-line option of the workflow command.
    #[serde(default)]
    pub allow_option_values: bool,
}

/// What the dispatch form lists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemplateSummary {
    pub name: String,
    pub description: String,
    pub workflow: Option<String>,
}

/// Values substituted for `{placeholder}`s in a command.
#[derive(Debug, Clone, Default)]
pub struct Placeholders<'a> {
    pub root: &'a str,
    pub workflow: &'a str,
    pub run_id: &'a str,
    pub workspace: &'a str,
    pub db_path: &'a str,
    pub spec: &'a str,
}

const KNOWN: [&str; 6] = ["root", "workflow", "run_id", "workspace", "db_path", "spec"];

impl Template {
    pub fn parse(toml_text: &str, origin: &str) -> Result<Template> {
        let t: Template = toml::from_str(toml_text).map_err(|e| {
            Error::bad_request(format!("Template {origin} is not valid: {}", e.message()))
        })?;
        t.validate(origin)?;
        Ok(t)
    }

    pub fn validate(&self, origin: &str) -> Result<()> {
        let problem = |what: String| Err(Error::bad_request(format!("Template {origin}: {what}")));
        if !is_slug(&self.name) {
            return problem(format!(
                "name '{}' must be lowercase letters, digits and dashes",
                self.name
            ));
        }
        for (field, cmd) in [
            ("command", &self.command),
            ("resume_command", &self.resume_command),
        ] {
            if cmd.is_empty() || cmd[0].trim().is_empty() {
                return problem(format!("{field} must name a program to run"));
            }
            for arg in cmd {
                if let Some(unknown) = unknown_placeholder(arg) {
                    return problem(format!(
                        "{field} uses {{{unknown}}}; known placeholders are {}",
                        KNOWN.map(|k| format!("{{{k}}}")).join(", ")
                    ));
                }
            }
        }
        if !self.resume_command.iter().any(|a| a.contains("{run_id}")) {
            return problem("resume_command must pass {run_id} so the same run resumes".into());
        }
        Ok(())
    }

    pub fn summary(&self) -> TemplateSummary {
        TemplateSummary {
            name: self.name.clone(),
            description: self.description.clone(),
            workflow: self.workflow.clone(),
        }
    }
}

/// Replaces every known placeholder in each argument, in one pass: a value that itself
/// contains `{run_id}` stays as written. Values given at dispatch (spec, workflow) may
/// not start with `-` unless the template allows it, so they can't become options.
pub fn expand(args: &[String], p: &Placeholders, allow_option_values: bool) -> Result<Vec<String>> {
    if !allow_option_values {
        for (name, value) in [("spec", p.spec), ("workflow", p.workflow)] {
            if value.starts_with('-') {
                return Err(Error::bad_request(format!(
                    "The {name} '{value}' starts with '-', which the workflow command would read as an option. \
                     Give a path (e.g. ./{value}) or ask an operator to set allow_option_values in the template."
                )));
            }
        }
    }
    Ok(args.iter().map(|a| expand_one(a, p)).collect())
}

fn expand_one(arg: &str, p: &Placeholders) -> String {
    let mut out = String::with_capacity(arg.len());
    let mut rest = arg;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let value = after.find('}').and_then(|end| {
            let v = match &after[..end] {
                "root" => p.root,
                "workflow" => p.workflow,
                "run_id" => p.run_id,
                "workspace" => p.workspace,
                "db_path" => p.db_path,
                "spec" => p.spec,
                _ => return None,
            };
            Some((v, end))
        });
        match value {
            Some((v, end)) => {
                out.push_str(v);
                rest = &after[end + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn unknown_placeholder(arg: &str) -> Option<String> {
    let mut rest = arg;
    while let Some(start) = rest.find('{') {
        let after = &rest[start + 1..];
        let end = after.find('}')?;
        let name = &after[..end];
        if !KNOWN.contains(&name) {
            return Some(name.to_string());
        }
        rest = &after[end + 1..];
    }
    None
}

pub fn is_slug(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !s.starts_with('-')
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEMO: &str = r#"
name = "demo"
description = "d"
workflow = "workflows/demo/workflow.tsx"
command = ["{root}/bin/smithers", "run", "{workflow}", "--run-id", "{run_id}"]
resume_command = ["{root}/bin/smithers", "resume", "{workflow}", "--run-id", "{run_id}"]
[env]
DEMO_TASK_MS = "100"
"#;

    #[test]
    fn parses_and_expands() {
        let t = Template::parse(DEMO, "demo.toml").unwrap();
        assert_eq!(t.env["DEMO_TASK_MS"], "100");
        let args = expand(
            &t.command,
            &Placeholders {
                root: "/r",
                workflow: "/r/w.tsx",
                run_id: "01X",
                ..Default::default()
            },
            false,
        )
        .unwrap();
        assert_eq!(
            args,
            ["/r/bin/smithers", "run", "/r/w.tsx", "--run-id", "01X"]
        );
    }

    #[test]
    fn rejects_unknown_placeholders_and_fields() {
        let bad = DEMO.replace("{run_id}\"]\nresume", "{runid}\"]\nresume");
        let e = Template::parse(&bad, "x.toml").unwrap_err();
        assert!(e.message.contains("{runid}"), "{}", e.message);
        let e = Template::parse(&format!("{DEMO}\nextra = 1"), "x.toml").unwrap_err();
        assert!(e.message.contains("x.toml"));
    }

    #[test]
    fn resume_must_name_the_run() {
        let bad = DEMO.replace(
            r#"resume_command = ["{root}/bin/smithers", "resume", "{workflow}", "--run-id", "{run_id}"]"#,
            r#"resume_command = ["smithers", "resume"]"#,
        );
        assert!(Template::parse(&bad, "x.toml").is_err());
    }

    #[test]
    fn slugs() {
        assert!(is_slug("demo-2"));
        assert!(!is_slug("Demo"));
        assert!(!is_slug("-x"));
        assert!(!is_slug(""));
    }

    #[test]
    fn expansion_is_one_pass_and_values_cannot_become_options() {
        let args = vec![
            "--spec={spec}".to_string(),
            "{spec}".into(),
            "{x}{run_id}".into(),
        ];
        let p = Placeholders {
            run_id: "01X",
            spec: "{run_id}",
            ..Default::default()
        };
        assert_eq!(
            expand(&args, &p, false).unwrap(),
            ["--spec={run_id}", "{run_id}", "{x}01X"]
        );
        let p = Placeholders {
            spec: "--inspect=0.0.0.0",
            ..Default::default()
        };
        let e = expand(&args, &p, false).unwrap_err();
        assert!(e.message.contains("starts with '-'"), "{}", e.message);
        assert!(expand(&args, &p, true).is_ok());
    }
}
