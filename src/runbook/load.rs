//! Reading a runbook file into the typed model, collecting every error rather than the first.
//!
//! serde stops at the first error of whatever it deserializes, so the document is first parsed
//! into TOML's spanned tree, and then each section and each step is deserialized on its own: a
//! typo in step 3 and another in step 7 are both reported in one `shipbook check`. Serde's
//! messages are then reworded for people ("unknown key `runn`", with "did you mean `run`?").

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::Path;

use serde::de::{DeserializeOwned, IntoDeserializer};
use sha2::{Digest, Sha256};
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::step::{RawRollback, RawStep, into_steps};
use super::{
    Environment, GitRules, Header, Metric, Rollback, Runbook, Scalar, Secrets, Step, validate,
};
use crate::error::{Error, Result};
use crate::text::diagnostic::{Diagnostic, suggest};

const TOP_LEVEL_KEYS: [&str; 8] = [
    "runbook",
    "vars",
    "environments",
    "secrets",
    "git",
    "metrics",
    "steps",
    "rollback",
];

/// Reads and validates the runbook at `path`.
pub fn load(path: &Path) -> Result<Runbook> {
    let source = std::fs::read_to_string(path).map_err(|source| Error::ReadRunbook {
        path: path.to_path_buf(),
        source,
    })?;
    parse(path, source)
}

/// Parses and validates runbook text; `path` is used for messages and relative paths.
pub fn parse(path: &Path, source: String) -> Result<Runbook> {
    let mut diagnostics = Vec::new();
    let Some(parsed) = deserialize_document(path, &source, &mut diagnostics) else {
        return Err(runbook_error(path, &source, diagnostics));
    };
    // Validate what did deserialize even when some sections did not, so that one `check` shows
    // every error; variable names are only checked when the tables defining them parsed.
    let runbook = Runbook {
        source,
        ..parsed.runbook
    };
    diagnostics.extend(validate::validate(
        &runbook,
        parsed.names_reliable,
        &parsed.step_ids,
    ));
    diagnostics.extend(parsed.action_diagnostics);
    if diagnostics.is_empty() {
        Ok(runbook)
    } else {
        Err(runbook_error(path, &runbook.source, diagnostics))
    }
}

/// A runbook deserialized as far as it could be.
struct Parsed {
    runbook: Runbook,
    /// Whether `[vars]` and `[environments]` deserialized, so variable names can be checked.
    names_reliable: bool,
    /// The ids of every step as written, of `[[steps]]` and of `[[rollback.steps]]`.
    step_ids: Vec<Vec<Spanned<String>>>,
    /// Steps with no action or several, reported after validation.
    action_diagnostics: Vec<Diagnostic>,
}

fn runbook_error(path: &Path, source: &str, diagnostics: Vec<Diagnostic>) -> Error {
    let mut diagnostics: Vec<Diagnostic> = diagnostics
        .into_iter()
        .map(|diagnostic| diagnostic.locate(source))
        .collect();
    diagnostics.sort_by_key(|d| (d.line, d.column));
    diagnostics.dedup();
    Error::Runbook {
        path: path.to_path_buf(),
        diagnostics,
    }
}

/// Deserializes each section on its own, pushing a diagnostic for each one that fails. Returns
/// the runbook (with an empty source) made of the sections that did deserialize, or nothing when
/// the document is not TOML or has no `[runbook]` table.
fn deserialize_document(
    path: &Path,
    source: &str,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<Parsed> {
    let (document, errors) = DeTable::parse_recoverable(source);
    if !errors.is_empty() {
        for error in errors {
            diagnostics.push(
                Diagnostic::new(
                    path,
                    error.span(),
                    format!("invalid TOML: {}", error.message()),
                )
                .expected("a TOML document (https://toml.io)"),
            );
        }
        return None;
    }
    let mut sections = Sections { path, diagnostics };
    let mut parts = Parts {
        names_reliable: true,
        ..Parts::default()
    };
    for (key, value) in document.get_ref().iter() {
        parts.take(key, value, &mut sections);
    }
    let Some(header) = parts.header.take() else {
        if !document.get_ref().contains_key("runbook") {
            sections.push(
                Diagnostic::new(path, Some(0..0), "missing the `[runbook]` table")
                    .expected("a `[runbook]` table with at least `name = \"...\"`"),
            );
        }
        return None;
    };
    if parts.steps.is_empty() && !document.get_ref().contains_key("steps") {
        sections.push(
            Diagnostic::new(path, Some(header.name.span()), "the runbook has no steps")
                .expected("at least one `[[steps]]` table"),
        );
    }
    Some(parts.into_parsed(path, source, header))
}

/// The sections of a runbook as they deserialize, one by one.
#[derive(Default)]
struct Parts {
    header: Option<Header>,
    vars: BTreeMap<String, Spanned<Scalar>>,
    environments: BTreeMap<String, Environment>,
    secrets: Secrets,
    git: GitRules,
    metrics: Vec<Metric>,
    steps: Vec<Step>,
    rollback: Option<Rollback>,
    /// Whether `[vars]` and `[environments]` deserialized, so variable names can be checked.
    names_reliable: bool,
    /// The ids of every step as written, of `[[steps]]` and of `[[rollback.steps]]`.
    step_ids: Vec<Vec<Spanned<String>>>,
    /// A step's action count is checked after the rest of it, as one `check` has always listed
    /// it after that step's other errors at the same place.
    action_diagnostics: Vec<Diagnostic>,
}

impl Parts {
    /// Deserializes one top-level section into its part.
    fn take(
        &mut self,
        key: &Spanned<Cow<'_, str>>,
        value: &Spanned<DeValue<'_>>,
        sections: &mut Sections<'_>,
    ) {
        let path = sections.path;
        match key.get_ref().as_ref() {
            "runbook" => self.header = sections.one(value),
            "vars" => match sections.one(value) {
                Some(parsed) => self.vars = parsed,
                None => self.names_reliable = false,
            },
            "environments" => match sections.one(value) {
                Some(parsed) => self.environments = parsed,
                None => self.names_reliable = false,
            },
            "secrets" => self.secrets = sections.one(value).unwrap_or_default(),
            "git" => self.git = sections.one(value).unwrap_or_default(),
            "metrics" => self.metrics = sections.each::<Metric>(value, "[[metrics]]"),
            "steps" => {
                // `steps = []` is a runbook that would "succeed" having done nothing; the
                // missing `[[steps]]` case is reported by the caller, which sees the whole file.
                if matches!(value.get_ref(), DeValue::Array(items) if items.is_empty()) {
                    sections.push(
                        Diagnostic::new(
                            path,
                            Some(key.span()),
                            "`steps` is empty: the runbook has no steps",
                        )
                        .expected("at least one `[[steps]]` table"),
                    );
                }
                let raw = sections.each::<RawStep>(value, "[[steps]]");
                self.step_ids
                    .push(raw.iter().map(|step| step.id.clone()).collect());
                self.steps = into_steps(raw, path, &mut self.action_diagnostics);
            }
            "rollback" => {
                self.rollback = sections.one::<RawRollback>(value).map(|raw| {
                    self.step_ids
                        .push(raw.steps.iter().map(|step| step.id.clone()).collect());
                    raw.into_rollback(path, &mut self.action_diagnostics)
                });
            }
            unknown => {
                let mut diagnostic =
                    Diagnostic::new(path, Some(key.span()), format!("unknown table `{unknown}`"))
                        .expected(format!("one of {}", quoted_list(&TOP_LEVEL_KEYS)));
                if let Some(close) = suggest(unknown, TOP_LEVEL_KEYS) {
                    diagnostic = diagnostic.label(format!("did you mean `{close}`?"));
                }
                sections.push(diagnostic);
            }
        }
    }

    fn into_parsed(self, path: &Path, source: &str, header: Header) -> Parsed {
        let runbook = Runbook {
            path: path.to_path_buf(),
            source: String::new(),
            content_hash: format!("{:x}", Sha256::digest(source.as_bytes())),
            header,
            vars: self.vars,
            environments: self.environments,
            secrets: self.secrets,
            git: self.git,
            metrics: self.metrics,
            steps: self.steps,
            rollback: self.rollback,
        };
        Parsed {
            runbook,
            names_reliable: self.names_reliable,
            step_ids: self.step_ids,
            action_diagnostics: self.action_diagnostics,
        }
    }
}

/// Deserializes sections one by one, remembering whether all of them succeeded.
struct Sections<'a> {
    path: &'a Path,
    diagnostics: &'a mut Vec<Diagnostic>,
}

impl Sections<'_> {
    fn push(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    fn one<T: DeserializeOwned>(&mut self, value: &Spanned<DeValue<'_>>) -> Option<T> {
        deserialize(self.path, value, self.diagnostics)
    }

    /// Deserializes every element of an array of tables on its own.
    fn each<T: DeserializeOwned>(&mut self, value: &Spanned<DeValue<'_>>, what: &str) -> Vec<T> {
        match value.get_ref() {
            DeValue::Array(items) => items.iter().filter_map(|item| self.one(item)).collect(),
            _ => {
                self.push(
                    Diagnostic::new(self.path, Some(value.span()), "not an array of tables")
                        .expected(format!("`{what}` tables, one per entry")),
                );
                Vec::new()
            }
        }
    }
}

fn deserialize<T: DeserializeOwned>(
    path: &Path,
    value: &Spanned<DeValue<'_>>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<T> {
    match T::deserialize(value.clone().into_deserializer()) {
        Ok(parsed) => Some(parsed),
        Err(error) => {
            let span = error.span().or_else(|| Some(value.span()));
            diagnostics.push(humanize(path, span, error.message()));
            None
        }
    }
}

/// Rewords serde's messages for people, adding "did you mean" where a name is close.
fn humanize(path: &Path, span: Option<std::ops::Range<usize>>, message: &str) -> Diagnostic {
    let message = message.trim();
    for (prefix, noun) in [("unknown field `", "key"), ("unknown variant `", "value")] {
        if let Some(rest) = message.strip_prefix(prefix)
            && let Some((given, expected)) = rest.split_once('`')
        {
            let candidates = backticked(expected);
            let mut diagnostic =
                Diagnostic::new(path, span.clone(), format!("unknown {noun} `{given}`"));
            if !candidates.is_empty() {
                diagnostic = diagnostic.expected(format!("one of {}", quoted_list(&candidates)));
            }
            if let Some(close) = suggest(given, candidates.iter().copied()) {
                diagnostic = diagnostic.label(format!("did you mean `{close}`?"));
            }
            return diagnostic;
        }
    }
    if let Some(rest) = message.strip_prefix("missing field `") {
        let field = rest.trim_end_matches('`');
        return Diagnostic::new(path, span, format!("missing key `{field}`"))
            .expected(format!("`{field}` in this table"));
    }
    if message.contains("untagged enum Command") {
        return Diagnostic::new(path, span, "not a command").expected(
            "a string (run through the runbook's shell) or an array of strings (run directly)",
        );
    }
    if message.contains("untagged enum Scalar") {
        return Diagnostic::new(path, span, "not a plain value")
            .expected("a string, number or boolean");
    }
    if let Some(rest) = message.strip_prefix("invalid type: ")
        && let Some((found, expected)) = rest.split_once(", expected ")
    {
        return Diagnostic::new(path, span, format!("wrong type: found {found}"))
            .expected(expected.to_string());
    }
    Diagnostic::new(path, span, message.to_string())
}

fn backticked(text: &str) -> Vec<&str> {
    text.split('`').skip(1).step_by(2).collect()
}

fn quoted_list(names: &[&str]) -> String {
    names
        .iter()
        .map(|name| format!("`{name}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(source: &str) -> Vec<String> {
        match parse(Path::new("r.toml"), source.to_string()) {
            Ok(_) => vec![],
            Err(Error::Runbook { diagnostics, .. }) => diagnostics
                .iter()
                .map(|d| format!("{}:{} {}", d.line, d.column, d.message))
                .collect(),
            Err(other) => panic!("unexpected error {other}"),
        }
    }

    #[test]
    fn reports_errors_of_several_steps_at_once() {
        let found = errors(
            "[runbook]\nname = \"x\"\n[[steps]]\nid = \"a\"\nrunn = \"true\"\n[[steps]]\nid = \"b\"\nrun = \"true\"\nretries = \"two\"\n",
        );
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].starts_with("5:1 unknown key `runn`"), "{found:?}");
        assert!(found[1].starts_with("9:11 wrong type"), "{found:?}");
    }

    #[test]
    fn unknown_table_suggests_the_close_one() {
        let found = errors("[runbook]\nname = \"x\"\n[[step]]\nid = \"a\"\nrun = \"true\"\n");
        assert_eq!(
            found,
            ["2:8 the runbook has no steps", "3:3 unknown table `step`"]
        );
    }

    #[test]
    fn a_valid_runbook_loads() {
        assert!(
            errors("[runbook]\nname = \"x\"\n[[steps]]\nid = \"a\"\nrun = [\"true\"]\n").is_empty()
        );
    }
}
