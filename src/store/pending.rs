//! A run's record kept beside the database, for when the database cannot be written.
//!
//! When the record store refuses a write in the middle of a run (a full disk, most often), the
//! run stops before the next step, but the process that ran the steps still knows what they did.
//! Rather than lose that, it keeps the whole record as JSON in `pending/` in the state directory
//! or, when even that cannot be written, in the system's temporary directory. Every later opening
//! of the record store writes what it finds in `pending/` into the database and removes it, so
//! that the record is whole again as soon as there is room; a record kept in the temporary
//! directory is moved into `pending/` by hand, as the message that names it says.

use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::store::record::RunRecord;
use crate::store::{Owner, Store};
use crate::sys::fs::{Existing, create_private_dir_all, write_atomically};

/// The directory of the state directory that holds records waiting to be written in.
pub const PENDING_DIR: &str = "pending";

/// Where a run's record was kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parked {
    pub file: PathBuf,
    /// The state directory's `pending/`, where the record must be for the store to take it.
    pub pending_dir: PathBuf,
}

impl Parked {
    /// Where the record is and how it gets into the record store, in one sentence.
    pub fn describe(&self) -> String {
        if self.file.starts_with(&self.pending_dir) {
            format!(
                "the run's true record was kept in {}; `shipbook store sync`, or the next shipbook command that opens the record store, writes it in (once it can be written)",
                self.file.display()
            )
        } else {
            format!(
                "the run's true record was kept in {}; once there is space, move it into {}/ and the next shipbook command writes it into the record store",
                self.file.display(),
                self.pending_dir.display()
            )
        }
    }
}

/// Keeps `run` beside the record store of `state_dir`: in its `pending/`, else in the system's
/// temporary directory. Returns where, or why neither could be written.
pub fn park(state_dir: &Path, run: &RunRecord) -> Result<Parked, String> {
    let json = serde_json::to_string_pretty(run)
        .map_err(|error| format!("cannot turn the record into JSON: {error}"))?;
    let name = format!("{}.json", run.run_id);
    let pending_dir = state_dir.join(PENDING_DIR);
    let in_state_dir = pending_dir.join(&name);
    // `pending/` is private like the rest of the state directory (its records quote commands).
    let first = match create_private_dir_all(&pending_dir)
        .and_then(|()| write_atomically(&in_state_dir, &json, Existing::Replace))
    {
        Ok(()) => {
            return Ok(Parked {
                file: in_state_dir,
                pending_dir,
            });
        }
        Err(error) => error,
    };
    let elsewhere = std::env::temp_dir().join(format!("shipbook-{name}"));
    match write_atomically(&elsewhere, &json, Existing::Replace) {
        Ok(()) => Ok(Parked {
            file: elsewhere,
            pending_dir,
        }),
        Err(second) => Err(format!(
            "it could not be kept in {} ({first}) nor in {} ({second})",
            in_state_dir.display(),
            elsewhere.display()
        )),
    }
}

/// The records waiting in `pending/` that can be read.
pub fn waiting(state_dir: &Path) -> Vec<RunRecord> {
    waiting_files(state_dir)
        .into_iter()
        .map(|(_, run)| run)
        .collect()
}

/// Each record waiting in `pending/` that can be read, with its file.
fn waiting_files(state_dir: &Path) -> Vec<(PathBuf, RunRecord)> {
    let Ok(entries) = std::fs::read_dir(state_dir.join(PENDING_DIR)) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_none_or(|extension| extension != "json") {
            continue;
        }
        if let Some(run) = std::fs::read(&path)
            .ok()
            .and_then(|json| serde_json::from_slice::<RunRecord>(&json).ok())
        {
            found.push((path, run));
        }
    }
    found
}

/// Writes every record waiting in `pending/` into `store`, removing each one written. One that
/// cannot be read or written yet stays for the next time; one older than what the store holds
/// (the run was resumed since) is dropped, not written over it; one of a run the store does not
/// know (its database was deleted or replaced during the run) is added to it.
pub fn write_in(state_dir: &Path, store: &mut dyn Store) -> Written {
    let mut written = Written::default();
    for (path, run) in waiting_files(state_dir) {
        if write_one(store, &run) {
            let _ = std::fs::remove_file(&path);
            written.written.push(run.run_id);
        } else {
            written.left.push(run.run_id);
        }
    }
    // Gone once nothing waits in it (removing a directory that is not empty fails).
    let _ = std::fs::remove_dir(state_dir.join(PENDING_DIR));
    written
}

/// What [`write_in`] did: the runs written in (or found already there), and those left waiting.
#[derive(Debug, Default)]
pub struct Written {
    pub written: Vec<String>,
    pub left: Vec<String>,
}

/// Writes one kept record into `store`; returns whether it is done with (written, or older than
/// what the store holds).
fn write_one(store: &mut dyn Store, run: &RunRecord) -> bool {
    match store.load_run(&run.run_id) {
        Ok(recorded) => {
            recorded.resumed.len() > run.resumed.len() || store.rewrite_run(run).is_ok()
        }
        // The database the run was recorded in is gone (deleted or replaced under it): the run
        // goes into this one, whole.
        Err(Error::UnknownRun { .. }) => {
            let owner = Owner {
                host: run.host.clone(),
                pid: run.pid,
                pid_start: None,
            };
            store.insert_run(run, &owner).is_ok()
        }
        Err(_) => false,
    }
}
