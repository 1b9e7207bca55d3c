//! Reading a runbook file into the typed model, collecting every error rather than the first.
//!
//! serde stops at the first error of whatever it deserializes, so the document is first parsed
//! into TOML's spanned tree, and then each section and each step is deserialized on its own: a
//! typo in step 3 and another in step 7 are both reported in one `shipbook check`. Unknown keys
//! are taken out and the section tried again, and a `[runbook]` table that cannot be read does
//! not stop the rest, so that one error never hides another. Serde's messages are reworded for
//! people in `messages` ("unknown key `runn`", with "did you mean `run`?").

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::Path;

use serde::de::{DeserializeOwned, IntoDeserializer};
use sha2::{Digest, Sha256};
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::messages::{backticked, humanize, quoted_list, unknown_name};
use super::step::{RawRollback, RawStep, into_steps};
use super::{
    Environment, GitRules, Header, Metric, Rollback, Runbook, Scalar, Secrets, Step, validate,
};
use crate::actions::notify::spec::NotifySpec;
use crate::error::{Error, Result};
use crate::text::diagnostic::{Diagnostic, suggest};

const TOP_LEVEL_KEYS: [&str; 9] = [
    "runbook",
    "vars",
    "environments",
    "secrets",
    "git",
    "metrics",
    "steps",
    "rollback",
    "notify",
];

/// Reads and validates the runbook at `path`.
pub fn load(path: &Path) -> Result<Runbook> {
    let bytes = std::fs::read(path).map_err(|source| Error::ReadRunbook {
        path: path.to_path_buf(),
        source,
    })?;
    match String::from_utf8(bytes) {
        Ok(source) => parse(path, source),
        Err(error) => Err(not_utf8(path, error.as_bytes(), error.utf8_error())),
    }
}

/// A runbook that is not UTF-8 text was found and read: the problem is in the file, at a
/// place, and is reported like any other error in it rather than as a file that cannot be read.
fn not_utf8(path: &Path, bytes: &[u8], error: std::str::Utf8Error) -> Error {
    let at = error.valid_up_to();
    let byte = bytes.get(at).copied().unwrap_or_default();
    // The text up to the bad byte is valid, so positions in the lossy text are the file's.
    let text = String::from_utf8_lossy(bytes);
    let diagnostic = Diagnostic::new(
        path,
        Some(at..at + 1),
        format!("not UTF-8 text: byte 0x{byte:02X} is not part of a UTF-8 character"),
    )
    .expected("a runbook saved as UTF-8 text, as TOML requires (convert it with `iconv -t UTF-8`)");
    runbook_error(path, &text, vec![diagnostic])
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
    Error::runbook(path, source, diagnostics)
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
        // `[[steps]]` first, whatever the file's order: `needs` is checked against them.
        step_ids: vec![Vec::new(), Vec::new()],
        ..Parts::default()
    };
    for (key, value) in document.get_ref().iter() {
        parts.take(key, value, &mut sections);
    }
    // A `[runbook]` table that is missing or did not deserialize has been reported; the rest of
    // the file is still checked, under a stand-in header that nothing downstream ever sees (the
    // runbook is refused, since a diagnostic was pushed).
    let header_span = parts.header.as_ref().map_or(0..0, |h| h.name.span());
    let header = parts.header.take().unwrap_or_else(|| {
        if !document.get_ref().contains_key("runbook") {
            sections.push(
                Diagnostic::new(path, Some(0..0), "missing the `[runbook]` table")
                    .expected("a `[runbook]` table with at least `name = \"...\"`"),
            );
        }
        stand_in_header()
    });
    if parts.steps.is_empty() && !document.get_ref().contains_key("steps") {
        sections.push(
            Diagnostic::new(path, Some(header_span), "the runbook has no steps")
                .expected("at least one `[[steps]]` table"),
        );
    }
    Some(parts.into_parsed(path, source, header))
}

/// The header the rest of a file is checked under when its own `[runbook]` could not be read:
/// a valid name and no settings, so that it adds no error of its own.
fn stand_in_header() -> Header {
    Header {
        name: Spanned::new(0..0, "runbook".to_string()),
        description: None,
        owner: None,
        expected: None,
        reason: None,
        dir: None,
        shell: None,
        shell_always: false,
        on_failure: None,
        jobs: None,
        fail_fast: None,
        notes_dir: None,
    }
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
    notify: Vec<NotifySpec>,
    /// Whether `[vars]` and `[environments]` deserialized, so variable names can be checked.
    names_reliable: bool,
    /// The ids of every step as written: of `[[steps]]`, then of `[[rollback.steps]]`.
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
            "notify" => self.notify = sections.each::<NotifySpec>(value, "[[notify]]"),
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
                // Every id as written, also of a step that has an error of its own, so that
                // its id is checked and a `needs` naming it is not reported as well.
                self.step_ids[0] = written_ids(value);
                self.steps = into_steps(raw, path, &mut self.action_diagnostics);
            }
            "rollback" => {
                self.rollback = sections.one::<RawRollback>(value).map(|raw| {
                    self.step_ids[1] = raw.steps.iter().map(|step| step.id.clone()).collect();
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
            notify: self.notify,
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

/// The `id` of every table of an array of tables that has a string one, with its span.
fn written_ids(value: &Spanned<DeValue<'_>>) -> Vec<Spanned<String>> {
    let DeValue::Array(items) = value.get_ref() else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|item| match item.get_ref() {
            DeValue::Table(table) => table.iter().find_map(|(key, value)| {
                match (key.get_ref().as_ref(), value.get_ref()) {
                    ("id", DeValue::String(id)) => Some(Spanned::new(value.span(), id.to_string())),
                    _ => None,
                }
            }),
            _ => None,
        })
        .collect()
}

/// Deserializes one section. serde stops at the first unknown key, so each one found takes
/// out every unknown key of its table at once (serde's message lists the known ones), reports
/// each, and tries again: one `check` lists every unknown key, and then the errors of the rest of
/// the table. Each pass empties one table of unknown keys; the passes are limited, because each
/// reads the whole section again, and a section of many tables (`[environments]`) each with
/// an unknown key would otherwise cost the square of its size.
fn deserialize<T: DeserializeOwned>(
    path: &Path,
    value: &Spanned<DeValue<'_>>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<T> {
    /// Past this many tables with unknown keys, a section's next error is reported as it is.
    const MAX_PASSES: usize = 20;
    let mut value = value.clone();
    for pass in 1.. {
        let error = match T::deserialize(value.clone().into_deserializer()) {
            Ok(parsed) => return Some(parsed),
            Err(error) => error,
        };
        let span = error.span().or_else(|| Some(value.span()));
        if pass <= MAX_PASSES
            && let (Some(known), Some(key_span)) = (known_keys(error.message()), &span)
            && let Some(table) = table_with_key(value.get_mut(), key_span)
        {
            let before = diagnostics.len();
            take_unknown_keys(path, table, &known, diagnostics);
            if diagnostics.len() > before {
                continue;
            }
        }
        diagnostics.push(humanize(path, span, error.message()));
        break;
    }
    None
}

/// The keys a table accepts, from serde's "unknown field" message, which lists them.
fn known_keys(message: &str) -> Option<Vec<String>> {
    let rest = message.trim().strip_prefix("unknown field `")?;
    let (_, expected) = rest.split_once('`')?;
    Some(
        backticked(expected)
            .into_iter()
            .map(str::to_string)
            .collect(),
    )
}

/// The table (anywhere inside `value`) that holds the key written at `key_span`.
fn table_with_key<'v, 'i>(
    value: &'v mut DeValue<'i>,
    key_span: &std::ops::Range<usize>,
) -> Option<&'v mut DeTable<'i>> {
    match value {
        DeValue::Table(table) => {
            if table.keys().any(|key| key.span() == *key_span) {
                return Some(table);
            }
            table
                .iter_mut()
                .find_map(|(_, inner)| table_with_key(inner.get_mut(), key_span))
        }
        DeValue::Array(items) => items
            .iter_mut()
            .find_map(|item| table_with_key(item.get_mut(), key_span)),
        _ => None,
    }
}

/// Reports and removes every key of `table` that is not one of `known`.
fn take_unknown_keys(
    path: &Path,
    table: &mut DeTable<'_>,
    known: &[String],
    diagnostics: &mut Vec<Diagnostic>,
) {
    let known_names: Vec<&str> = known.iter().map(String::as_str).collect();
    let unknown: Vec<Spanned<Cow<'_, str>>> = table
        .keys()
        .filter(|key| !known_names.contains(&key.get_ref().as_ref()))
        .cloned()
        .collect();
    for key in unknown {
        diagnostics.push(unknown_name(
            path,
            Some(key.span()),
            "key",
            key.get_ref(),
            &known_names,
        ));
        table.remove(&key);
    }
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
        // Once `runn` is taken out, step `a` is checked further: it has no action.
        assert_eq!(found.len(), 3, "{found:?}");
        assert!(
            found[0].starts_with("4:6 step `a` has no action"),
            "{found:?}"
        );
        assert!(found[1].starts_with("5:1 unknown key `runn`"), "{found:?}");
        assert!(found[2].starts_with("9:11 wrong type"), "{found:?}");
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
