//! Drives a plan: one step after another, with retries, timeouts, confirmations, the failure
//! policy, metrics, and the rollback of a rehearsal, telling observers about each state change as
//! it happens.
//!
//! The executor decides; it does not spawn or prompt by itself. Those effects go through the
//! `Runner` trait, whose real implementation spawns processes and asks on the terminal, and
//! whose scripted one lets the policy be unit-tested without either. The run's record is the
//! executor's working state: every change to it is emitted before the next thing happens, and a
//! resumed run starts again from the record that was kept.

use std::fs::OpenOptions;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::actions;
use crate::engine::event::{Event, Observer};
use crate::error::{Error, Result};
use crate::mask::Masker;
use crate::plan::{Action, Plan, PlannedStep};
use crate::runbook::Mode;
use crate::runbook::{OnFailure, RehearsalChoice};
use crate::store::record::{
    MetricRecord, Phase, RunRecord, RunStatus, StepRecord, StepStatus, TagRecord,
};
use crate::sys::interrupt::Interrupt;
use crate::sys::process::{self, CommandSpec, Echo, Exit, Outcome};
use crate::text::timestamp::Timestamp;

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
    /// Runs a command; with `forward_signals` false, Ctrl-C is not passed on to it (an undo in
    /// flight is finished, not cut short).
    fn command(
        &mut self,
        spec: &CommandSpec<'_>,
        log: &Path,
        forward_signals: bool,
    ) -> std::io::Result<Outcome>;
    fn confirm(&mut self, prompt: &str) -> Answer;
    /// After a failure with `on_failure = "ask"`: Yes is undo, No is stop.
    fn undo_or_stop(&mut self, failed_step: &str) -> Answer;
}

/// Spawns real processes and asks on the real terminal.
pub struct ProcessRunner {
    pub masker: Masker,
    pub echo: Echo,
    pub interrupt: Interrupt,
    pub interactive: bool,
}

impl Runner for ProcessRunner {
    fn command(
        &mut self,
        spec: &CommandSpec<'_>,
        log: &Path,
        forward_signals: bool,
    ) -> std::io::Result<Outcome> {
        let sheltered = Interrupt::default();
        let interrupt = if forward_signals {
            &self.interrupt
        } else {
            &sheltered
        };
        process::run(spec, log, &self.masker, self.echo, interrupt)
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

    fn undo_or_stop(&mut self, failed_step: &str) -> Answer {
        if !self.interactive {
            return Answer::NoTerminal;
        }
        match dialoguer::Select::new()
            .with_prompt(format!("Step `{failed_step}` failed. What now?"))
            .items([
                "Undo: run the undo of this step and of every completed one, newest first",
                "Stop: leave everything as it is",
            ])
            .default(1)
            .interact_opt()
        {
            Ok(Some(0)) => Answer::Yes,
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
    /// The failure policy for this run (`--on-failure`, else the runbook's).
    pub on_failure: OnFailure,
    /// Whether this continues a run that was recorded before (`shipbook resume`).
    pub resumed: bool,
}

pub struct Executor<'a> {
    plan: &'a Plan,
    /// The steps as planned, aligned with `run.steps`: the runbook's steps, then the rollback's
    /// (in a rehearsal), then any undo added after a failure.
    planned: Vec<PlannedStep>,
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
    tag: Option<TagRecord>,
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
        let mut planned = plan.steps.clone();
        if plan.mode == Mode::Rehearsal
            && let Some(rollback) = &plan.rollback
        {
            planned.extend(rollback.steps.iter().cloned());
        }
        // A resumed run carries the undo steps of its earlier attempts as history: they are
        // never run again, but `planned` must stay aligned with the record's steps.
        for history in run.steps.iter().skip(planned.len()) {
            planned.push(PlannedStep {
                id: history.id.clone(),
                name: history.name.clone(),
                skip: Some("from an earlier attempt".into()),
                ..plan.steps[0].clone()
            });
        }
        Executor {
            masker: Masker::new(&plan.secrets),
            plan,
            planned,
            run,
            observers,
            runner,
            options,
            interrupt,
        }
    }

    fn emit_step(&mut self, index: usize) -> Result<()> {
        let step = self.run.steps[index].clone();
        emit(&mut self.observers, Event::StepFinished { step: &step })
    }

    /// Runs the steps, then finishes the run with `finish`, which writes the change note and
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
        emit(
            &mut self.observers,
            Event::RunStarted {
                run: &self.run,
                resumed: self.options.resumed,
            },
        )?;

        let mut stop = None;
        let mut no_step_ran = false;
        if !self.options.resumed && self.plan.mode != Mode::Rollback {
            stop = self.sample_metrics(false)?;
            no_step_ran = stop.is_some();
        }
        if stop.is_none() {
            // `shipbook rollback` runs the rollback procedure as its own steps.
            let phase = if self.plan.mode == Mode::Rollback {
                Phase::Rollback
            } else {
                Phase::Steps
            };
            stop = self.run_phase(phase)?;
        }
        let mut undo_report = None;
        if matches!(stop, Some(Stop::Failed(_))) && !no_step_ran {
            undo_report = self.apply_failure_policy()?;
        }
        // After the steps, before a rehearsal's rollback undoes what they did.
        if stop.is_none() && self.plan.mode != Mode::Rollback {
            stop = self.sample_metrics(true)?;
            // A guard that fails the run is a failure like a step's: the policy applies.
            if matches!(stop, Some(Stop::Failed(_))) {
                undo_report = self.apply_failure_policy()?;
            }
        }
        // A signal during the undo lets the undo in flight finish, then stops the run as
        // interrupted.
        if undo_report.is_some() && self.interrupt.requested() {
            stop = Some(Stop::Interrupted);
        }
        if stop.is_none() && self.plan.mode == Mode::Rehearsal && self.plan.rollback.is_some() {
            stop = self.run_phase(Phase::Rollback)?;
        }

        let (status, reason) = match (&stop, &undo_report) {
            (None, _) => {
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
            (Some(Stop::Failed(reason)), Some(undo)) => {
                (RunStatus::Failed, Some(format!("{reason}; {undo}")))
            }
            (Some(Stop::Failed(reason)), None) => (RunStatus::Failed, Some(reason.clone())),
            (Some(Stop::Declined(step) | Stop::NeedsConfirmation(step)), _) => (
                RunStatus::Aborted,
                Some(format!("step `{step}` was not confirmed")),
            ),
            (Some(Stop::Interrupted), undo) => (
                RunStatus::Interrupted,
                Some(format!(
                    "interrupted by a signal{}",
                    undo.as_ref().map(|u| format!(" ({u})")).unwrap_or_default(),
                )),
            ),
        };
        self.run.status = status;
        self.run.status_reason = reason.map(|r| self.masker.text(&r));
        self.run.finished_at = Some(Timestamp::now());
        // A note that cannot be written must not lose the record of how the run ended.
        let note = finish(&self.run);
        if let Ok(path) = &note {
            self.run.note = Some(path.clone());
        }
        emit(&mut self.observers, Event::RunFinished { run: &self.run })?;
        note?;

        let run_id = self.run.run_id.clone();
        let way_back = self.way_back(no_step_ran, undo_report.is_some());
        match stop {
            None => Ok(self.run),
            Some(Stop::Failed(_)) => Err(Error::RunFailed {
                run_id,
                status: "failed".into(),
                reason: self.run.status_reason.clone().unwrap_or_default(),
                way_back,
            }),
            Some(Stop::Declined(step)) => Err(Error::Declined { run_id, step }),
            Some(Stop::NeedsConfirmation(step)) => Err(Error::NeedsConfirmation { run_id, step }),
            Some(Stop::Interrupted) => Err(Error::Interrupted {
                run_id,
                reason: self.run.status_reason.clone().unwrap_or_default(),
                way_back,
            }),
        }
    }

    /// After a failure: undo (newest first) when the policy says so. Returns what was undone.
    fn apply_failure_policy(&mut self) -> Result<Option<String>> {
        let Some(last_done) = self.run.steps.iter().rposition(|s| {
            s.phase == Phase::Steps
                && matches!(
                    s.status,
                    StepStatus::Failed | StepStatus::TimedOut | StepStatus::Succeeded
                )
        }) else {
            return Ok(None);
        };
        if !self.wants_undo(last_done) {
            return Ok(None);
        }
        self.undo(last_done).map(Some)
    }

    /// What the engineer can do next, for the message that ends a failed or interrupted run.
    fn way_back(&self, no_step_ran: bool, undone: bool) -> Vec<String> {
        let mut lines = Vec::new();
        let run_id = &self.run.run_id;
        if no_step_ran {
            lines.push("no step was run; safe to retry once the metric can be sampled".into());
            return lines;
        }
        lines.push(format!(
            "`shipbook show {run_id}` says what each step did{}",
            if undone { " and what was undone" } else { "" }
        ));
        if self.plan.mode != Mode::Rollback {
            lines.push(format!(
                "to carry on after a fix: `shipbook resume {run_id}` (steps that succeeded are not run again)"
            ));
        }
        if self.plan.rollback.is_some() {
            let env = self
                .plan
                .env
                .as_ref()
                .map(|e| format!(" --env {e}"))
                .unwrap_or_default();
            lines.push(format!(
                "to go back: `shipbook rollback {}{env}`",
                self.plan.runbook_path.display()
            ));
        }
        lines
    }

    /// Runs the steps of one phase in order. Steps already done (a resumed run) are left alone.
    fn run_phase(&mut self, phase: Phase) -> Result<Option<Stop>> {
        let mut first_unfinished = true;
        for index in 0..self.run.steps.len() {
            if self.run.steps[index].phase != phase {
                continue;
            }
            if self.interrupt.requested() {
                return Ok(Some(Stop::Interrupted));
            }
            if matches!(
                self.run.steps[index].status,
                StepStatus::Succeeded | StepStatus::Skipped
            ) {
                continue;
            }
            let planned = &self.planned[index];
            let skip = planned.skip.clone().or_else(|| {
                (self.plan.mode == Mode::Rehearsal
                    && phase == Phase::Steps
                    && planned.rehearsal == RehearsalChoice::Skip)
                    .then(|| "rehearsal = \"skip\"".to_string())
            });
            if let Some(reason) = skip {
                let step = &mut self.run.steps[index];
                step.status = StepStatus::Skipped;
                step.detail = Some(reason);
                self.emit_step(index)?;
                continue;
            }
            if self.options.resumed && first_unfinished && !planned.idempotent {
                let prompt = format!(
                    "Step `{}` is not idempotent and may have partly run before. Run it again?",
                    planned.id
                );
                let answer = if self.options.yes {
                    Answer::Yes
                } else {
                    self.runner.confirm(&prompt)
                };
                match answer {
                    Answer::Yes => {}
                    Answer::No => return Ok(Some(Stop::Declined(planned.id.clone()))),
                    Answer::NoTerminal => {
                        return Ok(Some(Stop::NeedsConfirmation(planned.id.clone())));
                    }
                }
            }
            first_unfinished = false;
            let stop = match &self.planned[index].action {
                Action::Confirm { prompt } => {
                    let prompt = prompt.clone();
                    self.confirm(index, &prompt)?
                }
                _ => self.repeated_step(index, true)?,
            };
            if stop.is_some() {
                return Ok(stop);
            }
        }
        Ok(None)
    }

    fn confirm(&mut self, index: usize, prompt: &str) -> Result<Option<Stop>> {
        {
            let step = &mut self.run.steps[index];
            step.status = StepStatus::Running;
            step.attempts += 1;
            step.started_at = Some(Timestamp::now());
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
            self.runner.confirm(prompt)
        };
        let id = self.planned[index].id.clone();
        let operator = self.options.operator.clone();
        let (status, detail, stop) = match answer {
            Answer::Yes if self.options.yes => (
                StepStatus::Succeeded,
                format!(
                    "answered yes by --yes, operator {operator}, at {}",
                    Timestamp::now()
                ),
                None,
            ),
            Answer::Yes => (
                StepStatus::Succeeded,
                format!("answered yes by {operator} at {}", Timestamp::now()),
                None,
            ),
            Answer::No => (
                StepStatus::Failed,
                format!("answered no by {operator} at {}", Timestamp::now()),
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
        self.emit_step(index)?;
        Ok(stop)
    }

    /// Runs a step that may be retried (every kind but `confirm`) until it passes or its attempts
    /// run out. `forward_signals` is false for undo steps, which are finished even on Ctrl-C.
    fn repeated_step(&mut self, index: usize, forward_signals: bool) -> Result<Option<Stop>> {
        let planned = self.planned[index].clone();
        let log = self.options.logs_dir.join(format!("{}.log", planned.id));
        let max_attempts = planned.retries + 1;
        let mut delay = planned.retry_delay;
        let clock = Instant::now();
        {
            let step = &mut self.run.steps[index];
            step.started_at = Some(Timestamp::now());
            step.log = Some(log.display().to_string());
        }

        let mut attempt = 1;
        let result = loop {
            {
                let step = &mut self.run.steps[index];
                step.status = StepStatus::Running;
                step.attempts += 1;
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
                self.append_log(
                    &log,
                    &format!("== shipbook: attempt {attempt} of {max_attempts} ==\n"),
                );
            }
            let result = self.attempt(&planned, &log, forward_signals)?;
            if result.tag.is_some() {
                self.run.steps[index].tag = result.tag.clone();
            }
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
            emit(
                &mut self.observers,
                Event::StepRetrying { step: &step, delay },
            )?;
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
        self.emit_step(index)?;

        Ok(match status {
            StepStatus::Succeeded => None,
            StepStatus::Interrupted => Some(Stop::Interrupted),
            _ if planned.continue_on_error => None,
            _ => Some(Stop::Failed(format!(
                "step `{}` {}",
                planned.id,
                self.run.steps[index].detail.as_deref().unwrap_or("failed")
            ))),
        })
    }

    /// The process environment of a step's (or metric's) commands.
    fn command_env(
        &self,
        id: &str,
        extra: &std::collections::BTreeMap<String, String>,
    ) -> std::collections::BTreeMap<String, String> {
        let mut env = extra.clone();
        env.insert("SHIPBOOK_RUN_ID".into(), self.run.run_id.clone());
        env.insert("SHIPBOOK_STEP".into(), id.to_string());
        env.insert(
            "SHIPBOOK_ENV".into(),
            self.plan.env.clone().unwrap_or_default(),
        );
        env.insert("SHIPBOOK_MODE".into(), self.plan.mode.as_str().into());
        env
    }

    /// One attempt of a step: a command, or one of the built-in actions.
    fn attempt(
        &mut self,
        planned: &PlannedStep,
        log: &Path,
        forward_signals: bool,
    ) -> Result<Attempt> {
        let mut output = Vec::new();
        let (verdict, tag) = match &planned.action {
            Action::Run { command } => {
                let env = self.command_env(&planned.id, &planned.env);
                let spec = CommandSpec {
                    argv: &command.argv,
                    dir: &planned.dir,
                    env: &env,
                    timeout: planned.timeout,
                };
                let outcome =
                    self.runner
                        .command(&spec, log, forward_signals)
                        .map_err(|source| {
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
                    tag: None,
                });
            }
            Action::Config {
                file,
                against,
                require,
                same,
                ignore,
            } => (
                actions::config::run(
                    &actions::config::ConfigCheck {
                        file,
                        against,
                        require,
                        same,
                        ignore,
                    },
                    &mut output,
                ),
                None,
            ),
            Action::Http {
                url,
                status,
                contains,
                timeout,
                interval,
            } => {
                let interrupt = self.interrupt.clone();
                (
                    actions::http::run(
                        &actions::http::HttpCheck {
                            url,
                            status: *status,
                            contains: contains.as_deref(),
                            timeout: *timeout,
                            interval: *interval,
                        },
                        &mut output,
                        &move || interrupt.requested(),
                    ),
                    None,
                )
            }
            Action::Tag {
                name,
                message,
                push,
                remote,
            } => actions::tag::run(
                &actions::tag::TagSpec {
                    name,
                    message,
                    push: *push,
                    remote,
                    dir: &planned.dir,
                    rehearsal: self.plan.mode == Mode::Rehearsal,
                },
                &mut output,
            ),
            Action::Untag { tag } => (actions::tag::undo(tag, &planned.dir, &mut output), None),
            Action::Confirm { .. } => unreachable!("confirm steps have their own path"),
        };
        self.append_log(log, &String::from_utf8_lossy(&output));
        Ok(Attempt {
            status: if verdict.passed {
                StepStatus::Succeeded
            } else if forward_signals && self.interrupt.requested() {
                StepStatus::Interrupted
            } else {
                StepStatus::Failed
            },
            exit_code: None,
            detail: Some(self.masker.text(&verdict.summary)),
            tag,
        })
    }

    /// Appends text to a step's log, secrets masked. A log that cannot be written loses text,
    /// not the run.
    fn append_log(&self, log: &Path, text: &str) {
        if text.is_empty() {
            return;
        }
        let _ = OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .and_then(|mut file| file.write_all(self.masker.text(text).as_bytes()));
    }

    /// Whether the failure policy says to undo, after a failure at step `failed`.
    fn wants_undo(&mut self, failed: usize) -> bool {
        match self.options.on_failure {
            OnFailure::Undo => true,
            OnFailure::Stop => false,
            OnFailure::Ask => {
                let id = self.run.steps[failed].id.clone();
                self.runner.undo_or_stop(&id) == Answer::Yes
            }
        }
    }

    /// Runs the undo of the failed step and of every completed step that has one, newest first.
    /// Each undo is a step of its own in the record; an undo that fails stops the undoing.
    /// Returns a sentence saying what was and was not undone.
    fn undo(&mut self, failed: usize) -> Result<String> {
        let mut candidates: Vec<(usize, PlannedStep)> = Vec::new();
        for index in (0..=failed).rev() {
            let record = &self.run.steps[index];
            if record.phase != Phase::Steps {
                continue;
            }
            let done = matches!(
                record.status,
                StepStatus::Succeeded | StepStatus::Failed | StepStatus::TimedOut
            );
            if !done {
                continue;
            }
            let planned = &self.planned[index];
            let action = match (&planned.undo, &record.tag) {
                (Some(command), _) => Action::Run {
                    command: command.clone(),
                },
                (None, Some(tag)) if tag.created => Action::Untag { tag: tag.clone() },
                _ => continue,
            };
            candidates.push((
                index,
                PlannedStep {
                    id: format!("undo-{}", planned.id),
                    name: format!("Undo {}", planned.name),
                    description: None,
                    action,
                    retries: 0,
                    skip: None,
                    continue_on_error: false,
                    undo: None,
                    ..planned.clone()
                },
            ));
        }

        let mut undone = Vec::new();
        let mut not_undone: Vec<String> = candidates
            .iter()
            .map(|(i, _)| self.run.steps[*i].id.clone())
            .collect();
        for (original, undo_step) in candidates {
            let position = self.run.steps.len();
            let record = step_record(position, &undo_step, Phase::Undo, &self.masker);
            self.run.steps.push(record);
            self.planned.push(undo_step);
            let step = self.run.steps[position].clone();
            emit(&mut self.observers, Event::StepAdded { step: &step })?;
            let stop = self.repeated_step(position, false)?;
            let original_id = self.run.steps[original].id.clone();
            if stop.is_some() || self.run.steps[position].status != StepStatus::Succeeded {
                let rollback = self
                    .plan
                    .rollback
                    .as_ref()
                    .map(|r| {
                        format!(
                            "; roll back by hand with: {}",
                            r.commands().replace('\n', "; ")
                        )
                    })
                    .unwrap_or_default();
                return Ok(format!(
                    "the undo of `{original_id}` failed, so undoing stopped; undone: {}; not undone: {}{rollback}",
                    list_or_none(&undone),
                    list_or_none(&not_undone)
                ));
            }
            self.run.steps[original].status = StepStatus::Undone;
            self.emit_step(original)?;
            not_undone.retain(|id| id != &original_id);
            undone.push(original_id);
            if self.interrupt.requested() {
                return Ok(format!(
                    "undoing stopped by a signal after the undo in flight; undone: {}; not undone: {}",
                    list_or_none(&undone),
                    list_or_none(&not_undone)
                ));
            }
        }
        Ok(format!("undone: {}", list_or_none(&undone)))
    }

    /// Samples every metric, before the first step or after the last. Returns a stop when a
    /// guarded metric cannot be sampled, or (after) when a guard is exceeded.
    fn sample_metrics(&mut self, after: bool) -> Result<Option<Stop>> {
        let metrics = self.plan.metrics.clone();
        if metrics.is_empty() {
            return Ok(None);
        }
        let phase = if after { "after" } else { "before" };
        let mut stop = None;
        for (index, metric) in metrics.iter().enumerate() {
            let log = self
                .options
                .logs_dir
                .join(format!("metric-{}-{phase}.log", metric.name));
            let env = self.command_env(&format!("metric-{}", metric.name), &self.plan.process_env);
            let spec = CommandSpec {
                argv: &metric.command.argv,
                dir: &metric.dir,
                env: &env,
                timeout: metric.timeout,
            };
            let sample =
                process::sample(&spec, &log, &self.masker, &self.interrupt).map_err(|source| {
                    Error::io(format!("cannot sample metric `{}`", metric.name), source)
                })?;
            let record = &mut self.run.metrics[index];
            match sample {
                Ok(value) => {
                    if after {
                        record.after = Some(value);
                    } else {
                        record.before = Some(value);
                    }
                }
                Err(problem) => {
                    let problem = format!("{phase}: {}", self.masker.text(&problem));
                    record.problem = Some(match record.problem.take() {
                        Some(earlier) => format!("{earlier}; {problem}"),
                        None => problem,
                    });
                    if record.max_regression.is_some() && stop.is_none() {
                        stop = Some(Stop::Failed(format!(
                            "metric `{}` has a guard but could not be sampled {phase} the steps",
                            metric.name
                        )));
                    }
                }
            }
            if self.interrupt.requested() {
                return Ok(Some(Stop::Interrupted));
            }
        }
        if after && stop.is_none() {
            let exceeded: Vec<String> = self
                .run
                .metrics
                .iter()
                .filter(|m| m.guard_exceeded())
                .map(|m| {
                    format!(
                        "`{}` regressed {:.1}% (more than the {}% allowed)",
                        m.name,
                        m.regression_percent().unwrap_or_default(),
                        m.max_regression.unwrap_or_default()
                    )
                })
                .collect();
            if !exceeded.is_empty() {
                stop = Some(Stop::Failed(format!(
                    "metric guard exceeded: {}",
                    exceeded.join("; ")
                )));
            }
        }
        let run = self.run.clone();
        emit(
            &mut self.observers,
            Event::MetricsSampled { run: &run, after },
        )?;
        Ok(stop)
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

fn list_or_none(ids: &[String]) -> String {
    if ids.is_empty() {
        "none".into()
    } else {
        ids.iter()
            .map(|id| format!("`{id}`"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn describe_failure(outcome: &Outcome, planned: &PlannedStep) -> String {
    if outcome.timed_out {
        let limit = planned
            .timeout
            .map(crate::text::duration::human)
            .unwrap_or_default();
        return format!("timed out after {limit}; its process group was terminated");
    }
    match &outcome.exit {
        Exit::Code(code) => format!("exited with {code}"),
        Exit::Signal(signal) => format!("was killed by signal {signal}"),
        Exit::SpawnFailed { message, .. } => message.clone(),
    }
}

/// The record of a step about to be planned into a run.
fn step_record(position: usize, step: &PlannedStep, phase: Phase, masker: &Masker) -> StepRecord {
    StepRecord {
        position: position as u32,
        id: step.id.clone(),
        name: step.name.clone(),
        kind: step.action.kind(),
        command: masker.text(&step.action.describe()),
        status: StepStatus::Pending,
        attempts: 0,
        exit_code: None,
        started_at: None,
        duration_ms: None,
        log: None,
        log_tail: None,
        detail: None,
        phase,
        tag: None,
    }
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
    let first_phase = if plan.mode == Mode::Rollback {
        Phase::Rollback
    } else {
        Phase::Steps
    };
    let mut steps: Vec<StepRecord> = plan
        .steps
        .iter()
        .enumerate()
        .map(|(position, step)| step_record(position, step, first_phase, &masker))
        .collect();
    if plan.mode == Mode::Rehearsal
        && let Some(rollback) = &plan.rollback
    {
        let offset = steps.len();
        steps.extend(
            rollback
                .steps
                .iter()
                .enumerate()
                .map(|(i, step)| step_record(offset + i, step, Phase::Rollback, &masker)),
        );
    }
    RunRecord {
        run_id: run_id.to_string(),
        runbook: plan.runbook.clone(),
        // Absolute, so that `resume` finds the runbook from wherever it is run.
        runbook_path: std::path::absolute(&plan.runbook_path)
            .unwrap_or_else(|_| plan.runbook_path.clone())
            .display()
            .to_string(),
        content_hash: plan.content_hash.clone(),
        mode: plan.mode,
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
        started_at: Timestamp::now(),
        finished_at: None,
        status: RunStatus::Running,
        status_reason: None,
        note: None,
        metrics: plan
            .metrics
            .iter()
            .map(|metric| MetricRecord {
                name: metric.name.clone(),
                better: metric.better,
                before: None,
                after: None,
                problem: None,
                max_regression: metric.max_regression,
            })
            .collect(),
        rehearsal: None,
        skip_rehearsal: None,
        resumed: Vec::new(),
        invocation: Default::default(),
        steps,
    }
}
