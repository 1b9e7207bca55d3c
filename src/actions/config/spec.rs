//! What a `config` step says in a runbook, what makes it valid, and what it becomes in a plan.

use std::ops::Range;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::text::checks::{Checks, Resolve};

/// The `config` action: check a configuration file against a reference.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "ConfigCheck")]
pub struct ConfigSpec {
    /// The file to check, relative to the runbook's `dir` (by default the directory that holds the
    /// runbook); TOML, JSON or `.env`, by extension.
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

/// A `config` check as it runs: both paths resolved against the runbook's `dir`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlannedConfig {
    pub file: PathBuf,
    pub against: PathBuf,
    pub require: Vec<String>,
    pub same: Vec<String>,
    pub ignore: Vec<String>,
}

impl ConfigSpec {
    pub fn validate(&self, span: Range<usize>, checks: &mut dyn Checks) {
        for text in [&self.file, &self.against] {
            checks.text(text, span.clone());
        }
    }

    pub fn resolve(&self, span: Range<usize>, resolve: &mut dyn Resolve) -> PlannedConfig {
        PlannedConfig {
            file: resolve.path(&self.file, span.clone()),
            against: resolve.path(&self.against, span),
            require: self.require.clone(),
            same: self.same.clone(),
            ignore: self.ignore.clone(),
        }
    }
}

impl PlannedConfig {
    /// One line saying what the step does, for the plan, the record and the note.
    pub fn describe(&self) -> String {
        format!(
            "check {} against {}",
            self.file.display(),
            self.against.display()
        )
    }
}
