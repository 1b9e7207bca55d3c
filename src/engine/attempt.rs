//! One step: its confirmation, or its attempts with retries and doubling delays, each state
//! change emitted before the next one happens.

use std::collections::BTreeMap;

use super::effects::{Answer, WorkContext, WorkOutcome};
use super::event::Event;
use super::executor::{Executor, Stop};
use crate::actions::notify::spec::NotifyOn;
use crate::error::{Error, Result};
use crate::plan::{Confirmation, Work};
use crate::runbook::Mode;
use crate::store::record::StepStatus;

/// What a resumed run asks before it runs again a step that is not idempotent.
pub(super) fn rerun_question(id: &str) -> String {
    format!("Step `{id}` is not idempotent and may have partly run before. Run it again?")
}

impl Executor<'_> {
    /// Before a resumed run runs again a step that is not idempotent and may have partly run,
    /// asks (or takes `--yes`). Returns the stop when the answer is not yes.
    pub(super) fn confirm_rerun(&mut self, index: usize) -> Option<Stop> {
        let id = self.planned[index].id.clone();
        let prompt = rerun_question(&id);
        let answer = if self.options.yes {
            Answer::Yes
        } else {
            self.effects.confirm(&prompt)
        };
        match answer {
            Answer::Yes => None,
            Answer::No => Some(Stop::Declined(id)),
            Answer::NoTerminal => Some(Stop::NeedsConfirmation(id)),
            Answer::Interrupted => Some(Stop::Interrupted),
        }
    }

    /// A `confirm` step: asked once, never retried; `--yes` answers it. A step that lists its
    /// approvers is answered in the name of one of them, or refused before it is asked.
    pub(super) fn confirm(
        &mut self,
        index: usize,
        confirmation: &Confirmation,
    ) -> Result<Option<Stop>> {
        let prompt = confirmation.prompt.as_str();
        let started = self.effects.elapsed();
        self.run.steps[index].started_at = Some(self.effects.now());
        self.announce_attempt(index, 1, None)?;
        let approver = match self.approver(&confirmation.approvers) {
            Ok(approver) => approver,
            Err(who) => {
                let step = &mut self.run.steps[index];
                step.status = StepStatus::Failed;
                step.detail = Some(format!(
                    "not approved: {who} is not one of its approvers ({}); --approver NAME says who approves",
                    confirmation.approvers.join(", ")
                ));
                self.emit_step(index)?;
                return Ok(Some(Stop::Declined(self.planned[index].id.clone())));
            }
        };
        let answer = if self.options.yes {
            Answer::Yes
        } else {
            if self.effects.can_ask() {
                self.notify(NotifyOn::Waiting, Some(index));
            }
            self.effects.confirm(prompt)
        };
        let id = self.planned[index].id.clone();
        let operator = &self.options.operator;
        let now = self.effects.now();
        let (status, detail, stop) = match answer {
            Answer::Yes if self.options.yes => (
                StepStatus::Succeeded,
                format!("answered yes by --yes, operator {operator}, at {now}"),
                None,
            ),
            Answer::Yes => (
                StepStatus::Succeeded,
                format!("answered yes by {operator} at {now}"),
                None,
            ),
            Answer::No => (
                StepStatus::Failed,
                format!("answered no by {operator} at {now}"),
                Some(Stop::Declined(id)),
            ),
            Answer::NoTerminal => (
                StepStatus::Failed,
                "not answered: no terminal to ask on and no --yes".to_string(),
                Some(Stop::NeedsConfirmation(id)),
            ),
            Answer::Interrupted => (
                StepStatus::Interrupted,
                format!("interrupted at the question by {operator} at {now}"),
                Some(Stop::Interrupted),
            ),
        };
        let duration = self.effects.elapsed().saturating_sub(started);
        let step = &mut self.run.steps[index];
        step.status = status;
        step.duration_ms = Some(duration.as_millis() as u64);
        step.detail = Some(match &approver {
            Some(who) if status == StepStatus::Succeeded => format!("approved by {who}; {detail}"),
            _ => detail,
        });
        if status == StepStatus::Succeeded {
            step.approved_by = approver;
        }
        self.emit_step(index)?;
        Ok(stop)
    }

    /// Who approves a step that lists `approvers`: `--approver`, else the operator's user
    /// name; `None` for a step that lists nobody. Err names who is not on the list.
    fn approver(&self, approvers: &[String]) -> std::result::Result<Option<String>, String> {
        if approvers.is_empty() {
            return Ok(None);
        }
        let who = self.options.approver.clone().unwrap_or_else(|| {
            let operator = &self.options.operator;
            operator.split('@').next().unwrap_or(operator).to_string()
        });
        if approvers.contains(&who) {
            Ok(Some(who))
        } else {
            Err(who)
        }
    }

    /// Runs a step's work until it passes or its attempts run out. `sheltered` is true for undo
    /// steps, which are finished even on Ctrl-C.
    pub(super) fn repeated_step(
        &mut self,
        index: usize,
        work: &Work,
        sheltered: bool,
    ) -> Result<Option<Stop>> {
        let planned = self.planned[index].clone();
        // A resumed step's attempts count on from the earlier run's: "attempt 3 of 4", never
        // "attempt 3 of 2"; this run still gets its first attempt and every retry.
        let earlier = self.run.steps[index].attempts;
        let max_attempts = earlier + planned.retries + 1;
        let started = self.effects.elapsed();
        let (log, env) = self.begin_step(index, &planned);
        let context = self.work_context(&planned, &env, &log, sheltered);

        let (outcome, attempt) = self.attempt_until_done(
            index,
            work,
            &context,
            earlier + 1..=max_attempts,
            planned.retry_delay,
        )?;
        let duration = self.effects.elapsed().saturating_sub(started);
        self.record_outcome(
            index,
            outcome,
            attempt,
            max_attempts,
            duration.as_millis() as u64,
        );
        self.finish_step(index)?;
        Ok(self.stop_after(index))
    }

    /// What a step's end means for the run: nothing, an interruption, or a failure (unless the
    /// step may fail, `continue_on_error`).
    pub(super) fn stop_after(&self, index: usize) -> Option<Stop> {
        let step = &self.run.steps[index];
        match step.status {
            StepStatus::Succeeded => None,
            StepStatus::Interrupted => Some(Stop::Interrupted),
            _ if self.planned[index].continue_on_error => None,
            _ => Some(Stop::Failed(format!(
                "step `{}` {}",
                step.id,
                step.detail.as_deref().unwrap_or("failed")
            ))),
        }
    }

    /// Attempts a step's work until it passes, is interrupted, or has had the attempts numbered
    /// `attempts`, waiting `delay` (doubled each time) between attempts. Returns the last outcome
    /// and its attempt number.
    fn attempt_until_done(
        &mut self,
        index: usize,
        work: &Work,
        context: &WorkContext<'_>,
        attempts: std::ops::RangeInclusive<u32>,
        mut delay: std::time::Duration,
    ) -> Result<(WorkOutcome, u32)> {
        let (mut attempt, max_attempts) = attempts.into_inner();
        let mut previous = None;
        let outcome = loop {
            self.announce_attempt(index, max_attempts, previous)?;
            if max_attempts > 1 {
                self.effects.append_log(
                    context.log,
                    &format!("== shipbook: attempt {attempt} of {max_attempts} ==\n"),
                );
            }
            let outcome = self.effects.perform(work, context).map_err(|source| {
                Error::io(format!("cannot run step `{}`", context.step_id), source)
            })?;
            if outcome.tag.is_some() {
                self.run.steps[index].tag = outcome.tag.clone();
            }
            if matches!(
                outcome.status,
                StepStatus::Succeeded | StepStatus::Interrupted
            ) || attempt >= max_attempts
            {
                break outcome;
            }
            let step = &mut self.run.steps[index];
            step.exit_code = outcome.exit_code;
            step.detail = outcome.detail.as_deref().map(|d| self.masker.text(d));
            let step = step.clone();
            if let Err(error) = self
                .observers
                .emit(Event::StepRetrying { step: &step, delay })
            {
                // No other attempt is made: this one's end is how the step stands.
                self.run.steps[index].status = outcome.status;
                return Err(error);
            }
            previous = Some(outcome.status);
            if self.effects.sleep(delay) {
                break WorkOutcome {
                    status: StepStatus::Interrupted,
                    ..outcome
                };
            }
            delay = delay.saturating_mul(2);
            attempt += 1;
        };
        Ok((outcome, attempt))
    }

    /// Where a step's work writes its log and the environment it runs with; the step's start
    /// and log are noted in its record.
    pub(super) fn begin_step(
        &mut self,
        index: usize,
        planned: &crate::plan::PlannedStep,
    ) -> (std::path::PathBuf, BTreeMap<String, String>) {
        let log = self.options.logs_dir.join(format!("{}.log", planned.id));
        let step = &mut self.run.steps[index];
        step.started_at = Some(self.effects.now());
        step.log = Some(log.display().to_string());
        let env = self.command_env(&planned.id, &planned.env);
        (log, env)
    }

    /// Where and how one attempt of `planned`'s work runs.
    pub(super) fn work_context<'c>(
        &self,
        planned: &'c crate::plan::PlannedStep,
        env: &'c BTreeMap<String, String>,
        log: &'c std::path::Path,
        sheltered: bool,
    ) -> WorkContext<'c> {
        WorkContext {
            step_id: &planned.id,
            dir: &planned.dir,
            env,
            timeout: planned.timeout,
            log,
            sheltered,
            rehearsal: self.plan.mode == Mode::Rehearsal,
            labelled: !self.chain,
        }
    }

    /// Marks step `index` running for another attempt, and tells it. An attempt the record did
    /// not take does not start: the step is left as the `previous` attempt ended (or pending).
    pub(super) fn announce_attempt(
        &mut self,
        index: usize,
        max_attempts: u32,
        previous: Option<StepStatus>,
    ) -> Result<()> {
        let step = &mut self.run.steps[index];
        step.status = StepStatus::Running;
        step.attempts += 1;
        // What the attempt before ended with is not this one's: a kill -9 during this attempt
        // must not leave its exit code and detail on record as if this one had ended so.
        let before = (step.exit_code.take(), step.detail.take());
        let step = step.clone();
        let told = self.observers.emit(Event::StepStarted {
            step: &step,
            max_attempts,
        });
        if told.is_err() {
            let step = &mut self.run.steps[index];
            step.attempts -= 1;
            step.status = previous.unwrap_or(StepStatus::Pending);
            (step.exit_code, step.detail) = before;
        }
        told
    }

    /// Writes the final outcome of a step's attempts into its record.
    pub(super) fn record_outcome(
        &mut self,
        index: usize,
        outcome: WorkOutcome,
        attempt: u32,
        max_attempts: u32,
        duration_ms: u64,
    ) {
        let status = outcome.status;
        let detail = outcome.detail.as_deref().map(|d| self.masker.text(d));
        // Every step keeps the last lines of its log in the record: on a team store they are
        // what another machine sees of the output (the full log stays where the step ran).
        let tail = self.run.steps[index]
            .log
            .clone()
            .map(|log| self.effects.log_tail(std::path::Path::new(&log)));
        let step = &mut self.run.steps[index];
        step.status = status;
        step.exit_code = outcome.exit_code;
        step.duration_ms = Some(duration_ms);
        step.detail = match status {
            StepStatus::Succeeded if attempt > 1 => Some(match detail {
                Some(detail) => format!("{detail}; passed on attempt {attempt} of {max_attempts}"),
                None => format!("passed on attempt {attempt} of {max_attempts}"),
            }),
            StepStatus::Interrupted => Some("interrupted by a signal".into()),
            _ => detail,
        };
        if let Some(tail) = tail.filter(|tail| !tail.is_empty()) {
            step.log_tail = Some(tail);
        }
    }

    /// The process environment of a step's (or metric's) commands: shipbook's own variables on
    /// top of what the runbook sets.
    pub(super) fn command_env(
        &self,
        id: &str,
        extra: &BTreeMap<String, String>,
    ) -> BTreeMap<String, String> {
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
}
