//! A run session: everything between the command line and the executor.
//!
//! Starting a run loads and plans the runbook, checks what must hold before any step (the
//! `[git]` rules, the rehearsal gate), opens the record store and lays out the record; resuming
//! one (`continuation`) finds the record, refuses when it must, and merges it with the runbook as
//! planned now. Either way the prepared session then takes the lock (for a resume, checks the
//! record again under it), executes with the record store as its first (and only critical)
//! observer, and releases the lock whatever happened. The command
//! layer only maps arguments to a request and wires the terminal, JSON and JUnit observers.

use std::path::{Path, PathBuf};

use super::continuation::{self, Resumption};
use super::effects::Effects;
use super::event::{Observer, Observers};
use super::executor::{Executor, Options};
use super::recorder::Recorder;
use super::run_record::new_record;
use super::{lock, preconditions, rehearsal, run_id};
use crate::error::{Error, Result};
use crate::mask::Masker;
use crate::plan::{Plan, Selection};
use crate::runbook::{self, Mode, OnFailure, Runbook};
use crate::store::record::{Invocation, RunRecord};
use crate::store::{Backend, Owner, Store};
use crate::sys::{git, operator, state};
use crate::text::diagnostic::Diagnostic;

pub use super::continuation::resume;

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

/// How the questions of a run are answered: `--yes`, and who approves (`--approver`).
#[derive(Debug, Clone, Default)]
pub struct Answers {
    pub yes: bool,
    pub approver: Option<String>,
}

/// What the command line asked for a new run, rehearsal or rollback.
pub struct StartRequest {
    pub mode: Mode,
    pub runbook: PathBuf,
    pub selection: Selection,
    pub answers: Answers,
    pub reason: Option<String>,
    pub on_failure: Option<OnFailure>,
    pub skip_rehearsal: Option<String>,
    pub force_lock: bool,
    /// Where the records go.
    pub backend: Backend,
}

/// A run ready to execute: planned, checked, its record laid out.
pub struct Prepared {
    pub plan: Plan,
    pub record: RunRecord,
    pub(super) store: Box<dyn Store>,
    pub state_dir: PathBuf,
    pub(super) answers: Answers,
    pub(super) on_failure: OnFailure,
    /// For a resumed run: what it was prepared from, checked again under the lock.
    pub(super) resumption: Option<Resumption>,
    pub(super) force_lock: bool,
    /// What to tell the engineer once the run is over, however it ended.
    pub(super) closing: Vec<Notice>,
}

/// Prepares a new run, rehearsal or rollback.
pub fn start(
    request: &StartRequest,
    state_dir: Option<&Path>,
    notices: &mut dyn FnMut(Notice),
) -> Result<Prepared> {
    rehearsal::check_skip_reason(request.skip_rehearsal.as_deref())?;
    let runbook = load_at_absolute_path(&request.runbook)?;
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
    )
    .map_err(|error| named_as_given(error, &request.runbook))?;
    if request.on_failure == Some(OnFailure::Rollback) && plan.rollback.is_none() {
        return Err(Error::usage(
            format!(
                "--on-failure rollback, but runbook `{}` has no [rollback] to run",
                runbook.name()
            ),
            "a [rollback] table in the runbook, or another --on-failure",
        ));
    }
    let state_dir = state::for_runbook(state_dir, &runbook.path);
    let uncommitted = preconditions::uncommitted(&plan.git, &state_dir, plan.notes_dir.as_deref());
    // A rollback is an emergency: it skips every check but validation and secrets.
    if request.mode != Mode::Rollback {
        preconditions::check_git(&runbook.git, &runbook.path, &uncommitted)?;
    }
    let mut store = open_store(&state_dir, request, notices).inspect_err(|_| {
        if request.mode == Mode::Rollback {
            rollback_by_hand(&plan, notices);
        }
    })?;
    let mut record = initial_record(&plan, &run_id, request);
    record.git_dirty = !uncommitted.is_empty();
    record.uncommitted = preconditions::listed(&uncommitted);
    if request.mode == Mode::Run {
        rehearsal::check(
            &plan,
            &mut *store,
            request.skip_rehearsal.as_deref(),
            &mut record,
            notices,
        )?;
    }
    let closing = if request.mode == Mode::Rehearsal {
        rehearsal::caveats(&runbook, &record)
    } else {
        Vec::new()
    };
    Ok(Prepared {
        on_failure: request.on_failure.unwrap_or(plan.on_failure),
        plan,
        record,
        store,
        state_dir,
        answers: request.answers.clone(),
        resumption: None,
        force_lock: request.force_lock,
        closing,
    })
}

/// Loads the runbook of a new run, at its absolute path: the path the record keeps, so that
/// `resume` finds the runbook from anywhere. A plan's paths follow the runbook's (a `config`
/// step's files, each step's directory), so a run planned from a relative path would read as
/// changed when `resume` plans it again from the absolute one, and only `--force` would get past
/// that, disabling the check that matters.
fn load_at_absolute_path(path: &Path) -> Result<Runbook> {
    let mut runbook = runbook::load(path)?;
    if let Ok(absolute) = std::path::absolute(path) {
        runbook.path = absolute;
    }
    Ok(runbook)
}

/// A runbook error found while planning names the file as the engineer gave it, as the errors
/// found while loading do.
fn named_as_given(error: Error, path: &Path) -> Error {
    match error {
        Error::Runbook {
            diagnostics, total, ..
        } => Error::Runbook {
            path: path.to_path_buf(),
            total,
            diagnostics: diagnostics
                .into_iter()
                .map(|diagnostic| Diagnostic {
                    path: path.to_path_buf(),
                    ..diagnostic
                })
                .collect(),
        },
        other => other,
    }
}

/// The record store of a new run. An emergency rollback is never blocked by a team store that
/// does not answer: it records into the local journal instead, after saying so (the rollback's
/// own confirmation, or `--yes`, then decides).
fn open_store(
    state_dir: &Path,
    request: &StartRequest,
    notices: &mut dyn FnMut(Notice),
) -> Result<Box<dyn Store>> {
    match crate::store::open(state_dir, &request.backend) {
        // Whatever keeps the team store from being used (it does not answer, its certificate is
        // not trusted, it refuses), the way back must not wait for it.
        Err(Error::TeamStore { store, message, .. }) if request.mode == Mode::Rollback => {
            notices(Notice::Warning(format!(
                "cannot use the team store {store} ({message}): the team lock cannot be checked, so another run of this runbook may be under way, and this rollback is recorded only here, in {}; `shipbook store sync` writes it into the team store once it answers",
                state_dir.join(crate::store::pending::PENDING_DIR).display()
            )));
            crate::store::open_journal(state_dir)
        }
        other => other,
    }
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
        on_failure: request.on_failure,
        jobs: request.selection.jobs,
    };
    record
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
        finish: impl FnMut(&RunRecord) -> Result<String>,
        notices: &mut dyn FnMut(Notice),
    ) -> Result<RunRecord> {
        let owner = Owner::this_process();
        let env = self.plan.env.clone().unwrap_or_default();
        let run_id = self.record.run_id.clone();
        lock::take(
            &mut *self.store,
            &lock::Claimant {
                runbook: &self.plan.runbook,
                env: &env,
                run_id: &run_id,
                operator: &self.record.operator,
                owner: &owner,
                runbook_path: &self.plan.runbook_path,
            },
            self.force_lock,
            notices,
        )?;
        let resumed = self.resumption.is_some();
        let result = match self.resumption.take() {
            Some(resumption) => {
                continuation::recheck(&mut *self.store, resumption, self.record, notices)
            }
            None => Ok(Some(self.record)),
        }
        .and_then(|record| match record {
            Some(record) => {
                let mut recorder = Recorder::new(
                    &mut *self.store,
                    owner,
                    run_id.clone(),
                    self.state_dir.clone(),
                );
                let options = Options {
                    yes: self.answers.yes,
                    approver: self.answers.approver.clone(),
                    logs_dir: state::logs_dir(&self.state_dir, &run_id),
                    operator: record.operator.clone(),
                    on_failure: self.on_failure,
                    resumed,
                };
                run(
                    &self.plan,
                    record,
                    &mut recorder,
                    observers,
                    effects,
                    options,
                    finish,
                )
            }
            // Another resume finished the run while this one waited for the lock.
            None => self.store.load_run(&run_id),
        });
        // The lock goes whatever happened; a failure to release it does not hide the run's own
        // result (a stale lock is taken over by the next run anyway, once this process is gone).
        if let Err(error) = self.store.release_lock(&self.plan.runbook, &env, &run_id) {
            notices(Notice::Warning(format!(
                "the lock of this runbook and environment could not be released ({error}); the next run takes it over, since this process will be gone"
            )));
        }
        for notice in self.closing {
            notices(notice);
        }
        result
    }
}

/// Executes the plan with the record store first among the observers.
fn run(
    plan: &Plan,
    record: RunRecord,
    recorder: &mut Recorder<'_>,
    observers: Vec<&mut dyn Observer>,
    effects: &mut dyn Effects,
    options: Options,
    finish: impl FnMut(&RunRecord) -> Result<String>,
) -> Result<RunRecord> {
    // The run's log directory is made by its first log (`sys::fs::open_private_append`).
    let mut all: Vec<&mut dyn Observer> = vec![recorder];
    all.extend(
        observers
            .into_iter()
            .map(|observer| observer as &mut dyn Observer),
    );
    Executor::new(plan, record, Observers::new(all), effects, options).execute(finish)
}
