//! The record store: an embedded SQLite database in the state directory.
//!
//! Every state change of a run is committed here before the next thing happens, so that killing
//! shipbook at any moment loses no finished step. SQLite in WAL mode with `synchronous=NORMAL`
//! makes each commit survive the death of the process (not of the machine) at the cost of one
//! append to the log, which keeps per-step overhead small. The schema is versioned with
//! `PRAGMA user_version`; a database from a newer shipbook, or a file that is not one of ours,
//! is refused before anything is written to it.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension, params};

use crate::error::{Error, Lock, Result};
use crate::store::record::{Phase, RunRecord, RunStatus, StepRecord, StepStatus};
use crate::sys::liveness;

const DATABASE: &str = "shipbook.db";

/// Each entry upgrades the schema by one version; the index + 1 is the version it produces.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE runs (
    run_id TEXT PRIMARY KEY NOT NULL,
    runbook TEXT NOT NULL,
    runbook_path TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    mode TEXT NOT NULL,
    env TEXT,
    operator TEXT NOT NULL,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    pid_start INTEGER,
    reason TEXT,
    owner TEXT,
    expected TEXT,
    description TEXT,
    git_sha TEXT NOT NULL,
    git_branch TEXT NOT NULL,
    git_dirty INTEGER NOT NULL,
    previous_tag TEXT NOT NULL,
    files_touched TEXT NOT NULL,
    rollback_note TEXT,
    rollback_command TEXT,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    status TEXT NOT NULL,
    status_reason TEXT,
    note TEXT
);
CREATE INDEX runs_by_runbook ON runs (runbook, run_id);
CREATE TABLE steps (
    run_id TEXT NOT NULL REFERENCES runs (run_id),
    position INTEGER NOT NULL,
    step_id TEXT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    command TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    exit_code INTEGER,
    started_at TEXT,
    duration_ms INTEGER,
    log TEXT,
    log_tail TEXT,
    detail TEXT,
    PRIMARY KEY (run_id, position)
);
CREATE TABLE locks (
    runbook TEXT NOT NULL,
    env TEXT NOT NULL,
    run_id TEXT NOT NULL,
    operator TEXT NOT NULL,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    pid_start INTEGER,
    since TEXT NOT NULL,
    PRIMARY KEY (runbook, env)
);
"#,
    r#"
ALTER TABLE steps ADD COLUMN phase TEXT NOT NULL DEFAULT 'steps';
ALTER TABLE steps ADD COLUMN tag TEXT;
ALTER TABLE runs ADD COLUMN metrics TEXT NOT NULL DEFAULT '[]';
ALTER TABLE runs ADD COLUMN rehearsal TEXT;
ALTER TABLE runs ADD COLUMN skip_rehearsal TEXT;
ALTER TABLE runs ADD COLUMN resumed TEXT NOT NULL DEFAULT '[]';
ALTER TABLE runs ADD COLUMN invocation TEXT;
CREATE INDEX runs_by_status ON runs (runbook, env, mode, status);
"#,
    r#"
CREATE INDEX IF NOT EXISTS runs_by_start ON runs (started_at DESC, run_id DESC);
"#,
];

pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

pub struct Store {
    connection: Connection,
    path: PathBuf,
}

/// Who holds a lock, for the message of a run that could not take it.
#[derive(Debug, Clone)]
pub struct LockHolder {
    pub run_id: String,
    pub operator: String,
    pub pid: u32,
    pub since: String,
}

/// The process that owns a run or a lock: enough to tell later whether it still exists.
#[derive(Debug, Clone)]
pub struct Owner {
    pub host: String,
    pub pid: u32,
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

impl Store {
    /// Opens (creating if needed) the store in `state_dir`.
    pub fn open(state_dir: &Path) -> Result<Store> {
        std::fs::create_dir_all(state_dir).map_err(|source| Error::StateDir {
            path: state_dir.to_path_buf(),
            source,
        })?;
        let path = state_dir.join(DATABASE);
        let connection = Connection::open(&path).map_err(|error| Error::Store {
            path: path.clone(),
            message: format!("cannot open: {error}"),
        })?;
        let mut store = Store { connection, path };
        store.prepare()?;
        Ok(store)
    }

    /// Opens the store only if it exists: reading commands must not create state directories.
    pub fn open_existing(state_dir: &Path) -> Result<Option<Store>> {
        if state_dir.join(DATABASE).exists() {
            Store::open(state_dir).map(Some)
        } else {
            Ok(None)
        }
    }

    fn error(&self, error: rusqlite::Error) -> Error {
        store_error(&self.path)(error)
    }

    /// Checks the schema version before writing anything, then migrates.
    fn prepare(&mut self) -> Result<()> {
        let version: i64 = self
            .connection
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .map_err(|error| Error::Store {
                path: self.path.clone(),
                message: format!("not a shipbook record database, or a corrupt one ({error})"),
            })?;
        if version > SCHEMA_VERSION {
            return Err(Error::Store {
                path: self.path.clone(),
                message: format!(
                    "written by a newer shipbook (schema version {version}; this shipbook knows up to {SCHEMA_VERSION}); upgrade shipbook to use it"
                ),
            });
        }
        // A file that is not SQLite only fails once a page is read; check the schema table.
        self.connection
            .query_row("SELECT count(*) FROM sqlite_master", [], |row| {
                row.get::<_, i64>(0)
            })
            .map_err(|error| Error::Store {
                path: self.path.clone(),
                message: format!("not a shipbook record database, or a corrupt one ({error})"),
            })?;
        self.connection
            .busy_timeout(std::time::Duration::from_secs(10))
            .map_err(|e| self.error(e))?;
        self.connection
            .execute_batch(
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
            )
            .map_err(|e| self.error(e))?;
        for (index, migration) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            let transaction = self.connection.transaction().map_err(|e| Error::Store {
                path: self.path.clone(),
                message: e.to_string(),
            })?;
            transaction
                .execute_batch(migration)
                .and_then(|()| {
                    transaction.execute_batch(&format!("PRAGMA user_version = {}", index + 1))
                })
                .and_then(|()| transaction.commit())
                .map_err(|error| Error::Store {
                    path: self.path.clone(),
                    message: format!(
                        "cannot upgrade the schema to version {}: {error}",
                        index + 1
                    ),
                })?;
        }
        Ok(())
    }

    /// Records a new run and all its steps (pending) in one transaction.
    pub fn insert_run(&mut self, run: &RunRecord, owner: &Owner) -> Result<()> {
        let wrap = store_error(&self.path);
        let transaction = self.connection.transaction().map_err(&wrap)?;
        transaction
            .execute(
                "INSERT INTO runs (run_id, runbook, runbook_path, content_hash, mode, env, operator, host, pid, pid_start,
                    reason, owner, expected, description, git_sha, git_branch, git_dirty, previous_tag, files_touched,
                    rollback_note, rollback_command, started_at, finished_at, status, status_reason, note,
                    metrics, rehearsal, skip_rehearsal, resumed, invocation)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26,
                    ?27, ?28, ?29, ?30, ?31)",
                params![
                    run.run_id,
                    run.runbook,
                    run.runbook_path,
                    run.content_hash,
                    run.mode,
                    run.env,
                    run.operator,
                    owner.host,
                    owner.pid,
                    owner.pid_start.map(|s| s as i64),
                    run.reason,
                    run.owner,
                    run.expected,
                    run.description,
                    run.git_sha,
                    run.git_branch,
                    run.git_dirty,
                    run.previous_tag,
                    serde_json::to_string(&run.files_touched).unwrap_or_else(|_| "[]".into()),
                    run.rollback_note,
                    run.rollback_command,
                    run.started_at,
                    run.finished_at,
                    run.status.as_str(),
                    run.status_reason,
                    run.note,
                    to_json(&run.metrics),
                    to_json(&run.rehearsal),
                    run.skip_rehearsal,
                    to_json(&run.resumed),
                    to_json(&run.invocation),
                ],
            )
            .map_err(&wrap)?;
        for step in &run.steps {
            insert_step(&transaction, &run.run_id, step).map_err(&wrap)?;
        }
        transaction.commit().map_err(&wrap)
    }

    /// Writes the current state of one step.
    pub fn update_step(&mut self, run_id: &str, step: &StepRecord) -> Result<()> {
        insert_step(&self.connection, run_id, step).map_err(|e| self.error(e))
    }

    /// Records how a run ended, with its note and final metrics.
    pub fn finish_run(&mut self, run: &RunRecord) -> Result<()> {
        self.connection
            .execute(
                "UPDATE runs SET status = ?2, status_reason = ?3, finished_at = ?4, note = ?5, metrics = ?6
                 WHERE run_id = ?1",
                params![
                    run.run_id,
                    run.status.as_str(),
                    run.status_reason,
                    run.finished_at,
                    run.note,
                    to_json(&run.metrics)
                ],
            )
            .map(drop)
            .map_err(|e| self.error(e))
    }

    /// Records a run continuing: running again, owned by this process, with the resume noted,
    /// and its steps as planned again (one transaction).
    pub fn resume_run(&mut self, run: &RunRecord, owner: &Owner) -> Result<()> {
        let wrap = store_error(&self.path);
        let transaction = self.connection.transaction().map_err(&wrap)?;
        transaction
            .execute(
                "UPDATE runs SET status = ?2, status_reason = NULL, finished_at = NULL, host = ?3, pid = ?4,
                    pid_start = ?5, resumed = ?6, content_hash = ?7
                 WHERE run_id = ?1",
                params![
                    run.run_id,
                    run.status.as_str(),
                    owner.host,
                    owner.pid,
                    owner.pid_start.map(|s| s as i64),
                    to_json(&run.resumed),
                    run.content_hash,
                ],
            )
            .map_err(&wrap)?;
        transaction
            .execute("DELETE FROM steps WHERE run_id = ?1", [&run.run_id])
            .map_err(&wrap)?;
        for step in &run.steps {
            insert_step(&transaction, &run.run_id, step).map_err(&wrap)?;
        }
        transaction.commit().map_err(&wrap)
    }

    /// Adds a step to a run that is under way (the undo of a step).
    pub fn insert_step(&mut self, run_id: &str, step: &StepRecord) -> Result<()> {
        insert_step(&self.connection, run_id, step).map_err(|e| self.error(e))
    }

    pub fn update_metrics(&mut self, run: &RunRecord) -> Result<()> {
        self.connection
            .execute(
                "UPDATE runs SET metrics = ?2 WHERE run_id = ?1",
                params![run.run_id, to_json(&run.metrics)],
            )
            .map(drop)
            .map_err(|e| self.error(e))
    }

    /// The rehearsal, recorded and wholly succeeded (its rollback included), of this runbook
    /// content at this commit, from a clean working tree, in `env`, newest first.
    pub fn find_rehearsal(
        &self,
        runbook: &str,
        env: &str,
        content_hash: &str,
        git_sha: &str,
    ) -> Result<Option<RunRecord>> {
        let id: Option<String> = self
            .connection
            .query_row(
                "SELECT run_id FROM runs
                 WHERE runbook = ?1 AND env = ?2 AND mode = 'rehearsal' AND status = 'succeeded'
                    AND content_hash = ?3 AND git_sha = ?4 AND git_dirty = 0
                    AND EXISTS (SELECT 1 FROM steps WHERE steps.run_id = runs.run_id
                        AND steps.phase = 'rollback' AND steps.status = 'succeeded')
                 ORDER BY started_at DESC LIMIT 1",
                params![runbook, env, content_hash, git_sha],
                |row| row.get(0),
            )
            .optional()
            .map_err(|e| self.error(e))?;
        id.map(|id| self.load_run(&id)).transpose()
    }

    /// Finds the run a user means: a full id, a unique prefix, or `last`.
    pub fn resolve_run_id(&self, query: &str) -> Result<String> {
        if query.trim().is_empty() {
            return Err(Error::UnknownRun {
                query: query.to_string(),
            });
        }
        let matches: Vec<String> = if query == "last" {
            self.connection
                .prepare("SELECT run_id FROM runs ORDER BY started_at DESC, run_id DESC LIMIT 1")
                .and_then(|mut s| s.query_map([], |row| row.get(0))?.collect())
        } else {
            self.connection
                .prepare(
                    "SELECT run_id FROM runs WHERE substr(run_id, 1, length(?1)) = ?1 ORDER BY run_id LIMIT 11",
                )
                .and_then(|mut s| s.query_map([query], |row| row.get(0))?.collect())
        }
        .map_err(|e| self.error(e))?;
        if let Some(exact) = matches.iter().find(|id| *id == query) {
            return Ok(exact.clone());
        }
        match matches.len() {
            0 => Err(Error::UnknownRun {
                query: query.to_string(),
            }),
            1 => Ok(matches.into_iter().next().expect("one match")),
            _ => Err(Error::AmbiguousRun {
                query: query.to_string(),
                matches,
            }),
        }
    }

    /// The runs newest first, without their steps.
    pub fn list_runs(&self, runbook: Option<&str>, limit: usize) -> Result<Vec<RunRecord>> {
        let sql = format!(
            "SELECT {RUN_COLUMNS} FROM runs WHERE (?1 IS NULL OR runbook = ?1)
             ORDER BY started_at DESC, run_id DESC LIMIT ?2"
        );
        let mut statement = self.connection.prepare(&sql).map_err(|e| self.error(e))?;
        let runs = statement
            .query_map(params![runbook, limit as i64], read_run)
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(|e| self.error(e))?;
        Ok(runs.into_iter().map(mark_interrupted).collect())
    }

    /// One run with its steps.
    pub fn load_run(&self, run_id: &str) -> Result<RunRecord> {
        let sql = format!("SELECT {RUN_COLUMNS} FROM runs WHERE run_id = ?1");
        let (run, owner) = self
            .connection
            .query_row(&sql, [run_id], read_run)
            .optional()
            .map_err(|e| self.error(e))?
            .ok_or_else(|| Error::UnknownRun {
                query: run_id.to_string(),
            })?;
        let mut statement = self
            .connection
            .prepare_cached(
                "SELECT position, step_id, name, kind, command, status, attempts, exit_code, started_at,
                    duration_ms, log, log_tail, detail, phase, tag
                 FROM steps WHERE run_id = ?1 ORDER BY position",
            )
            .map_err(|e| self.error(e))?;
        let steps = statement
            .query_map([run_id], |row| {
                Ok(StepRecord {
                    position: row.get(0)?,
                    id: row.get(1)?,
                    name: row.get(2)?,
                    kind: row.get(3)?,
                    command: row.get(4)?,
                    status: StepStatus::parse(&row.get::<_, String>(5)?)
                        .unwrap_or(StepStatus::Pending),
                    attempts: row.get(6)?,
                    exit_code: row.get(7)?,
                    started_at: row.get(8)?,
                    duration_ms: row.get::<_, Option<i64>>(9)?.map(|d| d as u64),
                    log: row.get(10)?,
                    log_tail: row.get(11)?,
                    detail: row.get(12)?,
                    phase: Phase::parse(&row.get::<_, String>(13)?).unwrap_or(Phase::Steps),
                    tag: from_json(row.get::<_, Option<String>>(14)?),
                })
            })
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(|e| self.error(e))?;
        Ok(mark_interrupted((RunRecord { steps, ..run }, owner)))
    }

    /// Takes the lock of a runbook and environment for a run. A lock left by a process that no
    /// longer exists is taken over; the returned holder says whose it was.
    pub fn acquire_lock(
        &mut self,
        runbook: &str,
        env: &str,
        run_id: &str,
        operator: &str,
        owner: &Owner,
        since: &str,
    ) -> Result<Option<LockHolder>> {
        let wrap = store_error(&self.path);
        let transaction = self
            .connection
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(&wrap)?;
        let existing = transaction
            .query_row(
                "SELECT run_id, operator, host, pid, pid_start, since FROM locks WHERE runbook = ?1 AND env = ?2",
                params![runbook, env],
                |row| {
                    Ok((
                        LockHolder {
                            run_id: row.get(0)?,
                            operator: row.get(1)?,
                            pid: row.get(3)?,
                            since: row.get(5)?,
                        },
                        Owner {
                            host: row.get(2)?,
                            pid: row.get(3)?,
                            pid_start: row.get::<_, Option<i64>>(4)?.map(|s| s as u64),
                        },
                    ))
                },
            )
            .optional()
            .map_err(&wrap)?;
        let mut taken_over = None;
        if let Some((holder, holder_owner)) = existing {
            if !holder_owner.is_gone() {
                return Err(Error::Locked(Box::new(Lock {
                    runbook: runbook.to_string(),
                    env: env.to_string(),
                    holder_run: holder.run_id,
                    holder_operator: holder.operator,
                    holder_pid: holder.pid,
                    holder_since: holder.since,
                    holder_host: holder_owner.host,
                })));
            }
            taken_over = Some(holder);
        }
        transaction
            .execute(
                "INSERT OR REPLACE INTO locks (runbook, env, run_id, operator, host, pid, pid_start, since)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    runbook,
                    env,
                    run_id,
                    operator,
                    owner.host,
                    owner.pid,
                    owner.pid_start.map(|s| s as i64),
                    since
                ],
            )
            .map_err(&wrap)?;
        transaction.commit().map_err(&wrap)?;
        Ok(taken_over)
    }

    pub fn release_lock(&mut self, runbook: &str, env: &str, run_id: &str) -> Result<()> {
        self.connection
            .execute(
                "DELETE FROM locks WHERE runbook = ?1 AND env = ?2 AND run_id = ?3",
                params![runbook, env, run_id],
            )
            .map(drop)
            .map_err(|e| self.error(e))
    }
}

const RUN_COLUMNS: &str = "run_id, runbook, runbook_path, content_hash, mode, env, operator, host, pid, pid_start,
    reason, owner, expected, description, git_sha, git_branch, git_dirty, previous_tag, files_touched,
    rollback_note, rollback_command, started_at, finished_at, status, status_reason, note,
    metrics, rehearsal, skip_rehearsal, resumed, invocation";

fn read_run(row: &rusqlite::Row<'_>) -> rusqlite::Result<(RunRecord, Owner)> {
    let files: String = row.get(18)?;
    let owner = Owner {
        host: row.get(7)?,
        pid: row.get(8)?,
        pid_start: row.get::<_, Option<i64>>(9)?.map(|s| s as u64),
    };
    let run = RunRecord {
        run_id: row.get(0)?,
        runbook: row.get(1)?,
        runbook_path: row.get(2)?,
        content_hash: row.get(3)?,
        mode: row.get(4)?,
        env: row.get(5)?,
        operator: row.get(6)?,
        host: owner.host.clone(),
        pid: owner.pid,
        reason: row.get(10)?,
        owner: row.get(11)?,
        expected: row.get(12)?,
        description: row.get(13)?,
        git_sha: row.get(14)?,
        git_branch: row.get(15)?,
        git_dirty: row.get(16)?,
        previous_tag: row.get(17)?,
        files_touched: serde_json::from_str(&files).unwrap_or_default(),
        rollback_note: row.get(19)?,
        rollback_command: row.get(20)?,
        started_at: row.get(21)?,
        finished_at: row.get(22)?,
        status: RunStatus::parse(&row.get::<_, String>(23)?).unwrap_or(RunStatus::Failed),
        status_reason: row.get(24)?,
        note: row.get(25)?,
        metrics: from_json(row.get::<_, Option<String>>(26)?).unwrap_or_default(),
        rehearsal: from_json(row.get::<_, Option<String>>(27)?),
        skip_rehearsal: row.get(28)?,
        resumed: from_json(row.get::<_, Option<String>>(29)?).unwrap_or_default(),
        invocation: from_json(row.get::<_, Option<String>>(30)?).unwrap_or_default(),
        steps: Vec::new(),
    };
    Ok((run, owner))
}

/// Turns a SQLite error into the store error that names the database.
fn store_error(path: &Path) -> impl Fn(rusqlite::Error) -> Error + use<> {
    let path = path.to_path_buf();
    move |error| Error::Store {
        path: path.clone(),
        message: error.to_string(),
    }
}

/// Writes a step: inserts it, or updates what can change of one already recorded.
fn insert_step(connection: &Connection, run_id: &str, step: &StepRecord) -> rusqlite::Result<()> {
    connection
        .prepare_cached(
            "INSERT INTO steps (run_id, position, step_id, name, kind, command, status, attempts, exit_code,
                started_at, duration_ms, log, log_tail, detail, phase, tag)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)
             ON CONFLICT (run_id, position) DO UPDATE SET status = excluded.status,
                attempts = excluded.attempts, exit_code = excluded.exit_code,
                started_at = excluded.started_at, duration_ms = excluded.duration_ms,
                log = excluded.log, log_tail = excluded.log_tail, detail = excluded.detail,
                tag = excluded.tag",
        )?
        .execute(params![
            run_id,
            step.position,
            step.id,
            step.name,
            step.kind,
            step.command,
            step.status.as_str(),
            step.attempts,
            step.exit_code,
            step.started_at,
            step.duration_ms.map(|d| d as i64),
            step.log,
            step.log_tail,
            step.detail,
            step.phase.as_str(),
            to_json(&step.tag),
        ])
        .map(drop)
}

fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("records serialize")
}

fn from_json<T: serde::de::DeserializeOwned>(text: Option<String>) -> Option<T> {
    text.and_then(|text| serde_json::from_str(&text).ok())
}

/// A run left `running` by a process that no longer exists is shown as interrupted.
fn mark_interrupted((mut run, owner): (RunRecord, Owner)) -> RunRecord {
    if run.status == RunStatus::Running && owner.is_gone() {
        run.status = RunStatus::Interrupted;
        run.status_reason
            .get_or_insert_with(|| "the shipbook process ended without finishing the run".into());
        for step in &mut run.steps {
            if step.status == StepStatus::Running {
                step.status = StepStatus::Interrupted;
            }
        }
    }
    run
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_of_every_earlier_version_is_upgraded() {
        for version in 1..SCHEMA_VERSION {
            let dir = tempfile::tempdir().unwrap();
            let connection = Connection::open(dir.path().join(DATABASE)).unwrap();
            for migration in &MIGRATIONS[..version as usize] {
                connection.execute_batch(migration).unwrap();
            }
            connection
                .execute_batch(&format!("PRAGMA user_version = {version}"))
                .unwrap();
            drop(connection);

            let store = Store::open(dir.path()).unwrap();
            let upgraded: i64 = store
                .connection
                .query_row("PRAGMA user_version", [], |row| row.get(0))
                .unwrap();
            assert_eq!(upgraded, SCHEMA_VERSION, "from version {version}");
            assert!(store.list_runs(None, 10).unwrap().is_empty());
        }
    }
}
