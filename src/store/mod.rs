//! The record store: what is kept of every run, and the one way the rest of shipbook reaches it.
//!
//! Every state change of a run is committed to the store before the next thing happens, so that
//! killing shipbook at any moment loses no finished step. The rest of the crate sees the store
//! only as the [`Store`] trait, opened by [`open`] or [`open_existing`] for a [`Backend`], and
//! never learns which database is behind it: SQLite in the state directory (the `sqlite`
//! module, the default), or a team's PostgreSQL (the `postgres` module, `--store URL`). When the
//! team store cannot be reached, an emergency rollback records into the local journal instead
//! (the `journal` module). What every backend must do alike (how a run id is resolved, how a run
//! whose process died is shown) is written once here.

#[cfg(test)]
mod contract;
#[cfg(test)]
mod fixtures;
mod journal;
pub mod pending;
pub mod postgres;
pub mod record;
mod sqlite;

use std::path::Path;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::store::record::{RunRecord, RunStatus, StepRecord, StepStatus};
use crate::sys::liveness;
use crate::text::timestamp::Timestamp;

/// A durable record of runs, their steps and the locks that keep two runs of one runbook and
/// environment apart. Every write is committed when the method returns.
pub trait Store {
    /// Records a new run and all its steps (pending), at once.
    fn insert_run(&mut self, run: &RunRecord, owner: &Owner) -> Result<()>;

    /// Records a run continuing: running again, owned by `owner`, with the resume noted, its
    /// content hash updated, and its steps replaced by `run.steps` (planned again), at once.
    fn resume_run(&mut self, run: &RunRecord, owner: &Owner) -> Result<()>;

    /// Adds a step to a run that is under way (the undo of a step).
    fn insert_step(&mut self, run_id: &str, step: &StepRecord) -> Result<()>;

    /// Writes the current state of one step of a run.
    fn update_step(&mut self, run_id: &str, step: &StepRecord) -> Result<()>;

    /// Writes the current state of several steps of a run that changed together (one step's
    /// finish and the next one's start), in one commit where the store can.
    fn update_steps(&mut self, run_id: &str, steps: &[&StepRecord]) -> Result<()> {
        steps
            .iter()
            .try_for_each(|step| self.update_step(run_id, step))
    }

    /// Writes the run's metrics as sampled so far.
    fn update_metrics(&mut self, run: &RunRecord) -> Result<()>;

    /// Records how a run ended: its status and why, when, its note and final metrics.
    fn finish_run(&mut self, run: &RunRecord) -> Result<()>;

    /// Writes the whole record of a run (how it stands and every step) at once, over what was
    /// recorded of it: after a write that failed, the record is made whole again.
    fn rewrite_run(&mut self, run: &RunRecord) -> Result<()>;

    /// The newest rehearsals of `runbook` in `env`, whatever became of them, newest first, at
    /// most `limit`, with their steps: the rehearsal gate judges each.
    fn rehearsals(&mut self, runbook: &str, env: &str, limit: usize) -> Result<Vec<RunRecord>>;

    /// Finds the run a user means: a full id, a unique prefix, or `last`.
    fn resolve_run_id(&mut self, query: &str) -> Result<String>;

    /// The runs (of one runbook, or all), newest first, at most `limit`, without their steps.
    fn list_runs(&mut self, runbook: Option<&str>, limit: usize) -> Result<Vec<RunRecord>>;

    /// One run with its steps.
    fn load_run(&mut self, run_id: &str) -> Result<RunRecord>;

    /// Takes the lock of a runbook and environment for a run, unless a live process holds it.
    /// A lock left by a process that no longer exists is taken over.
    fn acquire_lock(&mut self, claim: &LockClaim<'_>) -> Result<LockOutcome>;

    /// Releases the lock of a runbook and environment, if `run_id` holds it.
    fn release_lock(&mut self, runbook: &str, env: &str, run_id: &str) -> Result<()>;

    /// `--force-lock`: takes the lock away from `holder`, ending its connection to the store
    /// where the store can (PostgreSQL ends the holder's session, wherever it runs). Returns
    /// whether the holder was cut off that way; the caller has already signalled a holder on
    /// this host.
    fn break_lock(&mut self, runbook: &str, env: &str, holder: &LockHolder) -> Result<bool>;
}

/// Which record store the records go to: the state directory's own SQLite database, or a
/// team's PostgreSQL (`--store URL`). Logs, notes and the journal stay in the state directory
/// either way.
#[derive(Debug, Clone, Default)]
pub enum Backend {
    #[default]
    Local,
    Team(Arc<postgres::Target>),
}

impl Backend {
    /// The backend `--store` (or `SHIPBOOK_STORE`) and `--store-schema` choose; `PG*` variables
    /// fill what the URL leaves out.
    pub fn choose(url: Option<&str>, schema: &str) -> Result<Backend> {
        let Some(url) = url.filter(|url| !url.trim().is_empty()) else {
            return Ok(Backend::Local);
        };
        postgres::Target::parse(url, schema, &|name| std::env::var(name).ok())
            .map(|target| Backend::Team(Arc::new(target)))
            .map_err(|message| {
                Error::usage(
                    format!("--store: {message}"),
                    postgres::target::ACCEPTED.to_string(),
                )
            })
    }
}

/// Opens (creating if needed) the record store of a state directory, or the team store.
pub fn open(state_dir: &Path, backend: &Backend) -> Result<Box<dyn Store>> {
    refuse_non_directory(state_dir)?;
    let mut store: Box<dyn Store> = match backend {
        Backend::Local => Box::new(sqlite::SqliteStore::open(state_dir)?),
        Backend::Team(target) => Box::new(
            postgres::PostgresStore::open(target, true)?.expect("a created schema is there"),
        ),
    };
    // A record kept aside when the store could not be written goes in now, if it can.
    pending::write_in(state_dir, &mut *store);
    Ok(store)
}

/// The local journal of a state directory as a record store: what an emergency rollback records
/// into when the team store cannot be reached (see the `journal` module).
pub fn open_journal(state_dir: &Path) -> Result<Box<dyn Store>> {
    refuse_non_directory(state_dir)?;
    Ok(Box::new(journal::JournalStore::new(state_dir)))
}

/// The team store's schema version and locks, for `shipbook store status`; `None` when its
/// schema does not exist yet.
pub fn team_status(target: &postgres::Target) -> Result<Option<(i32, Vec<postgres::LockRow>)>> {
    match postgres::PostgresStore::open(target, false)? {
        Some(mut store) => store.status().map(Some),
        None => Ok(None),
    }
}

/// A state directory path that names something else (a file) is refused by every command,
/// not taken for an empty record.
fn refuse_non_directory(state_dir: &Path) -> Result<()> {
    match std::fs::metadata(state_dir) {
        Ok(metadata) if !metadata.is_dir() => Err(Error::StateDirNotADirectory {
            path: state_dir.to_path_buf(),
        }),
        _ => Ok(()),
    }
}

/// Opens the record store of a state directory only if there is one: reading commands must not
/// create state directories (nor a team store's schema).
pub fn open_existing(state_dir: &Path, backend: &Backend) -> Result<Option<Box<dyn Store>>> {
    refuse_non_directory(state_dir)?;
    // A record kept aside counts: the database it belongs in may be the one that went missing.
    let pending = state_dir.join(pending::PENDING_DIR).is_dir();
    match backend {
        Backend::Local if sqlite::SqliteStore::exists(state_dir) || pending => {
            open(state_dir, backend).map(Some)
        }
        Backend::Local => Ok(None),
        Backend::Team(_) if pending => open(state_dir, backend).map(Some),
        Backend::Team(target) => Ok(postgres::PostgresStore::open(target, false)?
            .map(|store| Box::new(store) as Box<dyn Store>)),
    }
}

/// A run asking for the lock of its runbook and environment.
#[derive(Debug, Clone, Copy)]
pub struct LockClaim<'a> {
    pub runbook: &'a str,
    pub env: &'a str,
    pub run_id: &'a str,
    pub operator: &'a str,
    pub owner: &'a Owner,
    pub since: Timestamp,
}

/// What came of asking for a lock.
#[derive(Debug, Clone)]
pub enum LockOutcome {
    /// The lock is the run's now. It was free, or held by a process that is gone: `taken_over`.
    Taken { taken_over: Option<LockHolder> },
    /// A live process holds it; nothing was written.
    Held(LockHolder),
}

/// Who holds a lock, for the message of a run that could not take it.
#[derive(Debug, Clone)]
pub struct LockHolder {
    pub run_id: String,
    pub operator: String,
    pub pid: u32,
    pub since: Timestamp,
    /// Only a holder on this host can be stopped by `--force-lock`.
    pub host: String,
}

/// The process that owns a run or a lock: enough to tell later whether it still exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    pub host: String,
    pub pid: u32,
    /// When the process started, in the operating system's terms, so that a reused pid is not
    /// taken for the owner.
    pub pid_start: Option<u64>,
}

impl Owner {
    pub fn this_process() -> Owner {
        let pid = std::process::id();
        Owner {
            host: crate::sys::operator::hostname(),
            pid,
            pid_start: liveness::process_start(pid),
        }
    }

    /// Whether the owning process is gone. One on another host is assumed alive.
    pub fn is_gone(&self) -> bool {
        liveness::is_gone(&self.host, self.pid, self.pid_start)
    }
}

/// How many run ids a backend returns for a prefix at most: one more than an ambiguity shows,
/// so that the message can say "more than 10".
const MAX_CANDIDATES: usize = 11;

/// What a user's run query asks a backend for.
enum RunQuery<'a> {
    /// The newest run (`last`).
    Newest,
    /// Every run whose id starts with this, up to [`MAX_CANDIDATES`] of them.
    Prefix(&'a str),
}

/// Resolves a user's run query the same way for every backend: `candidates` finds the run ids
/// that match; an exact id wins, one match is it, none or several are errors.
fn resolve_run_id_with(
    query: &str,
    candidates: impl FnOnce(RunQuery<'_>) -> Result<Vec<String>>,
) -> Result<String> {
    let unknown = || Error::UnknownRun {
        query: query.to_string(),
    };
    if query.trim().is_empty() {
        return Err(unknown());
    }
    let matches = candidates(if query == "last" {
        RunQuery::Newest
    } else {
        RunQuery::Prefix(query)
    })?;
    if let Some(exact) = matches.iter().find(|id| *id == query) {
        return Ok(exact.clone());
    }
    match matches.len() {
        0 => Err(unknown()),
        1 => Ok(matches.into_iter().next().expect("one match")),
        _ => Err(Error::AmbiguousRun {
            query: query.to_string(),
            matches,
        }),
    }
}

/// Why a run left `running` by a process that no longer exists is shown as interrupted.
pub const PROCESS_ENDED: &str = "the shipbook process ended without finishing the run";

/// A run left `running` by a process that no longer exists is shown as interrupted.
fn mark_interrupted(run: RunRecord, owner: &Owner) -> RunRecord {
    let gone = run.status == RunStatus::Running && owner.is_gone();
    mark_interrupted_if(run, gone)
}

/// A run left `running` is shown as interrupted when its process is `gone`.
fn mark_interrupted_if(mut run: RunRecord, gone: bool) -> RunRecord {
    if run.status == RunStatus::Running && gone {
        run.status = RunStatus::Interrupted;
        run.status_reason
            .get_or_insert_with(|| PROCESS_ENDED.into());
        for step in &mut run.steps {
            if step.status == StepStatus::Running {
                step.status = StepStatus::Interrupted;
            }
        }
    }
    run
}
