//! `shipbook run`, `rehearse`, `rollback` and `resume`: validate, plan, check what must hold
//! before any step, take the lock, execute, record, write the note.
//!
//! The four commands differ only in what they plan and what they check first; everything after
//! that (the lock, the observers, the executor, the note) is one path, so a rollback at 2 a.m.
//! is recorded and reported exactly like the release it undoes.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use console::style;

use super::Globals;
use super::plan::build;
use crate::cli::{Execution, Selection};
use crate::engine::effects::Effects;
use crate::engine::event::Observer;
use crate::engine::event::Observers;
use crate::engine::executor::{Executor, Options};
use crate::engine::recorder::Recorder;
use crate::engine::run_record::new_record;
use crate::engine::system::SystemEffects;
use crate::engine::{preconditions, run_id};
use crate::error::{Error, Lock, Result};
use crate::mask::Masker;
use crate::output::github::GithubActions;
use crate::output::json_events::JsonEvents;
use crate::output::junit::JunitReport;
use crate::output::note;
use crate::output::prompt::TerminalPrompter;
use crate::output::reporter::{Reporter, Verbosity};
use crate::plan::Plan;
use crate::runbook;
use crate::runbook::Mode;
use crate::runbook::{OnFailure, Runbook};
use crate::store::record::{
    Invocation, Phase, RehearsalCitation, RunRecord, RunStatus, StepStatus,
};
use crate::store::{Owner, Store};
use crate::sys::interrupt::Interrupt;
use crate::sys::process::Echo;
use crate::sys::{git, operator, state};
use crate::text::timestamp::Timestamp;

/// What the command line asked for.
pub struct Request {
    pub mode: Mode,
    pub runbook: PathBuf,
    pub selection: Selection,
    pub yes: bool,
    pub reason: Option<String>,
    pub json: bool,
    pub junit: Option<PathBuf>,
    pub on_failure: Option<OnFailure>,
    pub skip_rehearsal: Option<String>,
    pub force_lock: bool,
}

impl Request {
    /// What every mode takes from the command line; the caller adds what is particular to it.
    pub fn new(
        mode: Mode,
        runbook: PathBuf,
        selection: Selection,
        execution: Execution,
    ) -> Request {
        Request {
            mode,
            runbook,
            selection,
            yes: execution.yes,
            reason: execution.reason,
            json: execution.json,
            junit: execution.junit,
            on_failure: None,
            skip_rehearsal: None,
            force_lock: false,
        }
    }
}

/// Starts a new run, rehearsal or rollback.
pub fn start(request: &Request, globals: &Globals) -> Result<()> {
    let runbook = runbook::load(&request.runbook)?;
    let junit = request.junit.as_deref().map(JunitReport::new).transpose()?;
    if request.mode == Mode::Rollback && runbook.rollback.is_none() {
        return Err(Error::usage(
            format!(
                "runbook `{}` has no [rollback] section, so there is no prepared way back",
                runbook.name()
            ),
            "a [rollback] table in the runbook, such as:\n\n    [rollback]\n    note = \"Redeploy the previous tag\"\n    run = \"./deploy.sh {{ env }} {{ git.previous_tag }}\"\n",
        ));
    }
    let started = chrono::Utc::now();
    let run_id = run_id::new(runbook.name(), started);
    let plan = build(
        &runbook,
        &request.selection,
        request.mode,
        request.reason.clone(),
        run_id.clone(),
        true,
    )?;
    let state_dir = state::for_runbook(globals.state_dir.as_deref(), &runbook.path);
    // A rollback is an emergency: it skips every check but validation and secrets.
    if request.mode != Mode::Rollback {
        preconditions::check_git(&runbook.git, &runbook.path, &state_dir)?;
    }
    let mut store = crate::store::open(&state_dir).inspect_err(|_| {
        // A rollback that cannot be recorded is not run; the engineer still needs the way back.
        if let Some(rollback) = plan.rollback.as_ref().filter(|_| request.mode == Mode::Rollback) {
            let masker = Masker::new(&plan.secrets);
            eprintln!(
                "{} the rollback was not run, because it could not be recorded. To run it by hand, from {}:\n\n{}\n",
                style("note:").yellow().bold(),
                rollback.steps.first().map_or_else(|| ".".into(), |s| s.dir.display().to_string()),
                masker.text(&rollback.commands())
            );
        }
    })?;
    let operator = operator::operator();
    // The files a change touched belong in a release's note; a rollback skips the tree diff.
    let files_touched = if request.mode == Mode::Rollback {
        Vec::new()
    } else {
        git::files_touched(&plan.runbook_path, &plan.git.previous_tag)
    };
    let mut record = new_record(&plan, &run_id, &operator, files_touched);
    // A secret given through --var is kept masked; `resume` puts it back from the environment.
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
    if request.mode == Mode::Run {
        check_rehearsal(&plan, &*store, &runbook, request, &mut record)?;
    }
    let on_failure = request.on_failure.unwrap_or(plan.on_failure);
    execute_locked(
        &plan,
        record,
        &mut *store,
        &state_dir,
        Settings {
            yes: request.yes,
            json: request.json,
            junit,
            on_failure,
            resumed: false,
            force_lock: request.force_lock,
        },
        globals,
    )
}

/// `requires_rehearsal`: a run in such an environment needs a succeeded rehearsal (its rollback
/// included) of the same commit and runbook content, or `--skip-rehearsal "REASON"`.
fn check_rehearsal(
    plan: &Plan,
    store: &dyn Store,
    runbook: &Runbook,
    request: &Request,
    record: &mut RunRecord,
) -> Result<()> {
    let Some(required) = &plan.requires_rehearsal else {
        return Ok(());
    };
    if let Some(reason) = &request.skip_rehearsal {
        record.skip_rehearsal = Some(reason.clone());
        eprintln!(
            "{} the rehearsal in `{required}` is skipped: {reason}",
            style("warning:").yellow().bold()
        );
        return Ok(());
    }
    match store.find_rehearsal(&plan.runbook, required, &plan.content_hash, &plan.git.sha)? {
        Some(rehearsal) => {
            record.rehearsal = Some(RehearsalCitation {
                run_id: rehearsal.run_id.clone(),
                env: required.clone(),
                finished_at: rehearsal.finished_at.unwrap_or(rehearsal.started_at),
                duration_ms: rehearsal.phase_duration_ms(Phase::Steps),
                rollback_duration_ms: rehearsal.phase_duration_ms(Phase::Rollback),
            });
            Ok(())
        }
        None => Err(Error::Precondition {
            message: format!(
                "environment `{}` requires a succeeded rehearsal in `{required}` of this commit ({}) and this runbook, and none is on record",
                plan.env.as_deref().unwrap_or_default(),
                plan.git.short_sha
            ),
            expected: format!(
                "`shipbook rehearse {} --env {required}` first (its rollback must succeed too), or --skip-rehearsal \"REASON\"",
                runbook.path.display()
            ),
        }),
    }
}

/// Continues a failed or interrupted run.
pub fn resume(
    query: &str,
    yes: bool,
    force: bool,
    json: bool,
    junit: Option<&Path>,
    globals: &Globals,
) -> Result<()> {
    let junit = junit.map(JunitReport::new).transpose()?;
    let state_dir = state::for_current_dir(globals.state_dir.as_deref());
    let Some(mut store) = crate::store::open_existing(&state_dir)? else {
        return Err(Error::UnknownRun {
            query: query.to_string(),
        });
    };
    let run_id = store.resolve_run_id(query)?;
    let previous = store.load_run(&run_id)?;
    match previous.status {
        RunStatus::Succeeded => {
            eprintln!("run {run_id} succeeded; there is nothing to resume");
            return Ok(());
        }
        RunStatus::Running => {
            return Err(Error::Locked(Box::new(Lock {
                runbook: previous.runbook.clone(),
                env: previous.env.clone().unwrap_or_default(),
                holder_run: run_id,
                holder_operator: previous.operator.clone(),
                holder_pid: previous.pid,
                holder_since: previous.started_at,
                holder_host: previous.host.clone(),
            })));
        }
        _ => {}
    }
    // A step of a run whose shipbook was killed may still be running in its own process group;
    // running it again beside itself would be worse than waiting.
    let leftovers = processes_of_run(&run_id);
    if !leftovers.is_empty() {
        let pids: Vec<String> = leftovers.iter().map(u32::to_string).collect();
        return Err(Error::Precondition {
            message: format!(
                "processes started by run {run_id} are still running (pid {}): a step of the interrupted run has not ended",
                pids.join(", ")
            ),
            expected: format!(
                "no process of the run left: wait for them, or stop them (`kill {}`), then resume",
                pids.join(" ")
            ),
        });
    }
    let mode = match previous.mode.as_str() {
        "rehearsal" => Mode::Rehearsal,
        "rollback" => Mode::Rollback,
        _ => Mode::Run,
    };
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
            .map(|var| unmask(var, &runbook))
            .collect(),
        only: previous.invocation.only.clone(),
        from: previous.invocation.from.clone(),
    };
    let plan = build(
        &runbook,
        &selection,
        mode,
        previous.reason.clone(),
        run_id.clone(),
        true,
    )?;
    let fresh = new_record(&plan, &run_id, &previous.operator, Vec::new());
    let differences = differences(&previous, &fresh);
    if previous.content_hash != runbook.content_hash || !differences.is_empty() {
        if !force {
            let detail = if differences.is_empty() {
                "its steps plan the same, but the file's content changed".to_string()
            } else {
                format!("steps that differ: {}", differences.join("; "))
            };
            return Err(Error::Precondition {
                message: format!(
                    "runbook {} changed since run {run_id} started; {detail}",
                    previous.runbook_path
                ),
                expected: "the runbook as it was; or --force to resume with the runbook as it is now (steps that succeeded are still not run again)".into(),
            });
        }
        eprintln!(
            "{} resuming with the changed runbook (--force)",
            style("warning:").yellow().bold()
        );
    }

    // The steps as planned now, carrying over what the earlier attempt finished.
    let mut record = RunRecord {
        status: RunStatus::Running,
        status_reason: None,
        finished_at: None,
        note: None,
        content_hash: runbook.content_hash.clone(),
        steps: fresh.steps,
        ..previous.clone()
    };
    for step in &mut record.steps {
        if let Some(old) = previous
            .steps
            .iter()
            .find(|old| old.id == step.id && old.phase == step.phase)
        {
            step.attempts = old.attempts;
            if matches!(old.status, StepStatus::Succeeded | StepStatus::Skipped) {
                *step = crate::store::record::StepRecord {
                    position: step.position,
                    ..old.clone()
                };
            }
        }
    }
    for old in previous.steps.iter().filter(|s| s.phase == Phase::Undo) {
        record.steps.push(crate::store::record::StepRecord {
            position: record.steps.len() as u32,
            ..old.clone()
        });
    }
    record
        .resumed
        .push(format!("{} by {}", Timestamp::now(), operator::operator()));
    let on_failure = previous
        .invocation
        .on_failure
        .as_deref()
        .and_then(OnFailure::parse)
        .unwrap_or(plan.on_failure);
    execute_locked(
        &plan,
        record,
        &mut *store,
        &state_dir,
        Settings {
            yes,
            json,
            junit,
            on_failure,
            resumed: true,
            force_lock: false,
        },
        globals,
    )
}

/// The processes that carry `SHIPBOOK_RUN_ID=<run_id>` in their environment: what is left of a
/// run's steps. Every step's process gets that variable, and its children inherit it.
fn processes_of_run(run_id: &str) -> Vec<u32> {
    let needle = format!("SHIPBOOK_RUN_ID={run_id}");
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut pids: Vec<u32> = entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| *pid != std::process::id())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/environ")).is_ok_and(|environ| {
                environ
                    .split(|&b| b == 0)
                    .any(|entry| entry == needle.as_bytes())
            })
        })
        .collect();
    pids.sort_unstable();
    pids
}

/// Puts the values of the runbook's secrets back into a `--var` that was recorded masked.
fn unmask(var: &str, runbook: &Runbook) -> String {
    runbook
        .secrets
        .env
        .iter()
        .fold(var.to_string(), |var, name| {
            let name = name.get_ref();
            match std::env::var(name) {
                Ok(value) => var.replace(&format!("[masked:{name}]"), &value),
                Err(_) => var,
            }
        })
}

/// Steps whose id or command differ between the recorded run and the runbook as planned now.
fn differences(previous: &RunRecord, fresh: &RunRecord) -> Vec<String> {
    let old: Vec<_> = previous
        .steps
        .iter()
        .filter(|s| s.phase != Phase::Undo)
        .collect();
    let mut found = Vec::new();
    for step in &fresh.steps {
        match old
            .iter()
            .find(|o| o.id == step.id && o.phase == step.phase)
        {
            None => found.push(format!("`{}` is new", step.id)),
            Some(o) if o.command != step.command => found.push(format!(
                "`{}` was `{}`, is now `{}`",
                step.id, o.command, step.command
            )),
            Some(_) => {}
        }
    }
    for step in &old {
        if !fresh
            .steps
            .iter()
            .any(|s| s.id == step.id && s.phase == step.phase)
        {
            found.push(format!("`{}` was removed", step.id));
        }
    }
    found
}

/// `--force-lock`: a rollback must not race the release it undoes, so the run holding the lock is
/// asked to stop (SIGTERM: it stops its step and records itself interrupted), and given the grace
/// period to do so. A holder on another host cannot be signalled; the lock is taken anyway.
fn stop_holder(run_id: &str, operator: &str, pid: u32, host: &str) {
    let warning = style("warning:").yellow().bold();
    if host != operator::hostname() || pid == 0 {
        eprintln!(
            "{warning} --force-lock: took the lock from run {run_id} (operator {operator}, pid {pid} on {host}), which may still be running"
        );
        return;
    }
    eprintln!(
        "{warning} --force-lock: stopping run {run_id} (operator {operator}, pid {pid}) and taking its lock"
    );
    // SAFETY: kill has no memory-safety preconditions; a process that is gone is fine.
    unsafe {
        libc::kill(pid as i32, libc::SIGTERM);
    }
    let deadline = std::time::Instant::now() + crate::sys::interrupt::GRACE_PERIOD * 2;
    // SAFETY: as above; signal 0 only checks that the process exists.
    while unsafe { libc::kill(pid as i32, 0) } == 0 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

struct Settings {
    yes: bool,
    json: bool,
    junit: Option<JunitReport>,
    on_failure: OnFailure,
    resumed: bool,
    force_lock: bool,
}

/// Takes the lock, executes, and releases the lock whatever happened.
fn execute_locked(
    plan: &Plan,
    record: RunRecord,
    store: &mut dyn Store,
    state_dir: &Path,
    mut settings: Settings,
    globals: &Globals,
) -> Result<()> {
    let owner = Owner::this_process();
    let env = plan.env.clone().unwrap_or_default();
    let run_id = record.run_id.clone();
    let since = Timestamp::now();
    let acquired = store.acquire_lock(
        &plan.runbook,
        &env,
        &run_id,
        &record.operator,
        &owner,
        since,
    );
    let taken_over = match acquired {
        Err(Error::Locked(lock)) if settings.force_lock => {
            stop_holder(
                &lock.holder_run,
                &lock.holder_operator,
                lock.holder_pid,
                &lock.holder_host,
            );
            store.release_lock(&plan.runbook, &env, &lock.holder_run)?;
            store.acquire_lock(
                &plan.runbook,
                &env,
                &run_id,
                &record.operator,
                &owner,
                since,
            )?
        }
        other => other?,
    };
    if let Some(previous) = taken_over {
        eprintln!(
            "{} took over the lock of run {} (operator {}, pid {}): its process no longer exists",
            style("warning:").yellow().bold(),
            previous.run_id,
            previous.operator,
            previous.pid
        );
    }
    let result = execute(
        plan,
        record,
        owner,
        store,
        state_dir,
        &mut settings,
        globals,
    );
    // The lock goes whatever happened; a failure to release it is reported but does not hide the
    // run's own result (a stale lock is taken over by the next run anyway).
    if let Err(error) = store.release_lock(&plan.runbook, &env, &run_id) {
        crate::output::report::error(&error);
    }
    result
}

fn execute(
    plan: &Plan,
    record: RunRecord,
    owner: Owner,
    store: &mut dyn Store,
    state_dir: &Path,
    settings: &mut Settings,
    globals: &Globals,
) -> Result<()> {
    let interrupt = Interrupt::install()
        .map_err(|source| Error::io("cannot install the signal handler", source))?;
    let run_id = record.run_id.clone();
    let operator = record.operator.clone();

    let stderr_is_terminal = std::io::stderr().is_terminal();
    let interactive = stderr_is_terminal && std::io::stdin().is_terminal();
    let mut recorder = Recorder {
        store,
        owner,
        run_id: run_id.clone(),
    };
    let mut reporter = Reporter::new(globals.verbosity, stderr_is_terminal);
    let mut json = JsonEvents;
    let mut github = GithubActions::detect(settings.json);
    let mut observers: Vec<&mut dyn Observer> = vec![&mut recorder, &mut reporter];
    if settings.json {
        observers.push(&mut json);
    }
    if let Some(junit) = settings.junit.as_mut() {
        observers.push(junit);
    }
    if let Some(github) = github.as_mut() {
        observers.push(github);
    }
    let mut effects = SystemEffects {
        masker: Masker::new(&plan.secrets),
        echo: if globals.verbosity == Verbosity::Verbose {
            Echo::Stderr
        } else {
            Echo::None
        },
        interrupt,
        prompter: Box::new(TerminalPrompter { interactive }),
        started: std::time::Instant::now(),
    };
    let logs_dir = state::logs_dir(state_dir, &run_id);
    std::fs::create_dir_all(&logs_dir).map_err(|source| {
        Error::io(
            format!("cannot create the log directory {}", logs_dir.display()),
            source,
        )
    })?;
    let executor = Executor::new(
        plan,
        record,
        Observers::new(observers),
        &mut effects as &mut dyn Effects,
        Options {
            yes: settings.yes,
            logs_dir,
            operator,
            on_failure: settings.on_failure,
            resumed: settings.resumed,
        },
    );
    let notes_dir = plan.notes_dir.clone();
    executor
        .execute(|run| note::write(run, state_dir, notes_dir.as_deref()))
        .map(drop)
}
