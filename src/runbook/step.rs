//! A step as the runbook writes it, and as the rest of shipbook sees it.
//!
//! In the file, a step is a table with one action key among several optional ones (`run`,
//! `config`, `confirm`, `tag`, `http`). That raw form is what serde reads and what the JSON
//! Schema describes, so that the TOML and its located errors stay as users know them. Everything
//! after loading sees `Step`, whose `action` is one `StepAction` variant: a step kind is one
//! variant here and one folder under `actions/`, and no code asks which of five options is set.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use super::{Command, RehearsalChoice, StepKind};
use crate::actions::config::spec::ConfigSpec;
use crate::actions::http::spec::HttpSpec;
use crate::actions::tag::spec::TagSpec;
use crate::actions::watch::spec::WatchSpec;
use crate::text::diagnostic::Diagnostic;

/// One `[[steps]]` entry (also the shape of `[[rollback.steps]]`). Every step has exactly one
/// action: `run`, `config`, `confirm`, `tag` or `http`.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Step")]
#[schemars(extend("oneOf" = [
    { "required": ["run"] },
    { "required": ["config"] },
    { "required": ["confirm"] },
    { "required": ["tag"] },
    { "required": ["http"] },
    { "required": ["watch"] },
]))]
pub struct RawStep {
    /// The step's id (required), unique in the runbook: lowercase letters, digits, `_` and `-`.
    /// `--only` and `--from` name steps by it.
    #[schemars(with = "String", pattern(crate::text::patterns::IDENTIFIER_PATTERN))]
    pub id: Spanned<String>,
    /// A display name (default: the id).
    #[schemars(with = "Option<String>")]
    pub name: Option<Spanned<String>>,
    /// What the step is for, in a sentence; shown in the plan and the change note.
    #[schemars(with = "Option<String>")]
    pub description: Option<Spanned<String>>,

    /// Action: run a command, which passes when it exits with status 0. A string runs through
    /// the runbook's `shell`, an array runs directly.
    #[schemars(with = "Option<Command>")]
    pub run: Option<Spanned<Command>>,
    /// Action: check a configuration file (TOML, JSON, YAML or `.env`, by its name) against a
    /// reference file.
    #[schemars(with = "Option<ConfigSpec>")]
    pub config: Option<Spanned<ConfigSpec>>,
    /// Action: ask a person this yes/no question, and record who answered and when. `--yes`
    /// answers yes.
    #[schemars(with = "Option<String>")]
    pub confirm: Option<Spanned<String>>,
    /// Action: create an annotated git tag at HEAD (and push it when `push = true`). An
    /// existing tag at HEAD passes; one at another commit fails.
    #[schemars(with = "Option<TagSpec>")]
    pub tag: Option<Spanned<TagSpec>>,
    /// Action: poll a URL until it answers with the expected status (and body).
    #[schemars(with = "Option<HttpSpec>")]
    pub http: Option<Spanned<HttpSpec>>,
    /// Action: sample a check (a metric against its value before the first step, a URL, or a
    /// command) every `every` for `for`, failing as soon as `failures` samples have failed.
    #[schemars(with = "Option<WatchSpec>")]
    pub watch: Option<Spanned<WatchSpec>>,

    /// How long one attempt of the step's commands (`run`, `undo`, a tag's `git push`) may take,
    /// such as "10m" (default: no limit). On timeout the command's whole process group is ended.
    /// A step with no command (`config`, `http`, `confirm` without `undo`) may not set it.
    #[schemars(
        with = "Option<String>",
        length(min = 1),
        pattern(crate::text::patterns::DURATION_PATTERN)
    )]
    pub timeout: Option<Spanned<String>>,
    /// How many times to try again after a failed first attempt, from 0 (the default) to 100.
    #[schemars(with = "Option<i64>", range(min = 0, max = 100))]
    pub retries: Option<Spanned<i64>>,
    /// The wait before the first retry, doubled after each attempt (default "1s").
    #[schemars(
        with = "Option<String>",
        length(min = 1),
        pattern(crate::text::patterns::DURATION_PATTERN)
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
    /// On a `confirm` step: the people who may approve it. The answer is recorded as theirs:
    /// the operator's user name when it is listed, or `--approver NAME`, checked against it.
    #[schemars(with = "Option<Vec<String>>", length(min = 1))]
    pub approvers: Option<Spanned<Vec<Spanned<String>>>>,
    /// The ids of the steps this step waits for: it starts once each of them has succeeded (or
    /// was skipped). Without it, a step waits for the step before it in the file; `needs = []`
    /// lets it start at once, beside other steps, up to `[runbook] jobs` at a time.
    #[schemars(with = "Option<Vec<String>>")]
    pub needs: Option<Spanned<Vec<Spanned<String>>>>,
}

/// The `[rollback]` table: the emergency procedure that `shipbook rollback` runs, and that
/// `shipbook rehearse` exercises. It has either `run` or `[[rollback.steps]]`.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Rollback")]
#[schemars(extend("anyOf" = [
    { "required": ["run"], "properties": { "steps": { "maxItems": 0 } } },
    { "not": { "required": ["run"] }, "required": ["steps"], "properties": { "steps": { "minItems": 1 } } },
]))]
pub struct RawRollback {
    /// What the next engineer should know about rolling back, such as "migrations are backward
    /// compatible"; printed in the change note.
    #[schemars(with = "Option<String>")]
    pub note: Option<Spanned<String>>,
    /// The rollback command, such as "./deploy.sh {{ env }} {{ git.previous_tag }}".
    #[schemars(with = "Option<Command>")]
    pub run: Option<Spanned<Command>>,
    /// The rollback as several steps, of the same shape as `[[steps]]` (instead of `run`).
    #[serde(default)]
    pub steps: Vec<RawStep>,
}

/// What a step does: exactly one action.
#[derive(Debug, Clone)]
pub enum StepAction {
    /// Run a command; it passes when it exits with status 0.
    Run(Spanned<Command>),
    /// Ask a person a yes/no question.
    Confirm(Spanned<String>),
    /// Check a configuration file against a reference.
    Config(Spanned<ConfigSpec>),
    /// Create an annotated git tag at HEAD.
    Tag(Spanned<TagSpec>),
    /// Poll a URL until it answers.
    Http(Spanned<HttpSpec>),
    /// Sample a check for a while (boxed: its spec is the largest by far).
    Watch(Box<Spanned<WatchSpec>>),
}

impl StepAction {
    pub fn kind(&self) -> StepKind {
        match self {
            StepAction::Run(_) => StepKind::Run,
            StepAction::Confirm(_) => StepKind::Confirm,
            StepAction::Config(_) => StepKind::Config,
            StepAction::Tag(_) => StepKind::Tag,
            StepAction::Http(_) => StepKind::Http,
            StepAction::Watch(_) => StepKind::Watch,
        }
    }
}

/// One step, with exactly one action. The common keys mean what `RawStep` documents.
#[derive(Debug, Clone)]
pub struct Step {
    pub id: Spanned<String>,
    pub name: Option<Spanned<String>>,
    pub description: Option<Spanned<String>>,
    pub action: StepAction,
    pub timeout: Option<Spanned<String>>,
    pub retries: Option<Spanned<i64>>,
    pub retry_delay: Option<Spanned<String>>,
    pub env: BTreeMap<String, Spanned<String>>,
    pub dir: Option<String>,
    pub undo: Option<Spanned<Command>>,
    pub only: Option<Vec<Spanned<String>>>,
    pub continue_on_error: bool,
    pub rehearsal: Option<RehearsalChoice>,
    pub idempotent: Option<bool>,
    pub approvers: Option<Spanned<Vec<Spanned<String>>>>,
    pub needs: Option<Spanned<Vec<Spanned<String>>>>,
}

impl Step {
    pub fn id(&self) -> &str {
        self.id.get_ref()
    }
}

/// The `[rollback]` procedure, its steps checked like `[[steps]]`.
#[derive(Debug, Clone)]
pub struct Rollback {
    pub note: Option<Spanned<String>>,
    pub run: Option<Spanned<Command>>,
    pub steps: Vec<Step>,
}

impl RawStep {
    /// The step with its one action, or the diagnostic that says why it has none or several.
    pub fn into_step(self, path: &Path) -> Result<Step, Box<Diagnostic>> {
        let mut actions: Vec<StepAction> = [
            self.run.map(StepAction::Run),
            self.config.map(StepAction::Config),
            self.confirm.map(StepAction::Confirm),
            self.tag.map(StepAction::Tag),
            self.http.map(StepAction::Http),
            self.watch.map(|watch| StepAction::Watch(Box::new(watch))),
        ]
        .into_iter()
        .flatten()
        .collect();
        if actions.len() != 1 {
            let keys: Vec<&str> = actions.iter().map(|a| a.kind().as_str()).collect();
            let error = action_count_error(path, self.id.get_ref(), self.id.span(), &keys);
            return Err(Box::new(error));
        }
        let action = actions.remove(0);
        Ok(Step {
            id: self.id,
            name: self.name,
            description: self.description,
            action,
            timeout: self.timeout,
            retries: self.retries,
            retry_delay: self.retry_delay,
            env: self.env,
            dir: self.dir,
            undo: self.undo,
            only: self.only,
            continue_on_error: self.continue_on_error,
            rehearsal: self.rehearsal,
            idempotent: self.idempotent,
            approvers: self.approvers,
            needs: self.needs,
        })
    }
}

/// The action keys a step may have: every kind but the built-in undo of a tag.
fn action_keys() -> Vec<&'static str> {
    StepKind::ALL
        .iter()
        .filter(|kind| **kind != StepKind::Untag)
        .map(|kind| kind.as_str())
        .collect()
}

/// The error of a step with no action or several, at the step's id.
fn action_count_error(path: &Path, id: &str, span: Range<usize>, keys: &[&str]) -> Diagnostic {
    let quoted = |keys: &[&str]| {
        keys.iter()
            .map(|key| format!("`{key}`"))
            .collect::<Vec<_>>()
    };
    if keys.is_empty() {
        Diagnostic::new(path, Some(span), format!("step `{id}` has no action")).expected(format!(
            "exactly one of {}",
            quoted(&action_keys()).join(", ")
        ))
    } else {
        Diagnostic::new(
            path,
            Some(span),
            format!(
                "step `{id}` has {} actions: {}",
                keys.len(),
                quoted(keys).join(" and ")
            ),
        )
        .expected("exactly one action per step; split it into several steps")
    }
}

impl RawRollback {
    /// The rollback with its steps checked for one action each; a step that has none or
    /// several is left out, its diagnostic pushed.
    pub fn into_rollback(self, path: &Path, diagnostics: &mut Vec<Diagnostic>) -> Rollback {
        Rollback {
            note: self.note,
            run: self.run,
            steps: into_steps(self.steps, path, diagnostics),
        }
    }
}

/// Steps with one action each; the others are left out, their diagnostics pushed.
pub fn into_steps(raw: Vec<RawStep>, path: &Path, diagnostics: &mut Vec<Diagnostic>) -> Vec<Step> {
    raw.into_iter()
        .filter_map(|step| step.into_step(path).map_err(|d| diagnostics.push(*d)).ok())
        .collect()
}
