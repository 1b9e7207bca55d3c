//! Small helpers for the words of messages: counted nouns, and text made to fit on one line.
//!
//! Summaries, log lines and table cells are one line each, and many quote something that is
//! not (a parser's message, what a command printed, the start of a body). These helpers are the
//! one place that decides how such text is folded and cut, so that every message does it alike.

/// `count` and `noun`, with an `s` unless the count is one: "1 check", "3 checks".
pub fn plural(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("{count} {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

/// `count` with its thousands grouped by commas, as a count in a message: "4,210".
pub fn grouped(count: usize) -> String {
    let digits = count.to_string();
    let mut out = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// A message whose lines are separate statements (a parser's, say), as one line: the non-blank
/// lines, trimmed, joined with `; `.
pub fn one_line_joined(message: &str) -> String {
    message
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

/// Free text (what a command printed, the start of a body) as one line: every run of
/// whitespace becomes one space, and the result is cut to `max_chars` characters as `truncated`
/// does. Empty text stays empty.
pub fn one_line_folded(text: &str, max_chars: usize) -> String {
    truncated(
        &text.split_whitespace().collect::<Vec<_>>().join(" "),
        max_chars,
    )
}

/// `text` cut to its first `max_chars` characters, with `…` after them to show that it was;
/// shorter text as it is.
pub fn truncated(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nouns_are_counted() {
        assert_eq!(plural(0, "check"), "0 checks");
        assert_eq!(plural(1, "check"), "1 check");
        assert_eq!(plural(3, "attempt"), "3 attempts");
    }

    #[test]
    fn counts_are_grouped_by_thousands() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(4210), "4,210");
        assert_eq!(grouped(1_234_567), "1,234,567");
    }

    #[test]
    fn a_message_of_several_lines_is_joined_with_semicolons() {
        assert_eq!(
            one_line_joined("  expected `=`\n\n   found newline \n"),
            "expected `=`; found newline"
        );
        assert_eq!(one_line_joined(""), "");
    }

    #[test]
    fn free_text_is_folded_and_cut_by_characters() {
        assert_eq!(one_line_folded("  a\n\tb  c ", 10), "a b c");
        assert_eq!(one_line_folded("héllo wörld", 5), "héllo…");
        assert_eq!(one_line_folded("exactly", 7), "exactly");
        assert_eq!(one_line_folded(" \n ", 5), "");
    }

    #[test]
    fn text_is_cut_after_the_given_number_of_characters() {
        assert_eq!(truncated("日本語テキスト", 3), "日本語…");
        assert_eq!(truncated("short", 200), "short");
    }
}
