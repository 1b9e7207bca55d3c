//! The executor's policy, played out on scripted effects: no process, no terminal, no sleep.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::effects::Answer;
use super::event::{Criticality, Event, Observer, Observers};
use super::executor::{Executor, Options};
use super::fake::{ScriptedEffects, ended, exit};
use super::run_record::new_record;
use crate::error::{Error, Result};
use crate::plan::{Plan, PlanOptions};
use crate::runbook::{Mode, OnFailure};
use crate::store::record::{Phase, RunRecord, RunStatus, StepStatus};

fn plan(source: &str, mode: Mode) -> Plan {
    let path = Path::new("/nonexistent-shipbook-test/runbook.toml");
    let runbook = crate::runbook::parse(path, source.to_string()).expect("a valid runbook");
    let options = PlanOptions {
        run_id: "run-1".into(),
        date: "2026-11-23".into(),
        ..PlanOptions::default()
    };
    Plan::build(&runbook, mode, &options).expect("a plan")
}

/// Hears every event as one line, and keeps the record as the run finished.
#[derive(Default)]
struct Heard {
    lines: Vec<String>,
    finished: Option<RunRecord>,
    fail_on: Option<&'static str>,
    criticality: Option<Criticality>,
}

impl Observer for Heard {
    fn on_event(&mut self, event: &Event<'_>) -> Result<()> {
        let line = match event {
            Event::RunStarted { resumed, .. } => format!("run started (resumed: {resumed})"),
            Event::StepAdded { step } => format!("added {}", step.id),
            Event::MetricsSampled { after, .. } => format!("metrics sampled (after: {after})"),
            Event::StepStarted { step, .. } => format!("started {} #{}", step.id, step.attempts),
            Event::StepRetrying { step, delay } => format!("retrying {} in {delay:?}", step.id),
            Event::WatchSampled { step, .. } => format!(
                "sampled {} {}",
                step.id,
                step.samples
                    .last()
                    .map_or("none", |s| if s.passed { "pass" } else { "fail" })
            ),
            Event::StepFinished { step } => format!("finished {} {}", step.id, step.status),
            Event::RunFinished { run } => {
                self.finished = Some((*run).clone());
                format!("run finished {}", run.status)
            }
        };
        if self.fail_on.is_some_and(|prefix| line.starts_with(prefix)) {
            return Err(Error::io(
                "cannot write",
                std::io::ErrorKind::BrokenPipe.into(),
            ));
        }
        self.lines.push(line);
        Ok(())
    }

    /// Events told together are heard as one line joined by ` + `.
    fn on_events(&mut self, events: &[Event<'_>]) -> Result<()> {
        let before = self.lines.len();
        for event in events {
            self.on_event(event)?;
        }
        if events.len() > 1 {
            let together = self.lines.split_off(before).join(" + ");
            self.lines.push(together);
        }
        Ok(())
    }

    fn name(&self) -> &'static str {
        "the test observer"
    }

    fn criticality(&self) -> Criticality {
        self.criticality.unwrap_or(Criticality::BestEffort)
    }
}

struct Outcome {
    result: Result<RunRecord>,
    record: RunRecord,
    heard: Vec<String>,
    effects: ScriptedEffects,
}

fn options(on_failure: OnFailure) -> Options {
    Options {
        yes: false,
        approver: None,
        logs_dir: PathBuf::from("/nonexistent-shipbook-test/logs"),
        operator: "ann@host".into(),
        on_failure,
        resumed: false,
    }
}

fn execute_with(
    plan: &Plan,
    record: RunRecord,
    effects: ScriptedEffects,
    options: Options,
) -> Outcome {
    let mut effects = effects;
    let mut heard = Heard::default();
    let result = Executor::new(
        plan,
        record,
        Observers::new(vec![&mut heard]),
        &mut effects,
        options,
    )
    .execute(|_| Ok("note.md".into()));
    Outcome {
        result,
        record: heard.finished.clone().expect("the run finished"),
        heard: heard.lines,
        effects,
    }
}

fn execute(source: &str, effects: ScriptedEffects, on_failure: OnFailure) -> Outcome {
    let plan = plan(source, Mode::Run);
    let record = new_record(&plan, "run-1", "ann@host", Vec::new());
    execute_with(&plan, record, effects, options(on_failure))
}

fn statuses(record: &RunRecord) -> Vec<String> {
    record
        .steps
        .iter()
        .map(|step| format!("{} {}", step.id, step.status))
        .collect()
}

const THREE_STEPS: &str = r#"
[runbook]
name = "demo"
[[steps]]
id = "a"
run = "true"
undo = "undo a"
[[steps]]
id = "b"
run = "true"
undo = "undo b"
[[steps]]
id = "c"
run = "true"
undo = "undo c"
"#;

#[test]
fn a_step_is_retried_with_doubling_delays_until_it_passes() {
    let source = r#"
[runbook]
name = "demo"
[[steps]]
id = "flaky"
run = "true"
retries = 3
retry_delay = "1s"
"#;
    let effects = ScriptedEffects::new().attempts("flaky", &[exit(1), exit(1)]);
    let outcome = execute(source, effects, OnFailure::Stop);
    assert!(outcome.result.is_ok());
    let step = &outcome.record.steps[0];
    assert_eq!(step.status, StepStatus::Succeeded);
    assert_eq!(step.attempts, 3);
    assert_eq!(step.detail.as_deref(), Some("passed on attempt 3 of 4"));
    assert_eq!(
        outcome.effects.sleeps,
        [Duration::from_secs(1), Duration::from_secs(2)]
    );
    assert_eq!(
        outcome.effects.log_lines[0],
        "== shipbook: attempt 1 of 4 ==\n"
    );
    assert!(outcome.heard.contains(&"retrying flaky in 1s".to_string()));
}

#[test]
fn a_step_that_runs_out_of_attempts_fails_the_run_and_keeps_its_log_tail() {
    let source = r#"
[runbook]
name = "demo"
[[steps]]
id = "flaky"
run = "false"
retries = 1
[[steps]]
id = "never"
run = "true"
"#;
    let effects = ScriptedEffects::new().attempts("flaky", &[exit(1), exit(2)]);
    let outcome = execute(source, effects, OnFailure::Stop);
    assert!(matches!(outcome.result, Err(Error::RunFailed { .. })));
    assert_eq!(outcome.record.status, RunStatus::Failed);
    assert_eq!(
        outcome.record.status_reason.as_deref(),
        Some("step `flaky` exited with 2")
    );
    let step = &outcome.record.steps[0];
    assert_eq!((step.exit_code, step.attempts), (Some(2), 2));
    assert_eq!(step.log_tail.as_deref(), Some("the last lines"));
    assert_eq!(outcome.effects.performed_ids(), ["flaky", "flaky"]);
    assert_eq!(outcome.record.steps[1].status, StepStatus::Pending);
}

#[test]
fn a_timeout_is_recorded_as_such_and_is_not_retried_past_the_attempts() {
    let source = "[runbook]\nname = \"demo\"\n[[steps]]\nid = \"slow\"\nrun = \"sleep 9\"\ntimeout = \"1s\"\n";
    let effects = ScriptedEffects::new().attempts("slow", &[ended(StepStatus::TimedOut)]);
    let outcome = execute(source, effects, OnFailure::Stop);
    assert_eq!(outcome.record.steps[0].status, StepStatus::TimedOut);
    assert_eq!(outcome.record.status, RunStatus::Failed);
}

#[test]
fn undo_runs_the_undo_of_the_failed_step_and_every_completed_one_newest_first() {
    let effects = ScriptedEffects::new().attempts("c", &[exit(1)]);
    let outcome = execute(THREE_STEPS, effects, OnFailure::Undo);
    assert_eq!(
        outcome.effects.performed,
        [
            ("a".to_string(), false),
            ("b".to_string(), false),
            ("c".to_string(), false),
            ("undo-c".to_string(), true),
            ("undo-b".to_string(), true),
            ("undo-a".to_string(), true),
        ]
    );
    assert_eq!(
        statuses(&outcome.record),
        [
            "a undone",
            "b undone",
            "c undone",
            "undo-c succeeded",
            "undo-b succeeded",
            "undo-a succeeded"
        ]
    );
    assert!(
        outcome.record.steps[3..]
            .iter()
            .all(|s| s.phase == Phase::Undo)
    );
    assert_eq!(
        outcome.record.status_reason.as_deref(),
        Some("step `c` exited with 1; undone: `c`, `b`, `a`")
    );
}

#[test]
fn a_failing_undo_stops_the_undoing_and_names_what_was_not_undone() {
    let effects = ScriptedEffects::new()
        .attempts("c", &[exit(1)])
        .attempts("undo-b", &[exit(3)]);
    let outcome = execute(THREE_STEPS, effects, OnFailure::Undo);
    assert_eq!(
        outcome.effects.performed_ids(),
        ["a", "b", "c", "undo-c", "undo-b"]
    );
    assert_eq!(
        outcome.record.status_reason.as_deref(),
        Some(
            "step `c` exited with 1; the undo of `b` failed, so undoing stopped; undone: `c`; not undone: `b`, `a`"
        )
    );
    assert_eq!(outcome.record.steps[0].status, StepStatus::Succeeded);
}

#[test]
fn stop_leaves_everything_as_it_is() {
    let effects = ScriptedEffects::new().attempts("b", &[exit(1)]);
    let outcome = execute(THREE_STEPS, effects, OnFailure::Stop);
    assert_eq!(outcome.effects.performed_ids(), ["a", "b"]);
    assert_eq!(
        statuses(&outcome.record),
        ["a succeeded", "b failed", "c pending"]
    );
}

#[test]
fn ask_undoes_on_yes_and_stops_otherwise() {
    let mut effects = ScriptedEffects::new().attempts("b", &[exit(1)]);
    effects.undo_answer = Some(Answer::Yes);
    let outcome = execute(THREE_STEPS, effects, OnFailure::Ask);
    assert_eq!(
        outcome.effects.performed_ids(),
        ["a", "b", "undo-b", "undo-a"]
    );
    assert_eq!(outcome.effects.questions, ["undo or stop after b"]);

    let effects = ScriptedEffects::new().attempts("b", &[exit(1)]);
    let outcome = execute(THREE_STEPS, effects, OnFailure::Ask);
    assert_eq!(outcome.effects.performed_ids(), ["a", "b"]);
}

#[test]
fn continue_on_error_goes_on_and_the_run_succeeds_naming_the_step() {
    let source = r#"
[runbook]
name = "demo"
[[steps]]
id = "optional"
run = "false"
continue_on_error = true
[[steps]]
id = "next"
run = "true"
"#;
    let effects = ScriptedEffects::new().attempts("optional", &[exit(1)]);
    let outcome = execute(source, effects, OnFailure::Undo);
    assert!(outcome.result.is_ok());
    assert_eq!(outcome.effects.performed_ids(), ["optional", "next"]);
    assert_eq!(
        outcome.record.status_reason.as_deref(),
        Some("failed but allowed to (continue_on_error): optional")
    );
}

const GUARDED: &str = r#"
[runbook]
name = "demo"
[[metrics]]
name = "p95"
command = "echo 1"
better = "lower"
max_regression = "10%"
[[steps]]
id = "deploy"
run = "true"
undo = "undeploy"
"#;

#[test]
fn a_guard_exceeded_fails_the_run_and_the_policy_applies() {
    let effects = ScriptedEffects::new().samples("p95", &[Ok(100.0), Ok(150.0)]);
    let outcome = execute(GUARDED, effects, OnFailure::Undo);
    assert_eq!(outcome.record.status, RunStatus::Failed);
    assert_eq!(
        outcome.record.status_reason.as_deref(),
        Some(
            "metric guard exceeded: `p95` regressed 50.0% (more than the 10% allowed); undone: `deploy`"
        )
    );
    assert_eq!(outcome.effects.performed_ids(), ["deploy", "undo-deploy"]);
    assert_eq!(outcome.record.metrics[0].after, Some(150.0));
}

#[test]
fn a_guarded_metric_that_cannot_be_sampled_before_stops_before_any_step() {
    let effects = ScriptedEffects::new().samples("p95", &[Err("no such file".into())]);
    let outcome = execute(GUARDED, effects, OnFailure::Undo);
    assert!(outcome.effects.performed.is_empty());
    let Err(Error::RunFailed { way_back, .. }) = outcome.result else {
        panic!("the run should fail");
    };
    assert_eq!(
        way_back,
        ["no step was run; safe to retry once the metric can be sampled"]
    );
    assert_eq!(
        outcome.record.metrics[0].problem.as_deref(),
        Some("before: no such file")
    );
}

#[test]
fn an_interrupt_during_a_step_stops_the_run_as_interrupted() {
    let effects = ScriptedEffects::new()
        .attempts("b", &[ended(StepStatus::Interrupted)])
        .interrupt_after("b");
    let outcome = execute(THREE_STEPS, effects, OnFailure::Undo);
    assert!(matches!(outcome.result, Err(Error::Interrupted { .. })));
    assert_eq!(outcome.effects.performed_ids(), ["a", "b"]);
    assert_eq!(
        statuses(&outcome.record),
        ["a succeeded", "b interrupted", "c pending"]
    );
    assert_eq!(outcome.record.status, RunStatus::Interrupted);
}

#[test]
fn an_interrupt_during_an_undo_finishes_the_undo_in_flight_then_stops() {
    let effects = ScriptedEffects::new()
        .attempts("c", &[exit(1)])
        .interrupt_after("undo-c");
    let outcome = execute(THREE_STEPS, effects, OnFailure::Undo);
    assert_eq!(outcome.effects.performed_ids(), ["a", "b", "c", "undo-c"]);
    assert_eq!(outcome.record.status, RunStatus::Interrupted);
    assert_eq!(
        outcome.record.status_reason.as_deref(),
        Some(
            "interrupted by a signal (undoing stopped by a signal after the undo in flight; undone: `c`; not undone: `b`, `a`)"
        )
    );
}

#[test]
fn a_signal_between_retries_ends_the_step_as_interrupted() {
    let source =
        "[runbook]\nname = \"demo\"\n[[steps]]\nid = \"flaky\"\nrun = \"false\"\nretries = 5\n";
    let effects = ScriptedEffects::new()
        .attempts("flaky", &[exit(1)])
        .interrupt_after("flaky");
    let outcome = execute(source, effects, OnFailure::Stop);
    assert_eq!(outcome.effects.performed_ids(), ["flaky"]);
    assert_eq!(outcome.record.steps[0].status, StepStatus::Interrupted);
}

#[test]
fn a_resumed_run_runs_only_what_did_not_succeed_and_asks_before_a_non_idempotent_step() {
    let source = r#"
[runbook]
name = "demo"
[[steps]]
id = "a"
run = "true"
[[steps]]
id = "b"
run = "true"
idempotent = false
[[steps]]
id = "c"
run = "true"
"#;
    let plan = plan(source, Mode::Run);
    let mut record = new_record(&plan, "run-1", "ann@host", Vec::new());
    record.steps[0].status = StepStatus::Succeeded;
    record.steps[1].status = StepStatus::Interrupted;
    let resumed = Options {
        resumed: true,
        ..options(OnFailure::Stop)
    };
    let effects = ScriptedEffects::new().answers(&[Answer::Yes]);
    let outcome = execute_with(&plan, record.clone(), effects, resumed);
    assert_eq!(outcome.effects.performed_ids(), ["b", "c"]);
    assert_eq!(
        outcome.effects.questions,
        ["Step `b` is not idempotent and may have partly run before. Run it again?"]
    );
    assert_eq!(outcome.heard[0], "run started (resumed: true)");

    let resumed = Options {
        resumed: true,
        ..options(OnFailure::Stop)
    };
    let outcome = execute_with(&plan, record.clone(), ScriptedEffects::new(), resumed);
    assert!(matches!(
        outcome.result,
        Err(Error::NeedsConfirmation { .. })
    ));
    assert!(outcome.effects.performed.is_empty());

    // With no terminal at all, the question is named before anything is run or recorded.
    let mut effects = ScriptedEffects::new();
    effects.terminal = false;
    let resumed = Options {
        resumed: true,
        ..options(OnFailure::Stop)
    };
    let mut heard = Heard::default();
    let result = Executor::new(
        &plan,
        record,
        Observers::new(vec![&mut heard]),
        &mut effects,
        resumed,
    )
    .execute(|_| Ok("note.md".into()));
    let Err(Error::Unanswerable { step, question }) = result else {
        panic!("the resume should be refused");
    };
    assert_eq!(step, "b");
    assert_eq!(
        question,
        "Step `b` is not idempotent and may have partly run before. Run it again?"
    );
    assert!(effects.performed.is_empty(), "no step ran");
    assert!(heard.lines.is_empty(), "nothing was recorded");
}

const CONFIRM_THEN_SHIP: &str = "[runbook]\nname = \"demo\"\n[[steps]]\nid = \"build\"\nrun = \"true\"\n[[steps]]\nid = \"approve\"\nconfirm = \"Ship?\"\n[[steps]]\nid = \"ship\"\nrun = \"true\"\n";

#[test]
fn with_nobody_to_ask_a_confirmation_is_refused_before_the_first_step() {
    let plan = plan(CONFIRM_THEN_SHIP, Mode::Run);
    let record = new_record(&plan, "run-1", "ann@host", Vec::new());
    let mut effects = ScriptedEffects::new();
    effects.terminal = false;
    let mut heard = Heard::default();
    let result = Executor::new(
        &plan,
        record,
        Observers::new(vec![&mut heard]),
        &mut effects,
        options(OnFailure::Stop),
    )
    .execute(|_| Ok("note.md".into()));
    let Err(Error::Unanswerable { step, question }) = result else {
        panic!("the run should be refused");
    };
    assert_eq!((step.as_str(), question.as_str()), ("approve", "Ship?"));
    assert!(effects.performed.is_empty(), "no step ran");
    assert!(heard.lines.is_empty(), "nothing was recorded");
}

#[test]
fn a_confirmation_is_answered_yes_no_not_at_all_or_interrupted() {
    let outcome = execute(
        CONFIRM_THEN_SHIP,
        ScriptedEffects::new().answers(&[Answer::No]),
        OnFailure::Stop,
    );
    assert!(matches!(outcome.result, Err(Error::Declined { .. })));
    assert_eq!(outcome.record.status, RunStatus::Aborted);
    assert_eq!(outcome.effects.questions, ["Ship?"]);

    // The terminal went away between the start and the question.
    let outcome = execute(CONFIRM_THEN_SHIP, ScriptedEffects::new(), OnFailure::Stop);
    assert!(matches!(
        outcome.result,
        Err(Error::NeedsConfirmation { .. })
    ));

    let outcome = execute(
        CONFIRM_THEN_SHIP,
        ScriptedEffects::new().answers(&[Answer::Interrupted]),
        OnFailure::Stop,
    );
    assert!(matches!(outcome.result, Err(Error::Interrupted { .. })));
    assert_eq!(outcome.record.status, RunStatus::Interrupted);
    assert_eq!(outcome.record.steps[1].status, StepStatus::Interrupted);
    assert_eq!(outcome.effects.performed_ids(), ["build"]);

    let plan = plan(CONFIRM_THEN_SHIP, Mode::Run);
    let record = new_record(&plan, "run-1", "ann@host", Vec::new());
    let yes = Options {
        yes: true,
        ..options(OnFailure::Stop)
    };
    let mut effects = ScriptedEffects::new();
    effects.terminal = false;
    let outcome = execute_with(&plan, record, effects, yes);
    assert!(outcome.result.is_ok());
    assert!(outcome.effects.questions.is_empty());
    assert!(
        outcome.record.steps[1]
            .detail
            .as_deref()
            .is_some_and(|d| d.starts_with("answered yes by --yes, operator ann@host"))
    );
}

#[test]
fn ctrl_c_at_the_undo_or_stop_question_stops_as_interrupted() {
    let mut effects = ScriptedEffects::new().attempts("b", &[exit(1)]);
    effects.undo_answer = Some(Answer::Interrupted);
    let outcome = execute(THREE_STEPS, effects, OnFailure::Ask);
    assert_eq!(outcome.effects.performed_ids(), ["a", "b"]);
    assert_eq!(outcome.record.status, RunStatus::Interrupted);
}

#[test]
fn a_rehearsal_skips_what_says_so_and_runs_the_rollback_after_the_steps() {
    let source = r#"
[runbook]
name = "demo"
[[steps]]
id = "build"
run = "true"
[[steps]]
id = "announce"
run = "true"
rehearsal = "skip"
[rollback]
run = "redeploy"
"#;
    let plan = plan(source, Mode::Rehearsal);
    let record = new_record(&plan, "run-1", "ann@host", Vec::new());
    let outcome = execute_with(
        &plan,
        record,
        ScriptedEffects::new(),
        options(OnFailure::Stop),
    );
    assert_eq!(outcome.effects.performed_ids(), ["build", "rollback"]);
    assert_eq!(
        statuses(&outcome.record),
        ["build succeeded", "announce skipped", "rollback succeeded"]
    );
    assert_eq!(outcome.record.steps[2].phase, Phase::Rollback);
}

#[test]
fn a_failing_best_effort_observer_is_dropped_and_the_run_goes_on() {
    let plan = plan(THREE_STEPS, Mode::Run);
    let record = new_record(&plan, "run-1", "ann@host", Vec::new());
    let mut effects = ScriptedEffects::new();
    let mut keeper = Heard::default();
    let mut flaky = Heard {
        fail_on: Some("finished a"),
        ..Heard::default()
    };
    let result = Executor::new(
        &plan,
        record,
        Observers::new(vec![&mut keeper, &mut flaky]),
        &mut effects,
        options(OnFailure::Stop),
    )
    .execute(|_| Ok("note.md".into()));
    assert!(result.is_ok());
    assert_eq!(effects.performed_ids(), ["a", "b", "c"]);
    assert!(
        flaky.finished.is_none(),
        "the failed observer heard no more"
    );
    assert_eq!(
        keeper.lines.last().map(String::as_str),
        Some("run finished succeeded")
    );
}

#[test]
fn a_failing_critical_observer_stops_the_run_before_the_next_step() {
    let plan = plan(THREE_STEPS, Mode::Run);
    let record = new_record(&plan, "run-1", "ann@host", Vec::new());
    let mut effects = ScriptedEffects::new();
    let mut store = Heard {
        fail_on: Some("finished a"),
        criticality: Some(Criticality::Critical),
        ..Heard::default()
    };
    let result = Executor::new(
        &plan,
        record,
        Observers::new(vec![&mut store]),
        &mut effects,
        options(OnFailure::Stop),
    )
    .execute(|_| Ok("note.md".into()));
    assert!(result.is_err());
    assert_eq!(effects.performed_ids(), ["a"]);
}

/// Runs THREE_STEPS with a record store that refuses the event starting with `refused`, and a
/// terminal behind it; returns the result, what was performed, and what the terminal heard.
fn run_with_a_failing_record(refused: &'static str) -> (Result<RunRecord>, Vec<String>, Heard) {
    failing_record(THREE_STEPS, ScriptedEffects::new(), refused)
}

/// Runs `source` on `effects` as [`run_with_a_failing_record`] does.
fn failing_record(
    source: &str,
    mut effects: ScriptedEffects,
    refused: &'static str,
) -> (Result<RunRecord>, Vec<String>, Heard) {
    let plan = plan(source, Mode::Run);
    let record = new_record(&plan, "run-1", "ann@host", Vec::new());
    let mut store = Heard {
        fail_on: Some(refused),
        criticality: Some(Criticality::Critical),
        ..Heard::default()
    };
    let mut terminal = Heard::default();
    let result = Executor::new(
        &plan,
        record,
        Observers::new(vec![&mut store, &mut terminal]),
        &mut effects,
        options(OnFailure::Undo),
    )
    .execute(|_| Ok("note.md".into()));
    let performed = effects
        .performed_ids()
        .iter()
        .map(ToString::to_string)
        .collect();
    (result, performed, terminal)
}

#[test]
fn a_record_that_refuses_a_step_still_gets_told_what_each_step_truly_did() {
    let (result, performed, terminal) = run_with_a_failing_record("finished b");
    assert_eq!(performed, ["a", "b"], "nothing after b, not even an undo");
    let Err(Error::RunFailed {
        status,
        reason,
        way_back,
        ..
    }) = result
    else {
        panic!("not a failed run: {result:?}");
    };
    assert_eq!(status, "stopped");
    assert!(
        reason.contains("its record could not be written"),
        "{reason}"
    );
    assert!(
        way_back.contains(&"step `a` succeeded".to_string()),
        "{way_back:?}"
    );
    assert!(
        way_back.contains(&"step `b` succeeded".to_string()),
        "{way_back:?}"
    );
    assert!(
        way_back.contains(&"not run: `c`".to_string()),
        "{way_back:?}"
    );
    assert!(!reason.contains("nothing was run"));
    // The end of the run reaches the other observers, with the true record.
    let finished = terminal.finished.expect("the terminal heard the end");
    assert_eq!(finished.status, RunStatus::Failed);
    assert_eq!(
        statuses(&finished),
        ["a succeeded", "b succeeded", "c pending"]
    );
}

#[test]
fn a_step_whose_start_the_record_refused_does_not_start() {
    let (result, performed, terminal) = run_with_a_failing_record("started b");
    assert_eq!(performed, ["a"]);
    assert!(matches!(result, Err(Error::RunFailed { .. })));
    let finished = terminal.finished.expect("the terminal heard the end");
    assert_eq!(
        statuses(&finished),
        ["a succeeded", "b pending", "c pending"]
    );
    assert_eq!(finished.steps[1].attempts, 0);
}

#[test]
fn a_resumed_step_counts_its_attempts_on_from_the_earlier_run() {
    let source =
        "[runbook]\nname = \"demo\"\n[[steps]]\nid = \"flaky\"\nrun = \"false\"\nretries = 1\n";
    let plan = plan(source, Mode::Run);
    let mut record = new_record(&plan, "run-1", "ann@host", Vec::new());
    record.steps[0].status = StepStatus::Failed;
    record.steps[0].attempts = 2;
    let resumed = Options {
        resumed: true,
        ..options(OnFailure::Stop)
    };
    let effects = ScriptedEffects::new().attempts("flaky", &[exit(1)]);
    let outcome = execute_with(&plan, record, effects, resumed);
    assert_eq!(outcome.effects.performed_ids(), ["flaky", "flaky"]);
    assert_eq!(
        outcome.effects.log_lines,
        [
            "== shipbook: attempt 3 of 4 ==\n",
            "== shipbook: attempt 4 of 4 ==\n"
        ]
    );
    let step = &outcome.record.steps[0];
    assert_eq!(step.attempts, 4);
    assert_eq!(step.detail.as_deref(), Some("passed on attempt 4 of 4"));
}

const WITH_ROLLBACK: &str = r#"
[runbook]
name = "demo"
[[steps]]
id = "deploy"
run = "deploy"
undo = "undo deploy"
[[steps]]
id = "verify"
run = "verify"
[rollback]
run = "redeploy previous"
"#;

#[test]
fn on_failure_rollback_runs_the_rollback_in_the_same_run_and_ends_rolled_back() {
    let effects = ScriptedEffects::new().attempts("verify", &[exit(1)]);
    let outcome = execute(WITH_ROLLBACK, effects, OnFailure::Rollback);
    assert_eq!(
        outcome.effects.performed_ids(),
        ["deploy", "verify", "rollback"],
        "the rollback runs, not the undo of each step"
    );
    assert_eq!(outcome.record.status, RunStatus::RolledBack);
    let reason = outcome.record.status_reason.as_deref().unwrap();
    assert!(
        reason.starts_with("step `verify` exited with 1"),
        "{reason}"
    );
    assert!(reason.contains("rolled back"), "{reason}");
    let last = outcome.record.steps.last().unwrap();
    assert_eq!(
        (last.phase, last.status),
        (Phase::Rollback, StepStatus::Succeeded)
    );
    assert!(outcome.heard.contains(&"added rollback".to_string()));
    assert!(matches!(
        outcome.result,
        Err(Error::RunFailed { ref status, .. }) if status == "rolled back"
    ));
}

#[test]
fn a_rollback_that_fails_leaves_the_run_failed_with_the_commands_to_run_by_hand() {
    let effects = ScriptedEffects::new()
        .attempts("verify", &[exit(1)])
        .attempts("rollback", &[exit(2)]);
    let outcome = execute(WITH_ROLLBACK, effects, OnFailure::Rollback);
    assert_eq!(outcome.record.status, RunStatus::Failed);
    let reason = outcome.record.status_reason.as_deref().unwrap();
    assert!(reason.contains("the rollback did not complete"), "{reason}");
    assert!(reason.contains("redeploy previous"), "{reason}");
}

#[test]
fn ask_offers_the_rollback_when_there_is_one() {
    let mut effects = ScriptedEffects::new().attempts("verify", &[exit(1)]);
    effects.recovery = Some(super::effects::Recovery::Rollback);
    let outcome = execute(WITH_ROLLBACK, effects, OnFailure::Ask);
    assert_eq!(
        outcome.effects.questions,
        ["undo, roll back or stop after verify"]
    );
    assert_eq!(outcome.record.status, RunStatus::RolledBack);
}

const WATCHED: &str = r#"
[runbook]
name = "demo"
[[metrics]]
name = "error_rate"
command = "./error-rate"
better = "lower"
[[steps]]
id = "deploy"
run = "deploy"
[[steps]]
id = "bake"
watch = { for = "60s", every = "10s", failures = 2, metric = "error_rate", max_regression = "20%", rehearsal_for = "20s" }
[[steps]]
id = "announce"
run = "announce"
[rollback]
run = "redeploy previous"
"#;

fn sampled(values: &[f64]) -> Vec<Result<f64, String>> {
    values.iter().map(|value| Ok(*value)).collect()
}

#[test]
fn a_watch_that_holds_samples_until_its_time_is_over_and_passes() {
    // Before the first step, then seven samples at 0, 10, … 60 seconds (the watch lasts its
    // whole `for`), then after the last step.
    let effects = ScriptedEffects::new().samples(
        "error_rate",
        &sampled(&[1.0, 1.0, 1.1, 3.0, 1.0, 1.1, 1.0, 1.0, 1.0]),
    );
    let outcome = execute(WATCHED, effects, OnFailure::Stop);
    assert_eq!(outcome.record.status, RunStatus::Succeeded);
    let bake = &outcome.record.steps[1];
    assert_eq!(bake.samples.len(), 7, "{:?}", bake.samples);
    assert_eq!(bake.samples.iter().filter(|s| !s.passed).count(), 1);
    assert_eq!(bake.samples[2].value, Some(3.0));
    assert!(
        bake.detail
            .as_deref()
            .unwrap()
            .starts_with("7 samples over 1m")
    );
    // Each sample is told (and so committed) before the next is taken.
    let told = outcome
        .heard
        .iter()
        .filter(|line| line.starts_with("sampled bake"))
        .count();
    assert_eq!(told, 7);
    assert_eq!(
        outcome.effects.sleeps,
        [Duration::from_secs(10); 6],
        "no sleep after the last sample"
    );
    assert_eq!(outcome.effects.performed_ids(), ["deploy", "announce"]);
}

#[test]
fn a_watch_fails_at_its_allowed_count_and_the_policy_rolls_back() {
    let effects =
        ScriptedEffects::new().samples("error_rate", &sampled(&[1.0, 1.0, 3.1, 1.0, 2.5, 1.0]));
    let outcome = execute(WATCHED, effects, OnFailure::Rollback);
    let bake = &outcome.record.steps[1];
    assert_eq!(bake.status, StepStatus::Failed);
    assert_eq!(bake.samples.len(), 4, "stops at the second failure");
    let detail = bake.detail.as_deref().unwrap();
    assert!(
        detail.starts_with("2 of 4 samples failed; the last: error_rate 2.5 against 1 before"),
        "{detail}"
    );
    assert_eq!(outcome.record.status, RunStatus::RolledBack);
    let reason = outcome.record.status_reason.as_deref().unwrap();
    assert!(
        reason.starts_with("step `bake` failed: 2 of 4 samples"),
        "{reason}"
    );
    assert_eq!(outcome.effects.performed_ids(), ["deploy", "rollback"]);
}

#[test]
fn a_rehearsal_watches_for_its_shorter_time() {
    let plan = plan(WATCHED, Mode::Rehearsal);
    let record = new_record(&plan, "run-1", "ann@host", Vec::new());
    let effects =
        ScriptedEffects::new().samples("error_rate", &sampled(&[1.0, 1.0, 1.0, 1.0, 1.0, 1.0]));
    let outcome = execute_with(&plan, record, effects, options(OnFailure::Stop));
    assert_eq!(outcome.record.steps[1].samples.len(), 3, "0s, 10s and 20s");
}

#[test]
fn a_signal_during_a_watch_interrupts_it_with_its_samples_kept() {
    let source = r#"
[runbook]
name = "demo"
[[steps]]
id = "bake"
watch = { for = "60s", every = "10s", run = "./check" }
"#;
    let effects = ScriptedEffects::new().interrupt_after("bake");
    let outcome = execute(source, effects, OnFailure::Stop);
    let bake = &outcome.record.steps[0];
    assert_eq!(bake.status, StepStatus::Interrupted);
    assert_eq!(bake.samples.len(), 1);
    assert_eq!(outcome.record.status, RunStatus::Interrupted);
}

const NOTIFIED: &str = r#"
[runbook]
name = "demo"
[[steps]]
id = "deploy"
run = "deploy"
[[notify]]
on = ["started", "step_failed", "failed", "succeeded"]
run = "./page"
"#;

#[test]
fn notifications_go_out_at_the_moments_listened_to_and_a_failed_one_is_a_warning() {
    let effects = ScriptedEffects::new().attempts("deploy", &[exit(1)]);
    let outcome = execute(NOTIFIED, effects, OnFailure::Stop);
    let events: Vec<&str> = outcome
        .effects
        .notified
        .iter()
        .map(|event| event["event"].as_str().unwrap())
        .collect();
    assert_eq!(events, ["started", "step_failed", "failed"]);
    assert_eq!(outcome.effects.notified[1]["step"], "deploy");
    assert_eq!(outcome.effects.notified[2]["note"], "note.md");
    assert!(outcome.record.warnings.is_empty());

    let mut effects = ScriptedEffects::new();
    effects.notify_failure = Some("the webhook answered 500".into());
    let outcome = execute(NOTIFIED, effects, OnFailure::Stop);
    assert_eq!(
        outcome.record.status,
        RunStatus::Succeeded,
        "a notification never fails a run"
    );
    assert_eq!(
        outcome.record.warnings,
        [
            "the `started` notification (command) was not sent: the webhook answered 500",
            "the `succeeded` notification (command) was not sent: the webhook answered 500",
        ]
    );
}

#[test]
fn a_steps_success_is_told_with_the_next_steps_start_and_the_last_one_before_the_end() {
    let outcome = execute(THREE_STEPS, ScriptedEffects::new(), OnFailure::Stop);
    assert!(outcome.result.is_ok());
    let steps: Vec<&str> = outcome
        .heard
        .iter()
        .map(String::as_str)
        .filter(|line| !line.starts_with("run started"))
        .filter(|line| line.contains("started ") || line.contains("finished "))
        .collect();
    assert_eq!(
        steps,
        [
            "started a #1",
            "finished a succeeded + started b #1",
            "finished b succeeded + started c #1",
            // Nothing starts after the last step: its success is told on its own, before the
            // metrics and the end of the run.
            "finished c succeeded",
            "run finished succeeded",
        ]
    );
}

#[test]
fn a_failure_is_told_at_once_never_held_for_what_follows() {
    let effects = ScriptedEffects::new().attempts("b", &[exit(1)]);
    let outcome = execute(THREE_STEPS, effects, OnFailure::Undo);
    let heard: Vec<&str> = outcome.heard.iter().map(String::as_str).collect();
    let failed = heard
        .iter()
        .position(|line| *line == "finished b failed")
        .unwrap_or_else(|| panic!("the failure is told on its own: {heard:#?}"));
    assert_eq!(heard[failed - 1], "finished a succeeded + started b #1");
    // The undo that follows hears nothing held back.
    assert!(
        heard[failed + 1..]
            .iter()
            .all(|line| !line.contains("finished a succeeded")),
        "{heard:#?}"
    );
}

const BESIDE: &str = r#"
[runbook]
name = "demo"
jobs = 2
[[steps]]
id = "a"
needs = []
run = "true"
undo = "undo a"
[[steps]]
id = "b"
needs = []
run = "true"
undo = "undo b"
[[steps]]
id = "c"
needs = ["a"]
run = "true"
[[steps]]
id = "d"
needs = ["b", "c"]
run = "true"
"#;

#[test]
fn steps_start_as_their_needs_allow_up_to_the_job_limit() {
    let outcome = execute(BESIDE, ScriptedEffects::new(), OnFailure::Stop);
    assert!(outcome.result.is_ok());
    // `a` and `b` start together (two jobs); `c` once `a` has finished, told in one commit
    // with `a`'s finish; `d` last, alone, on the executor's own thread.
    assert_eq!(
        outcome.heard[1..7],
        [
            "started a #1",
            "started b #1",
            "finished a succeeded + started c #1",
            "finished b succeeded",
            "finished c succeeded + started d #1",
            "finished d succeeded",
        ]
    );
    assert_eq!(outcome.effects.performed_ids(), ["a", "b", "c", "d"]);
}

#[test]
fn after_a_failure_beside_others_nothing_new_starts_and_undo_goes_newest_finished_first() {
    let effects = ScriptedEffects::new()
        .attempts("a", &[exit(1)])
        .takes("a", Duration::from_millis(30));
    let outcome = execute(BESIDE, effects, OnFailure::Undo);
    assert!(outcome.result.is_err());
    // `b` was running when `a` failed: it finished, and `c` and `d` never started.
    assert_eq!(
        statuses(&outcome.record)[..4],
        ["a undone", "b undone", "c pending", "d pending"]
    );
    // Both began together; `b` took 10 ms and `a` 30 ms, so `a` finished last and is undone
    // first, although `b` comes later in the file.
    assert_eq!(
        outcome.effects.performed_ids(),
        ["a", "b", "undo-a", "undo-b"]
    );
}

#[test]
fn fail_fast_cancel_ends_the_steps_running_and_records_them_interrupted() {
    let source = BESIDE.replace("jobs = 2", "jobs = 2\nfail_fast = \"cancel\"");
    let effects = ScriptedEffects::new().attempts("a", &[exit(1)]);
    let outcome = execute(&source, effects, OnFailure::Stop);
    assert!(outcome.result.is_err());
    assert_eq!(outcome.effects.cancelled, ["b"]);
    let b = &outcome.record.steps[1];
    assert_eq!(b.status, StepStatus::Interrupted);
    assert_eq!(
        b.detail.as_deref(),
        Some("cancelled: step `a` failed and fail_fast = \"cancel\"")
    );
    assert_eq!(outcome.record.status, RunStatus::Failed);
}

#[test]
fn a_record_that_fails_beside_a_running_step_lets_it_finish_and_starts_nothing() {
    let effects = ScriptedEffects::new().takes("b", Duration::from_millis(50));
    let (result, performed, terminal) = failing_record(BESIDE, effects, "finished a");
    assert!(result.is_err());
    // `b` was running when the record refused `a`'s end: it was waited for, and nothing else
    // started (not even an undo).
    assert_eq!(performed, ["a", "b"]);
    let finished = terminal
        .finished
        .expect("the terminal learns how the run ended");
    assert_eq!(finished.steps[1].status, StepStatus::Succeeded);
    assert_eq!(finished.status, RunStatus::Failed);
}

#[test]
fn a_cancelled_step_is_undone_with_the_failed_one() {
    let source = BESIDE.replace("jobs = 2", "jobs = 2\nfail_fast = \"cancel\"");
    let effects = ScriptedEffects::new()
        .attempts("a", &[exit(1)])
        .takes("b", Duration::from_millis(50));
    let outcome = execute(&source, effects, OnFailure::Undo);
    assert!(outcome.result.is_err());
    // `b` was cancelled when `a` failed; it ended last, so it is undone first.
    assert_eq!(
        outcome.effects.performed_ids(),
        ["a", "b", "undo-b", "undo-a"]
    );
    assert_eq!(statuses(&outcome.record)[..2], ["a undone", "b undone"]);
}

#[test]
fn ask_names_the_step_that_failed_not_the_last_in_the_file() {
    let effects = ScriptedEffects::new()
        .attempts("a", &[exit(1)])
        .takes("b", Duration::from_millis(50));
    let outcome = execute(BESIDE, effects, OnFailure::Ask);
    assert!(outcome.result.is_err());
    // `b` (later in the file) finished after `a` failed; the question is about `a`.
    assert_eq!(outcome.effects.questions, ["undo or stop after a"]);
}

const RETRY_BESIDE: &str = r#"
[runbook]
name = "demo"
jobs = 2
[[steps]]
id = "flaky"
needs = []
run = "true"
retries = 3
retry_delay = "100ms"
[[steps]]
id = "slow"
needs = []
run = "true"
"#;

#[test]
fn a_retry_beside_another_step_is_announced_when_it_begins() {
    let effects = ScriptedEffects::new()
        .attempts("flaky", &[exit(1)])
        .takes("slow", Duration::from_millis(500));
    let outcome = execute(RETRY_BESIDE, effects, OnFailure::Stop);
    assert!(outcome.result.is_ok());
    assert_eq!(
        outcome.heard[1..6],
        [
            "started flaky #1",
            "started slow #1",
            "retrying flaky in 100ms",
            "started flaky #2",
            "finished flaky succeeded",
        ]
    );
    // The executor waited for the retry's delay while `slow` ran, then started it.
    assert_eq!(outcome.effects.sleeps, [Duration::from_millis(100)]);
    assert_eq!(outcome.record.steps[0].attempts, 2);
}

#[test]
fn a_retry_still_waiting_when_another_step_fails_is_not_made() {
    let effects = ScriptedEffects::new()
        .attempts("flaky", &[exit(1)])
        .attempts("slow", &[exit(9)])
        .takes("slow", Duration::from_millis(50));
    let outcome = execute(RETRY_BESIDE, effects, OnFailure::Stop);
    assert!(outcome.result.is_err());
    assert_eq!(outcome.effects.performed_ids(), ["flaky", "slow"]);
    let flaky = &outcome.record.steps[0];
    assert_eq!(flaky.status, StepStatus::Failed);
    assert_eq!(flaky.attempts, 1, "no attempt is counted that never ran");
    let detail = flaky.detail.as_deref().unwrap();
    assert!(
        detail
            .starts_with("exited with 1; not retried after the failure: step `slow` exited with 9"),
        "{detail}"
    );
}

#[test]
fn a_step_waiting_to_retry_is_not_started_again_beside_itself() {
    // `last`, first in the file, waits; the search for a step to start passes over it to the
    // step waiting for its retry.
    let source = RETRY_BESIDE.replace(
        "jobs = 2\n",
        "jobs = 3\n[[steps]]\nid = \"last\"\nneeds = [\"slow\"]\nrun = \"true\"\n",
    );
    let effects = ScriptedEffects::new()
        .attempts("flaky", &[exit(1)])
        .takes("slow", Duration::from_millis(500));
    let outcome = execute(&source, effects, OnFailure::Stop);
    assert!(outcome.result.is_ok());
    assert_eq!(
        outcome.effects.performed_ids(),
        ["flaky", "slow", "flaky", "last"]
    );
    assert_eq!(outcome.record.steps[1].attempts, 2);
}
