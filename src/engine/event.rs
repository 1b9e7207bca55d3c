//! What happens during a run, as the executor tells it to its observers.
//!
//! The executor does not print, write JSON or render notes itself: it emits these events, and
//! each observer (the record store, the terminal reporter, the JSON event writer) turns them
//! into its own output. The record is always first, so that nothing is shown before it is kept.

use std::time::Duration;

use crate::error::Result;
use crate::store::record::{RunRecord, StepRecord};

pub enum Event<'a> {
    /// A run starts, or (`resumed`) continues where it stopped.
    RunStarted { run: &'a RunRecord, resumed: bool },
    /// A step was added to the run while it ran (the undo of a step).
    StepAdded { step: &'a StepRecord },
    /// The metrics were sampled, before the first step or (`after`) after the last.
    MetricsSampled { run: &'a RunRecord, after: bool },
    /// An attempt of a step begins (`step.attempts` is its number).
    StepStarted {
        step: &'a StepRecord,
        max_attempts: u32,
    },
    /// An attempt failed and another will follow after `delay`.
    StepRetrying {
        step: &'a StepRecord,
        delay: Duration,
    },
    /// A step is over: succeeded, failed, skipped, timed out or interrupted.
    StepFinished { step: &'a StepRecord },
    /// The run is over and its change note written.
    RunFinished { run: &'a RunRecord },
}

/// Something that follows a run.
pub trait Observer {
    fn on_event(&mut self, event: &Event<'_>) -> Result<()>;
}
