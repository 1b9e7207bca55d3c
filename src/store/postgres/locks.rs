//! The lock of a runbook and environment across machines: a PostgreSQL session advisory lock,
//! and a row of `locks` that names its holder.
//!
//! The advisory lock is what excludes: PostgreSQL grants it to one session at a time and ends it
//! with the session, so a holder that dies (kill -9, a power cut, a network gone) frees it
//! without anyone clearing a stale lock by hand. The row only says who holds it (run, operator,
//! host, pid and the session's backend pid), for the message of the run that is refused and
//! for telling whether a run left `running` is still at it. A row whose session no longer holds
//! the lock is a dead holder's, and the next run takes it over.

use std::time::{Duration, Instant};

use postgres::Client;

use super::Fault;
use crate::store::{LockClaim, LockHolder, LockOutcome};

type Outcome<T> = std::result::Result<T, Fault>;

/// An advisory lock this store holds, to take again after a reconnection.
#[derive(Debug, Clone)]
pub(crate) struct Held {
    key: i64,
    runbook: String,
    env: String,
    run_id: String,
}

/// How long a lock whose holder has not yet written its row is waited for.
const ROW_PATIENCE: Duration = Duration::from_secs(2);

/// How long the session of a holder that `--force-lock` ended is waited for to let go.
const TERMINATE_PATIENCE: Duration = Duration::from_secs(10);

pub(super) fn acquire(
    client: &mut Client,
    held: &mut Vec<Held>,
    key: i64,
    claim: &LockClaim<'_>,
) -> Outcome<LockOutcome> {
    let deadline = Instant::now() + ROW_PATIENCE;
    loop {
        let taken: bool = client
            .query_one("SELECT pg_try_advisory_lock($1)", &[&key])?
            .get(0);
        let current = holder(client, claim.runbook, claim.env)?;
        if taken {
            write_row(client, key, claim)?;
            held.push(Held {
                key,
                runbook: claim.runbook.to_string(),
                env: claim.env.to_string(),
                run_id: claim.run_id.to_string(),
            });
            // A row left behind is a dead holder's: its session no longer holds the lock.
            let taken_over = current.filter(|holder| holder.run_id != claim.run_id);
            return Ok(LockOutcome::Taken { taken_over });
        }
        match current {
            Some(holder) => return Ok(LockOutcome::Held(holder)),
            // The holder took the lock a moment ago and is about to write its row.
            None if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
            None => {
                return Ok(LockOutcome::Held(LockHolder {
                    run_id: "(not yet recorded)".into(),
                    operator: "unknown".into(),
                    pid: 0,
                    since: claim.since,
                    host: "unknown".into(),
                }));
            }
        }
    }
}

fn write_row(client: &mut Client, key: i64, claim: &LockClaim<'_>) -> Outcome<()> {
    client.execute(
        "INSERT INTO locks (runbook, env, lock_key, run_id, operator, host, pid, backend_pid, since)
         VALUES ($1, $2, $3, $4, $5, $6, $7, pg_backend_pid(), $8)
         ON CONFLICT (runbook, env) DO UPDATE SET lock_key = excluded.lock_key,
            run_id = excluded.run_id, operator = excluded.operator, host = excluded.host,
            pid = excluded.pid, backend_pid = excluded.backend_pid, since = excluded.since",
        &[
            &claim.runbook,
            &claim.env,
            &key,
            &claim.run_id,
            &claim.operator,
            &claim.owner.host,
            &i64::from(claim.owner.pid),
            &claim.since.to_string(),
        ],
    )?;
    Ok(())
}

/// The row naming the holder of a lock, if there is one.
fn holder(client: &mut Client, runbook: &str, env: &str) -> Outcome<Option<LockHolder>> {
    let row = client.query_opt(
        "SELECT run_id, operator, pid, since, host FROM locks WHERE runbook = $1 AND env = $2",
        &[&runbook, &env],
    )?;
    row.map(|row| {
        let since: String = row.get(3);
        Ok(LockHolder {
            run_id: row.get(0),
            operator: row.get(1),
            pid: u32::try_from(row.get::<_, i64>(2)).unwrap_or(0),
            since: since.parse().map_err(|_| {
                Fault::Other(format!("a lock row has an unreadable time `{since}`"))
            })?,
            host: row.get(4),
        })
    })
    .transpose()
}

/// After a reconnection: the locks this store held, taken again and their rows pointed at the
/// new session. A lock another run took meanwhile (`--force-lock`) is lost: an error.
pub(super) fn take_again(client: &mut Client, held: &[Held]) -> Outcome<()> {
    for lock in held {
        let taken: bool = client
            .query_one("SELECT pg_try_advisory_lock($1)", &[&lock.key])?
            .get(0);
        let updated = client.execute(
            "UPDATE locks SET backend_pid = pg_backend_pid()
             WHERE runbook = $1 AND env = $2 AND run_id = $3",
            &[&lock.runbook, &lock.env, &lock.run_id],
        )?;
        if !taken || updated == 0 {
            if taken {
                client.execute("SELECT pg_advisory_unlock($1)", &[&lock.key])?;
            }
            return Err(Fault::Other(format!(
                "the lock of runbook `{}`{} was taken by another run while the connection was lost (`--force-lock`?); this run stops here",
                lock.runbook,
                if lock.env.is_empty() {
                    String::new()
                } else {
                    format!(" in `{}`", lock.env)
                }
            )));
        }
    }
    Ok(())
}

/// Lets go of a lock: it is dropped from those to take again first, so that releasing over a
/// new connection (the old one lost) does not take it only to give it back; unlocking in a
/// session that does not hold the lock only draws a warning from the server.
pub(super) fn release(
    client: &mut Client,
    key: i64,
    runbook: &str,
    env: &str,
    run_id: &str,
) -> Outcome<()> {
    client.execute(
        "DELETE FROM locks WHERE runbook = $1 AND env = $2 AND run_id = $3",
        &[&runbook, &env, &run_id],
    )?;
    client.execute("SELECT pg_advisory_unlock($1)", &[&key])?;
    Ok(())
}

/// Drops a lock from those this store takes again on a new connection.
pub(super) fn forget(held: &mut Vec<Held>, key: i64, run_id: &str) {
    held.retain(|lock| !(lock.key == key && lock.run_id == run_id));
}

/// `--force-lock`: ends the PostgreSQL session of the run holding the lock (wherever it runs),
/// waits for the lock to be free, and removes its row. Returns whether a session was ended.
pub(super) fn break_lock(
    client: &mut Client,
    key: i64,
    runbook: &str,
    env: &str,
    holder: &LockHolder,
) -> Outcome<bool> {
    let backend: Option<i32> = client
        .query_opt(
            "SELECT backend_pid FROM locks WHERE runbook = $1 AND env = $2 AND run_id = $3",
            &[&runbook, &env, &holder.run_id],
        )?
        .map(|row| row.get(0));
    let mut ended = false;
    if let Some(backend) = backend
        && lock_holders(client, key)?.contains(&backend)
    {
        ended = client
            .query_one("SELECT pg_terminate_backend($1)", &[&backend])?
            .get(0);
        if !ended {
            return Err(Fault::Other(format!(
                "cannot end the database session {backend} of run {}: the role needs to be the same as the holder's, or a member of pg_signal_backend",
                holder.run_id
            )));
        }
        let deadline = Instant::now() + TERMINATE_PATIENCE;
        while lock_holders(client, key)?.contains(&backend) {
            if Instant::now() >= deadline {
                return Err(Fault::Other(format!(
                    "the database session {backend} of run {} was told to end but still holds the lock",
                    holder.run_id
                )));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    client.execute(
        "DELETE FROM locks WHERE runbook = $1 AND env = $2 AND run_id = $3",
        &[&runbook, &env, &holder.run_id],
    )?;
    Ok(ended)
}

/// The sessions holding the advisory lock `key` in this database.
fn lock_holders(client: &mut Client, key: i64) -> Outcome<Vec<i32>> {
    let rows = client.query(
        "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1
            AND classid::bigint = (($1::bigint >> 32) & 4294967295)
            AND objid::bigint = ($1::bigint & 4294967295)
            AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
        &[&key],
    )?;
    Ok(rows.into_iter().map(|row| row.get(0)).collect())
}

/// A lock as `shipbook store status` shows it.
#[derive(Debug, Clone)]
pub struct LockRow {
    pub runbook: String,
    pub env: String,
    pub holder: LockHolder,
    /// Whether the holder's session still holds the lock (else the row is a dead holder's).
    pub live: bool,
}

/// Every lock row, and whether each is live.
pub(super) fn rows(client: &mut Client) -> Outcome<Vec<LockRow>> {
    let rows = client.query(
        "SELECT runbook, env, lock_key, backend_pid FROM locks ORDER BY runbook, env",
        &[],
    )?;
    let mut found = Vec::new();
    for row in rows {
        let runbook: String = row.get(0);
        let env: String = row.get(1);
        let key: i64 = row.get(2);
        let backend: i32 = row.get(3);
        let live = lock_holders(client, key)?.contains(&backend);
        if let Some(holder) = holder(client, &runbook, &env)? {
            found.push(LockRow {
                runbook,
                env,
                holder,
                live,
            });
        }
    }
    Ok(found)
}
