//! The checks that compare the two files: every key in both, and `same` keys equal.
//!
//! Drift is a key that one environment has and the other lacks, or a value that differs where
//! the runbook says it must not. Every key of either file is checked exactly once, so that the
//! log reads as a complete inventory and the count of checks means something.

use std::collections::BTreeSet;

use super::flat::{Flat, Key, show_key};
use super::pattern::{Pattern, select};
use super::redact::show_value;
use super::report::Report;
use super::source::Source;

/// The two files, read, for the checks that compare them.
pub(super) struct Pair<'a> {
    pub(super) file: &'a Source<'a>,
    pub(super) file_keys: &'a Flat,
    pub(super) against: &'a Source<'a>,
    pub(super) against_keys: &'a Flat,
}

impl Pair<'_> {
    /// Checks every key of either file once: for equal values when `same` covers it, otherwise
    /// for being in both files, unless `ignore` covers it.
    pub(super) fn compare(&self, same: &[String], ignore: &[String], report: &mut Report<'_>) {
        let all: BTreeSet<&Key> = self
            .file_keys
            .keys()
            .chain(self.against_keys.keys())
            .collect();
        let all: Vec<&Key> = all.into_iter().collect();
        let same = Pattern::all(same);
        let ignore = Pattern::all(ignore);
        let (compared, unmatched) = select(&same, &all);
        for pattern in unmatched {
            report.fail(
                format_args!("same pattern {pattern} matches no key in either file"),
                format!("same {pattern} matches no key"),
            );
        }
        for key in all {
            if compared.contains(key) {
                self.check_same(key, report);
            } else if let Some(pattern) = ignore.iter().find(|pattern| pattern.covers(key)) {
                report.note(format_args!("{} ignored ({pattern})", show_key(key)));
            } else {
                self.check_in_both(key, report);
            }
        }
    }

    fn check_in_both(&self, key: &Key, report: &mut Report<'_>) {
        match self.lacking(key) {
            Some((lacks, has)) => report_missing(key, lacks, has, report),
            None => report.pass(format_args!("{} is in both files", show_key(key))),
        }
    }

    fn check_same(&self, key: &Key, report: &mut Report<'_>) {
        if let Some((lacks, has)) = self.lacking(key) {
            return report_missing(key, lacks, has, report);
        }
        let (Some(mine), Some(theirs)) = (self.file_keys.get(key), self.against_keys.get(key))
        else {
            return;
        };
        let name = show_key(key);
        if mine == theirs {
            report.pass(format_args!("{name} is the same in both files"));
        } else {
            report.fail(
                format_args!(
                    "{name} differs: {} in {}, {} in {}",
                    show_value(key, mine),
                    self.file,
                    show_value(key, theirs),
                    self.against
                ),
                format!("{name} differs"),
            );
        }
    }

    /// The file that lacks `key` and the one that has it, when only one has it.
    fn lacking(&self, key: &Key) -> Option<(&Source<'_>, &Source<'_>)> {
        match (
            self.file_keys.contains_key(key),
            self.against_keys.contains_key(key),
        ) {
            (true, false) => Some((self.against, self.file)),
            (false, true) => Some((self.file, self.against)),
            _ => None,
        }
    }
}

fn report_missing(key: &Key, lacks: &Source<'_>, has: &Source<'_>, report: &mut Report<'_>) {
    let name = show_key(key);
    report.fail(
        format_args!("{name} is missing from {lacks} (it is in {has})"),
        format!("{name} missing from {}", lacks.short),
    );
}
