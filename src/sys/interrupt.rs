//! Ctrl-C and SIGTERM while a run is in progress.
//!
//! Each step runs in its own process group, so the terminal's Ctrl-C reaches shipbook only. A
//! signal handler forwards it: the first SIGINT or SIGTERM sends TERM to the group of every
//! running step (several run at once when `needs` allows), a second one KILL, and each writes
//! a byte to the pipe that each step's runner polls beside its output, so that it wakes and
//! sends KILL once the grace period has passed. Every running command holds a place in a fixed
//! table (a [`Registration`]) that the handler walks without taking a lock.
//! No thread waits for signals: the handler does only what a handler may (atomics, `kill`,
//! `write`), and the runner's poll does the rest. An undo in flight is not told: it is finished,
//! whatever the signals, so that a half-undone release is not left behind. The executor sees
//! the flag once the step has ended and records the run as interrupted rather than dying
//! mid-write.

use std::io::Read as _;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

pub use rustix::process::Signal;
use rustix::process::{Pid, kill_process_group};
use signal_hook::consts::{SIGINT, SIGTERM};

/// How long a step's processes get to exit after TERM before they are killed.
pub const GRACE_PERIOD: Duration = Duration::from_secs(5);

/// How many commands can be running at once under one handler: the most steps that may run at
/// once (`jobs` is at most 256), and a few more for good measure.
const SLOTS: usize = 264;

/// One running command, as the signal handler sees it: its process group, and the pipe that
/// wakes the thread waiting for it.
struct Slot {
    taken: AtomicBool,
    /// The command's process group, or 0 before it has one.
    group: AtomicI32,
    /// The write end of this slot's wake pipe, or -1 before the slot was first used. Once set
    /// it never changes and is never closed, so the handler can write to it at any time.
    wake_writer: AtomicI32,
    /// The pipe itself (read end, write end), made the first time the slot is taken.
    pipe: OnceLock<(std::fs::File, OwnedFd)>,
}

/// What the handler and the runners share.
#[derive(Default)]
struct Shared {
    signals: AtomicUsize,
    /// Set while the engine cancels the commands running beside a failed step.
    cancelled: AtomicBool,
    /// Empty when no handler is installed: nothing signals, nothing wakes.
    slots: Vec<Slot>,
}

#[derive(Clone, Default)]
pub struct Interrupt {
    shared: Arc<Shared>,
}

/// A running command's place in the handler's table, for as long as the command runs: its
/// group gets the signals, and its wake pipe a byte for each. Dropping it frees the place.
pub struct Registration {
    shared: Arc<Shared>,
    /// `None` under an interrupt without a handler (an undo in flight, the unit tests).
    slot: Option<usize>,
}

impl Interrupt {
    /// Installs the handlers. Without them (in `plan`, `check`…) signals keep their defaults.
    pub fn install() -> std::io::Result<Interrupt> {
        let slots = (0..SLOTS)
            .map(|_| Slot {
                taken: AtomicBool::new(false),
                group: AtomicI32::new(0),
                wake_writer: AtomicI32::new(-1),
                pipe: OnceLock::new(),
            })
            .collect();
        let interrupt = Interrupt {
            shared: Arc::new(Shared {
                slots,
                ..Shared::default()
            }),
        };
        for signal in [SIGINT, SIGTERM] {
            let shared = Arc::clone(&interrupt.shared);
            let forward = move || {
                let count = shared.signals.fetch_add(1, Ordering::SeqCst) + 1;
                let signal = if count == 1 {
                    Signal::TERM
                } else {
                    Signal::KILL
                };
                forward(&shared, signal);
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
        self.shared.signals.fetch_add(1, Ordering::SeqCst);
    }

    pub fn requested(&self) -> bool {
        self.shared.signals.load(Ordering::SeqCst) > 0
    }

    /// Ends every command running under this interrupt, as a first Ctrl-C would (TERM now, KILL
    /// after the grace period), without interrupting the run: the engine cancels the steps
    /// running beside one that failed. Lasts until [`Interrupt::end_cancel`].
    pub fn cancel(&self) {
        self.shared.cancelled.store(true, Ordering::SeqCst);
        forward(&self.shared, Signal::TERM);
    }

    /// Lets commands run again after [`Interrupt::cancel`], once those it ended are gone.
    pub fn end_cancel(&self) {
        self.shared.cancelled.store(false, Ordering::SeqCst);
    }

    /// Whether the commands running now are to end: a signal came, or the engine cancels them.
    pub fn ending(&self) -> bool {
        self.requested() || self.shared.cancelled.load(Ordering::SeqCst)
    }

    /// Takes a place in the handler's table for a command about to run.
    pub fn register(&self) -> std::io::Result<Registration> {
        let mut registration = Registration {
            shared: Arc::clone(&self.shared),
            slot: None,
        };
        if self.shared.slots.is_empty() {
            return Ok(registration);
        }
        let index = self
            .shared
            .slots
            .iter()
            .position(|slot| {
                slot.taken
                    .compare_exchange(false, true, Ordering::SeqCst, Ordering::SeqCst)
                    .is_ok()
            })
            .ok_or_else(|| {
                std::io::Error::other("more commands at once than shipbook can track")
            })?;
        registration.slot = Some(index);
        let slot = &self.shared.slots[index];
        if slot.pipe.get().is_none() {
            let (reader, writer) = std::io::pipe()?;
            for end in [reader.as_fd(), writer.as_fd()] {
                rustix::fs::fcntl_setfl(end, rustix::fs::OFlags::NONBLOCK)?;
            }
            let writer = OwnedFd::from(writer);
            let raw = writer.as_raw_fd();
            let reader = std::fs::File::from(OwnedFd::from(reader));
            if slot.pipe.set((reader, writer)).is_ok() {
                slot.wake_writer.store(raw, Ordering::SeqCst);
            }
        }
        Ok(registration)
    }
}

impl Registration {
    fn slot(&self) -> Option<&Slot> {
        self.slot.map(|index| &self.shared.slots[index])
    }

    /// Records the process group of the command (0 for none).
    pub fn set_group(&self, group: i32) {
        if let Some(slot) = self.slot() {
            slot.group.store(group, Ordering::SeqCst);
        }
    }

    /// What the process runner polls to wake for a signal, when handlers are installed.
    pub fn wake_fd(&self) -> Option<BorrowedFd<'_>> {
        self.slot()
            .and_then(|slot| slot.pipe.get())
            .map(|(reader, _)| reader.as_fd())
    }

    /// Empties the wake pipe once the runner has woken for it.
    pub fn drain_wake(&self) {
        if let Some((reader, _)) = self.slot().and_then(|slot| slot.pipe.get()) {
            let mut reader = reader;
            let mut buffer = [0u8; 64];
            while matches!(reader.read(&mut buffer), Ok(read) if read > 0) {}
        }
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        if let Some(slot) = self.slot() {
            slot.group.store(0, Ordering::SeqCst);
            self.drain_wake();
            slot.taken.store(false, Ordering::SeqCst);
        }
    }
}

/// Sends `signal` to the group of every registered command and wakes the thread waiting for
/// each. Called from the signal handler: atomics, `kill` and `write` only.
fn forward(shared: &Shared, signal: Signal) {
    for slot in &shared.slots {
        let group = slot.group.load(Ordering::SeqCst);
        if group != 0 {
            signal_group(group, signal);
        }
        let writer = slot.wake_writer.load(Ordering::SeqCst);
        if writer >= 0 {
            // SAFETY: a slot's write end, once stored, is never closed while `shared` lives.
            let writer = unsafe { BorrowedFd::borrow_raw(writer) };
            // A full pipe already holds a byte that wakes the runner.
            let _ = rustix::io::write(writer, b"!");
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
