//! Telling the team: the run's notifications, sent at the moments the runbook's `[[notify]]`
//! tables listen to.
//!
//! A notification goes through `Effects` like every effect of a run, with its own timeout; a
//! failure becomes one of the run's warnings (recorded, shown at the end, written in the note)
//! and never stops the run. What a notification carries is built from the run's record, whose
//! texts are already masked, and masked once more as a whole, so that a secret reaches no chat.

use serde_json::{Value, json};

use super::executor::Executor;
use crate::actions::notify::spec::{NotifyOn, NotifyTarget};
use crate::store::record::{RunStatus, StepStatus};

impl Executor<'_> {
    /// Sends the notifications that listen to `on`; `step` is the step it is about, if any.
    pub(super) fn notify(&mut self, on: NotifyOn, step: Option<usize>) {
        let plan = self.plan;
        if !plan.notify.iter().any(|n| n.planned.on.contains(&on)) {
            return;
        }
        let event = self.event_for(on, step);
        for notification in plan.notify.iter().filter(|n| n.planned.on.contains(&on)) {
            if let Err(why) = self.effects.notify(notification, &event) {
                let target = match &notification.planned.target {
                    NotifyTarget::Webhook { format, .. } => format!("{format} webhook"),
                    NotifyTarget::Run { .. } => "command".to_string(),
                };
                let warning = format!("the `{on}` notification ({target}) was not sent: {why}");
                self.run.warnings.push(self.masker.text(&warning));
            }
        }
    }

    /// What a notification says: the run, and the step it is about with its log's last lines.
    fn event_for(&self, on: NotifyOn, step: Option<usize>) -> Value {
        let run = &self.run;
        let step = step.map(|index| &run.steps[index]);
        let event = json!({
            "event": on.as_str(),
            "run_id": run.run_id,
            "runbook": run.runbook,
            "env": run.env,
            "mode": run.mode.as_str(),
            "operator": run.operator,
            "status": run.status.as_str(),
            "reason": run.status_reason,
            "step": step.map(|s| s.id.clone()),
            "step_detail": step.and_then(|s| s.detail.clone()),
            "log_tail": step.and_then(|s| s.log_tail.clone()),
            "rollback_command": run.rollback_command,
            "note": run.note,
        });
        // Every text of the record is masked already; each is masked again here, before any
        // encoding, as a secret may have reached a field some other way.
        self.masked(event)
    }

    /// `value` with each of its strings masked.
    fn masked(&self, value: Value) -> Value {
        match value {
            Value::String(text) => Value::String(self.masker.text(&text)),
            Value::Object(fields) => Value::Object(
                fields
                    .into_iter()
                    .map(|(key, value)| (key, self.masked(value)))
                    .collect(),
            ),
            other => other,
        }
    }

    /// The notification a finished run sends, by how it ended, and the step it is about.
    pub(super) fn final_notification(&self) -> (NotifyOn, Option<usize>) {
        let on = match self.run.status {
            RunStatus::Succeeded | RunStatus::Running => NotifyOn::Succeeded,
            RunStatus::Failed => NotifyOn::Failed,
            RunStatus::RolledBack => NotifyOn::RolledBack,
            RunStatus::Aborted => NotifyOn::Aborted,
            RunStatus::Interrupted => NotifyOn::Interrupted,
        };
        let failed = self.run.steps.iter().rposition(|s| {
            matches!(
                s.status,
                StepStatus::Failed | StepStatus::TimedOut | StepStatus::Interrupted
            )
        });
        (on, failed)
    }
}
