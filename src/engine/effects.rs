//! Everything the executor does to the world, behind one trait.
//!
//! The executor decides: which step runs next, whether to retry, what a failure means, what to
//! undo. Running a command, performing an action, sampling a metric, asking a person, sleeping,
//! reading the clock and noticing a signal are effects, and go through `Effects`. The real
//! implementation (`SystemEffects`) spawns processes and asks on the terminal; the scripted one
//! in the tests plays a run out without either, so the policy is tested in milliseconds.

use std::collections::BTreeMap;
use std::io;
use std::path::Path;
use std::time::Duration;

use crate::plan::{Notification, PlannedMetric, Work};
use crate::store::record::{StepStatus, TagRecord};
use crate::text::timestamp::Timestamp;

/// The answer to a question put to a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Yes,
    No,
    /// There is no terminal to ask on.
    NoTerminal,
    /// The person pressed Ctrl-C at the question: the run is interrupted.
    Interrupted,
}

/// Asks a person. The terminal side implements it; the engine only knows the answers.
pub trait Prompter {
    /// Whether there is anyone to ask (a terminal); without one every question is answered
    /// `NoTerminal`.
    fn can_ask(&self) -> bool;
    /// A yes/no question; "no" is the default.
    fn confirm(&mut self, prompt: &str) -> Answer;
    /// After a failure with `on_failure = "ask"`: undo, stop, or (`offer_rollback`, when the
    /// runbook has a `[rollback]`) roll back. No terminal, or Ctrl-C, is stop.
    fn after_failure(&mut self, failed_step: &str, offer_rollback: bool) -> Recovery;
}

/// What a person chose after a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recovery {
    Undo,
    Rollback,
    Stop,
}

/// Where and how one attempt of a step's work runs.
pub struct WorkContext<'a> {
    pub step_id: &'a str,
    pub dir: &'a Path,
    /// The whole extra process environment, shipbook's own variables included.
    pub env: &'a BTreeMap<String, String>,
    pub timeout: Option<Duration>,
    pub log: &'a Path,
    /// An undo in flight is finished, not cut short: Ctrl-C is not passed on to it.
    pub sheltered: bool,
    /// A rehearsal: a tag is checked, not created.
    pub rehearsal: bool,
    /// Other steps may run beside it: with `-v`, each line of its output is labelled with its id.
    pub labelled: bool,
}

/// How one attempt of a step's work ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkOutcome {
    /// `Succeeded`, `Failed`, `TimedOut` or `Interrupted`.
    pub status: StepStatus,
    /// A command's exit code; actions have none.
    pub exit_code: Option<i32>,
    /// One line about the result, before masking ("exited with 2", "HTTP 503 after 4 attempts").
    pub detail: Option<String>,
    /// For a `tag` step: the tag it made or found.
    pub tag: Option<TagRecord>,
}

impl WorkOutcome {
    pub fn succeeded(detail: Option<String>) -> WorkOutcome {
        WorkOutcome {
            status: StepStatus::Succeeded,
            exit_code: None,
            detail,
            tag: None,
        }
    }
}

/// An attempt begun with [`Effects::start`] that is over.
pub struct Finished {
    pub job: usize,
    pub outcome: io::Result<WorkOutcome>,
    /// When it ended, on the run's clock ([`Effects::elapsed`]): the step's duration is
    /// measured to here, not to when the executor got to it, so that the order in which steps
    /// beside each other ended (which the undo follows) is the order in which they truly did.
    pub ended: Duration,
}

/// The effects a run has on the world.
pub trait Effects {
    /// Performs one attempt of a step's work: a command or an action, its output into `log`.
    fn perform(&mut self, work: &Work, context: &WorkContext<'_>) -> io::Result<WorkOutcome>;
    /// Starts one attempt of a step's work beside others and returns at once;
    /// [`Effects::wait_started`] tells how it ended. `job` names it there.
    fn start(&mut self, job: usize, work: &Work, context: &WorkContext<'_>);
    /// Waits until one of the attempts begun with [`Effects::start`] is over, or `timeout`
    /// has passed (`None` then).
    fn wait_started(&mut self, timeout: Option<Duration>) -> Option<Finished>;
    /// Ends the attempts begun with [`Effects::start`] that are still running (TERM, then KILL
    /// after the grace period), without interrupting the run; `false` once they are over.
    fn cancel_started(&mut self, cancel: bool);
    /// Samples a metric: its value, or why there is none.
    fn sample(
        &mut self,
        metric: &PlannedMetric,
        env: &BTreeMap<String, String>,
        log: &Path,
    ) -> io::Result<Result<f64, String>>;
    /// Appends a line of shipbook's own to a step's log (secrets masked).
    fn append_log(&mut self, log: &Path, text: &str);
    /// The last lines of a step's log, for a failure.
    fn log_tail(&mut self, log: &Path) -> String;
    fn confirm(&mut self, prompt: &str) -> Answer;
    fn after_failure(&mut self, failed_step: &str, offer_rollback: bool) -> Recovery;
    /// Whether a question can be put to a person at all.
    fn can_ask(&self) -> bool;
    /// Waits between attempts; returns true when a signal came meanwhile.
    fn sleep(&mut self, delay: Duration) -> bool;
    /// Time since the run started, from a clock that never goes back.
    fn elapsed(&self) -> Duration;
    /// The wall-clock time, as records hold it.
    fn now(&self) -> Timestamp;
    /// Whether Ctrl-C or SIGTERM came.
    fn interrupted(&self) -> bool;
    /// Sends one notification of `event` (a JSON object), within its timeout; says why not.
    fn notify(
        &mut self,
        notification: &Notification,
        event: &serde_json::Value,
    ) -> Result<(), String>;
}
