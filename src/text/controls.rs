//! Control characters made visible, for text shown to a person.
//!
//! What a step prints reaches the failure tail, `shipbook show` and the change note, and a step
//! may print anything: a clear-screen sequence, a new window title, a NUL, a C1 control that a
//! terminal reads as the start of a sequence. Shown raw they would rewrite the engineer's
//! terminal at the moment they need to read it, so every control character but the newline and
//! the tab is shown as an escape (`\x1b`, `\u{9b}`) instead. The log keeps the bytes.

use std::borrow::Cow;

/// `text` with every control character except `\n` and `\t` written as an escape: `\xNN` for
/// ASCII controls (DEL included), `\u{NN}` for the others.
pub fn escape_controls(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut escaped = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if !needs_escape(c) {
            escaped.push(c);
        } else if c.is_ascii() {
            escaped.push_str(&format!("\\x{:02x}", u32::from(c)));
        } else {
            escaped.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        }
    }
    Cow::Owned(escaped)
}

fn needs_escape(c: char) -> bool {
    c.is_control() && c != '\n' && c != '\t'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_escaped_and_text_is_kept() {
        assert_eq!(
            escape_controls("a\u{1b}[2J\u{1b}]0;t\u{7}\0\u{9b}\u{7f}\r b"),
            r"a\x1b[2J\x1b]0;t\x07\x00\u{9b}\x7f\x0d b"
        );
        assert_eq!(escape_controls("line\n\tnext é ✓"), "line\n\tnext é ✓");
        assert!(matches!(escape_controls("plain"), Cow::Borrowed(_)));
    }
}
