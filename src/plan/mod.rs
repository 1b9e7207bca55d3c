//! A runbook made concrete for one environment, one mode and one set of variables.
//!
//! The plan is what will run: every command rendered, every duration parsed, every directory
//! resolved, and for each step whether it is skipped and why. `shipbook plan` prints it;
//! `run` hands it to the engine. Nothing in a plan is re-read from the runbook afterwards, so
//! what the plan shows is what runs.

mod build;
mod render;
mod select;
mod shell;
pub mod variables;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

use crate::actions::config::spec::PlannedConfig;
use crate::actions::http::spec::PlannedHttp;
use crate::actions::notify::spec::PlannedNotify;
use crate::actions::tag::spec::PlannedTag;
use crate::actions::watch::spec::PlannedWatch;
use crate::runbook::{Better, FailFast, Mode, OnFailure, RehearsalChoice, StepKind};
use crate::store::record::TagRecord;
use crate::sys::git::GitFacts;
use crate::text::duration::{serialize_millis, serialize_optional_millis};

pub use crate::mask::Secret;
pub use render::{clean_path, shell_quote};
pub use shell::Shell;

/// A command ready to spawn.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResolvedCommand {
    /// The program and its arguments (for a string command: the shell, its flags, the script).
    pub argv: Vec<String>,
    /// The command as the user wrote it, rendered: the script, or the arguments joined.
    pub display: String,
    /// For a string command of plain words, run without the shell: how the shell would have
    /// run it. The runner falls back to it for what only the shell can do (a script without a
    /// `#!` line) and words its failures as that shell would.
    #[serde(skip)]
    pub shell_argv: Option<Vec<String>>,
}

/// What a planned step does: ask a person, or do work that is attempted, retried and logged.
/// The two are apart because the engine treats them apart: a question is never retried and
/// writes no log, and work never waits for a person.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Action {
    Confirm(Confirmation),
    Work(Work),
    /// Samples a check for a while; each sample is recorded as it is taken.
    Watch(Watching),
}

/// A `watch` step as it runs: the watch, and for a check that is work (a command, a URL), the
/// work one sample performs.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename = "watch")]
pub struct Watching {
    #[serde(flatten)]
    pub watch: PlannedWatch,
    /// The work of one sample, when the check is not a metric.
    #[serde(skip)]
    pub sample: Option<Work>,
}

/// A `confirm` step's question, rendered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename = "confirm")]
pub struct Confirmation {
    pub prompt: String,
    /// Who may approve it (`approvers`); empty when anyone at the terminal may.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub approvers: Vec<String>,
}

/// Work a step does, in the resolved form its action runs.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Work {
    Run {
        command: ResolvedCommand,
    },
    Config(PlannedConfig),
    Tag(PlannedTag),
    Http(PlannedHttp),
    /// The built-in undo of a `tag` step: delete the tag it created.
    Untag {
        tag: TagRecord,
    },
}

impl Action {
    pub fn kind(&self) -> StepKind {
        match self {
            Action::Confirm(_) => StepKind::Confirm,
            Action::Work(work) => work.kind(),
            Action::Watch(_) => StepKind::Watch,
        }
    }

    /// One line saying what the step does, for the plan, the record and the note.
    pub fn describe(&self) -> String {
        match self {
            Action::Confirm(confirmation) => format!("confirm: {}", confirmation.prompt),
            Action::Work(work) => work.describe(),
            Action::Watch(watching) => watching.watch.describe(),
        }
    }
}

impl Work {
    pub fn kind(&self) -> StepKind {
        match self {
            Work::Run { .. } => StepKind::Run,
            Work::Config(_) => StepKind::Config,
            Work::Tag(_) => StepKind::Tag,
            Work::Http(_) => StepKind::Http,
            Work::Untag { .. } => StepKind::Untag,
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Work::Run { command } => command.display.clone(),
            Work::Config(config) => config.describe(),
            Work::Tag(tag) => tag.describe(),
            Work::Http(http) => http.describe(),
            Work::Untag { tag } => match &tag.pushed {
                Some(remote) => format!("delete tag {} here and on {remote}", tag.name),
                None => format!("delete tag {}", tag.name),
            },
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct PlannedStep {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    #[serde(flatten)]
    pub action: Action,
    /// Extra process environment: the environment's `env`, then the step's.
    pub env: BTreeMap<String, String>,
    pub dir: PathBuf,
    #[serde(rename = "timeout_ms", serialize_with = "serialize_optional_millis")]
    pub timeout: Option<Duration>,
    pub retries: u32,
    #[serde(rename = "retry_delay_ms", serialize_with = "serialize_millis")]
    pub retry_delay: Duration,
    pub undo: Option<ResolvedCommand>,
    /// Why the step will not run, when it will not.
    pub skip: Option<String>,
    pub continue_on_error: bool,
    pub idempotent: bool,
    pub rehearsal: RehearsalChoice,
    /// The ids of the steps it waits for: its `needs`, or the step before it in the file.
    pub needs: Vec<String>,
}

impl PlannedStep {
    /// A step that runs `action` once, in `dir`, with none of the optional keys: the shape of
    /// a `[rollback] run = "…"` and of the confirmation before a rollback.
    pub fn simple(id: &str, name: &str, action: Action, dir: PathBuf) -> PlannedStep {
        PlannedStep {
            id: id.into(),
            name: name.into(),
            description: None,
            action,
            env: BTreeMap::new(),
            dir,
            timeout: None,
            retries: 0,
            retry_delay: Duration::from_secs(1),
            undo: None,
            skip: None,
            continue_on_error: false,
            idempotent: true,
            rehearsal: RehearsalChoice::Run,
            needs: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct PlannedMetric {
    pub name: String,
    pub command: ResolvedCommand,
    pub better: Better,
    /// The largest regression allowed, in percent.
    pub max_regression: Option<f64>,
    #[serde(rename = "timeout_ms", serialize_with = "serialize_optional_millis")]
    pub timeout: Option<Duration>,
    pub dir: PathBuf,
}

#[derive(Debug, Clone, Serialize)]
pub struct PlannedRollback {
    pub note: Option<String>,
    pub steps: Vec<PlannedStep>,
}

impl PlannedRollback {
    /// The rollback as one copy-pasteable text: each command on its own line.
    pub fn commands(&self) -> String {
        self.steps
            .iter()
            .map(|step| step.action.describe())
            .collect::<Vec<_>>()
            .join("\n")
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub runbook: String,
    pub runbook_path: PathBuf,
    pub content_hash: String,
    pub env: Option<String>,
    pub mode: Mode,
    pub description: Option<String>,
    pub owner: Option<String>,
    pub expected: Option<String>,
    pub reason: Option<String>,
    pub on_failure: OnFailure,
    /// How many steps may run at once: `--jobs`, else `[runbook] jobs`, else the CPUs.
    pub jobs: usize,
    /// What happens to the steps running beside one that failed.
    pub fail_fast: FailFast,
    pub notes_dir: Option<PathBuf>,
    pub variables: BTreeMap<String, String>,
    /// The environment's `env`: extra process environment for every command.
    pub process_env: BTreeMap<String, String>,
    /// The environment a successful rehearsal must have been run in (`requires_rehearsal`).
    pub requires_rehearsal: Option<String>,
    pub steps: Vec<PlannedStep>,
    pub metrics: Vec<PlannedMetric>,
    pub rollback: Option<PlannedRollback>,
    /// Where to tell the team about the run.
    pub notify: Vec<Notification>,
    #[serde(skip)]
    pub secrets: Vec<Secret>,
    #[serde(skip)]
    pub git: GitFacts,
}

/// A `[[notify]]` table, ready to send: for a `run` command, the program and its arguments
/// (the runbook's shell and the script) and the directory it runs in.
#[derive(Debug, Clone, Serialize)]
pub struct Notification {
    #[serde(flatten)]
    pub planned: PlannedNotify,
    #[serde(skip)]
    pub argv: Vec<String>,
    #[serde(skip)]
    pub dir: PathBuf,
}

/// Which environment, which variables and which steps: what the command line chose, kept in
/// the record so that `resume` plans the run the same way again.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    pub env: Option<String>,
    /// `--var NAME=VALUE` arguments, as given.
    pub vars: Vec<String>,
    pub only: Vec<String>,
    pub from: Option<String>,
    /// `--jobs N`: how many steps may run at once, over the runbook's `jobs`.
    pub jobs: Option<usize>,
}

/// What the command line says about the plan to build.
#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    pub env: Option<String>,
    pub overrides: Vec<(String, String)>,
    pub reason: Option<String>,
    pub only: Vec<String>,
    pub from: Option<String>,
    pub run_id: String,
    pub date: String,
    /// Whether secrets must be set (a run) or may be missing (a plan printed for reading).
    pub require_secrets: bool,
    /// `--jobs N`: how many steps may run at once, over the runbook's `jobs`.
    pub jobs: Option<usize>,
}

impl Plan {
    /// Whether any step of the run waits for something other than the step before it, so that
    /// steps may run beside each other; a plan that is a chain runs one step after another.
    pub fn is_chain(&self) -> bool {
        self.steps.iter().enumerate().all(|(index, step)| {
            let previous = index.checked_sub(1).map(|i| self.steps[i].id.as_str());
            step.needs.iter().map(String::as_str).eq(previous)
        })
    }
}

/// Every step of `steps` waits for the one before it.
pub fn chain(steps: &mut [PlannedStep]) {
    let mut previous: Option<String> = None;
    for step in steps {
        step.needs = previous.iter().cloned().collect();
        previous = Some(step.id.clone());
    }
}
