//! The first half of the note: what the change is, why, by whom, and what it relied on.
//!
//! These sections answer the questions asked before any step's result matters: the reason,
//! the owner and the expected result, the commit and the operator, the files the change
//! touched, and the rehearsal a production run was allowed to go ahead on.

use std::fmt::Write as _;
use std::time::Duration;

use super::duration_or_dash;
use crate::runbook::Mode;
use crate::store::record::RunRecord;
use crate::text::duration::human;

/// How many touched files the note lists before it summarises the rest.
const MAX_FILES: usize = 200;

// Writing into a String cannot fail, so the results of `writeln!` are ignored throughout.

/// The title, which says at once what kind of run this was and how it ended, and the
/// runbook's description under it.
pub(super) fn title(out: &mut String, run: &RunRecord, mode: Mode) {
    let title_prefix = match mode {
        Mode::Rehearsal => "REHEARSAL: ",
        Mode::Rollback => "ROLLBACK: ",
        Mode::Run => "",
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
}

/// Why the change was made, who owns it, and what it should achieve; a missing answer says
/// where it would have come from.
pub(super) fn change(out: &mut String, run: &RunRecord) {
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
}

/// The facts of the run itself: its id, status, mode, environment, operator, runbook, commit
/// and times.
pub(super) fn run_facts(out: &mut String, run: &RunRecord) {
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
    if let Some(commit) = commit(run) {
        let _ = writeln!(out, "- **Commit:** {commit}");
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
}

/// The commit the run was made from, with its branch and whether the tree was clean, when the
/// runbook is in a git repository.
fn commit(run: &RunRecord) -> Option<String> {
    if run.git_sha.is_empty() {
        return None;
    }
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
    Some(format!("`{}` on {branch}{dirty}", run.git_sha))
}

/// The files changed since the previous tag: what the change touched.
pub(super) fn files_touched(out: &mut String, run: &RunRecord) {
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

/// The rehearsal the run relied on, or why the required one was skipped.
pub(super) fn rehearsal(out: &mut String, run: &RunRecord) {
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
}
