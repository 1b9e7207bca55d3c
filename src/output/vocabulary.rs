//! A record's mode and step kinds, read as the runbook's own vocabulary.
//!
//! The record keeps a run's mode and a step's kind as text. Renderers that decide by them (the
//! note's title, the reporter's spinner) ask these functions for the runbook's `Mode` and
//! `StepKind` instead of comparing strings, so that a misspelt kind cannot compile, and so that
//! the day the record holds the enums themselves only the bodies below change.

use crate::runbook::{Mode, StepKind};
use crate::store::record::{RunRecord, StepRecord};

/// The mode a run was made in. A record from a future version with a mode this one does not
/// know reads as a plain run, the mode with no special wording.
pub fn run_mode(run: &RunRecord) -> Mode {
    Mode::parse(&run.mode).unwrap_or(Mode::Run)
}

/// The kind of a recorded step, when it is one this version knows.
pub fn step_kind(step: &StepRecord) -> Option<StepKind> {
    StepKind::parse(&step.kind)
}
