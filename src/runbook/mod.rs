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

/// The `[runbook]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    pub name: Spanned<String>,
    pub description: Option<String>,
    pub owner: Option<String>,
    pub expected: Option<String>,
    pub reason: Option<String>,
    pub dir: Option<String>,
    pub shell: Option<Spanned<Vec<String>>>,
    pub on_failure: Option<OnFailure>,
    pub notes_dir: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OnFailure {
    Ask,
    Undo,
    Stop,
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
#[derive(Debug, Clone, PartialEq, Deserialize)]
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

/// One `[environments.NAME]` profile.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Environment {
    #[serde(default)]
    pub vars: BTreeMap<String, Spanned<Scalar>>,
    #[serde(default)]
    pub env: BTreeMap<String, Spanned<String>>,
    pub requires_rehearsal: Option<Spanned<String>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Secrets {
    #[serde(default)]
    pub env: Vec<Spanned<String>>,
}

/// The `[git]` preconditions.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GitRules {
    #[serde(default)]
    pub require_clean: bool,
    pub branch: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Better {
    Lower,
    Higher,
}

/// One `[[metrics]]` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Metric {
    pub name: Spanned<String>,
    pub command: Spanned<Command>,
    pub better: Better,
    pub max_regression: Option<Spanned<String>>,
    pub timeout: Option<Spanned<String>>,
}

/// A command: a string runs through the runbook's shell, an array runs directly.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum Command {
    Shell(String),
    Argv(Vec<String>),
}

impl Command {
    pub fn strings(&self) -> Vec<&str> {
        match self {
            Command::Shell(script) => vec![script.as_str()],
            Command::Argv(argv) => argv.iter().map(String::as_str).collect(),
        }
    }
}

/// `rehearsal = "run" | "skip"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RehearsalChoice {
    Run,
    Skip,
}

/// One `[[steps]]` entry (also the shape of `[[rollback.steps]]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    pub id: Spanned<String>,
    pub name: Option<String>,
    pub description: Option<String>,

    pub run: Option<Spanned<Command>>,
    pub config: Option<Spanned<ConfigCheck>>,
    pub confirm: Option<Spanned<String>>,
    pub tag: Option<Spanned<TagSpec>>,
    pub http: Option<Spanned<HttpCheck>>,

    pub timeout: Option<Spanned<String>>,
    pub retries: Option<Spanned<i64>>,
    pub retry_delay: Option<Spanned<String>>,
    #[serde(default)]
    pub env: BTreeMap<String, Spanned<String>>,
    pub dir: Option<String>,
    pub undo: Option<Spanned<Command>>,
    pub only: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    pub continue_on_error: bool,
    pub rehearsal: Option<RehearsalChoice>,
    pub idempotent: Option<bool>,
}

/// The `config` action: check a configuration file against a reference.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigCheck {
    pub file: String,
    pub against: String,
    #[serde(default)]
    pub require: Vec<String>,
    #[serde(default)]
    pub same: Vec<String>,
    #[serde(default)]
    pub ignore: Vec<String>,
}

/// The `tag` action: an annotated git tag at HEAD.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TagSpec {
    pub name: String,
    pub message: Option<String>,
    #[serde(default)]
    pub push: bool,
    pub remote: Option<String>,
}

/// The `http` action: poll a URL until it answers as expected.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpCheck {
    pub url: String,
    pub status: Option<u16>,
    pub contains: Option<String>,
    pub timeout: Option<Spanned<String>>,
    pub interval: Option<Spanned<String>>,
}

/// The `[rollback]` table: the emergency procedure.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rollback {
    pub note: Option<String>,
    pub run: Option<Spanned<Command>>,
    #[serde(default)]
    pub steps: Vec<Step>,
}

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
