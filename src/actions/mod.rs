//! The built-in step kinds that are more than a command: `config`, `http` and `tag`.
//!
//! Each is a small module with one entry point that performs one attempt and reports a
//! `Verdict`. What an action finds out goes to the step's log, line by line, so that a passing
//! step shows what it proved and a failing one what it found. The executor applies retries,
//! records and reports them like any other step.

use std::path::Path;

pub mod config;
pub mod http;
pub mod notify;
pub mod tag;
pub mod watch;

/// The result of one attempt of an action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub passed: bool,
    /// One line saying what was found, for the terminal, the record and the note.
    pub summary: String,
}

impl Verdict {
    pub fn pass(summary: impl Into<String>) -> Verdict {
        Verdict {
            passed: true,
            summary: summary.into(),
        }
    }

    pub fn fail(summary: impl Into<String>) -> Verdict {
        Verdict {
            passed: false,
            summary: summary.into(),
        }
    }
}

/// Runs a program that an action needs, such as the `git push` of a tag, the way a step's own
/// command runs: in its own process group, with the step's timeout, its output masked into the
/// step's log, and Ctrl-C passed on. Returns why it failed, in one line, when it did.
pub trait Programs {
    fn run(&mut self, argv: &[&str], dir: &Path) -> Result<(), String>;
}
