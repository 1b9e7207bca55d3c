//! The failure policy: after a step (or a metric guard) fails, undo what was done, newest first,
//! or run the `[rollback]` procedure in the same run, or stop, or ask which.

use super::effects::Recovery;
use super::event::Event;
use super::executor::{Executor, list_or_none};
use super::run_record::step_record;
use crate::error::Result;
use crate::plan::{Action, PlannedStep, Work};
use crate::runbook::OnFailure;
use crate::runbook::validate::UNDO_PREFIX;
use crate::store::record::{Phase, StepStatus};

/// What the failure policy did after a failure.
pub(super) struct Aftermath {
    /// What was undone or rolled back, in a sentence.
    pub report: String,
    /// Whether the `[rollback]` procedure ran, and then whether it succeeded.
    pub rolled_back: Option<bool>,
}

impl Executor<'_> {
    /// After a failure: undo (newest first), or roll back, when the policy says so. Returns
    /// what was done, if anything.
    pub(super) fn apply_failure_policy(&mut self) -> Result<Option<Aftermath>> {
        let Some(last_done) = (0..self.run.steps.len()).rev().find(|&index| {
            let s = &self.run.steps[index];
            s.phase == Phase::Steps
                && (matches!(
                    s.status,
                    StepStatus::Failed | StepStatus::TimedOut | StepStatus::Succeeded
                ) || self.cancelled.contains(&index))
        }) else {
            return Ok(None);
        };
        // The step the failure is about: the last to fail, not the last in the file (a step
        // beside it may have finished after it).
        let failed = (0..=last_done)
            .filter(|&index| {
                let step = &self.run.steps[index];
                step.phase == Phase::Steps
                    && matches!(step.status, StepStatus::Failed | StepStatus::TimedOut)
                    && !self.planned[index].continue_on_error
            })
            .max_by_key(|&index| (self.run.steps[index].finished_at(), index))
            .unwrap_or(last_done);
        match self.recovery(failed) {
            Recovery::Stop => Ok(None),
            Recovery::Undo => Ok(Some(Aftermath {
                report: self.undo(last_done)?,
                rolled_back: None,
            })),
            Recovery::Rollback => {
                let (report, succeeded) = self.roll_back()?;
                Ok(Some(Aftermath {
                    report,
                    rolled_back: Some(succeeded),
                }))
            }
        }
    }

    /// What the failure policy says to do after a failure at step `failed`.
    fn recovery(&mut self, failed: usize) -> Recovery {
        match self.options.on_failure {
            OnFailure::Undo => Recovery::Undo,
            OnFailure::Stop => Recovery::Stop,
            OnFailure::Rollback if self.plan.rollback.is_some() => Recovery::Rollback,
            // Refused before the run starts; were it to get here, stopping leaves things as
            // they are.
            OnFailure::Rollback => Recovery::Stop,
            OnFailure::Ask => {
                let id = self.run.steps[failed].id.clone();
                let offer_rollback = self.plan.rollback.is_some();
                self.effects.after_failure(&id, offer_rollback)
            }
        }
    }

    /// Runs the `[rollback]` procedure in this run, as its rollback phase: the steps the plan
    /// rendered for it (a rehearsal has them already; a release adds them now). Returns what
    /// happened in a sentence, and whether every rollback step succeeded.
    fn roll_back(&mut self) -> Result<(String, bool)> {
        let Some(rollback) = self.plan.rollback.clone() else {
            return Ok(("there is no [rollback] to run".into(), false));
        };
        if !self
            .run
            .steps
            .iter()
            .any(|step| step.phase == Phase::Rollback)
        {
            for step in &rollback.steps {
                let position = self.run.steps.len();
                let record = step_record(position, step, Phase::Rollback, &self.masker);
                self.run.steps.push(record);
                self.planned.push(step.clone());
                let added = self.run.steps[position].clone();
                self.observers.emit(Event::StepAdded { step: &added })?;
            }
        }
        let stop = self.run_phase(Phase::Rollback)?;
        let succeeded = stop.is_none()
            && self
                .run
                .steps
                .iter()
                .filter(|step| step.phase == Phase::Rollback)
                .all(|step| step.status == StepStatus::Succeeded);
        if succeeded {
            Ok(("rolled back: the [rollback] procedure ran".into(), true))
        } else {
            Ok((
                format!("the rollback did not complete{}", self.by_hand()),
                false,
            ))
        }
    }

    /// The undo steps for everything done up to `failed`, newest-finished first (steps that
    /// ran beside each other ended in an order of their own): each step's own `undo`, or the
    /// deletion of a tag the run created.
    fn undo_candidates(&self, failed: usize) -> Vec<(usize, PlannedStep, Work)> {
        let mut candidates = Vec::new();
        let mut done: Vec<usize> = (0..=failed).collect();
        // Newest end first; of two that ended in the same millisecond, the later in the file.
        done.sort_by_key(|&index| std::cmp::Reverse((self.run.steps[index].finished_at(), index)));
        for index in done {
            let record = &self.run.steps[index];
            let done = matches!(
                record.status,
                StepStatus::Succeeded | StepStatus::Failed | StepStatus::TimedOut
            ) || self.cancelled.contains(&index);
            if record.phase != Phase::Steps || !done {
                continue;
            }
            let planned = &self.planned[index];
            let work = match (&planned.undo, &record.tag) {
                (Some(command), _) => Work::Run {
                    command: command.clone(),
                },
                (None, Some(tag)) if tag.created => Work::Untag { tag: tag.clone() },
                _ => continue,
            };
            let step = PlannedStep {
                id: format!("{UNDO_PREFIX}{}", planned.id),
                name: format!("Undo {}", planned.name),
                description: None,
                action: Action::Work(work.clone()),
                retries: 0,
                skip: None,
                continue_on_error: false,
                undo: None,
                ..planned.clone()
            };
            candidates.push((index, step, work));
        }
        candidates
    }

    /// Runs the undo of the failed step and of every completed step that has one, newest first.
    /// Each undo is a step of its own in the record; an undo that fails stops the undoing.
    /// Returns a sentence saying what was and was not undone.
    fn undo(&mut self, failed: usize) -> Result<String> {
        let candidates = self.undo_candidates(failed);
        let mut undone = Vec::new();
        let mut not_undone: Vec<String> = candidates
            .iter()
            .map(|(i, _, _)| self.run.steps[*i].id.clone())
            .collect();
        for (original, undo_step, work) in candidates {
            let position = self.run.steps.len();
            let record = step_record(position, &undo_step, Phase::Undo, &self.masker);
            self.run.steps.push(record);
            self.planned.push(undo_step);
            let step = self.run.steps[position].clone();
            self.observers.emit(Event::StepAdded { step: &step })?;
            let stop = self.repeated_step(position, &work, true)?;
            let original_id = self.run.steps[original].id.clone();
            if stop.is_some() || self.run.steps[position].status != StepStatus::Succeeded {
                return Ok(format!(
                    "the undo of `{original_id}` failed, so undoing stopped; undone: {}; not undone: {}{}",
                    list_or_none(&undone),
                    list_or_none(&not_undone),
                    self.by_hand()
                ));
            }
            self.run.steps[original].status = StepStatus::Undone;
            self.emit_step(original)?;
            not_undone.retain(|id| id != &original_id);
            undone.push(original_id);
            if self.effects.interrupted() {
                return Ok(format!(
                    "undoing stopped by a signal after the undo in flight; undone: {}; not undone: {}",
                    list_or_none(&undone),
                    list_or_none(&not_undone)
                ));
            }
        }
        Ok(format!("undone: {}", list_or_none(&undone)))
    }

    /// How to roll back by hand, when the runbook says how.
    fn by_hand(&self) -> String {
        self.plan
            .rollback
            .as_ref()
            .map(|r| {
                format!(
                    "; roll back by hand with: {}",
                    r.commands().replace('\n', "; ")
                )
            })
            .unwrap_or_default()
    }
}
