//! The local journal as a record store: what an emergency rollback records into when the team
//! store cannot be reached.
//!
//! A rollback must never wait for a database. When the team store is away, the rollback records
//! into the state directory's `pending/` instead: the whole record of the run, written again
//! (atomically) at every change, exactly as a run that lost its store keeps its record there.
//! `shipbook store sync`, or the next command that reaches the team store, writes it in. There
//! is no team lock to take from here: the engineer was told so and agreed before the run.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::store::record::{RunRecord, StepRecord};
use crate::store::{
    LockClaim, LockHolder, LockOutcome, Owner, Store, pending, resolve_run_id_with,
};

pub(super) struct JournalStore {
    state_dir: PathBuf,
    /// The run being recorded, as it stands: a step's change rewrites the whole record.
    run: Option<RunRecord>,
}

impl JournalStore {
    pub(super) fn new(state_dir: &Path) -> JournalStore {
        JournalStore {
            state_dir: state_dir.to_path_buf(),
            run: None,
        }
    }

    fn keep(&mut self, run: &RunRecord) -> Result<()> {
        self.run = Some(run.clone());
        self.write()
    }

    fn write(&self) -> Result<()> {
        let Some(run) = &self.run else {
            return Ok(());
        };
        match pending::park(&self.state_dir, run) {
            Ok(parked) if parked.file.starts_with(&parked.pending_dir) => Ok(()),
            Ok(parked) => Err(self.error(format!(
                "cannot write the journal in {}; the record went to {}",
                parked.pending_dir.display(),
                parked.file.display()
            ))),
            Err(why) => Err(self.error(why)),
        }
    }

    fn error(&self, message: String) -> Error {
        Error::Store {
            path: self.state_dir.join(pending::PENDING_DIR),
            message,
        }
    }

    fn with_step(&mut self, run_id: &str, step: &StepRecord) -> Result<()> {
        let Some(run) = self.run.as_mut().filter(|run| run.run_id == run_id) else {
            return Err(self.error(format!("run {run_id} is not being recorded here")));
        };
        match run
            .steps
            .iter_mut()
            .find(|known| known.position == step.position)
        {
            Some(known) => *known = step.clone(),
            None => run.steps.push(step.clone()),
        }
        self.write()
    }

    /// The records waiting in the journal, and the one being written.
    fn records(&self) -> Vec<RunRecord> {
        let mut runs = pending::waiting(&self.state_dir);
        if let Some(run) = &self.run {
            runs.retain(|waiting| waiting.run_id != run.run_id);
            runs.push(run.clone());
        }
        runs.sort_by(|a, b| {
            b.started_at
                .cmp(&a.started_at)
                .then(b.run_id.cmp(&a.run_id))
        });
        runs
    }
}

impl Store for JournalStore {
    fn insert_run(&mut self, run: &RunRecord, _owner: &Owner) -> Result<()> {
        self.keep(run)
    }

    fn resume_run(&mut self, run: &RunRecord, _owner: &Owner) -> Result<()> {
        self.keep(run)
    }

    fn insert_step(&mut self, run_id: &str, step: &StepRecord) -> Result<()> {
        self.with_step(run_id, step)
    }

    fn update_step(&mut self, run_id: &str, step: &StepRecord) -> Result<()> {
        self.with_step(run_id, step)
    }

    fn update_metrics(&mut self, run: &RunRecord) -> Result<()> {
        self.keep(run)
    }

    fn finish_run(&mut self, run: &RunRecord) -> Result<()> {
        self.keep(run)
    }

    fn rewrite_run(&mut self, run: &RunRecord) -> Result<()> {
        self.keep(run)
    }

    fn rehearsals(&mut self, runbook: &str, env: &str, limit: usize) -> Result<Vec<RunRecord>> {
        Ok(self
            .records()
            .into_iter()
            .filter(|run| {
                run.runbook == runbook
                    && run.env.as_deref() == Some(env)
                    && run.mode == crate::runbook::Mode::Rehearsal
            })
            .take(limit)
            .collect())
    }

    fn resolve_run_id(&mut self, query: &str) -> Result<String> {
        let ids: Vec<String> = self.records().into_iter().map(|run| run.run_id).collect();
        resolve_run_id_with(query, |query| {
            Ok(match query {
                super::RunQuery::Newest => ids.into_iter().take(1).collect(),
                super::RunQuery::Prefix(prefix) => ids
                    .into_iter()
                    .filter(|id| id.starts_with(prefix))
                    .collect(),
            })
        })
    }

    fn list_runs(&mut self, runbook: Option<&str>, limit: usize) -> Result<Vec<RunRecord>> {
        Ok(self
            .records()
            .into_iter()
            .filter(|run| runbook.is_none_or(|name| run.runbook == name))
            .take(limit)
            .map(|run| RunRecord {
                steps: Vec::new(),
                ..run
            })
            .collect())
    }

    fn load_run(&mut self, run_id: &str) -> Result<RunRecord> {
        self.records()
            .into_iter()
            .find(|run| run.run_id == run_id)
            .ok_or_else(|| Error::UnknownRun {
                query: run_id.to_string(),
            })
    }

    /// No lock can be checked without the team store; the rollback goes ahead as agreed.
    fn acquire_lock(&mut self, _claim: &LockClaim<'_>) -> Result<LockOutcome> {
        Ok(LockOutcome::Taken { taken_over: None })
    }

    fn release_lock(&mut self, _runbook: &str, _env: &str, _run_id: &str) -> Result<()> {
        Ok(())
    }

    fn break_lock(&mut self, _runbook: &str, _env: &str, _holder: &LockHolder) -> Result<bool> {
        Ok(false)
    }
}
