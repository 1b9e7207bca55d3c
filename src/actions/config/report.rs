//! The running account of a config check: one log line per check, and the one-line summary.
//!
//! Every check is written to the step's log as it is made, so that a passing step shows what it
//! proved; failures are also kept in a short form, because the summary that ends up in the
//! terminal, the record and the change note must fit on one line.

use std::fmt;
use std::io::Write;

use crate::actions::Verdict;
use crate::text::words::plural;

/// How many failures the one-line summary names before saying "and N more".
const SUMMARY_ITEMS: usize = 3;

/// Counts the checks made, writes each to the log as it is made, and keeps a short form of each
/// failure for the summary.
pub(super) struct Report<'a> {
    log: &'a mut dyn Write,
    checks: usize,
    failures: Vec<String>,
}

impl<'a> Report<'a> {
    pub(super) fn new(log: &'a mut dyn Write) -> Report<'a> {
        Report {
            log,
            checks: 0,
            failures: Vec::new(),
        }
    }

    pub(super) fn pass(&mut self, what: impl fmt::Display) {
        self.checks += 1;
        self.line("✓", what);
    }

    pub(super) fn fail(&mut self, what: impl fmt::Display, short: String) {
        self.checks += 1;
        self.failures.push(short);
        self.line("✗", what);
    }

    /// A line that is not a check: context, or what was left out and why.
    pub(super) fn note(&mut self, what: impl fmt::Display) {
        self.line("·", what);
    }

    fn line(&mut self, mark: &str, what: impl fmt::Display) {
        // The log is a record of the checks, not one of them: a failed write must not change
        // the verdict.
        let _ = writeln!(self.log, "{mark} {what}");
    }

    /// The verdict of all the checks made, also written to the log as its last line.
    pub(super) fn verdict(mut self) -> Verdict {
        let checks = plural(self.checks, "check");
        let verdict = if self.failures.is_empty() {
            Verdict::pass(format!("{checks} passed"))
        } else {
            let mut listed: Vec<&str> = self
                .failures
                .iter()
                .take(SUMMARY_ITEMS)
                .map(String::as_str)
                .collect();
            let more = self.failures.len().saturating_sub(SUMMARY_ITEMS);
            let and_more = format!("and {more} more");
            if more > 0 {
                listed.push(&and_more);
            }
            Verdict::fail(format!(
                "{} of {checks} failed: {}",
                self.failures.len(),
                listed.join("; ")
            ))
        };
        self.note(&verdict.summary);
        verdict
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_has_a_line_per_check_and_ends_with_the_summary() {
        let mut log = Vec::new();
        let mut report = Report::new(&mut log);
        report.note("context");
        report.pass("one");
        report.fail("two is wrong", "two".into());
        let verdict = report.verdict();
        assert_eq!(verdict, Verdict::fail("1 of 2 checks failed: two"));
        assert_eq!(
            String::from_utf8(log).unwrap(),
            "· context\n✓ one\n✗ two is wrong\n· 1 of 2 checks failed: two\n"
        );
    }
}
