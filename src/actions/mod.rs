//! The built-in step kinds that are more than a command: `config`, `http` and `tag`.
//!
//! Each is a small module with one entry point that performs one attempt and reports a
//! `Verdict`. What an action finds out goes to the step's log, line by line, so that a passing
//! step shows what it proved and a failing one what it found. The executor applies retries,
//! records and reports them like any other step.

pub mod config;
pub mod http;
pub mod tag;

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
