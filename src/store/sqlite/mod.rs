//! The record store as an embedded SQLite database in the state directory.
//!
//! SQLite needs no server, keeps the whole record in one file beside the runbooks' state, and
//! commits durably enough for a release: in WAL mode with `synchronous=NORMAL`, each commit
//! survives the death of the process at the cost of one append to the log. This module opens
//! the database and maps every failure to a store error that names it; the schema and its
//! upgrades, runs and steps, and locks each have their own module.

mod columns;
mod locks;
mod migrations;
mod runs;

use std::path::{Path, PathBuf};

use rusqlite::Connection;

use self::columns::Fault;
use self::locks::{Acquired, Claim};
use crate::error::{Error, Lock, Result};
use crate::store::record::{RunRecord, StepRecord};
use crate::store::{LockHolder, Owner, Store, resolve_run_id_with};
use crate::text::timestamp::Timestamp;

/// The file of the database in the state directory.
const DATABASE: &str = "shipbook.db";

pub(super) struct SqliteStore {
    connection: Connection,
    path: PathBuf,
}

impl SqliteStore {
    /// Whether the state directory holds a database.
    pub(super) fn exists(state_dir: &Path) -> bool {
        state_dir.join(DATABASE).exists()
    }

    /// Opens (creating if needed) the database in `state_dir`, refusing one that cannot be
    /// trusted and upgrading an older one.
    pub(super) fn open(state_dir: &Path) -> Result<SqliteStore> {
        std::fs::create_dir_all(state_dir).map_err(|source| Error::StateDir {
            path: state_dir.to_path_buf(),
            source,
        })?;
        let path = state_dir.join(DATABASE);
        let failed = |message: String| Error::Store {
            path: path.clone(),
            message,
        };
        let mut connection =
            Connection::open(&path).map_err(|error| failed(format!("cannot open: {error}")))?;
        migrations::prepare(&mut connection).map_err(failed)?;
        Ok(SqliteStore { connection, path })
    }

    /// The store error for a fault of this database.
    fn error(&self, fault: Fault) -> Error {
        Error::Store {
            path: self.path.clone(),
            message: fault.to_string(),
        }
    }
}

impl Store for SqliteStore {
    fn insert_run(&mut self, run: &RunRecord, owner: &Owner) -> Result<()> {
        runs::insert_run(&mut self.connection, run, owner).map_err(|fault| self.error(fault))
    }

    fn resume_run(&mut self, run: &RunRecord, owner: &Owner) -> Result<()> {
        runs::resume_run(&mut self.connection, run, owner).map_err(|fault| self.error(fault))
    }

    fn insert_step(&mut self, run_id: &str, step: &StepRecord) -> Result<()> {
        runs::upsert_step(&self.connection, run_id, step).map_err(|fault| self.error(fault))
    }

    fn update_step(&mut self, run_id: &str, step: &StepRecord) -> Result<()> {
        runs::upsert_step(&self.connection, run_id, step).map_err(|fault| self.error(fault))
    }

    fn update_metrics(&mut self, run: &RunRecord) -> Result<()> {
        runs::update_metrics(&self.connection, run).map_err(|fault| self.error(fault))
    }

    fn finish_run(&mut self, run: &RunRecord) -> Result<()> {
        runs::finish_run(&self.connection, run).map_err(|fault| self.error(fault))
    }

    fn rewrite_run(&mut self, run: &RunRecord) -> Result<()> {
        runs::rewrite_run(&mut self.connection, run).map_err(|fault| self.error(fault))
    }

    fn find_rehearsal(
        &self,
        runbook: &str,
        env: &str,
        content_hash: &str,
        git_sha: &str,
    ) -> Result<Option<RunRecord>> {
        runs::find_rehearsal(&self.connection, runbook, env, content_hash, git_sha)
            .map_err(|fault| self.error(fault))?
            .map(|run_id| self.load_run(&run_id))
            .transpose()
    }

    fn resolve_run_id(&self, query: &str) -> Result<String> {
        resolve_run_id_with(query, |query| {
            runs::run_ids(&self.connection, query).map_err(|fault| self.error(fault))
        })
    }

    fn list_runs(&self, runbook: Option<&str>, limit: usize) -> Result<Vec<RunRecord>> {
        runs::list_runs(&self.connection, runbook, limit).map_err(|fault| self.error(fault))
    }

    fn load_run(&self, run_id: &str) -> Result<RunRecord> {
        runs::load_run(&self.connection, run_id)
            .map_err(|fault| self.error(fault))?
            .ok_or_else(|| Error::UnknownRun {
                query: run_id.to_string(),
            })
    }

    fn acquire_lock(
        &mut self,
        runbook: &str,
        env: &str,
        run_id: &str,
        operator: &str,
        owner: &Owner,
        since: Timestamp,
    ) -> Result<Option<LockHolder>> {
        let claim = Claim {
            runbook,
            env,
            run_id,
            operator,
            owner,
            since,
        };
        match locks::acquire(&mut self.connection, &claim).map_err(|fault| self.error(fault))? {
            Acquired::Taken { taken_over } => Ok(taken_over),
            Acquired::Held { holder, host } => Err(Error::Locked(Box::new(Lock {
                runbook: runbook.to_string(),
                env: env.to_string(),
                holder_run: holder.run_id,
                holder_operator: holder.operator,
                holder_pid: holder.pid,
                holder_since: holder.since,
                holder_host: host,
            }))),
        }
    }

    fn release_lock(&mut self, runbook: &str, env: &str, run_id: &str) -> Result<()> {
        locks::release(&self.connection, runbook, env, run_id).map_err(|fault| self.error(fault))
    }
}

#[cfg(test)]
mod tests;
