//! The schema of the SQLite record store, its versions, and the checks made before anything is
//! written to a database.
//!
//! The schema version is SQLite's `PRAGMA user_version`, which `rusqlite_migration` reads and
//! sets: a database at version N has had the first N migrations applied, and opening it applies
//! the rest. A migration once released is never edited, only followed by a new one, so that a
//! database of any earlier shipbook upgrades in place. A database written by a newer shipbook (a
//! higher version), or a file that is not SQLite, is refused before anything is written to it:
//! this shipbook cannot know what a newer one meant, and must not make things worse.

use rusqlite::Connection;
use rusqlite_migration::{M, Migrations, SchemaVersion};

/// Version 1: runs, their steps, and the locks.
const RUNS_STEPS_AND_LOCKS: &str = r#"
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
"#;

/// Version 2: phases and tags of steps; metrics, rehearsals, resumes and the invocation of runs.
const PHASES_METRICS_AND_REHEARSALS: &str = r#"
ALTER TABLE steps ADD COLUMN phase TEXT NOT NULL DEFAULT 'steps';
ALTER TABLE steps ADD COLUMN tag TEXT;
ALTER TABLE runs ADD COLUMN metrics TEXT NOT NULL DEFAULT '[]';
ALTER TABLE runs ADD COLUMN rehearsal TEXT;
ALTER TABLE runs ADD COLUMN skip_rehearsal TEXT;
ALTER TABLE runs ADD COLUMN resumed TEXT NOT NULL DEFAULT '[]';
ALTER TABLE runs ADD COLUMN invocation TEXT;
CREATE INDEX runs_by_status ON runs (runbook, env, mode, status);
"#;

/// Version 3: an index for `history` and `last`, newest first.
const HISTORY_INDEX: &str = r#"
CREATE INDEX IF NOT EXISTS runs_by_start ON runs (started_at DESC, run_id DESC);
"#;

/// Version 4: the uncommitted changes of a run's working tree, and an index for the rehearsals
/// of a runbook in an environment, newest first.
const UNCOMMITTED_CHANGES: &str = r#"
ALTER TABLE runs ADD COLUMN uncommitted TEXT NOT NULL DEFAULT '[]';
CREATE INDEX runs_by_mode ON runs (runbook, env, mode, started_at DESC);
"#;

/// Version 5: the samples of a `watch` step, as JSON, and who approved a `confirm` step.
const WATCH_SAMPLES: &str = r#"
ALTER TABLE steps ADD COLUMN samples TEXT;
ALTER TABLE steps ADD COLUMN approved_by TEXT;
"#;

/// Version 6: the warnings of a run (a notification that could not be sent), and its version.
const RUN_WARNINGS: &str = r#"
ALTER TABLE runs ADD COLUMN warnings TEXT NOT NULL DEFAULT '[]';
ALTER TABLE runs ADD COLUMN version TEXT;
"#;

/// Every migration, oldest first; the position + 1 is the version it produces.
const STEPS: &[M<'static>] = &[
    M::up(RUNS_STEPS_AND_LOCKS),
    M::up(PHASES_METRICS_AND_REHEARSALS),
    M::up(HISTORY_INDEX),
    M::up(UNCOMMITTED_CHANGES),
    M::up(WATCH_SAMPLES),
    M::up(RUN_WARNINGS),
];

const MIGRATIONS: Migrations<'static> = Migrations::from_slice(STEPS);

/// The version this shipbook writes.
pub(super) const SCHEMA_VERSION: usize = STEPS.len();

/// Checks that the database can be trusted, sets the connection up, and upgrades the schema to
/// [`SCHEMA_VERSION`]. The error is the sentence to show after the database's path.
pub(super) fn prepare(connection: &mut Connection) -> Result<(), String> {
    // Another shipbook may be creating or upgrading the same database right now: wait for its
    // write lock rather than fail, from the first read on.
    connection
        .busy_timeout(std::time::Duration::from_secs(10))
        .map_err(|error| error.to_string())?;
    let version = refuse_what_cannot_be_trusted(connection)?;
    // Each commit survives the death of the process (not of the machine) at the cost of one
    // append to the write-ahead log, which keeps the cost of a step's record small.
    connection
        .execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;
             PRAGMA wal_autocheckpoint = 256;",
        )
        .map_err(|error| error.to_string())?;
    // The write-ahead log is kept from one shipbook process to the next. Checkpointing it when
    // the connection closes would cost every run two fsyncs, and deleting it would make the next
    // run create it again (a header fsync and a directory fsync); neither makes a commit more
    // durable, since a commit is in the log when it returns. The log is checkpointed instead
    // whenever it passes 256 pages (1 MiB), by whichever commit passes it.
    connection
        .set_db_config(
            rusqlite::config::DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE,
            true,
        )
        .map_err(|error| error.to_string())?;
    upgrade(connection, version)
}

/// Applies the migrations the database lacks. `rusqlite_migration` reads the version before its
/// transaction takes the write lock, so when several shipbooks open a new state directory at
/// once, all but the first try migrations that the first has applied meanwhile, and fail. A
/// failure after which the version has moved on is that race, not a fault: the upgrade is tried
/// again from the version now found (which ends it, the version being the latest). A failure
/// with the version where it was is the database's own.
fn upgrade(connection: &mut Connection, mut version: usize) -> Result<(), String> {
    loop {
        let Err(error) = MIGRATIONS.to_latest(connection) else {
            return Ok(());
        };
        let now = refuse_what_cannot_be_trusted(connection)?;
        if now == version {
            return Err(format!(
                "cannot upgrade the schema from version {version} to version {SCHEMA_VERSION}: {}",
                migration_error_text(&error)
            ));
        }
        version = now;
    }
}

/// The schema version of a database that may be opened, read without writing anything: a
/// newer one, or a file that is not SQLite (or a corrupt one), is refused.
fn refuse_what_cannot_be_trusted(connection: &Connection) -> Result<usize, String> {
    let not_ours =
        |problem: String| format!("not a shipbook record database, or a corrupt one ({problem})");
    let version = match MIGRATIONS.current_version(connection) {
        Ok(SchemaVersion::Outside(version)) => {
            return Err(format!(
                "written by a newer shipbook (schema version {version}; this shipbook knows up to {SCHEMA_VERSION}); upgrade shipbook to use it"
            ));
        }
        Ok(version) => usize::from(version),
        Err(rusqlite_migration::Error::InvalidUserVersion) => {
            return Err(not_ours("a negative schema version".into()));
        }
        Err(error) => return Err(not_ours(migration_error_text(&error))),
    };
    // A file that is not SQLite only fails once a page is read: read the schema table.
    connection
        .query_row("SELECT count(*) AS tables FROM sqlite_master", [], |row| {
            row.get::<_, i64>("tables")
        })
        .map_err(|error| not_ours(error.to_string()))?;
    Ok(version)
}

/// The SQLite error inside a migration error, as the other store errors show theirs.
fn migration_error_text(error: &rusqlite_migration::Error) -> String {
    match error {
        rusqlite_migration::Error::RusqliteError { err, .. } => err.to_string(),
        other => other.to_string(),
    }
}

/// Makes a database at `version` as the shipbook of that version left it: its migrations applied
/// one after the other, then the version set.
#[cfg(test)]
pub(super) fn database_at(path: &std::path::Path, version: usize) {
    let connection = Connection::open(path).unwrap();
    let texts = [
        RUNS_STEPS_AND_LOCKS,
        PHASES_METRICS_AND_REHEARSALS,
        HISTORY_INDEX,
        UNCOMMITTED_CHANGES,
        WATCH_SAMPLES,
        RUN_WARNINGS,
    ];
    for text in &texts[..version] {
        connection.execute_batch(text).unwrap();
    }
    connection
        .execute_batch(&format!("PRAGMA user_version = {version}"))
        .unwrap();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_migrations_apply_to_an_empty_database() {
        MIGRATIONS.validate().unwrap();
        assert_eq!(SCHEMA_VERSION, 6);
    }

    #[test]
    fn an_upgrade_made_meanwhile_by_another_shipbook_is_not_a_failure() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("shipbook.db");
        // This shipbook reads version 0; another then creates the whole schema before this one
        // takes the write lock.
        let mut late = Connection::open(&path).unwrap();
        let version = refuse_what_cannot_be_trusted(&late).unwrap();
        assert_eq!(version, 0);
        prepare(&mut Connection::open(&path).unwrap()).unwrap();
        upgrade(&mut late, version).unwrap();
        assert_eq!(
            refuse_what_cannot_be_trusted(&late).unwrap(),
            SCHEMA_VERSION
        );
    }

    #[test]
    fn a_newer_database_is_refused_untouched() {
        let mut connection = Connection::open_in_memory().unwrap();
        connection
            .execute_batch("PRAGMA user_version = 999")
            .unwrap();
        let error = prepare(&mut connection).unwrap_err();
        assert!(error.contains("schema version 999"), "{error}");
        let tables: i64 = connection
            .query_row("SELECT count(*) AS tables FROM sqlite_master", [], |row| {
                row.get("tables")
            })
            .unwrap();
        assert_eq!(tables, 0);
    }
}
