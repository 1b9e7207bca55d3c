//! A run session: everything between the command line and the executor.
//!
//! Starting a run loads and plans the runbook, checks what must hold before any step (the
//! `[git]` rules, the rehearsal gate), opens the record store and lays out the record; resuming
//! one finds the record, refuses when it must, and merges it with the runbook as planned now.
//! Either way the prepared session then takes the lock, executes with the record store as its
//! first (and only critical) observer, and releases the lock whatever happened. The command
//! layer only maps arguments to a request and wires the terminal, JSON and JUnit observers.

use std::path::{Path, PathBuf};

use super::effects::Effects;
use super::event::{Observer, Observers};
use super::executor::{Executor, Options};
use super::recorder::Recorder;
use super::run_record::new_record;
use super::{preconditions, rehearsal, resume, run_id};
use crate::error::{Error, Lock, Result};
use crate::mask::Masker;
use crate::plan::{Plan, Selection};
use crate::runbook::{self, Mode, OnFailure};
use crate::store::record::{Invocation, RunRecord, RunStatus};
use crate::store::{Owner, Store};
use crate::sys::interrupt::GRACE_PERIOD;
use crate::sys::{git, operator, processes, state};
use crate::text::timestamp::Timestamp;

/// Something the engineer should know that is not an error: shown by the command layer.
#[derive(Debug)]
pub enum Notice {
    Warning(String),
    Note(String),
    /// A plain line of information.
    Info(String),
    /// An error that does not change how the run ended.
    Failure(Error),
}

/// What the command line asked for a new run, rehearsal or rollback.
pub struct StartRequest {
    pub mode: Mode,
    pub runbook: PathBuf,
    pub selection: Selection,
    pub yes: bool,
    pub reason: Option<String>,
    pub on_failure: Option<OnFailure>,
    pub skip_rehearsal: Option<String>,
    pub force_lock: bool,
}

/// A run ready to execute: planned, checked, its record laid out.
pub struct Prepared {
    pub plan: Plan,
    pub record: RunRecord,
    store: Box<dyn Store>,
    pub state_dir: PathBuf,
    yes: bool,
    on_failure: OnFailure,
    resumed: bool,
    force_lock: bool,
}

/// Prepares a new run, rehearsal or rollback.
pub fn start(
    request: &StartRequest,
    state_dir: Option<&Path>,
    notices: &mut dyn FnMut(Notice),
) -> Result<Prepared> {
    let runbook = runbook::load(&request.runbook)?;
    if request.mode == Mode::Rollback && runbook.rollback.is_none() {
        return Err(Error::usage(
            format!(
                "runbook `{}` has no [rollback] section, so there is no prepared way back",
                runbook.name()
            ),
            "a [rollback] table in the runbook, such as:\n\n    [rollback]\n    note = \"Redeploy the previous tag\"\n    run = \"./deploy.sh {{ env }} {{ git.previous_tag }}\"\n",
        ));
    }
    let run_id = run_id::new(runbook.name(), chrono::Utc::now());
    let plan = Plan::for_selection(
        &runbook,
        &request.selection,
        request.mode,
        request.reason.clone(),
        run_id.clone(),
        true,
    )?;
    let state_dir = state::for_runbook(state_dir, &runbook.path);
    // A rollback is an emergency: it skips every check but validation and secrets.
    if request.mode != Mode::Rollback {
        preconditions::check_git(&runbook.git, &runbook.path, &state_dir)?;
    }
    let store = crate::store::open(&state_dir).inspect_err(|_| {
        if request.mode == Mode::Rollback {
            rollback_by_hand(&plan, notices);
        }
    })?;
    let mut record = initial_record(&plan, &run_id, request);
    if request.mode == Mode::Run {
        rehearsal::check(
            &plan,
            &*store,
            request.skip_rehearsal.as_deref(),
            &mut record,
            notices,
        )?;
    }
    Ok(Prepared {
        on_failure: request.on_failure.unwrap_or(plan.on_failure),
        plan,
        record,
        store,
        state_dir,
        yes: request.yes,
        resumed: false,
        force_lock: request.force_lock,
    })
}

/// A rollback that cannot be recorded is not run; the engineer still needs the way back.
fn rollback_by_hand(plan: &Plan, notices: &mut dyn FnMut(Notice)) {
    let Some(rollback) = &plan.rollback else {
        return;
    };
    let masker = Masker::new(&plan.secrets);
    notices(Notice::Note(format!(
        "the rollback was not run, because it could not be recorded. To run it by hand, from {}:\n\n{}\n",
        rollback
            .steps
            .first()
            .map_or_else(|| ".".into(), |s| s.dir.display().to_string()),
        masker.text(&rollback.commands())
    )));
}

/// The record of a new run, with what the command line chose (a secret given through `--var`
/// kept masked; `resume` puts it back from the environment).
fn initial_record(plan: &Plan, run_id: &str, request: &StartRequest) -> RunRecord {
    // The files a change touched belong in a release's note; a rollback skips the tree diff.
    let files_touched = if request.mode == Mode::Rollback {
        Vec::new()
    } else {
        git::files_touched(&plan.runbook_path, &plan.git.previous_tag)
    };
    let mut record = new_record(plan, run_id, &operator::operator(), files_touched);
    let masker = Masker::new(&plan.secrets);
    record.invocation = Invocation {
        vars: request
            .selection
            .vars
            .iter()
            .map(|var| masker.text(var))
            .collect(),
        only: request.selection.only.clone(),
        from: request.selection.from.clone(),
        on_failure: request.on_failure.map(|p| p.to_string()),
    };
    record
}

/// Prepares the continuation of a failed or interrupted run; `None` when it succeeded and there
/// is nothing to resume.
pub fn resume(
    query: &str,
    yes: bool,
    force: bool,
    state_dir: Option<&Path>,
    notices: &mut dyn FnMut(Notice),
) -> Result<Option<Prepared>> {
    let state_dir = state::for_current_dir(state_dir);
    let Some(store) = crate::store::open_existing(&state_dir)? else {
        return Err(Error::UnknownRun {
            query: query.to_string(),
        });
    };
    let run_id = store.resolve_run_id(query)?;
    let previous = store.load_run(&run_id)?;
    if !resumable(&previous, notices)? {
        return Ok(None);
    }
    refuse_leftovers(&run_id)?;
    let runbook = runbook::load(Path::new(&previous.runbook_path))?;
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
    refuse_changes(&previous, &fresh, &runbook.content_hash, force, notices)?;
    let mut record = resume::merge(&previous, fresh, &runbook.content_hash);
    record
        .resumed
        .push(format!("{} by {}", Timestamp::now(), operator::operator()));
    let on_failure = previous
        .invocation
        .on_failure
        .as_deref()
        .and_then(OnFailure::parse)
        .unwrap_or(plan.on_failure);
    Ok(Some(Prepared {
        plan,
        record,
        store,
        state_dir,
        yes,
        on_failure,
        resumed: true,
        force_lock: false,
    }))
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
        RunStatus::Running => Err(Error::Locked(Box::new(Lock {
            runbook: previous.runbook.clone(),
            env: previous.env.clone().unwrap_or_default(),
            holder_run: previous.run_id.clone(),
            holder_operator: previous.operator.clone(),
            holder_pid: previous.pid,
            holder_since: previous.started_at,
            holder_host: previous.host.clone(),
        }))),
        _ => Ok(true),
    }
}

/// A step of a run whose shipbook was killed may still be running in its own process group;
/// running it again beside itself would be worse than waiting.
fn refuse_leftovers(run_id: &str) -> Result<()> {
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
            "no process of the run left: wait for them, or stop them (`kill {}`), then resume",
            pids.join(" ")
        ),
    })
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
        "its steps plan the same, but the file's content changed".to_string()
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

impl Prepared {
    /// Where this run's step logs go.
    pub fn logs_dir(&self) -> PathBuf {
        state::logs_dir(&self.state_dir, &self.record.run_id)
    }

    /// Takes the lock, executes with the record store first among the observers, and releases
    /// the lock whatever happened. `finish` writes the change note and returns its path.
    pub fn execute(
        mut self,
        observers: Vec<&mut dyn Observer>,
        effects: &mut dyn Effects,
        finish: impl FnOnce(&RunRecord) -> Result<String>,
        notices: &mut dyn FnMut(Notice),
    ) -> Result<RunRecord> {
        let owner = Owner::this_process();
        let env = self.plan.env.clone().unwrap_or_default();
        let run_id = self.record.run_id.clone();
        self.lock(&owner, &env, notices)?;
        let logs_dir = self.logs_dir();
        let result = std::fs::create_dir_all(&logs_dir)
            .map_err(|source| {
                Error::io(
                    format!("cannot create the log directory {}", logs_dir.display()),
                    source,
                )
            })
            .and_then(|()| {
                let options = Options {
                    yes: self.yes,
                    logs_dir,
                    operator: self.record.operator.clone(),
                    on_failure: self.on_failure,
                    resumed: self.resumed,
                };
                let mut recorder = Recorder::new(
                    &mut *self.store,
                    owner,
                    run_id.clone(),
                    self.state_dir.clone(),
                );
                let mut all: Vec<&mut dyn Observer> = vec![&mut recorder];
                all.extend(
                    observers
                        .into_iter()
                        .map(|observer| observer as &mut dyn Observer),
                );
                Executor::new(
                    &self.plan,
                    self.record,
                    Observers::new(all),
                    effects,
                    options,
                )
                .execute(finish)
            });
        // The lock goes whatever happened; a failure to release it does not hide the run's own
        // result (a stale lock is taken over by the next run anyway, once this process is gone).
        if let Err(error) = self.store.release_lock(&self.plan.runbook, &env, &run_id) {
            notices(Notice::Warning(format!(
                "the lock of this runbook and environment could not be released ({error}); the next run takes it over, since this process will be gone"
            )));
        }
        result
    }

    /// Takes the lock of this runbook and environment; `--force-lock` stops the holder first.
    fn lock(&mut self, owner: &Owner, env: &str, notices: &mut dyn FnMut(Notice)) -> Result<()> {
        let since = Timestamp::now();
        let (runbook, run_id, operator) = (
            &self.plan.runbook,
            &self.record.run_id,
            &self.record.operator,
        );
        let acquired = self
            .store
            .acquire_lock(runbook, env, run_id, operator, owner, since);
        let taken_over = match acquired {
            Err(Error::Locked(lock)) if self.force_lock => {
                stop_holder(&lock, notices);
                self.store.release_lock(runbook, env, &lock.holder_run)?;
                self.store
                    .acquire_lock(runbook, env, run_id, operator, owner, since)?
            }
            other => other?,
        };
        if let Some(previous) = taken_over {
            notices(Notice::Warning(format!(
                "took over the lock of run {} (operator {}, pid {}): its process no longer exists",
                previous.run_id, previous.operator, previous.pid
            )));
        }
        Ok(())
    }
}

/// `--force-lock`: a rollback must not race the release it undoes, so the run holding the lock is
/// asked to stop (SIGTERM: it stops its step and records itself interrupted), and given the grace
/// period to do so. A holder on another host cannot be signalled; the lock is taken anyway.
fn stop_holder(lock: &Lock, notices: &mut dyn FnMut(Notice)) {
    let (run_id, operator, pid, host) = (
        &lock.holder_run,
        &lock.holder_operator,
        lock.holder_pid,
        &lock.holder_host,
    );
    if *host != operator::hostname() || pid == 0 {
        notices(Notice::Warning(format!(
            "--force-lock: took the lock from run {run_id} (operator {operator}, pid {pid} on {host}), which may still be running"
        )));
        return;
    }
    notices(Notice::Warning(format!(
        "--force-lock: stopping run {run_id} (operator {operator}, pid {pid}) and taking its lock"
    )));
    processes::terminate_and_wait(pid, GRACE_PERIOD * 2);
}
