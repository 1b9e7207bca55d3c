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
use crate::error::{Error, Result};
use crate::store::record::{RunRecord, StepRecord};
use crate::store::{LockClaim, LockHolder, LockOutcome, Owner, Store, resolve_run_id_with};

/// The file of the database in the state directory.
const DATABASE: &str = "shipbook.db";

pub(super) struct SqliteStore {
    connection: Connection,
    path: PathBuf,
    /// The device and inode of the database file as opened. SQLite goes on writing into a file
    /// that was deleted (or replaced) under it, and every write succeeds into nothing: each
    /// write of a run first checks that the file at `path` is still this one.
    file: FileIdentity,
}

/// Which file a path named: its device and inode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileIdentity {
    device: u64,
    inode: u64,
}

impl FileIdentity {
    fn of(path: &Path) -> std::io::Result<FileIdentity> {
        use std::os::unix::fs::MetadataExt as _;
        let metadata = std::fs::metadata(path)?;
        Ok(FileIdentity {
            device: metadata.dev(),
            inode: metadata.ino(),
        })
    }
}

impl SqliteStore {
    /// Whether the state directory holds a database.
    pub(super) fn exists(state_dir: &Path) -> bool {
        state_dir.join(DATABASE).exists()
    }

    /// Opens (creating if needed) the database in `state_dir`, refusing one that cannot be
    /// trusted and upgrading an older one.
    pub(super) fn open(state_dir: &Path) -> Result<SqliteStore> {
        crate::sys::state::prepare(state_dir).map_err(|source| Error::StateDir {
            path: state_dir.to_path_buf(),
            source,
        })?;
        let path = state_dir.join(DATABASE);
        let failed = |message: String| Error::Store {
            path: path.clone(),
            message,
        };
        make_database_private(&path)
            .map_err(|error| failed(format!("cannot make the database private: {error}")))?;
        // Opening a new database switches it to WAL and migrates it, and SQLite's own locks do
        // not make that safe when several shipbooks start at once (a deferred transaction that
        // must upgrade its lock fails at once, whatever the busy timeout): one at a time, by a
        // lock on a file beside the database, held only while opening.
        let _opening = lock_for_opening(state_dir)
            .map_err(|error| failed(format!("cannot lock the database for opening: {error}")))?;
        let mut connection =
            Connection::open(&path).map_err(|error| failed(format!("cannot open: {error}")))?;
        migrations::prepare(&mut connection).map_err(failed)?;
        let file = FileIdentity::of(&path)
            .map_err(|error| failed(format!("cannot read what file it is: {error}")))?;
        Ok(SqliteStore {
            connection,
            path,
            file,
        })
    }

    /// Refuses to write the record of `run_id` into a database file that is no longer the one
    /// at the store's path: what is written there would be lost when the store is closed.
    fn still_in_place(&self, run_id: &str) -> Result<()> {
        if FileIdentity::of(&self.path).is_ok_and(|now| now == self.file) {
            return Ok(());
        }
        Err(Error::RecordLost {
            path: self.path.clone(),
            run_id: run_id.to_string(),
        })
    }

    /// The store error for a fault of this database.
    fn error(&self, fault: Fault) -> Error {
        Error::Store {
            path: self.path.clone(),
            message: fault.to_string(),
        }
    }
}

/// Creates the database file private (0600) before SQLite opens it, and makes an existing one
/// and its `-wal` and `-shm` files private again. SQLite creates those two with the database
/// file's own mode, so a private database keeps them private.
fn make_database_private(path: &Path) -> std::io::Result<()> {
    use crate::sys::fs::{PRIVATE_FILE, make_private, open_private_append};
    open_private_append(path)?;
    for suffix in ["-wal", "-shm"] {
        let mut companion = path.as_os_str().to_os_string();
        companion.push(suffix);
        let companion = PathBuf::from(companion);
        if companion.exists() {
            make_private(&companion, PRIVATE_FILE)?;
        }
    }
    Ok(())
}

impl Store for SqliteStore {
    fn insert_run(&mut self, run: &RunRecord, owner: &Owner) -> Result<()> {
        self.still_in_place(&run.run_id)?;
        runs::insert_run(&mut self.connection, run, owner).map_err(|fault| self.error(fault))
    }

    fn resume_run(&mut self, run: &RunRecord, owner: &Owner) -> Result<()> {
        self.still_in_place(&run.run_id)?;
        runs::resume_run(&mut self.connection, run, owner).map_err(|fault| self.error(fault))
    }

    fn insert_step(&mut self, run_id: &str, step: &StepRecord) -> Result<()> {
        self.still_in_place(run_id)?;
        runs::upsert_step(&self.connection, run_id, step).map_err(|fault| self.error(fault))
    }

    fn update_step(&mut self, run_id: &str, step: &StepRecord) -> Result<()> {
        self.still_in_place(run_id)?;
        runs::update_step(&self.connection, run_id, step).map_err(|fault| self.error(fault))
    }

    fn update_steps(&mut self, run_id: &str, steps: &[&StepRecord]) -> Result<()> {
        self.still_in_place(run_id)?;
        runs::update_steps(&self.connection, run_id, steps).map_err(|fault| self.error(fault))
    }

    fn update_metrics(&mut self, run: &RunRecord) -> Result<()> {
        self.still_in_place(&run.run_id)?;
        runs::update_metrics(&self.connection, run).map_err(|fault| self.error(fault))
    }

    fn finish_run(&mut self, run: &RunRecord) -> Result<()> {
        self.still_in_place(&run.run_id)?;
        runs::finish_run(&self.connection, run).map_err(|fault| self.error(fault))
    }

    fn rewrite_run(&mut self, run: &RunRecord) -> Result<()> {
        self.still_in_place(&run.run_id)?;
        runs::rewrite_run(&mut self.connection, run).map_err(|fault| self.error(fault))
    }

    fn rehearsals(&mut self, runbook: &str, env: &str, limit: usize) -> Result<Vec<RunRecord>> {
        runs::rehearsal_ids(&self.connection, runbook, env, limit)
            .map_err(|fault| self.error(fault))?
            .iter()
            .map(|run_id| self.load_run(run_id))
            .collect()
    }

    fn resolve_run_id(&mut self, query: &str) -> Result<String> {
        resolve_run_id_with(query, |query| {
            runs::run_ids(&self.connection, query).map_err(|fault| self.error(fault))
        })
    }

    fn list_runs(&mut self, runbook: Option<&str>, limit: usize) -> Result<Vec<RunRecord>> {
        runs::list_runs(&self.connection, runbook, limit).map_err(|fault| self.error(fault))
    }

    fn load_run(&mut self, run_id: &str) -> Result<RunRecord> {
        runs::load_run(&self.connection, run_id)
            .map_err(|fault| self.error(fault))?
            .ok_or_else(|| Error::UnknownRun {
                query: run_id.to_string(),
            })
    }

    fn acquire_lock(&mut self, claim: &LockClaim<'_>) -> Result<LockOutcome> {
        locks::acquire(&mut self.connection, claim).map_err(|fault| self.error(fault))
    }

    fn release_lock(&mut self, runbook: &str, env: &str, run_id: &str) -> Result<()> {
        locks::release(&self.connection, runbook, env, run_id).map_err(|fault| self.error(fault))
    }

    /// A local lock is a row: the holder on this host has been signalled already, and one on
    /// another host (a shared state directory) cannot be reached from here.
    fn break_lock(&mut self, runbook: &str, env: &str, holder: &LockHolder) -> Result<bool> {
        self.release_lock(runbook, env, &holder.run_id)?;
        Ok(false)
    }
}

#[cfg(test)]
mod tests;

/// Takes the lock that lets one shipbook at a time open (create, migrate) the database of
/// `state_dir`; it is released when the returned file is dropped.
fn lock_for_opening(state_dir: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(state_dir.join("shipbook.db.open-lock"))?;
    file.lock()?;
    Ok(file)
}
