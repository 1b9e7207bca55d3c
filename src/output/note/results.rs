//! The second half of the note: what happened, and the way back.
//!
//! These sections come from the steps of the record: a table per phase, what was undone, the
//! tag, the metrics before and after, the last lines of every failed step's log (so that the
//! reader need not open it), and the rollback procedure, which is always last because it is
//! what a reader in trouble scrolls down for.

use std::fmt::Write as _;

use super::{cell, duration_or_dash};
use crate::plan::shell_quote;
use crate::runbook::{Mode, StepKind};
use crate::store::record::{MetricRecord, Phase, RunRecord, StepRecord, StepStatus, TagRecord};

// Writing into a String cannot fail, so the results of `writeln!` are ignored throughout.

/// The tables of steps: the main phase, the undo when there was one, and the rehearsed
/// rollback with how long it took beside the steps.
pub(super) fn step_tables(out: &mut String, run: &RunRecord, mode: Mode) {
    let main_phase = if mode == Mode::Rollback {
        Phase::Rollback
    } else {
        Phase::Steps
    };
    steps_table(out, run, main_phase, "Steps");
    if run.steps.iter().any(|s| s.phase == Phase::Undo) {
        steps_table(out, run, Phase::Undo, "Undo (newest first)");
    }
    if main_phase == Phase::Steps && run.steps.iter().any(|s| s.phase == Phase::Rollback) {
        steps_table(out, run, Phase::Rollback, "Rollback, rehearsed");
        let rollback = match run.phase_duration_ms(Phase::Rollback) {
            Some(ms) => format!("the rollback took {}", duration_or_dash(Some(ms))),
            None => "the rollback did not run".to_string(),
        };
        let _ = writeln!(
            out,
            "\nThe steps took {}; {rollback}.",
            duration_or_dash(run.phase_duration_ms(Phase::Steps)),
        );
    }
}

/// One table of the steps of a phase.
fn steps_table(out: &mut String, run: &RunRecord, phase: Phase, title: &str) {
    let _ = writeln!(out, "\n## {title}\n");
    let _ = writeln!(out, "| step | command | result | attempts | duration |");
    let _ = writeln!(out, "| --- | --- | --- | --- | --- |");
    for step in run.steps.iter().filter(|s| s.phase == phase) {
        let mut result = step.status.to_string();
        if let Some(detail) = &step.detail {
            let _ = write!(result, " ({detail})");
        } else if let Some(code) = step.exit_code
            && step.status != StepStatus::Succeeded
        {
            let _ = write!(result, " (exit {code})");
        }
        let _ = writeln!(
            out,
            "| {} | `{}` | {} | {} | {} |",
            cell(&step.id),
            cell(&step.command).replace('`', "'"),
            cell(&result),
            step.attempts,
            duration_or_dash(step.duration_ms),
        );
    }
}

/// The steps whose effect was undone after a failure.
pub(super) fn undone(out: &mut String, run: &RunRecord) {
    let undone: Vec<&str> = run
        .steps
        .iter()
        .filter(|s| s.status == StepStatus::Undone)
        .map(|s| s.id.as_str())
        .collect();
    if !undone.is_empty() {
        let _ = writeln!(out, "\n## Undone\n");
        for id in undone {
            let _ = writeln!(out, "- `{id}`");
        }
    }
}

/// The tags the run made or found, and what a rehearsal would have made.
pub(super) fn tags(out: &mut String, run: &RunRecord) {
    let tags: Vec<(&StepRecord, &TagRecord)> = run
        .steps
        .iter()
        .filter_map(|s| s.tag.as_ref().map(|t| (s, t)))
        .collect();
    let rehearsed_tags: Vec<&StepRecord> = run
        .steps
        .iter()
        .filter(|s| s.kind == StepKind::Tag && s.tag.is_none() && s.status == StepStatus::Succeeded)
        .collect();
    if tags.is_empty() && rehearsed_tags.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n## Tag\n");
    for (step, tag) in tags {
        let _ = writeln!(
            out,
            "- `{}` at `{}`: {}",
            tag.name,
            tag.commit,
            tag_facts(step, tag).join(", ")
        );
    }
    for step in rehearsed_tags {
        let _ = writeln!(
            out,
            "- {}",
            step.detail
                .as_deref()
                .unwrap_or("rehearsal: nothing created")
        );
    }
}

/// Who made a tag, where it was pushed, and whether the undo deleted it again.
fn tag_facts(step: &StepRecord, tag: &TagRecord) -> Vec<String> {
    let mut facts = vec![if tag.created {
        "created by this run".to_string()
    } else {
        "already there before this run".to_string()
    }];
    match &tag.pushed {
        Some(remote) => facts.push(format!("pushed to {remote}")),
        None => facts.push("not pushed".into()),
    }
    if step.status == StepStatus::Undone {
        facts.push("deleted again by the undo".into());
    }
    facts
}

/// The metrics before and after, with a warning for each that could not be sampled.
pub(super) fn metrics(out: &mut String, run: &RunRecord) {
    if run.metrics.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n## Metrics\n");
    let _ = writeln!(out, "| metric | before | after | change | result |");
    let _ = writeln!(out, "| --- | --- | --- | --- | --- |");
    for metric in &run.metrics {
        metric_row(out, metric);
    }
    for metric in run.metrics.iter().filter(|m| m.problem.is_some()) {
        let _ = writeln!(
            out,
            "\nWarning: `{}` could not be sampled ({}).",
            metric.name,
            metric.problem.as_deref().unwrap_or_default()
        );
    }
}

/// One metric's row: its values, the change in percent, and the verdict with its guard.
fn metric_row(out: &mut String, metric: &MetricRecord) {
    let value = |v: Option<f64>| v.map_or_else(|| "-".to_string(), crate::text::number::display);
    let change = metric
        .change_percent()
        .map_or_else(|| "-".to_string(), |c| format!("{c:+.1}%"));
    let mut result = metric.verdict().unwrap_or("not measured").to_string();
    if metric.guard_exceeded() {
        let _ = write!(
            result,
            ", beyond the {}% allowed",
            metric.max_regression.unwrap_or_default()
        );
    }
    let _ = writeln!(
        out,
        "| {} | {} | {} | {change} | {result} |",
        cell(&metric.name),
        value(metric.before),
        value(metric.after)
    );
}

/// The last lines of the log of every step that failed, timed out or was interrupted, with
/// the path of the whole log.
pub(super) fn log_tails(out: &mut String, run: &RunRecord) {
    let failed = run.steps.iter().filter(|s| {
        matches!(
            s.status,
            StepStatus::Failed | StepStatus::TimedOut | StepStatus::Interrupted
        )
    });
    for step in failed {
        if let Some(tail) = step.log_tail.as_deref().filter(|t| !t.is_empty()) {
            let _ = writeln!(out, "\n### Last lines of `{}`\n", step.id);
            let _ = writeln!(out, "```text\n{tail}\n```");
            if let Some(log) = &step.log {
                let _ = writeln!(out, "\nFull log: `{log}`");
            }
        }
    }
}

/// The way back: the runbook's rollback note and command, or the plain statement that there
/// is none.
pub(super) fn rollback(out: &mut String, run: &RunRecord) {
    let _ = writeln!(out, "\n## Rollback\n");
    match (&run.rollback_note, &run.rollback_command) {
        (None, None) => {
            let _ = writeln!(
                out,
                "This runbook has no `[rollback]` section: there is no prepared way back."
            );
        }
        (note, command) => {
            if let Some(note) = note {
                let _ = writeln!(out, "{note}\n");
            }
            if let Some(command) = command {
                let _ = writeln!(out, "```sh\n{command}\n```");
            }
            let _ = writeln!(
                out,
                "\nThe same with shipbook, recorded, after one confirmation:\n\n```sh\n{}\n```",
                shipbook_rollback(run)
            );
        }
    }
}

/// The `shipbook rollback` command that runs this rollback: the same runbook, environment and
/// `--var`s, so that it renders the commands above (`{{ git.previous_tag }}` included: after a
/// release, that is still the tag before it).
fn shipbook_rollback(run: &RunRecord) -> String {
    let mut words = vec![
        "shipbook rollback".to_string(),
        shell_quote(&run.runbook_path),
    ];
    if let Some(env) = &run.env {
        words.push(format!("--env {}", shell_quote(env)));
    }
    for var in &run.invocation.vars {
        words.push(format!("--var {}", quote_var(var)));
    }
    words.join(" ")
}

/// A recorded `--var` for a shell: a secret in it was recorded masked as `[masked:NAME]`, and is
/// given back as `"$NAME"`, from the environment variable it came from.
fn quote_var(var: &str) -> String {
    const MASK: &str = "[masked:";
    let mut quoted = String::new();
    let mut rest = var;
    while let Some(start) = rest.find(MASK) {
        let after = &rest[start + MASK.len()..];
        let Some(end) = after.find(']') else { break };
        let name = &after[..end];
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            break;
        }
        if start > 0 {
            quoted.push_str(&shell_quote(&rest[..start]));
        }
        quoted.push_str(&format!("\"${name}\""));
        rest = &after[end + 1..];
    }
    if !rest.is_empty() || quoted.is_empty() {
        quoted.push_str(&shell_quote(rest));
    }
    quoted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorded_vars_are_given_back_as_the_shell_reads_them() {
        assert_eq!(quote_var("version=1.2"), "version=1.2");
        assert_eq!(quote_var("message=a b"), "'message=a b'");
        assert_eq!(quote_var("token=[masked:TOKEN]"), "token=\"$TOKEN\"");
        assert_eq!(
            quote_var("pair=[masked:A] [masked:B_2]"),
            "pair=\"$A\"' '\"$B_2\""
        );
        assert_eq!(quote_var("odd=[masked:a b]"), "'odd=[masked:a b]'");
    }
}
