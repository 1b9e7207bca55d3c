//! What is kept of a run: the record.
//!
//! These are the types the store writes and reads, `show --json` and `history --json` print, and
//! the change note is rendered from. Field names and the text of every value are part of the
//! JSON contract that scripts rely on: add freely, rename none. The fields are typed (a mode is a
//! `Mode`, a time a `Timestamp`), so that a value the program does not know cannot get in
//! unnoticed; each serializes to its plain text, such as `"rehearsal"` or
//! `"2024-05-01T09:30:00.123Z"`.

use serde::{Deserialize, Serialize};

use crate::runbook::{Better, Mode, OnFailure, StepKind};
use crate::text::names::named_enum;
use crate::text::timestamp::Timestamp;

/// Where a run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Running,
    Succeeded,
    Failed,
    Aborted,
    Interrupted,
    /// A step failed and the `[rollback]` procedure ran in the same run (`on_failure =
    /// "rollback"`), successfully.
    RolledBack,
}

/// Where a step stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    Pending,
    Running,
    Succeeded,
    Failed,
    Skipped,
    TimedOut,
    Interrupted,
    Undone,
}

named_enum!(RunStatus {
    Running => "running",
    Succeeded => "succeeded",
    Failed => "failed",
    Aborted => "aborted",
    Interrupted => "interrupted",
    RolledBack => "rolled_back",
});

named_enum!(StepStatus {
    Pending => "pending",
    Running => "running",
    Succeeded => "succeeded",
    Failed => "failed",
    Skipped => "skipped",
    TimedOut => "timed_out",
    Interrupted => "interrupted",
    Undone => "undone",
});

impl StepStatus {
    /// Whether the step is over and did what it should (or was not meant to run).
    pub fn is_success(self) -> bool {
        matches!(self, StepStatus::Succeeded | StepStatus::Skipped)
    }
}

/// One run, as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub run_id: String,
    pub runbook: String,
    pub runbook_path: String,
    pub content_hash: String,
    pub mode: Mode,
    pub env: Option<String>,
    pub operator: String,
    pub host: String,
    pub pid: u32,
    pub reason: Option<String>,
    pub owner: Option<String>,
    pub expected: Option<String>,
    pub description: Option<String>,
    pub git_sha: String,
    pub git_branch: String,
    pub git_dirty: bool,
    /// The uncommitted changes that made the tree dirty, at most 20 paths (then how many more),
    /// for the messages that say why a rehearsal from it does not count.
    #[serde(default)]
    pub uncommitted: Vec<String>,
    pub previous_tag: String,
    /// Files changed since the previous tag (or the first commit), for the note.
    pub files_touched: Vec<String>,
    pub rollback_note: Option<String>,
    pub rollback_command: Option<String>,
    pub started_at: Timestamp,
    pub finished_at: Option<Timestamp>,
    pub status: RunStatus,
    /// Why the run ended as it did, in one line ("step `deploy` exited with 1").
    pub status_reason: Option<String>,
    pub note: Option<String>,
    /// Metrics sampled before the first step and after the last.
    #[serde(default)]
    pub metrics: Vec<MetricRecord>,
    /// The rehearsal a run in an environment with `requires_rehearsal` relied on.
    #[serde(default)]
    pub rehearsal: Option<RehearsalCitation>,
    /// Why the required rehearsal was skipped (`--skip-rehearsal`).
    #[serde(default)]
    pub skip_rehearsal: Option<String>,
    /// When and by whom the run was resumed, oldest first.
    #[serde(default)]
    pub resumed: Vec<String>,
    /// What the command line chose, so that `resume` plans the run the same way again.
    #[serde(default)]
    pub invocation: Invocation,
    /// The `version` variable of the run, when the runbook has one, for the note's front matter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// What went wrong beside the steps without failing the run, such as a notification that
    /// could not be sent.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    pub steps: Vec<StepRecord>,
}

/// One step of a run, as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepRecord {
    pub position: u32,
    pub id: String,
    pub name: String,
    pub kind: StepKind,
    /// The resolved command or what the action does, secrets masked.
    pub command: String,
    pub status: StepStatus,
    pub attempts: u32,
    pub exit_code: Option<i32>,
    pub started_at: Option<Timestamp>,
    pub duration_ms: Option<u64>,
    pub log: Option<String>,
    pub log_tail: Option<String>,
    /// A short human sentence about the result ("answered yes by ann@host at …", "skipped: only
    /// in production").
    pub detail: Option<String>,
    /// Which part of the run the step belongs to: the steps themselves, an undo, or the rollback.
    pub phase: Phase,
    /// For a `tag` step: the tag it made or found.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub tag: Option<TagRecord>,
    /// For a `confirm` step with `approvers`: who approved, one of them.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub approved_by: Option<String>,
    /// For a `watch` step: every sample taken, oldest first.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub samples: Vec<WatchSample>,
}

impl StepRecord {
    /// When the step ended: its start and its duration, which the record keeps. Steps that run
    /// beside each other overlap in these; the undo goes newest-finished first by them.
    pub fn finished_at(&self) -> Option<Timestamp> {
        Some(self.started_at?.plus_millis(self.duration_ms?))
    }
}

/// One sample of a `watch` step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WatchSample {
    pub at: Timestamp,
    /// The metric's value, when the check is a metric and it could be read.
    pub value: Option<f64>,
    pub passed: bool,
    /// What was found, in a few words ("error_rate 3.1 against 1.0 before: …", "exited with 1").
    pub detail: String,
}

/// The parts of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// The runbook's `[[steps]]`.
    Steps,
    /// The undo of a step, after a failure with `on_failure = "undo"`.
    Undo,
    /// The `[rollback]` procedure (`shipbook rollback`, or the end of a rehearsal).
    Rollback,
}

named_enum!(Phase {
    Steps => "steps",
    Undo => "undo",
    Rollback => "rollback",
});

/// What a `tag` step did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagRecord {
    pub name: String,
    pub commit: String,
    /// Whether this run created the tag (false: it was already there, or a rehearsal).
    pub created: bool,
    /// The remote it was pushed to, if it was.
    pub pushed: Option<String>,
}

/// One metric, before and after.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricRecord {
    pub name: String,
    pub better: Better,
    pub before: Option<f64>,
    pub after: Option<f64>,
    /// Why a sample is missing, when one is.
    pub problem: Option<String>,
    pub max_regression: Option<f64>,
}

impl MetricRecord {
    /// The change from before to after, in percent of before.
    pub fn change_percent(&self) -> Option<f64> {
        let (before, after) = (self.before?, self.after?);
        if before == 0.0 {
            return (after == 0.0).then_some(0.0);
        }
        Some((after - before) / before.abs() * 100.0)
    }

    /// "improved", "regressed" or "unchanged", by `better`.
    pub fn verdict(&self) -> Option<&'static str> {
        let (before, after) = (self.before?, self.after?);
        let lower_is_better = self.better == Better::Lower;
        Some(if after == before {
            "unchanged"
        } else if (after < before) == lower_is_better {
            "improved"
        } else {
            "regressed"
        })
    }

    /// How far the metric regressed, in percent (0 when it did not).
    pub fn regression_percent(&self) -> Option<f64> {
        let change = self.change_percent()?;
        Some(if self.better == Better::Lower {
            change.max(0.0)
        } else {
            (-change).max(0.0)
        })
    }

    /// Whether the guard `max_regression` was exceeded.
    pub fn guard_exceeded(&self) -> bool {
        match (self.max_regression, self.regression_percent()) {
            (Some(limit), Some(regression)) => regression > limit,
            _ => false,
        }
    }
}

/// The command-line choices of a run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invocation {
    pub vars: Vec<String>,
    pub only: Vec<String>,
    pub from: Option<String>,
    pub on_failure: Option<OnFailure>,
    /// `--jobs N`, which a resume keeps unless it is given again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jobs: Option<usize>,
}

/// The rehearsal a production run relied on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RehearsalCitation {
    pub run_id: String,
    pub env: String,
    pub finished_at: Timestamp,
    pub duration_ms: Option<u64>,
    pub rollback_duration_ms: Option<u64>,
}

impl RunRecord {
    /// How long the steps of one phase took, in milliseconds: the time in which at least one
    /// of them ran (steps that ran beside each other count once, and the pause between an
    /// interrupted run and its resume not at all); `None` when no step of the phase ran (a
    /// rehearsal that failed before its rollback did not roll back in 0 ms).
    pub fn phase_duration_ms(&self, phase: Phase) -> Option<u64> {
        let steps: Vec<&StepRecord> = self
            .steps
            .iter()
            .filter(|s| s.phase == phase && s.duration_ms.is_some())
            .collect();
        if steps.is_empty() {
            return None;
        }
        let mut spans: Vec<(Timestamp, Timestamp)> = Vec::new();
        let mut untimed = 0;
        for step in steps {
            match (step.started_at, step.finished_at()) {
                (Some(start), Some(end)) => spans.push((start, end)),
                _ => untimed += step.duration_ms.unwrap_or(0),
            }
        }
        spans.sort();
        let mut total = untimed;
        let mut current: Option<(Timestamp, Timestamp)> = None;
        for (start, end) in spans {
            current = match current {
                Some((from, to)) if start <= to => Some((from, to.max(end))),
                Some((from, to)) => {
                    total += u64::try_from(to.millis_since(from)).unwrap_or(0);
                    Some((start, end))
                }
                None => Some((start, end)),
            };
        }
        if let Some((from, to)) = current {
            total += u64::try_from(to.millis_since(from)).unwrap_or(0);
        }
        Some(total)
    }

    /// From start to finish, in milliseconds: `None` for a run that has not finished.
    pub fn duration_ms(&self) -> Option<u64> {
        u64::try_from(self.finished_at?.millis_since(self.started_at)).ok()
    }
}

#[cfg(test)]
mod names_tests {
    use super::*;
    use crate::text::names::assert_serde_names;

    #[test]
    fn every_word_is_the_one_serde_writes() {
        assert_serde_names(RunStatus::ALL);
        assert_serde_names(StepStatus::ALL);
        assert_serde_names(Phase::ALL);
    }
}

#[cfg(test)]
mod duration_tests {
    use super::*;
    use crate::runbook::StepKind;
    use crate::store::Owner;
    use crate::store::fixtures::{at, sample_run, step};

    fn timed(position: u32, started: &str, ms: u64) -> StepRecord {
        let mut step = step(
            position,
            &format!("s{position}"),
            StepKind::Run,
            Phase::Steps,
        );
        step.started_at = Some(at(started));
        step.duration_ms = Some(ms);
        step
    }

    #[test]
    fn steps_beside_each_other_count_once_and_a_pause_not_at_all() {
        let owner = Owner::this_process();
        let mut run = sample_run("r", &owner);
        run.steps = vec![
            // Two beside each other from :00 to :02 (one second of overlap)...
            timed(0, "2026-01-01T00:00:00.000Z", 1500),
            timed(1, "2026-01-01T00:00:00.500Z", 1500),
            // ...then, after a day's pause (a resume), one of 300 ms.
            timed(2, "2026-01-02T00:00:00.000Z", 300),
        ];
        assert_eq!(run.phase_duration_ms(Phase::Steps), Some(2300));
        assert_eq!(run.phase_duration_ms(Phase::Rollback), None);
    }
}
