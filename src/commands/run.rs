//! `shipbook run`: validate, plan, take the lock, execute, record, write the note.

use std::io::IsTerminal;
use std::path::Path;

use console::style;

use super::Globals;
use super::plan::{build, check_supported};
use crate::cli::{Execution, Selection};
use crate::error::Result;
use crate::event::Observer;
use crate::executor::{self, Executor, Options, ProcessRunner};
use crate::interrupt::Interrupt;
use crate::json_events::JsonEvents;
use crate::mask::Masker;
use crate::plan::Mode;
use crate::process::Echo;
use crate::recorder::Recorder;
use crate::reporter::{Reporter, Verbosity};
use crate::store::{Owner, Store};
use crate::{git, note, operator, preconditions, run_id, runbook, state};

pub fn run(
    path: &Path,
    selection: &Selection,
    execution: &Execution,
    globals: &Globals,
) -> Result<()> {
    let runbook = runbook::load(path)?;
    let started = chrono::Utc::now();
    let run_id = run_id::new(runbook.name(), started);
    let plan = build(
        &runbook,
        selection,
        Mode::Run,
        execution.reason.clone(),
        run_id.clone(),
        true,
    )?;
    check_supported(&plan)?;

    let state_dir = state::for_runbook(globals.state_dir.as_deref(), &runbook.path);
    preconditions::check_git(&runbook.git, &runbook.path, &state_dir)?;
    let mut store = Store::open(&state_dir)?;
    let operator = operator::operator();
    let owner = Owner::this_process();
    let env = plan.env.clone().unwrap_or_default();
    let since = executor::now();
    if let Some(previous) =
        store.acquire_lock(&plan.runbook, &env, &run_id, &operator, &owner, &since)?
    {
        eprintln!(
            "{} took over the lock of run {} (operator {}, pid {}): its process no longer exists",
            style("warning:").yellow().bold(),
            previous.run_id,
            previous.operator,
            previous.pid
        );
    }
    let result = execute(
        &plan, &run_id, &operator, owner, &mut store, &state_dir, execution, globals,
    );
    // The lock goes whatever happened; a failure to release it is reported but does not hide the
    // run's own result (a stale lock is taken over by the next run anyway).
    if let Err(error) = store.release_lock(&plan.runbook, &env, &run_id) {
        crate::report::error(&error);
    }
    result
}

#[allow(clippy::too_many_arguments)]
fn execute(
    plan: &crate::plan::Plan,
    run_id: &str,
    operator: &str,
    owner: Owner,
    store: &mut Store,
    state_dir: &Path,
    execution: &Execution,
    globals: &Globals,
) -> Result<()> {
    let interrupt = Interrupt::install()
        .map_err(|source| crate::error::Error::io("cannot install the signal handler", source))?;
    let files = git::files_touched(&plan.runbook_path, &plan.git.previous_tag);
    let record = executor::new_record(plan, run_id, operator, files);

    let stderr_is_terminal = std::io::stderr().is_terminal();
    let interactive = stderr_is_terminal && std::io::stdin().is_terminal();
    let mut recorder = Recorder {
        store,
        owner,
        run_id: run_id.to_string(),
    };
    let mut reporter = Reporter::new(globals.verbosity, stderr_is_terminal);
    let mut json = JsonEvents;
    let mut observers: Vec<&mut dyn Observer> = vec![&mut recorder, &mut reporter];
    if execution.json {
        observers.push(&mut json);
    }
    let mut runner = ProcessRunner {
        masker: Masker::new(&plan.secrets),
        echo: if globals.verbosity == Verbosity::Verbose {
            Echo::Stderr
        } else {
            Echo::None
        },
        interrupt: interrupt.clone(),
        interactive,
    };
    let executor = Executor::new(
        plan,
        record,
        observers,
        &mut runner,
        Options {
            yes: execution.yes,
            logs_dir: state::logs_dir(state_dir, run_id),
            operator: operator.to_string(),
        },
        interrupt,
    );
    let notes_dir = plan.notes_dir.clone();
    executor
        .execute(|run| note::write(run, state_dir, notes_dir.as_deref()))
        .map(drop)
}
