//! The `--json` observer: one JSON object per line on stdout, and nothing else there
//! (DESIGN.md section 6). Each line is flushed as it is written, so a consumer sees a step's
//! end when it happens.

use std::io::Write;

use serde_json::json;

use crate::engine::event::{Event, Observer};
use crate::error::{Error, Result};

#[derive(Default)]
pub struct JsonEvents;

impl Observer for JsonEvents {
    fn name(&self) -> &'static str {
        "JSON events on stdout"
    }

    fn on_event(&mut self, event: &Event<'_>) -> Result<()> {
        let value = match event {
            Event::RunStarted { run, resumed } => json!({
                "event": if *resumed { "run_resumed" } else { "run_started" },
                "run_id": run.run_id,
                "runbook": run.runbook,
                "env": run.env,
                "mode": run.mode,
                "operator": run.operator,
                "git_sha": run.git_sha,
                "started_at": run.started_at,
            }),
            Event::StepAdded { step } => json!({
                "event": "step_added",
                "step": step.id,
                "phase": step.phase,
                "command": step.command,
            }),
            Event::MetricsSampled { run, after } => json!({
                "event": "metrics_sampled",
                "when": if *after { "after" } else { "before" },
                "metrics": run.metrics,
            }),
            Event::StepStarted { step, max_attempts } => json!({
                "event": "step_started",
                "step": step.id,
                "attempt": step.attempts,
                "max_attempts": max_attempts,
            }),
            Event::StepRetrying { step, delay } => json!({
                "event": "step_retrying",
                "step": step.id,
                "attempt": step.attempts,
                "exit_code": step.exit_code,
                "detail": step.detail,
                "delay_ms": delay.as_millis() as u64,
            }),
            Event::StepFinished { step } => json!({
                "event": "step_finished",
                "step": step.id,
                "phase": step.phase,
                "status": step.status,
                "exit_code": step.exit_code,
                "attempts": step.attempts,
                "duration_ms": step.duration_ms,
                "detail": step.detail,
                "log": step.log,
            }),
            Event::RunFinished { run } => json!({
                "event": "run_finished",
                "run_id": run.run_id,
                "status": run.status,
                "reason": run.status_reason,
                "duration_ms": run.duration_ms(),
                "note": run.note,
            }),
        };
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "{value}")
            .and_then(|()| stdout.flush())
            .map_err(|source| Error::io("cannot write JSON events to stdout", source))
    }
}
