//! A configuration file as a flat map from dotted key paths to leaf values.
//!
//! TOML tables, JSON objects and `.env` names nest differently; flattening them all to key
//! paths lets one set of checks, patterns and messages serve every format, and lets a message
//! name a key the way people write it in a runbook: `database.pool.size`.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// A key path: the names of the tables leading to a value, then the value's own name.
pub(super) type Key = Vec<String>;

/// A file's contents, flattened: each leaf value under its key path. Arrays, scalars and empty
/// tables are leaves; an empty table stays a key so that `require` can say it is empty.
pub(super) type Flat = BTreeMap<Key, Value>;

/// Flattens a parsed document into its leaf values by key path.
pub(super) fn flatten(root: Map<String, Value>) -> Flat {
    let mut flat = Flat::new();
    for (name, value) in root {
        flatten_into(&mut vec![name], value, &mut flat);
    }
    flat
}

fn flatten_into(key: &mut Key, value: Value, flat: &mut Flat) {
    match value {
        Value::Object(table) if !table.is_empty() => {
            for (name, child) in table {
                key.push(name);
                flatten_into(key, child, flat);
                key.pop();
            }
        }
        leaf => {
            flat.insert(key.clone(), leaf);
        }
    }
}

/// A key as dotted text. A segment that is empty or holds a dot, a quote, a space or a control
/// character is quoted, so that the text reads back unambiguously and stays on one line.
pub(super) fn show_key(key: &[String]) -> String {
    key.iter()
        .map(|segment| {
            let plain = !segment.is_empty()
                && !segment
                    .chars()
                    .any(|c| c == '.' || c == '"' || c.is_whitespace() || c.is_control());
            if plain {
                segment.clone()
            } else {
                format!("{segment:?}")
            }
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// Whether a value counts as not set: null, an empty string, an empty array or table.
pub(super) fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(text) => text.is_empty(),
        Value::Array(items) => items.is_empty(),
        Value::Object(table) => table.is_empty(),
        Value::Bool(_) | Value::Number(_) => false,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The key path of a dotted name whose segments hold no dots.
    pub(crate) fn key(dotted: &str) -> Key {
        dotted.split('.').map(str::to_string).collect()
    }

    /// The keys of a flattened file, as dotted text.
    pub(crate) fn keys(flat: &Flat) -> Vec<String> {
        flat.keys().map(|key| show_key(key)).collect()
    }

    #[test]
    fn keys_with_dots_or_spaces_are_quoted() {
        assert_eq!(
            show_key(&["a.b".into(), "c".into(), "".into()]),
            r#""a.b".c."""#
        );
        assert_eq!(show_key(&["line\nbreak".into()]), r#""line\nbreak""#);
    }

    #[test]
    fn only_missing_and_empty_values_are_not_set() {
        for empty in [
            Value::Null,
            serde_json::json!(""),
            serde_json::json!([]),
            serde_json::json!({}),
        ] {
            assert!(is_empty(&empty), "{empty}");
        }
        for set in [
            serde_json::json!(0),
            serde_json::json!(false),
            serde_json::json!("x"),
        ] {
            assert!(!is_empty(&set), "{set}");
        }
    }
}
