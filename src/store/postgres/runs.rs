//! Runs and their steps in the team store: each a JSON record, with the columns that queries
//! select and sort on beside it.

use postgres::Client;
use serde_json::Value;

use super::{Connection, Fault};
use crate::store::record::{RunRecord, StepRecord};
use crate::store::{MAX_CANDIDATES, RunQuery, mark_interrupted_if};

type Outcome<T> = std::result::Result<T, Fault>;

/// Whether the process of a run row `r` is still at it: its run holds the lock row of its
/// runbook and environment, and the PostgreSQL session named there still holds the advisory
/// lock (a session's locks end with it, however the process died).
const ALIVE: &str = "EXISTS (
    SELECT 1 FROM locks l
    JOIN pg_locks p ON p.locktype = 'advisory' AND p.granted AND p.objsubid = 1
        AND p.pid = l.backend_pid
        AND p.classid::bigint = ((l.lock_key >> 32) & 4294967295)
        AND p.objid::bigint = (l.lock_key & 4294967295)
        AND p.database = (SELECT oid FROM pg_database WHERE datname = current_database())
    WHERE l.run_id = r.run_id)";

/// The record of a run without its steps, which live in rows of their own.
fn run_value(run: &RunRecord) -> Outcome<Value> {
    let mut value = serde_json::to_value(run)?;
    if let Some(fields) = value.as_object_mut() {
        fields.remove("steps");
    }
    Ok(value)
}

/// Writes the whole of a run, how it stands and every step, in one transaction: a new run, a
/// resumed one (its steps planned again), or one made whole after writes that failed.
pub(super) fn write_whole(client: &mut Client, run: &RunRecord) -> Outcome<()> {
    let value = run_value(run)?;
    let steps = run
        .steps
        .iter()
        .map(serde_json::to_value)
        .collect::<Result<Vec<_>, _>>()?;
    let mut transaction = client.transaction()?;
    transaction.execute(
        "INSERT INTO runs (run_id, runbook, env, mode, status, started_at, record)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (run_id) DO UPDATE SET status = excluded.status, record = excluded.record",
        &[
            &run.run_id,
            &run.runbook,
            &run.env,
            &run.mode.as_str(),
            &run.status.as_str(),
            &run.started_at.to_string(),
            &value,
        ],
    )?;
    transaction.execute("DELETE FROM steps WHERE run_id = $1", &[&run.run_id])?;
    for (step, value) in run.steps.iter().zip(&steps) {
        transaction.execute(
            "INSERT INTO steps (run_id, position, record) VALUES ($1, $2, $3)",
            &[&run.run_id, &(step.position as i32), value],
        )?;
    }
    transaction.commit()?;
    Ok(())
}

/// Writes how a run stands (status, metrics, note), leaving its steps as they are.
pub(super) fn update_run(connection: &mut Connection, run: &RunRecord) -> Outcome<()> {
    let value = run_value(run)?;
    let statement =
        connection.prepared("UPDATE runs SET status = $2, record = $3 WHERE run_id = $1")?;
    connection.execute(&statement, &[&run.run_id, &run.status.as_str(), &value])?;
    Ok(())
}

/// Writes one step as it now stands, added if it is new (the undo of a step).
pub(super) fn upsert_step(
    connection: &mut Connection,
    run_id: &str,
    step: &StepRecord,
) -> Outcome<()> {
    let value = serde_json::to_value(step)?;
    let statement = connection.prepared(
        "INSERT INTO steps (run_id, position, record) VALUES ($1, $2, $3)
         ON CONFLICT (run_id, position) DO UPDATE SET record = excluded.record",
    )?;
    connection.execute(&statement, &[&run_id, &(step.position as i32), &value])?;
    Ok(())
}

/// A run from its row's record, without its steps.
fn read_run(mut record: Value) -> Outcome<RunRecord> {
    if let Some(fields) = record.as_object_mut() {
        fields.insert("steps".into(), Value::Array(Vec::new()));
    }
    Ok(serde_json::from_value(record)?)
}

/// The runs newest first, without their steps.
pub(super) fn list_runs(
    client: &mut Client,
    runbook: Option<&str>,
    limit: usize,
) -> Outcome<Vec<RunRecord>> {
    let rows = client.query(
        &format!(
            "SELECT r.record, r.status <> 'running' OR {ALIVE} FROM runs r
             WHERE ($1::text IS NULL OR r.runbook = $1)
             ORDER BY r.started_at DESC, r.run_id DESC LIMIT $2"
        ),
        &[&runbook, &(limit.min(i64::MAX as usize) as i64)],
    )?;
    rows.into_iter()
        .map(|row| {
            Ok(mark_interrupted_if(
                read_run(row.get(0))?,
                !row.get::<_, bool>(1),
            ))
        })
        .collect()
}

/// One run with its steps, if it is recorded.
pub(super) fn load_run(client: &mut Client, run_id: &str) -> Outcome<Option<RunRecord>> {
    let Some(row) = client.query_opt(
        &format!(
            "SELECT r.record, r.status <> 'running' OR {ALIVE} FROM runs r WHERE r.run_id = $1"
        ),
        &[&run_id],
    )?
    else {
        return Ok(None);
    };
    let alive: bool = row.get(1);
    let mut run = read_run(row.get(0))?;
    run.steps = client
        .query(
            "SELECT record FROM steps WHERE run_id = $1 ORDER BY position",
            &[&run_id],
        )?
        .into_iter()
        .map(|row| serde_json::from_value(row.get(0)))
        .collect::<Result<_, _>>()?;
    Ok(Some(mark_interrupted_if(run, !alive)))
}

/// The newest rehearsals of `runbook` in `env`, newest first, with their steps.
pub(super) fn rehearsals(
    client: &mut Client,
    runbook: &str,
    env: &str,
    limit: usize,
) -> Outcome<Vec<RunRecord>> {
    let ids: Vec<String> = client
        .query(
            "SELECT run_id FROM runs WHERE runbook = $1 AND env = $2 AND mode = 'rehearsal'
             ORDER BY started_at DESC, run_id DESC LIMIT $3",
            &[&runbook, &env, &(limit as i64)],
        )?
        .into_iter()
        .map(|row| row.get(0))
        .collect();
    let mut runs = Vec::new();
    for id in ids {
        if let Some(run) = load_run(client, &id)? {
            runs.push(run);
        }
    }
    Ok(runs)
}

/// The run ids a user's query may mean.
pub(super) fn run_ids(client: &mut Client, query: &RunQuery<'_>) -> Outcome<Vec<String>> {
    let rows = match query {
        RunQuery::Newest => client.query(
            "SELECT run_id FROM runs ORDER BY started_at DESC, run_id DESC LIMIT 1",
            &[],
        )?,
        RunQuery::Prefix(prefix) => client.query(
            "SELECT run_id FROM runs WHERE starts_with(run_id, $1) ORDER BY run_id LIMIT $2",
            &[prefix, &(MAX_CANDIDATES as i64)],
        )?,
    };
    Ok(rows.into_iter().map(|row| row.get(0)).collect())
}
