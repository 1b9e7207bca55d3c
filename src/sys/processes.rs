//! Other processes: finding what is left of a run's steps, and asking a run to stop.

use std::time::{Duration, Instant};

/// The processes that carry `SHIPBOOK_RUN_ID=<run_id>` in their environment: what is left of a
/// run's steps. Every step's process gets that variable, and its children inherit it.
pub fn of_run(run_id: &str) -> Vec<u32> {
    let needle = format!("SHIPBOOK_RUN_ID={run_id}");
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut pids: Vec<u32> = entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| *pid != std::process::id())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/environ")).is_ok_and(|environ| {
                environ
                    .split(|&b| b == 0)
                    .any(|entry| entry == needle.as_bytes())
            })
        })
        .collect();
    pids.sort_unstable();
    pids
}

/// Sends SIGTERM to `pid` and waits up to `patience` for it to be gone.
pub fn terminate_and_wait(pid: u32, patience: Duration) {
    let Ok(pid) = i32::try_from(pid) else { return };
    // SAFETY: kill has no memory-safety preconditions; a process that is gone is fine.
    unsafe {
        libc::kill(pid, libc::SIGTERM);
    }
    let deadline = Instant::now() + patience;
    // SAFETY: as above; signal 0 only checks that the process exists.
    while unsafe { libc::kill(pid, 0) } == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
}
