//! Drives a plan: one step after another, with retries, timeouts, confirmations, the failure
//! policy, metrics, and the rollback of a rehearsal, telling observers about each state change as
//! it happens.
//!
//! The executor decides; it does nothing to the world by itself. Commands, actions, metrics,
//! questions, sleeps and the clock go through `Effects`, so the whole policy is unit-tested with
//! a scripted implementation. The run's record is the executor's working state: every change to
//! it is emitted (and so committed by the recorder) before the next thing happens, and a resumed
//! run starts again from the record that was kept.

use std::path::PathBuf;

use super::attempt::rerun_question;
use super::effects::Effects;
use super::event::{Event, Observers};
use crate::actions::notify::spec::NotifyOn;
use crate::error::{Error, Result};
use crate::mask::Masker;
use crate::plan::{Action, Plan, PlannedStep};
use crate::runbook::{Mode, OnFailure, RehearsalChoice};
use crate::store::record::{Phase, RunRecord, RunStatus, StepStatus};

pub struct Options {
    /// `--yes`: every confirmation is answered yes.
    pub yes: bool,
    /// `--approver NAME`: who approves a `confirm` step that lists `approvers`.
    pub approver: Option<String>,
    pub logs_dir: PathBuf,
    pub operator: String,
    /// The failure policy for this run (`--on-failure`, else the runbook's).
    pub on_failure: OnFailure,
    /// Whether this continues a run that was recorded before (`shipbook resume`).
    pub resumed: bool,
}

pub struct Executor<'a> {
    pub(super) plan: &'a Plan,
    /// The steps as planned, aligned with `run.steps`: the runbook's steps, then the rollback's
    /// (in a rehearsal), then any undo added after a failure.
    pub(super) planned: Vec<PlannedStep>,
    pub(super) run: RunRecord,
    pub(super) observers: Observers<'a>,
    pub(super) effects: &'a mut dyn Effects,
    pub(super) options: Options,
    pub(super) masker: Masker,
    /// Whether a step that succeeded is told together with the next event (inside a phase,
    /// where the next step starts at once); see [`Observers::hold_finished`].
    pub(super) holding: bool,
    /// Whether each step waits for the one before it (no `needs`): then they run one after
    /// another, and none beside another.
    pub(super) chain: bool,
    /// The steps this run cancelled after a failure (`fail_fast = "cancel"`): recorded as
    /// interrupted, undone like the failed step when the policy undoes.
    pub(super) cancelled: Vec<usize>,
    /// Why the run had failed when a signal interrupted it, before the failure policy applied.
    pub(super) failed_before_interruption: Option<String>,
}

/// What ended a run early.
pub(super) enum Stop {
    Failed(String),
    Declined(String),
    NeedsConfirmation(String),
    Interrupted,
    /// The record store refused a write (why, in a sentence): nothing more is started.
    NotRecorded(String),
}

/// How the steps went, before the run is finished.
struct Ending {
    stop: Option<Stop>,
    /// What the failure policy undid or rolled back, in a sentence, when it did anything.
    undo_report: Option<String>,
    /// Whether the failure policy ran the `[rollback]` procedure, and then whether it succeeded.
    rolled_back: Option<bool>,
    /// Whether the run stopped before its first step (a metric could not be sampled).
    no_step_ran: bool,
}

impl Ending {
    /// Takes in what the failure policy did.
    fn after(&mut self, aftermath: Option<super::undo::Aftermath>) {
        if let Some(aftermath) = aftermath {
            self.undo_report = Some(aftermath.report);
            self.rolled_back = aftermath.rolled_back;
        }
    }
}

impl<'a> Executor<'a> {
    pub fn new(
        plan: &'a Plan,
        run: RunRecord,
        observers: Observers<'a>,
        effects: &'a mut dyn Effects,
        options: Options,
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
            effects,
            options,
            holding: false,
            chain: plan.is_chain(),
            cancelled: Vec::new(),
            failed_before_interruption: None,
        }
    }

    pub(super) fn emit_step(&mut self, index: usize) -> Result<()> {
        let step = self.run.steps[index].clone();
        self.observers.emit(Event::StepFinished { step: &step })
    }

    /// Tells that a step's attempts are over. Inside a phase, a step that succeeded is told
    /// with the next step's start, in one commit of the record.
    pub(super) fn finish_step(&mut self, index: usize) -> Result<()> {
        if self.holding && self.run.steps[index].status == StepStatus::Succeeded {
            self.observers.hold_finished(self.run.steps[index].clone())
        } else {
            self.emit_step(index)
        }
    }

    /// Runs the steps, then finishes the run with `finish`, which writes the change note and
    /// returns its path. Returns the finished record, or the error that says how it ended.
    pub fn execute(
        mut self,
        finish: impl FnMut(&RunRecord) -> Result<String>,
    ) -> Result<RunRecord> {
        self.refuse_unanswerable()?;
        self.observers.emit(Event::RunStarted {
            run: &self.run,
            resumed: self.options.resumed,
        })?;
        self.notify(NotifyOn::Started, None);
        let ending = match self.run_to_the_end() {
            Ok(ending) => ending,
            // The record refused a write: nothing more is started, and the run is finished with
            // what truly happened, for the store to take in one piece if it now can.
            Err(error) if self.observers.critical_failed() => Ending {
                stop: Some(Stop::NotRecorded(error.to_string())),
                undo_report: None,
                rolled_back: None,
                no_step_ran: false,
            },
            Err(error) => return Err(error),
        };
        self.finish(ending, finish)
    }

    /// Metrics before, the steps, the failure policy, metrics after, a rehearsal's rollback.
    fn run_to_the_end(&mut self) -> Result<Ending> {
        let mut ending = Ending {
            stop: None,
            undo_report: None,
            rolled_back: None,
            no_step_ran: false,
        };
        if !self.options.resumed && self.plan.mode != Mode::Rollback {
            ending.stop = self.sample_metrics(false)?;
            ending.no_step_ran = ending.stop.is_some();
        }
        if ending.stop.is_none() {
            // `shipbook rollback` runs the rollback procedure as its own steps.
            let phase = if self.plan.mode == Mode::Rollback {
                Phase::Rollback
            } else {
                Phase::Steps
            };
            ending.stop = self.run_phase(phase)?;
        }
        if matches!(ending.stop, Some(Stop::Failed(_))) && !ending.no_step_ran {
            ending.after(self.apply_failure_policy()?);
        }
        // After the steps, before a rehearsal's rollback undoes what they did.
        if ending.stop.is_none() && self.plan.mode != Mode::Rollback {
            ending.stop = self.sample_metrics(true)?;
            // A guard that fails the run is a failure like a step's: the policy applies.
            if matches!(ending.stop, Some(Stop::Failed(_))) {
                ending.after(self.apply_failure_policy()?);
            }
        }
        // A signal during the undo (or at the question whether to undo) lets the undo in flight
        // finish, then stops the run as interrupted.
        if matches!(ending.stop, Some(Stop::Failed(_))) && self.effects.interrupted() {
            ending.stop = Some(Stop::Interrupted);
        }
        if ending.stop.is_none()
            && self.plan.mode == Mode::Rehearsal
            && self.plan.rollback.is_some()
        {
            ending.stop = self.run_phase(Phase::Rollback)?;
        }
        Ok(ending)
    }

    /// Records how the run ended, writes the note, and turns a stop into its error.
    fn finish(
        mut self,
        ending: Ending,
        mut finish: impl FnMut(&RunRecord) -> Result<String>,
    ) -> Result<RunRecord> {
        let (status, reason) = self.status_of(&ending);
        self.run.status = status;
        self.run.status_reason = reason.map(|r| self.masker.text(&r));
        self.run.finished_at = Some(self.effects.now());
        // A note that cannot be written must not lose the record of how the run ended.
        let mut note = finish(&self.run);
        if let Ok(path) = &note {
            self.run.note = Some(path.clone());
        }
        // The last notification names the note; if it cannot be sent, the note is written
        // again with the warning that says so.
        let warned = self.run.warnings.len();
        let (on, step) = self.final_notification();
        self.notify(on, step);
        if self.run.warnings.len() > warned && note.is_ok() {
            note = finish(&self.run);
        }
        let recorded = self.observers.emit(Event::RunFinished { run: &self.run });
        let cause = match &ending.stop {
            Some(Stop::NotRecorded(cause)) => Some(cause.as_str()),
            _ => None,
        };
        if cause.is_some() || recorded.is_err() {
            return Err(self.not_recorded(cause, recorded, note));
        }
        note?;

        let run_id = self.run.run_id.clone();
        let way_back = if ending.rolled_back == Some(true) {
            vec![
                format!(
                    "`shipbook show {}` says what each step did and what the rollback ran",
                    self.run.run_id
                ),
                "the [rollback] procedure ran: what this run released was taken back; a new run releases again once the failure is fixed".into(),
            ]
        } else {
            self.way_back(ending.no_step_ran, ending.undo_report.is_some())
        };
        let reason = self.run.status_reason.clone().unwrap_or_default();
        match ending.stop {
            None => Ok(self.run),
            Some(Stop::Failed(_)) => Err(Error::RunFailed {
                run_id,
                status: self.run.status.as_str().replace('_', " "),
                reason,
                way_back,
            }),
            Some(Stop::Declined(step)) => Err(Error::Declined { run_id, step }),
            Some(Stop::NeedsConfirmation(step)) => Err(Error::NeedsConfirmation { run_id, step }),
            Some(Stop::Interrupted) => Err(Error::Interrupted {
                run_id,
                reason,
                way_back,
            }),
            // Told above, with what each step did; this is the same end in fewer words.
            Some(Stop::NotRecorded(_)) => Err(Error::RunFailed {
                run_id,
                status: "stopped".into(),
                reason,
                way_back,
            }),
        }
    }

    /// The run's status and the one line that says why.
    fn status_of(&self, ending: &Ending) -> (RunStatus, Option<String>) {
        match (&ending.stop, &ending.undo_report) {
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
            (Some(Stop::Failed(reason)), Some(undo)) if ending.rolled_back == Some(true) => {
                (RunStatus::RolledBack, Some(format!("{reason}; {undo}")))
            }
            (Some(Stop::Failed(reason)), Some(undo)) => {
                (RunStatus::Failed, Some(format!("{reason}; {undo}")))
            }
            (Some(Stop::Failed(reason)), None) => (RunStatus::Failed, Some(reason.clone())),
            (Some(Stop::Declined(step) | Stop::NeedsConfirmation(step)), _) => (
                RunStatus::Aborted,
                Some(format!("step `{step}` was not confirmed")),
            ),
            (Some(Stop::NotRecorded(cause)), _) => (
                RunStatus::Failed,
                Some(format!(
                    "stopped: its record could not be written ({cause}), so no step was started after that"
                )),
            ),
            (Some(Stop::Interrupted), undo) => (
                RunStatus::Interrupted,
                Some(format!(
                    "interrupted by a signal{}{}",
                    self.failed_before_interruption
                        .as_ref()
                        .map(|failure| format!(
                            " after {failure}; the failure policy ({}) was not applied",
                            self.options.on_failure
                        ))
                        .unwrap_or_default(),
                    undo.as_ref().map(|u| format!(" ({u})")).unwrap_or_default(),
                )),
            ),
        }
    }

    /// What the engineer can do next, for the message that ends a failed or interrupted run.
    pub(super) fn way_back(&self, no_step_ran: bool, undone: bool) -> Vec<String> {
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
    pub(super) fn run_phase(&mut self, phase: Phase) -> Result<Option<Stop>> {
        self.holding = true;
        let ran = self.run_phase_steps(phase);
        self.holding = false;
        // Whatever follows the phase (a prompt, an undo, the metrics) is not a step's start.
        let flushed = self.observers.flush();
        let stop = ran?;
        flushed?;
        Ok(stop)
    }

    fn run_phase_steps(&mut self, phase: Phase) -> Result<Option<Stop>> {
        if phase == Phase::Steps && !self.chain {
            return self.run_graph();
        }
        let mut first_unfinished = true;
        for index in 0..self.run.steps.len() {
            if self.run.steps[index].phase != phase {
                continue;
            }
            if self.effects.interrupted() {
                return Ok(Some(Stop::Interrupted));
            }
            if matches!(
                self.run.steps[index].status,
                StepStatus::Succeeded | StepStatus::Skipped
            ) {
                continue;
            }
            if let Some(reason) = self.skip_reason(index, phase) {
                let step = &mut self.run.steps[index];
                step.status = StepStatus::Skipped;
                step.detail = Some(reason);
                self.emit_step(index)?;
                continue;
            }
            if self.asks_before_rerun(index, first_unfinished)
                && let Some(stop) = self.confirm_rerun(index)
            {
                return Ok(Some(stop));
            }
            first_unfinished = false;
            let stop = match self.planned[index].action.clone() {
                Action::Confirm(confirmation) => self.confirm(index, &confirmation)?,
                Action::Work(work) => self.repeated_step(index, &work, false)?,
                Action::Watch(watching) => self.watch(index, &watching)?,
            };
            if phase == Phase::Steps
                && matches!(
                    self.run.steps[index].status,
                    StepStatus::Failed | StepStatus::TimedOut
                )
            {
                self.notify(NotifyOn::StepFailed, Some(index));
            }
            if stop.is_some() {
                return Ok(stop);
            }
        }
        Ok(None)
    }

    /// A question that will be reached with nobody to answer it is refused before the first
    /// step, not found after lint and tests have run: a confirmation, or on resume the question
    /// whether to run again the first unfinished step of a phase when it is not idempotent
    /// (as `run_phase` asks it).
    fn refuse_unanswerable(&self) -> Result<()> {
        self.refuse_nameless_approval()?;
        if self.options.yes || self.effects.can_ask() {
            return Ok(());
        }
        let mut phases_begun = Vec::new();
        for index in self.steps_that_will_run() {
            let record = &self.run.steps[index];
            let first_of_phase = !phases_begun.contains(&record.phase);
            phases_begun.push(record.phase);
            let question = match &self.planned[index].action {
                _ if self.asks_before_rerun(index, first_of_phase) => rerun_question(&record.id),
                Action::Confirm(confirmation) => confirmation.prompt.clone(),
                Action::Work(_) | Action::Watch(_) => continue,
            };
            return Err(Error::Unanswerable {
                step: record.id.clone(),
                question,
            });
        }
        Ok(())
    }

    /// `--yes` answers a question nobody reads: for a step that names its approvers, it must
    /// also say who approves (`--approver`), or the record would name nobody. Only steps this
    /// run will reach count: one left out by `--only`, skipped by a rehearsal or already done
    /// before a resume asks nothing.
    fn refuse_nameless_approval(&self) -> Result<()> {
        if !self.options.yes || self.options.approver.is_some() {
            return Ok(());
        }
        let named =
            self.steps_that_will_run()
                .find_map(|index| match &self.planned[index].action {
                    Action::Confirm(confirmation) if !confirmation.approvers.is_empty() => Some((
                        self.planned[index].id.clone(),
                        confirmation.approvers.join(", "),
                    )),
                    _ => None,
                });
        match named {
            None => Ok(()),
            Some((step, approvers)) => Err(Error::usage(
                format!("step `{step}` names its approvers, and --yes says nobody's name"),
                format!("--yes with --approver NAME, one of: {approvers}"),
            )),
        }
    }

    /// The steps of this run's phases that have not succeeded or been skipped and that neither
    /// the plan nor a rehearsal skips, in order: the ones that may still ask a question.
    fn steps_that_will_run(&self) -> impl Iterator<Item = usize> + '_ {
        let phases = match self.plan.mode {
            Mode::Rollback => [Phase::Rollback, Phase::Rollback],
            Mode::Rehearsal => [Phase::Steps, Phase::Rollback],
            Mode::Run => [Phase::Steps, Phase::Steps],
        };
        self.run
            .steps
            .iter()
            .enumerate()
            .filter(move |(index, record)| {
                let done = matches!(record.status, StepStatus::Succeeded | StepStatus::Skipped);
                phases.contains(&record.phase)
                    && !done
                    && self.skip_reason(*index, record.phase).is_none()
            })
            .map(|(index, _)| index)
    }

    /// Whether a resumed run asks before it runs step `index` again: it is not idempotent and
    /// may have partly run. One after another, only the first unfinished step of a phase can
    /// have (`first_unfinished`); beside each other, any that had begun.
    pub(super) fn asks_before_rerun(&self, index: usize, first_unfinished: bool) -> bool {
        let may_have_run = if self.chain || self.run.steps[index].phase != Phase::Steps {
            first_unfinished
        } else {
            self.run.steps[index].attempts > 0
        };
        self.options.resumed && !self.planned[index].idempotent && may_have_run
    }

    /// Why a step will not run: the plan says so, or a rehearsal skips it.
    pub(super) fn skip_reason(&self, index: usize, phase: Phase) -> Option<String> {
        let planned = &self.planned[index];
        planned.skip.clone().or_else(|| {
            (self.plan.mode == Mode::Rehearsal
                && phase == Phase::Steps
                && planned.rehearsal == RehearsalChoice::Skip)
                .then(|| "rehearsal = \"skip\"".to_string())
        })
    }
}

/// The ids of `ids` as a list for a sentence: "`a`, `b`", or "none".
pub(super) fn list_or_none(ids: &[String]) -> String {
    if ids.is_empty() {
        "none".into()
    } else {
        ids.iter()
            .map(|id| format!("`{id}`"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}
