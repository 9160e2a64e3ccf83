//! What keeps a run's agent away from the server: a cleared environment, an
//! unprivileged user when the server is root, and (where the kernel has Landlock)
//! writes confined to the run's own directories.
use crate::backend::artifacts::FileOwner;
use landlock::{
    path_beneath_rules, AccessFs, Ruleset, RulesetAttr, RulesetCreated, RulesetCreatedAttr,
    RulesetStatus, ABI,
};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Server variables a run may see; everything else is cleared.
const PASSED_THROUGH: [&str; 6] = ["PATH", "LANG", "LC_ALL", "LC_CTYPE", "TERM", "TZ"];
const ABI_WANTED: ABI = ABI::V5;
/// Device files a confined run may still write to.
const WRITABLE_DEVICES: [&str; 5] = [
    "/dev/null",
    "/dev/zero",
    "/dev/full",
    "/dev/tty",
    "/dev/pts",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunUser {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
}

#[derive(Debug, Clone)]
pub struct Confinement {
    /// Set when the server is root: runs switch to this user.
    pub run_user: Option<RunUser>,
    /// Why runs keep the server's user although it is root.
    pub run_user_problem: Option<String>,
    /// Landlock works on this kernel.
    pub landlock: bool,
    pub landlock_problem: Option<String>,
}

impl Confinement {
    /// Works out what this machine allows. `wanted` is `--run-user`; as root without it,
    /// runs use `nobody` when that user can read the install root.
    pub fn detect(root: &Path, wanted: Option<&str>) -> Confinement {
        let (run_user, run_user_problem) = pick_run_user(root, wanted);
        let (landlock, landlock_problem) = match probe_landlock() {
            Ok(()) => (true, None),
            Err(why) => (false, Some(why)),
        };
        let c = Confinement {
            run_user,
            run_user_problem,
            landlock,
            landlock_problem,
        };
        tracing::info!(protection = %c.describe(), "run confinement");
        if let Some(p) = &c.run_user_problem {
            tracing::warn!("{p}");
        }
        if let Some(p) = &c.landlock_problem {
            tracing::warn!("runs are not confined by Landlock: {p}");
        }
        c
    }

    /// No user switch and no Landlock: for tests of the other parts.
    #[cfg(test)]
    pub fn none() -> Confinement {
        Confinement {
            run_user: None,
            run_user_problem: None,
            landlock: false,
            landlock_problem: Some("off in this test".into()),
        }
    }

    pub fn describe(&self) -> String {
        let mut parts = vec!["environment cleared to an allowlist".to_string()];
        match (&self.run_user, &self.run_user_problem) {
            (Some(u), _) => parts.push(format!("runs as the unprivileged user {}", u.name)),
            (None, Some(p)) => parts.push(format!("runs as root ({p})")),
            (None, None) => parts.push("runs as the server's (unprivileged) user".into()),
        }
        if self.landlock {
            parts.push("writes confined to its workspace and temp dir (Landlock)".into());
        } else {
            parts.push(format!(
                "writes not confined ({})",
                self.landlock_problem
                    .as_deref()
                    .unwrap_or("Landlock unavailable")
            ));
        }
        parts.join("; ")
    }

    /// The complete environment of a run: the allowlist from the server, the run's own
    /// home and temp dir, then what the launch asks for.
    pub fn environment(
        &self,
        home: &Path,
        tmp: &Path,
        wanted: &BTreeMap<String, String>,
    ) -> BTreeMap<String, String> {
        let mut env: BTreeMap<String, String> = PASSED_THROUGH
            .iter()
            .filter_map(|k| std::env::var(k).ok().map(|v| (k.to_string(), v)))
            .collect();
        env.entry("PATH".into())
            .or_insert_with(|| "/usr/local/bin:/usr/bin:/bin".into());
        env.insert("HOME".into(), home.display().to_string());
        env.insert("TMPDIR".into(), tmp.display().to_string());
        if let Some(u) = &self.run_user {
            env.insert("USER".into(), u.name.clone());
        }
        env.extend(wanted.iter().map(|(k, v)| (k.clone(), v.clone())));
        env
    }

    /// Whom the server acts as on a run's files: the run user, where there is one.
    pub fn file_owner(&self) -> FileOwner {
        match &self.run_user {
            Some(u) => FileOwner::user(u.uid, u.gid),
            None => FileOwner::SERVER,
        }
    }

    /// Gives the run user the run's writable dirs (a no-op without a user switch).
    pub fn hand_over(&self, dirs: &[&Path]) -> std::io::Result<()> {
        let Some(u) = &self.run_user else {
            return Ok(());
        };
        for dir in dirs {
            chown_tree(dir, u.uid, u.gid)?;
        }
        Ok(())
    }

    /// A Landlock ruleset allowing writes beneath `writable` only; applied in the child
    /// just before exec. `None` where Landlock is unavailable.
    pub fn ruleset(&self, writable: &[&Path]) -> std::io::Result<Option<PendingRuleset>> {
        if !self.landlock {
            return Ok(None);
        }
        let mut paths: Vec<PathBuf> = writable.iter().map(|p| p.to_path_buf()).collect();
        paths.extend(
            WRITABLE_DEVICES
                .iter()
                .map(PathBuf::from)
                .filter(|p| p.exists()),
        );
        let created = writable_only(&paths).map_err(std::io::Error::other)?;
        Ok(Some(PendingRuleset(Mutex::new(Some(created)))))
    }
}

/// A ruleset built in the server, applied by the child between fork and exec (where
/// only async-signal-safe work may happen: the syscalls, no allocation).
pub struct PendingRuleset(Mutex<Option<RulesetCreated>>);

impl PendingRuleset {
    pub fn apply_in_child(&self) -> std::io::Result<()> {
        let taken = match self.0.try_lock() {
            Ok(mut guard) => guard.take(),
            Err(_) => None,
        };
        let Some(ruleset) = taken else {
            return Err(std::io::Error::other("landlock ruleset already used"));
        };
        match ruleset.restrict_self() {
            Ok(status) if status.ruleset != RulesetStatus::NotEnforced => Ok(()),
            Ok(_) => Err(std::io::Error::other("landlock not enforced")),
            Err(e) => Err(std::io::Error::other(e)),
        }
    }
}

fn writable_only(paths: &[PathBuf]) -> Result<RulesetCreated, landlock::RulesetError> {
    let write = AccessFs::from_write(ABI_WANTED);
    Ruleset::default()
        .handle_access(write)?
        .create()?
        .add_rules(path_beneath_rules(paths, write))
}

/// Applies a throwaway ruleset on a thread of its own (Landlock binds only the calling
/// thread) to learn whether the kernel enforces it.
fn probe_landlock() -> Result<(), String> {
    std::thread::spawn(|| {
        let created = writable_only(&[std::env::temp_dir()]).map_err(|e| e.to_string())?;
        match created.restrict_self() {
            Ok(s) if s.ruleset == RulesetStatus::NotEnforced => {
                Err("the kernel does not enforce Landlock".to_string())
            }
            Ok(_) => Ok(()),
            Err(e) => Err(e.to_string()),
        }
    })
    .join()
    .unwrap_or_else(|_| Err("the Landlock probe crashed".into()))
}

fn pick_run_user(root: &Path, wanted: Option<&str>) -> (Option<RunUser>, Option<String>) {
    if !nix::unistd::geteuid().is_root() {
        return (None, None);
    }
    let name = wanted.unwrap_or("nobody");
    if name == "root" {
        return (None, Some("--run-user root was given".into()));
    }
    let user = match nix::unistd::User::from_name(name) {
        Ok(Some(u)) => RunUser {
            name: u.name,
            uid: u.uid.as_raw(),
            gid: u.gid.as_raw(),
        },
        _ => {
            return (
                None,
                Some(format!(
                    "the run user '{name}' does not exist; create it or pass --run-user"
                )),
            )
        }
    };
    if wanted.is_none() {
        if let Some(dir) = first_closed_ancestor(root) {
            return (
                None,
                Some(format!(
                    "{} is not readable by '{name}', who could not load the workflows; \
                     make it readable (chmod o+rx) or pass --run-user",
                    dir.display()
                )),
            );
        }
    }
    (Some(user), None)
}

/// The first directory on the way to `path` that other users can't enter.
fn first_closed_ancestor(path: &Path) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = path.canonicalize().ok()?;
    path.ancestors()
        .find(|dir| {
            std::fs::metadata(dir)
                .map(|m| m.permissions().mode() & 0o005 != 0o005)
                .unwrap_or(true)
        })
        .map(Path::to_path_buf)
}

fn chown_tree(path: &Path, uid: u32, gid: u32) -> std::io::Result<()> {
    std::os::unix::fs::lchown(path, Some(uid), Some(gid))?;
    let meta = std::fs::symlink_metadata(path)?;
    if meta.is_dir() {
        for entry in std::fs::read_dir(path)? {
            chown_tree(&entry?.path(), uid, gid)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_environment_is_the_allowlist_plus_what_the_run_asks_for() {
        std::env::set_var("FABRIK_TEST_SECRET_VAR", "s3cret");
        let c = Confinement::none();
        let wanted = BTreeMap::from([("DEMO_TASK_MS".to_string(), "5".to_string())]);
        let env = c.environment(Path::new("/h"), Path::new("/t"), &wanted);
        assert!(!env.contains_key("FABRIK_TEST_SECRET_VAR"));
        assert_eq!(env["HOME"], "/h");
        assert_eq!(env["TMPDIR"], "/t");
        assert_eq!(env["DEMO_TASK_MS"], "5");
        assert!(env.contains_key("PATH"));
        assert!(env.keys().all(|k| PASSED_THROUGH.contains(&k.as_str())
            || ["HOME", "TMPDIR", "DEMO_TASK_MS"].contains(&k.as_str())));
    }

    #[test]
    fn a_closed_directory_on_the_way_is_found() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let inner = dir.path().join("a/b");
        std::fs::create_dir_all(&inner).unwrap();
        for p in [dir.path(), &dir.path().join("a"), &inner] {
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let closed = first_closed_ancestor(&inner);
        assert!(
            closed.is_none() || !closed.as_ref().unwrap().starts_with(dir.path()),
            "{closed:?}"
        );
        std::fs::set_permissions(dir.path().join("a"), std::fs::Permissions::from_mode(0o700))
            .unwrap();
        assert_eq!(
            first_closed_ancestor(&inner).unwrap(),
            dir.path().join("a").canonicalize().unwrap()
        );
    }
}
