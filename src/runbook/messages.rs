//! serde's messages about a runbook, reworded for the people who fix it.
//!
//! serde and the TOML deserializer speak of fields, variants and Rust types ("unknown field",
//! "expected i64"); a release engineer editing a TOML file thinks in keys, values and tables.
//! Every message of a section that does not deserialize passes through here once, so that the
//! wording is decided in one place, with "did you mean" wherever a name is close.

use std::ops::Range;
use std::path::Path;

use serde::Deserializer;
use serde::de::{DeserializeOwned, Visitor};

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
    for (prefix, problem) in [
        ("invalid type: ", "wrong type"),
        ("invalid value: ", "value out of range"),
    ] {
        if let Some(rest) = message.strip_prefix(prefix)
            && let Some((found, expected)) = rest.split_once(", expected ")
        {
            return Diagnostic::new(
                path,
                span,
                format!("{problem}: found {}", found_words(found)),
            )
            .expected(expected_words(expected));
        }
    }
    Diagnostic::new(path, span, message.to_string())
}

/// What serde says it found, in TOML's words: "sequence" is an array, "map" a table.
fn found_words(found: &str) -> String {
    if let Some(number) = found.strip_prefix("floating point ") {
        return format!("float {number}");
    }
    match found {
        "sequence" => "an array".into(),
        "map" => "a table".into(),
        other => other.into(),
    }
}

/// What serde says it expected, in the words of a runbook rather than of Rust's types: "an
/// integer" for `i64`, "a table with the keys …" for a struct.
fn expected_words(expected: &str) -> String {
    if let Some(name) = expected.strip_prefix("struct ") {
        return match struct_keys(name) {
            Some(keys) => format!("a table with the keys {}", quoted_list(keys)),
            None => "a table".into(),
        };
    }
    let integer = |range: &str| format!("a whole number from {range}");
    match expected {
        "i8" | "i16" | "i32" | "i64" | "i128" | "isize" => "an integer".into(),
        "u8" => integer("0 to 255"),
        "u16" => integer("0 to 65535"),
        "u32" => integer("0 to 4294967295"),
        "u64" | "u128" | "usize" => integer("0 up"),
        "f32" | "f64" => "a number".into(),
        "a map" => "a table".into(),
        "a sequence" => "an array".into(),
        "a borrowed string" => "a string".into(),
        "a character" => "a string of one character".into(),
        other => other.into(),
    }
}

/// The keys of the runbook's table named `name` in serde's messages ("struct TagSpec").
fn struct_keys(name: &str) -> Option<&'static [&'static str]> {
    use super::{
        ConfigSpec, Environment, GitRules, Header, HttpSpec, Metric, RawRollback, RawStep, Secrets,
        TagSpec,
    };
    [
        keys_of::<Header>(),
        keys_of::<Environment>(),
        keys_of::<Secrets>(),
        keys_of::<GitRules>(),
        keys_of::<Metric>(),
        keys_of::<RawStep>(),
        keys_of::<RawRollback>(),
        keys_of::<ConfigSpec>(),
        keys_of::<TagSpec>(),
        keys_of::<HttpSpec>(),
    ]
    .into_iter()
    .flatten()
    .find(|(struct_name, _)| *struct_name == name)
    .map(|(_, keys)| keys)
}

/// The name and keys serde's derived reading of `T` asks for: `T` is read from a deserializer
/// that only notes what it is asked for a struct, and then gives up.
fn keys_of<T: DeserializeOwned>() -> Option<(&'static str, &'static [&'static str])> {
    let mut asked = None;
    let _ = T::deserialize(StructProbe { asked: &mut asked });
    asked
}

/// A deserializer that holds nothing and notes the struct it is asked for.
struct StructProbe<'a> {
    asked: &'a mut Option<(&'static str, &'static [&'static str])>,
}

impl<'de> Deserializer<'de> for StructProbe<'_> {
    type Error = serde::de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Self::Error> {
        Err(serde::de::Error::custom("nothing to read"))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Self::Error> {
        *self.asked = Some((name, fields));
        Err(serde::de::Error::custom("nothing to read"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_types_are_named_in_the_words_of_a_runbook() {
        assert_eq!(expected_words("i64"), "an integer");
        assert_eq!(expected_words("u16"), "a whole number from 0 to 65535");
        assert_eq!(expected_words("a sequence"), "an array");
        assert_eq!(
            expected_words("struct TagSpec"),
            "a table with the keys `name`, `message`, `push`, `remote`"
        );
        assert_eq!(found_words("floating point `1.5`"), "float `1.5`");
        assert_eq!(found_words("map"), "a table");
    }

    #[test]
    fn every_table_of_the_runbook_has_its_keys_known() {
        for name in [
            "Header",
            "Environment",
            "Secrets",
            "GitRules",
            "Metric",
            "RawStep",
            "RawRollback",
            "ConfigSpec",
            "TagSpec",
            "HttpSpec",
        ] {
            assert!(
                struct_keys(name).is_some_and(|keys| !keys.is_empty()),
                "{name}"
            );
        }
    }
}
