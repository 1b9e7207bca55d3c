//! The record store as an observer: every event becomes a committed row before anyone else
//! hears of it.
//!
//! When a write fails, the run stops (the executor sees the error), and the record store is
//! behind what happened. The end of the run then writes the whole record at once, which catches
//! up if the store can be written again; if it still cannot, the record is kept beside it
//! (`store::pending`), and the error says where.

use std::path::PathBuf;

use crate::engine::event::{Criticality, Event, Observer};
use crate::error::{Error, Result};
use crate::store::record::{RunRecord, StepRecord};
use crate::store::{Owner, Store, pending};

pub struct Recorder<'a> {
    store: &'a mut dyn Store,
    owner: Owner,
    /// The run being recorded, known from `RunStarted` on.
    run_id: String,
    /// Where a record that the store cannot take is kept instead.
    state_dir: PathBuf,
    /// Whether a write has failed, so that the store no longer holds all that happened.
    behind: bool,
}

impl<'a> Recorder<'a> {
    pub fn new(
        store: &'a mut dyn Store,
        owner: Owner,
        run_id: String,
        state_dir: PathBuf,
    ) -> Recorder<'a> {
        Recorder {
            store,
            owner,
            run_id,
            state_dir,
            behind: false,
        }
    }

    fn write(&mut self, event: &Event<'_>) -> Result<()> {
        match event {
            Event::RunStarted { run, resumed } => {
                self.run_id = run.run_id.clone();
                if *resumed {
                    self.store.resume_run(run, &self.owner)
                } else {
                    self.store.insert_run(run, &self.owner)
                }
            }
            Event::StepAdded { step } => self.store.insert_step(&self.run_id, step),
            Event::MetricsSampled { run, .. } => self.store.update_metrics(run),
            Event::StepStarted { step, .. }
            | Event::StepRetrying { step, .. }
            | Event::WatchSampled { step, .. }
            | Event::StepFinished { step } => self.store.update_step(&self.run_id, step),
            Event::RunFinished { run } if self.behind => self.store.rewrite_run(run),
            Event::RunFinished { run } => self.store.finish_run(run),
        }
    }

    /// The end of a run that the store cannot take: the record is kept beside it, and the
    /// error says where (or that it could not be kept at all).
    fn keep_aside(&self, error: Error, run: &RunRecord) -> Error {
        let kept = match pending::park(&self.state_dir, run) {
            Ok(parked) => parked.describe(),
            Err(why) => format!("the run's true record could not be kept anywhere else: {why}"),
        };
        Error::RecordKeptAside {
            cause: Box::new(error),
            kept,
        }
    }
}

impl Observer for Recorder<'_> {
    fn name(&self) -> &'static str {
        "the record store"
    }

    /// A run whose record cannot be kept must stop: it could be neither resumed nor audited.
    fn criticality(&self) -> Criticality {
        Criticality::Critical
    }

    /// A step's finish and the next step's start are written in one commit.
    fn on_events(&mut self, events: &[Event<'_>]) -> Result<()> {
        let steps: Option<Vec<&StepRecord>> = events
            .iter()
            .map(|event| match event {
                Event::StepStarted { step, .. } | Event::StepFinished { step } => Some(*step),
                _ => None,
            })
            .collect();
        match steps {
            Some(steps) if steps.len() > 1 => {
                let written = self.store.update_steps(&self.run_id, &steps);
                if written.is_err() {
                    self.behind = true;
                }
                written
            }
            _ => events.iter().try_for_each(|event| self.on_event(event)),
        }
    }

    fn on_event(&mut self, event: &Event<'_>) -> Result<()> {
        let written = self.write(event);
        match (written, event) {
            (Ok(()), _) => Ok(()),
            (Err(error), Event::RunFinished { run }) => Err(self.keep_aside(error, run)),
            (Err(error), _) => {
                self.behind = true;
                Err(error)
            }
        }
    }
}
