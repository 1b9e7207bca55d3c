//! The end of a run whose record could not be written.
//!
//! The record is the one critical output: when the store refuses a write (a full disk, most
//! often), the run stops before the next thing happens. But the steps that ran did what they
//! did, and the engineer must not be told otherwise. This module turns what the executor still
//! holds into the message that ends such a run: why it stopped, what each step truly did, whether
//! the record store caught up in the end or where the record was kept instead, the change note,
//! and what is safe to do next.

use super::executor::Executor;
use crate::error::{Error, Result};
use crate::runbook::Mode;
use crate::store::record::StepStatus;

impl Executor<'_> {
    /// The error that ends a run whose record could not be written: `cause` is the write that
    /// failed while the steps ran (none when only the end of the run could not be recorded),
    /// `last_write` how the final write of the whole record went, and `note` the change note.
    pub(super) fn not_recorded(
        &self,
        cause: Option<&str>,
        last_write: Result<()>,
        note: Result<String>,
    ) -> Error {
        let run_id = &self.run.run_id;
        let reason = match cause {
            Some(cause) => format!(
                "its record could not be written ({cause}), so no step was started after that"
            ),
            None => "how it ended could not be recorded".to_string(),
        };
        let mut lines = self.what_each_step_did();
        let caught_up = last_write.is_ok();
        lines.push(match last_write {
            Ok(()) => format!(
                "the record store was written in the end: `shipbook show {run_id}` shows the run as it is"
            ),
            Err(error) => format!("the record store is behind what happened: {error}"),
        });
        lines.push(match note {
            Ok(path) => format!("change note: {path}"),
            Err(error) => format!(
                "the change note could not be written ({error}); `shipbook note {run_id}` prints it once the record is whole"
            ),
        });
        if self.plan.mode != Mode::Rollback {
            let when = if caught_up {
                "once there is space"
            } else {
                "once the record is whole"
            };
            lines.push(format!(
                "{when}, `shipbook resume {run_id}` carries on (steps that succeeded are not run again)"
            ));
        }
        lines.extend(
            self.way_back(false, false)
                .into_iter()
                .filter(|line| line.starts_with("to go back")),
        );
        Error::RunFailed {
            run_id: run_id.clone(),
            status: "stopped".into(),
            reason: self.masker.text(&reason),
            way_back: lines,
        }
    }

    /// One line per step that ran, with its result, then the steps that did not run.
    fn what_each_step_did(&self) -> Vec<String> {
        let mut lines = Vec::new();
        let mut not_run = Vec::new();
        for step in &self.run.steps {
            if step.status == StepStatus::Pending {
                not_run.push(format!("`{}`", step.id));
                continue;
            }
            let detail = step
                .detail
                .as_deref()
                .map(|detail| format!(": {detail}"))
                .unwrap_or_default();
            let exit = step
                .exit_code
                .map(|code| format!(", exit {code}"))
                .unwrap_or_default();
            lines.push(format!("step `{}` {}{exit}{detail}", step.id, step.status));
        }
        if !not_run.is_empty() {
            lines.push(format!("not run: {}", not_run.join(", ")));
        }
        lines
    }
}
