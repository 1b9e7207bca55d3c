//! The text of the starter runbook.
//!
//! The runbook is written as text rather than serialized, because it is meant to be read and
//! edited: it carries comments that explain each part, aligned in one column, and a
//! commented-out deploy step to copy. Its check steps are the project's own, kind by kind; then
//! come a confirmation, a tag, and a `[rollback]` that fails until someone writes the real
//! procedure, because a starter runbook must never pretend a rollback exists.

use std::fmt::Write as _;

use super::detect::{Kind, Project};
use super::{CHECKS_PLACEHOLDER, ROLLBACK_PLACEHOLDER};

/// A step of the written runbook.
pub(super) struct StepText {
    pub(super) id: &'static str,
    name: &'static str,
    comment: Option<&'static str>,
    run: Run,
}

/// How a step's command is written: as an argument list, or as a line for the shell.
enum Run {
    Argv(&'static [&'static str]),
    Shell(&'static str),
}

impl StepText {
    /// A step that runs a program with its arguments, the way a project's own checks run.
    fn argv(id: &'static str, name: &'static str, argv: &'static [&'static str]) -> StepText {
        StepText {
            id,
            name,
            comment: None,
            run: Run::Argv(argv),
        }
    }
}

/// A TOML string literal of `text`.
fn quoted(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

impl Project {
    /// "a Rust project (Cargo.toml)", or what else was found.
    pub(super) fn describe(&self) -> String {
        if self.kinds.is_empty() {
            return "a generic template, as there is no Cargo.toml, package.json, pyproject.toml or go.mod here"
                .to_string();
        }
        let found: Vec<&str> = self
            .kinds
            .iter()
            .map(|kind| match kind {
                Kind::Rust => "Cargo.toml",
                Kind::Node { .. } => "package.json",
                Kind::Python => "pyproject.toml",
                Kind::Go => "go.mod",
            })
            .collect();
        format!("from {}", found.join(", "))
    }

    /// The steps written, in one line, for the message that says what init did.
    pub(super) fn steps_summary(&self) -> String {
        let checks: Vec<&str> = self.check_steps().iter().map(|step| step.id).collect();
        format!(
            "steps {}, approve, tag v{}; the [rollback] is yours to write",
            checks.join(", "),
            self.version
        )
    }

    /// The project's own checks, kind by kind, in the order the manifests were found.
    pub(super) fn check_steps(&self) -> Vec<StepText> {
        let mut steps: Vec<StepText> = self.kinds.iter().flat_map(steps_of).collect();
        if steps.is_empty() {
            steps.push(StepText {
                id: "checks",
                name: "Lint and tests",
                comment: Some(
                    "No Cargo.toml, package.json, pyproject.toml or go.mod was found: put the\n\
                     # project's checks here (lint, tests), or give each a step of its own.",
                ),
                run: Run::Shell(CHECKS_PLACEHOLDER),
            });
        }
        steps
    }

    /// The text of `runbooks/release.toml`.
    pub(super) fn runbook(&self) -> String {
        let mut out = self.runbook_header();
        let checks = self.check_steps();
        // Checks do not depend on each other: they run at the same time, and the approval
        // waits for all of them.
        let beside = checks.len() > 1;
        for (number, step) in checks.iter().enumerate() {
            out.push('\n');
            out.push_str(&step_table(step, beside && number == 0, beside));
        }
        out.push_str(&self.runbook_ending());
        out
    }

    /// The opening comments and the `[runbook]`, `[vars]` and `[git]` tables.
    fn runbook_header(&self) -> String {
        let name = &self.name;
        format!(
            r#"#:schema ./schema.json
# The release runbook of {name}, written by `shipbook init` {source}.
# A starting point: adjust the steps, and write the [rollback] section, which fails until it is
# edited. runbooks/schema.json describes every key (an editor with a TOML language server reads
# it through the first line); `shipbook check` validates the file.
#
#   shipbook check                              # validate runbooks/*.toml
#   shipbook plan runbooks/release.toml         # the resolved steps; runs nothing
#   shipbook rehearse runbooks/release.toml     # everything but the tag, then the rollback
#   shipbook run runbooks/release.toml

[runbook]
name = {name_value}
description = {description}
reason = {reason}
dir = ".."                                # steps run from the project root
on_failure = "ask"                        # when a step fails: "ask" | "undo" | "stop"

[vars]
{version_line}

[git]
require_clean = true                      # release only committed work
"#,
            source = if self.kinds.is_empty() {
                "as a generic template".to_string()
            } else {
                self.describe()
            },
            name_value = quoted(name),
            description = quoted(&format!("Release {name}")),
            reason = quoted(&format!("Release {name} {{{{ version }}}}")),
            version_line = with_comment(
                &format!("version = {}", quoted(&self.version)),
                "the version to release: edit it, or pass --var version=X.Y.Z",
            ),
        )
    }

    /// The confirmation, the tag, an example deploy step and the `[rollback]` placeholder.
    fn runbook_ending(&self) -> String {
        let name = &self.name;
        let checks: Vec<String> = self
            .check_steps()
            .iter()
            .map(|step| quoted(step.id))
            .collect();
        let needs = if checks.len() > 1 {
            format!(
                "{}\n",
                with_comment(
                    &format!("needs = [{}]", checks.join(", ")),
                    "waits for every check"
                )
            )
        } else {
            String::new()
        };
        format!(
            r#"
[[steps]]
id = "approve"
{needs}confirm = "Tag v{{{{ version }}}} of {name}?"

[[steps]]
id = "tag"
tag = {{ name = "v{{{{ version }}}}", message = {tag_message} }}   # push = true pushes it too

# A deploy step names the command that undoes it, for `on_failure = "undo"`:
#
# [[steps]]
# id = "deploy"
# run = "./deploy.sh {{{{ env }}}} v{{{{ version }}}}"
# undo = "./deploy.sh {{{{ env }}}} {{{{ git.previous_tag }}}}"

[rollback]                                # the emergency procedure: `shipbook rollback`
note = "Describe how to undo a release of {name}, and what to check afterwards."
run = {rollback}
"#,
            tag_message = quoted(&format!("{name} {{{{ version }}}}")),
            rollback = quoted(ROLLBACK_PLACEHOLDER),
        )
    }
}

/// The check steps of one kind of project.
fn steps_of(kind: &Kind) -> Vec<StepText> {
    match kind {
        Kind::Rust => vec![
            StepText::argv(
                "cargo-fmt",
                "Formatting",
                &["cargo", "fmt", "--all", "--check"],
            ),
            StepText::argv(
                "cargo-clippy",
                "Lints",
                &[
                    "cargo",
                    "clippy",
                    "--workspace",
                    "--all-targets",
                    "--",
                    "-D",
                    "warnings",
                ],
            ),
            StepText::argv("cargo-test", "Tests", &["cargo", "test", "--workspace"]),
        ],
        Kind::Node { lint, test } => node_steps(*lint, *test),
        Kind::Python => vec![
            StepText::argv("ruff", "Lints", &["ruff", "check", "."]),
            StepText::argv("pytest", "Tests", &["pytest"]),
        ],
        Kind::Go => vec![
            StepText::argv("go-vet", "Vet", &["go", "vet", "./..."]),
            StepText::argv("go-test", "Tests", &["go", "test", "./..."]),
        ],
    }
}

/// The npm scripts package.json defines, or a placeholder to fill in when it defines neither.
fn node_steps(lint: bool, test: bool) -> Vec<StepText> {
    let mut steps = Vec::new();
    if lint {
        steps.push(StepText::argv("npm-lint", "Lints", &["npm", "run", "lint"]));
    }
    if test {
        steps.push(StepText::argv("npm-test", "Tests", &["npm", "test"]));
    }
    if !lint && !test {
        steps.push(StepText {
            id: "npm-checks",
            name: "Lint and tests",
            comment: Some(
                "package.json has no `lint` or `test` script: put the project's checks here.",
            ),
            run: Run::Shell(CHECKS_PLACEHOLDER),
        });
    }
    steps
}

/// One `[[steps]]` table, with its comment above it; `beside` adds `needs = []` (the first
/// of them, with `explain`, says why).
fn step_table(step: &StepText, explain: bool, beside: bool) -> String {
    let mut out = String::new();
    // Writing into a String cannot fail, so the results of `writeln!` are ignored.
    if let Some(comment) = step.comment {
        let _ = writeln!(out, "# {comment}");
    }
    let run = match step.run {
        Run::Argv(argv) => {
            let items: Vec<String> = argv.iter().map(|arg| quoted(arg)).collect();
            format!("[{}]", items.join(", "))
        }
        Run::Shell(script) => quoted(script),
    };
    let _ = writeln!(out, "[[steps]]\nid = {}", quoted(step.id));
    if explain {
        let _ = writeln!(
            out,
            "{}",
            with_comment("needs = []", "starts at once, beside the other checks")
        );
    } else if beside {
        let _ = writeln!(out, "needs = []");
    }
    let _ = writeln!(out, "name = {}\nrun = {run}", quoted(step.name));
    out
}

/// `line` with `# comment` after it, the comments of a runbook starting in one column.
fn with_comment(line: &str, comment: &str) -> String {
    const COMMENT_COLUMN: usize = 42;
    let padding = COMMENT_COLUMN.saturating_sub(line.chars().count()).max(1);
    format!("{line}{}# {comment}", " ".repeat(padding))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(kinds: Vec<Kind>) -> Project {
        Project {
            name: "web".into(),
            version: "1.2.3".into(),
            kinds,
        }
    }

    /// Every kind of project gives a runbook that the loader accepts.
    #[test]
    fn every_written_runbook_loads() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let all_kinds = vec![
            vec![],
            vec![Kind::Rust],
            vec![Kind::Node {
                lint: true,
                test: true,
            }],
            vec![Kind::Node {
                lint: false,
                test: false,
            }],
            vec![Kind::Python],
            vec![Kind::Go],
            vec![
                Kind::Rust,
                Kind::Node {
                    lint: false,
                    test: true,
                },
                Kind::Python,
                Kind::Go,
            ],
        ];
        for kinds in all_kinds {
            let text = project(kinds.clone()).runbook();
            let path = dir.path().join("release.toml");
            std::fs::write(&path, &text).expect("written");
            if let Err(error) = crate::runbook::load(&path) {
                panic!("{kinds:?}: {error:?}\n{text}");
            }
        }
    }

    #[test]
    fn comments_start_in_one_column() {
        assert_eq!(
            with_comment("a = 1", "why"),
            format!("a = 1{}# why", " ".repeat(37))
        );
        assert_eq!(
            with_comment(&"x".repeat(50), "why"),
            format!("{} # why", "x".repeat(50))
        );
    }
}
