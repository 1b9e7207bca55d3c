//! Other processes: finding what is left of a run's steps, and asking a run to stop.

use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal, kill_process};

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
    let Some(target) = i32::try_from(pid).ok().and_then(Pid::from_raw) else {
        return;
    };
    // A process that is already gone is fine.
    let _ = kill_process(target, Signal::TERM);
    let deadline = Instant::now() + patience;
    while super::liveness::pid_exists(pid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
}
