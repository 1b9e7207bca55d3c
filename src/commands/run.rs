//! `shipbook run`, `rehearse`, `rollback` and `resume`: the command line mapped to a session of
//! the engine, and the observers that show it (terminal, JSON, JUnit, GitHub Actions) wired in.
//!
//! The four commands differ only in the session they prepare; everything after that (the lock,
//! the record, the executor, the note) is the engine's one path, so a rollback at 2 a.m. is
//! recorded and reported exactly like the release it undoes.

use std::io::IsTerminal;
use std::path::PathBuf;

use console::style;

use super::Globals;
use crate::cli::Execution;
use crate::engine::event::Observer;
pub use crate::engine::session::Answers;
use crate::engine::session::{self, Notice, Prepared, StartRequest};
use crate::engine::system::{Performer, SystemEffects};
use crate::error::{Error, Result};
use crate::mask::Masker;
use crate::output::github::GithubActions;
use crate::output::json_events::JsonEvents;
use crate::output::junit::JunitReport;
use crate::output::note;
use crate::output::prompt::TerminalPrompter;
use crate::output::report;
use crate::output::reporter::{Reporter, Verbosity};
use crate::plan::Selection;
use crate::runbook::{Mode, OnFailure};
use crate::sys::containment;
use crate::sys::interrupt::Interrupt;
use crate::sys::process::Echo;

/// What the command line asked for.
pub struct Request {
    pub mode: Mode,
    pub runbook: PathBuf,
    pub selection: Selection,
    pub answers: Answers,
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
        selection: crate::cli::Selection,
        execution: Execution,
    ) -> Request {
        Request {
            mode,
            runbook,
            selection: crate::plan::Selection {
                jobs: execution.jobs.map(usize::from),
                ..selection.into()
            },
            answers: Answers {
                yes: execution.yes,
                approver: execution.approver,
            },
            reason: execution.reason,
            json: execution.json,
            junit: execution.junit,
            on_failure: None,
            skip_rehearsal: None,
            force_lock: false,
        }
    }
}

/// How the run is shown.
struct Display {
    json: bool,
    junit: Option<JunitReport>,
}

/// Starts a new run, rehearsal or rollback.
pub fn start(request: Request, globals: &Globals) -> Result<()> {
    // A JUnit path that cannot be written is refused before anything runs.
    let junit = request.junit.as_deref().map(JunitReport::new).transpose()?;
    let prepared = session::start(
        &StartRequest {
            mode: request.mode,
            runbook: request.runbook,
            selection: request.selection,
            answers: request.answers,
            reason: request.reason,
            on_failure: request.on_failure,
            skip_rehearsal: request.skip_rehearsal,
            force_lock: request.force_lock,
            backend: globals.backend.clone(),
        },
        globals.state_dir.as_deref(),
        &mut show_notice,
    )?;
    let display = Display {
        json: request.json,
        junit,
    };
    execute(prepared, display, globals)
}

/// Continues a failed or interrupted run.
pub fn resume(
    query: &str,
    answers: Answers,
    force: bool,
    jobs: Option<usize>,
    json: bool,
    junit: Option<PathBuf>,
    globals: &Globals,
) -> Result<()> {
    let junit = junit.as_deref().map(JunitReport::new).transpose()?;
    let prepared = session::resume(
        query,
        answers,
        force,
        jobs,
        globals.state_dir.as_deref(),
        &globals.backend,
        &mut show_notice,
    )?;
    match prepared {
        Some(prepared) => execute(prepared, Display { json, junit }, globals),
        None => Ok(()),
    }
}

/// Shows what the engine wants the engineer to know, on stderr.
fn show_notice(notice: Notice) {
    match notice {
        Notice::Warning(text) => eprintln!("{} {text}", style("warning:").yellow().bold()),
        Notice::Note(text) => eprintln!("{} {text}", style("note:").yellow().bold()),
        Notice::Info(text) => eprintln!("{text}"),
        Notice::Failure(error) => report::error(&error),
    }
}

/// Wires the observers and the real effects, and executes the prepared session.
fn execute(prepared: Prepared, mut display: Display, globals: &Globals) -> Result<()> {
    let interrupt = Interrupt::install()
        .map_err(|source| Error::io("cannot install the signal handler", source))?;
    // Without it, a process that leaves its step's group escapes when the step ends; the group
    // itself is still ended.
    if let Err(error) = containment::adopt_orphans() {
        show_notice(Notice::Warning(format!(
            "cannot adopt what steps leave behind ({error}): a process a step starts in a group of its own may outlive the step"
        )));
    }
    let stderr_is_terminal = std::io::stderr().is_terminal();
    let interactive = stderr_is_terminal && std::io::stdin().is_terminal();
    let mut reporter = Reporter::new(globals.verbosity, stderr_is_terminal);
    let mut json = JsonEvents;
    let mut github = GithubActions::detect(display.json);
    let mut observers: Vec<&mut dyn Observer> = vec![&mut reporter];
    if display.json {
        observers.push(&mut json);
    }
    if let Some(junit) = display.junit.as_mut() {
        observers.push(junit);
    }
    if let Some(github) = github.as_mut() {
        observers.push(github);
    }
    let prompter = Box::new(TerminalPrompter {
        interactive,
        interrupt: interrupt.clone(),
    });
    let performer = Performer {
        masker: Masker::new(&prepared.plan.secrets),
        echo: if globals.verbosity == Verbosity::Verbose {
            Echo::Stderr
        } else {
            Echo::None
        },
        interrupt,
    };
    let mut effects = SystemEffects::new(performer, prompter);
    let state_dir = prepared.state_dir.clone();
    let notes_dir = prepared.plan.notes_dir.clone();
    prepared
        .execute(
            observers,
            &mut effects,
            |run| note::write(run, &state_dir, notes_dir.as_deref()),
            &mut show_notice,
        )
        .map(drop)
}
