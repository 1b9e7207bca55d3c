//! The runbook as the user wrote it: typed, with source spans kept for errors.
//!
//! These types mirror the runbook format of the README key for key. Unknown keys are rejected by serde
//! (`deny_unknown_fields`), and values that a later validation may need to point at are wrapped
//! in `Spanned` so that the error can show `path:line:column`. The types say nothing about any
//! environment or run: turning them into concrete commands is the plan's job.

pub mod graph;
mod load;
mod messages;
pub mod schema;
mod step;
pub mod validate;

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use serde::Deserialize;
use toml::Spanned;

use crate::text::choice::deserialize_as_choice;
use crate::text::names::named_enum;

pub use crate::actions::config::spec::ConfigSpec;
pub use crate::actions::http::spec::HttpSpec;
pub use crate::actions::notify::spec::NotifySpec;
pub use crate::actions::tag::spec::TagSpec;
pub use load::{load, parse};
pub use step::{RawRollback, RawStep, Rollback, Step, StepAction};

/// A loaded, validated runbook together with its source.
#[derive(Debug, Clone)]
pub struct Runbook {
    pub path: PathBuf,
    pub source: String,
    /// SHA-256 of the source, so that a record can tell whether the runbook changed since.
    pub content_hash: String,
    pub header: Header,
    pub vars: BTreeMap<String, Spanned<Scalar>>,
    pub environments: BTreeMap<String, Environment>,
    pub secrets: Secrets,
    pub git: GitRules,
    pub metrics: Vec<Metric>,
    pub steps: Vec<Step>,
    pub rollback: Option<Rollback>,
    /// `[[notify]]`: where to tell the team about a run.
    pub notify: Vec<NotifySpec>,
}

impl Runbook {
    pub fn name(&self) -> &str {
        self.header.name.get_ref()
    }

    /// The directory the runbook's relative paths start from.
    pub fn base_dir(&self) -> PathBuf {
        match self.path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
            _ => PathBuf::from("."),
        }
    }
}

/// The `[runbook]` table: what the runbook is, who owns it, and how its steps run.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Header {
    /// The runbook's name (required): lowercase letters, digits, `_` and `-`. Records, locks and
    /// `shipbook history --runbook` know the runbook by it.
    #[schemars(with = "String", pattern(crate::text::patterns::IDENTIFIER_PATTERN))]
    pub name: Spanned<String>,
    /// What the runbook does, in a sentence.
    #[schemars(with = "Option<String>")]
    pub description: Option<Spanned<String>>,
    /// Who owns the change, such as "payments team"; printed in the change note.
    #[schemars(with = "Option<String>")]
    pub owner: Option<Spanned<String>>,
    /// The expected result of the change, such as "p95 of /admin below 200 ms, error rate
    /// unchanged"; printed in the change note.
    #[schemars(with = "Option<String>")]
    pub expected: Option<Spanned<String>>,
    /// The default reason for the change, printed in the record and the change note; `--reason`
    /// overrides it.
    #[schemars(with = "Option<String>")]
    pub reason: Option<Spanned<String>>,
    /// The working directory of the steps, relative to this file (default: the directory that
    /// holds the runbook).
    pub dir: Option<String>,
    /// How a string command runs: a program and its arguments, to which the command is
    /// appended (default `["sh", "-c"]`).
    #[schemars(with = "Option<Vec<String>>", length(min = 1))]
    pub shell: Option<Spanned<Vec<String>>>,
    /// Run every string command through `shell`. By default a command made only of plain words
    /// (`cargo test --locked`: no quotes, `$`, globs, redirections, pipes, `;`, `&`, `~`,
    /// assignments or shell built-ins) runs directly, as the shell would run it, when `shell`
    /// is a POSIX shell.
    #[serde(default)]
    pub shell_always: bool,
    /// What happens when a step fails after its retries (unless it has `continue_on_error`):
    /// "ask" (the default), "undo", "stop" or "rollback" (the `[rollback]` procedure, at once, in
    /// the same run). `--on-failure` overrides it for one run.
    pub on_failure: Option<OnFailure>,
    /// How many steps may run at once, from 1 to 256 (default: the number of CPUs); `--jobs`
    /// overrides it. Only steps whose `needs` allow it run beside each other; 1 runs them one
    /// after another in file order.
    #[schemars(with = "Option<i64>", range(min = 1, max = 256))]
    pub jobs: Option<Spanned<i64>>,
    /// What happens to the steps still running when a step fails: "wait" (the default) lets
    /// them finish; "cancel" ends them (TERM, then KILL after the grace period). Either way no
    /// new step starts, and then `on_failure` applies.
    pub fail_fast: Option<FailFast>,
    /// A directory, relative to this file, where each change note is also written (they are
    /// always kept in the state directory).
    pub notes_dir: Option<String>,
}

/// How a run is meant: a real release, a rehearsal, or the emergency rollback.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Run,
    Rehearsal,
    Rollback,
}

named_enum!(Mode {
    Run => "run",
    Rehearsal => "rehearsal",
    Rollback => "rollback",
});

/// The kind of a step: its action, or (`Untag`) the built-in undo of a `tag` step. Records,
/// the reporter and the note tell kinds apart by this, never by a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StepKind {
    Run,
    Confirm,
    Config,
    Tag,
    Http,
    Untag,
    Watch,
}

named_enum!(StepKind {
    Run => "run",
    Config => "config",
    Confirm => "confirm",
    Tag => "tag",
    Http => "http",
    Untag => "untag",
    Watch => "watch",
});

/// What to do when a step fails after its retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum OnFailure {
    /// Ask in a terminal whether to undo or stop; stop when there is no terminal.
    Ask,
    /// Run the `undo` of the failed step and of every completed step, newest first.
    Undo,
    /// Stop and leave everything as it is.
    Stop,
    /// Run the `[rollback]` procedure at once, in the same run; the run ends `rolled_back`.
    Rollback,
}

/// What happens to the steps still running beside one that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum FailFast {
    /// They finish; their results are recorded; then the failure policy applies.
    #[default]
    Wait,
    /// They get TERM, then KILL after the grace period, and are recorded as interrupted.
    Cancel,
}

named_enum!(FailFast {
    Wait => "wait",
    Cancel => "cancel",
});
deserialize_as_choice!(FailFast);

named_enum!(OnFailure {
    Ask => "ask",
    Undo => "undo",
    Stop => "stop",
    Rollback => "rollback",
});
deserialize_as_choice!(OnFailure);

/// A plain value of `[vars]`: a string, an integer or a boolean, used as text. A number with a
/// fraction is written as a string (`version = "1.10"`): TOML would read 1.10 as 1.1.
#[derive(Debug, Clone, PartialEq, Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum Scalar {
    String(String),
    Integer(i64),
    // A float is read only so that validation can refuse it with its position and its quoted
    // form, rather than serde refusing it with no word of why.
    #[schemars(skip)]
    Float(f64),
    Boolean(bool),
}

impl fmt::Display for Scalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scalar::String(s) => f.write_str(s),
            Scalar::Integer(i) => write!(f, "{i}"),
            Scalar::Float(x) => write!(f, "{x}"),
            Scalar::Boolean(b) => write!(f, "{b}"),
        }
    }
}

/// One `[environments.NAME]` profile, chosen with `--env NAME`.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Environment {
    /// Values usable as `{{ name }}` in this environment; they override `[vars]`, and
    /// `--var name=value` overrides them.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, Scalar>")]
    pub vars: BTreeMap<String, Spanned<Scalar>>,
    /// Extra process environment for every step (and the rollback) run in this environment.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, String>")]
    pub env: BTreeMap<String, Spanned<String>>,
    /// The environment that must hold a succeeded rehearsal (rollback included) of what the run
    /// will run before `shipbook run` goes ahead here: the same commit from a clean working tree,
    /// the same runbook, every step the run selects, the same `--var` values;
    /// `--skip-rehearsal REASON` overrides it.
    #[schemars(with = "Option<String>")]
    pub requires_rehearsal: Option<Spanned<String>>,
}

/// The `[secrets]` table: environment variables that hold secrets.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Secrets {
    /// Names of environment variables that must be set before anything runs; their values are
    /// masked in logs, records and notes.
    #[serde(default)]
    #[schemars(
        with = "Vec<String>",
        inner(pattern(crate::text::patterns::ENV_NAME_PATTERN))
    )]
    pub env: Vec<Spanned<String>>,
}

/// The `[git]` preconditions, checked before the first step.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GitRules {
    /// Refuse to start with uncommitted changes (shipbook's own state directory is ignored).
    #[serde(default)]
    pub require_clean: bool,
    /// Refuse to start on any branch but this one.
    pub branch: Option<String>,
}

/// Which direction of a metric is an improvement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Better {
    /// Lower values are better, as for a latency.
    Lower,
    /// Higher values are better, as for a throughput.
    Higher,
}

named_enum!(Better {
    Lower => "lower",
    Higher => "higher",
});
deserialize_as_choice!(Better);

/// One `[[metrics]]` entry: a number sampled before the first step and after the last.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Metric {
    /// The metric's name, unique in the runbook, such as "admin_p95_ms".
    #[schemars(with = "String")]
    pub name: Spanned<String>,
    /// The command that prints the metric's value, a number, on stdout.
    #[schemars(with = "Command")]
    pub command: Spanned<Command>,
    /// Which direction is an improvement: "lower" or "higher".
    pub better: Better,
    /// A guard: the run fails when the metric gets worse than this, a percentage such as "10%".
    #[schemars(with = "Option<String>")]
    pub max_regression: Option<Spanned<String>>,
    /// How long the command may take, such as "30s" (default: no limit).
    #[schemars(
        with = "Option<String>",
        length(min = 1),
        pattern(crate::text::patterns::DURATION_PATTERN)
    )]
    pub timeout: Option<Spanned<String>>,
}

/// A command: a string runs through the runbook's shell, an array runs directly.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum Command {
    /// A command line, run through the runbook's `shell`.
    Shell(String),
    /// A program and its arguments, run directly without a shell.
    Argv(#[schemars(length(min = 1))] Vec<String>),
}

impl Command {
    pub fn strings(&self) -> Vec<&str> {
        match self {
            Command::Shell(script) => vec![script.as_str()],
            Command::Argv(argv) => argv.iter().map(String::as_str).collect(),
        }
    }
}

/// `rehearsal = "run" | "skip"`: what `shipbook rehearse` does with a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RehearsalChoice {
    /// The rehearsal runs the step (the default).
    Run,
    /// The rehearsal skips the step, for one that must never run outside a real release.
    Skip,
}

named_enum!(RehearsalChoice {
    Run => "run",
    Skip => "skip",
});
deserialize_as_choice!(RehearsalChoice);

/// Where a built-in variable's value comes from, or `None` for a name that is not built in.
/// Built-in variables are never set by a runbook or `--var`: `env` set by hand would render
/// production commands without the production profile and its checks.
pub fn builtin_variable_source(name: &str) -> Option<&'static str> {
    Some(match name {
        "env" => "the environment chosen with --env",
        "runbook.name" => "the runbook's name",
        "run.id" => "the run's id",
        "date" => "the date of the run",
        "git.sha" | "git.short_sha" | "git.branch" | "git.previous_tag" => {
            "read from the git repository"
        }
        _ if name.starts_with("secrets.") => "the secret's environment variable ([secrets] env)",
        _ => return None,
    })
}

/// The variables every runbook has without defining them.
pub const BUILTIN_VARIABLES: [&str; 8] = [
    "env",
    "runbook.name",
    "run.id",
    "date",
    "git.sha",
    "git.short_sha",
    "git.branch",
    "git.previous_tag",
];

#[cfg(test)]
mod names_tests {
    use super::*;
    use crate::text::names::assert_serde_names;

    #[test]
    fn every_word_is_the_one_serde_writes() {
        assert_serde_names(Mode::ALL);
        assert_serde_names(StepKind::ALL);
        assert_serde_names(OnFailure::ALL);
        assert_serde_names(Better::ALL);
        assert_serde_names(RehearsalChoice::ALL);
    }
}
