//! The JSON Schema of the runbook format, for editors and validators (`shipbook schema`).
//!
//! A release engineer writing a runbook should learn about a misspelt key while typing, not when
//! the release starts. Editors that read TOML through a JSON Schema (taplo and the VS Code
//! extensions built on it) complete keys, show their descriptions and flag unknown ones, given a
//! `#:schema` directive at the top of the file. The schema is generated from the very types the
//! loader deserializes (`src/runbook/mod.rs`), with their doc comments as descriptions, so that it
//! cannot drift from what `shipbook check` accepts; `cargo xtask schema` keeps a copy in
//! `runbooks/schema.json`, and the tests check that copy is current.

use std::collections::BTreeMap;

use schemars::generate::SchemaSettings;
use schemars::transform::RecursiveTransform;
use schemars::{JsonSchema, Schema};
use serde_json::{Map, Value};

use super::{Environment, GitRules, Header, Metric, RawRollback, RawStep, Scalar, Secrets};
use crate::actions::notify::spec::NotifySpec;

pub use crate::text::patterns::{DURATION_PATTERN, ENV_NAME_PATTERN, IDENTIFIER_PATTERN};

/// The whole runbook file, as a type for the schema only.
///
/// The loader does not deserialize the file into one struct: it deserializes each top-level
/// section on its own so that it can report the errors of every section at once (see
/// `runbook::load`). The schema still needs a root object, so this struct names the same
/// sections with the same section types; a test keeps its keys equal to those the loader
/// accepts.
#[derive(JsonSchema)]
#[schemars(
    title = "shipbook runbook",
    description = "A shipbook runbook: the steps of a release, in order, and the way back. \
        `[runbook]` and at least one `[[steps]]` table are required; unknown keys are errors.",
    deny_unknown_fields
)]
pub struct RunbookDocument {
    /// What the runbook is, who owns it, and how its steps run. Required, with at least `name`.
    pub runbook: Header,
    /// Plain values usable as `{{ name }}` in every string a step, metric or rollback uses.
    /// `[environments.E].vars` override them, and `--var name=value` overrides both.
    pub vars: Option<BTreeMap<String, Scalar>>,
    /// Environment profiles, such as `[environments.staging]`; `--env NAME` picks one.
    pub environments: Option<BTreeMap<String, Environment>>,
    /// Environment variables that hold secrets: they must be set, and their values are masked
    /// everywhere.
    pub secrets: Option<Secrets>,
    /// Preconditions on the git repository, checked before the first step.
    pub git: Option<GitRules>,
    /// Numbers sampled before the first step and after the last, with optional guards.
    pub metrics: Option<Vec<Metric>>,
    /// The steps of the release, run one after another in file order.
    pub steps: Vec<RawStep>,
    /// The emergency procedure: `shipbook rollback` runs it, and `shipbook rehearse` tries it.
    pub rollback: Option<RawRollback>,
    /// Where to tell the team about a run: webhooks (Slack, Teams, JSON) or commands, each on
    /// the events it lists. A notification never fails the run or holds it up past its timeout.
    pub notify: Option<Vec<NotifySpec>>,
}

/// The schema as pretty-printed JSON with a final newline: the exact text of `shipbook schema`
/// and of `runbooks/schema.json`.
pub fn json() -> String {
    // Draft 7 rather than schemars' default 2020-12, because it is the newest draft that the
    // TOML editors in common use (taplo and what is built on it) understand fully.
    let mut settings = SchemaSettings::draft07();
    // These run before draft 7's own transforms, so that a `$ref` left alone by removing `null`
    // still gets its sibling description moved where draft 7 reads it.
    settings
        .transforms
        .insert(0, Box::new(RecursiveTransform(unwrap_description)));
    settings
        .transforms
        .insert(0, Box::new(RecursiveTransform(without_null)));
    let schema = settings
        .into_generator()
        .into_root_schema_for::<RunbookDocument>();
    let mut text = serde_json::to_string_pretty(&sorted(schema.to_value()))
        .expect("a JSON value always serializes");
    text.push('\n');
    text
}

/// Removes `null` from the values a schema allows: schemars allows it for every `Option`, but
/// TOML has no null, and an optional key is one that may be left out.
fn without_null(schema: &mut Schema) {
    let Some(object) = schema.as_object_mut() else {
        return;
    };
    if let Some(Value::Array(types)) = object.get_mut("type") {
        types.retain(|kind| kind != "null");
        if types.len() == 1 {
            let only = types.remove(0);
            object.insert("type".into(), only);
        }
    }
    if let Some(Value::Array(alternatives)) = object.get_mut("anyOf") {
        alternatives.retain(|alternative| alternative.get("type") != Some(&Value::from("null")));
        if alternatives.len() == 1 {
            // One alternative left: it becomes the schema itself, keeping the description and
            // anything else written beside the `anyOf`.
            let Some(Value::Object(only)) =
                object
                    .remove("anyOf")
                    .and_then(|alternatives| match alternatives {
                        Value::Array(mut alternatives) => alternatives.pop(),
                        _ => None,
                    })
            else {
                return;
            };
            for (key, value) in only {
                object.entry(key).or_insert(value);
            }
        }
    }
}

/// Doc comments arrive with the line breaks of the source; editors show descriptions as
/// Markdown, where only a blank line separates paragraphs, so the other breaks become spaces.
fn unwrap_description(schema: &mut Schema) {
    let Some(Value::String(description)) = schema.get_mut("description") else {
        return;
    };
    *description = description
        .split("\n\n")
        .map(|paragraph| {
            paragraph
                .split('\n')
                .map(str::trim)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join("\n\n");
}

/// Orders every object's keys alphabetically. serde_json keeps keys sorted unless some crate in
/// the build enables its `preserve_order` feature, which cargo may do for one build (the tests)
/// and not another (xtask); sorting explicitly makes the text the same in every build.
fn sorted(value: Value) -> Value {
    match value {
        Value::Object(object) => {
            let mut entries: Vec<(String, Value)> = object.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            let mut result = Map::new();
            for (key, value) in entries {
                result.insert(key, sorted(value));
            }
            Value::Object(result)
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    fn schema() -> Value {
        serde_json::from_str(&json()).expect("the schema is JSON")
    }

    /// The top-level keys the loader accepts, as it lists them when it meets an unknown table.
    /// (The list is private to the loader, so it is read from the loader's own error.)
    fn loader_top_level_keys() -> Vec<String> {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("r.toml");
        std::fs::write(
            &path,
            "[runbook]\nname = \"x\"\n[[steps]]\nid = \"a\"\nrun = \"true\"\n[no-such-section]\n",
        )
        .expect("a temporary file");
        let Err(Error::Runbook { diagnostics, .. }) = crate::runbook::load(&path) else {
            panic!("an unknown table is an error");
        };
        let diagnostic = diagnostics
            .iter()
            .find(|d| d.message.contains("no-such-section"))
            .expect("a diagnostic for the unknown table");
        let expected = diagnostic.expected.as_deref().expect("the accepted keys");
        expected
            .split('`')
            .skip(1)
            .step_by(2)
            .map(String::from)
            .collect()
    }

    #[test]
    fn the_document_has_the_sections_the_loader_accepts() {
        let schema = schema();
        let mut schema_keys: Vec<String> = schema["properties"]
            .as_object()
            .expect("properties")
            .keys()
            .cloned()
            .collect();
        let mut loader_keys = loader_top_level_keys();
        schema_keys.sort();
        loader_keys.sort();
        assert_eq!(schema_keys, loader_keys);
        assert_eq!(schema["required"], serde_json::json!(["runbook", "steps"]));
    }

    /// Calls `visit` with every subschema of `value` (the schema itself included).
    fn walk(value: &Value, path: &str, visit: &mut dyn FnMut(&str, &Map<String, Value>)) {
        match value {
            Value::Object(object) => {
                visit(path, object);
                for (key, child) in object {
                    walk(child, &format!("{path}/{key}"), visit);
                }
            }
            Value::Array(items) => {
                for (index, child) in items.iter().enumerate() {
                    walk(child, &format!("{path}/{index}"), visit);
                }
            }
            _ => {}
        }
    }

    #[test]
    fn every_key_has_a_description() {
        let mut missing = Vec::new();
        walk(&schema(), "#", &mut |path, object| {
            let Some(Value::Object(properties)) = object.get("properties") else {
                return;
            };
            for (key, property) in properties {
                let described = property
                    .get("description")
                    .and_then(Value::as_str)
                    .is_some_and(|d| !d.trim().is_empty());
                // The `properties` of the rollback rule only restate lengths.
                let restated = property
                    .as_object()
                    .is_some_and(|p| p.keys().all(|k| k == "maxItems" || k == "minItems"));
                if !described && !restated {
                    missing.push(format!("{path}/properties/{key}"));
                }
            }
        });
        assert!(
            missing.is_empty(),
            "keys without a description: {missing:?}"
        );
    }

    #[test]
    fn every_table_refuses_unknown_keys() {
        let schema = schema();
        let definitions = schema["definitions"].as_object().expect("definitions");
        let mut tables: Vec<(&str, &Value)> = definitions
            .iter()
            .map(|(name, definition)| (name.as_str(), definition))
            .collect();
        tables.push(("RunbookDocument", &schema));
        for (name, definition) in tables {
            if definition.get("properties").is_some() {
                assert_eq!(
                    definition["additionalProperties"],
                    Value::Bool(false),
                    "{name} accepts unknown keys"
                );
            }
        }
    }

    #[test]
    fn no_key_allows_null() {
        let text = json();
        assert!(!text.contains("\"null\""), "TOML has no null:\n{text}");
    }

    #[test]
    fn the_duration_pattern_is_the_duration_grammar() {
        let pattern = regex::Regex::new(DURATION_PATTERN).expect("a valid regex");
        for text in [
            "500ms",
            "30s",
            "10m",
            "2h",
            "1h30m",
            "1h2m3s4ms",
            "0s",
            "10 min",
            "1.5s",
            "",
            "m",
            "30",
            "1m1h",
            "5ms5s",
            "1h1h",
            "10S",
            "1d",
            " 1s",
            "1s ",
        ] {
            let by_pattern = !text.is_empty() && pattern.is_match(text);
            let by_parser = crate::text::duration::parse(text).is_ok();
            assert_eq!(by_pattern, by_parser, "{text:?}");
        }
    }

    #[test]
    fn descriptions_are_unwrapped_paragraphs() {
        let schema = schema();
        let name = &schema["definitions"]["Header"]["properties"]["name"]["description"];
        let name = name.as_str().expect("a description");
        assert!(!name.contains('\n'), "{name:?}");
        assert!(name.contains("Records, locks"), "{name:?}");
    }
}
