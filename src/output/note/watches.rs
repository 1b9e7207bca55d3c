//! The samples of each `watch` step in the change note: a table of them (or, for a long watch,
//! a summary and the failed ones), and the verdict.

use std::fmt::Write as _;

use super::cell;
use crate::store::record::{RunRecord, StepRecord};
use crate::text::sparkline;

/// Up to this many samples, the note lists every one; beyond, only the failed ones.
const LISTED: usize = 20;

pub(super) fn watches(out: &mut String, run: &RunRecord) {
    for step in run.steps.iter().filter(|step| !step.samples.is_empty()) {
        watch(out, step);
    }
}

fn watch(out: &mut String, step: &StepRecord) {
    let _ = writeln!(out, "\n### Watch `{}`\n", step.id);
    if let Some(verdict) = &step.detail {
        let _ = writeln!(out, "**{}:** {}\n", step.status, cell(verdict));
    }
    let values: Vec<f64> = step.samples.iter().filter_map(|s| s.value).collect();
    if !values.is_empty() {
        let _ = writeln!(out, "Series: `{}`\n", sparkline::of(&values));
    }
    let failed = step.samples.iter().filter(|s| !s.passed).count();
    let listed: Vec<_> = if step.samples.len() <= LISTED {
        step.samples.iter().collect()
    } else {
        let _ = writeln!(
            out,
            "{} samples, {failed} failed; the failed ones:\n",
            step.samples.len()
        );
        step.samples.iter().filter(|s| !s.passed).collect()
    };
    if listed.is_empty() {
        return;
    }
    let _ = writeln!(out, "| time | value | result | detail |");
    let _ = writeln!(out, "| --- | --- | --- | --- |");
    for sample in listed {
        let value = sample.value.map_or_else(|| "-".into(), |v| v.to_string());
        let result = if sample.passed { "pass" } else { "FAIL" };
        let _ = writeln!(
            out,
            "| {} | {value} | {result} | {} |",
            sample.at,
            cell(&sample.detail)
        );
    }
}
