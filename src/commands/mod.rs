//! One module per command of the command line; `dispatch` picks the one asked for.

mod check;
mod plan;
mod records;
mod run;

use std::path::PathBuf;

use crate::cli::{Arguments, Command};
use crate::error::Result;
use crate::reporter::Verbosity;

/// What every command may need from the global flags.
pub struct Globals {
    pub state_dir: Option<PathBuf>,
    pub verbosity: Verbosity,
}

pub fn dispatch(arguments: Arguments) -> Result<()> {
    let globals = Globals {
        state_dir: arguments.state_dir,
        verbosity: if arguments.quiet {
            Verbosity::Quiet
        } else if arguments.verbose {
            Verbosity::Verbose
        } else {
            Verbosity::Normal
        },
    };
    match arguments.command {
        Command::Check { runbooks } => check::check(&runbooks, &globals),
        Command::Plan {
            runbook,
            selection,
            json,
        } => plan::plan(&runbook, &selection, json),
        Command::Run {
            runbook,
            selection,
            execution,
        } => run::run(&runbook, &selection, &execution, &globals),
        Command::History {
            runbook,
            limit,
            json,
        } => records::history(runbook.as_deref(), limit, json, &globals),
        Command::Show { run_id, json } => records::show(&run_id, json, &globals),
        Command::Note { run_id, format } => records::note(&run_id, format, &globals),
    }
}
