//! Drives a plan: one step after another, with retries, timeouts, confirmations and the failure
//! policy, telling observers about each state change as it happens.
//!
//! The executor decides; it does not spawn or prompt by itself. Those two effects go through the
//! `Runner` trait, whose real implementation spawns processes and asks on the terminal, and
//! whose scripted one lets the policy be unit-tested without either.

use std::fs::OpenOptions;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::{SecondsFormat, Utc};

use crate::actions;
use crate::error::{Error, Result};
use crate::event::{Event, Observer};
use crate::interrupt::Interrupt;
use crate::mask::Masker;
use crate::plan::{Action, Plan, PlannedStep};
use crate::process::{self, CommandSpec, Echo, Exit, Outcome};
use crate::record::{RunRecord, RunStatus, StepRecord, StepStatus};

/// How many lines of a failed step's log are kept in the record and shown.
pub const TAIL_LINES: usize = 30;

/// The answer to a confirmation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Yes,
    No,
    /// There is no terminal to ask on.
    NoTerminal,
}

/// The effects the executor needs: running a command and asking a person.
pub trait Runner {
    fn command(&mut self, spec: &CommandSpec<'_>, log: &Path) -> std::io::Result<Outcome>;
    fn confirm(&mut self, prompt: &str) -> Answer;
}

/// Spawns real processes and asks on the real terminal.
pub struct ProcessRunner {
    pub masker: Masker,
    pub echo: Echo,
    pub interrupt: Interrupt,
    pub interactive: bool,
}

impl Runner for ProcessRunner {
    fn command(&mut self, spec: &CommandSpec<'_>, log: &Path) -> std::io::Result<Outcome> {
        let file = OpenOptions::new().create(true).append(true).open(log)?;
        process::run(spec, file, &self.masker, self.echo, &self.interrupt)
    }

    fn confirm(&mut self, prompt: &str) -> Answer {
        if !self.interactive {
            return Answer::NoTerminal;
        }
        match dialoguer::Confirm::new()
            .with_prompt(prompt)
            .default(false)
            .interact_opt()
        {
            Ok(Some(true)) => Answer::Yes,
            Ok(_) => Answer::No,
            Err(_) => Answer::NoTerminal,
        }
    }
}

pub struct Options {
    /// `--yes`: every confirmation is answered yes.
    pub yes: bool,
    pub logs_dir: PathBuf,
    pub operator: String,
}

pub struct Executor<'a> {
    plan: &'a Plan,
    run: RunRecord,
    observers: Vec<&'a mut dyn Observer>,
    runner: &'a mut dyn Runner,
    options: Options,
    masker: Masker,
    interrupt: Interrupt,
}

fn emit(observers: &mut [&mut dyn Observer], event: Event<'_>) -> Result<()> {
    for observer in observers {
        observer.on_event(&event)?;
    }
    Ok(())
}

/// How one attempt of a step ended.
struct Attempt {
    status: StepStatus,
    exit_code: Option<i32>,
    detail: Option<String>,
}

/// What ended a run early.
enum Stop {
    Failed(String),
    Declined(String),
    NeedsConfirmation(String),
    Interrupted,
}

impl<'a> Executor<'a> {
    pub fn new(
        plan: &'a Plan,
        run: RunRecord,
        observers: Vec<&'a mut dyn Observer>,
        runner: &'a mut dyn Runner,
        options: Options,
        interrupt: Interrupt,
    ) -> Executor<'a> {
        Executor {
            masker: Masker::new(&plan.secrets),
            plan,
            run,
            observers,
            runner,
            options,
            interrupt,
        }
    }

    /// Runs every step, then finishes the run with `finish`, which writes the change note and
    /// returns its path. Returns the finished record, or the error that says how it ended.
    pub fn execute(
        mut self,
        finish: impl FnOnce(&RunRecord) -> Result<String>,
    ) -> Result<RunRecord> {
        std::fs::create_dir_all(&self.options.logs_dir).map_err(|source| {
            Error::io(
                format!(
                    "cannot create the log directory {}",
                    self.options.logs_dir.display()
                ),
                source,
            )
        })?;
        emit(&mut self.observers, Event::RunStarted { run: &self.run })?;

        let mut stop = None;
        for index in 0..self.plan.steps.len() {
            if self.interrupt.requested() {
                stop = Some(Stop::Interrupted);
                break;
            }
            let planned = &self.plan.steps[index];
            if let Some(reason) = planned.skip.clone() {
                let step = &mut self.run.steps[index];
                step.status = StepStatus::Skipped;
                step.detail = Some(reason);
                let step = step.clone();
                emit(&mut self.observers, Event::StepFinished { step: &step })?;
                continue;
            }
            if let Some(reason) = self.step(index)? {
                stop = Some(reason);
                break;
            }
        }

        let (status, reason) = match &stop {
            None => {
                let failed: Vec<&str> = self
                    .run
                    .steps
                    .iter()
                    .filter(|s| !s.status.is_success())
                    .map(|s| s.id.as_str())
                    .collect();
                let reason = (!failed.is_empty()).then(|| {
                    format!(
                        "failed but allowed to (continue_on_error): {}",
                        failed.join(", ")
                    )
                });
                (RunStatus::Succeeded, reason)
            }
            Some(Stop::Failed(reason)) => (RunStatus::Failed, Some(reason.clone())),
            Some(Stop::Declined(reason) | Stop::NeedsConfirmation(reason)) => {
                (RunStatus::Aborted, Some(reason.clone()))
            }
            Some(Stop::Interrupted) => (
                RunStatus::Interrupted,
                Some("interrupted by a signal (Ctrl-C or SIGTERM)".into()),
            ),
        };
        self.run.status = status;
        self.run.status_reason = reason.map(|r| self.masker.text(&r));
        self.run.finished_at = Some(now());
        // A note that cannot be written must not lose the record of how the run ended.
        let note = finish(&self.run);
        if let Ok(path) = &note {
            self.run.note = Some(path.clone());
        }
        emit(&mut self.observers, Event::RunFinished { run: &self.run })?;
        note?;

        let run_id = self.run.run_id.clone();
        match stop {
            None => Ok(self.run),
            Some(Stop::Failed(reason)) => Err(Error::RunFailed {
                run_id,
                status: "failed".into(),
                reason: self.masker.text(&reason),
            }),
            Some(Stop::Declined(step)) => Err(Error::Declined { run_id, step }),
            Some(Stop::NeedsConfirmation(step)) => Err(Error::NeedsConfirmation { run_id, step }),
            Some(Stop::Interrupted) => Err(Error::Interrupted { run_id }),
        }
    }

    /// Runs step `index` to its end. Returns why the run must stop, if it must.
    fn step(&mut self, index: usize) -> Result<Option<Stop>> {
        let planned = &self.plan.steps[index];
        match &planned.action {
            Action::Confirm { prompt } => self.confirm(index, prompt.clone()),
            Action::Tag { .. } => Err(Error::Precondition {
                message: format!(
                    "step `{}` uses the `tag` action, which this shipbook cannot run yet",
                    planned.id,
                ),
                expected: "run, confirm, config and http steps".into(),
            }),
            _ => self.repeated_step(index),
        }
    }

    fn confirm(&mut self, index: usize, prompt: String) -> Result<Option<Stop>> {
        let started = now();
        {
            let step = &mut self.run.steps[index];
            step.status = StepStatus::Running;
            step.attempts = 1;
            step.started_at = Some(started.clone());
        }
        let step = self.run.steps[index].clone();
        emit(
            &mut self.observers,
            Event::StepStarted {
                step: &step,
                max_attempts: 1,
            },
        )?;
        let clock = Instant::now();
        let answer = if self.options.yes {
            Answer::Yes
        } else {
            self.runner.confirm(&prompt)
        };
        let id = self.plan.steps[index].id.clone();
        let operator = self.options.operator.clone();
        let (status, detail, stop) = match answer {
            Answer::Yes if self.options.yes => (
                StepStatus::Succeeded,
                format!("answered yes by --yes, operator {operator}, at {}", now()),
                None,
            ),
            Answer::Yes => (
                StepStatus::Succeeded,
                format!("answered yes by {operator} at {}", now()),
                None,
            ),
            Answer::No => (
                StepStatus::Failed,
                format!("answered no by {operator} at {}", now()),
                Some(Stop::Declined(id)),
            ),
            Answer::NoTerminal => (
                StepStatus::Failed,
                "not answered: no terminal to ask on and no --yes".to_string(),
                Some(Stop::NeedsConfirmation(id)),
            ),
        };
        let step = &mut self.run.steps[index];
        step.status = status;
        step.duration_ms = Some(clock.elapsed().as_millis() as u64);
        step.detail = Some(detail);
        let step = step.clone();
        emit(&mut self.observers, Event::StepFinished { step: &step })?;
        Ok(stop)
    }

    /// Runs a step that may be retried (every kind but `confirm`) until it passes or its attempts
    /// run out.
    fn repeated_step(&mut self, index: usize) -> Result<Option<Stop>> {
        let planned: &PlannedStep = &self.plan.steps[index];
        let log = self.options.logs_dir.join(format!("{}.log", planned.id));
        let max_attempts = planned.retries + 1;
        let mut delay = planned.retry_delay;
        let clock = Instant::now();
        {
            let step = &mut self.run.steps[index];
            step.started_at = Some(now());
            step.log = Some(log.display().to_string());
        }

        let mut attempt = 1;
        let result = loop {
            {
                let step = &mut self.run.steps[index];
                step.status = StepStatus::Running;
                step.attempts = attempt;
            }
            let step = self.run.steps[index].clone();
            emit(
                &mut self.observers,
                Event::StepStarted {
                    step: &step,
                    max_attempts,
                },
            )?;
            if max_attempts > 1 {
                self.append_log(&log, &format!("== shipbook: attempt {attempt} of {max_attempts} ==\n"));
            }
            let result = self.attempt(planned, &log)?;
            if result.status == StepStatus::Succeeded
                || result.status == StepStatus::Interrupted
                || attempt >= max_attempts
            {
                break result;
            }
            let step = &mut self.run.steps[index];
            step.exit_code = result.exit_code;
            step.detail = result.detail.clone();
            let step = step.clone();
            emit(&mut self.observers, Event::StepRetrying { step: &step, delay })?;
            if self.sleep(delay) {
                break Attempt {
                    status: StepStatus::Interrupted,
                    ..result
                };
            }
            delay = delay.saturating_mul(2);
            attempt += 1;
        };

        let status = result.status;
        let step = &mut self.run.steps[index];
        step.status = status;
        step.exit_code = result.exit_code;
        step.duration_ms = Some(clock.elapsed().as_millis() as u64);
        step.detail = match status {
            StepStatus::Succeeded if attempt > 1 => Some(match result.detail {
                Some(detail) => format!("{detail}; passed on attempt {attempt} of {max_attempts}"),
                None => format!("passed on attempt {attempt} of {max_attempts}"),
            }),
            StepStatus::Interrupted => Some("interrupted by a signal".into()),
            _ => result.detail,
        };
        if !status.is_success() {
            step.log_tail = Some(process::log_tail(&log, TAIL_LINES));
        }
        let step = step.clone();
        emit(&mut self.observers, Event::StepFinished { step: &step })?;

        Ok(match status {
            StepStatus::Succeeded => None,
            StepStatus::Interrupted => Some(Stop::Interrupted),
            _ if planned.continue_on_error => None,
            _ => Some(Stop::Failed(format!(
                "step `{}` {}",
                planned.id,
                step.detail.as_deref().unwrap_or("failed")
            ))),
        })
    }

    /// One attempt of a step: a command, or one of the built-in actions.
    fn attempt(&mut self, planned: &PlannedStep, log: &Path) -> Result<Attempt> {
        let verdict = match &planned.action {
            Action::Run { command } => {
                let mut env = planned.env.clone();
                env.insert("SHIPBOOK_RUN_ID".into(), self.run.run_id.clone());
                env.insert("SHIPBOOK_STEP".into(), planned.id.clone());
                env.insert(
                    "SHIPBOOK_ENV".into(),
                    self.plan.env.clone().unwrap_or_default(),
                );
                env.insert("SHIPBOOK_MODE".into(), self.plan.mode.as_str().into());
                let spec = CommandSpec {
                    argv: &command.argv,
                    dir: &planned.dir,
                    env: &env,
                    timeout: planned.timeout,
                };
                let outcome = self.runner.command(&spec, log).map_err(|source| {
                    Error::io(format!("cannot run step `{}`", planned.id), source)
                })?;
                let status = if outcome.interrupted {
                    StepStatus::Interrupted
                } else if outcome.success() {
                    StepStatus::Succeeded
                } else if outcome.timed_out {
                    StepStatus::TimedOut
                } else {
                    StepStatus::Failed
                };
                return Ok(Attempt {
                    status,
                    exit_code: Some(outcome.exit_code()),
                    detail: (status != StepStatus::Succeeded)
                        .then(|| describe_failure(&outcome, planned)),
                });
            }
            Action::Config {
                file,
                against,
                require,
                same,
                ignore,
            } => {
                let mut output = Vec::new();
                let verdict = actions::config::run(
                    &actions::config::ConfigCheck {
                        file,
                        against,
                        require,
                        same,
                        ignore,
                    },
                    &mut output,
                );
                self.append_log(log, &String::from_utf8_lossy(&output));
                verdict
            }
            Action::Http {
                url,
                status,
                contains,
                timeout,
                interval,
            } => {
                let mut output = Vec::new();
                let interrupt = self.interrupt.clone();
                let verdict = actions::http::run(
                    &actions::http::HttpCheck {
                        url,
                        status: *status,
                        contains: contains.as_deref(),
                        timeout: *timeout,
                        interval: *interval,
                    },
                    &mut output,
                    &move || interrupt.requested(),
                );
                self.append_log(log, &String::from_utf8_lossy(&output));
                verdict
            }
            Action::Tag { .. } | Action::Confirm { .. } => {
                unreachable!("tag and confirm steps have their own path")
            }
        };
        Ok(Attempt {
            status: if self.interrupt.requested() {
                StepStatus::Interrupted
            } else if verdict.passed {
                StepStatus::Succeeded
            } else {
                StepStatus::Failed
            },
            exit_code: None,
            detail: Some(self.masker.text(&verdict.summary)),
        })
    }

    /// Appends text to a step's log, secrets masked. A log that cannot be written loses text,
    /// not the run.
    fn append_log(&self, log: &Path, text: &str) {
        let _ = OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .and_then(|mut file| file.write_all(self.masker.text(text).as_bytes()));
    }

    /// Sleeps between attempts; returns true when interrupted meanwhile.
    fn sleep(&self, delay: Duration) -> bool {
        let until = Instant::now() + delay;
        while Instant::now() < until {
            if self.interrupt.requested() {
                return true;
            }
            std::thread::sleep((until - Instant::now()).min(Duration::from_millis(50)));
        }
        self.interrupt.requested()
    }
}

fn describe_failure(outcome: &Outcome, planned: &PlannedStep) -> String {
    if outcome.timed_out {
        let limit = planned
            .timeout
            .map(crate::duration::human)
            .unwrap_or_default();
        return format!("timed out after {limit}; its process group was terminated");
    }
    match &outcome.exit {
        Exit::Code(code) => format!("exited with {code}"),
        Exit::Signal(signal) => format!("was killed by signal {signal}"),
        Exit::SpawnFailed { message, .. } => message.clone(),
    }
}

/// The current time as recorded: RFC 3339, UTC, milliseconds.
pub fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The record of a run about to start, every step pending.
pub fn new_record(
    plan: &Plan,
    run_id: &str,
    operator: &str,
    files_touched: Vec<String>,
) -> RunRecord {
    let masker = Masker::new(&plan.secrets);
    let owner = crate::store::Owner::this_process();
    RunRecord {
        run_id: run_id.to_string(),
        runbook: plan.runbook.clone(),
        runbook_path: plan.runbook_path.display().to_string(),
        content_hash: plan.content_hash.clone(),
        mode: plan.mode.as_str().to_string(),
        env: plan.env.clone(),
        operator: operator.to_string(),
        host: owner.host,
        pid: owner.pid,
        reason: plan.reason.as_deref().map(|r| masker.text(r)),
        owner: plan.owner.clone(),
        expected: plan.expected.clone(),
        description: plan.description.clone(),
        git_sha: plan.git.sha.clone(),
        git_branch: plan.git.branch.clone(),
        git_dirty: plan.git.dirty,
        previous_tag: plan.git.previous_tag.clone(),
        files_touched,
        rollback_note: plan.rollback.as_ref().and_then(|r| r.note.clone()),
        rollback_command: plan.rollback.as_ref().map(|r| masker.text(&r.commands())),
        started_at: now(),
        finished_at: None,
        status: RunStatus::Running,
        status_reason: None,
        note: None,
        steps: plan
            .steps
            .iter()
            .enumerate()
            .map(|(position, step)| StepRecord {
                position: position as u32,
                id: step.id.clone(),
                name: step.name.clone(),
                kind: step.action.kind().to_string(),
                command: masker.text(&step.action.describe()),
                status: StepStatus::Pending,
                attempts: 0,
                exit_code: None,
                started_at: None,
                duration_ms: None,
                log: None,
                log_tail: None,
                detail: None,
            })
            .collect(),
    }
}
