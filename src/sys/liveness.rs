//! Whether a process recorded earlier still exists.
//!
//! A run and a lock name the process that owns them. When shipbook is killed, that process is
//! gone but the record still says `running` and the lock is still held; the next shipbook must
//! tell such leftovers from a run that is really under way. A pid alone cannot: the system
//! reuses pids. With the process's start time (on Linux, from `/proc`) beside it, a pid that now
//! belongs to another process is told apart from the one recorded.

use rustix::io::Errno;
use rustix::process::{Pid, test_kill_process};

use crate::sys::operator::hostname;

/// Whether the process `pid`, started at `pid_start` (from [`process_start`]) on `host`, is
/// gone. Only a process on this host can be checked; one on another host (a state directory
/// shared between machines) is assumed alive.
pub fn is_gone(host: &str, pid: u32, pid_start: Option<u64>) -> bool {
    if host != hostname() {
        return false;
    }
    // A killed shipbook whose parent has not reaped it yet (a script that started it in the
    // background and never waits) is a zombie: it holds nothing and will run nothing again.
    if is_zombie(pid) {
        return true;
    }
    match (process_start(pid), pid_start) {
        (None, _) => !pid_exists(pid),
        // The pid is in use, but by a process started at another time: ours is gone.
        (Some(now), Some(then)) => now != then,
        (Some(_), None) => false,
    }
}

/// Whether a process with this pid exists (whether or not it may be signalled by us).
pub fn pid_exists(pid: u32) -> bool {
    let Ok(raw) = i32::try_from(pid) else {
        return false;
    };
    // Pid 0 names no single process (kill would test our own process group), so it cannot be
    // checked; it is taken as alive, the safe side for a lock (never taken over) and for a run
    // (never shown as interrupted).
    let Some(pid) = Pid::from_raw(raw) else {
        return true;
    };
    // Signal 0 only checks: success, or a refusal for lack of permission, means it exists.
    matches!(test_kill_process(pid), Ok(()) | Err(Errno::PERM))
}

/// Whether `pid` is a process that has exited and waits to be reaped.
fn is_zombie(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.rfind(')')
            .and_then(|end| stat.get(end + 2..end + 3))
            .is_some_and(|state| matches!(state, "Z" | "X"))
    })
}

/// The start time of a process in clock ticks since boot (Linux), which with the pid identifies
/// it even after the pid is reused. `None` where it cannot be read.
pub fn process_start(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may contain spaces and parentheses; fields after it are plain.
    let after_name = &stat[stat.rfind(')')? + 2..];
    after_name.split(' ').nth(19)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_and_keeps_its_start_time() {
        let pid = std::process::id();
        assert!(pid_exists(pid));
        let start = process_start(pid);
        assert!(!is_gone(&hostname(), pid, start));
        assert_eq!(process_start(pid), start);
    }

    #[test]
    fn a_process_that_exited_and_is_not_reaped_is_gone() {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        let start = process_start(pid);
        // Not waited for yet: a zombie, until `wait` below.
        let mut zombie = false;
        for _ in 0..500 {
            zombie = is_zombie(pid);
            if zombie {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert!(zombie);
        assert!(is_gone(&hostname(), pid, start));
        child.wait().unwrap();
    }

    #[test]
    fn a_process_that_ended_is_gone() {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        let start = process_start(pid);
        child.wait().unwrap();
        assert!(is_gone(&hostname(), pid, start));
    }

    #[test]
    fn a_process_on_another_host_is_assumed_alive() {
        assert!(!is_gone("another-host.invalid", u32::MAX, None));
    }
}
