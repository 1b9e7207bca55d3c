//! The real effects: processes through the process module, actions writing to the step's log
//! as they go, questions through the terminal's prompter, the real clock and real signals.

use std::collections::BTreeMap;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::effects::{Answer, Effects, Finished, Prompter, Recovery, WorkContext, WorkOutcome};
use crate::actions::notify::spec::NotifyTarget;
use crate::actions::{self, Programs, Verdict};
use crate::mask::Masker;
use crate::plan::{Notification, PlannedMetric, ResolvedCommand, Work};
use crate::store::record::{StepStatus, TagRecord};
use crate::sys::interrupt::Interrupt;
use crate::sys::process::{self, CommandSpec, Echo, Exit, LogCut, LogWriter, Outcome};
use crate::text::duration;
use crate::text::timestamp::Timestamp;

/// How many lines of a failed step's log are kept in the record and shown.
pub const TAIL_LINES: usize = 30;

pub struct SystemEffects {
    pub performer: Performer,
    pub prompter: Box<dyn Prompter>,
    pub started: Instant,
    /// Where the attempts begun with `start` tell how they ended.
    finished: (mpsc::Sender<Finished>, mpsc::Receiver<Finished>),
}

impl SystemEffects {
    pub fn new(performer: Performer, prompter: Box<dyn Prompter>) -> SystemEffects {
        SystemEffects {
            performer,
            prompter,
            started: Instant::now(),
            finished: mpsc::channel(),
        }
    }
}

/// What performs a step's work, shared by the run's thread and the threads of steps that run
/// beside each other: the masker, where output is echoed, and the run's interrupt.
#[derive(Clone)]
pub struct Performer {
    pub masker: Masker,
    pub echo: Echo,
    pub interrupt: Interrupt,
}

/// A `WorkContext` that a step's own thread owns.
struct OwnedContext {
    step_id: String,
    dir: PathBuf,
    env: BTreeMap<String, String>,
    timeout: Option<Duration>,
    log: PathBuf,
    sheltered: bool,
    rehearsal: bool,
    labelled: bool,
}

impl OwnedContext {
    fn new(context: &WorkContext<'_>) -> OwnedContext {
        OwnedContext {
            step_id: context.step_id.to_string(),
            dir: context.dir.to_path_buf(),
            env: context.env.clone(),
            timeout: context.timeout,
            log: context.log.to_path_buf(),
            sheltered: context.sheltered,
            rehearsal: context.rehearsal,
            labelled: context.labelled,
        }
    }

    fn context(&self) -> WorkContext<'_> {
        WorkContext {
            step_id: &self.step_id,
            dir: &self.dir,
            env: &self.env,
            timeout: self.timeout,
            log: &self.log,
            sheltered: self.sheltered,
            rehearsal: self.rehearsal,
            labelled: self.labelled,
        }
    }
}

impl Performer {
    /// Where a step's output is echoed: with `-v`, labelled with its id when others may run
    /// beside it.
    fn echo_for(&self, context: &WorkContext<'_>) -> Echo {
        match &self.echo {
            Echo::Stderr if context.labelled => Echo::Labelled(context.step_id.into()),
            echo => echo.clone(),
        }
    }

    /// Waits `delay`; returns true when a signal came (or the engine cancelled) meanwhile.
    fn sleep(&self, delay: Duration) -> bool {
        let until = Instant::now() + delay;
        while Instant::now() < until {
            if self.interrupt.ending() {
                return true;
            }
            std::thread::sleep((until - Instant::now()).min(Duration::from_millis(50)));
        }
        self.interrupt.ending()
    }

    /// The interrupt a command obeys: the run's, or (for an undo in flight) one that never
    /// fires, so that Ctrl-C lets the undo finish.
    fn interrupt_for(&self, sheltered: bool) -> Interrupt {
        if sheltered {
            Interrupt::default()
        } else {
            self.interrupt.clone()
        }
    }

    fn command(
        &self,
        command: &ResolvedCommand,
        context: &WorkContext<'_>,
    ) -> io::Result<WorkOutcome> {
        let spec = CommandSpec {
            argv: &command.argv,
            shell_argv: command.shell_argv.as_deref(),
            dir: context.dir,
            env: context.env,
            timeout: context.timeout,
        };
        let interrupt = self.interrupt_for(context.sheltered);
        let echo = self.echo_for(context);
        let outcome = process::run(&spec, context.log, &self.masker, &echo, &interrupt)?;
        let status = if outcome.interrupted {
            StepStatus::Interrupted
        } else if outcome.success() {
            StepStatus::Succeeded
        } else if outcome.timed_out {
            StepStatus::TimedOut
        } else {
            StepStatus::Failed
        };
        let failure =
            (status != StepStatus::Succeeded).then(|| describe_failure(&outcome, context.timeout));
        Ok(WorkOutcome {
            status,
            exit_code: Some(outcome.exit_code()),
            detail: with_log_cut(failure, outcome.log_cut.as_ref()),
            tag: None,
        })
    }

    /// Performs one attempt of `work`: a command, or an action writing to the step's log as it
    /// goes.
    fn work(&self, work: &Work, context: &WorkContext<'_>) -> io::Result<WorkOutcome> {
        let mut log = LogWriter::new(context.log, &self.masker, self.echo_for(context));
        let mut programs = StepPrograms {
            effects: self,
            context,
        };
        let interrupt = self.interrupt_for(context.sheltered);
        let (verdict, tag) = match work {
            Work::Run { command } => return self.command(command, context),
            Work::Config(config) => (actions::config::run(config, &mut log), None),
            Work::Http(http) => {
                let interrupted = move || interrupt.ending();
                (actions::http::run(http, &mut log, &interrupted), None)
            }
            Work::Tag(tag) => {
                let tagging = actions::tag::Tagging {
                    tag,
                    dir: context.dir,
                    rehearsal: context.rehearsal,
                };
                actions::tag::run(&tagging, &mut log, &mut programs)
            }
            Work::Untag { tag } => (
                actions::tag::undo(tag, context.dir, &mut log, &mut programs),
                None,
            ),
        };
        let _ = log.flush();
        let mut outcome = self.judge(verdict, tag, context);
        outcome.detail = with_log_cut(outcome.detail, log.cut().as_ref());
        Ok(outcome)
    }

    /// The outcome of an action from its verdict: a failure that a signal caused is an
    /// interruption.
    fn judge(
        &self,
        verdict: Verdict,
        tag: Option<TagRecord>,
        context: &WorkContext<'_>,
    ) -> WorkOutcome {
        WorkOutcome {
            status: if verdict.passed {
                StepStatus::Succeeded
            } else if !context.sheltered && self.interrupt.ending() {
                StepStatus::Interrupted
            } else {
                StepStatus::Failed
            },
            exit_code: None,
            detail: Some(verdict.summary),
            tag,
        }
    }
}

impl Effects for SystemEffects {
    fn perform(&mut self, work: &Work, context: &WorkContext<'_>) -> io::Result<WorkOutcome> {
        self.performer.work(work, context)
    }

    fn start(&mut self, job: usize, work: &Work, context: &WorkContext<'_>) {
        let performer = self.performer.clone();
        let work = work.clone();
        let context = OwnedContext::new(context);
        let finished = self.finished.0.clone();
        let told = finished.clone();
        let clock = self.started;
        let spawned = std::thread::Builder::new()
            .name(format!("step {}", context.step_id))
            .spawn(move || {
                // The executor waits for this thread's word: a panic must still send one.
                let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    performer.work(&work, &context.context())
                }))
                .unwrap_or_else(|_| Err(io::Error::other("the step's thread panicked")));
                let _ = finished.send(Finished {
                    job,
                    outcome,
                    ended: clock.elapsed(),
                });
            });
        if let Err(error) = spawned {
            let _ = told.send(Finished {
                job,
                outcome: Err(error),
                ended: self.started.elapsed(),
            });
        }
    }

    fn wait_started(&mut self, timeout: Option<Duration>) -> Option<Finished> {
        // The sender half kept here means the channel never closes while the effects live.
        match timeout {
            Some(timeout) => self.finished.1.recv_timeout(timeout).ok(),
            None => self.finished.1.recv().ok(),
        }
    }

    fn cancel_started(&mut self, cancel: bool) {
        if cancel {
            self.performer.interrupt.cancel();
        } else {
            self.performer.interrupt.end_cancel();
        }
    }

    fn sample(
        &mut self,
        metric: &PlannedMetric,
        env: &BTreeMap<String, String>,
        log: &Path,
    ) -> io::Result<Result<f64, String>> {
        let spec = CommandSpec {
            argv: &metric.command.argv,
            shell_argv: metric.command.shell_argv.as_deref(),
            dir: &metric.dir,
            env,
            timeout: metric.timeout,
        };
        process::sample(
            &spec,
            log,
            &self.performer.masker,
            &self.performer.interrupt,
        )
    }

    fn append_log(&mut self, log: &Path, text: &str) {
        // A log that cannot be written loses text, not the run.
        let mut writer = LogWriter::new(log, &self.performer.masker, Echo::None);
        let _ = writer.write_all(text.as_bytes());
    }

    fn log_tail(&mut self, log: &Path) -> String {
        process::log_tail(log, TAIL_LINES)
    }

    fn confirm(&mut self, prompt: &str) -> Answer {
        self.prompter.confirm(prompt)
    }

    fn after_failure(&mut self, failed_step: &str, offer_rollback: bool) -> Recovery {
        self.prompter.after_failure(failed_step, offer_rollback)
    }

    fn can_ask(&self) -> bool {
        self.prompter.can_ask()
    }

    fn sleep(&mut self, delay: Duration) -> bool {
        self.performer.sleep(delay)
    }

    fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    fn now(&self) -> Timestamp {
        Timestamp::now()
    }

    fn interrupted(&self) -> bool {
        self.performer.interrupt.requested()
    }

    fn notify(
        &mut self,
        notification: &Notification,
        event: &serde_json::Value,
    ) -> Result<(), String> {
        let timeout = notification.planned.timeout;
        match &notification.planned.target {
            NotifyTarget::Webhook { url, format } => {
                actions::notify::post(url, *format, event, timeout)
            }
            NotifyTarget::Run { .. } => {
                actions::notify::run(&notification.argv, &notification.dir, event, timeout)
            }
        }
    }
}

/// The programs an action runs, run like the step's own command.
struct StepPrograms<'a> {
    effects: &'a Performer,
    context: &'a WorkContext<'a>,
}

impl Programs for StepPrograms<'_> {
    fn run(&mut self, argv: &[&str], dir: &Path) -> Result<(), String> {
        let argv: Vec<String> = argv.iter().map(|arg| (*arg).to_string()).collect();
        let spec = CommandSpec {
            argv: &argv,
            shell_argv: None,
            dir,
            env: self.context.env,
            timeout: self.context.timeout,
        };
        let interrupt = self.effects.interrupt_for(self.context.sheltered);
        let echo = self.effects.echo_for(self.context);
        let outcome = process::run(
            &spec,
            self.context.log,
            &self.effects.masker,
            &echo,
            &interrupt,
        )
        .map_err(|error| format!("cannot run {}: {error}", argv[0]))?;
        if outcome.success() {
            return Ok(());
        }
        let program = argv.iter().take(2).cloned().collect::<Vec<_>>().join(" ");
        Err(match &outcome.exit {
            _ if outcome.timed_out => describe_failure(&outcome, self.context.timeout),
            Exit::SpawnFailed { message, .. } => message.clone(),
            _ => format!("{program} exited with {}", outcome.exit_code()),
        })
    }
}

/// A step's detail with what its log lacks added, so that the record, the terminal and the note
/// say that the log is not the whole output.
fn with_log_cut(detail: Option<String>, cut: Option<&LogCut>) -> Option<String> {
    match (detail, cut) {
        (detail, None) => detail,
        (None, Some(cut)) => Some(cut.describe()),
        (Some(detail), Some(cut)) => Some(format!("{detail}; {}", cut.describe())),
    }
}

/// Why a command failed, in one line.
fn describe_failure(outcome: &Outcome, timeout: Option<Duration>) -> String {
    if outcome.timed_out {
        let limit = timeout.map(duration::human).unwrap_or_default();
        return format!("timed out after {limit}; its process group was terminated");
    }
    match &outcome.exit {
        Exit::Code(code) => format!("exited with {code}"),
        Exit::Signal(signal) => format!("was killed by signal {signal}"),
        Exit::SpawnFailed { message, .. } => message.clone(),
    }
}
