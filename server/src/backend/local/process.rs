//! Starting, finding and waiting for a run's process group.
use super::confine::Confinement;
use crate::backend::Launch;
use crate::clock::now_ms;
use crate::error::Result;
use domain::Error as DomainError;
use nix::sys::signal::kill;
use nix::unistd::{getpgid, Pid};
use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;

/// Starts the launch in `run_dir`: its own process group, a cleared environment, the
/// run user and the Landlock ruleset where they apply.
pub fn spawn(
    launch: &Launch,
    run_dir: &Path,
    confinement: &Confinement,
) -> Result<tokio::process::Child> {
    let (home, tmp) = (run_dir.join("home"), run_dir.join("tmp"));
    for dir in [&launch.workspace, &home, &tmp] {
        std::fs::create_dir_all(dir)?;
    }
    for input in &launch.inputs {
        std::fs::write(launch.workspace.join(input.name), &input.text)?;
    }
    confinement.hand_over(&[&launch.workspace, &home, &tmp])?;
    let mut log = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&launch.log_path)?;
    writeln!(
        log,
        "[fabrik] {} {}: {}",
        domain::time::rfc3339(now_ms()),
        launch.purpose,
        launch.command.join(" ")
    )?;
    let mut cmd = tokio::process::Command::new(&launch.command[0]);
    cmd.args(&launch.command[1..])
        .current_dir(&launch.workspace)
        .env_clear()
        .envs(confinement.environment(&home, &tmp, &launch.env))
        .env("FABRIK_RUN_ID", &launch.run_id)
        .stdin(Stdio::null())
        .stdout(Stdio::from(log.try_clone()?))
        .stderr(Stdio::from(log))
        .process_group(0)
        .kill_on_drop(false);
    if let Some(user) = &confinement.run_user {
        cmd.uid(user.uid).gid(user.gid);
    }
    if let Some(ruleset) = confinement.ruleset(&[&launch.workspace, &home, &tmp])? {
        let ruleset = Arc::new(ruleset);
        // SAFETY: the closure only applies a ruleset built beforehand (prctl and the
        // landlock syscall), which is async-signal-safe.
        unsafe {
            cmd.pre_exec(move || ruleset.apply_in_child());
        }
    }
    cmd.spawn().map_err(|e| {
        DomainError::bad_request(format!(
            "Could not start '{}': {e}. Check the template's command.",
            launch.command[0]
        ))
        .into()
    })
}

pub async fn wait(mut child: tokio::process::Child) -> i32 {
    match child.wait().await {
        Ok(status) => exit_code(status),
        Err(_) => -1,
    }
}

/// True when `pid` is alive, leads its own group, and was started for this run (guards
/// against the pid having been reused by an unrelated process).
pub fn is_our_process(pid: u32, run_id: &str) -> bool {
    let p = Pid::from_raw(pid as i32);
    kill(p, None).is_ok() && getpgid(Some(p)).ok() == Some(p) && started_for(pid, run_id)
}

/// The group leader started for `run_id`, found by the `FABRIK_RUN_ID` in its
/// environment (for a run whose pid was never stored).
pub fn find_run_process(run_id: &str) -> Option<u32> {
    std::fs::read_dir("/proc")
        .ok()?
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .find(|pid| is_our_process(*pid, run_id))
}

fn started_for(pid: u32, run_id: &str) -> bool {
    let needle = format!("FABRIK_RUN_ID={run_id}");
    std::fs::read(format!("/proc/{pid}/environ"))
        .map(|env| env.split(|b| *b == 0).any(|var| var == needle.as_bytes()))
        .unwrap_or(false)
}

fn exit_code(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status
        .code()
        .unwrap_or_else(|| 128 + status.signal().unwrap_or(0))
}

pub fn explain_exit(code: i32) -> &'static str {
    match code {
        0 => " (finished)",
        1 => " (failed)",
        2 => " (cancelled)",
        3 => " (waiting for approval)",
        4 => " (usage error: check the template's command)",
        c if c > 128 => " (killed by a signal)",
        _ => "",
    }
}

pub fn append_line(path: &Path, line: &str) {
    if let Ok(mut f) = OpenOptions::new().create(true).append(true).open(path) {
        let _ = writeln!(f, "[fabrik] {} {line}", domain::time::rfc3339(now_ms()));
    }
}

/// An absolute/relative path that is an executable file, or a name found on PATH.
pub fn resolve_program(program: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let executable = |p: &Path| {
        p.metadata()
            .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
            .unwrap_or(false)
    };
    if program.contains('/') {
        let p = PathBuf::from(program);
        return executable(&p).then_some(p);
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(program))
            .find(|p| executable(p))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn programs_resolve_on_path_or_by_path() {
        assert!(resolve_program("sh").is_some());
        assert!(resolve_program("/bin/sh").is_some());
        assert!(resolve_program("definitely-not-a-program-xyz").is_none());
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("plain.txt");
        std::fs::write(&plain, "x").unwrap();
        assert!(
            resolve_program(plain.to_str().unwrap()).is_none(),
            "not executable"
        );
        assert!(
            resolve_program(dir.path().to_str().unwrap()).is_none(),
            "a directory"
        );
    }
}
