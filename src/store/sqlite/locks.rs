//! The locks that keep two runs of one runbook in one environment apart, as rows of `locks`.
//!
//! Taking a lock reads the current holder and writes the new one in one immediate transaction,
//! so that two shipbooks starting at once cannot both see the lock free. A holder whose process
//! no longer exists (shipbook was killed) does not keep the lock: the next run takes it over.

use rusqlite::{Connection, TransactionBehavior, named_params};

use super::columns::{Columns, Outcome, read_owner};
use crate::store::{LockClaim, LockHolder, LockOutcome, Owner};

pub(super) fn acquire(connection: &mut Connection, claim: &LockClaim<'_>) -> Outcome<LockOutcome> {
    let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut taken_over = None;
    if let Some((holder, owner)) = holder(&transaction, claim.runbook, claim.env)? {
        if !owner.is_gone() {
            return Ok(LockOutcome::Held(holder));
        }
        taken_over = Some(holder);
    }
    transaction.execute(
        "INSERT OR REPLACE INTO locks (runbook, env, run_id, operator, host, pid, pid_start, since)
         VALUES (:runbook, :env, :run_id, :operator, :host, :pid, :pid_start, :since)",
        named_params! {
            ":runbook": claim.runbook,
            ":env": claim.env,
            ":run_id": claim.run_id,
            ":operator": claim.operator,
            ":host": claim.owner.host,
            ":pid": claim.owner.pid,
            ":pid_start": claim.owner.pid_start.map(|start| start as i64),
            ":since": claim.since,
        },
    )?;
    transaction.commit()?;
    Ok(LockOutcome::Taken { taken_over })
}

/// The current holder of a lock, and its process.
fn holder(
    connection: &Connection,
    runbook: &str,
    env: &str,
) -> Outcome<Option<(LockHolder, Owner)>> {
    let mut statement = connection.prepare(
        "SELECT run_id, operator, host, pid, pid_start, since FROM locks
         WHERE runbook = :runbook AND env = :env",
    )?;
    let mut rows = statement.query(named_params! { ":runbook": runbook, ":env": env })?;
    let Some(row) = rows.next()? else {
        return Ok(None);
    };
    let row = Columns::of("locks", row);
    let owner = read_owner(&row)?;
    let holder = LockHolder {
        run_id: row.get("run_id")?,
        operator: row.get("operator")?,
        pid: owner.pid,
        since: row.get("since")?,
        host: owner.host.clone(),
    };
    Ok(Some((holder, owner)))
}

pub(super) fn release(
    connection: &Connection,
    runbook: &str,
    env: &str,
    run_id: &str,
) -> Outcome<()> {
    connection.execute(
        "DELETE FROM locks WHERE runbook = :runbook AND env = :env AND run_id = :run_id",
        named_params! { ":runbook": runbook, ":env": env, ":run_id": run_id },
    )?;
    Ok(())
}
