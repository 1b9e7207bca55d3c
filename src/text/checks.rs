//! The two services a step kind's spec needs from the runbook around it, as traits.
//!
//! A step kind owns its spec: the keys it accepts, what makes them valid, and how they become
//! the concrete thing it runs. It must not depend on the loader or the planner that call it (they
//! depend on it), so it sees them only through these traits: `Checks` while a runbook is
//! validated, and `Resolve` while a plan is built. Both work on spans of the runbook's source, so
//! that whatever a spec reports points at `path:line:column`.

use std::ops::Range;
use std::path::PathBuf;

use toml::Spanned;

/// What a spec can ask of the validator of a runbook.
pub trait Checks {
    /// Reports an error at `span`, with what was expected instead.
    fn error(&mut self, span: Range<usize>, message: String, expected: Option<String>);
    /// Checks the `{{ }}` placeholders of a string value whose source span is `span`.
    fn text(&mut self, text: &str, span: Range<usize>);
    /// Checks that a duration such as "30s" parses.
    fn duration(&mut self, value: Option<&Spanned<String>>);
    /// Narrows `span` to where `needle` occurs in it, so that an error points at the word.
    fn narrow(&self, span: &Range<usize>, needle: &str) -> Range<usize>;
}

/// What a spec can ask of the planner while it becomes the concrete form that runs.
pub trait Resolve {
    /// Renders the `{{ }}` placeholders of a string value whose source span is `span`.
    fn text(&mut self, text: &str, span: Range<usize>) -> String;
    /// Renders a path and resolves it against the runbook's `dir`, where relative paths of a
    /// step's action start.
    fn path(&mut self, text: &str, span: Range<usize>) -> PathBuf;
    /// Reports a value that only turned out wrong once its variables were rendered.
    fn error(&mut self, span: Range<usize>, message: String, expected: String);
}
