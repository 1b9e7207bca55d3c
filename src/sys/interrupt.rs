//! Ctrl-C and SIGTERM while a run is in progress.
//!
//! Each step runs in its own process group, so the terminal's Ctrl-C reaches shipbook only. A
//! signal handler forwards it: the first SIGINT or SIGTERM sends TERM to the running step's
//! group, a second one KILL, and each writes a byte to a pipe that the process runner polls
//! beside the step's output, so that it wakes and sends KILL once the grace period has passed.
//! No thread waits for signals: the handler does only what a handler may (atomics, `kill`,
//! `write`), and the runner's poll does the rest. An undo in flight is not told: it is finished,
//! whatever the signals, so that a half-undone release is not left behind. The executor sees
//! the flag once the step has ended and records the run as interrupted rather than dying
//! mid-write.

use std::io::Read as _;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::Arc;
use std::sync::atomic::{AtomicI32, AtomicUsize, Ordering};
use std::time::Duration;

pub use rustix::process::Signal;
use rustix::process::{Pid, kill_process_group};
use signal_hook::consts::{SIGINT, SIGTERM};

/// How long a step's processes get to exit after TERM before they are killed.
pub const GRACE_PERIOD: Duration = Duration::from_secs(5);

#[derive(Clone, Default)]
pub struct Interrupt {
    signals: Arc<AtomicUsize>,
    /// The process group of the running step, or 0 when none runs.
    group: Arc<AtomicI32>,
    /// The end of the pipe the handler writes a byte into for each signal; `None` when no
    /// handler is installed.
    wake: Option<Arc<std::fs::File>>,
}

impl Interrupt {
    /// Installs the handlers. Without them (in `plan`, `check`…) signals keep their defaults.
    pub fn install() -> std::io::Result<Interrupt> {
        let (reader, writer) = std::io::pipe()?;
        for end in [reader.as_fd(), writer.as_fd()] {
            rustix::fs::fcntl_setfl(end, rustix::fs::OFlags::NONBLOCK)?;
        }
        let writer = OwnedFd::from(writer);
        let interrupt = Interrupt {
            wake: Some(Arc::new(std::fs::File::from(OwnedFd::from(reader)))),
            ..Interrupt::default()
        };
        for signal in [SIGINT, SIGTERM] {
            let signals = Arc::clone(&interrupt.signals);
            let group = Arc::clone(&interrupt.group);
            let writer = writer.try_clone()?;
            let forward = move || {
                let count = signals.fetch_add(1, Ordering::SeqCst) + 1;
                let group = group.load(Ordering::SeqCst);
                if group != 0 {
                    let signal = if count == 1 {
                        Signal::TERM
                    } else {
                        Signal::KILL
                    };
                    signal_group(group, signal);
                }
                // A full pipe already holds a byte that wakes the runner.
                let _ = rustix::io::write(&writer, b"!");
            };
            // SAFETY: the action only touches atomics and makes the `kill` and `write` system
            // calls, which are async-signal-safe; it allocates nothing and takes no lock.
            unsafe { signal_hook::low_level::register(signal, forward) }?;
        }
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

    /// What the process runner polls to wake for a signal, when handlers are installed.
    pub fn wake_fd(&self) -> Option<BorrowedFd<'_>> {
        self.wake.as_deref().map(AsFd::as_fd)
    }

    /// Empties the wake pipe once the runner has woken for it.
    pub fn drain_wake(&self) {
        if let Some(mut wake) = self.wake.as_deref() {
            let mut buffer = [0u8; 64];
            while matches!(wake.read(&mut buffer), Ok(read) if read > 0) {}
        }
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
