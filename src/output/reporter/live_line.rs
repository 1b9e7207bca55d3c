//! The lines at the bottom of a terminal that show the running steps, one each (several when
//! steps run beside each other): a spinner, the step's label and its elapsed time, redrawn ten
//! times a second by one thread that lives as long as the run.
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

/// One running step's line.
struct Line {
    /// The step's id: which line a start, an update or an end is about.
    key: String,
    message: String,
    started: Instant,
}

/// What the lines show, shared with the ticker.
#[derive(Default)]
struct State {
    /// The running steps' lines, in the order they started.
    lines: Vec<Line>,
    /// When the lines are next drawn: a tick after a step started, then every tick.
    due: Option<Instant>,
    /// How many drawn lines the terminal shows, to be cleared before anything else.
    drawn: usize,
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

    /// Shows `message` as the line of step `key`, its elapsed time counted from now.
    pub fn show(&self, key: &str, message: String) {
        let mut state = self.state();
        let now = Instant::now();
        state.lines.retain(|line| line.key != key);
        state.lines.push(Line {
            key: key.to_string(),
            message,
            started: now,
        });
        if state.due.is_none() {
            state.due = Some(now + TICK);
        }
        drop(state);
        self.shared.1.notify_one();
    }

    /// Changes what a step's line says, keeping its elapsed time (a watch's samples so far).
    pub fn update(&self, key: &str, message: String) {
        let mut state = self.state();
        if let Some(line) = state.lines.iter_mut().find(|line| line.key == key) {
            line.message = message;
        }
    }

    /// Whether step `key` has a line shown.
    pub fn active(&self, key: &str) -> bool {
        self.state().lines.iter().any(|line| line.key == key)
    }

    /// Stops showing step `key`'s line (every line, for `None`) and clears the drawn lines;
    /// the others are drawn again at the next tick.
    pub fn hide(&self, key: Option<&str>) {
        let mut state = self.state();
        state
            .lines
            .retain(|line| key.is_some_and(|key| line.key != key));
        if state.lines.is_empty() {
            state.due = None;
        }
        clear(&mut state);
    }

    /// Writes `line` (a newline is added) above the live lines, in one write.
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
        state.lines.clear();
        clear(&mut state);
        drop(state);
        self.shared.1.notify_one();
    }
}

/// Clears the drawn lines, if there are any, leaving the cursor where the first one began.
fn clear(state: &mut State) {
    if state.drawn > 0 {
        let _ = std::io::stderr().write_all(clearing(state.drawn).as_bytes());
        state.drawn = 0;
    }
}

/// What clears `drawn` lines drawn from the cursor's line upwards.
fn clearing(drawn: usize) -> String {
    let mut text = String::from("\r\x1b[2K");
    for _ in 1..drawn {
        text.push_str("\x1b[1A\x1b[2K");
    }
    text
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
        if state.lines.is_empty() {
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

/// Draws the lines once, in one write, each cut to the terminal's width so that it never
/// wraps (a wrapped line could not be cleared), and no more than the terminal's height allows.
fn draw(state: &mut State) {
    if state.lines.is_empty() {
        return;
    }
    let frame = FRAMES[state.frame % FRAMES.len()];
    let (rows, columns) = console::Term::stderr().size();
    let width = usize::from(columns.max(20));
    let room = usize::from(rows.max(2)) - 1;
    let mut text = clearing(state.drawn.max(1));
    let shown = state.lines.len().min(room);
    for (number, line) in state.lines.iter().take(shown).enumerate() {
        let seconds = line.started.elapsed().as_secs();
        let elapsed = if seconds < 60 {
            format!("{seconds}s")
        } else {
            format!("{}m {:02}s", seconds / 60, seconds % 60)
        };
        let mut drawn = format!(
            "{} {} {}",
            style(frame).cyan(),
            line.message,
            style(elapsed).dim()
        );
        if number + 1 == shown && shown < state.lines.len() {
            drawn.push_str(&format!(" (and {} more)", state.lines.len() - shown));
        }
        if number > 0 {
            text.push('\n');
        }
        text.push_str(&console::truncate_str(&drawn, width - 1, "…"));
    }
    let _ = std::io::stderr().write_all(text.as_bytes());
    state.drawn = shown;
    state.frame += 1;
}
