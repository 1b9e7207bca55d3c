//! Steps that run beside each other: a step starts once every step it `needs` has succeeded (or
//! was skipped, or failed with `continue_on_error`), up to `jobs` at a time.
//!
//! The executor's thread stays the only one that touches the record and the observers: each
//! running step's attempt runs on a thread of its own (through `Effects::start`), and its end
//! comes back here, where it is recorded and told before anything else starts, one at a time
//! even when two end at the same moment. A step that asks a question (a `confirm`, or the
//! question before running again a step that is not idempotent) and a `watch`, which records
//! each sample as it goes, run alone: they start when nothing else runs, and nothing starts
//! beside them, so that a prompt never shares the terminal with another step's lines. A step
//! with nothing else ready to run beside it runs on this thread, as in a runbook without
//! `needs`. After a failure no new step starts; the steps running finish, or with
//! `fail_fast = "cancel"` are ended (TERM, then KILL after the grace period) and recorded as
//! interrupted, so that a resume runs them again; then the failure policy applies.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::time::Duration;

use super::effects::{Finished, WorkOutcome};
use super::event::Event;
use super::executor::{Executor, Stop};
use crate::actions::notify::spec::NotifyOn;
use crate::error::Result;
use crate::plan::{Action, Work};
use crate::runbook::FailFast;
use crate::store::record::{Phase, StepStatus};

/// A step whose attempt runs on a thread of its own.
struct Running {
    work: Work,
    log: PathBuf,
    env: BTreeMap<String, String>,
    attempt: u32,
    max_attempts: u32,
    /// The wait before the next retry, doubled after each.
    delay: Duration,
    /// When the step began, on the run's clock.
    began: Duration,
}

/// A step whose attempt failed and whose next attempt waits for its retry delay. It keeps its
/// place among the `jobs`; the executor's thread starts the attempt when it is due, so that no
/// attempt is announced before it truly begins, and none begins after a failure or a signal.
struct Waiting {
    running: Running,
    /// When the next attempt is due, on the run's clock.
    due: Duration,
    /// How the attempt before ended: the step's end if no other attempt is made.
    last: WorkOutcome,
}

/// What the scheduler knows of the steps while they run.
struct Board {
    /// For each step of the phase (by record index), the indices of the steps it waits for.
    needs: HashMap<usize, Vec<usize>>,
    /// The steps of the phase, in file order.
    order: Vec<usize>,
    /// How many steps at the front of `order` have ended or are running: the search for the
    /// next step to start begins after them (a thousand steps are not scanned a thousand times).
    settled: usize,
    running: HashMap<usize, Running>,
    retrying: HashMap<usize, Waiting>,
    /// Steps whose end this run has recorded (whatever it was): never started again.
    ended: HashSet<usize>,
    stop: Option<Stop>,
    /// Whether the steps still running were cancelled after a failure.
    cancelled: Option<String>,
}

impl Executor<'_> {
    /// Runs the steps of the `steps` phase as their `needs` allow. Steps already done (a
    /// resumed run) are left alone.
    pub(super) fn run_graph(&mut self) -> Result<Option<Stop>> {
        let order: Vec<usize> = (0..self.run.steps.len())
            .filter(|&index| self.run.steps[index].phase == Phase::Steps)
            .collect();
        let position: HashMap<&str, usize> = order
            .iter()
            .map(|&index| (self.planned[index].id.as_str(), index))
            .collect();
        let needs = order
            .iter()
            .map(|&index| {
                let needs = self.planned[index]
                    .needs
                    .iter()
                    .filter_map(|id| position.get(id.as_str()).copied())
                    .collect();
                (index, needs)
            })
            .collect();
        let mut board = Board {
            needs,
            order,
            settled: 0,
            running: HashMap::new(),
            retrying: HashMap::new(),
            ended: HashSet::new(),
            stop: None,
            cancelled: None,
        };
        let result = self.schedule(&mut board);
        if result.is_err() {
            self.finish_unrecorded(&mut board);
        }
        if board.cancelled.is_some() {
            self.effects.cancel_started(false);
        }
        result?;
        Ok(board.stop)
    }

    /// After the record refused a write: nothing more starts, and the steps still running are
    /// let finish (as one running alone would be), their ends kept in the run for the store to
    /// take in one piece if it can. Nothing is told: nothing is shown before it is kept.
    fn finish_unrecorded(&mut self, board: &mut Board) {
        while !board.running.is_empty() {
            let Some(Finished {
                job,
                outcome,
                ended,
            }) = self.effects.wait_started(None)
            else {
                break;
            };
            let Some(running) = board.running.remove(&job) else {
                continue;
            };
            self.record_end(job, &running, made_or_failed(outcome), ended);
        }
    }

    fn schedule(&mut self, board: &mut Board) -> Result<()> {
        loop {
            if self.effects.interrupted() {
                self.interrupt(board);
            }
            if board.stop.is_none() {
                self.start_what_may(board)?;
                self.retry_what_is_due(board)?;
            } else {
                self.give_up_retries(board)?;
            }
            if board.running.is_empty() && board.retrying.is_empty() {
                return Ok(());
            }
            // Nothing may be held back while this thread waits: the record must have every
            // finish before the next one comes.
            self.observers.flush()?;
            let now = self.effects.elapsed();
            let next_retry = board
                .retrying
                .values()
                .map(|waiting| waiting.due.saturating_sub(now))
                .min();
            if board.running.is_empty() {
                // Only retries wait: sleep until the first is due (a signal ends the sleep).
                self.effects.sleep(next_retry.unwrap_or_default());
                continue;
            }
            if let Some(finished) = self.effects.wait_started(next_retry) {
                self.attempt_ended(board, finished)?;
            }
        }
    }

    /// A signal came: nothing more starts, and the run ends interrupted. A failure before it
    /// is kept for the run's reason: the failure policy is not applied after a Ctrl-C.
    fn interrupt(&mut self, board: &mut Board) {
        if let Some(Stop::Failed(reason)) = &board.stop {
            self.failed_before_interruption = Some(reason.clone());
        }
        board.stop = Some(Stop::Interrupted);
    }

    /// Starts the retries whose delay is over.
    fn retry_what_is_due(&mut self, board: &mut Board) -> Result<()> {
        let now = self.effects.elapsed();
        let mut due: Vec<usize> = board
            .retrying
            .iter()
            .filter(|(_, waiting)| waiting.due <= now)
            .map(|(&index, _)| index)
            .collect();
        due.sort_unstable();
        for index in due {
            let Some(Waiting {
                mut running, last, ..
            }) = board.retrying.remove(&index)
            else {
                continue;
            };
            running.attempt += 1;
            self.start_attempt(index, &running, Some(last.status))?;
            board.running.insert(index, running);
        }
        Ok(())
    }

    /// After a failure or a signal, the steps waiting to retry make no other attempt: each ends
    /// as its last attempt did (interrupted, after a signal), saying why it was not retried.
    fn give_up_retries(&mut self, board: &mut Board) -> Result<()> {
        let mut waiting: Vec<(usize, Waiting)> = board.retrying.drain().collect();
        waiting.sort_unstable_by_key(|(index, _)| *index);
        for (index, Waiting { running, last, .. }) in waiting {
            let mut last = last;
            if matches!(board.stop, Some(Stop::Interrupted)) {
                last.status = StepStatus::Interrupted;
            }
            let interrupted = last.status == StepStatus::Interrupted;
            let now = self.effects.elapsed();
            self.record_end(index, &running, last, now);
            if !interrupted {
                self.not_retried(board, index);
            }
            board.ended.insert(index);
            self.finish_step(index)?;
            let stop = self.stop_after(index);
            self.after_step(board, index, stop);
        }
        Ok(())
    }

    /// Starts, in file order, the steps whose needs are met, up to the job limit.
    fn start_what_may(&mut self, board: &mut Board) -> Result<()> {
        while board.running.len() + board.retrying.len() < self.plan.jobs && board.stop.is_none() {
            let Some(index) = self.next_ready(board, None) else {
                return Ok(());
            };
            if let Some(reason) = self.skip_reason(index, Phase::Steps) {
                let step = &mut self.run.steps[index];
                step.status = StepStatus::Skipped;
                step.detail = Some(reason);
                board.ended.insert(index);
                self.emit_step(index)?;
                continue;
            }
            let asks = self.asks_before_rerun(index, false);
            let alone = asks || !matches!(self.planned[index].action, Action::Work(_));
            let busy = !board.running.is_empty() || !board.retrying.is_empty();
            if alone && busy {
                // It waits for the steps running now; nothing else starts meanwhile.
                return Ok(());
            }
            if asks && let Some(stop) = self.confirm_rerun(index) {
                board.stop = Some(stop);
                return Ok(());
            }
            let stop = match self.planned[index].action.clone() {
                Action::Confirm(confirmation) => Some(self.confirm(index, &confirmation)?),
                Action::Watch(watching) => Some(self.watch(index, &watching)?),
                // Alone (nothing beside it, or one job) is as it runs without `needs`: on this
                // thread, its finish told with the next step's start.
                Action::Work(work)
                    if !busy
                        && (self.plan.jobs == 1
                            || self.next_ready(board, Some(index)).is_none()) =>
                {
                    Some(self.repeated_step(index, &work, false)?)
                }
                Action::Work(work) => {
                    self.begin_beside(board, index, work)?;
                    None
                }
            };
            if let Some(stop) = stop {
                board.ended.insert(index);
                self.after_step(board, index, stop);
            }
        }
        Ok(())
    }

    /// The first step in file order that has not run, is not running or waiting to retry, and
    /// whose needs are met; `besides` is one about to start, which does not count.
    fn next_ready(&self, board: &mut Board, besides: Option<usize>) -> Option<usize> {
        while let Some(&index) = board.order.get(board.settled) {
            if !self.taken(board, index) {
                break;
            }
            board.settled += 1;
        }
        board.order[board.settled..].iter().copied().find(|&index| {
            Some(index) != besides
                && !self.taken(board, index)
                && board.needs[&index].iter().all(|&need| self.need_met(need))
        })
    }

    /// Whether a step is done with (it succeeded or was skipped, before this run or in it, or
    /// ended in it) or under way (running, or waiting to retry).
    fn taken(&self, board: &Board, index: usize) -> bool {
        matches!(
            self.run.steps[index].status,
            StepStatus::Succeeded | StepStatus::Skipped
        ) || board.ended.contains(&index)
            || board.running.contains_key(&index)
            || board.retrying.contains_key(&index)
    }

    /// Whether a step that another waits for lets it start: it succeeded, was skipped, or
    /// failed where failing is allowed (`continue_on_error`).
    fn need_met(&self, need: usize) -> bool {
        match self.run.steps[need].status {
            StepStatus::Succeeded | StepStatus::Skipped => true,
            StepStatus::Failed | StepStatus::TimedOut => self.planned[need].continue_on_error,
            _ => false,
        }
    }

    /// Starts a step's first attempt on a thread of its own.
    fn begin_beside(&mut self, board: &mut Board, index: usize, work: Work) -> Result<()> {
        let planned = self.planned[index].clone();
        let earlier = self.run.steps[index].attempts;
        let began = self.effects.elapsed();
        let (log, env) = self.begin_step(index, &planned);
        let running = Running {
            work,
            log,
            env,
            attempt: earlier + 1,
            max_attempts: earlier + planned.retries + 1,
            delay: planned.retry_delay,
            began,
        };
        self.start_attempt(index, &running, None)?;
        board.running.insert(index, running);
        Ok(())
    }

    /// Tells that an attempt begins, then starts it.
    fn start_attempt(
        &mut self,
        index: usize,
        running: &Running,
        previous: Option<StepStatus>,
    ) -> Result<()> {
        self.announce_attempt(index, running.max_attempts, previous)?;
        if running.max_attempts > 1 {
            self.effects.append_log(
                &running.log,
                &format!(
                    "== shipbook: attempt {} of {} ==\n",
                    running.attempt, running.max_attempts
                ),
            );
        }
        let planned = self.planned[index].clone();
        let context = self.work_context(&planned, &running.env, &running.log, false);
        self.effects.start(index, &running.work, &context);
        Ok(())
    }

    /// Takes in how a step's attempt ended: another attempt, or the step's end.
    fn attempt_ended(&mut self, board: &mut Board, finished: Finished) -> Result<()> {
        let Finished {
            job: index,
            outcome,
            ended,
        } = finished;
        let Some(mut running) = board.running.remove(&index) else {
            return Ok(());
        };
        let mut outcome = made_or_failed(outcome);
        let cancelled = board
            .cancelled
            .as_ref()
            .filter(|_| outcome.status != StepStatus::Succeeded)
            .map(|failed| format!("cancelled: step `{failed}` failed and fail_fast = \"cancel\""));
        if cancelled.is_some() {
            outcome.status = StepStatus::Interrupted;
        }
        if outcome.tag.is_some() {
            self.run.steps[index].tag = outcome.tag.clone();
        }
        let retries_left = !matches!(
            outcome.status,
            StepStatus::Succeeded | StepStatus::Interrupted
        ) && running.attempt < running.max_attempts;
        if retries_left && board.stop.is_none() {
            let step = &mut self.run.steps[index];
            step.exit_code = outcome.exit_code;
            step.detail = outcome.detail.as_deref().map(|d| self.masker.text(d));
            let step = step.clone();
            let delay = running.delay;
            if let Err(error) = self
                .observers
                .emit(Event::StepRetrying { step: &step, delay })
            {
                self.run.steps[index].status = outcome.status;
                return Err(error);
            }
            running.delay = delay.saturating_mul(2);
            let due = ended + delay;
            board.retrying.insert(
                index,
                Waiting {
                    running,
                    due,
                    last: outcome,
                },
            );
            return Ok(());
        }
        self.record_end(index, &running, outcome, ended);
        if cancelled.is_some() {
            self.run.steps[index].detail = cancelled;
            self.cancelled.push(index);
        } else if retries_left {
            self.not_retried(board, index);
        }
        board.ended.insert(index);
        // A success is held for the next step's start, or told before the next wait.
        self.finish_step(index)?;
        let stop = self.stop_after(index);
        self.after_step(board, index, stop);
        Ok(())
    }

    /// Writes how a step that ran beside others ended into its record, its duration from its
    /// beginning to `ended` on the run's clock.
    fn record_end(
        &mut self,
        index: usize,
        running: &Running,
        outcome: WorkOutcome,
        ended: Duration,
    ) {
        let duration = ended.saturating_sub(running.began);
        self.record_outcome(
            index,
            outcome,
            running.attempt,
            running.max_attempts,
            duration.as_millis() as u64,
        );
    }

    /// Says in a step's detail why the retries it had left were not made.
    fn not_retried(&mut self, board: &Board, index: usize) {
        let why = match &board.stop {
            Some(Stop::Failed(reason)) => format!("not retried after the failure: {reason}"),
            _ => "not retried: the run was stopped".to_string(),
        };
        let step = &mut self.run.steps[index];
        step.detail = Some(match step.detail.take() {
            Some(detail) => format!("{detail}; {why}"),
            None => why,
        });
    }

    /// After a step's end: the notification of a failure, and what its end means for the
    /// others: no new step after a failure, and with `fail_fast = "cancel"` the end of those
    /// running.
    fn after_step(&mut self, board: &mut Board, index: usize, stop: Option<Stop>) {
        if matches!(
            self.run.steps[index].status,
            StepStatus::Failed | StepStatus::TimedOut
        ) {
            self.notify(NotifyOn::StepFailed, Some(index));
        }
        let Some(stop) = stop else { return };
        if matches!(stop, Stop::Interrupted) && self.effects.interrupted() {
            self.interrupt(board);
        } else if board.stop.is_none() {
            board.stop = Some(stop);
        }
        if matches!(board.stop, Some(Stop::Failed(_)))
            && self.plan.fail_fast == FailFast::Cancel
            && board.cancelled.is_none()
            && !board.running.is_empty()
        {
            board.cancelled = Some(self.run.steps[index].id.clone());
            self.effects.cancel_started(true);
        }
    }
}

/// How an attempt ended; one that could not even be made failed (the steps beside it still end
/// as they do).
fn made_or_failed(outcome: std::io::Result<WorkOutcome>) -> WorkOutcome {
    outcome.unwrap_or_else(|error| WorkOutcome {
        status: StepStatus::Failed,
        exit_code: None,
        detail: Some(format!("cannot run step: {error}")),
        tag: None,
    })
}
