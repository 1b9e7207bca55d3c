//! Masking inside the JSON encoder.
//!
//! Masking encoded JSON misses a secret that holds a character JSON escapes (`"` becomes `\"`,
//! `\` becomes `\\`): the encoded text no longer contains the secret as it is. So the encoder
//! itself masks: each string (keys too) is gathered as serde hands it over, masked whole, and
//! only then escaped. The output is what serde_json writes, in the same key order.

use std::io::{self, Write};

use serde::Serialize;
use serde_json::ser::{CharEscape, Formatter, PrettyFormatter};

use super::Masker;

impl Masker {
    /// `value` as pretty-printed JSON, every string in it masked before it was encoded.
    pub fn to_json_pretty<T: Serialize + ?Sized>(&self, value: &T) -> serde_json::Result<String> {
        let mut out = Vec::new();
        let formatter = MaskingFormatter {
            masker: self,
            inner: PrettyFormatter::new(),
            string: None,
        };
        value.serialize(&mut serde_json::Serializer::with_formatter(
            &mut out, formatter,
        ))?;
        Ok(String::from_utf8(out).expect("serde_json writes UTF-8"))
    }
}

/// A pretty formatter that holds each string back until it is whole, to mask it.
struct MaskingFormatter<'a> {
    masker: &'a Masker,
    inner: PrettyFormatter<'static>,
    /// The string being gathered, unescaped, between `begin_string` and `end_string`.
    string: Option<String>,
}

impl MaskingFormatter<'_> {
    fn gathered(&mut self) -> &mut String {
        self.string.get_or_insert_with(String::new)
    }
}

/// The character a JSON escape stands for.
fn unescaped(escape: CharEscape) -> char {
    match escape {
        CharEscape::Quote => '"',
        CharEscape::ReverseSolidus => '\\',
        CharEscape::Solidus => '/',
        CharEscape::Backspace => '\u{8}',
        CharEscape::FormFeed => '\u{c}',
        CharEscape::LineFeed => '\n',
        CharEscape::CarriageReturn => '\r',
        CharEscape::Tab => '\t',
        CharEscape::AsciiControl(byte) => char::from(byte),
    }
}

/// The escape JSON needs for `c`, if it needs one (as serde_json escapes).
fn escape_of(c: char) -> Option<CharEscape> {
    Some(match c {
        '"' => CharEscape::Quote,
        '\\' => CharEscape::ReverseSolidus,
        '\u{8}' => CharEscape::Backspace,
        '\u{c}' => CharEscape::FormFeed,
        '\n' => CharEscape::LineFeed,
        '\r' => CharEscape::CarriageReturn,
        '\t' => CharEscape::Tab,
        c if u32::from(c) < 0x20 => CharEscape::AsciiControl(c as u8),
        _ => return None,
    })
}

impl Formatter for MaskingFormatter<'_> {
    fn begin_string<W: ?Sized + Write>(&mut self, _writer: &mut W) -> io::Result<()> {
        self.string = Some(String::new());
        Ok(())
    }

    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        _writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        self.gathered().push_str(fragment);
        Ok(())
    }

    fn write_char_escape<W: ?Sized + Write>(
        &mut self,
        _writer: &mut W,
        char_escape: CharEscape,
    ) -> io::Result<()> {
        self.gathered().push(unescaped(char_escape));
        Ok(())
    }

    fn end_string<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        let masked = self.masker.text(&self.string.take().unwrap_or_default());
        writer.write_all(b"\"")?;
        let mut plain_from = 0;
        for (at, c) in masked.char_indices() {
            if let Some(escape) = escape_of(c) {
                self.inner
                    .write_string_fragment(writer, &masked[plain_from..at])?;
                self.inner.write_char_escape(writer, escape)?;
                plain_from = at + c.len_utf8();
            }
        }
        self.inner
            .write_string_fragment(writer, &masked[plain_from..])?;
        writer.write_all(b"\"")
    }

    // The layout is the pretty formatter's, which keeps the indentation.

    fn begin_array<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.inner.begin_array(writer)
    }

    fn end_array<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.inner.end_array(writer)
    }

    fn begin_array_value<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.inner.begin_array_value(writer, first)
    }

    fn end_array_value<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.inner.end_array_value(writer)
    }

    fn begin_object<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.inner.begin_object(writer)
    }

    fn end_object<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.inner.end_object(writer)
    }

    fn begin_object_key<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.inner.begin_object_key(writer, first)
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.inner.begin_object_value(writer)
    }

    fn end_object_value<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.inner.end_object_value(writer)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::super::Secret;
    use super::*;

    #[test]
    fn strings_are_masked_before_they_are_escaped() {
        let secret = "a\"b\\c\nd";
        let masker = Masker::new(&[Secret {
            name: "TOKEN".into(),
            value: secret.into(),
        }]);
        let mut value = BTreeMap::new();
        value.insert(
            format!("key {secret}"),
            vec![format!("x{secret}y"), "\"plain\"".into()],
        );
        let json = masker.to_json_pretty(&value).unwrap();
        assert_eq!(
            json,
            "{\n  \"key [masked:TOKEN]\": [\n    \"x[masked:TOKEN]y\",\n    \"\\\"plain\\\"\"\n  ]\n}"
        );
        // Without secrets, the output is serde_json's own.
        assert_eq!(
            Masker::new(&[]).to_json_pretty(&value).unwrap(),
            serde_json::to_string_pretty(&value).unwrap()
        );
    }
}
