//! Templates come from `<root>/templates/*.toml` (bundled) and `<data-dir>/templates/*.toml`
//! (the operator's own, which win on a name clash). Read on each use so edits apply
//! without a restart.
use crate::error::Result;
use domain::template::Template;
use domain::Error as DomainError;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct Templates {
    dirs: Vec<PathBuf>,
}

impl Templates {
    /// `dirs` in increasing precedence.
    pub fn new(dirs: Vec<PathBuf>) -> Templates {
        Templates { dirs }
    }

    pub fn list(&self) -> Result<Vec<Template>> {
        let mut by_name = std::collections::BTreeMap::new();
        for dir in &self.dirs {
            for path in toml_files(dir)? {
                match load(&path) {
                    Ok(t) => {
                        by_name.insert(t.name.clone(), t);
                    }
                    Err(e) => {
                        tracing::warn!(path = %path.display(), error = %e.public().message, "skipping template")
                    }
                }
            }
        }
        Ok(by_name.into_values().collect())
    }

    pub fn get(&self, name: &str) -> Result<Template> {
        let all = self.list()?;
        let names: Vec<_> = all.iter().map(|t| t.name.clone()).collect();
        all.into_iter().find(|t| t.name == name).ok_or_else(|| {
            DomainError::bad_request(format!(
                "Unknown template '{name}'. Available: {}.",
                if names.is_empty() {
                    "none — add a .toml file to the templates directory".into()
                } else {
                    names.join(", ")
                }
            ))
            .into()
        })
    }
}

fn toml_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    Ok(files)
}

fn load(path: &Path) -> Result<Template> {
    let text = std::fs::read_to_string(path)?;
    Ok(Template::parse(&text, &path.display().to_string())?)
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: &str = r#"name = "demo"
description = "DESC"
command = ["sh"]
resume_command = ["sh", "{run_id}"]
"#;

    #[test]
    fn later_dirs_override_and_broken_files_are_skipped() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        std::fs::write(a.path().join("demo.toml"), T.replace("DESC", "bundled")).unwrap();
        std::fs::write(a.path().join("broken.toml"), "name = 1").unwrap();
        std::fs::write(b.path().join("mine.toml"), T.replace("DESC", "override")).unwrap();
        let t = Templates::new(vec![
            a.path().into(),
            b.path().into(),
            "/nonexistent".into(),
        ]);
        let all = t.list().unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(t.get("demo").unwrap().description, "override");
        let e = t.get("nope").unwrap_err().public();
        assert!(
            e.message
                .contains("Unknown template 'nope'. Available: demo."),
            "{}",
            e.message
        );
    }

    #[test]
    fn the_example_templates_parse() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../templates/examples");
        let all = Templates::new(vec![dir]).list().unwrap();
        let names: Vec<&str> = all.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["coding", "marketing", "report"]);
    }
}
