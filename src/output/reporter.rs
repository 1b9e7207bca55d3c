//! The terminal observer: what a person watching a run sees, on stderr.
//!
//! In a terminal each step gets a live line (spinner and elapsed time) that turns into its result
//! and duration; elsewhere (CI logs, pipes) plain lines, one when a step starts and one when it
//! ends. A failure shows the last lines of the step's log and the log's path at once, because
//! that is what the engineer needs next. Everything goes to stderr, so that stdout stays free
//! for `--json`.

use std::time::Duration;

use console::style;

mod live_line;

use crate::engine::event::{Event, Observer};
use crate::error::Result;
use crate::runbook::{Mode, StepKind};
use crate::store::record::{Phase, RunRecord, RunStatus, StepRecord, StepStatus};
use crate::text::controls::escape_controls;
use crate::text::duration::human;
use crate::text::number;
use live_line::LiveLine;

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Verbosity {
    Quiet,
    Normal,
    /// `-v`: the steps' output streams to the terminal, so no spinner may overwrite it.
    Verbose,
}

/// Writes one line to stderr in one system call: stderr is unbuffered, and a formatted line
/// would otherwise go out piece by piece, which adds up over a thousand steps.
fn say_line(text: &str) {
    use std::io::Write as _;
    let mut line = String::with_capacity(text.len() + 1);
    line.push_str(text);
    line.push('\n');
    let _ = std::io::stderr().write_all(line.as_bytes());
}

macro_rules! say {
    ($($arg:tt)*) => {
        say_line(&format!($($arg)*))
    };
}

pub struct Reporter {
    verbosity: Verbosity,
    live: bool,
    /// In a terminal: the line that shows the running step.
    live_line: Option<LiveLine>,
    /// The phase of the last step shown, to print a heading when it changes.
    phase: Phase,
}

impl Reporter {
    /// `live` is whether stderr is a terminal that can redraw a line.
    pub fn new(verbosity: Verbosity, live: bool) -> Reporter {
        let live = live && verbosity == Verbosity::Normal;
        Reporter {
            verbosity,
            live,
            live_line: live.then(LiveLine::start),
            phase: Phase::Steps,
        }
    }

    fn line(&self, text: impl AsRef<str>) {
        match &self.live_line {
            Some(live_line) => live_line.print(text.as_ref()),
            None => say!("{}", text.as_ref()),
        }
    }

    fn label(step: &StepRecord) -> String {
        if step.name == step.id {
            style(&step.id).bold().to_string()
        } else {
            format!(
                "{} {}",
                style(&step.id).bold(),
                style(escape_controls(&step.name)).dim()
            )
        }
    }

    /// Stops showing a running step's live line (every one's, for `None`), and clears it.
    fn hide_live_line(&mut self, step: Option<&str>) {
        if let Some(live_line) = &self.live_line {
            live_line.hide(step);
        }
    }

    /// Whether lines about progress (not failures) are shown.
    fn shows_progress(&self) -> bool {
        self.verbosity != Verbosity::Quiet
    }

    /// The heading line of a run: its runbook, mode, environment and id, and before it the
    /// word `resuming` when the run continues where it stopped.
    fn run_started(&mut self, run: &RunRecord, resumed: bool) {
        if !self.shows_progress() {
            return;
        }
        if resumed {
            self.line(format!(
                "{} {}",
                style("resuming").yellow().bold(),
                run.run_id
            ));
        }
        let mode = match run.mode {
            Mode::Rehearsal => " REHEARSAL".to_string(),
            Mode::Rollback => " ROLLBACK".to_string(),
            Mode::Run => String::new(),
        };
        let env = run
            .env
            .as_ref()
            .map(|e| format!(" in {}", style(e).bold()))
            .unwrap_or_default();
        self.line(format!(
            "{}{} {}{env} {}",
            style("shipbook").bold(),
            style(mode).yellow().bold(),
            style(&run.runbook).bold(),
            style(format!("(run {})", run.run_id)).dim()
        ));
    }

    /// One line per metric: its value before the steps, or after them with the change.
    fn metrics_sampled(&mut self, run: &RunRecord, after: bool) {
        if !self.shows_progress() {
            return;
        }
        for metric in &run.metrics {
            let value = if after { metric.after } else { metric.before };
            let text = match (value, &metric.problem) {
                (Some(value), _) if after => {
                    let change = match (metric.change_percent(), metric.verdict()) {
                        (Some(change), Some(verdict)) => format!(" ({change:+.1}%, {verdict})"),
                        _ => String::new(),
                    };
                    format!("{}{change}", number::display(value))
                }
                (Some(value), _) => number::display(value),
                (None, Some(problem)) => {
                    style(format!("not sampled: {}", escape_controls(problem)))
                        .yellow()
                        .to_string()
                }
                (None, None) => "not sampled".into(),
            };
            self.line(format!(
                "{} metric {} {}: {text}",
                style("◆").cyan(),
                style(&metric.name).bold(),
                if after { "after" } else { "before" }
            ));
        }
    }

    /// A heading when the run moves to another phase, then the step's live spinner in a
    /// terminal, or its start line elsewhere.
    fn step_started(&mut self, step: &StepRecord, max_attempts: u32) {
        if step.phase != self.phase {
            self.phase = step.phase;
            if self.shows_progress() {
                let heading = match step.phase {
                    Phase::Undo => "undoing, newest first",
                    Phase::Rollback => "rollback",
                    Phase::Steps => "steps",
                };
                self.line(style(heading).bold().to_string());
            }
        }
        let attempt = if max_attempts > 1 {
            format!(" (attempt {} of {max_attempts})", step.attempts)
        } else {
            String::new()
        };
        if self.live {
            self.hide_live_line(Some(&step.id));
            // A confirmation owns the terminal while it asks (nothing runs beside it): no
            // spinner may draw over it.
            if step.kind != StepKind::Confirm
                && let Some(live_line) = &self.live_line
            {
                live_line.show(&step.id, format!("{}{attempt}", Self::label(step)));
            }
        } else if self.shows_progress() {
            self.line(format!(
                "{} {}{attempt}: {}",
                style("▶").cyan(),
                Self::label(step),
                style(escape_controls(&step.command)).dim()
            ));
        }
    }

    /// A watch's sample: in a terminal the step's live line shows the samples so far as a strip
    /// of marks, the failures of those allowed and the time left; elsewhere, a line per sample.
    fn watch_sampled(&mut self, step: &StepRecord, left: Duration, allowed: u32) {
        let Some(sample) = step.samples.last() else {
            return;
        };
        let failed = step.samples.iter().filter(|s| !s.passed).count();
        let strip: String = step
            .samples
            .iter()
            .map(|s| if s.passed { '✓' } else { '✗' })
            .collect();
        // A long watch keeps the newest marks in view.
        let strip: String = strip
            .chars()
            .skip(strip.chars().count().saturating_sub(40))
            .collect();
        let status = format!(
            "{strip} {failed} of {allowed} failures, {} left",
            crate::text::duration::human(left)
        );
        if let Some(live_line) = self.live_line.as_ref().filter(|line| line.active(&step.id)) {
            live_line.update(
                &step.id,
                format!(
                    "{} {} {}",
                    Self::label(step),
                    status,
                    style(escape_controls(&sample.detail)).dim()
                ),
            );
        } else if self.shows_progress() {
            let mark = if sample.passed {
                style("·").green()
            } else {
                style("✗").red()
            };
            self.line(format!(
                "  {mark} {}: {} ({status})",
                step.id,
                escape_controls(&sample.detail)
            ));
        }
    }

    /// The failed attempt, and when the next one comes.
    fn step_retrying(&mut self, step: &StepRecord, delay: Duration) {
        self.hide_live_line(Some(&step.id));
        if self.shows_progress() {
            self.line(format!(
                "{} {} attempt {} {}; retrying in {}",
                style("↻").yellow(),
                Self::label(step),
                step.attempts,
                escape_controls(step.detail.as_deref().unwrap_or("failed")),
                human(delay)
            ));
        }
    }

    /// The step's result line, which replaces its spinner.
    fn step_finished(&mut self, step: &StepRecord) {
        self.hide_live_line(Some(&step.id));
        let duration = step
            .duration_ms
            .map(|ms| format!(" {}", style(human(Duration::from_millis(ms))).dim()))
            .unwrap_or_default();
        let detail = step
            .detail
            .as_ref()
            .map(|d| format!(" {}", style(format!("({})", escape_controls(d))).dim()))
            .unwrap_or_default();
        let label = Self::label(step);
        match step.status {
            StepStatus::Succeeded if self.shows_progress() => {
                self.line(format!("{} {label}{duration}{detail}", style("✓").green()));
            }
            StepStatus::Undone if self.shows_progress() => {
                self.line(format!("{} {label} undone", style("↶").yellow()));
            }
            StepStatus::Skipped if self.shows_progress() => {
                self.line(format!(
                    "{} {label} {}",
                    style("-").dim(),
                    style(escape_controls(step.detail.as_deref().unwrap_or("skipped"))).dim()
                ));
            }
            StepStatus::Succeeded | StepStatus::Undone | StepStatus::Skipped => {}
            _ => self.step_failed(step, &label, &duration),
        }
    }

    /// A failure is shown even with `--quiet`, with the last lines of the step's log and the
    /// log's path, because those are what the engineer needs next.
    fn step_failed(&self, step: &StepRecord, label: &str, duration: &str) {
        let what = match step.status {
            StepStatus::TimedOut => "timed out",
            StepStatus::Interrupted => "interrupted",
            _ => "failed",
        };
        // One write for the whole failure, so that a step running beside it never draws its
        // line in the middle.
        let mut lines = vec![format!(
            "{} {label} {}{duration}{}",
            style("✗").red().bold(),
            style(what).red().bold(),
            step.detail
                .as_ref()
                .map(|d| format!(": {}", escape_controls(d)))
                .unwrap_or_default()
        )];
        // With `-v` the log has just streamed past, so it is not repeated.
        if let Some(tail) = step.log_tail.as_deref().filter(|t| !t.is_empty())
            && self.verbosity != Verbosity::Verbose
        {
            lines.push(style("  ┌ last lines of the log").dim().to_string());
            // What the step printed is shown with its control characters escaped: a
            // clear-screen or a new title must not reach the terminal. The log keeps the bytes.
            for line in tail.lines() {
                lines.push(format!("  {} {}", style("│").dim(), escape_controls(line)));
            }
        }
        match &step.log {
            Some(log) if std::path::Path::new(log).exists() => {
                lines.push(format!("  {} {}", style("└ log:").dim(), log));
            }
            Some(_) => lines.push(format!("  {}", style("└ (the step printed nothing)").dim())),
            None => {}
        }
        self.line(lines.join("\n"));
    }

    /// The run's result and duration (shown even with `--quiet` when it did not succeed), and
    /// where its change note is.
    fn run_finished(&mut self, run: &RunRecord) {
        self.hide_live_line(None);
        let duration = run
            .duration_ms()
            .map(|ms| format!(" in {}", human(Duration::from_millis(ms))))
            .unwrap_or_default();
        let status = match run.status {
            RunStatus::Succeeded => style(run.status.as_str()).green().bold(),
            _ => style(run.status.as_str()).red().bold(),
        };
        if self.shows_progress() || run.status != RunStatus::Succeeded {
            say!("run {} {status}{duration}", run.run_id);
            if let Some(reason) = &run.status_reason
                && run.status == RunStatus::Succeeded
            {
                say!("  {}", style(escape_controls(reason)).yellow());
            }
        }
        // Shown even with -q: a notification the team did not get is worth knowing.
        for warning in &run.warnings {
            say!(
                "{} {}",
                style("warning:").yellow().bold(),
                escape_controls(warning)
            );
        }
        if let Some(note) = &run.note {
            say!("change note: {note}");
        }
    }
}

impl Observer for Reporter {
    fn name(&self) -> &'static str {
        "the terminal reporter"
    }

    fn on_event(&mut self, event: &Event<'_>) -> Result<()> {
        match event {
            Event::StepAdded { .. } => {}
            Event::MetricsSampled { run, after } => self.metrics_sampled(run, *after),
            Event::RunStarted { run, resumed } => self.run_started(run, *resumed),
            Event::StepStarted { step, max_attempts } => self.step_started(step, *max_attempts),
            Event::StepRetrying { step, delay } => self.step_retrying(step, *delay),
            Event::WatchSampled {
                step,
                left,
                allowed,
            } => self.watch_sampled(step, *left, *allowed),
            Event::StepFinished { step } => self.step_finished(step),
            Event::RunFinished { run } => self.run_finished(run),
        }
        Ok(())
    }
}
