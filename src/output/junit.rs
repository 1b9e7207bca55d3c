//! The `--junit FILE` observer: one testsuite per run, one testcase per step, so that the CI a
//! team already has shows a release's steps the way it shows tests.
//!
//! The file is written once, atomically, when the run ends (a half-written report would be
//! worse than none), from the run's record. quick-junit writes the XML, so escaping, the
//! characters XML cannot hold and the counts of the suite are its business.

use std::path::{Path, PathBuf};
use std::time::Duration;

use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};

use crate::engine::event::{Event, Observer};
use crate::error::{Error, Result};
use crate::store::record::{RunRecord, RunStatus, StepRecord, StepStatus};

pub struct JunitReport {
    path: PathBuf,
}

impl JunitReport {
    /// Checks that the report can be written where asked, before any step runs.
    pub fn new(path: &Path) -> Result<JunitReport> {
        let parent = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        if !parent.is_dir() {
            return Err(Error::usage(
                format!(
                    "--junit {}: the directory {} does not exist",
                    path.display(),
                    parent.display()
                ),
                "a path in an existing directory",
            ));
        }
        if path.is_dir() {
            return Err(Error::usage(
                format!("--junit {}: that is a directory", path.display()),
                "the path of a file to write, such as reports/shipbook.xml",
            ));
        }
        Ok(JunitReport {
            path: path.to_path_buf(),
        })
    }
}

impl Observer for JunitReport {
    fn name(&self) -> &'static str {
        "the JUnit report"
    }

    fn on_event(&mut self, event: &Event<'_>) -> Result<()> {
        if let Event::RunFinished { run } = event {
            let xml = render(run)?;
            crate::sys::fs::write_atomically(&self.path, &xml, crate::sys::fs::Existing::Replace).map_err(|source| {
                Error::io(format!("cannot write {}", self.path.display()), source)
            })?;
        }
        Ok(())
    }
}

/// Whether a step counts as a failed testcase: it failed, or it failed and was then undone.
fn failed(step: &StepRecord) -> bool {
    match step.status {
        StepStatus::Failed | StepStatus::TimedOut | StepStatus::Interrupted => true,
        StepStatus::Undone => step.exit_code.is_some_and(|code| code != 0),
        _ => false,
    }
}

/// The report of one run, as the text of the file.
pub fn render(run: &RunRecord) -> Result<String> {
    let mut report = Report::new("shipbook");
    report.set_time(millis(run.duration_ms()));
    report.add_test_suite(suite(run));
    report.to_string().map_err(|error| {
        Error::io(
            "cannot write the JUnit report",
            std::io::Error::other(error),
        )
    })
}

/// The run's testsuite: its properties, a testcase per step, and one for the run itself when
/// it failed with no failed step (a metric guard, say), so that CI never shows a failed
/// release as green.
fn suite(run: &RunRecord) -> TestSuite {
    let env = run
        .env
        .as_ref()
        .map(|e| format!(" ({e})"))
        .unwrap_or_default();
    let mut suite = TestSuite::new(format!("{}{env}", run.runbook));
    suite.extra.insert("id".into(), run.run_id.as_str().into());
    // The recorded text, as in the note and the JSON events; quick-junit's own timestamp
    // would write the same instant as `+00:00` instead of `Z`.
    suite
        .extra
        .insert("timestamp".into(), run.started_at.to_string().into());
    suite.set_time(millis(run.duration_ms()));
    suite.add_properties(
        [
            ("run_id", Some(run.run_id.as_str())),
            ("mode", Some(run.mode.as_str())),
            ("status", Some(run.status.as_str())),
            ("operator", Some(run.operator.as_str())),
            ("git_sha", Some(run.git_sha.as_str())),
            ("note", run.note.as_deref()),
        ]
        .into_iter()
        .filter_map(|(name, value)| value.map(|value| Property::new(name, value))),
    );
    suite.add_test_cases(run.steps.iter().map(|step| step_case(run, step)));
    if run.status != RunStatus::Succeeded && !run.steps.iter().any(failed) {
        suite.add_test_case(run_case(run));
    }
    suite
}

/// A step as a testcase: passed, skipped (or not reached), or failed with the last lines of
/// its log as the failure's text and the log's path as its output.
fn step_case(run: &RunRecord, step: &StepRecord) -> TestCase {
    let detail = step.detail.as_deref().unwrap_or_default();
    let status = match step.status {
        StepStatus::Skipped | StepStatus::Pending => {
            let mut status = TestCaseStatus::skipped();
            status.set_message(if step.status == StepStatus::Pending {
                "not reached"
            } else {
                detail
            });
            status
        }
        _ if failed(step) => {
            let kind = match step.exit_code {
                Some(code) => format!("exit code {code}"),
                None => step.status.to_string(),
            };
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            status.set_message(detail).set_type(kind);
            if let Some(tail) = step.log_tail.as_deref().filter(|tail| !tail.is_empty()) {
                status.set_description(tail);
            }
            status
        }
        _ => TestCaseStatus::success(),
    };
    let mut case = TestCase::new(step.id.as_str(), status);
    case.set_classname(format!("{}.{}", run.runbook, step.phase.as_str()))
        .set_time(millis(step.duration_ms));
    if failed(step)
        && let Some(log) = &step.log
    {
        case.set_system_out(log.as_str());
    }
    case
}

/// The testcase of a run that failed although none of its steps did.
fn run_case(run: &RunRecord) -> TestCase {
    let reason = run
        .status_reason
        .clone()
        .unwrap_or_else(|| run.status.to_string());
    let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
    status.set_message(reason).set_type(run.status.as_str());
    let mut case = TestCase::new("run", status);
    case.set_classname(format!("{}.run", run.runbook))
        .set_time(millis(run.duration_ms()));
    case
}

/// A recorded duration, zero when there is none, since every testcase has a time.
fn millis(ms: Option<u64>) -> Duration {
    Duration::from_millis(ms.unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::test_records::{run, step};

    fn parse(xml: &str) -> roxmltree::Document<'_> {
        roxmltree::Document::parse(xml).unwrap_or_else(|error| panic!("{error}\n{xml}"))
    }

    fn suite_of<'a>(document: &'a roxmltree::Document<'a>) -> roxmltree::Node<'a, 'a> {
        document
            .descendants()
            .find(|node| node.has_tag_name("testsuite"))
            .expect("a testsuite")
    }

    #[test]
    fn a_failed_step_is_a_failure_with_its_log() {
        let mut run = run();
        run.steps = vec![step()];
        let xml = render(&run).expect("a report");
        let document = parse(&xml);
        let suite = suite_of(&document);
        assert_eq!(suite.attribute("name"), Some("web (staging)"));
        assert_eq!(suite.attribute("id"), Some(run.run_id.as_str()));
        assert_eq!(
            suite.attribute("timestamp"),
            Some("2026-01-02T03:04:05.000Z")
        );
        assert_eq!(suite.attribute("tests"), Some("1"));
        assert_eq!(suite.attribute("failures"), Some("1"));
        let case = suite
            .children()
            .find(|node| node.has_tag_name("testcase"))
            .expect("a testcase");
        assert_eq!(case.attribute("classname"), Some("web.steps"));
        assert_eq!(case.attribute("time"), Some("1.500"));
        let failure = case
            .children()
            .find(|node| node.has_tag_name("failure"))
            .expect("a failure");
        assert_eq!(failure.attribute("message"), Some("exited with 2"));
        assert_eq!(failure.attribute("type"), Some("exit code 2"));
        assert_eq!(failure.text(), Some("boom"));
        let properties: Vec<(&str, &str)> = suite
            .descendants()
            .filter(|node| node.has_tag_name("property"))
            .map(|node| {
                (
                    node.attribute("name").unwrap(),
                    node.attribute("value").unwrap(),
                )
            })
            .collect();
        assert!(
            properties.contains(&("mode", "rehearsal")),
            "{properties:?}"
        );
        assert!(properties.contains(&("status", "failed")), "{properties:?}");
    }

    #[test]
    fn a_run_that_failed_with_no_failed_step_is_never_green() {
        let mut run = run();
        let mut passed = step();
        passed.status = StepStatus::Succeeded;
        run.steps = vec![passed];
        let xml = render(&run).expect("a report");
        let document = parse(&xml);
        let suite = suite_of(&document);
        assert_eq!(suite.attribute("tests"), Some("2"));
        assert_eq!(suite.attribute("failures"), Some("1"));
        let run_case = suite
            .children()
            .find(|node| node.attribute("name") == Some("run"))
            .expect("a testcase for the run itself");
        let failure = run_case
            .children()
            .find(|node| node.has_tag_name("failure"))
            .expect("a failure");
        assert_eq!(
            failure.attribute("message"),
            Some("step `deploy` exited with 2")
        );
    }

    #[test]
    fn text_that_xml_cannot_hold_is_left_out_and_the_rest_escaped() {
        let mut run = run();
        let mut odd = step();
        odd.id = "a<b & \"c\" 'd'>".into();
        odd.detail = Some("bell\u{7} here".into());
        run.steps = vec![odd];
        let xml = render(&run).expect("a report");
        let document = parse(&xml);
        let failure = document
            .descendants()
            .find(|node| node.has_tag_name("failure"))
            .expect("a failure");
        assert_eq!(failure.attribute("message"), Some("bell here"));
        assert!(
            document
                .descendants()
                .any(|node| node.attribute("name") == Some("a<b & \"c\" 'd'>"))
        );
    }
}
