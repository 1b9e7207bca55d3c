//! serde's messages about a runbook, reworded for the people who fix it.
//!
//! serde and the TOML deserializer speak of fields, variants and Rust types ("unknown field",
//! "expected i64"); a release engineer editing a TOML file thinks in keys, values and tables.
//! Every message of a section that does not deserialize passes through here once, so that the
//! wording is decided in one place, with "did you mean" wherever a name is close.

use std::ops::Range;
use std::path::Path;

use crate::text::diagnostic::{Diagnostic, suggest};

/// Rewords serde's message about the value at `span` for people.
pub(super) fn humanize(path: &Path, span: Option<Range<usize>>, message: &str) -> Diagnostic {
    let message = message.trim();
    for (prefix, noun) in [("unknown field `", "key"), ("unknown variant `", "value")] {
        if let Some(rest) = message.strip_prefix(prefix)
            && let Some((given, expected)) = rest.split_once('`')
        {
            return unknown_name(path, span, noun, given, &backticked(expected));
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

/// "unknown key `runn`", with the names accepted there and the close one, if any.
pub(super) fn unknown_name(
    path: &Path,
    span: Option<Range<usize>>,
    noun: &str,
    given: &str,
    candidates: &[&str],
) -> Diagnostic {
    let mut diagnostic = Diagnostic::new(path, span, format!("unknown {noun} `{given}`"));
    if !candidates.is_empty() {
        diagnostic = diagnostic.expected(format!("one of {}", quoted_list(candidates)));
    }
    if let Some(close) = suggest(given, candidates.iter().copied()) {
        diagnostic = diagnostic.label(format!("did you mean `{close}`?"));
    }
    diagnostic
}

/// The names between backticks in serde's lists ("one of `a`, `b`").
pub(super) fn backticked(text: &str) -> Vec<&str> {
    text.split('`').skip(1).step_by(2).collect()
}

/// "`a`, `b`, `c`".
pub(super) fn quoted_list(names: &[&str]) -> String {
    names
        .iter()
        .map(|name| format!("`{name}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
