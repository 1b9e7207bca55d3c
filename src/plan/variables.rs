//! The values behind `{{ name }}`: built-ins, `[vars]`, the environment's vars, and `--var`.
//!
//! Later sources win, in the order the README gives: `[vars]`, then
//! `[environments.E].vars`, then `--var name=value`. The built-ins are not among them: a runbook
//! that defines one is refused by validation, a `--var` that sets one by the planner, and they
//! are set last here, so that `{{ env }}` is always the environment whose profile applies.

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
    let mut values = BTreeMap::new();
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
    let git = context.git;
    for (name, value) in [
        ("env", context.env.unwrap_or_default()),
        ("runbook.name", runbook.name()),
        ("run.id", context.run_id),
        ("date", context.date),
        ("git.sha", &git.sha),
        ("git.short_sha", &git.short_sha),
        ("git.branch", &git.branch),
        ("git.previous_tag", &git.previous_tag),
    ] {
        values.insert(name.to_string(), value.to_string());
    }
    values
}

/// Parses the `--var name=value` argument at `position` (counted from 1). A malformed one is
/// named by its position, never quoted: an argument with no `=` may well be a secret's value
/// given where `name=value` was meant.
pub fn parse_override(position: usize, argument: &str) -> Result<(String, String)> {
    let problem = match argument.split_once('=') {
        Some((name, value)) if !name.trim().is_empty() => {
            return Ok((name.trim().to_string(), value.to_string()));
        }
        Some(_) => "has no name before its `=`",
        None => "has no `=`",
    };
    Err(Error::usage(
        format!(
            "invalid --var number {position}: it {problem} (the argument is not repeated here, as it may hold a secret)"
        ),
        "--var name=value, such as --var version=1.4.3",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_overrides() {
        assert_eq!(
            parse_override(1, "version=1.2=3").unwrap(),
            ("version".to_string(), "1.2=3".to_string())
        );
        for malformed in ["s3cr3t", "=s3cr3t"] {
            let message = parse_override(2, malformed).unwrap_err().to_string();
            assert!(message.contains("--var number 2"), "{message}");
            assert!(!message.contains("s3cr3t"), "{message}");
        }
    }
}
