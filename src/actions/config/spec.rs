//! What a `config` step says in a runbook, what makes it valid, and what it becomes in a plan.

use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::text::checks::{Checks, Resolve};

/// The formats a `config` step reads, each known by the end of a file's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigFormat {
    Toml,
    Json,
    Yaml,
    Env,
}

/// The names a config file may have, for messages.
pub const CONFIG_FILE_NAMES: &str =
    "a file name ending in .toml, .json, .yaml, .yml or .env (or starting with .env.)";

impl ConfigFormat {
    /// The format a file's name says it has. Besides `.env` and `NAME.env`, names like
    /// `.env.production` count as `.env` files, because that is a common way to name them.
    pub fn of(path: &Path) -> Option<ConfigFormat> {
        let name = path.file_name()?.to_str()?.to_ascii_lowercase();
        if name.ends_with(".toml") {
            Some(ConfigFormat::Toml)
        } else if name.ends_with(".json") {
            Some(ConfigFormat::Json)
        } else if name.ends_with(".yaml") || name.ends_with(".yml") {
            Some(ConfigFormat::Yaml)
        } else if name.ends_with(".env") || name.starts_with(".env.") {
            Some(ConfigFormat::Env)
        } else {
            None
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            ConfigFormat::Toml => "TOML",
            ConfigFormat::Json => "JSON",
            ConfigFormat::Yaml => "YAML",
            ConfigFormat::Env => ".env",
        }
    }
}

/// The `config` action: check a configuration file against a reference.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "ConfigCheck")]
pub struct ConfigSpec {
    /// The file to check, relative to the runbook's `dir` (by default the directory that holds the
    /// runbook): TOML, JSON, YAML or `.env`, known by its name (`.toml`, `.json`, `.yaml` or
    /// `.yml`, `.env` or `.env.NAME`).
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
            // A name that ends in a `{{ variable }}` is known only once rendered, in the plan.
            let name = text.rsplit('/').next().unwrap_or(text);
            if !name.contains("{{") && ConfigFormat::of(Path::new(text)).is_none() {
                checks.error(
                    checks.narrow(&span, text),
                    unsupported(text),
                    Some(CONFIG_FILE_NAMES.into()),
                );
            }
        }
    }

    pub fn resolve(&self, span: Range<usize>, resolve: &mut dyn Resolve) -> PlannedConfig {
        let mut path = |text: &str| {
            let path = resolve.path(text, span.clone());
            if ConfigFormat::of(&path).is_none() {
                resolve.error(
                    span.clone(),
                    unsupported(&path.display().to_string()),
                    CONFIG_FILE_NAMES.into(),
                );
            }
            path
        };
        PlannedConfig {
            file: path(&self.file),
            against: path(&self.against),
            require: self.require.clone(),
            same: self.same.clone(),
            ignore: self.ignore.clone(),
        }
    }
}

/// The error of a file whose name says no format the `config` action reads.
fn unsupported(name: &str) -> String {
    format!("`{name}` is not a kind of file the `config` action reads")
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
