//! The one line at the bottom of a terminal that shows the running step: a spinner, the step's
//! label and its elapsed time, redrawn ten times a second by one thread that lives as long as
//! the run.
//!
//! A thread per step (what a progress bar's steady tick costs) and a redraw at every start and
//! finish made a run of many short steps in a terminal a quarter slower than the same run into
//! a pipe. Here a step only sets what the line says; the line is drawn by the ticker, so a step
//! that ends within a tick never draws at all, and its result line is the only write it costs.
//! Every write to the terminal, the reporter's lines and the ticker's redraws, goes through one
//! lock, so that a result line never lands in the middle of a redraw, and the drawn line is
//! cleared before anything else is written.

use std::io::Write as _;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use console::style;

/// How often the line is redrawn.
const TICK: Duration = Duration::from_millis(100);

/// The spinner's frames, one per tick.
const FRAMES: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/// What the line shows, shared with the ticker.
#[derive(Default)]
struct State {
    /// The running step's label, or `None` when no line is shown.
    message: Option<String>,
    started: Option<Instant>,
    /// When the line is next drawn: a tick after the step started, then every tick.
    due: Option<Instant>,
    /// Whether the terminal shows a drawn line that must be cleared before anything else.
    drawn: bool,
    frame: usize,
    /// Set when the reporter is gone: the ticker ends.
    closed: bool,
}

/// The live line; cloning it is not needed: the reporter owns it and the ticker shares its
/// state.
pub struct LiveLine {
    shared: Arc<(Mutex<State>, Condvar)>,
}

impl LiveLine {
    /// Starts the ticker. It sleeps while no step shows a line.
    pub fn start() -> LiveLine {
        let shared = Arc::new((Mutex::new(State::default()), Condvar::new()));
        let ticker = Arc::clone(&shared);
        // Without the ticker the line is never drawn, and the results are still printed.
        let _ = std::thread::Builder::new()
            .name("live-line".into())
            .spawn(move || tick(&ticker));
        LiveLine { shared }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A poisoned lock only means a redraw panicked; what it guards is still usable.
        self.shared
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Shows `message` as the running step, its elapsed time counted from now.
    pub fn show(&self, message: String) {
        let mut state = self.state();
        let now = Instant::now();
        state.message = Some(message);
        state.started = Some(now);
        state.due = Some(now + TICK);
        drop(state);
        self.shared.1.notify_one();
    }

    /// Changes what the line says, keeping its elapsed time (a watch's samples so far).
    pub fn update(&self, message: String) {
        let mut state = self.state();
        if state.message.is_some() {
            state.message = Some(message);
        }
    }

    /// Whether a step's line is being shown.
    pub fn active(&self) -> bool {
        self.state().message.is_some()
    }

    /// Stops showing a line and clears it from the terminal.
    pub fn hide(&self) {
        let mut state = self.state();
        state.message = None;
        state.started = None;
        state.due = None;
        clear(&mut state);
    }

    /// Writes `line` (a newline is added) above the live line, in one write.
    pub fn print(&self, line: &str) {
        let mut state = self.state();
        clear(&mut state);
        let mut text = String::with_capacity(line.len() + 1);
        text.push_str(line);
        text.push('\n');
        let _ = std::io::stderr().write_all(text.as_bytes());
    }
}

impl Drop for LiveLine {
    fn drop(&mut self) {
        let mut state = self.state();
        state.closed = true;
        state.message = None;
        clear(&mut state);
        drop(state);
        self.shared.1.notify_one();
    }
}

/// Clears the drawn line, if there is one.
fn clear(state: &mut State) {
    if state.drawn {
        let _ = std::io::stderr().write_all(b"\r\x1b[2K");
        state.drawn = false;
    }
}

/// The ticker: waits while there is nothing to show, redraws every tick while there is.
fn tick(shared: &(Mutex<State>, Condvar)) {
    let (lock, wake) = shared;
    let mut state = lock
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    loop {
        if state.closed {
            return;
        }
        if state.message.is_none() {
            state = wake
                .wait(state)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            continue;
        }
        let now = Instant::now();
        let due = state.due.unwrap_or(now);
        if now < due {
            // Woken early (another step started, or the line was hidden): wait for what is due.
            state = wake
                .wait_timeout(state, due - now)
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .0;
            continue;
        }
        draw(&mut state);
        state.due = Some(now + TICK);
    }
}

/// Draws the line once, cut to the terminal's width so that it never wraps (a wrapped line
/// could not be cleared).
fn draw(state: &mut State) {
    let (Some(message), Some(started)) = (&state.message, state.started) else {
        return;
    };
    let frame = FRAMES[state.frame % FRAMES.len()];
    let seconds = started.elapsed().as_secs();
    let elapsed = if seconds < 60 {
        format!("{seconds}s")
    } else {
        format!("{}m {:02}s", seconds / 60, seconds % 60)
    };
    let elapsed = style(elapsed).dim();
    let line = format!("{} {message} {elapsed}", style(frame).cyan());
    let width = usize::from(console::Term::stderr().size().1.max(20));
    let line = console::truncate_str(&line, width - 1, "…");
    let _ = std::io::stderr().write_all(format!("\r\x1b[2K{line}").as_bytes());
    state.drawn = true;
    state.frame += 1;
}
