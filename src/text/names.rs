//! Enums that are written as words: in records, JSON, notes and messages.
//!
//! `named_enum!` gives an enum its words once: `as_str` (an exhaustive match, so a new variant
//! without a word does not compile), `parse` from the same list, `ALL` (every variant, since the
//! list is the match) and `NAMES` (every word), and `Display` (padded, so that a table column's
//! width applies). Serde's names for the same enum are checked against these words by a test
//! beside each enum.

macro_rules! named_enum {
    ($type:ident { $($variant:ident => $text:literal),* $(,)? }) => {
        impl $type {
            /// Every variant, in the order the words are listed.
            pub const ALL: &'static [$type] = &[$($type::$variant),*];

            /// Every word, in the same order.
            pub const NAMES: &'static [&'static str] = &[$($text),*];

            pub fn as_str(self) -> &'static str {
                match self { $($type::$variant => $text),* }
            }

            pub fn parse(text: &str) -> Option<$type> {
                match text { $($text => Some($type::$variant),)* _ => None }
            }
        }

        impl std::fmt::Display for $type {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.pad(self.as_str())
            }
        }
    };
}

pub(crate) use named_enum;

/// Asserts that serde writes each variant of `all` as its word.
#[cfg(test)]
pub(crate) fn assert_serde_names<T: serde::Serialize + Copy + std::fmt::Display>(all: &[T]) {
    for value in all {
        assert_eq!(
            serde_json::to_value(value).expect("a name serializes"),
            serde_json::Value::String(value.to_string())
        );
    }
}
