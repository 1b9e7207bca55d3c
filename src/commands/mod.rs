//! One module per command of the command line; `dispatch` picks the one asked for.

mod check;
mod completions;
mod init;
mod plan;
mod records;
mod run;
mod schema;
mod store;

use std::path::PathBuf;

use crate::cli::{Arguments, Command, Selection};
use crate::error::Result;
use crate::output::reporter::Verbosity;
use crate::runbook::Mode;
use crate::runbook::OnFailure;
use crate::store::Backend;

/// What every command may need from the global flags.
pub struct Globals {
    pub state_dir: Option<PathBuf>,
    /// Where the records go: the state directory's database, or a team store.
    pub backend: Backend,
    pub verbosity: Verbosity,
}

pub fn dispatch(arguments: Arguments) -> Result<()> {
    if matches!(
        arguments.command,
        Command::History { .. }
            | Command::Show { .. }
            | Command::Note { .. }
            | Command::Plan { .. }
            | Command::Schema
            | Command::Completions { .. }
    ) {
        crate::sys::interrupt::quiet_on_closed_pipe();
    }
    let backend = match arguments.command {
        // These never touch the records, so a wrong --store does not stop them.
        Command::Check { .. }
        | Command::Plan { .. }
        | Command::Schema
        | Command::Completions { .. }
        | Command::Init { .. } => Backend::Local,
        _ => Backend::choose(arguments.store.as_deref(), &arguments.store_schema)?,
    };
    let globals = Globals {
        state_dir: arguments.state_dir,
        backend,
        verbosity: if arguments.quiet {
            Verbosity::Quiet
        } else if arguments.verbose {
            Verbosity::Verbose
        } else {
            Verbosity::Normal
        },
    };
    execute(arguments.command, &globals)
}

/// Runs one command.
fn execute(command: Command, globals: &Globals) -> Result<()> {
    match command {
        Command::Check { runbooks } => check::check(&runbooks, globals),
        Command::Plan {
            runbook,
            selection,
            json,
        } => plan::plan(&runbook, &selection, json),
        Command::Run {
            runbook,
            selection,
            execution,
            on_failure,
            skip_rehearsal,
        } => run::start(
            run::Request {
                on_failure: on_failure.map(Into::into),
                skip_rehearsal,
                ..run::Request::new(Mode::Run, runbook, selection, execution)
            },
            globals,
        ),
        Command::Rehearse {
            runbook,
            selection,
            execution,
            on_failure,
        } => run::start(
            run::Request {
                on_failure: on_failure.map(Into::into),
                ..run::Request::new(Mode::Rehearsal, runbook, selection, execution)
            },
            globals,
        ),
        Command::Rollback {
            runbook,
            env,
            vars,
            execution,
            force_lock,
        } => rollback(
            runbook,
            Selection {
                env,
                vars,
                ..Selection::default()
            },
            execution,
            force_lock,
            globals,
        ),
        Command::Resume {
            run_id,
            yes,
            approver,
            force,
            jobs,
            json,
            junit,
        } => run::resume(
            &run_id,
            run::Answers { yes, approver },
            force,
            jobs.map(usize::from),
            json,
            junit,
            globals,
        ),
        Command::History {
            runbook,
            limit,
            json,
        } => records::history(runbook.as_deref(), limit, json, globals),
        Command::Show { run_id, json } => records::show(&run_id, json, globals),
        Command::Note { run_id, format } => records::note(&run_id, format, globals),
        Command::Init { force } => init::init(force, globals),
        Command::Completions { shell } => completions::print(shell),
        Command::Schema => schema::print(),
        Command::Store(command) => store::execute(command, globals),
    }
}

/// `shipbook rollback`: the `[rollback]` procedure as a run of its own, stopping at a failure.
fn rollback(
    runbook: PathBuf,
    selection: Selection,
    execution: crate::cli::Execution,
    force_lock: bool,
    globals: &Globals,
) -> Result<()> {
    run::start(
        run::Request {
            on_failure: Some(OnFailure::Stop),
            force_lock,
            ..run::Request::new(Mode::Rollback, runbook, selection, execution)
        },
        globals,
    )
}
