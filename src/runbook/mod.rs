//! The runbook as the user wrote it: typed, with source spans kept for errors.
//!
//! These types mirror DESIGN.md section 1 key for key. Unknown keys are rejected by serde
//! (`deny_unknown_fields`), and values that a later validation may need to point at are wrapped
//! in `Spanned` so that the error can show `path:line:column`. The types say nothing about any
//! environment or run: turning them into concrete commands is the plan's job.

mod load;
mod validate;

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use serde::Deserialize;
use toml::Spanned;

pub use load::load;

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
    #[schemars(with = "String", pattern(crate::commands::schema::IDENTIFIER_PATTERN))]
    pub name: Spanned<String>,
    /// What the runbook does, in a sentence.
    pub description: Option<String>,
    /// Who owns the change, such as "payments team"; printed in the change note.
    pub owner: Option<String>,
    /// The expected result of the change, such as "p95 of /admin below 200 ms, error rate
    /// unchanged"; printed in the change note.
    pub expected: Option<String>,
    /// The default reason for the change, printed in the record and the change note; `--reason`
    /// overrides it.
    pub reason: Option<String>,
    /// The working directory of the steps, relative to this file (default: the directory that
    /// holds the runbook).
    pub dir: Option<String>,
    /// How a string command runs: a program and its arguments, to which the command is
    /// appended (default `["sh", "-c"]`).
    #[schemars(with = "Option<Vec<String>>", length(min = 1))]
    pub shell: Option<Spanned<Vec<String>>>,
    /// What happens when a step fails after its retries (unless it has `continue_on_error`):
    /// "ask" (the default), "undo" or "stop". `--on-failure` overrides it for one run.
    pub on_failure: Option<OnFailure>,
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

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Run => "run",
            Mode::Rehearsal => "rehearsal",
            Mode::Rollback => "rollback",
        }
    }

    pub fn parse(text: &str) -> Option<Mode> {
        [Mode::Run, Mode::Rehearsal, Mode::Rollback]
            .into_iter()
            .find(|mode| mode.as_str() == text)
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `pad`, so that a column width (the table of `shipbook history`) applies.
        f.pad(self.as_str())
    }
}

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
}

impl StepKind {
    pub const ALL: [StepKind; 6] = [
        StepKind::Run,
        StepKind::Confirm,
        StepKind::Config,
        StepKind::Tag,
        StepKind::Http,
        StepKind::Untag,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            StepKind::Run => "run",
            StepKind::Confirm => "confirm",
            StepKind::Config => "config",
            StepKind::Tag => "tag",
            StepKind::Http => "http",
            StepKind::Untag => "untag",
        }
    }

    pub fn parse(text: &str) -> Option<StepKind> {
        StepKind::ALL.into_iter().find(|kind| kind.as_str() == text)
    }
}

impl fmt::Display for StepKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// What to do when a step fails after its retries.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum OnFailure {
    /// Ask in a terminal whether to undo or stop; stop when there is no terminal.
    Ask,
    /// Run the `undo` of the failed step and of every completed step, newest first.
    Undo,
    /// Stop and leave everything as it is.
    Stop,
}

impl OnFailure {
    pub fn parse(text: &str) -> Option<OnFailure> {
        [OnFailure::Ask, OnFailure::Undo, OnFailure::Stop]
            .into_iter()
            .find(|policy| policy.to_string() == text)
    }
}

impl fmt::Display for OnFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            OnFailure::Ask => "ask",
            OnFailure::Undo => "undo",
            OnFailure::Stop => "stop",
        })
    }
}

/// A plain value of `[vars]`: strings, numbers and booleans are all accepted and used as text.
#[derive(Debug, Clone, PartialEq, Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum Scalar {
    String(String),
    Integer(i64),
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
    /// The environment that must hold a succeeded rehearsal of the same commit and runbook
    /// (rollback included) before `shipbook run` goes ahead here; `--skip-rehearsal REASON`
    /// overrides it.
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
        inner(pattern(crate::commands::schema::ENV_NAME_PATTERN))
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
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Better {
    /// Lower values are better, as for a latency.
    Lower,
    /// Higher values are better, as for a throughput.
    Higher,
}

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
        pattern(crate::commands::schema::DURATION_PATTERN)
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
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum RehearsalChoice {
    /// The rehearsal runs the step (the default).
    Run,
    /// The rehearsal skips the step, for one that must never run outside a real release.
    Skip,
}

/// One `[[steps]]` entry (also the shape of `[[rollback.steps]]`). Every step has exactly one
/// action: `run`, `config`, `confirm`, `tag` or `http`.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("oneOf" = [
    { "required": ["run"] },
    { "required": ["config"] },
    { "required": ["confirm"] },
    { "required": ["tag"] },
    { "required": ["http"] },
]))]
pub struct Step {
    /// The step's id (required), unique in the runbook: lowercase letters, digits, `_` and `-`.
    /// `--only` and `--from` name steps by it.
    #[schemars(with = "String", pattern(crate::commands::schema::IDENTIFIER_PATTERN))]
    pub id: Spanned<String>,
    /// A display name (default: the id).
    pub name: Option<String>,
    /// What the step is for, in a sentence; shown in the plan and the change note.
    pub description: Option<String>,

    /// Action: run a command, which passes when it exits with status 0. A string runs through
    /// the runbook's `shell`, an array runs directly.
    #[schemars(with = "Option<Command>")]
    pub run: Option<Spanned<Command>>,
    /// Action: check a configuration file (TOML, JSON or `.env`, by extension) against a
    /// reference file.
    #[schemars(with = "Option<ConfigCheck>")]
    pub config: Option<Spanned<ConfigCheck>>,
    /// Action: ask a person this yes/no question, and record who answered and when. `--yes`
    /// answers yes.
    #[schemars(with = "Option<String>")]
    pub confirm: Option<Spanned<String>>,
    /// Action: create an annotated git tag at HEAD (and push it when `push = true`). An
    /// existing tag at HEAD passes; one at another commit fails.
    #[schemars(with = "Option<TagSpec>")]
    pub tag: Option<Spanned<TagSpec>>,
    /// Action: poll a URL until it answers with the expected status (and body).
    #[schemars(with = "Option<HttpCheck>")]
    pub http: Option<Spanned<HttpCheck>>,

    /// How long one attempt may take, such as "10m" (default: no limit). On timeout the step's
    /// whole process group is ended.
    #[schemars(
        with = "Option<String>",
        length(min = 1),
        pattern(crate::commands::schema::DURATION_PATTERN)
    )]
    pub timeout: Option<Spanned<String>>,
    /// How many times to try again after a failed first attempt, from 0 (the default) to 100.
    #[schemars(with = "Option<i64>", range(min = 0, max = 100))]
    pub retries: Option<Spanned<i64>>,
    /// The wait before the first retry, doubled after each attempt (default "1s").
    #[schemars(
        with = "Option<String>",
        length(min = 1),
        pattern(crate::commands::schema::DURATION_PATTERN)
    )]
    pub retry_delay: Option<Spanned<String>>,
    /// Extra process environment for this step, on top of the environment profile's `env`.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, String>")]
    pub env: BTreeMap<String, Spanned<String>>,
    /// The step's working directory, relative to the runbook's `dir`.
    pub dir: Option<String>,
    /// The command that undoes this step. When a step fails and the failure is undone
    /// (`on_failure = "undo"`), the undo of the failed step and of every completed step run,
    /// newest first.
    #[schemars(with = "Option<Command>")]
    pub undo: Option<Spanned<Command>>,
    /// The environments where the step runs; in every other environment, and without `--env`,
    /// it is skipped.
    #[schemars(with = "Option<Vec<String>>")]
    pub only: Option<Vec<Spanned<String>>>,
    /// When the step finally fails, go on with the next step; the run still succeeds, and names
    /// the failed step.
    #[serde(default)]
    pub continue_on_error: bool,
    /// What `shipbook rehearse` does with the step: "run" (the default) or "skip".
    pub rehearsal: Option<RehearsalChoice>,
    /// Whether a resumed run may run this step again (default true).
    pub idempotent: Option<bool>,
}

/// The `config` action: check a configuration file against a reference.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfigCheck {
    /// The file to check, relative to the step's directory; TOML, JSON or `.env`, by extension.
    pub file: String,
    /// The reference file: both files must have the same set of keys, except those matching
    /// `ignore`.
    pub against: String,
    /// Dotted key patterns that must be present and not empty in `file`, such as
    /// "database.url". In a pattern `*` matches one segment and `**` any number, and a pattern
    /// that names a table covers every key inside it.
    #[serde(default)]
    pub require: Vec<String>,
    /// Dotted key patterns whose values must be equal in both files, such as "cache.*".
    #[serde(default)]
    pub same: Vec<String>,
    /// Dotted key patterns left out of the comparison of the two files' keys, such as
    /// "debug.*".
    #[serde(default)]
    pub ignore: Vec<String>,
}

/// The `tag` action: an annotated git tag at HEAD.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TagSpec {
    /// The tag's name, such as "v{{ version }}".
    pub name: String,
    /// The tag's message (default: its name).
    pub message: Option<String>,
    /// Also push the tag to `remote`; undoing the step deletes the pushed tag too.
    #[serde(default)]
    pub push: bool,
    /// The remote to push the tag to (default "origin").
    pub remote: Option<String>,
}

/// The `http` action: poll a URL until it answers as expected.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HttpCheck {
    /// The URL to poll, such as "{{ url }}/health".
    pub url: String,
    /// The HTTP status to wait for (default 200).
    pub status: Option<u16>,
    /// Text the body must contain as well.
    pub contains: Option<String>,
    /// How long to keep polling before the step fails (default "60s").
    #[schemars(
        with = "Option<String>",
        length(min = 1),
        pattern(crate::commands::schema::DURATION_PATTERN)
    )]
    pub timeout: Option<Spanned<String>>,
    /// The wait between two polls (default "2s").
    #[schemars(
        with = "Option<String>",
        length(min = 1),
        pattern(crate::commands::schema::DURATION_PATTERN)
    )]
    pub interval: Option<Spanned<String>>,
}

/// The `[rollback]` table: the emergency procedure that `shipbook rollback` runs, and that
/// `shipbook rehearse` exercises. It has either `run` or `[[rollback.steps]]`.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("anyOf" = [
    { "required": ["run"], "properties": { "steps": { "maxItems": 0 } } },
    { "not": { "required": ["run"] }, "required": ["steps"], "properties": { "steps": { "minItems": 1 } } },
]))]
pub struct Rollback {
    /// What the next engineer should know about rolling back, such as "migrations are backward
    /// compatible"; printed in the change note.
    pub note: Option<String>,
    /// The rollback command, such as "./deploy.sh {{ env }} {{ git.previous_tag }}".
    #[schemars(with = "Option<Command>")]
    pub run: Option<Spanned<Command>>,
    /// The rollback as several steps, of the same shape as `[[steps]]` (instead of `run`).
    #[serde(default)]
    pub steps: Vec<Step>,
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

/// The action keys of a step, in the order the design lists them.
pub const ACTION_KEYS: [&str; 5] = ["run", "config", "confirm", "tag", "http"];

impl Step {
    pub fn id(&self) -> &str {
        self.id.get_ref()
    }

    /// The action keys this step sets (exactly one for a valid step).
    pub fn action_keys(&self) -> Vec<&'static str> {
        let present = [
            self.run.is_some(),
            self.config.is_some(),
            self.confirm.is_some(),
            self.tag.is_some(),
            self.http.is_some(),
        ];
        ACTION_KEYS
            .iter()
            .zip(present)
            .filter_map(|(key, set)| set.then_some(*key))
            .collect()
    }
}
