//! The values behind `{{ name }}`: built-ins, `[vars]`, the environment's vars, and `--var`.
//!
//! Later sources win, in the order the README gives: `[vars]`, then
//! `[environments.E].vars`, then `--var name=value`. The built-ins come first, so a runbook that
//! defines its own `date` gets its own.

use std::collections::BTreeMap;

use crate::error::{Error, Result};
use crate::runbook::Runbook;
use crate::sys::git::GitFacts;

pub use crate::runbook::BUILTIN_VARIABLES;

/// What a run knows about itself when its variables are resolved.
pub struct RunContext<'a> {
    pub env: Option<&'a str>,
    pub run_id: &'a str,
    /// UTC date of the run, YYYY-MM-DD.
    pub date: &'a str,
    pub git: &'a GitFacts,
    pub overrides: &'a [(String, String)],
}

pub fn resolve(runbook: &Runbook, context: &RunContext<'_>) -> BTreeMap<String, String> {
    let git = context.git;
    let mut values: BTreeMap<String, String> = [
        ("env", context.env.unwrap_or_default()),
        ("runbook.name", runbook.name()),
        ("run.id", context.run_id),
        ("date", context.date),
        ("git.sha", &git.sha),
        ("git.short_sha", &git.short_sha),
        ("git.branch", &git.branch),
        ("git.previous_tag", &git.previous_tag),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_string(), value.to_string()))
    .collect();
    for (name, value) in &runbook.vars {
        values.insert(name.clone(), value.get_ref().to_string());
    }
    if let Some(environment) = context.env.and_then(|env| runbook.environments.get(env)) {
        for (name, value) in &environment.vars {
            values.insert(name.clone(), value.get_ref().to_string());
        }
    }
    for (name, value) in context.overrides {
        values.insert(name.clone(), value.clone());
    }
    values
}

/// Parses one `--var name=value` argument.
pub fn parse_override(argument: &str) -> Result<(String, String)> {
    match argument.split_once('=') {
        Some((name, value)) if !name.trim().is_empty() => {
            Ok((name.trim().to_string(), value.to_string()))
        }
        _ => Err(Error::usage(
            format!("invalid --var `{argument}`"),
            "--var name=value, such as --var version=1.4.3",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_overrides() {
        assert_eq!(
            parse_override("version=1.2=3").unwrap(),
            ("version".to_string(), "1.2=3".to_string())
        );
        assert!(parse_override("version").is_err());
        assert!(parse_override("=1").is_err());
    }
}
