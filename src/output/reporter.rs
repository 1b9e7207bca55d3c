//! The terminal observer: what a person watching a run sees, on stderr.
//!
//! In a terminal each step gets a live line (spinner and elapsed time) that turns into its result
//! and duration; elsewhere (CI logs, pipes) plain lines, one when a step starts and one when it
//! ends. A failure shows the last lines of the step's log and the log's path at once, because
//! that is what the engineer needs next. Everything goes to stderr, so that stdout stays free
//! for `--json`.

use std::time::Duration;

use console::style;
use indicatif::{ProgressBar, ProgressStyle};

use crate::engine::event::{Event, Observer};
use crate::error::Result;
use crate::store::record::{Phase, RunStatus, StepRecord, StepStatus};
use crate::text::duration::human;

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
    spinner: Option<ProgressBar>,
    /// The phase of the last step shown, to print a heading when it changes.
    phase: Phase,
}

impl Reporter {
    /// `live` is whether stderr is a terminal that can redraw a line.
    pub fn new(verbosity: Verbosity, live: bool) -> Reporter {
        Reporter {
            verbosity,
            live: live && verbosity == Verbosity::Normal,
            spinner: None,
            phase: Phase::Steps,
        }
    }

    fn line(&self, text: impl AsRef<str>) {
        match &self.spinner {
            Some(spinner) => spinner.suspend(|| say!("{}", text.as_ref())),
            None => say!("{}", text.as_ref()),
        }
    }

    fn label(step: &StepRecord) -> String {
        if step.name == step.id {
            style(&step.id).bold().to_string()
        } else {
            format!("{} {}", style(&step.id).bold(), style(&step.name).dim())
        }
    }

    fn finished(&mut self, step: &StepRecord) {
        if let Some(spinner) = self.spinner.take() {
            spinner.finish_and_clear();
        }
        let duration = step
            .duration_ms
            .map(|ms| format!(" {}", style(human(Duration::from_millis(ms))).dim()))
            .unwrap_or_default();
        let detail = step
            .detail
            .as_ref()
            .map(|d| format!(" {}", style(format!("({d})")).dim()))
            .unwrap_or_default();
        let label = Self::label(step);
        match step.status {
            StepStatus::Succeeded => {
                if self.verbosity != Verbosity::Quiet {
                    say!("{} {label}{duration}{detail}", style("✓").green());
                }
            }
            StepStatus::Undone => {
                if self.verbosity != Verbosity::Quiet {
                    say!("{} {label} undone", style("↶").yellow());
                }
            }
            StepStatus::Skipped => {
                if self.verbosity != Verbosity::Quiet {
                    say!(
                        "{} {label} {}",
                        style("-").dim(),
                        style(step.detail.as_deref().unwrap_or("skipped")).dim()
                    );
                }
            }
            status => {
                let what = match status {
                    StepStatus::TimedOut => "timed out",
                    StepStatus::Interrupted => "interrupted",
                    _ => "failed",
                };
                say!(
                    "{} {label} {}{duration}{}",
                    style("✗").red().bold(),
                    style(what).red().bold(),
                    step.detail
                        .as_ref()
                        .map(|d| format!(": {d}"))
                        .unwrap_or_default()
                );
                if let Some(tail) = step.log_tail.as_deref().filter(|t| !t.is_empty())
                    && self.verbosity != Verbosity::Verbose
                {
                    say!("{}", style("  ┌ last lines of the log").dim());
                    for line in tail.lines() {
                        say!("  {} {line}", style("│").dim());
                    }
                }
                match &step.log {
                    Some(log) if std::path::Path::new(log).exists() => {
                        say!("  {} {}", style("└ log:").dim(), log);
                    }
                    Some(_) => say!("  {}", style("└ (the step printed nothing)").dim()),
                    None => {}
                }
            }
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
            Event::MetricsSampled { run, after } => {
                if self.verbosity != Verbosity::Quiet {
                    for metric in &run.metrics {
                        let value = if *after { metric.after } else { metric.before };
                        let text = match (value, &metric.problem) {
                            (Some(value), _) if *after => {
                                let change = match (metric.change_percent(), metric.verdict()) {
                                    (Some(change), Some(verdict)) => {
                                        format!(" ({change:+.1}%, {verdict})")
                                    }
                                    _ => String::new(),
                                };
                                format!("{value}{change}")
                            }
                            (Some(value), _) => value.to_string(),
                            (None, Some(problem)) => style(format!("not sampled: {problem}"))
                                .yellow()
                                .to_string(),
                            (None, None) => "not sampled".into(),
                        };
                        self.line(format!(
                            "{} metric {} {}: {text}",
                            style("◆").cyan(),
                            style(&metric.name).bold(),
                            if *after { "after" } else { "before" }
                        ));
                    }
                }
            }
            Event::RunStarted { run, resumed } => {
                if *resumed && self.verbosity != Verbosity::Quiet {
                    self.line(format!(
                        "{} {}",
                        style("resuming").yellow().bold(),
                        run.run_id
                    ));
                }
                if self.verbosity != Verbosity::Quiet {
                    let mode = match run.mode.as_str() {
                        "rehearsal" => " REHEARSAL".to_string(),
                        "rollback" => " ROLLBACK".to_string(),
                        _ => String::new(),
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
            }
            Event::StepStarted { step, max_attempts } => {
                if step.phase != self.phase {
                    self.phase = step.phase;
                    if self.verbosity != Verbosity::Quiet {
                        let heading = match step.phase {
                            Phase::Undo => "undoing, newest first",
                            Phase::Rollback => "rollback",
                            Phase::Steps => "steps",
                        };
                        self.line(style(heading).bold().to_string());
                    }
                }
                let attempt = if *max_attempts > 1 {
                    format!(" (attempt {} of {max_attempts})", step.attempts)
                } else {
                    String::new()
                };
                // A confirmation owns the terminal while it asks: no spinner may draw over it.
                if self.live && step.kind == crate::runbook::StepKind::Confirm {
                    if let Some(spinner) = self.spinner.take() {
                        spinner.finish_and_clear();
                    }
                } else if self.live {
                    if let Some(spinner) = self.spinner.take() {
                        spinner.finish_and_clear();
                    }
                    let spinner = ProgressBar::new_spinner().with_style(
                        ProgressStyle::with_template("{spinner:.cyan} {msg} {elapsed:.dim}")
                            .expect("a valid template"),
                    );
                    spinner.set_message(format!("{}{attempt}", Self::label(step)));
                    spinner.enable_steady_tick(Duration::from_millis(100));
                    self.spinner = Some(spinner);
                } else if self.verbosity != Verbosity::Quiet {
                    self.line(format!(
                        "{} {}{attempt}: {}",
                        style("▶").cyan(),
                        Self::label(step),
                        style(&step.command).dim()
                    ));
                }
            }
            Event::StepRetrying { step, delay } => {
                if let Some(spinner) = self.spinner.take() {
                    spinner.finish_and_clear();
                }
                if self.verbosity != Verbosity::Quiet {
                    self.line(format!(
                        "{} {} attempt {} {}; retrying in {}",
                        style("↻").yellow(),
                        Self::label(step),
                        step.attempts,
                        step.detail.as_deref().unwrap_or("failed"),
                        human(*delay)
                    ));
                }
            }
            Event::StepFinished { step } => self.finished(step),
            Event::RunFinished { run } => {
                if let Some(spinner) = self.spinner.take() {
                    spinner.finish_and_clear();
                }
                let duration = run
                    .duration_ms()
                    .map(|ms| format!(" in {}", human(Duration::from_millis(ms))))
                    .unwrap_or_default();
                let status = match run.status {
                    RunStatus::Succeeded => style(run.status.as_str()).green().bold(),
                    _ => style(run.status.as_str()).red().bold(),
                };
                if self.verbosity != Verbosity::Quiet || run.status != RunStatus::Succeeded {
                    say!("run {} {status}{duration}", run.run_id);
                    if let Some(reason) = &run.status_reason
                        && run.status == RunStatus::Succeeded
                    {
                        say!("  {}", style(reason).yellow());
                    }
                }
                if let Some(note) = &run.note {
                    say!("change note: {note}");
                }
            }
        }
        Ok(())
    }
}
