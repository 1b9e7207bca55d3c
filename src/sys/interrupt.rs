//! Ctrl-C and SIGTERM while a run is in progress.
//!
//! Each step runs in its own process group, so the terminal's Ctrl-C reaches shipbook only. A
//! signal thread forwards it: the first SIGINT or SIGTERM sends TERM to the running step's group
//! and KILL after a grace period; a second one sends KILL at once. An undo in flight is not
//! told: it is finished, whatever the signals, so that a half-undone release is not left
//! behind. The executor sees the flag once the step has ended and records the run as
//! interrupted rather than dying mid-write.

use std::sync::Arc;
use std::sync::atomic::{AtomicI32, AtomicUsize, Ordering};
use std::time::Duration;

pub use rustix::process::Signal;
use rustix::process::{Pid, kill_process_group};
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

/// How long a step's processes get to exit after TERM before they are killed.
pub const GRACE_PERIOD: Duration = Duration::from_secs(5);

#[derive(Clone, Default)]
pub struct Interrupt {
    signals: Arc<AtomicUsize>,
    /// The process group of the running step, or 0 when none runs.
    group: Arc<AtomicI32>,
}

impl Interrupt {
    /// Starts the signal thread. Without it (in `plan`, `check`…) signals keep their defaults.
    pub fn install() -> std::io::Result<Interrupt> {
        let interrupt = Interrupt::default();
        let mut signals = Signals::new([SIGINT, SIGTERM])?;
        let shared = interrupt.clone();
        std::thread::Builder::new()
            .name("signals".into())
            .spawn(move || {
                for _ in signals.forever() {
                    let count = shared.signals.fetch_add(1, Ordering::SeqCst) + 1;
                    let group = shared.group.load(Ordering::SeqCst);
                    if group == 0 {
                        continue;
                    }
                    if count == 1 {
                        signal_group(group, Signal::TERM);
                        let escalate = shared.clone();
                        std::thread::spawn(move || {
                            std::thread::sleep(GRACE_PERIOD);
                            if escalate.group.load(Ordering::SeqCst) == group {
                                signal_group(group, Signal::KILL);
                            }
                        });
                    } else {
                        signal_group(group, Signal::KILL);
                    }
                }
            })?;
        Ok(interrupt)
    }

    /// Records an interruption that did not come as a signal (Ctrl-C read as a key at a
    /// question), so that the run stops as it would for a signal.
    pub fn request(&self) {
        self.signals.fetch_add(1, Ordering::SeqCst);
    }

    pub fn requested(&self) -> bool {
        self.signals.load(Ordering::SeqCst) > 0
    }

    /// Records the process group of the step now running (0 for none).
    pub fn set_group(&self, group: i32) {
        self.group.store(group, Ordering::SeqCst);
    }
}

/// Sends `signal` to every process of the group; a group that is already gone is fine.
pub fn signal_group(group: i32, signal: Signal) {
    if let Some(group) = Pid::from_raw(group) {
        let _ = kill_process_group(group, signal);
    }
}

/// Commands that only print (history, show, note, plan, schema, completions) end quietly when
/// their reader goes away (`shipbook show last | head`), as other Unix tools do. Commands that
/// run steps keep ignoring SIGPIPE: a closed pipe must never kill a release midway.
pub fn quiet_on_closed_pipe() {
    // SAFETY: restoring the default action of SIGPIPE before any thread is started.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
