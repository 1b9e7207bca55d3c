//! Errors that point into a file, and the line and column of a byte offset.
//!
//! A release engineer fixing a runbook at 2 a.m. wants the exact place: every validation problem
//! becomes a `Diagnostic` with a byte span into the runbook's source, rendered as
//! `path:line:column`, the offending line, and a caret under the offending text, in the manner of
//! rustc and just. The span is kept as bytes so that the loader can take it straight from the
//! TOML parser.
//!
//! A broken or fuzzed file can hold thousands of errors, many on one line, and a line can be a
//! megabyte long. So the diagnostics of a file are limited before they are located (a few per
//! line, a few dozen per file, the rest counted: "and 4,210 more"), lines are found through an
//! index of line starts, and a long line is shown as a window around the caret: the output and
//! the time spent grow with the file, never with the file times its errors.

use crate::text::controls::escape_controls;
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
    /// The text of the line holding the start of the span, or a window of it around the caret
    /// when the line is long (cut ends marked `…`).
    pub source_line: String,
    /// Where the caret goes in `source_line`, in characters from its start.
    pub caret: usize,
    /// How many more errors the same line holds that are not shown.
    pub more_on_line: usize,
}

/// The most errors shown for one line: past the first few, errors on a line are mostly echoes
/// of the first.
pub const MAX_PER_LINE: usize = 3;

/// The most errors shown for one file; the rest are counted.
pub const MAX_PER_FILE: usize = 50;

/// The most characters of a source line shown; a longer line is shown as a window around the
/// caret.
const MAX_LINE_CHARS: usize = 120;

/// How many characters of a long line are shown before the caret.
const CHARS_BEFORE_CARET: usize = 40;

/// The diagnostics of one file as they are shown: sorted, each located, at most
/// `MAX_PER_LINE` per line and `MAX_PER_FILE` in all, and how many there were in all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shown {
    pub diagnostics: Vec<Diagnostic>,
    pub total: usize,
}

/// Sorts, de-duplicates, limits and locates the diagnostics of `source`. Only the diagnostics
/// kept are located and copy their line, so a file with a million errors costs about as much as
/// one with fifty.
pub fn shown(source: &str, mut diagnostics: Vec<Diagnostic>) -> Shown {
    // Byte order is line order, and within a line column order.
    diagnostics.sort_by_key(|d| d.span.as_ref().map(|span| (span.start, span.end)));
    diagnostics.dedup();
    let total = diagnostics.len();
    let lines = LineIndex::new(source);
    // Each kept diagnostic with its line; what is not kept is only counted, in `total` and in
    // the `more_on_line` of the last one kept on its line.
    let mut kept: Vec<(Option<usize>, Diagnostic)> = Vec::new();
    let mut on_this_line = 0;
    let mut current_line = None;
    for diagnostic in diagnostics {
        let line = diagnostic
            .span
            .as_ref()
            .map(|span| lines.line_of(span.start));
        if line.is_none() || line != current_line {
            current_line = line;
            on_this_line = 0;
        }
        on_this_line += 1;
        if on_this_line > MAX_PER_LINE {
            if let Some((_, last)) = kept.last_mut().filter(|(kept_line, _)| *kept_line == line) {
                last.more_on_line += 1;
            }
        } else if kept.len() < MAX_PER_FILE {
            kept.push((line, diagnostic));
        }
    }
    let diagnostics = kept
        .into_iter()
        .map(|(_, diagnostic)| diagnostic.locate_in(source, &lines))
        .collect();
    Shown { diagnostics, total }
}

/// Where each line of a text starts, so that the line of a byte offset is a binary search.
pub struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(source: &str) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(
            source
                .bytes()
                .enumerate()
                .filter(|(_, byte)| *byte == b'\n')
                .map(|(index, _)| index + 1),
        );
        LineIndex { starts }
    }

    /// The 1-based line holding byte `offset`.
    pub fn line_of(&self, offset: usize) -> usize {
        self.starts.partition_point(|&start| start <= offset)
    }

    /// The byte where 1-based `line` starts.
    fn start_of(&self, line: usize) -> usize {
        self.starts[line - 1]
    }
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
            caret: 0,
            more_on_line: 0,
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
    pub fn locate(self, source: &str) -> Self {
        self.locate_in(source, &LineIndex::new(source))
    }

    /// Resolves the byte span to a line and column through the line index of `source`, and
    /// keeps the line (or, for a long one, a window of it around the caret).
    fn locate_in(mut self, source: &str, lines: &LineIndex) -> Self {
        let Some(span) = &self.span else {
            return self;
        };
        let start = floor_char_boundary(source, span.start.min(source.len()));
        self.line = lines.line_of(start);
        let line_start = lines.start_of(self.line);
        let line_end = source[start..]
            .find('\n')
            .map_or(source.len(), |i| start + i);
        let before = &source[line_start..start];
        self.column = before.chars().count() + 1;
        let line = source[line_start..line_end].trim_end_matches('\r');
        (self.source_line, self.caret) = window(line, self.column - 1);
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
        // A message quotes what the file says (an id, a name), which may hold an escape
        // sequence that must not reach the terminal.
        let _ = writeln!(out, "error: {}", escape_controls(&self.message));
        let _ = writeln!(out, "  --> {}", self.position());
        if self.line > 0 {
            let number = self.line.to_string();
            let pad = " ".repeat(number.len());
            let span_len = self.span.as_ref().map_or(1, |s| s.len());
            // The caret covers the span, but never runs past the end of the line shown.
            let rest_of_line = self.source_line.chars().count().saturating_sub(self.caret);
            let carets = span_len.clamp(1, rest_of_line.max(1));
            let _ = writeln!(out, "{pad} |");
            let _ = writeln!(out, "{number} | {}", self.source_line);
            let _ = write!(
                out,
                "{pad} | {}{}",
                " ".repeat(self.caret),
                "^".repeat(carets)
            );
            if let Some(label) = &self.label {
                let _ = write!(out, " {}", escape_controls(label));
            }
            out.push('\n');
        } else if let Some(label) = &self.label {
            let _ = writeln!(out, "  = {}", escape_controls(label));
        }
        let pad = " ".repeat(self.line.max(1).to_string().len());
        if let Some(expected) = &self.expected {
            let _ = writeln!(out, "{pad} = expected: {}", escape_controls(expected));
        }
        if self.more_on_line > 0 {
            let _ = writeln!(
                out,
                "{pad} = and {} more on this line, not shown",
                crate::text::words::grouped(self.more_on_line)
            );
        }
        out
    }
}

/// `line`, or a window of at most `MAX_LINE_CHARS` characters of it that holds the character at
/// `caret`, with `…` where it was cut; and where the caret is in what is returned.
fn window(line: &str, caret: usize) -> (String, usize) {
    let length = line.chars().count();
    if length <= MAX_LINE_CHARS {
        return (line.to_string(), caret);
    }
    let first = caret
        .saturating_sub(CHARS_BEFORE_CARET)
        .min(length.saturating_sub(MAX_LINE_CHARS));
    let shown: String = line.chars().skip(first).take(MAX_LINE_CHARS).collect();
    let mut text = String::new();
    let mut caret_in_text = caret - first;
    if first > 0 {
        text.push('…');
        caret_in_text += 1;
    }
    text.push_str(&shown);
    if first + MAX_LINE_CHARS < length {
        text.push('…');
    }
    (text, caret_in_text)
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
    fn a_file_shows_a_few_errors_per_line_and_counts_the_rest() {
        let source = "aaaa\nbbbb\n";
        let at =
            |offset: usize| Diagnostic::new(Path::new("r.toml"), Some(offset..offset + 1), "x");
        let many_on_line_one: Vec<Diagnostic> = (0..4).map(at).chain([at(6), at(6)]).collect();
        let shown = shown(source, many_on_line_one);
        assert_eq!(shown.total, 5, "the duplicate is counted once");
        let places: Vec<(usize, usize, usize)> = shown
            .diagnostics
            .iter()
            .map(|d| (d.line, d.column, d.more_on_line))
            .collect();
        assert_eq!(places, [(1, 1, 0), (1, 2, 0), (1, 3, 1), (2, 2, 0)]);

        let per_line: Vec<Diagnostic> = (0..200).map(|line| at(line * 5)).collect();
        let source = "abcd\n".repeat(200);
        let shown = super::shown(&source, per_line);
        assert_eq!(shown.diagnostics.len(), MAX_PER_FILE);
        assert_eq!(shown.total, 200);
    }

    #[test]
    fn a_long_line_is_shown_as_a_window_around_the_caret() {
        let line = format!("{}X{}", "a".repeat(500), "b".repeat(500));
        let (text, caret) = window(&line, 500);
        assert_eq!(text.chars().nth(caret), Some('X'));
        assert!(text.starts_with('…') && text.ends_with('…'), "{text}");
        assert_eq!(text.chars().count(), MAX_LINE_CHARS + 2);
        let (text, caret) = window(&line, 0);
        assert_eq!((text.chars().next(), caret), (Some('a'), 0));
        let (text, caret) = window(&line, 1000);
        assert_eq!(text.chars().nth(caret), Some('b'));
        assert!(!text.ends_with('…'), "{text}");
        assert_eq!(window("short", 2), ("short".to_string(), 2));
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
