//! The allocator, and memory it holds after a burst going back to the system.
//!
//! Rust code allocates through mimalloc: per-thread heaps with no lock to share. With
//! glibc's malloc, a page render under 64 connections spent about 40% of its time in
//! malloc and free, much of it waiting on arena locks (perf, BENCHMARKS.md); capping
//! the arenas to keep the memory down made that worse.
//!
//! The C side (SQLite) still uses glibc. glibc gives each busy thread an arena of its
//! own and keeps freed pages for reuse, so its arenas stay capped and a periodic trim
//! hands its free pages back once a burst is over.
use std::time::Duration;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// How often free pages are handed back.
const TRIM_EVERY: Duration = Duration::from_secs(2);
/// glibc arenas (for SQLite).
const ARENAS: i32 = 2;

/// mimalloc's number for its purge delay (`mi_option_purge_delay` in mimalloc 3's
/// header; the Rust bindings don't name it).
const MI_PURGE_DELAY: std::ffi::c_int = 15;

/// Sets both allocators up. Call first thing in `main`, before starting threads.
pub fn configure() {
    // SAFETY: mi_option_set only sets an allocator parameter.
    unsafe {
        // Free pages go back to the system at once. mimalloc purges only while the
        // allocator is in use, so with its 1 s default the pages of a burst stayed
        // (84 MB and more after `fabrik-bench ssr` by hand, instead of 55-61).
        libmimalloc_sys::mi_option_set(MI_PURGE_DELAY, 0);
    }
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, ARENAS);
    }
}

/// Hands glibc's free pages back every [`TRIM_EVERY`], on the blocking pool (a trim
/// walks every arena under its lock).
pub fn spawn_trimmer() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    tokio::spawn(async {
        let mut every = tokio::time::interval(TRIM_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            // SAFETY: malloc_trim only releases memory the allocator holds free.
            let _ = tokio::task::spawn_blocking(|| unsafe { libc::malloc_trim(0) }).await;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The option is set by number, so a mimalloc that renumbers its options would make
    /// `configure` set something else. Option 15 still starts at the purge delay's
    /// documented default (1000 ms in mimalloc 3) when nothing has set it.
    #[test]
    fn option_15_is_the_purge_delay() {
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
            return;
        }
        // SAFETY: reads an allocator parameter.
        let delay = unsafe { libmimalloc_sys::mi_option_get(MI_PURGE_DELAY) };
        assert_eq!(delay, 1000);
    }
}
