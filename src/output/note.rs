//! The change note (DESIGN.md section 7): what the next engineer needs, in one Markdown file.
//!
//! The note is rendered from the run's record alone, so `shipbook note RUN_ID` reprints exactly
//! what was written at the end of the run, and a note exists for failed runs too. It is written
//! to a temporary file and renamed into place, so a reader never sees half a note.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::store::record::{Phase, RunRecord, StepRecord, StepStatus, TagRecord};
use crate::text::duration::human;

/// How many touched files the note lists before it summarises the rest.
const MAX_FILES: usize = 200;

pub fn render(run: &RunRecord) -> String {
    let mut out = String::new();
    let title_prefix = match run.mode.as_str() {
        "rehearsal" => "REHEARSAL: ",
        "rollback" => "ROLLBACK: ",
        _ => "",
    };
    let env = run
        .env
        .as_ref()
        .map(|e| format!(" to {e}"))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "# {title_prefix}{}{env}: {}\n",
        run.runbook, run.status
    );
    if let Some(description) = &run.description {
        let _ = writeln!(out, "{description}\n");
    }

    let _ = writeln!(out, "## Change\n");
    let _ = writeln!(
        out,
        "- **Reason:** {}",
        run.reason
            .as_deref()
            .unwrap_or("(none given; use --reason)")
    );
    let _ = writeln!(
        out,
        "- **Owner:** {}",
        run.owner.as_deref().unwrap_or("(not set in the runbook)")
    );
    let _ = writeln!(
        out,
        "- **Expected result:** {}",
        run.expected
            .as_deref()
            .unwrap_or("(not set in the runbook)")
    );

    let _ = writeln!(out, "\n## Run\n");
    let _ = writeln!(out, "- **Run:** `{}`", run.run_id);
    let status_reason = run
        .status_reason
        .as_ref()
        .map(|r| format!(" ({r})"))
        .unwrap_or_default();
    let _ = writeln!(out, "- **Status:** {}{status_reason}", run.status);
    let _ = writeln!(out, "- **Mode:** {}", run.mode);
    let _ = writeln!(
        out,
        "- **Environment:** {}",
        run.env.as_deref().unwrap_or("(none)")
    );
    let _ = writeln!(out, "- **Operator:** {}", run.operator);
    let _ = writeln!(out, "- **Runbook:** `{}`", run.runbook_path);
    if !run.git_sha.is_empty() {
        let branch = if run.git_branch.is_empty() {
            "detached HEAD".to_string()
        } else {
            format!("branch `{}`", run.git_branch)
        };
        let dirty = if run.git_dirty {
            ", with uncommitted changes"
        } else {
            ""
        };
        let _ = writeln!(out, "- **Commit:** `{}` on {branch}{dirty}", run.git_sha);
    }
    let _ = writeln!(out, "- **Started:** {}", run.started_at);
    for resumed in &run.resumed {
        let _ = writeln!(out, "- **Resumed:** {resumed}");
    }
    if let Some(finished) = &run.finished_at {
        let _ = writeln!(out, "- **Finished:** {finished}");
    }
    if let Some(ms) = run.duration_ms() {
        let _ = writeln!(out, "- **Duration:** {}", human(Duration::from_millis(ms)));
    }

    if run.mode != crate::runbook::Mode::Rollback {
        files_section(&mut out, run);
    }

    if let Some(rehearsal) = &run.rehearsal {
        let _ = writeln!(out, "\n## Rehearsal relied on\n");
        let _ = writeln!(
            out,
            "Rehearsal `{}` in {}, finished {}: steps took {}, the rollback took {}.",
            rehearsal.run_id,
            rehearsal.env,
            rehearsal.finished_at,
            duration_or_dash(rehearsal.duration_ms),
            duration_or_dash(rehearsal.rollback_duration_ms)
        );
    }
    if let Some(reason) = &run.skip_rehearsal {
        let _ = writeln!(out, "\n## Rehearsal skipped\n");
        let _ = writeln!(
            out,
            "The required rehearsal was skipped (--skip-rehearsal): {reason}"
        );
    }

    let main_phase = if run.mode == crate::runbook::Mode::Rollback {
        Phase::Rollback
    } else {
        Phase::Steps
    };
    steps_table(&mut out, run, main_phase, "Steps");
    if run.steps.iter().any(|s| s.phase == Phase::Undo) {
        steps_table(&mut out, run, Phase::Undo, "Undo (newest first)");
    }
    if main_phase == Phase::Steps && run.steps.iter().any(|s| s.phase == Phase::Rollback) {
        steps_table(&mut out, run, Phase::Rollback, "Rollback, rehearsed");
        let _ = writeln!(
            out,
            "\nThe steps took {}; the rollback took {}.",
            duration_or_dash(run.phase_duration_ms(Phase::Steps)),
            duration_or_dash(run.phase_duration_ms(Phase::Rollback))
        );
    }

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

    let tags: Vec<(&StepRecord, &TagRecord)> = run
        .steps
        .iter()
        .filter_map(|s| s.tag.as_ref().map(|t| (s, t)))
        .collect();
    let rehearsed_tags: Vec<&StepRecord> = run
        .steps
        .iter()
        .filter(|s| {
            s.kind == crate::runbook::StepKind::Tag
                && s.tag.is_none()
                && s.status == StepStatus::Succeeded
        })
        .collect();
    if !tags.is_empty() || !rehearsed_tags.is_empty() {
        let _ = writeln!(out, "\n## Tag\n");
        for (step, tag) in tags {
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
            let _ = writeln!(
                out,
                "- `{}` at `{}`: {}",
                tag.name,
                tag.commit,
                facts.join(", ")
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

    if !run.metrics.is_empty() {
        let _ = writeln!(out, "\n## Metrics\n");
        let _ = writeln!(out, "| metric | before | after | change | result |");
        let _ = writeln!(out, "| --- | --- | --- | --- | --- |");
        for metric in &run.metrics {
            let value = |v: Option<f64>| v.map_or_else(|| "-".to_string(), |v| v.to_string());
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
        for metric in run.metrics.iter().filter(|m| m.problem.is_some()) {
            let _ = writeln!(
                out,
                "\nWarning: `{}` could not be sampled ({}).",
                metric.name,
                metric.problem.as_deref().unwrap_or_default()
            );
        }
    }

    for step in run.steps.iter().filter(|s| {
        matches!(
            s.status,
            StepStatus::Failed | StepStatus::TimedOut | StepStatus::Interrupted
        )
    }) {
        if let Some(tail) = step.log_tail.as_deref().filter(|t| !t.is_empty()) {
            let _ = writeln!(out, "\n### Last lines of `{}`\n", step.id);
            let _ = writeln!(out, "```text\n{tail}\n```");
            if let Some(log) = &step.log {
                let _ = writeln!(out, "\nFull log: `{log}`");
            }
        }
    }

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
        }
    }
    out
}

/// The files changed since the previous tag: what the change touched.
fn files_section(out: &mut String, run: &RunRecord) {
    let since = if run.previous_tag.is_empty() {
        "since the first commit (no earlier tag)".to_string()
    } else {
        format!("since `{}`", run.previous_tag)
    };
    let _ = writeln!(out, "\n## Files touched {since}\n");
    if run.files_touched.is_empty() {
        let _ = writeln!(out, "(none)");
    } else {
        for file in run.files_touched.iter().take(MAX_FILES) {
            let _ = writeln!(out, "- `{file}`");
        }
        if run.files_touched.len() > MAX_FILES {
            let _ = writeln!(out, "- … and {} more", run.files_touched.len() - MAX_FILES);
        }
    }
}

fn duration_or_dash(ms: Option<u64>) -> String {
    ms.map_or_else(|| "-".into(), |ms| human(Duration::from_millis(ms)))
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

/// Escapes the characters that would break a Markdown table cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// Writes the note into `<state>/notes/<run-id>.md` (and `notes_dir` when the runbook sets one),
/// each atomically. Returns the path of the first.
pub fn write(run: &RunRecord, state_dir: &Path, notes_dir: Option<&Path>) -> Result<String> {
    let text = render(run);
    let name = format!("{}.md", run.run_id);
    let primary = crate::sys::state::notes_dir(state_dir).join(&name);
    write_atomically(&primary, &text)?;
    if let Some(dir) = notes_dir {
        write_atomically(&dir.join(&name), &text)?;
    }
    Ok(primary.display().to_string())
}

/// Writes a file through a temporary file and a rename, so no reader sees half of it.
pub fn write_atomically(path: &Path, text: &str) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let context = || format!("cannot write {}", path.display());
    std::fs::create_dir_all(dir).map_err(|source| Error::io(context(), source))?;
    let mut file =
        tempfile::NamedTempFile::new_in(dir).map_err(|source| Error::io(context(), source))?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.as_file().sync_all())
        .map_err(|source| Error::io(context(), source))?;
    file.persist(path)
        .map_err(|error| Error::io(context(), error.error))?;
    Ok(())
}
