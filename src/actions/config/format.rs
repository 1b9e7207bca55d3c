//! Reading a configuration file: TOML, JSON, YAML or `.env`, chosen by the file's name.
//!
//! Each format is parsed by its own crate and turned into the one model every comparison works
//! in, flattened key paths to JSON values, so that a TOML file can be checked against a JSON or
//! `.env` one. A file that does not parse is reported with the line and column its parser gives,
//! in the `file:line:column` form shipbook uses for every position.

use serde_json::Value;

use super::flat::{Flat, flatten};
use super::source::Source;
use super::spec::{CONFIG_FILE_NAMES, ConfigFormat};
use crate::text::diagnostic::line_column;
use crate::text::words::one_line_joined;

/// Parses `text` in `format` into the flattened model.
fn parse(format: ConfigFormat, text: &str) -> Result<Flat, ParseError> {
    match format {
        ConfigFormat::Toml => parse_toml(text),
        ConfigFormat::Json => parse_json(text),
        ConfigFormat::Yaml => super::yaml::parse_yaml(text),
        ConfigFormat::Env => parse_env(text),
    }
}

/// Why a file's text is not valid in its format, and where, as far as the parser says.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct ParseError {
    pub(super) line: Option<usize>,
    pub(super) column: Option<usize>,
    pub(super) message: String,
}

impl ParseError {
    pub(super) fn without_position(message: impl Into<String>) -> ParseError {
        ParseError {
            line: None,
            column: None,
            message: message.into(),
        }
    }

    /// `:LINE:COLUMN`, `:LINE` or nothing, to follow a file name.
    fn position(&self) -> String {
        match (self.line, self.column) {
            (Some(line), Some(column)) => format!(":{line}:{column}"),
            (Some(line), None) => format!(":{line}"),
            _ => String::new(),
        }
    }
}

/// Reads and flattens one file, or says (naming the file) why it cannot.
pub(super) fn load(source: &Source<'_>) -> Result<(ConfigFormat, Flat), String> {
    // The plan refuses a name of no known format; this is for a plan made some other way.
    let format = ConfigFormat::of(source.path)
        .ok_or_else(|| format!("{source}: unknown file type; expected {CONFIG_FILE_NAMES}"))?;
    let text = std::fs::read_to_string(source.path).map_err(|error| {
        format!(
            "cannot read {source} (expected a {} file there): {error}",
            format.name()
        )
    })?;
    // Editors on Windows may start a file with a byte order mark, which no parser here accepts.
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let flat = parse(format, text).map_err(|error| {
        format!(
            "{source}{}: invalid {}: {}",
            error.position(),
            format.name(),
            error.message
        )
    })?;
    Ok((format, flat))
}

fn parse_toml(text: &str) -> Result<Flat, ParseError> {
    let table: toml::Table = text.parse().map_err(|error: toml::de::Error| {
        let (line, column) = error
            .span()
            .map(|span| line_column(text, span.start))
            .unzip();
        ParseError {
            line,
            column,
            // A summary is one line, and toml's message may have several.
            message: one_line_joined(error.message()),
        }
    })?;
    let root = table
        .into_iter()
        .map(|(name, value)| (name, toml_to_json(value)))
        .collect();
    Ok(flatten(root))
}

/// Converts a TOML value to the JSON model that all formats are compared in. Datetimes become
/// their TOML text, and floats JSON cannot hold (nan, inf) their text too, so nothing is lost.
fn toml_to_json(value: toml::Value) -> Value {
    match value {
        toml::Value::String(text) => Value::String(text),
        toml::Value::Integer(number) => Value::from(number),
        toml::Value::Float(number) => serde_json::Number::from_f64(number).map_or_else(
            || Value::String(number.to_string().to_lowercase()),
            Value::Number,
        ),
        toml::Value::Boolean(flag) => Value::Bool(flag),
        toml::Value::Datetime(datetime) => Value::String(datetime.to_string()),
        toml::Value::Array(items) => Value::Array(items.into_iter().map(toml_to_json).collect()),
        toml::Value::Table(table) => Value::Object(
            table
                .into_iter()
                .map(|(name, value)| (name, toml_to_json(value)))
                .collect(),
        ),
    }
}

fn parse_json(text: &str) -> Result<Flat, ParseError> {
    match serde_json::from_str(text) {
        Ok(Value::Object(root)) => Ok(flatten(root)),
        Ok(other) => Err(ParseError::without_position(format!(
            "expected an object at the top level, found {}",
            json_kind(&other)
        ))),
        Err(error) => Err(json_error(&error)),
    }
}

/// serde_json puts the position at the end of its message; it is taken off here so that the
/// position can lead, as `file:line:column`, like every other position shipbook prints.
fn json_error(error: &serde_json::Error) -> ParseError {
    let text = error.to_string();
    if error.line() == 0 {
        return ParseError::without_position(text);
    }
    let suffix = format!(" at line {} column {}", error.line(), error.column());
    ParseError {
        line: Some(error.line()),
        column: Some(error.column()),
        message: text.strip_suffix(&suffix).unwrap_or(&text).to_string(),
    }
}

pub(super) fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Reads a `.env` file with dotenvy, without touching the process environment. A name given
/// twice keeps its first value, as dotenvy does when it loads a file.
fn parse_env(text: &str) -> Result<Flat, ParseError> {
    let mut flat = Flat::new();
    for item in dotenvy::from_read_iter(text.as_bytes()) {
        match item {
            Ok((name, value)) => {
                flat.entry(vec![name]).or_insert(Value::String(value));
            }
            // The error carries the offending line's text, which may hold a secret, so only its
            // number is reported. Its column is left out: dotenvy counts it from different
            // places depending on what failed.
            Err(dotenvy::Error::LineParse(line, _)) => {
                return Err(ParseError {
                    line: line_of(text, &line),
                    column: None,
                    message: "expected NAME=VALUE, with every quote closed".to_string(),
                });
            }
            Err(other) => return Err(ParseError::without_position(other.to_string())),
        }
    }
    Ok(flat)
}

/// The 1-based number of the line where `logical_line` (possibly several lines joined, as
/// dotenvy reads a quoted value) starts in `text`.
fn line_of(text: &str, logical_line: &str) -> Option<usize> {
    let mut offset = 0;
    for (index, line) in text.split_inclusive('\n').enumerate() {
        if text
            .get(offset..)
            .is_some_and(|rest| rest.starts_with(logical_line))
        {
            return Some(index + 1);
        }
        offset += line.len();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actions::config::flat::tests::{key, keys};
    use std::path::Path;

    #[test]
    fn toml_tables_flatten_into_dotted_keys_with_arrays_and_scalars_as_leaves() {
        let flat = parse_toml(
            "top = 1\n[database]\nurl = \"postgres://db\"\npool = { size = 5 }\n\
             [cache]\nhosts = [\"a\", \"b\"]\nempty = {}\nwhen = 1979-05-27T07:32:00Z\n\
             [[servers]]\nname = \"one\"\n",
        )
        .expect("valid TOML");
        assert_eq!(
            keys(&flat),
            [
                "cache.empty",
                "cache.hosts",
                "cache.when",
                "database.pool.size",
                "database.url",
                "servers",
                "top"
            ]
        );
        assert_eq!(flat[&key("cache.hosts")], serde_json::json!(["a", "b"]));
        assert_eq!(flat[&key("cache.empty")], serde_json::json!({}));
        assert_eq!(flat[&key("cache.when")], "1979-05-27T07:32:00Z");
        assert_eq!(flat[&key("database.pool.size")], 5);
        assert_eq!(
            flat[&key("servers")],
            serde_json::json!([{ "name": "one" }])
        );
    }

    #[test]
    fn toml_floats_json_cannot_hold_keep_their_text() {
        let flat = parse_toml("a = nan\nb = -inf\nc = 1.5\n").expect("valid TOML");
        assert_eq!(flat[&key("a")], "nan");
        assert_eq!(flat[&key("b")], "-inf");
        assert_eq!(flat[&key("c")], 1.5);
    }

    #[test]
    fn json_objects_flatten_into_dotted_keys() {
        let flat = parse_json(r#"{"a": {"b": {"c": true}, "list": [1, {"x": 2}]}, "n": null}"#)
            .expect("valid JSON");
        assert_eq!(keys(&flat), ["a.b.c", "a.list", "n"]);
        assert_eq!(flat[&key("a.list")], serde_json::json!([1, { "x": 2 }]));
        assert_eq!(flat[&key("n")], Value::Null);
    }

    #[test]
    fn a_json_document_must_be_an_object() {
        let error = parse_json("[1, 2]").expect_err("an array is not a config");
        assert_eq!(
            error,
            ParseError::without_position("expected an object at the top level, found an array")
        );
    }

    #[test]
    fn env_files_flatten_into_one_segment_keys() {
        let flat = parse_env(
            "# comment\nexport DATABASE_URL=postgres://db\nEMPTY=\nQUOTED=\"two words\"\n\
             MULTI=\"line one\nline two\"\nDATABASE_URL=second\n",
        )
        .expect("a valid .env file");
        assert_eq!(keys(&flat), ["DATABASE_URL", "EMPTY", "MULTI", "QUOTED"]);
        assert_eq!(flat[&key("DATABASE_URL")], "postgres://db");
        assert_eq!(flat[&key("EMPTY")], "");
        assert_eq!(flat[&key("QUOTED")], "two words");
        assert_eq!(flat[&key("MULTI")], "line one\nline two");
    }

    #[test]
    fn the_format_is_chosen_by_the_file_name() {
        let format = |name: &str| ConfigFormat::of(Path::new(name));
        assert_eq!(format("config/app.toml"), Some(ConfigFormat::Toml));
        assert_eq!(format("config/APP.TOML"), Some(ConfigFormat::Toml));
        assert_eq!(format("app.json"), Some(ConfigFormat::Json));
        assert_eq!(format(".env"), Some(ConfigFormat::Env));
        assert_eq!(format("config/production.env"), Some(ConfigFormat::Env));
        assert_eq!(format(".env.production"), Some(ConfigFormat::Env));
        assert_eq!(format("values.yaml"), Some(ConfigFormat::Yaml));
        assert_eq!(format("compose.YML"), Some(ConfigFormat::Yaml));
        assert_eq!(format("app.ini"), None);
        assert_eq!(format("Makefile"), None);
        assert_eq!(format("environment"), None);
    }

    #[test]
    fn toml_parse_errors_have_a_line_and_column() {
        let error = parse_toml("a = 1\nb = \"ok\"\nc = = 3\n").expect_err("invalid TOML");
        assert_eq!((error.line, error.column), (Some(3), Some(5)));
        assert!(!error.message.contains('\n'), "{}", error.message);
    }

    #[test]
    fn toml_duplicate_keys_are_parse_errors_with_a_position() {
        let error = parse_toml("a = 1\na = 2\n").expect_err("a duplicate key");
        assert_eq!(error.line, Some(2));
        assert!(error.message.contains("duplicate"), "{}", error.message);
    }

    #[test]
    fn json_parse_errors_have_a_line_and_column_and_no_repeated_position() {
        let error = parse_json("{\n  \"a\": 1,\n  \"b\": ,\n}").expect_err("invalid JSON");
        assert_eq!((error.line, error.column), (Some(3), Some(8)));
        assert_eq!(error.message, "expected value");
    }

    #[test]
    fn env_parse_errors_give_the_line_without_its_text() {
        let error = parse_env("GOOD=1\n\nPASSWORD=\"hunter2\nOTHER=2\n").expect_err("unclosed");
        assert_eq!(error.line, Some(3));
        assert!(!error.message.contains("hunter2"), "{}", error.message);
        let error = parse_env("A=1\nnot a line\n").expect_err("no =");
        assert_eq!(error.line, Some(2));
    }
}
