//! This host for the admin page — CPU, memory, the data dir's disk, the runs'
//! workspaces and their sizes — and the credentials file runs get
//! (`<data-dir>/credentials.env`), counted per provider, never a value shown.
use domain::env as dotenv;
use domain::fleet::{group_keys, Amount, CredentialsView, FleetView, Machine, Volume};
use std::collections::BTreeMap;
use std::path::Path;

/// Files counted across all workspaces before sizes say "at least".
const MAX_FILES: usize = 200_000;

pub fn host_view(data_dir: &Path, runs_dir: &Path) -> FleetView {
    let mut notes = Vec::new();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as u64;
    let memory = meminfo();
    if memory.is_none() {
        notes.push("Memory is unknown: /proc/meminfo can't be read on this system.".into());
    }
    let (volumes, complete) = workspaces(runs_dir);
    if !complete {
        notes.push(format!(
            "Workspace sizes stop counting after {MAX_FILES} files: they are at least what is shown."
        ));
    }
    FleetView {
        backend: "local".into(),
        source: format!("this host (data dir {})", data_dir.display()),
        machines: vec![Machine {
            name: hostname(),
            ready: true,
            status: "Ready".into(),
            cpu: Amount {
                capacity: Some(cores * 1000),
                allocatable: Some(cores * 1000),
                used: load_average().map(|l| (l * 1000.0).round() as u64),
            },
            memory: memory.unwrap_or_default(),
            disk: disk(data_dir),
        }],
        volumes,
        storage_classes: Vec::new(),
        notes,
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "this host".into())
}

/// The 1-minute load average: how many cores are busy.
fn load_average() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

fn meminfo() -> Option<Amount> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let kib = |key: &str| -> Option<u64> {
        let line = text.lines().find(|l| l.starts_with(key))?;
        line.split_whitespace()
            .nth(1)?
            .parse::<u64>()
            .ok()
            .map(|k| k * 1024)
    };
    let total = kib("MemTotal:")?;
    Some(Amount {
        capacity: Some(total),
        allocatable: Some(total),
        used: kib("MemAvailable:").map(|free| total.saturating_sub(free)),
    })
}

// statvfs's field types differ between platforms (u32 on macOS): u64::from takes
// either, which is a no-op here.
#[allow(clippy::useless_conversion)]
fn disk(path: &Path) -> Amount {
    match nix::sys::statvfs::statvfs(path) {
        Ok(s) => {
            let block = u64::from(s.fragment_size());
            let (blocks, free) = (u64::from(s.blocks()), u64::from(s.blocks_free()));
            let reserved = free.saturating_sub(u64::from(s.blocks_available()));
            Amount {
                capacity: Some(blocks * block),
                // What an unprivileged process may fill: all but the root-reserved part.
                allocatable: Some((blocks - reserved) * block),
                used: Some((blocks - free) * block),
            }
        }
        Err(_) => Amount::default(),
    }
}

/// Each run's workspace and its size on disk, newest run ids last (ULIDs sort by
/// time); whether every file was counted.
fn workspaces(runs_dir: &Path) -> (Vec<Volume>, bool) {
    let Ok(entries) = std::fs::read_dir(runs_dir) else {
        return (Vec::new(), true);
    };
    let mut budget = MAX_FILES;
    let mut runs: BTreeMap<String, u64> = BTreeMap::new();
    for entry in entries.flatten() {
        let run_id = entry.file_name().to_string_lossy().into_owned();
        let size = size_of(&entry.path().join("workspace"), &mut budget);
        runs.insert(run_id, size);
    }
    let volumes = runs
        .into_iter()
        .map(|(run_id, size)| Volume {
            name: format!("runs/{run_id}/workspace"),
            run_id: Some(run_id),
            size_bytes: Some(size),
            status: "on disk".into(),
            storage_class: None,
        })
        .collect();
    (volumes, budget > 0)
}

/// Bytes under `dir`, symlinks not followed, counting at most `budget` more files.
fn size_of(dir: &Path, budget: &mut usize) -> u64 {
    let mut total = 0;
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            if *budget == 0 {
                return total;
            }
            *budget -= 1;
            let Ok(meta) = entry.metadata() else { continue };
            if meta.is_dir() {
                pending.push(entry.path());
            } else {
                total += meta.len();
            }
        }
    }
    total
}

/// The key names of `<data-dir>/credentials.env`, per provider.
pub fn credentials_view(file: &Path) -> CredentialsView {
    let source = file.display().to_string();
    match read_credentials(file) {
        Ok(vars) => CredentialsView {
            providers: group_keys(vars.keys().map(String::as_str)),
            note: None,
            source,
        },
        Err(note) => CredentialsView {
            source,
            providers: Vec::new(),
            note: Some(note),
        },
    }
}

/// The credentials file's variables; why there are none, in words.
pub fn read_credentials(file: &Path) -> Result<BTreeMap<String, String>, String> {
    let text = match std::fs::read_to_string(file) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(format!(
                "There is no {}, so runs start with only their env sets. Write one (KEY=value lines, e.g. ANTHROPIC_API_KEY=…) to give every run its keys.",
                file.display()
            ))
        }
        Err(e) => return Err(format!("{} can't be read: {e}.", file.display())),
    };
    dotenv::parse(&text)
        .map(|parsed| parsed.vars.into_iter().collect())
        .map_err(|problems| {
            format!(
                "{} is not a .env file, so runs get none of it: {}",
                file.display(),
                dotenv::describe(&problems)
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_host_its_workspaces_and_credentials_are_read_from_disk() {
        let data = tempfile::tempdir().unwrap();
        let runs = data.path().join("runs");
        let ws = runs.join("01ABC/workspace/.smithers");
        std::fs::create_dir_all(&ws).unwrap();
        std::fs::write(ws.join("state.db"), vec![0u8; 4096]).unwrap();
        std::fs::write(runs.join("01ABC/workspace/a.txt"), "hello").unwrap();
        let view = host_view(data.path(), &runs);
        assert_eq!(view.backend, "local");
        assert_eq!(view.volumes.len(), 1);
        assert_eq!(view.volumes[0].run_id.as_deref(), Some("01ABC"));
        assert_eq!(view.volumes[0].size_bytes, Some(4101));
        let host = &view.machines[0];
        assert!(host.cpu.capacity.unwrap() >= 1000);
        assert!(host.disk.capacity.unwrap() > host.disk.used.unwrap());
        assert!(host.memory.capacity.unwrap() > 0, "{view:?}");

        let file = data.path().join("credentials.env");
        let missing = credentials_view(&file);
        assert!(missing.note.unwrap().contains("There is no"));
        std::fs::write(
            &file,
            "ANTHROPIC_API_KEY_1=sk-a\nANTHROPIC_API_KEY_2=sk-b\nGITHUB_TOKEN=ghp\n",
        )
        .unwrap();
        let view = credentials_view(&file);
        let counts: Vec<(String, usize)> = view
            .providers
            .iter()
            .map(|p| (p.provider.clone(), p.keys))
            .collect();
        assert_eq!(counts, [("anthropic".into(), 2), ("github".into(), 1)]);
        assert!(!format!("{view:?}").contains("sk-a"), "never a value");
        std::fs::write(&file, "not a line").unwrap();
        assert!(credentials_view(&file).note.unwrap().contains("line 1"));
    }
}
