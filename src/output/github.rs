//! GitHub Actions: when `GITHUB_ACTIONS=true`, each step's output is folded into a
//! `::group::` of the job log, a failed step raises an `::error::` annotation with the step and
//! exit code, and the change note is appended to `$GITHUB_STEP_SUMMARY`.
//!
//! Workflow commands go to stdout, where the runner looks for them, except with `--json`, which
//! owns stdout: then they go to stderr, which the runner reads as well.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::engine::event::{Event, Observer};
use crate::error::Result;
use crate::store::record::StepStatus;
use crate::sys::fs::read_tail;

/// How much of a step's log goes into its group; the whole log stays on disk.
const MAX_GROUP_BYTES: u64 = 1024 * 1024;

pub struct GithubActions {
    to_stderr: bool,
    summary: Option<PathBuf>,
}

impl GithubActions {
    /// The observer, when running under GitHub Actions.
    pub fn detect(json: bool) -> Option<GithubActions> {
        (std::env::var("GITHUB_ACTIONS").as_deref() == Ok("true")).then(|| GithubActions {
            to_stderr: json,
            summary: std::env::var_os("GITHUB_STEP_SUMMARY")
                .filter(|s| !s.is_empty())
                .map(PathBuf::from),
        })
    }

    fn print(&self, text: &str) {
        if self.to_stderr {
            let _ = std::io::stderr().write_all(text.as_bytes());
        } else {
            let mut stdout = std::io::stdout().lock();
            let _ = stdout.write_all(text.as_bytes());
            let _ = stdout.flush();
        }
    }
}

/// Workflow command values must not contain newlines; `%`, CR and LF are escaped.
fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

impl Observer for GithubActions {
    fn name(&self) -> &'static str {
        "GitHub Actions annotations"
    }

    fn on_event(&mut self, event: &Event<'_>) -> Result<()> {
        match event {
            Event::StepFinished { step }
                if !matches!(step.status, StepStatus::Skipped | StepStatus::Pending) =>
            {
                let mut text = format!("::group::{} ({})\n", escape_data(&step.id), step.status);
                if let Some(log) = &step.log
                    && let Ok(tail) = read_tail(Path::new(log), MAX_GROUP_BYTES)
                {
                    if tail.cut {
                        text.push_str(&format!(
                            "[shipbook: only the last MiB of the log is shown; all of it is in {log}]\n"
                        ));
                    }
                    // A log that is not valid UTF-8 is left out of the group, as it always has
                    // been; it is still on disk.
                    let content = String::from_utf8(tail.bytes).unwrap_or_default();
                    text.push_str(&content);
                    if !content.is_empty() && !content.ends_with('\n') {
                        text.push('\n');
                    }
                }
                text.push_str("::endgroup::\n");
                if matches!(
                    step.status,
                    StepStatus::Failed | StepStatus::TimedOut | StepStatus::Interrupted
                ) {
                    let code = step
                        .exit_code
                        .map(|c| format!(" with exit code {c}"))
                        .unwrap_or_default();
                    text.push_str(&format!(
                        "::error title={}::step {} {}{code}: {}\n",
                        escape_property(&format!("shipbook step {}", step.id)),
                        escape_data(&step.id),
                        step.status,
                        escape_data(step.detail.as_deref().unwrap_or_default())
                    ));
                }
                self.print(&text);
            }
            Event::RunFinished { run } => {
                // The step summary is the change note, as written (a run whose note could not
                // be written has none to show), without its front matter: a summary page shows
                // Markdown, and the YAML would show as text.
                if let (Some(summary), Some(note)) = (&self.summary, &run.note)
                    && let Ok(note) = std::fs::read_to_string(note)
                {
                    let note = without_front_matter(&note);
                    let _ = OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(summary)
                        .and_then(|mut file| file.write_all(format!("{note}\n").as_bytes()));
                }
            }
            _ => {}
        }
        Ok(())
    }
}

/// A note's text after its front matter block, if it has one.
fn without_front_matter(note: &str) -> &str {
    note.strip_prefix("---\n")
        .and_then(|rest| rest.split_once("\n---\n"))
        .map_or(note, |(_, body)| body.trim_start_matches('\n'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_workflow_command_values() {
        assert_eq!(escape_data("50% done\nnext"), "50%25 done%0Anext");
        assert_eq!(escape_property("a:b,c"), "a%3Ab%2Cc");
    }
}
