//! Metrics: sampled before the first step and after the last, and the guards that fail a run
//! whose metric got worse than allowed.

use super::event::Event;
use super::executor::{Executor, Stop};
use crate::error::{Error, Result};

impl Executor<'_> {
    /// Samples every metric, before the first step or after the last. Returns a stop when a
    /// guarded metric cannot be sampled, or (after) when a guard is exceeded.
    pub(super) fn sample_metrics(&mut self, after: bool) -> Result<Option<Stop>> {
        if self.plan.metrics.is_empty() {
            return Ok(None);
        }
        let plan = self.plan;
        let phase = if after { "after" } else { "before" };
        let mut stop = None;
        for (index, metric) in plan.metrics.iter().enumerate() {
            let log = self
                .options
                .logs_dir
                .join(format!("metric-{}-{phase}.log", metric.name));
            let env = self.command_env(&format!("metric-{}", metric.name), &plan.process_env);
            let sample = self.effects.sample(metric, &env, &log).map_err(|source| {
                Error::io(format!("cannot sample metric `{}`", metric.name), source)
            })?;
            let problem = self.keep_sample(index, sample, after);
            if problem && stop.is_none() && self.run.metrics[index].max_regression.is_some() {
                stop = Some(Stop::Failed(format!(
                    "metric `{}` has a guard but could not be sampled {phase} the steps",
                    metric.name
                )));
            }
            if self.effects.interrupted() {
                return Ok(Some(Stop::Interrupted));
            }
        }
        if after && stop.is_none() {
            stop = self.exceeded_guards();
        }
        let run = self.run.clone();
        self.observers
            .emit(Event::MetricsSampled { run: &run, after })?;
        Ok(stop)
    }

    /// Keeps a sample (or why there is none) in the record; returns true for a problem.
    fn keep_sample(&mut self, index: usize, sample: Result<f64, String>, after: bool) -> bool {
        let phase = if after { "after" } else { "before" };
        let record = &mut self.run.metrics[index];
        match sample {
            Ok(value) => {
                if after {
                    record.after = Some(value);
                } else {
                    record.before = Some(value);
                }
                false
            }
            Err(problem) => {
                let problem = format!("{phase}: {}", self.masker.text(&problem));
                record.problem = Some(match record.problem.take() {
                    Some(earlier) => format!("{earlier}; {problem}"),
                    None => problem,
                });
                true
            }
        }
    }

    /// The failure of every guard that a metric exceeded, when one did.
    fn exceeded_guards(&self) -> Option<Stop> {
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
        (!exceeded.is_empty())
            .then(|| Stop::Failed(format!("metric guard exceeded: {}", exceeded.join("; "))))
    }
}
