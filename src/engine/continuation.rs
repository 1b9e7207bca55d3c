//! Preparing `shipbook resume`: finding the run, refusing what must be refused, and merging its
//! record with the runbook as planned now; then, once the session holds the lock, checking the
//! record again.
//!
//! Reading the run and taking its lock are two moments. Another `shipbook resume` of the same
//! run (two engineers, or a CI retry) may take the lock in between, finish the run and release
//! the lock; what was read before is then stale, and continuing from it would run the rest a
//! second time. So everything that depends on the run's state is decided again under the lock:
//! a run that meanwhile succeeded has nothing left (exit 0), one that meanwhile changed is merged
//! again from what it is now, and the processes of the run are looked for only then, when no
//! other shipbook can be running them.

use std::path::Path;

use super::lock;
use super::resume;
use super::run_record::new_record;
use super::session::{Answers, Notice, Prepared};
use crate::error::{Error, Result};
use crate::plan::{Plan, Selection};
use crate::runbook;
use crate::store::record::{RunRecord, RunStatus};
use crate::store::{Backend, LockHolder, Store};
use crate::sys::{operator, state};
use crate::text::timestamp::Timestamp;

/// What a resume was prepared from, to be checked again once the lock is held.
pub(super) struct Resumption {
    /// The run as it was read before the lock.
    previous: RunRecord,
    /// The run's steps as the runbook plans them now, all pending.
    fresh: RunRecord,
    force: bool,
}

/// Prepares the continuation of a failed or interrupted run; `None` when it succeeded and there
/// is nothing to resume.
pub fn resume(
    query: &str,
    answers: Answers,
    force: bool,
    jobs: Option<usize>,
    state_dir: Option<&Path>,
    backend: &Backend,
    notices: &mut dyn FnMut(Notice),
) -> Result<Option<Prepared>> {
    let state_dir = state::for_current_dir(state_dir);
    let Some(mut store) = crate::store::open_existing(&state_dir, backend)? else {
        return Err(Error::UnknownRun {
            query: query.to_string(),
        });
    };
    let run_id = store.resolve_run_id(query)?;
    let previous = store.load_run(&run_id)?;
    if !resumable(&previous, notices)? {
        return Ok(None);
    }
    let runbook = runbook::load(&locate_runbook(&previous.runbook_path, notices))?;
    if runbook.name() != previous.runbook {
        return Err(Error::usage(
            format!(
                "{} now holds runbook `{}`, not `{}` of run {run_id}",
                previous.runbook_path,
                runbook.name(),
                previous.runbook
            ),
            "the runbook the run was started with",
        ));
    }
    let selection = Selection {
        env: previous.env.clone(),
        vars: previous
            .invocation
            .vars
            .iter()
            .map(|var| resume::unmask(var, &runbook))
            .collect(),
        only: previous.invocation.only.clone(),
        from: previous.invocation.from.clone(),
        jobs: jobs.or(previous.invocation.jobs),
    };
    let mode = previous.mode;
    let plan = Plan::for_selection(
        &runbook,
        &selection,
        mode,
        previous.reason.clone(),
        run_id.clone(),
        true,
    )?;
    let fresh = new_record(&plan, &run_id, &previous.operator, Vec::new());
    let record = merged(&previous, &fresh, force, notices)?;
    let on_failure = previous.invocation.on_failure.unwrap_or(plan.on_failure);
    Ok(Some(Prepared {
        plan,
        record,
        store,
        state_dir,
        answers,
        on_failure,
        resumption: Some(Resumption {
            previous,
            fresh,
            force,
        }),
        force_lock: false,
        closing: Vec::new(),
    }))
}

/// The record to continue from: `previous` merged with the runbook as planned now (`fresh`),
/// once a changed runbook has been refused (or allowed by `--force`).
fn merged(
    previous: &RunRecord,
    fresh: &RunRecord,
    force: bool,
    notices: &mut dyn FnMut(Notice),
) -> Result<RunRecord> {
    refuse_changes(previous, fresh, &fresh.content_hash, force, notices)?;
    let mut record = resume::merge(previous, fresh.clone(), &fresh.content_hash);
    record
        .resumed
        .push(format!("{} by {}", Timestamp::now(), operator::operator()));
    Ok(record)
}

/// Where the runbook of a run is on this machine. A run recorded in a team store may have been
/// started on another machine, from a clone at another path: when the recorded path does not
/// exist here, the same path below the root of this directory's repository is looked for
/// (`/home/ann/src/web/runbooks/release.toml` is `runbooks/release.toml` here, or
/// `web/runbooks/release.toml`). What is found is still checked: its runbook must have the
/// run's name, and a changed runbook is refused unless `--force`.
fn locate_runbook(recorded: &str, notices: &mut dyn FnMut(Notice)) -> std::path::PathBuf {
    let recorded = Path::new(recorded);
    if recorded.exists() {
        return recorded.to_path_buf();
    }
    let here = std::env::current_dir().ok();
    let Some(root) = here.as_deref().and_then(crate::sys::git::work_root) else {
        return recorded.to_path_buf();
    };
    let parts: Vec<_> = recorded.components().collect();
    // The longest tail first: the more of the recorded path matches, the surer the match.
    for start in 1..parts.len() {
        let candidate = parts[start..]
            .iter()
            .fold(root.clone(), |path, part| path.join(part));
        if candidate.is_file() {
            notices(Notice::Info(format!(
                "the run was started from {}; its runbook here is {}",
                recorded.display(),
                candidate.display()
            )));
            return candidate;
        }
    }
    recorded.to_path_buf()
}

/// Under the lock, decides again from the run as it is now. Returns the record to continue
/// from, or `None` when the run succeeded meanwhile and there is nothing left.
pub(super) fn recheck(
    store: &mut dyn Store,
    resumption: Resumption,
    prepared: RunRecord,
    notices: &mut dyn FnMut(Notice),
) -> Result<Option<RunRecord>> {
    let Resumption {
        previous,
        fresh,
        force,
    } = resumption;
    let now = store.load_run(&previous.run_id)?;
    let record = if now == previous {
        prepared
    } else {
        if !resumable(&now, notices)? {
            return Ok(None);
        }
        notices(Notice::Info(format!(
            "run {} changed while this resume waited for its lock (another resume?); continuing from where it is now",
            now.run_id
        )));
        merged(&now, &fresh, force, notices)?
    };
    super::lock::refuse_leftovers(&record.run_id)?;
    Ok(Some(record))
}

/// Whether a recorded run can be resumed: a succeeded one has nothing left, and a running one
/// holds its lock.
fn resumable(previous: &RunRecord, notices: &mut dyn FnMut(Notice)) -> Result<bool> {
    match previous.status {
        RunStatus::Succeeded => {
            notices(Notice::Info(format!(
                "run {} succeeded; there is nothing to resume",
                previous.run_id
            )));
            Ok(false)
        }
        // What the run did was undone by its rollback: carrying on would deploy again what was
        // just taken back. A new run is the way forward, once the failure is understood.
        RunStatus::RolledBack => Err(Error::usage(
            format!(
                "run {} was rolled back after a step failed; resuming it would redo what the rollback undid",
                previous.run_id
            ),
            "a new run (`shipbook run`) once the failure is fixed",
        )),
        RunStatus::Running => Err(lock::locked(
            &LockHolder {
                run_id: previous.run_id.clone(),
                operator: previous.operator.clone(),
                pid: previous.pid,
                since: previous.started_at,
                host: previous.host.clone(),
            },
            &previous.runbook,
            previous.env.as_deref().unwrap_or_default(),
            Path::new(&previous.runbook_path),
        )),
        _ => Ok(true),
    }
}

/// A runbook that changed since the run started is refused, naming the steps that differ,
/// unless `--force`.
fn refuse_changes(
    previous: &RunRecord,
    fresh: &RunRecord,
    content_hash: &str,
    force: bool,
    notices: &mut dyn FnMut(Notice),
) -> Result<()> {
    let differences = resume::differences(previous, fresh);
    if previous.content_hash == content_hash && differences.is_empty() {
        return Ok(());
    }
    if force {
        notices(Notice::Warning(
            "resuming with the changed runbook (--force)".into(),
        ));
        return Ok(());
    }
    let detail = if differences.is_empty() {
        "its steps run the same commands, but the file changed elsewhere (a setting, the order, what a step `needs`)".to_string()
    } else {
        format!("steps that differ: {}", differences.join("; "))
    };
    Err(Error::Precondition {
        message: format!(
            "runbook {} changed since run {} started; {detail}",
            previous.runbook_path, previous.run_id
        ),
        expected: "the runbook as it was; or --force to resume with the runbook as it is now (steps that succeeded are still not run again)".into(),
    })
}
