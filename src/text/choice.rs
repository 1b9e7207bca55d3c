//! Reading a value that is one of a few names (`on_failure = "undo"`, `better = "lower"`).
//!
//! serde's derived reading of such an enum asks the TOML deserializer for "an enum", and a value
//! of the wrong type (`on_failure = 5`) then fails with "wanted string or table", which names
//! neither what was found nor the names accepted. Read through here, the value is asked for as a
//! string, so the error says what was found and lists the names, as a misspelt name's does.

use std::fmt;
use std::marker::PhantomData;

use serde::Deserializer;
use serde::de::{Error, Visitor};

/// Reads one of `names`, which `parse` turns into the value.
pub fn deserialize_choice<'de, D, T>(
    deserializer: D,
    names: &'static [&'static str],
    parse: fn(&str) -> Option<T>,
) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
{
    deserializer.deserialize_str(ChoiceVisitor {
        names,
        parse,
        value: PhantomData,
    })
}

/// Implements `Deserialize` for an enum given its words by `named_enum!`, through
/// `deserialize_choice`.
macro_rules! deserialize_as_choice {
    ($type:ident) => {
        impl<'de> serde::Deserialize<'de> for $type {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                $crate::text::choice::deserialize_choice(deserializer, $type::NAMES, $type::parse)
            }
        }
    };
}

pub(crate) use deserialize_as_choice;

struct ChoiceVisitor<T> {
    names: &'static [&'static str],
    parse: fn(&str) -> Option<T>,
    value: PhantomData<T>,
}

impl<T> Visitor<'_> for ChoiceVisitor<T> {
    type Value = T;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<String> = self.names.iter().map(|name| format!("`{name}`")).collect();
        write!(formatter, "one of {}", names.join(", "))
    }

    fn visit_str<E: Error>(self, text: &str) -> Result<T, E> {
        (self.parse)(text).ok_or_else(|| E::unknown_variant(text, self.names))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::de::IntoDeserializer;
    use serde::de::value::Error as ValueError;

    fn parse(text: &str) -> Option<bool> {
        match text {
            "on" => Some(true),
            "off" => Some(false),
            _ => None,
        }
    }

    fn read<'de>(deserializer: impl Deserializer<'de, Error = ValueError>) -> String {
        match deserialize_choice(deserializer, &["on", "off"], parse) {
            Ok(value) => value.to_string(),
            Err(error) => error.to_string(),
        }
    }

    #[test]
    fn a_name_is_read_and_anything_else_lists_the_names() {
        assert_eq!(read("on".into_deserializer()), "true");
        assert_eq!(
            read("of".into_deserializer()),
            "unknown variant `of`, expected `on` or `off`"
        );
        assert_eq!(
            read(5_i64.into_deserializer()),
            "invalid type: integer `5`, expected one of `on`, `off`"
        );
    }
}
