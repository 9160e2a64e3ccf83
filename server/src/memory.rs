//! Memory the allocator holds after a burst goes back to the system.
//!
//! glibc gives each busy thread an arena of its own and keeps freed pages for reuse:
//! after 64 concurrent page loads the server held 228 MB and never returned it (idle:
//! 60 MB). Two arenas serve a server on a few cores as fast (measured, BENCHMARKS.md),
//! and a periodic trim hands free pages back once a burst is over.
use std::time::Duration;

/// How often free pages are handed back.
const TRIM_EVERY: Duration = Duration::from_secs(2);
const ARENAS: i32 = 2;

/// Caps the allocator's arenas. Call before starting threads.
pub fn limit_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, ARENAS);
    }
}

/// Hands free pages back every [`TRIM_EVERY`], on the blocking pool (a trim walks every
/// arena under its lock).
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
