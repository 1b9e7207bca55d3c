//! The `--json` observer: one JSON object per line on stdout, and nothing else there. Each line
//! is flushed as it is written, so a consumer sees a step's end when it happens.
//!
//! The lines are a contract with whatever reads them (a CI job, a dashboard), so the contract
//! is a type: `JsonEvent` has one variant per event with the fields it carries, and the
//! `event` key names the variant. A field can only be added, renamed or dropped by changing
//! the type, and the tests pin one line of every event.

use std::io::Write;

use serde::Serialize;

use crate::engine::event::{Event, Observer};
use crate::error::{Error, Result};
use crate::runbook::Mode;
use crate::store::record::{
    MetricRecord, Phase, RunRecord, RunStatus, StepRecord, StepStatus, WatchSample,
};
use crate::text::timestamp::Timestamp;

#[derive(Default)]
pub struct JsonEvents;

impl Observer for JsonEvents {
    fn name(&self) -> &'static str {
        "JSON events on stdout"
    }

    fn on_event(&mut self, event: &Event<'_>) -> Result<()> {
        let line = JsonEvent::of(event).line();
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "{line}")
            .and_then(|()| stdout.flush())
            .map_err(|source| Error::io("cannot write JSON events to stdout", source))
    }
}

/// One line of the event stream.
#[derive(Debug, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum JsonEvent<'a> {
    RunStarted(RunHeading<'a>),
    /// A run continues where it stopped (`shipbook resume`).
    RunResumed(RunHeading<'a>),
    StepAdded {
        step: &'a str,
        phase: Phase,
        command: &'a str,
    },
    MetricsSampled {
        when: SampleTime,
        metrics: &'a [MetricRecord],
    },
    StepStarted {
        step: &'a str,
        attempt: u32,
        max_attempts: u32,
        /// When the step began (its first attempt of this run): with `finished_at` of
        /// `step_finished`, steps that ran beside each other show their overlap.
        #[serde(skip_serializing_if = "Option::is_none")]
        started_at: Option<Timestamp>,
    },
    StepRetrying {
        step: &'a str,
        attempt: u32,
        exit_code: Option<i32>,
        detail: Option<&'a str>,
        delay_ms: u64,
    },
    /// A `watch` step took a sample.
    WatchSample {
        step: &'a str,
        sample: &'a WatchSample,
        /// How many samples were taken so far, and how many of them failed.
        taken: usize,
        failed: usize,
        /// How many failed samples fail the step.
        allowed: u32,
        left_ms: u64,
    },
    StepFinished {
        step: &'a str,
        phase: Phase,
        status: StepStatus,
        exit_code: Option<i32>,
        attempts: u32,
        duration_ms: Option<u64>,
        detail: Option<&'a str>,
        log: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        started_at: Option<Timestamp>,
        #[serde(skip_serializing_if = "Option::is_none")]
        finished_at: Option<Timestamp>,
    },
    RunFinished {
        run_id: &'a str,
        status: RunStatus,
        reason: Option<&'a str>,
        duration_ms: Option<u64>,
        note: Option<&'a str>,
        #[serde(skip_serializing_if = "<[String]>::is_empty")]
        warnings: &'a [String],
    },
}

/// What the first line of a run says about it, whether it starts or resumes.
#[derive(Debug, Serialize)]
pub struct RunHeading<'a> {
    run_id: &'a str,
    runbook: &'a str,
    env: Option<&'a str>,
    mode: Mode,
    operator: &'a str,
    git_sha: &'a str,
    started_at: Timestamp,
}

/// When the metrics were sampled: before the first step, or after the last.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SampleTime {
    Before,
    After,
}

impl<'a> JsonEvent<'a> {
    /// The line that tells `event`.
    pub fn of(event: &Event<'a>) -> JsonEvent<'a> {
        match *event {
            Event::RunStarted {
                run,
                resumed: false,
            } => JsonEvent::RunStarted(heading(run)),
            Event::RunStarted { run, resumed: true } => JsonEvent::RunResumed(heading(run)),
            Event::StepAdded { step } => JsonEvent::StepAdded {
                step: &step.id,
                phase: step.phase,
                command: &step.command,
            },
            Event::MetricsSampled { run, after } => JsonEvent::MetricsSampled {
                when: if after {
                    SampleTime::After
                } else {
                    SampleTime::Before
                },
                metrics: &run.metrics,
            },
            Event::StepStarted { step, max_attempts } => JsonEvent::StepStarted {
                step: &step.id,
                attempt: step.attempts,
                max_attempts,
                started_at: step.started_at,
            },
            Event::StepRetrying { step, delay } => JsonEvent::StepRetrying {
                step: &step.id,
                attempt: step.attempts,
                exit_code: step.exit_code,
                detail: step.detail.as_deref(),
                delay_ms: u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
            },
            Event::WatchSampled {
                step,
                left,
                allowed,
            } => match step.samples.last() {
                Some(sample) => JsonEvent::WatchSample {
                    step: &step.id,
                    sample,
                    taken: step.samples.len(),
                    failed: step.samples.iter().filter(|s| !s.passed).count(),
                    allowed,
                    left_ms: u64::try_from(left.as_millis()).unwrap_or(u64::MAX),
                },
                None => step_finished(step),
            },
            Event::StepFinished { step } => step_finished(step),
            Event::RunFinished { run } => JsonEvent::RunFinished {
                run_id: &run.run_id,
                status: run.status,
                reason: run.status_reason.as_deref(),
                duration_ms: run.duration_ms(),
                note: run.note.as_deref(),
                warnings: &run.warnings,
            },
        }
    }

    /// The event as one line of JSON, its keys in alphabetical order.
    pub fn line(&self) -> String {
        // Going through a `Value` orders the keys alphabetically, as the lines have always had
        // them (serde would otherwise put `event` first and the fields in declaration order):
        // a consumer that compares lines as text must not see them change.
        serde_json::to_value(self)
            .expect("an event serializes: its fields are strings, numbers and records")
            .to_string()
    }
}

fn heading(run: &RunRecord) -> RunHeading<'_> {
    RunHeading {
        run_id: &run.run_id,
        runbook: &run.runbook,
        env: run.env.as_deref(),
        mode: run.mode,
        operator: &run.operator,
        git_sha: &run.git_sha,
        started_at: run.started_at,
    }
}

fn step_finished(step: &StepRecord) -> JsonEvent<'_> {
    JsonEvent::StepFinished {
        step: &step.id,
        phase: step.phase,
        status: step.status,
        exit_code: step.exit_code,
        attempts: step.attempts,
        duration_ms: step.duration_ms,
        detail: step.detail.as_deref(),
        log: step.log.as_deref(),
        started_at: step.started_at,
        finished_at: step.finished_at(),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::output::test_records::{run, step};

    fn line(event: Event<'_>) -> String {
        JsonEvent::of(&event).line()
    }

    #[test]
    fn every_event_keeps_its_keys_and_values() {
        let (run, step) = (run(), step());
        assert_eq!(
            line(Event::RunStarted {
                run: &run,
                resumed: false
            }),
            r#"{"env":"staging","event":"run_started","git_sha":"abc123","mode":"rehearsal","operator":"ann@host","run_id":"20260102T030405Z-web-0a1b","runbook":"web","started_at":"2026-01-02T03:04:05.000Z"}"#
        );
        assert_eq!(
            line(Event::RunStarted {
                run: &run,
                resumed: true
            }),
            r#"{"env":"staging","event":"run_resumed","git_sha":"abc123","mode":"rehearsal","operator":"ann@host","run_id":"20260102T030405Z-web-0a1b","runbook":"web","started_at":"2026-01-02T03:04:05.000Z"}"#
        );
        assert_eq!(
            line(Event::StepAdded { step: &step }),
            r#"{"command":"./deploy.sh","event":"step_added","phase":"steps","step":"deploy"}"#
        );
        assert_eq!(
            line(Event::MetricsSampled {
                run: &run,
                after: false
            }),
            r#"{"event":"metrics_sampled","metrics":[{"after":null,"before":200.0,"better":"lower","max_regression":10.0,"name":"p95","problem":null}],"when":"before"}"#
        );
        assert_eq!(
            line(Event::StepStarted {
                step: &step,
                max_attempts: 3
            }),
            r#"{"attempt":2,"event":"step_started","max_attempts":3,"started_at":"2026-01-02T03:04:06.000Z","step":"deploy"}"#
        );
        assert_eq!(
            line(Event::StepRetrying {
                step: &step,
                delay: Duration::from_millis(250)
            }),
            r#"{"attempt":2,"delay_ms":250,"detail":"exited with 2","event":"step_retrying","exit_code":2,"step":"deploy"}"#
        );
        assert_eq!(
            line(Event::StepFinished { step: &step }),
            r#"{"attempts":2,"detail":"exited with 2","duration_ms":1500,"event":"step_finished","exit_code":2,"finished_at":"2026-01-02T03:04:07.500Z","log":".shipbook/logs/x/deploy.log","phase":"steps","started_at":"2026-01-02T03:04:06.000Z","status":"failed","step":"deploy"}"#
        );
        assert_eq!(
            line(Event::RunFinished { run: &run }),
            r#"{"duration_ms":2500,"event":"run_finished","note":".shipbook/notes/x.md","reason":"step `deploy` exited with 2","run_id":"20260102T030405Z-web-0a1b","status":"failed"}"#
        );
    }

    #[test]
    fn the_sampling_after_the_steps_says_so_and_missing_values_are_null() {
        let mut step = step();
        step.exit_code = None;
        step.detail = None;
        step.duration_ms = None;
        step.log = None;
        assert_eq!(
            line(Event::MetricsSampled {
                run: &run(),
                after: true
            }),
            r#"{"event":"metrics_sampled","metrics":[{"after":null,"before":200.0,"better":"lower","max_regression":10.0,"name":"p95","problem":null}],"when":"after"}"#
        );
        assert_eq!(
            line(Event::StepFinished { step: &step }),
            r#"{"attempts":2,"detail":null,"duration_ms":null,"event":"step_finished","exit_code":null,"log":null,"phase":"steps","started_at":"2026-01-02T03:04:06.000Z","status":"failed","step":"deploy"}"#
        );
    }
}
