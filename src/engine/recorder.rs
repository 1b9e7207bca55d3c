//! The record store as an observer: every event becomes a committed row before anyone else
//! hears of it.

use crate::engine::event::{Criticality, Event, Observer};
use crate::error::Result;
use crate::store::{Owner, Store};

pub struct Recorder<'a> {
    pub store: &'a mut dyn Store,
    pub owner: Owner,
    /// The run being recorded, known from `RunStarted` on.
    pub run_id: String,
}

impl Observer for Recorder<'_> {
    fn name(&self) -> &'static str {
        "the record store"
    }

    /// A run whose record cannot be kept must stop: it could be neither resumed nor audited.
    fn criticality(&self) -> Criticality {
        Criticality::Critical
    }

    fn on_event(&mut self, event: &Event<'_>) -> Result<()> {
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
            | Event::StepFinished { step } => self.store.update_step(&self.run_id, step),
            Event::RunFinished { run } => self.store.finish_run(run),
        }
    }
}
