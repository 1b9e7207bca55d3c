//! What is kept of a run: the record of DESIGN.md section 5.
//!
//! These are the types the store writes and reads, `show --json` and `history --json` print, and
//! the change note is rendered from. Field names are part of the JSON contract of section 6:
//! add freely, rename none.

use serde::{Deserialize, Serialize};

/// Where a run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Running,
    Succeeded,
    Failed,
    Aborted,
    Interrupted,
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

macro_rules! string_enum {
    ($type:ident { $($variant:ident => $text:literal),* $(,)? }) => {
        impl $type {
            pub fn as_str(self) -> &'static str {
                match self { $($type::$variant => $text),* }
            }

            pub fn parse(text: &str) -> Option<$type> {
                match text { $($text => Some($type::$variant),)* _ => None }
            }
        }

        impl std::fmt::Display for $type {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

string_enum!(RunStatus {
    Running => "running",
    Succeeded => "succeeded",
    Failed => "failed",
    Aborted => "aborted",
    Interrupted => "interrupted",
});

string_enum!(StepStatus {
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
    pub mode: String,
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
    pub previous_tag: String,
    /// Files changed since the previous tag (or the first commit), for the note.
    pub files_touched: Vec<String>,
    pub rollback_note: Option<String>,
    pub rollback_command: Option<String>,
    /// RFC 3339, UTC.
    pub started_at: String,
    pub finished_at: Option<String>,
    pub status: RunStatus,
    /// Why the run ended as it did, in one line ("step `deploy` exited with 1").
    pub status_reason: Option<String>,
    pub note: Option<String>,
    pub steps: Vec<StepRecord>,
}

/// One step of a run, as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepRecord {
    pub position: u32,
    pub id: String,
    pub name: String,
    pub kind: String,
    /// The resolved command or what the action does, secrets masked.
    pub command: String,
    pub status: StepStatus,
    pub attempts: u32,
    pub exit_code: Option<i32>,
    pub started_at: Option<String>,
    pub duration_ms: Option<u64>,
    pub log: Option<String>,
    pub log_tail: Option<String>,
    /// A short human sentence about the result ("answered yes by ann@host at …", "skipped: only
    /// in production").
    pub detail: Option<String>,
}

impl RunRecord {
    pub fn duration_ms(&self) -> Option<u64> {
        let started = chrono::DateTime::parse_from_rfc3339(&self.started_at).ok()?;
        let finished = chrono::DateTime::parse_from_rfc3339(self.finished_at.as_deref()?).ok()?;
        u64::try_from((finished - started).num_milliseconds()).ok()
    }
}
