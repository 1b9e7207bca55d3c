//! Runs and their steps in SQLite: written as they change, read back by column name.
//!
//! A run is one row of `runs`; its list fields (files touched, metrics, resumes, the rehearsal
//! it relied on, the command line) are JSON in their own columns, so that a new field of those
//! needs no new column. Each step is one row of `steps`, written with one upsert whenever it
//! changes.

use rusqlite::{Connection, named_params};

use super::columns::{Columns, Outcome, read_owner, to_json};
use crate::store::record::{RunRecord, StepRecord};
use crate::store::{MAX_CANDIDATES, Owner, RunQuery, mark_interrupted};

/// Records a new run and all its steps, in one transaction.
pub(super) fn insert_run(
    connection: &mut Connection,
    run: &RunRecord,
    owner: &Owner,
) -> Outcome<()> {
    let transaction = connection.transaction()?;
    transaction.execute(
        "INSERT INTO runs (run_id, runbook, runbook_path, content_hash, mode, env, operator, host,
            pid, pid_start, reason, owner, expected, description, git_sha, git_branch, git_dirty,
            previous_tag, files_touched, rollback_note, rollback_command, started_at, finished_at,
            status, status_reason, note, metrics, rehearsal, skip_rehearsal, resumed, invocation,
            uncommitted, warnings, version)
         VALUES (:run_id, :runbook, :runbook_path, :content_hash, :mode, :env, :operator, :host,
            :pid, :pid_start, :reason, :owner, :expected, :description, :git_sha, :git_branch,
            :git_dirty, :previous_tag, :files_touched, :rollback_note, :rollback_command,
            :started_at, :finished_at, :status, :status_reason, :note, :metrics, :rehearsal,
            :skip_rehearsal, :resumed, :invocation, :uncommitted, :warnings, :version)",
        named_params! {
            ":run_id": run.run_id,
            ":runbook": run.runbook,
            ":runbook_path": run.runbook_path,
            ":content_hash": run.content_hash,
            ":mode": run.mode,
            ":env": run.env,
            ":operator": run.operator,
            ":host": owner.host,
            ":pid": owner.pid,
            ":pid_start": owner.pid_start.map(|start| start as i64),
            ":reason": run.reason,
            ":owner": run.owner,
            ":expected": run.expected,
            ":description": run.description,
            ":git_sha": run.git_sha,
            ":git_branch": run.git_branch,
            ":git_dirty": run.git_dirty,
            ":previous_tag": run.previous_tag,
            ":files_touched": to_json(&run.files_touched),
            ":rollback_note": run.rollback_note,
            ":rollback_command": run.rollback_command,
            ":started_at": run.started_at,
            ":finished_at": run.finished_at,
            ":status": run.status,
            ":status_reason": run.status_reason,
            ":note": run.note,
            ":metrics": to_json(&run.metrics),
            ":rehearsal": to_json(&run.rehearsal),
            ":skip_rehearsal": run.skip_rehearsal,
            ":resumed": to_json(&run.resumed),
            ":invocation": to_json(&run.invocation),
            ":uncommitted": to_json(&run.uncommitted),
            ":warnings": to_json(&run.warnings),
            ":version": run.version,
        },
    )?;
    for step in &run.steps {
        upsert_step(&transaction, &run.run_id, step)?;
    }
    Ok(transaction.commit()?)
}

/// Records a run continuing: running again, owned by this process, with the resume noted, and
/// its steps as planned again, in one transaction.
pub(super) fn resume_run(
    connection: &mut Connection,
    run: &RunRecord,
    owner: &Owner,
) -> Outcome<()> {
    let transaction = connection.transaction()?;
    transaction.execute(
        "UPDATE runs SET status = :status, status_reason = NULL, finished_at = NULL, host = :host,
            pid = :pid, pid_start = :pid_start, resumed = :resumed, content_hash = :content_hash
         WHERE run_id = :run_id",
        named_params! {
            ":run_id": run.run_id,
            ":status": run.status,
            ":host": owner.host,
            ":pid": owner.pid,
            ":pid_start": owner.pid_start.map(|start| start as i64),
            ":resumed": to_json(&run.resumed),
            ":content_hash": run.content_hash,
        },
    )?;
    replace_steps(&transaction, run)?;
    Ok(transaction.commit()?)
}

/// Writes the whole of a run again, in one transaction: how it stands, its metrics and resumes,
/// and every step. After a write that failed, this makes the record whole.
pub(super) fn rewrite_run(connection: &mut Connection, run: &RunRecord) -> Outcome<()> {
    let transaction = connection.transaction()?;
    transaction.execute(
        "UPDATE runs SET status = :status, status_reason = :status_reason,
            finished_at = :finished_at, note = :note, metrics = :metrics, resumed = :resumed,
            content_hash = :content_hash, warnings = :warnings
         WHERE run_id = :run_id",
        named_params! {
            ":run_id": run.run_id,
            ":status": run.status,
            ":status_reason": run.status_reason,
            ":finished_at": run.finished_at,
            ":note": run.note,
            ":metrics": to_json(&run.metrics),
            ":resumed": to_json(&run.resumed),
            ":content_hash": run.content_hash,
            ":warnings": to_json(&run.warnings),
        },
    )?;
    replace_steps(&transaction, run)?;
    Ok(transaction.commit()?)
}

/// Puts a run's steps as they now stand in place of those recorded, within `transaction`.
fn replace_steps(transaction: &rusqlite::Transaction<'_>, run: &RunRecord) -> Outcome<()> {
    transaction.execute("DELETE FROM steps WHERE run_id = ?1", [&run.run_id])?;
    for step in &run.steps {
        upsert_step(transaction, &run.run_id, step)?;
    }
    Ok(())
}

/// Records how a run ended, with its note and final metrics.
pub(super) fn finish_run(connection: &Connection, run: &RunRecord) -> Outcome<()> {
    connection.execute(
        "UPDATE runs SET status = :status, status_reason = :status_reason,
            finished_at = :finished_at, note = :note, metrics = :metrics, warnings = :warnings
         WHERE run_id = :run_id",
        named_params! {
            ":run_id": run.run_id,
            ":status": run.status,
            ":status_reason": run.status_reason,
            ":finished_at": run.finished_at,
            ":note": run.note,
            ":metrics": to_json(&run.metrics),
            ":warnings": to_json(&run.warnings),
        },
    )?;
    Ok(())
}

pub(super) fn update_metrics(connection: &Connection, run: &RunRecord) -> Outcome<()> {
    connection.execute(
        "UPDATE runs SET metrics = :metrics WHERE run_id = :run_id",
        named_params! { ":run_id": run.run_id, ":metrics": to_json(&run.metrics) },
    )?;
    Ok(())
}

/// Writes a step: inserts it, or updates what can change of one already recorded.
pub(super) fn upsert_step(connection: &Connection, run_id: &str, step: &StepRecord) -> Outcome<()> {
    connection
        .prepare_cached(
            "INSERT INTO steps (run_id, position, step_id, name, kind, command, status, attempts,
                exit_code, started_at, duration_ms, log, log_tail, detail, phase, tag, samples,
                approved_by)
             VALUES (:run_id, :position, :step_id, :name, :kind, :command, :status, :attempts,
                :exit_code, :started_at, :duration_ms, :log, :log_tail, :detail, :phase, :tag,
                :samples, :approved_by)
             ON CONFLICT (run_id, position) DO UPDATE SET status = excluded.status,
                attempts = excluded.attempts, exit_code = excluded.exit_code,
                started_at = excluded.started_at, duration_ms = excluded.duration_ms,
                log = excluded.log, log_tail = excluded.log_tail, detail = excluded.detail,
                tag = excluded.tag, samples = excluded.samples,
                approved_by = excluded.approved_by",
        )?
        .execute(named_params! {
            ":run_id": run_id,
            ":position": step.position,
            ":step_id": step.id,
            ":name": step.name,
            ":kind": step.kind,
            ":command": step.command,
            ":status": step.status,
            ":attempts": step.attempts,
            ":exit_code": step.exit_code,
            ":started_at": step.started_at,
            ":duration_ms": step.duration_ms.map(|ms| ms as i64),
            ":log": step.log,
            ":log_tail": step.log_tail,
            ":detail": step.detail,
            ":phase": step.phase,
            ":tag": to_json(&step.tag),
            ":samples": (!step.samples.is_empty()).then(|| to_json(&step.samples)),
            ":approved_by": step.approved_by,
        })?;
    Ok(())
}

/// Writes what changes in a step as it runs, with a prepared UPDATE (the row is there since
/// the run or the undo was recorded; one that is not is written whole).
pub(super) fn update_step(connection: &Connection, run_id: &str, step: &StepRecord) -> Outcome<()> {
    // Positional parameters: binding thirteen values by name looks each name up in turn, a
    // measurable part of a short step's record.
    let changed = connection
        .prepare_cached(
            "UPDATE steps SET status = ?3, attempts = ?4, exit_code = ?5, started_at = ?6,
                duration_ms = ?7, log = ?8, log_tail = ?9, detail = ?10, tag = ?11,
                samples = ?12, approved_by = ?13
             WHERE run_id = ?1 AND position = ?2",
        )?
        .execute(rusqlite::params![
            run_id,
            step.position,
            step.status,
            step.attempts,
            step.exit_code,
            step.started_at,
            step.duration_ms.map(|ms| ms as i64),
            step.log,
            step.log_tail,
            step.detail,
            to_json(&step.tag),
            (!step.samples.is_empty()).then(|| to_json(&step.samples)),
            step.approved_by,
        ])?;
    if changed == 0 {
        upsert_step(connection, run_id, step)?;
    }
    Ok(())
}

/// Writes several steps that changed together in one transaction.
pub(super) fn update_steps(
    connection: &Connection,
    run_id: &str,
    steps: &[&StepRecord],
) -> Outcome<()> {
    // The statements that begin and end the transaction are prepared once, like the UPDATE:
    // parsing `BEGIN` and `COMMIT` again at every step boundary is a good part of its cost.
    connection.prepare_cached("BEGIN")?.execute([])?;
    let written = steps
        .iter()
        .try_for_each(|step| update_step(connection, run_id, step))
        .and_then(|()| -> Outcome<()> {
            connection.prepare_cached("COMMIT")?.execute([])?;
            Ok(())
        });
    if written.is_err() {
        // Nothing of a failed boundary is kept, as with any transaction that fails.
        let _ = connection.execute_batch("ROLLBACK");
    }
    written
}

/// The ids of the newest rehearsals of `runbook` in `env`, newest first, at most `limit`.
pub(super) fn rehearsal_ids(
    connection: &Connection,
    runbook: &str,
    env: &str,
    limit: usize,
) -> Outcome<Vec<String>> {
    let mut statement = connection.prepare(
        "SELECT run_id FROM runs WHERE runbook = :runbook AND env = :env AND mode = 'rehearsal'
         ORDER BY started_at DESC, run_id DESC LIMIT :limit",
    )?;
    let mut rows = statement.query(named_params! {
        ":runbook": runbook,
        ":env": env,
        ":limit": limit as i64,
    })?;
    let mut ids = Vec::new();
    while let Some(row) = rows.next()? {
        ids.push(row.get("run_id")?);
    }
    Ok(ids)
}

/// The run ids a user's query may mean.
pub(super) fn run_ids(connection: &Connection, query: RunQuery<'_>) -> Outcome<Vec<String>> {
    let mut ids = Vec::new();
    let mut statement;
    let mut rows = match query {
        RunQuery::Newest => {
            statement = connection
                .prepare("SELECT run_id FROM runs ORDER BY started_at DESC, run_id DESC LIMIT 1")?;
            statement.query([])?
        }
        RunQuery::Prefix(prefix) => {
            statement = connection.prepare(
                "SELECT run_id FROM runs WHERE substr(run_id, 1, length(:prefix)) = :prefix
                 ORDER BY run_id LIMIT :limit",
            )?;
            statement.query(named_params! { ":prefix": prefix, ":limit": MAX_CANDIDATES as i64 })?
        }
    };
    while let Some(row) = rows.next()? {
        ids.push(row.get("run_id")?);
    }
    Ok(ids)
}

/// The columns of `runs` that make a `RunRecord` and its `Owner`.
const RUN_COLUMNS: &str = "run_id, runbook, runbook_path, content_hash, mode, env, operator, host,
    pid, pid_start, reason, owner, expected, description, git_sha, git_branch, git_dirty,
    previous_tag, files_touched, rollback_note, rollback_command, started_at, finished_at, status,
    status_reason, note, metrics, rehearsal, skip_rehearsal, resumed, invocation, uncommitted,
    warnings, version";

/// The runs newest first, without their steps.
pub(super) fn list_runs(
    connection: &Connection,
    runbook: Option<&str>,
    limit: usize,
) -> Outcome<Vec<RunRecord>> {
    let mut statement = connection.prepare(&format!(
        "SELECT {RUN_COLUMNS} FROM runs WHERE (:runbook IS NULL OR runbook = :runbook)
         ORDER BY started_at DESC, run_id DESC LIMIT :limit"
    ))?;
    let mut rows =
        statement.query(named_params! { ":runbook": runbook, ":limit": limit as i64 })?;
    let mut runs = Vec::new();
    while let Some(row) = rows.next()? {
        let (run, owner) = read_run(&Columns::of("runs", row))?;
        runs.push(mark_interrupted(run, &owner));
    }
    Ok(runs)
}

/// One run with its steps, if it is recorded.
pub(super) fn load_run(connection: &Connection, run_id: &str) -> Outcome<Option<RunRecord>> {
    let mut statement =
        connection.prepare(&format!("SELECT {RUN_COLUMNS} FROM runs WHERE run_id = ?1"))?;
    let mut rows = statement.query([run_id])?;
    let Some(row) = rows.next()? else {
        return Ok(None);
    };
    let (run, owner) = read_run(&Columns::of("runs", row))?;
    let steps = load_steps(connection, run_id)?;
    Ok(Some(mark_interrupted(RunRecord { steps, ..run }, &owner)))
}

fn load_steps(connection: &Connection, run_id: &str) -> Outcome<Vec<StepRecord>> {
    let mut statement = connection.prepare_cached(
        "SELECT position, step_id, name, kind, command, status, attempts, exit_code, started_at,
            duration_ms, log, log_tail, detail, phase, tag, samples, approved_by
         FROM steps WHERE run_id = ?1 ORDER BY position",
    )?;
    let mut rows = statement.query([run_id])?;
    let mut steps = Vec::new();
    while let Some(row) = rows.next()? {
        steps.push(read_step(&Columns::of("steps", row))?);
    }
    Ok(steps)
}

fn read_run(row: &Columns<'_, '_>) -> Outcome<(RunRecord, Owner)> {
    let owner = read_owner(row)?;
    let run = RunRecord {
        run_id: row.get("run_id")?,
        runbook: row.get("runbook")?,
        runbook_path: row.get("runbook_path")?,
        content_hash: row.get("content_hash")?,
        mode: row.get("mode")?,
        env: row.get("env")?,
        operator: row.get("operator")?,
        host: owner.host.clone(),
        pid: owner.pid,
        reason: row.get("reason")?,
        owner: row.get("owner")?,
        expected: row.get("expected")?,
        description: row.get("description")?,
        git_sha: row.get("git_sha")?,
        git_branch: row.get("git_branch")?,
        git_dirty: row.get("git_dirty")?,
        uncommitted: row.json("uncommitted")?,
        warnings: row.json("warnings")?,
        version: row.get("version")?,
        previous_tag: row.get("previous_tag")?,
        files_touched: row.json("files_touched")?,
        rollback_note: row.get("rollback_note")?,
        rollback_command: row.get("rollback_command")?,
        started_at: row.get("started_at")?,
        finished_at: row.get("finished_at")?,
        status: row.get("status")?,
        status_reason: row.get("status_reason")?,
        note: row.get("note")?,
        metrics: row.json("metrics")?,
        rehearsal: row.json("rehearsal")?,
        skip_rehearsal: row.get("skip_rehearsal")?,
        resumed: row.json("resumed")?,
        invocation: row.json("invocation")?,
        steps: Vec::new(),
    };
    Ok((run, owner))
}

fn read_step(row: &Columns<'_, '_>) -> Outcome<StepRecord> {
    Ok(StepRecord {
        position: row.get("position")?,
        id: row.get("step_id")?,
        name: row.get("name")?,
        kind: row.get("kind")?,
        command: row.get("command")?,
        status: row.get("status")?,
        attempts: row.get("attempts")?,
        exit_code: row.get("exit_code")?,
        started_at: row.get("started_at")?,
        duration_ms: row.get::<Option<i64>>("duration_ms")?.map(|ms| ms as u64),
        log: row.get("log")?,
        log_tail: row.get("log_tail")?,
        detail: row.get("detail")?,
        phase: row.get("phase")?,
        tag: row.json("tag")?,
        samples: row.json("samples")?,
        approved_by: row.get("approved_by")?,
    })
}
