//! The record store as an observer: every event becomes a committed row before anyone else
//! hears of it.

use crate::error::Result;
use crate::event::{Event, Observer};
use crate::store::{Owner, Store};

pub struct Recorder<'a> {
    pub store: &'a mut Store,
    pub owner: Owner,
    /// The run being recorded, known from `RunStarted` on.
    pub run_id: String,
}

impl Observer for Recorder<'_> {
    fn on_event(&mut self, event: &Event<'_>) -> Result<()> {
        match event {
            Event::RunStarted { run } => {
                self.run_id = run.run_id.clone();
                self.store.insert_run(run, &self.owner)
            }
            Event::StepStarted { step, .. }
            | Event::StepRetrying { step, .. }
            | Event::StepFinished { step } => self.store.update_step(&self.run_id, step),
            Event::RunFinished { run } => {
                self.store.finish_run(
                    &run.run_id,
                    run.status,
                    run.status_reason.as_deref(),
                    run.finished_at.as_deref().unwrap_or_default(),
                )?;
                if let Some(note) = &run.note {
                    self.store.set_note(&run.run_id, note)?;
                }
                Ok(())
            }
        }
    }
}
