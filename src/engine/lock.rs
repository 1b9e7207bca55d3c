//! The lock that keeps two runs of one runbook in one environment apart, as a session takes it.
//!
//! The store keeps the lock and says who holds it; this module decides what that means for the
//! run asking: a holder that is gone is taken over with a warning, a live one refuses the run
//! with a message that ends in the `--force-lock` command to run in an emergency, and
//! `--force-lock` itself stops the holder first (a rollback must not race the release it undoes).

use std::path::Path;

use super::session::Notice;
use crate::error::{Error, Lock, Result};
use crate::plan::shell_quote;
use crate::store::record::RunStatus;
use crate::store::{LockClaim, LockHolder, LockOutcome, Owner, Store};
use crate::sys::interrupt::GRACE_PERIOD;
use crate::sys::{operator, processes};
use crate::text::timestamp::Timestamp;

/// The run asking for the lock.
pub(super) struct Claimant<'a> {
    pub runbook: &'a str,
    pub env: &'a str,
    pub run_id: &'a str,
    pub operator: &'a str,
    pub owner: &'a Owner,
    /// The runbook's file, for the `--force-lock` command in the refusal.
    pub runbook_path: &'a Path,
}

/// Takes the lock for `claimant`; `force` (`--force-lock`) stops a live holder first.
pub(super) fn take(
    store: &mut dyn Store,
    claimant: &Claimant<'_>,
    force: bool,
    notices: &mut dyn FnMut(Notice),
) -> Result<()> {
    let since = Timestamp::now();
    let Claimant {
        runbook,
        env,
        run_id,
        operator,
        owner,
        ..
    } = *claimant;
    let claim = LockClaim {
        runbook,
        env,
        run_id,
        operator,
        owner,
        since,
    };
    let taken_over = match store.acquire_lock(&claim)? {
        LockOutcome::Taken { taken_over } => taken_over,
        LockOutcome::Held(holder) if force => {
            let signalled = stop_holder_here(&holder, notices);
            let cut_off = store.break_lock(runbook, env, &holder)?;
            if !signalled {
                notices(Notice::Warning(if cut_off {
                    format!(
                        "--force-lock: ended the team-store session of run {} (operator {}, pid {} on {}) and took its lock; its step in flight finishes, then it stops, as it can no longer record",
                        holder.run_id, holder.operator, holder.pid, holder.host
                    )
                } else {
                    format!(
                        "--force-lock: took the lock from run {} (operator {}, pid {} on {}), which may still be running",
                        holder.run_id, holder.operator, holder.pid, holder.host
                    )
                }));
            }
            match store.acquire_lock(&claim)? {
                LockOutcome::Taken { taken_over } => taken_over,
                LockOutcome::Held(holder) => {
                    return Err(locked(&holder, runbook, env, claimant.runbook_path));
                }
            }
        }
        LockOutcome::Held(holder) => {
            return Err(locked(&holder, runbook, env, claimant.runbook_path));
        }
    };
    // A killed run's step may still be running in its group of its own: a run or a rollback
    // beside it would race it (a rollback undone by the deploy finishing after it). A lock
    // taken over is the sign of a killed run (the lock of a run that ended is free, and costs
    // no look); with the lock held, a run of this runbook and environment still recorded as
    // running on this host is one whose shipbook was killed. A refusal keeps the lock it took
    // over, as a killed run would have: the next attempt takes it over and looks again.
    let Some(previous) = taken_over else {
        return Ok(());
    };
    let here = operator::hostname();
    let crashed: Vec<String> = store
        .list_runs(Some(runbook), 10)?
        .into_iter()
        .filter(|run| {
            let killed = run.status == RunStatus::Running
                || (run.status == RunStatus::Interrupted
                    && run.status_reason.as_deref() == Some(crate::store::PROCESS_ENDED));
            killed
                && run.host == here
                && run.run_id != run_id
                && run.env.as_deref().unwrap_or_default() == env
        })
        .map(|run| run.run_id)
        .collect();
    for crashed in crashed {
        if let Err(refusal) = refuse_leftovers(&crashed) {
            if !force {
                return Err(refusal);
            }
            notices(Notice::Warning(format!("--force-lock: {refusal}")));
        }
    }
    notices(Notice::Warning(format!(
        "took over the lock of run {} (operator {}, pid {}): its process no longer exists",
        previous.run_id, previous.operator, previous.pid
    )));
    Ok(())
}

/// A step of a run whose shipbook was killed may still be running in its own process group;
/// running it again, or anything else of the runbook, beside it would be worse than waiting.
pub(super) fn refuse_leftovers(run_id: &str) -> Result<()> {
    let leftovers = processes::of_run(run_id);
    if leftovers.is_empty() {
        return Ok(());
    }
    let pids: Vec<String> = leftovers.iter().map(u32::to_string).collect();
    Err(Error::Precondition {
        message: format!(
            "processes started by run {run_id} are still running (pid {}): a step of the interrupted run has not ended",
            pids.join(", ")
        ),
        expected: format!(
            "no process of the run left: wait for them, or stop them (`kill {}`), then try again",
            pids.join(" ")
        ),
    })
}

/// The refusal of a run because `holder` holds the lock of `runbook` in `env`.
pub(super) fn locked(holder: &LockHolder, runbook: &str, env: &str, runbook_path: &Path) -> Error {
    Error::Locked(Box::new(Lock {
        runbook: runbook.to_string(),
        env: env.to_string(),
        holder_run: holder.run_id.clone(),
        holder_operator: holder.operator.clone(),
        holder_pid: holder.pid,
        holder_since: holder.since,
        holder_host: holder.host.clone(),
        force_lock_command: force_lock_command(runbook_path, env),
    }))
}

/// The emergency command for a locked runbook and environment, to run as printed.
fn force_lock_command(runbook_path: &Path, env: &str) -> String {
    let env = if env.is_empty() {
        String::new()
    } else {
        format!(" --env {}", shell_quote(env))
    };
    format!(
        "shipbook rollback {}{env} --force-lock",
        shell_quote(&runbook_path.display().to_string())
    )
}

/// `--force-lock`: a rollback must not race the release it undoes, so the run holding the lock is
/// asked to stop (SIGTERM: it stops its step and records itself interrupted), and given the grace
/// period to do so. A holder on another host cannot be signalled (returns false): the store then
/// cuts it off where it can, and the lock is taken anyway.
fn stop_holder_here(holder: &LockHolder, notices: &mut dyn FnMut(Notice)) -> bool {
    let LockHolder {
        run_id,
        operator,
        pid,
        host,
        ..
    } = holder;
    if *host != operator::hostname() || *pid == 0 {
        return false;
    }
    notices(Notice::Warning(format!(
        "--force-lock: stopping run {run_id} (operator {operator}, pid {pid}) and taking its lock"
    )));
    processes::terminate_and_wait(*pid, GRACE_PERIOD * 2);
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_force_lock_command_names_the_runbook_and_environment() {
        assert_eq!(
            force_lock_command(Path::new("runbooks/web.toml"), "production"),
            "shipbook rollback runbooks/web.toml --env production --force-lock"
        );
        assert_eq!(
            force_lock_command(Path::new("my runbooks/web.toml"), ""),
            "shipbook rollback 'my runbooks/web.toml' --force-lock"
        );
    }
}
