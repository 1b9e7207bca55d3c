//! What happens during a run, as the executor tells it to its observers.
//!
//! The executor does not print, write JSON or render notes itself: it emits these events, and
//! each observer (the record store, the terminal reporter, the JSON event writer, JUnit, CI
//! annotations) turns them into its own output. The record is always first, so that nothing is
//! shown before it is kept.
//!
//! Only the record is critical: if it cannot be written, the run stops, because a release
//! whose record is lost cannot be resumed or audited. Every other observer is best-effort: a
//! terminal that went away or a closed JSON pipe is reported once and dropped, and the steps,
//! the record and the note go on.

use std::io::Write as _;
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
    /// A `watch` step took a sample (the last of `step.samples`); `left` is how long it still
    /// watches, and `allowed` how many failed samples fail it.
    WatchSampled {
        step: &'a StepRecord,
        left: Duration,
        allowed: u32,
    },
    /// A step is over: succeeded, failed, skipped, timed out or interrupted.
    StepFinished { step: &'a StepRecord },
    /// The run is over and its change note written.
    RunFinished { run: &'a RunRecord },
}

/// Whether a run can go on without an observer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Criticality {
    /// Its failure stops the run (the record store).
    Critical,
    /// Its failure is reported once and the observer dropped.
    BestEffort,
}

/// Something that follows a run.
pub trait Observer {
    fn on_event(&mut self, event: &Event<'_>) -> Result<()>;

    /// Events that happened together (a step's finish and the next one's start): the record
    /// keeps them in one commit. Others hear them one by one.
    fn on_events(&mut self, events: &[Event<'_>]) -> Result<()> {
        events.iter().try_for_each(|event| self.on_event(event))
    }

    /// What the observer is, for the message when it fails ("JSON events on stdout").
    fn name(&self) -> &'static str;

    fn criticality(&self) -> Criticality {
        Criticality::BestEffort
    }
}

/// The observers of one run, in the order they hear each event.
pub struct Observers<'a> {
    active: Vec<&'a mut dyn Observer>,
    /// Whether a critical observer (the record) has failed during this run.
    critical_failed: bool,
    /// A step that succeeded, whose finish is told together with the next event (see
    /// [`Observers::hold_finished`]).
    held: Option<StepRecord>,
}

impl<'a> Observers<'a> {
    pub fn new(observers: Vec<&'a mut dyn Observer>) -> Observers<'a> {
        Observers {
            active: observers,
            critical_failed: false,
            held: None,
        }
    }

    /// Holds the finish of a step that succeeded until the next event, which the executor
    /// emits at once (the next step's start), and tells both together: the record keeps them
    /// in one commit, which halves what a step's record costs. Nothing happens in between (no
    /// process runs, nobody is asked), so "every change is committed before the next thing
    /// happens" still holds, and nothing about the step is shown before it is kept. The
    /// executor calls [`Observers::flush`] wherever no event follows at once.
    pub fn hold_finished(&mut self, step: StepRecord) -> Result<()> {
        self.flush()?;
        self.held = Some(step);
        Ok(())
    }

    /// Tells the held finish, if there is one, on its own.
    pub fn flush(&mut self) -> Result<()> {
        match self.held.take() {
            Some(step) => self.deliver(&[Event::StepFinished { step: &step }]),
            None => Ok(()),
        }
    }

    /// Whether the record has refused an event: the run must then stop before the next thing.
    pub fn critical_failed(&self) -> bool {
        self.critical_failed
    }

    /// Tells every observer; a critical failure is returned, a best-effort one drops the
    /// observer after one warning. An event the record refused is not shown (nothing is shown
    /// before it is kept), except the end of the run: the terminal, the JSON events, the JUnit
    /// report and CI still learn how the run truly ended when the record cannot take it.
    pub fn emit(&mut self, event: Event<'_>) -> Result<()> {
        match self.held.take() {
            Some(step) => self.deliver(&[Event::StepFinished { step: &step }, event]),
            None => self.deliver(&[event]),
        }
    }

    fn deliver(&mut self, events: &[Event<'_>]) -> Result<()> {
        let ends_the_run = events
            .iter()
            .any(|event| matches!(event, Event::RunFinished { .. }));
        let mut failed = Vec::new();
        let mut critical = None;
        for (index, observer) in self.active.iter_mut().enumerate() {
            if critical.is_some() && observer.criticality() == Criticality::Critical {
                continue;
            }
            if let Err(error) = observer.on_events(events) {
                if observer.criticality() == Criticality::Critical {
                    self.critical_failed = true;
                    if !ends_the_run {
                        return Err(error);
                    }
                    critical = Some(error);
                    continue;
                }
                // Written directly, ignoring errors: stderr itself may be what went away.
                let _ = writeln!(
                    std::io::stderr(),
                    "warning: {} stopped ({error}); the run, its record and its note go on",
                    observer.name()
                );
                failed.push(index);
            }
        }
        for index in failed.into_iter().rev() {
            self.active.remove(index);
        }
        critical.map_or(Ok(()), Err)
    }
}
