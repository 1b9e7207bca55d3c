//! Errors that point into a file, and the line and column of a byte offset.
//!
//! A release engineer fixing a runbook at 2 a.m. wants the exact place: every validation problem
//! becomes a `Diagnostic` with a byte span into the runbook's source, rendered as
//! `path:line:column`, the offending line, and a caret under the offending text, in the manner of
//! rustc and just. The span is kept as bytes so that the loader can take it straight from the
//! TOML parser.

use std::fmt::Write as _;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// One problem in a runbook, with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub path: PathBuf,
    pub span: Option<Range<usize>>,
    pub message: String,
    /// A short label printed beside the caret, such as "did you mean `run`?".
    pub label: Option<String>,
    /// What would have been accepted, printed on a `= expected:` line.
    pub expected: Option<String>,
    /// The (1-based) line and column of the start of `span`, filled in by `locate`.
    pub line: usize,
    pub column: usize,
    /// The text of the line holding the start of the span.
    pub source_line: String,
}

impl Diagnostic {
    pub fn new(path: &Path, span: Option<Range<usize>>, message: impl Into<String>) -> Self {
        Diagnostic {
            path: path.to_path_buf(),
            span,
            message: message.into(),
            label: None,
            expected: None,
            line: 0,
            column: 0,
            source_line: String::new(),
        }
    }

    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    pub fn expected(mut self, expected: impl Into<String>) -> Self {
        self.expected = Some(expected.into());
        self
    }

    /// Resolves the byte span to a line and column in `source`.
    pub fn locate(mut self, source: &str) -> Self {
        let Some(span) = &self.span else {
            return self;
        };
        let start = floor_char_boundary(source, span.start.min(source.len()));
        (self.line, self.column) = line_column(source, start);
        let line_start = source[..start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = source[start..]
            .find('\n')
            .map_or(source.len(), |i| start + i);
        self.source_line = source[line_start..line_end]
            .trim_end_matches('\r')
            .to_string();
        self
    }

    /// The position as `path:line:column`, or just the path when there is no span.
    pub fn position(&self) -> String {
        if self.line == 0 {
            self.path.display().to_string()
        } else {
            format!("{}:{}:{}", self.path.display(), self.line, self.column)
        }
    }

    /// Renders the diagnostic as several lines of plain text (colour is added by the caller).
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "error: {}", self.message);
        let _ = writeln!(out, "  --> {}", self.position());
        if self.line > 0 {
            let number = self.line.to_string();
            let pad = " ".repeat(number.len());
            let span_len = self.span.as_ref().map_or(1, |s| s.len());
            // The caret covers the span, but never runs past the end of its first line.
            let rest_of_line = self
                .source_line
                .chars()
                .count()
                .saturating_sub(self.column - 1);
            let carets = span_len.clamp(1, rest_of_line.max(1));
            let _ = writeln!(out, "{pad} |");
            let _ = writeln!(out, "{number} | {}", self.source_line);
            let _ = write!(
                out,
                "{pad} | {}{}",
                " ".repeat(self.column - 1),
                "^".repeat(carets)
            );
            if let Some(label) = &self.label {
                let _ = write!(out, " {label}");
            }
            out.push('\n');
        } else if let Some(label) = &self.label {
            let _ = writeln!(out, "  = {label}");
        }
        if let Some(expected) = &self.expected {
            let pad = " ".repeat(self.line.max(1).to_string().len());
            let _ = writeln!(out, "{pad} = expected: {expected}");
        }
        out
    }
}

/// The 1-based line and column (counted in characters) of byte `offset` in `source`: where a
/// parser's byte position is, in the terms an editor shows. An offset past the end is the end,
/// and one inside a character is that character.
pub fn line_column(source: &str, offset: usize) -> (usize, usize) {
    let start = floor_char_boundary(source, offset.min(source.len()));
    let before = &source[..start];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = before.matches('\n').count() + 1;
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

fn floor_char_boundary(text: &str, mut index: usize) -> usize {
    while index > 0 && !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}

/// Finds the span of `needle` inside the span `within` of `source`, so that an error about a
/// part of a string value (a `{{ variable }}`, say) points at that part and not at the opening
/// quote. Falls back to `within` itself.
pub fn narrow_span(source: &str, within: &Range<usize>, needle: &str) -> Range<usize> {
    let end = within.end.min(source.len());
    let start = within.start.min(end);
    match source.get(start..end).and_then(|text| text.find(needle)) {
        Some(offset) => start + offset..start + offset + needle.len(),
        None => within.clone(),
    }
}

/// "did you mean" for a misspelt name, when one candidate is close enough to be a likely typo.
pub fn suggest<'a>(given: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let candidates: Vec<&str> = candidates.into_iter().collect();
    // "prod" for "production": an abbreviation is as likely as a typo.
    if given.len() >= 3
        && let [only] = candidates
            .iter()
            .filter(|c| c.starts_with(given))
            .collect::<Vec<_>>()
            .as_slice()
    {
        return Some(only);
    }
    candidates
        .into_iter()
        .map(|candidate| (strsim::damerau_levenshtein(given, candidate), candidate))
        .filter(|(distance, candidate)| {
            *distance <= 2.max(candidate.len() / 3) && *distance < candidate.len()
        })
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_line_column_and_caret() {
        let source = "[runbook]\nname = \"Bad Name\"\n";
        let span = 17..27;
        let rendered = Diagnostic::new(Path::new("r.toml"), Some(span), "bad name")
            .label("not allowed")
            .expected("[a-z0-9_-]+")
            .locate(source)
            .render();
        assert_eq!(
            rendered,
            "error: bad name\n  --> r.toml:2:8\n  |\n2 | name = \"Bad Name\"\n  |        ^^^^^^^^^^ not allowed\n  = expected: [a-z0-9_-]+\n"
        );
    }

    #[test]
    fn columns_count_characters_and_positions_past_the_end_do_not_panic() {
        assert_eq!(line_column("é = x", 5), (1, 5));
        assert_eq!(line_column("é = x", 1), (1, 1));
        assert_eq!(line_column("a\nbc", 3), (2, 2));
        assert_eq!(line_column("ab", 99), (1, 3));
        assert_eq!(line_column("", 0), (1, 1));
    }

    #[test]
    fn suggests_close_names_only() {
        assert_eq!(suggest("runn", ["run", "retries"]), Some("run"));
        assert_eq!(suggest("zzzz", ["run", "retries"]), None);
    }

    #[test]
    fn narrows_to_the_needle() {
        let source = "run = \"echo {{ x }}\"";
        assert_eq!(narrow_span(source, &(6..20), "{{ x }}"), 12..19);
    }
}
