//! The team store's tables, in a PostgreSQL schema of their own, and their upgrades.
//!
//! The schema (`shipbook` unless `--store-schema` names another) is created on first use. Its
//! version is the number of migrations applied, kept in `schema_version`. Several machines may
//! start at once on a new database, so creating and upgrading happen in one transaction under a
//! transaction-level advisory lock: the second to arrive waits, then finds the work done. A
//! schema of a version this shipbook does not know (a newer shipbook upgraded it) is refused
//! before anything is written.
//!
//! A run's record and each step's are kept as JSON (`jsonb`), with the columns that queries
//! select and sort on beside them: the record's shape is the one `show --json` prints, so the
//! two backends cannot drift apart, and a new field needs no migration.

use postgres::Client;

use super::keys;

/// Each migration, oldest first. Append only: a released migration is never edited.
const MIGRATIONS: &[&str] = &[
    // 1: runs, steps and locks.
    "CREATE TABLE runs (
        run_id text PRIMARY KEY,
        runbook text NOT NULL,
        env text,
        mode text NOT NULL,
        status text NOT NULL,
        started_at text NOT NULL,
        record jsonb NOT NULL
     );
     CREATE INDEX runs_newest ON runs (started_at DESC, run_id DESC);
     CREATE INDEX runs_of_runbook ON runs (runbook, started_at DESC, run_id DESC);
     CREATE TABLE steps (
        run_id text NOT NULL REFERENCES runs ON DELETE CASCADE,
        position integer NOT NULL,
        record jsonb NOT NULL,
        PRIMARY KEY (run_id, position)
     );
     CREATE TABLE locks (
        runbook text NOT NULL,
        env text NOT NULL,
        lock_key bigint NOT NULL,
        run_id text NOT NULL,
        operator text NOT NULL,
        host text NOT NULL,
        pid bigint NOT NULL,
        backend_pid integer NOT NULL,
        since text NOT NULL,
        PRIMARY KEY (runbook, env)
     );",
];

/// The schema version this shipbook writes.
pub(super) const VERSION: i32 = MIGRATIONS.len() as i32;

/// The version of the schema as it stands: `None` when it does not exist yet.
pub(super) fn version(client: &mut Client, schema: &str) -> Result<Option<i32>, postgres::Error> {
    let exists = client
        .query_one(
            "SELECT to_regclass($1) IS NOT NULL",
            &[&format!("\"{schema}\".schema_version")],
        )?
        .get::<_, bool>(0);
    if !exists {
        return Ok(None);
    }
    let row = client.query_opt(
        &format!("SELECT version FROM \"{schema}\".schema_version"),
        &[],
    )?;
    Ok(Some(row.map_or(0, |row| row.get(0))))
}

/// What came of preparing the schema.
pub(super) enum Prepared {
    Ready,
    /// The schema is of a newer shipbook; nothing was changed.
    Newer(i32),
}

/// Creates or upgrades the schema, one machine at a time.
pub(super) fn prepare(client: &mut Client, schema: &str) -> Result<Prepared, postgres::Error> {
    // The common case, a schema already up to date, costs one query and takes no lock.
    match version(client, schema)? {
        Some(current) if current == VERSION => return Ok(Prepared::Ready),
        Some(current) if current > VERSION => return Ok(Prepared::Newer(current)),
        _ => {}
    }
    let mut transaction = client.transaction()?;
    transaction.execute(
        "SELECT pg_advisory_xact_lock($1)",
        &[&keys::migration_key(schema)],
    )?;
    transaction.batch_execute(&format!(
        "CREATE SCHEMA IF NOT EXISTS \"{schema}\";
         CREATE TABLE IF NOT EXISTS \"{schema}\".schema_version (version integer NOT NULL);"
    ))?;
    let current: i32 = transaction
        .query_opt(
            &format!("SELECT version FROM \"{schema}\".schema_version"),
            &[],
        )?
        .map_or(0, |row| row.get(0));
    if current > VERSION {
        transaction.rollback()?;
        return Ok(Prepared::Newer(current));
    }
    transaction.batch_execute(&format!("SET LOCAL search_path TO \"{schema}\""))?;
    for migration in &MIGRATIONS[current as usize..] {
        transaction.batch_execute(migration)?;
    }
    transaction.execute(&format!("DELETE FROM \"{schema}\".schema_version"), &[])?;
    transaction.execute(
        &format!("INSERT INTO \"{schema}\".schema_version (version) VALUES ($1)"),
        &[&VERSION],
    )?;
    transaction.commit()?;
    Ok(Prepared::Ready)
}
