//! Scripted effects for the executor's unit tests: no process is spawned, nobody is asked, no
//! time passes but on the scripted clock.
//!
//! A test says how each step's attempts end (by step id, in order; a step with nothing
//! scripted succeeds), what each metric samples, how questions are answered, and after which
//! step a signal arrives. It then reads what was performed, slept and asked.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::io;
use std::path::Path;
use std::time::Duration;

use super::effects::{Answer, Effects, Finished, Recovery, WorkContext, WorkOutcome};
use crate::plan::{Notification, PlannedMetric, Work};
use crate::store::record::StepStatus;
use crate::text::timestamp::Timestamp;

#[derive(Default)]
pub struct ScriptedEffects {
    outcomes: HashMap<String, VecDeque<WorkOutcome>>,
    samples: HashMap<String, VecDeque<Result<f64, String>>>,
    answers: VecDeque<Answer>,
    /// The answer to "undo or stop?" after a failure.
    pub undo_answer: Option<Answer>,
    /// The choice after a failure when `undo_answer` is neither yes nor Ctrl-C.
    pub recovery: Option<Recovery>,
    /// A signal arrives once this step's attempt is over.
    interrupt_after: Option<String>,
    interrupted: bool,
    clock: Duration,
    /// How long each attempt takes on the scripted clock.
    pub attempt_time: Duration,
    /// The id of every step attempted, in order, with whether it was sheltered from signals.
    pub performed: Vec<(String, bool)>,
    pub sleeps: Vec<Duration>,
    pub questions: Vec<String>,
    pub log_lines: Vec<String>,
    /// Whether there is a terminal to ask on.
    pub terminal: bool,
    /// Every notification event sent, in order.
    pub notified: Vec<serde_json::Value>,
    /// Why every notification fails, when it should.
    pub notify_failure: Option<String>,
    /// Attempts begun beside others and not yet waited for, ended as scripted, in order.
    started: VecDeque<(usize, WorkOutcome, Duration)>,
    /// The ids of the steps running when the executor cancelled them.
    pub cancelled: Vec<String>,
    /// The step ids of `started`, for `cancelled`.
    running_ids: HashMap<usize, String>,
    /// How long an attempt of these steps takes, when not `attempt_time`.
    durations: HashMap<String, Duration>,
}

impl ScriptedEffects {
    pub fn new() -> ScriptedEffects {
        ScriptedEffects {
            attempt_time: Duration::from_millis(10),
            terminal: true,
            ..ScriptedEffects::default()
        }
    }

    /// The next attempts of step `id` end as `outcomes`, in order.
    pub fn attempts(mut self, id: &str, outcomes: &[WorkOutcome]) -> ScriptedEffects {
        self.outcomes
            .entry(id.to_string())
            .or_default()
            .extend(outcomes.iter().cloned());
        self
    }

    /// The next samples of metric `name` are `values`, in order.
    pub fn samples(mut self, name: &str, values: &[Result<f64, String>]) -> ScriptedEffects {
        self.samples
            .entry(name.to_string())
            .or_default()
            .extend(values.iter().cloned());
        self
    }

    /// The next questions are answered `answers`, in order (then: no terminal).
    pub fn answers(mut self, answers: &[Answer]) -> ScriptedEffects {
        self.answers.extend(answers.iter().copied());
        self
    }

    /// A signal arrives once step `id` has been attempted.
    pub fn interrupt_after(mut self, id: &str) -> ScriptedEffects {
        self.interrupt_after = Some(id.to_string());
        self
    }

    /// Each attempt of step `id` takes `time` on the scripted clock.
    pub fn takes(mut self, id: &str, time: Duration) -> ScriptedEffects {
        self.durations.insert(id.to_string(), time);
        self
    }

    /// The ids of the steps attempted, in order.
    pub fn performed_ids(&self) -> Vec<&str> {
        self.performed.iter().map(|(id, _)| id.as_str()).collect()
    }
}

/// An attempt that failed with exit code `code`.
pub fn exit(code: i32) -> WorkOutcome {
    WorkOutcome {
        status: StepStatus::Failed,
        exit_code: Some(code),
        detail: Some(format!("exited with {code}")),
        tag: None,
    }
}

/// An attempt that ended as `status`.
pub fn ended(status: StepStatus) -> WorkOutcome {
    WorkOutcome {
        status,
        exit_code: None,
        detail: Some(status.to_string()),
        tag: None,
    }
}

impl Effects for ScriptedEffects {
    fn start(&mut self, job: usize, work: &Work, context: &WorkContext<'_>) {
        // Beside others, time passes while the executor waits: the attempt ends `time` after
        // it began, and the attempts end in that order.
        let began = self.clock;
        let outcome = self
            .perform(work, context)
            .expect("scripted attempts do not fail");
        self.clock = began;
        let time = self
            .durations
            .get(context.step_id)
            .copied()
            .unwrap_or(self.attempt_time);
        let ended = began + time;
        self.running_ids.insert(job, context.step_id.to_string());
        let at = self.started.partition_point(|(_, _, end)| *end <= ended);
        self.started.insert(at, (job, outcome, ended));
    }

    fn wait_started(&mut self, timeout: Option<Duration>) -> Option<Finished> {
        let (_, _, ended) = self
            .started
            .front()
            .expect("the executor waits only for what it started");
        if let Some(timeout) = timeout
            && *ended > self.clock + timeout
        {
            self.sleeps.push(timeout);
            self.clock += timeout;
            return None;
        }
        let (job, outcome, ended) = self.started.pop_front()?;
        self.running_ids.remove(&job);
        self.clock = self.clock.max(ended);
        Some(Finished {
            job,
            outcome: Ok(outcome),
            ended,
        })
    }

    fn cancel_started(&mut self, cancel: bool) {
        if cancel {
            let mut running: Vec<String> = self.running_ids.values().cloned().collect();
            running.sort();
            self.cancelled.extend(running);
            // What was still running ends as a cancelled command does: by a signal.
            for (_, outcome, _) in &mut self.started {
                if outcome.status != StepStatus::Succeeded {
                    continue;
                }
                *outcome = WorkOutcome {
                    status: StepStatus::Failed,
                    exit_code: Some(143),
                    detail: Some("was killed by signal 15".into()),
                    tag: None,
                };
            }
        }
    }

    fn perform(&mut self, _work: &Work, context: &WorkContext<'_>) -> io::Result<WorkOutcome> {
        self.performed
            .push((context.step_id.to_string(), context.sheltered));
        self.clock += self.attempt_time;
        let outcome = self
            .outcomes
            .get_mut(context.step_id)
            .and_then(VecDeque::pop_front)
            .unwrap_or_else(|| WorkOutcome::succeeded(None));
        if let Some(time) = self.durations.get(context.step_id) {
            self.clock += time.saturating_sub(self.attempt_time);
        }
        if self.interrupt_after.as_deref() == Some(context.step_id) {
            self.interrupted = true;
        }
        Ok(outcome)
    }

    fn sample(
        &mut self,
        metric: &PlannedMetric,
        _env: &BTreeMap<String, String>,
        _log: &Path,
    ) -> io::Result<Result<f64, String>> {
        Ok(self
            .samples
            .get_mut(&metric.name)
            .and_then(VecDeque::pop_front)
            .unwrap_or_else(|| Err("nothing scripted".into())))
    }

    fn append_log(&mut self, _log: &Path, text: &str) {
        self.log_lines.push(text.to_string());
    }

    fn log_tail(&mut self, _log: &Path) -> String {
        "the last lines".into()
    }

    fn confirm(&mut self, prompt: &str) -> Answer {
        self.questions.push(prompt.to_string());
        let answer = self.answers.pop_front().unwrap_or(Answer::NoTerminal);
        if answer == Answer::Interrupted {
            self.interrupted = true;
        }
        answer
    }

    fn after_failure(&mut self, failed_step: &str, offer_rollback: bool) -> Recovery {
        self.questions.push(if offer_rollback {
            format!("undo, roll back or stop after {failed_step}")
        } else {
            format!("undo or stop after {failed_step}")
        });
        match self.undo_answer.unwrap_or(Answer::NoTerminal) {
            Answer::Yes => Recovery::Undo,
            Answer::Interrupted => {
                self.interrupted = true;
                Recovery::Stop
            }
            _ => self.recovery.unwrap_or(Recovery::Stop),
        }
    }

    fn can_ask(&self) -> bool {
        self.terminal
    }

    fn sleep(&mut self, delay: Duration) -> bool {
        self.sleeps.push(delay);
        self.clock += delay;
        self.interrupted
    }

    fn elapsed(&self) -> Duration {
        self.clock
    }

    fn now(&self) -> Timestamp {
        let text = format!("2026-11-23T00:00:{:02}.000Z", self.clock.as_secs() % 60);
        Timestamp::parse(&text).expect("a valid timestamp")
    }

    fn interrupted(&self) -> bool {
        self.interrupted
    }

    fn notify(
        &mut self,
        _notification: &Notification,
        event: &serde_json::Value,
    ) -> Result<(), String> {
        self.notified.push(event.clone());
        match &self.notify_failure {
            Some(why) => Err(why.clone()),
            None => Ok(()),
        }
    }
}
