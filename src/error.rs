//! The one error type of shipbook, and the exit code of each kind.
//!
//! Every failure a user can cause or meet ends here, so that all of them are reported the same
//! way: what failed, what was expected, and whether it is safe to try again. `code()` maps each
//! kind to the exit codes the README lists, which scripts and CI rely on.

use std::path::PathBuf;

use crate::text::diagnostic::Diagnostic;
use crate::text::timestamp::Timestamp;
use crate::text::words::grouped;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The runbook does not validate; each diagnostic points into the file. `diagnostics` are
    /// those shown, `total` counts every error found (see `text::diagnostic::shown`).
    #[error("{} in {}", errors_counted(*total), path.display())]
    Runbook {
        path: PathBuf,
        diagnostics: Vec<Diagnostic>,
        total: usize,
    },

    #[error("cannot read runbook {}: {source}", path.display())]
    ReadRunbook {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("no runbooks found: {pattern} matches no file")]
    NoRunbooks { pattern: String },

    /// Bad arguments or an unknown name given on the command line.
    #[error("{message}")]
    Usage { message: String, expected: String },

    #[error("secret{} not set: {}", if names.len() == 1 { "" } else { "s" }, names.join(", "))]
    MissingSecrets { names: Vec<String> },

    #[error("no run matches `{query}`")]
    UnknownRun { query: String },

    #[error(
        "`{query}` matches {} runs: {}",
        if matches.len() > 10 { "more than 10".to_string() } else { matches.len().to_string() },
        matches.iter().take(10).cloned().collect::<Vec<_>>().join(", ")
    )]
    AmbiguousRun { query: String, matches: Vec<String> },

    #[error("the state directory {} is not a directory", path.display())]
    StateDirNotADirectory { path: PathBuf },

    #[error("cannot use the state directory {}: {source}", path.display())]
    StateDir {
        path: PathBuf,
        source: std::io::Error,
    },

    /// The record store cannot be opened or written.
    #[error("record store {}: {message}", path.display())]
    Store { path: PathBuf, message: String },

    /// The team store (PostgreSQL) cannot be reached, or refused what was asked of it.
    #[error("team store {store}: {message}")]
    TeamStore {
        /// The store as people may see it: no password.
        store: String,
        message: String,
        /// Whether the server did not answer, would not be trusted, or refused.
        problem: TeamStoreProblem,
    },

    /// The record store's database was deleted or replaced while a run was recording into it.
    #[error(
        "record store {}: the database was deleted or replaced while run {run_id} was recording into it",
        path.display()
    )]
    RecordLost { path: PathBuf, run_id: String },

    /// The end of a run could not be written into the record store; the record was kept aside
    /// (`kept` says where, or that it could not be).
    #[error("{cause}; {kept}")]
    RecordKeptAside { cause: Box<Error>, kept: String },

    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },

    /// A check made before the first step failed; no step ran.
    #[error("{message}")]
    Precondition { message: String, expected: String },

    /// The run itself failed; the reporter has already shown which step and why.
    #[error("run {run_id} {status}: {reason}")]
    RunFailed {
        run_id: String,
        status: String,
        reason: String,
        /// What the engineer can do next (show, resume, roll back).
        way_back: Vec<String>,
    },

    #[error("step `{step}` was declined")]
    Declined { run_id: String, step: String },

    #[error("step `{step}` needs a confirmation, but there is no terminal to ask and no --yes")]
    NeedsConfirmation { run_id: String, step: String },

    #[error(
        "step `{step}` asks a person \"{question}\", but there is no terminal to ask on and no --yes; no step was run"
    )]
    Unanswerable { step: String, question: String },

    #[error(
        "runbook `{}`{} is locked by run {} (operator {}, pid {}, since {})",
        .0.runbook,
        env_suffix(&.0.env),
        .0.holder_run,
        .0.holder_operator,
        .0.holder_pid,
        .0.holder_since
    )]
    Locked(Box<Lock>),

    #[error("run {run_id} was interrupted: {reason}")]
    Interrupted {
        run_id: String,
        reason: String,
        way_back: Vec<String>,
    },
}

/// Who holds the lock a run could not take (boxed in `Error`, which stays small).
#[derive(Debug)]
pub struct Lock {
    pub runbook: String,
    pub env: String,
    pub holder_run: String,
    pub holder_operator: String,
    pub holder_pid: u32,
    pub holder_since: Timestamp,
    /// The host of the holder: only a holder on this host can be stopped by `--force-lock`.
    pub holder_host: String,
    /// The `shipbook rollback … --force-lock` command for this runbook and environment, ready
    /// to run as printed.
    pub force_lock_command: String,
}

/// What went wrong with a team store, for what to advise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TeamStoreProblem {
    /// It did not answer (or stopped answering).
    Unreachable,
    /// It answered, but TLS could not be set up or its certificate was not trusted.
    Untrusted,
    /// It answered and refused (permissions, a newer schema, a record it cannot take).
    Refused,
}

/// What to do about a team store that did not answer, was not trusted, or refused.
fn team_store_advice(problem: TeamStoreProblem) -> Vec<String> {
    let (expected, retry) = match problem {
        TeamStoreProblem::Unreachable => (
            "a PostgreSQL server that answers at that address (--store or SHIPBOOK_STORE names it; PGHOST, PGUSER, PGPASSWORD and the other PG* variables fill what the URL leaves out)",
            "safe to retry once it answers; `shipbook rollback` runs without it in an emergency",
        ),
        TeamStoreProblem::Untrusted => (
            "a server certificate signed by the roots given (sslrootcert or PGSSLROOTCERT, ~/.postgresql/root.crt, or sslrootcert=system), for the host connected to when sslmode is verify-full",
            "nothing was sent to the server; safe to retry with the right sslrootcert or sslmode",
        ),
        TeamStoreProblem::Refused => (
            "a database where the role may create the schema on first use, then read and write its tables (the README's \"Team\" section lists the grants)",
            "the team store was left as it was; safe to retry once that is so",
        ),
    };
    vec![format!("expected: {expected}"), retry.to_string()]
}

/// "1 error", "4,260 errors".
pub fn errors_counted(count: usize) -> String {
    if count == 1 {
        "1 error".into()
    } else {
        format!("{} errors", grouped(count))
    }
}

fn env_suffix(env: &str) -> String {
    if env.is_empty() {
        String::new()
    } else {
        format!(" in environment `{env}`")
    }
}

impl Error {
    /// The process exit code for this error, as the README's "Exit codes" lists them.
    pub fn code(&self) -> i32 {
        match self {
            Error::Runbook { .. }
            | Error::ReadRunbook { .. }
            | Error::NoRunbooks { .. }
            | Error::Usage { .. }
            | Error::MissingSecrets { .. }
            | Error::UnknownRun { .. }
            | Error::AmbiguousRun { .. }
            | Error::StateDirNotADirectory { .. } => 2,
            Error::StateDir { .. }
            | Error::Store { .. }
            | Error::TeamStore { .. }
            | Error::RecordLost { .. }
            | Error::RecordKeptAside { .. }
            | Error::Io { .. }
            | Error::Precondition { .. }
            | Error::RunFailed { .. } => 1,
            Error::Declined { .. }
            | Error::NeedsConfirmation { .. }
            | Error::Unanswerable { .. } => 3,
            Error::Locked(_) => 4,
            Error::Interrupted { .. } => 130,
        }
    }

    /// The error of a runbook whose `source` has these problems: sorted, located, and limited
    /// to what a person can read (a few per line, a few dozen per file, the rest counted).
    pub fn runbook(path: &std::path::Path, source: &str, diagnostics: Vec<Diagnostic>) -> Self {
        let shown = crate::text::diagnostic::shown(source, diagnostics);
        Error::Runbook {
            path: path.to_path_buf(),
            diagnostics: shown.diagnostics,
            total: shown.total,
        }
    }

    pub fn usage(message: impl Into<String>, expected: impl Into<String>) -> Self {
        Error::Usage {
            message: message.into(),
            expected: expected.into(),
        }
    }

    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }

    /// The lines printed after the message: what was expected, and whether a retry is safe.
    pub fn advice(&self) -> Vec<String> {
        match self {
            Error::Runbook { .. } => vec![
                "nothing was run; fix the runbook and retry (`shipbook check` lists every error that does not depend on --env or --var)"
                    .into(),
            ],
            Error::ReadRunbook { .. } => vec![
                "expected: a readable TOML runbook file".into(),
                "nothing was run; safe to retry with the right path".into(),
            ],
            Error::NoRunbooks { .. } => vec![
                "expected: runbook paths as arguments, or TOML files in runbooks/".into(),
                "nothing was run; `shipbook init` writes a starter runbook".into(),
            ],
            Error::Usage { expected, .. } => vec![
                format!("expected: {expected}"),
                "nothing was run; safe to retry with corrected arguments".into(),
            ],
            Error::MissingSecrets { .. } => vec![
                "expected: every name in [secrets] env set in the environment of shipbook".into(),
                "nothing was run; safe to retry once they are set".into(),
            ],
            Error::UnknownRun { .. } | Error::AmbiguousRun { .. } => vec![
                "expected: a full run id, a unique prefix of one, or `last` (`shipbook history` lists them)".into(),
                "nothing was changed; safe to retry".into(),
            ],
            Error::StateDirNotADirectory { .. } => vec![
                "expected: a directory for shipbook's records, or a path where one can be made (--state-dir or SHIPBOOK_STATE_DIR chooses another)".into(),
                "nothing was run or changed; safe to retry with another state directory".into(),
            ],
            Error::StateDir { .. } => vec![
                "expected: a state directory shipbook can create and write (--state-dir or SHIPBOOK_STATE_DIR chooses another)".into(),
                "nothing was run; safe to retry once the directory is writable".into(),
            ],
            Error::Store { .. } => vec![
                "the record store was left as it was; nothing was run".into(),
                "safe to retry with another --state-dir, or once the database is repaired".into(),
            ],
            Error::TeamStore { problem, .. } => team_store_advice(*problem),
            Error::RecordLost { .. } => vec![
                "the run stopped there: the steps shown above ran (the last one to its end), and no later step was started".into(),
                "not safe to simply retry: check what those steps did first; a new run records into a new database".into(),
            ],
            Error::RecordKeptAside { cause, .. } => cause.advice(),
            Error::Io { .. } => vec!["check the path and permissions; the record of any run so far is kept".into()],
            Error::Precondition { expected, .. } => vec![
                format!("expected: {expected}"),
                "no step was run; safe to retry once that holds".into(),
            ],
            Error::RunFailed { way_back, .. } => way_back.clone(),
            Error::Declined { run_id, .. } => vec![
                format!("the steps before it ran and are recorded in `shipbook show {run_id}`"),
                "nothing after the confirmation was run".into(),
            ],
            Error::NeedsConfirmation { run_id, .. } => vec![
                "expected: an interactive terminal, or --yes to answer yes in advance".into(),
                format!("nothing after the confirmation was run (`shipbook show {run_id}`); safe to retry with --yes"),
            ],
            Error::Unanswerable { .. } => vec![
                "expected: an interactive terminal, or --yes to answer yes in advance".into(),
                "nothing was run and nothing recorded; safe to retry with --yes or from a terminal"
                    .into(),
            ],
            Error::Locked(lock) => vec![
                "expected: no other run of this runbook and environment in progress".into(),
                "nothing was run; safe to retry once that run has finished".into(),
                format!(
                    "in an emergency, `{}` stops that run and takes the lock",
                    lock.force_lock_command
                ),
            ],
            Error::Interrupted { way_back, .. } => {
                let mut lines = vec!["the interrupted step may have been half done".to_string()];
                lines.extend(way_back.iter().cloned());
                lines
            }
        }
    }
}
