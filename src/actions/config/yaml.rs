//! Reading a YAML configuration file (Kubernetes manifests, Helm values, Compose files).
//!
//! YAML is read with serde-saphyr into the same JSON model as every other format, with the
//! settings that make a comparison of two files predictable: only `true` and `false` are
//! booleans (YAML 1.2, so `country: no` stays the text "no"), `.inf` and `.nan` keep their
//! text as TOML's do, a key given twice is an error rather than a silent choice, merge keys
//! (`<<: *defaults`) are expanded, and alias expansion is limited so that a hostile file cannot
//! exhaust memory. A file holds one document: a stream of several (`---` between them) has no
//! single set of keys to compare, so it is refused with a word on how to split it.

use serde_json::Value;

use super::flat::{Flat, flatten};
use super::format::{ParseError, json_kind};

/// Parses YAML text into flattened keys. An empty document (or one of comments only, as Helm's
/// empty values files are) has no keys.
pub(super) fn parse_yaml(text: &str) -> Result<Flat, ParseError> {
    let mut options = serde_saphyr::Options::default();
    options.strict_booleans = true;
    options.non_finite_float_policy = serde_saphyr::NonFiniteFloatPolicy::AsString;
    options.with_snippet = false;
    let documents: Vec<Value> = serde_saphyr::from_str_multiple_with_options(text, options)
        .map_err(|error| yaml_error(&error))?;
    match documents.len() {
        0 => return Ok(Flat::new()),
        1 => {}
        count => {
            return Err(ParseError::without_position(format!(
                "{count} YAML documents (separated by `---`); expected one, so put each in a file of its own"
            )));
        }
    }
    match documents.into_iter().next() {
        Some(Value::Object(root)) => Ok(flatten(root)),
        Some(Value::Null) | None => Ok(Flat::new()),
        Some(other) => Err(ParseError::without_position(format!(
            "expected a mapping of keys at the top level, found {}",
            json_kind(&other)
        ))),
    }
}

/// serde-saphyr ends its messages with the position; it is taken off here so that the position
/// can lead, as `file:line:column`, like every other position shipbook prints.
fn yaml_error(error: &serde_saphyr::Error) -> ParseError {
    let text = error.to_string();
    let Some(location) = error.location().filter(|location| location.line() > 0) else {
        return ParseError::without_position(text);
    };
    let (line, column) = (location.line(), location.column());
    let suffix = format!(" at line {line}, column {column}");
    let message = text.strip_suffix(&suffix).unwrap_or(&text);
    // The advice to change a setting is meant for the programs using the crate, not for people.
    let message = message
        .strip_suffix(", set DuplicateKeyPolicy in Options if acceptable")
        .unwrap_or(message);
    ParseError {
        line: usize::try_from(line).ok(),
        column: usize::try_from(column).ok(),
        message: crate::text::words::one_line_joined(message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actions::config::flat::tests::{key, keys};

    #[test]
    fn yaml_mappings_flatten_into_dotted_keys() {
        let flat = parse_yaml(
            "replicas: 3\nimage:\n  repository: web\n  tag: \"1.4\"\nports: [80, 443]\n\
             flags:\n  country: no\n  debug: true\n  limit: .inf\n",
        )
        .expect("valid YAML");
        assert_eq!(
            keys(&flat),
            [
                "flags.country",
                "flags.debug",
                "flags.limit",
                "image.repository",
                "image.tag",
                "ports",
                "replicas"
            ]
        );
        assert_eq!(flat[&key("replicas")], 3);
        assert_eq!(flat[&key("image.tag")], "1.4");
        assert_eq!(flat[&key("ports")], serde_json::json!([80, 443]));
        assert_eq!(flat[&key("flags.country")], "no");
        assert_eq!(flat[&key("flags.debug")], true);
        assert_eq!(flat[&key("flags.limit")], ".inf");
    }

    #[test]
    fn anchors_and_merge_keys_are_expanded() {
        let flat = parse_yaml("base: &base\n  pool: 5\nprod:\n  <<: *base\n  host: db\n")
            .expect("valid YAML");
        assert_eq!(keys(&flat), ["base.pool", "prod.host", "prod.pool"]);
    }

    #[test]
    fn an_empty_or_comment_only_file_has_no_keys() {
        assert!(parse_yaml("").expect("empty").is_empty());
        assert!(parse_yaml("# nothing set\n").expect("comments").is_empty());
    }

    #[test]
    fn errors_have_a_line_and_column_and_one_line() {
        let error = parse_yaml("a: 1\na: 2\n").expect_err("a duplicate key");
        assert_eq!((error.line, error.column), (Some(2), Some(1)));
        assert_eq!(error.message, "duplicate mapping key: a");
        let error = parse_yaml("a: [1\nb: 2\n").expect_err("unclosed");
        assert_eq!(error.line, Some(2));
        assert!(!error.message.contains("line 2"), "{}", error.message);
    }

    #[test]
    fn several_documents_or_a_list_at_the_top_are_refused() {
        let error = parse_yaml("a: 1\n---\nb: 2\n").expect_err("two documents");
        assert!(
            error.message.starts_with("2 YAML documents"),
            "{}",
            error.message
        );
        let error = parse_yaml("- 1\n- 2\n").expect_err("a list");
        assert_eq!(
            error.message,
            "expected a mapping of keys at the top level, found an array"
        );
    }
}
