//! How a configuration value is shown in a message, with secret-looking values masked.
//!
//! A mismatch is worth showing, but the log and the change note are read by many people and
//! kept for a long time, so the value of a key whose name mentions a secret, token, password or
//! key is never written out, at any depth; and one huge value is cut short, so that it cannot
//! flood the log.

use serde_json::Value;

use crate::text::words::truncated;

/// What a masked value is shown as.
pub(super) const MASK: &str = "[masked]";

/// Words that mark a key's value as secret, in lower case.
const SECRET_WORDS: [&str; 4] = ["secret", "token", "password", "key"];

/// How many characters of a value a mismatch shows, so that one huge value cannot flood the log.
const VALUE_WIDTH: usize = 200;

/// A value as compact JSON text for a message: masked when the key names a secret, with any
/// secret entries inside it masked too, and cut short when long.
pub(super) fn show_value(key: &[String], value: &Value) -> String {
    if key.iter().any(|segment| is_secret_name(segment)) {
        return MASK.to_string();
    }
    truncated(&redact(value).to_string(), VALUE_WIDTH)
}

/// A copy of `value` with every entry whose name marks a secret masked. Arrays are leaves, so
/// an array of tables could otherwise show a password that sits inside it.
fn redact(value: &Value) -> Value {
    match value {
        Value::Array(items) => Value::Array(items.iter().map(redact).collect()),
        Value::Object(table) => Value::Object(
            table
                .iter()
                .map(|(name, value)| {
                    let shown = if is_secret_name(name) {
                        Value::String(MASK.to_string())
                    } else {
                        redact(value)
                    };
                    (name.clone(), shown)
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

fn is_secret_name(name: &str) -> bool {
    let name = name.to_lowercase();
    SECRET_WORDS.iter().any(|word| name.contains(word))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actions::config::flat::tests::key;

    #[test]
    fn long_values_are_cut_short() {
        let long = "x".repeat(1000);
        let shown = show_value(&key("a"), &Value::String(long));
        assert_eq!(shown.chars().count(), VALUE_WIDTH + 1);
        assert!(shown.ends_with('…'));
    }

    #[test]
    fn secret_entries_inside_a_value_are_masked() {
        let value = serde_json::json!([{ "host": "a", "ApiToken": "t" }]);
        assert_eq!(
            show_value(&key("servers"), &value),
            r#"[{"ApiToken":"[masked]","host":"a"}]"#
        );
        assert_eq!(show_value(&key("db.Password"), &value), MASK);
    }
}
