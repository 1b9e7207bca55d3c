//! The polling loop: attempts every interval until a healthy answer, the deadline or Ctrl-C.
//!
//! Time is the hard part. A request may hang, the interval may be zero or a day, the timeout
//! may be absurdly large, and Ctrl-C must stop the check within a blink in every case; and when
//! the check fails, the summary must name what the service last said rather than the time-out
//! of an attempt that started with no time left.

use std::io::Write;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

use ureq::Agent;
use ureq::tls::RootCerts;

use super::fetch::{Answer, Failure, agent_for, fetch};
use super::judge::{Outcome, judge_answer};
use super::{PlannedHttp, attempts};
use crate::actions::Verdict;
use crate::text::duration::human;

/// How often the wait for an answer or for the next poll looks at `interrupted()`, so that
/// Ctrl-C stops the check within a blink however long the interval or the request.
const INTERRUPT_CHECK: Duration = Duration::from_millis(50);

/// The shortest pause between polls. An interval of zero would otherwise poll a refusing port
/// in a tight loop, burning a core and writing thousands of log lines a second.
const MIN_INTERVAL: Duration = Duration::from_millis(10);

/// The longest a single request may take, whatever the check's timeout. ureq adds its timeout
/// to the current instant, which overflows (and panics) for absurd values; a day is far beyond
/// any health check and far from overflowing.
const MAX_REQUEST_TIME: Duration = Duration::from_secs(24 * 60 * 60);

/// The longest one attempt may wait for an answer (or the interval, when that is longer): a
/// connection that hangs (a dropped SYN, a stuck proxy) must not use up the whole timeout, so
/// that a service which comes back is still seen by the next attempt.
const ATTEMPT_TIME: Duration = Duration::from_secs(10);

/// How long past its own timeout a request may run before the check stops waiting for it.
/// ureq enforces the timeout itself; this is a second line in case some phase does not honour
/// it, so that the check keeps its promise never to outlive its deadline by more than a moment.
const REQUEST_GRACE: Duration = Duration::from_millis(250);

/// The state of one run of the check: the attempts made so far and what the last one found.
pub(super) struct Poller<'c> {
    check: &'c PlannedHttp,
    agent: Agent,
    started: Instant,
    attempts: u32,
    /// The last outcome that was not a time-out: what the summary reports.
    telling: Option<Outcome>,
    /// Whether attempts after `telling` timed out. The last attempt starts with little time
    /// left, and its time-out must not hide the 503 that every attempt before it got.
    then_timed_out: bool,
    /// Whether any attempt got an HTTP answer, which is what tells "unhealthy" from "down".
    answered: bool,
}

impl<'c> Poller<'c> {
    pub(super) fn new(check: &'c PlannedHttp, roots: RootCerts) -> Poller<'c> {
        Poller {
            check,
            agent: agent_for(check, roots),
            started: Instant::now(),
            attempts: 0,
            telling: None,
            then_timed_out: false,
            answered: false,
        }
    }

    /// Polls until a verdict. Time is measured as durations since the start rather than as
    /// instants, so that no timeout, however large, can overflow a clock.
    pub(super) fn run(mut self, log: &mut dyn Write, interrupted: &dyn Fn() -> bool) -> Verdict {
        let interval = self.check.interval.max(MIN_INTERVAL);
        loop {
            if interrupted() {
                return self.interrupted(log);
            }
            let attempt_started = self.started.elapsed();
            let time_left = self.check.timeout.saturating_sub(attempt_started);
            self.attempts = self.attempts.saturating_add(1);
            let Some(result) = self.request(time_left, interrupted) else {
                self.log_attempt(log, "interrupted while waiting for the answer");
                return self.interrupted(log);
            };
            let outcome = self.judge(result, log);
            if let Outcome::Healthy { status } = outcome {
                return self.passed(status);
            }
            self.remember(outcome);
            // The next poll is due an interval after this one started, or at once when this
            // one took longer; none is made when it would start with no time left.
            let next_attempt = attempt_started
                .saturating_add(interval)
                .max(self.started.elapsed());
            if next_attempt >= self.check.timeout {
                return self.timed_out();
            }
            if !self.wait_until(next_attempt, interrupted) {
                return self.interrupted(log);
            }
        }
    }

    /// Sends one request on a thread of its own and waits for it, looking at `interrupted()`
    /// meanwhile: a request blocks until it is answered or times out, and an engineer pressing
    /// Ctrl-C must not wait for a hanging server. Returns `None` when interrupted; the
    /// abandoned request then ends at its own timeout, or with the process.
    fn request(
        &self,
        time_left: Duration,
        interrupted: &dyn Fn() -> bool,
    ) -> Option<Result<Answer, Failure>> {
        let time_left = time_left
            .min(MAX_REQUEST_TIME)
            .min(self.check.interval.max(ATTEMPT_TIME));
        let (sender, receiver) = mpsc::channel();
        let agent = self.agent.clone();
        let url = self.check.url.clone();
        // Only an answer with the expected status has its body checked; another status fails
        // the attempt whatever the body says, so its body is not worth the wait.
        let body_wanted_for = self.check.contains.as_ref().map(|_| self.check.status);
        let spawned = thread::Builder::new()
            .name("shipbook-http".into())
            .spawn(move || {
                // The receiver is gone only when the check stopped waiting, and then nobody
                // wants the answer any more.
                let _ = sender.send(fetch(&agent, &url, time_left, body_wanted_for));
            });
        if let Err(error) = spawned {
            let failure = Failure::new(format!("cannot start the request: {error}"));
            return Some(Err(failure));
        }
        let waited = Instant::now();
        let give_up = time_left.saturating_add(REQUEST_GRACE);
        loop {
            match receiver.recv_timeout(INTERRUPT_CHECK) {
                Ok(result) => return Some(result),
                Err(RecvTimeoutError::Disconnected) => {
                    return Some(Err(Failure::new("the request ended without an answer")));
                }
                Err(RecvTimeoutError::Timeout) if interrupted() => return None,
                Err(RecvTimeoutError::Timeout) if waited.elapsed() > give_up => {
                    return Some(Err(Failure::timed_out()));
                }
                Err(RecvTimeoutError::Timeout) => {}
            }
        }
    }

    /// Decides what an attempt's result means for the check, and logs the attempt.
    fn judge(&mut self, result: Result<Answer, Failure>, log: &mut dyn Write) -> Outcome {
        let (outcome, line) = match result {
            Err(failure) => {
                let line = failure.text.clone();
                (Outcome::NoAnswer(failure), line)
            }
            Ok(answer) => {
                self.answered = true;
                judge_answer(self.check, &answer)
            }
        };
        self.log_attempt(log, &line);
        outcome
    }

    /// Keeps what the summary needs of an attempt that did not pass. The only timeout a request
    /// has is the time left to the check, so a time-out mostly says that the deadline came;
    /// an earlier attempt, when there is one, says more about the service.
    fn remember(&mut self, outcome: Outcome) {
        if let Outcome::NoAnswer(Failure {
            timed_out: true, ..
        }) = outcome
            && self.telling.is_some()
        {
            self.then_timed_out = true;
        } else {
            self.telling = Some(outcome);
            self.then_timed_out = false;
        }
    }

    /// Writes the log line of the current attempt: its number, the time since the start, and
    /// what it found.
    fn log_attempt(&self, log: &mut dyn Write, found: &str) {
        let _ = writeln!(
            log,
            "attempt {} ({}): {found}",
            self.attempts,
            human(self.started.elapsed())
        );
    }

    /// Sleeps until `elapsed` time since the start, waking often enough to notice an
    /// interruption. Returns false when interrupted.
    fn wait_until(&self, elapsed: Duration, interrupted: &dyn Fn() -> bool) -> bool {
        loop {
            if interrupted() {
                return false;
            }
            let now = self.started.elapsed();
            if now >= elapsed {
                return true;
            }
            thread::sleep((elapsed - now).min(INTERRUPT_CHECK));
        }
    }

    fn passed(&self, status: u16) -> Verdict {
        Verdict::pass(format!(
            "answered {status} after {} ({})",
            attempts(self.attempts),
            human(self.started.elapsed())
        ))
    }

    fn timed_out(&self) -> Verdict {
        let headline = if self.answered {
            "no healthy answer"
        } else {
            "no answer"
        };
        Verdict::fail(format!(
            "{headline} after {} in {}{}",
            attempts(self.attempts),
            human(self.check.timeout),
            self.last_outcome()
        ))
    }

    fn interrupted(&self, log: &mut dyn Write) -> Verdict {
        let summary = if self.attempts == 0 {
            "interrupted before the first attempt".to_string()
        } else {
            format!(
                "interrupted after {} ({}){}",
                attempts(self.attempts),
                human(self.started.elapsed()),
                self.last_outcome()
            )
        };
        let _ = writeln!(log, "{summary}");
        Verdict::fail(summary)
    }

    /// `: last answer 503, expected 200` (with `, then timed out` when later attempts did), or
    /// nothing before the first attempt.
    fn last_outcome(&self) -> String {
        let Some(outcome) = &self.telling else {
            return String::new();
        };
        let then = if self.then_timed_out {
            ", then timed out"
        } else {
            ""
        };
        format!(": last {}{then}", outcome.last())
    }
}
