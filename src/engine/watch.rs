//! A `watch` step: one sample every `every` for `for`, each recorded and told as it is taken,
//! failing as soon as `failures` samples have failed.
//!
//! The loop lives in the engine, not in the action, because every sample is a state change of
//! the run: it is committed to the record store before the next sample (a kill -9 in the middle
//! of a ten-minute watch keeps what was seen), and the terminal shows it as it comes. Judging a
//! sample is the action's (`actions::watch`); taking it goes through `Effects` like any other
//! work, so the whole loop is unit-tested on scripted effects.

use std::time::Duration;

use super::effects::WorkContext;
use super::event::Event;
use super::executor::{Executor, Stop};
use crate::actions::watch::judge_metric;
use crate::actions::watch::spec::WatchCheck;
use crate::error::{Error, Result};
use crate::plan::Watching;
use crate::runbook::{Better, Mode};
use crate::store::record::{StepStatus, WatchSample};
use crate::text::duration::human;
use crate::text::words::plural;

/// How one sample came out.
struct Sampled {
    passed: bool,
    value: Option<f64>,
    detail: String,
    interrupted: bool,
}

impl Executor<'_> {
    /// Runs a `watch` step to its end: passed when `for` is over, failed at the `failures`-th
    /// failed sample, interrupted by a signal. A watch that starts again (a resumed run) starts
    /// from no samples; the log keeps the lines of the earlier one.
    pub(super) fn watch(&mut self, index: usize, watching: &Watching) -> Result<Option<Stop>> {
        let planned = self.planned[index].clone();
        let watch = &watching.watch;
        let (log, env) = self.begin_step(index, &planned);
        self.run.steps[index].samples.clear();
        self.announce_attempt(index, 1, None)?;
        let context = self.work_context(&planned, &env, &log, false);
        let length = match (self.plan.mode, watch.rehearsal_duration) {
            (Mode::Rehearsal, Some(shorter)) => shorter,
            _ => watch.duration,
        };
        self.effects.append_log(
            &log,
            &format!(
                "== shipbook: {}, for {} ==\n",
                watch.describe(),
                human(length)
            ),
        );
        let started = self.effects.elapsed();
        let mut failed = 0;
        let mut taken: u32 = 0;
        // Samples are due at fixed times (0, every, 2 × every, … up to `for`), not `every` after
        // the previous one ended: a slow sample does not stretch the watch or thin it out.
        let end = loop {
            let sampled = self.sample(watching, &context)?;
            if sampled.interrupted {
                break StepStatus::Interrupted;
            }
            taken += 1;
            if !sampled.passed {
                failed += 1;
            }
            let since = self.effects.elapsed().saturating_sub(started);
            let left = length.saturating_sub(since);
            self.keep_watch_sample(index, sampled, left, watch.failures, &log)?;
            if failed >= watch.failures {
                break StepStatus::Failed;
            }
            if self.effects.interrupted() {
                break StepStatus::Interrupted;
            }
            let next = watch.every.saturating_mul(taken);
            if next > length {
                break StepStatus::Succeeded;
            }
            if next > since && self.effects.sleep(next - since) {
                break StepStatus::Interrupted;
            }
        };
        let duration = self.effects.elapsed().saturating_sub(started);
        self.finish_watch(index, end, watch.failures, duration);
        self.emit_step(index)?;
        Ok(match end {
            StepStatus::Succeeded => None,
            StepStatus::Interrupted => Some(Stop::Interrupted),
            _ if planned.continue_on_error => None,
            _ => Some(Stop::Failed(format!(
                "step `{}` failed: {}",
                planned.id,
                self.run.steps[index].detail.as_deref().unwrap_or("failed")
            ))),
        })
    }

    /// Takes one sample of the watch's check.
    fn sample(&mut self, watching: &Watching, context: &WorkContext<'_>) -> Result<Sampled> {
        let cannot = |source| {
            Error::io(
                format!("cannot sample for step `{}`", context.step_id),
                source,
            )
        };
        match (&watching.watch.check, &watching.sample) {
            (WatchCheck::Metric(limits), _) => {
                let plan = self.plan;
                let Some(metric) = plan.metrics.iter().find(|m| m.name == limits.metric) else {
                    return Ok(Sampled {
                        passed: false,
                        value: None,
                        detail: format!("no metric `{}` in the runbook", limits.metric),
                        interrupted: false,
                    });
                };
                let before = self
                    .run
                    .metrics
                    .iter()
                    .find(|m| m.name == limits.metric)
                    .and_then(|m| m.before);
                let sample = self
                    .effects
                    .sample(metric, context.env, context.log)
                    .map_err(cannot)?;
                Ok(match sample {
                    Ok(value) => {
                        let lower = metric.better == Better::Lower;
                        let (passed, detail) = judge_metric(limits, lower, before, value);
                        Sampled {
                            passed,
                            value: Some(value),
                            detail,
                            interrupted: false,
                        }
                    }
                    Err(why) => Sampled {
                        passed: false,
                        value: None,
                        detail: format!("{} could not be sampled: {why}", limits.metric),
                        interrupted: self.effects.interrupted(),
                    },
                })
            }
            (_, Some(work)) => {
                let outcome = self.effects.perform(work, context).map_err(cannot)?;
                let passed = outcome.status == StepStatus::Succeeded;
                let detail = match (&outcome.detail, outcome.exit_code) {
                    (Some(detail), _) => detail.clone(),
                    (None, Some(code)) if !passed => format!("exited with {code}"),
                    (None, _) if passed => "passed".into(),
                    (None, _) => outcome.status.to_string(),
                };
                Ok(Sampled {
                    passed,
                    value: None,
                    detail,
                    interrupted: outcome.status == StepStatus::Interrupted,
                })
            }
            (_, None) => Ok(Sampled {
                passed: false,
                value: None,
                detail: "nothing to check".into(),
                interrupted: false,
            }),
        }
    }

    /// Records a sample in the step, in its log, and tells it: committed before the next one.
    fn keep_watch_sample(
        &mut self,
        index: usize,
        sampled: Sampled,
        left: Duration,
        allowed: u32,
        log: &std::path::Path,
    ) -> Result<()> {
        let sample = WatchSample {
            at: self.effects.now(),
            value: sampled.value,
            passed: sampled.passed,
            detail: self.masker.text(&sampled.detail),
        };
        self.effects.append_log(
            log,
            &format!(
                "{} {} {}\n",
                sample.at,
                if sample.passed { "pass" } else { "FAIL" },
                sample.detail
            ),
        );
        self.run.steps[index].samples.push(sample);
        let step = self.run.steps[index].clone();
        self.observers.emit(Event::WatchSampled {
            step: &step,
            left,
            allowed,
        })
    }

    /// How the watch ended, in the step's record: its status and a sentence that says why.
    fn finish_watch(&mut self, index: usize, end: StepStatus, allowed: u32, took: Duration) {
        let step = &mut self.run.steps[index];
        let taken = step.samples.len();
        let failed: Vec<&WatchSample> = step.samples.iter().filter(|s| !s.passed).collect();
        let last_failure = failed.last().map(|s| s.detail.clone());
        let detail = match end {
            StepStatus::Succeeded => format!(
                "{} over {}, {} failed ({} allowed)",
                plural(taken, "sample"),
                human(took),
                failed.len(),
                allowed.saturating_sub(1)
            ),
            StepStatus::Failed => format!(
                "{} of {} failed; the last: {}",
                failed.len(),
                plural(taken, "sample"),
                last_failure.unwrap_or_default()
            ),
            _ => format!(
                "interrupted after {}, {} failed",
                plural(taken, "sample"),
                failed.len()
            ),
        };
        step.attempts = step.attempts.max(1);
        step.status = end;
        step.duration_ms = Some(took.as_millis() as u64);
        step.detail = Some(detail);
    }
}
