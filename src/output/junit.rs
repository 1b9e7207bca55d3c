//! The `--junit FILE` observer: one testsuite per run, one testcase per step, so that the CI a
//! team already has shows a release's steps the way it shows tests.
//!
//! Steps are collected as they finish and the file is written once, atomically, when the run
//! ends (a half-written report would be worse than none).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

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
            crate::output::note::write_atomically(&self.path, &render(run))?;
        }
        Ok(())
    }
}

/// Escapes text for XML attributes and content, dropping characters XML cannot hold.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 => {}
            c => out.push(c),
        }
    }
    out
}

fn seconds(ms: Option<u64>) -> String {
    format!("{:.3}", ms.unwrap_or(0) as f64 / 1000.0)
}

/// Whether a step counts as a failed testcase: it failed, or it failed and was then undone.
fn failed(step: &StepRecord) -> bool {
    match step.status {
        StepStatus::Failed | StepStatus::TimedOut | StepStatus::Interrupted => true,
        StepStatus::Undone => step.exit_code.is_some_and(|code| code != 0),
        _ => false,
    }
}

pub fn render(run: &RunRecord) -> String {
    // A run that failed with no failed step (a metric guard, say) gets a testcase of its own,
    // so that CI never shows a failed release as green.
    let run_failure =
        (run.status != RunStatus::Succeeded && !run.steps.iter().any(failed)).then(|| {
            run.status_reason
                .clone()
                .unwrap_or_else(|| run.status.to_string())
        });
    let failures =
        run.steps.iter().filter(|s| failed(s)).count() + usize::from(run_failure.is_some());
    let tests = run.steps.len() + usize::from(run_failure.is_some());
    let skipped = run
        .steps
        .iter()
        .filter(|s| matches!(s.status, StepStatus::Skipped | StepStatus::Pending))
        .count();
    let name = escape(&format!(
        "{}{}",
        run.runbook,
        run.env
            .as_ref()
            .map(|e| format!(" ({e})"))
            .unwrap_or_default()
    ));
    let time = seconds(run.duration_ms());
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"shipbook\" tests=\"{tests}\" failures=\"{failures}\" skipped=\"{skipped}\" time=\"{time}\">"
    );
    let _ = writeln!(
        out,
        "  <testsuite name=\"{name}\" id=\"{}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\" time=\"{time}\" timestamp=\"{}\">",
        escape(&run.run_id),
        escape(&run.started_at.to_string())
    );
    let _ = writeln!(out, "    <properties>");
    for (key, value) in [
        ("run_id", Some(run.run_id.as_str())),
        ("mode", Some(run.mode.as_str())),
        ("status", Some(run.status.as_str())),
        ("operator", Some(run.operator.as_str())),
        ("git_sha", Some(run.git_sha.as_str())),
        ("note", run.note.as_deref()),
    ] {
        if let Some(value) = value {
            let _ = writeln!(
                out,
                "      <property name=\"{key}\" value=\"{}\"/>",
                escape(value)
            );
        }
    }
    let _ = writeln!(out, "    </properties>");
    for step in &run.steps {
        let _ = write!(
            out,
            "    <testcase classname=\"{}.{}\" name=\"{}\" time=\"{}\"",
            escape(&run.runbook),
            step.phase.as_str(),
            escape(&step.id),
            seconds(step.duration_ms)
        );
        let detail = step.detail.as_deref().unwrap_or_default();
        match step.status {
            StepStatus::Skipped | StepStatus::Pending => {
                let message = if step.status == StepStatus::Pending {
                    "not reached"
                } else {
                    detail
                };
                let _ = writeln!(
                    out,
                    ">\n      <skipped message=\"{}\"/>\n    </testcase>",
                    escape(message)
                );
            }
            _ if failed(step) => {
                let kind = match step.exit_code {
                    Some(code) => format!("exit code {code}"),
                    None => step.status.to_string(),
                };
                let _ = writeln!(
                    out,
                    ">\n      <failure message=\"{}\" type=\"{}\">{}</failure>\n      <system-out>{}</system-out>\n    </testcase>",
                    escape(detail),
                    escape(&kind),
                    escape(step.log_tail.as_deref().unwrap_or_default()),
                    escape(step.log.as_deref().unwrap_or_default())
                );
            }
            _ => {
                let _ = writeln!(out, "/>");
            }
        }
    }
    if let Some(reason) = run_failure {
        let _ = writeln!(
            out,
            "    <testcase classname=\"{}.run\" name=\"run\" time=\"{time}\">\n      <failure message=\"{}\" type=\"{}\"/>\n    </testcase>",
            escape(&run.runbook),
            escape(&reason),
            run.status
        );
    }
    let _ = writeln!(out, "  </testsuite>\n</testsuites>");
    out
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn escapes_what_xml_needs() {
        assert_eq!(
            escape("a<b & \"c\" 'd'>\u{1}"),
            "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;"
        );
    }
}
