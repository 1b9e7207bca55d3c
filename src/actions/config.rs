//! The `config` action: check that a configuration file agrees with a reference file.
//!
//! Configuration drift between environments is a common reason a release fails after it has
//! shipped: a key added to staging but forgotten in production, a cache setting that differs
//! without anyone deciding it should, a database URL left empty. This action catches that drift
//! before anything irreversible happens. It reads both files (TOML, JSON or `.env`, chosen by the
//! file name), flattens each into dotted key paths, and checks that every `require`d key is set,
//! that both files have the same keys (except `ignore`d ones), and that the keys listed in `same`
//! have equal values. Every check made goes to the step's log, one per line, so that a passing
//! step shows what it proved; every problem is found in one attempt, so one run shows all of
//! them.
//!
//! Patterns are dotted paths: `*` matches exactly one segment, `**` any number of segments (zero
//! or more), and any other segment only itself. A pattern that names a table covers every key
//! inside it, so `require = ["database"]` requires everything under `[database]` and
//! `ignore = ["debug.*"]` also ignores tables nested in `debug`. A key listed in `same` must be
//! in both files with equal values even when it also matches `ignore`, because `same` is the more
//! specific request. Values of keys whose name mentions a secret, token, password or key are
//! never written out, so that a mismatch cannot leak them into the log or the change note.

pub mod spec;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io::Write;
use std::path::{Component, Path, PathBuf};

use serde_json::{Map, Value};

use super::Verdict;

/// What to check, as the plan resolved it.
pub struct ConfigCheck<'a> {
    pub file: &'a Path,
    pub against: &'a Path,
    pub require: &'a [String],
    pub same: &'a [String],
    pub ignore: &'a [String],
}

/// Performs the check, writing every check made and its result to `log`.
pub fn run(check: &ConfigCheck<'_>, log: &mut dyn Write) -> Verdict {
    let (file, against) = Source::pair(check.file, check.against);
    let mut report = Report::new(log);
    report.note(format_args!("checking {file} against {against}"));

    let file_keys = load_checked(&file, &mut report);
    let against_keys = load_checked(&against, &mut report);
    match &file_keys {
        Some(keys) => check_required(check.require, keys, &file, &mut report),
        None if !check.require.is_empty() => {
            report.note(format_args!(
                "required keys not checked: {file} could not be read"
            ));
        }
        None => {}
    }
    match (&file_keys, &against_keys) {
        (Some(file_keys), Some(against_keys)) => {
            let pair = Pair {
                file: &file,
                file_keys,
                against: &against,
                against_keys,
            };
            pair.compare(check.same, check.ignore, &mut report);
        }
        _ => report.note("keys and values not compared: both files must be read first"),
    }
    report.verdict()
}

/// A key path: the names of the tables leading to a value, then the value's own name.
type Key = Vec<String>;

/// A file's contents, flattened: each leaf value under its key path. Arrays, scalars and empty
/// tables are leaves; an empty table stays a key so that `require` can say it is empty.
type Flat = BTreeMap<Key, Value>;

/// What a masked value is shown as.
const MASK: &str = "[masked]";

/// Words that mark a key's value as secret, in lower case.
const SECRET_WORDS: [&str; 4] = ["secret", "token", "password", "key"];

/// How many failures the one-line summary names before saying "and N more".
const SUMMARY_ITEMS: usize = 3;

/// How many characters of a value a mismatch shows, so that one huge value cannot flood the log.
const VALUE_WIDTH: usize = 200;

/// One of the two files, with the names it goes by in messages.
struct Source<'a> {
    path: &'a Path,
    /// The path as the log shows it.
    label: String,
    /// The file name alone when that tells the two files apart, for the one-line summary.
    short: String,
}

impl<'a> Source<'a> {
    fn pair(file: &'a Path, against: &'a Path) -> (Source<'a>, Source<'a>) {
        let name = |path: &Path| {
            path.file_name()
                .map(|name| name.to_string_lossy().into_owned())
        };
        let distinct = name(file) != name(against);
        let source = |path: &'a Path| {
            let label = display_path(path);
            let short = match name(path) {
                Some(name) if distinct => name,
                _ => label.clone(),
            };
            Source { path, label, short }
        };
        (source(file), source(against))
    }
}

impl fmt::Display for Source<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label)
    }
}

/// How a path is shown: without the `runbooks/..` detours that the runbook's `dir` adds, and
/// relative to the current directory when it is inside it, because that is how people wrote it.
fn display_path(path: &Path) -> String {
    let mut parts: Vec<Component<'_>> = Vec::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir if matches!(parts.last(), Some(Component::Normal(_))) => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    let normal: PathBuf = parts.iter().collect();
    let shown = std::env::current_dir()
        .ok()
        .and_then(|cwd| normal.strip_prefix(cwd).ok().map(Path::to_path_buf))
        .unwrap_or(normal);
    if shown.as_os_str().is_empty() {
        path.display().to_string()
    } else {
        shown.display().to_string()
    }
}

/// The file formats the action reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Toml,
    Json,
    Env,
}

impl Format {
    /// The format a file's name says it has. Besides `.env` and `NAME.env`, names like
    /// `.env.production` count as `.env` files, because that is a common way to name them.
    fn of(path: &Path) -> Option<Format> {
        let name = path.file_name()?.to_str()?.to_ascii_lowercase();
        if name.ends_with(".toml") {
            Some(Format::Toml)
        } else if name.ends_with(".json") {
            Some(Format::Json)
        } else if name.ends_with(".env") || name.starts_with(".env.") {
            Some(Format::Env)
        } else {
            None
        }
    }

    fn name(self) -> &'static str {
        match self {
            Format::Toml => "TOML",
            Format::Json => "JSON",
            Format::Env => ".env",
        }
    }

    fn parse(self, text: &str) -> Result<Flat, ParseError> {
        match self {
            Format::Toml => parse_toml(text),
            Format::Json => parse_json(text),
            Format::Env => parse_env(text),
        }
    }
}

/// Why a file's text is not valid in its format, and where, as far as the parser says.
#[derive(Debug, PartialEq, Eq)]
struct ParseError {
    line: Option<usize>,
    column: Option<usize>,
    message: String,
}

impl ParseError {
    fn without_position(message: impl Into<String>) -> ParseError {
        ParseError {
            line: None,
            column: None,
            message: message.into(),
        }
    }

    /// `:LINE:COLUMN`, `:LINE` or nothing, to follow a file name.
    fn position(&self) -> String {
        match (self.line, self.column) {
            (Some(line), Some(column)) => format!(":{line}:{column}"),
            (Some(line), None) => format!(":{line}"),
            _ => String::new(),
        }
    }
}

/// Reads and flattens one file, or says (naming the file) why it cannot.
fn load(source: &Source<'_>) -> Result<(Format, Flat), String> {
    let format = Format::of(source.path).ok_or_else(|| {
        format!("{source}: unknown file type; expected a name ending in .toml, .json or .env")
    })?;
    let text = std::fs::read_to_string(source.path).map_err(|error| {
        format!(
            "cannot read {source} (expected a {} file there): {error}",
            format.name()
        )
    })?;
    // Editors on Windows may start a file with a byte order mark, which no parser here accepts.
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let flat = format.parse(text).map_err(|error| {
        format!(
            "{source}{}: invalid {}: {}",
            error.position(),
            format.name(),
            error.message
        )
    })?;
    Ok((format, flat))
}

/// Loads one file as a check of its own, so that an unreadable file is one reported failure.
fn load_checked(source: &Source<'_>, report: &mut Report<'_>) -> Option<Flat> {
    match load(source) {
        Ok((format, flat)) => {
            report.pass(format_args!(
                "{source} parses as {} ({})",
                format.name(),
                plural(flat.len(), "key")
            ));
            Some(flat)
        }
        Err(problem) => {
            report.fail(&problem, problem.clone());
            None
        }
    }
}

fn parse_toml(text: &str) -> Result<Flat, ParseError> {
    let table: toml::Table = text.parse().map_err(|error: toml::de::Error| {
        let (line, column) = error
            .span()
            .map(|span| line_column(text, span.start))
            .unzip();
        ParseError {
            line,
            column,
            message: one_line(error.message()),
        }
    })?;
    let root = table
        .into_iter()
        .map(|(name, value)| (name, toml_to_json(value)))
        .collect();
    Ok(flatten(root))
}

/// Converts a TOML value to the JSON model that all formats are compared in. Datetimes become
/// their TOML text, and floats JSON cannot hold (nan, inf) their text too, so nothing is lost.
fn toml_to_json(value: toml::Value) -> Value {
    match value {
        toml::Value::String(text) => Value::String(text),
        toml::Value::Integer(number) => Value::from(number),
        toml::Value::Float(number) => serde_json::Number::from_f64(number).map_or_else(
            || Value::String(number.to_string().to_lowercase()),
            Value::Number,
        ),
        toml::Value::Boolean(flag) => Value::Bool(flag),
        toml::Value::Datetime(datetime) => Value::String(datetime.to_string()),
        toml::Value::Array(items) => Value::Array(items.into_iter().map(toml_to_json).collect()),
        toml::Value::Table(table) => Value::Object(
            table
                .into_iter()
                .map(|(name, value)| (name, toml_to_json(value)))
                .collect(),
        ),
    }
}

fn parse_json(text: &str) -> Result<Flat, ParseError> {
    match serde_json::from_str(text) {
        Ok(Value::Object(root)) => Ok(flatten(root)),
        Ok(other) => Err(ParseError::without_position(format!(
            "expected an object at the top level, found {}",
            json_kind(&other)
        ))),
        Err(error) => Err(json_error(&error)),
    }
}

/// serde_json puts the position at the end of its message; it is taken off here so that the
/// position can lead, as `file:line:column`, like every other position shipbook prints.
fn json_error(error: &serde_json::Error) -> ParseError {
    let text = error.to_string();
    if error.line() == 0 {
        return ParseError::without_position(text);
    }
    let suffix = format!(" at line {} column {}", error.line(), error.column());
    ParseError {
        line: Some(error.line()),
        column: Some(error.column()),
        message: text.strip_suffix(&suffix).unwrap_or(&text).to_string(),
    }
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Reads a `.env` file with dotenvy, without touching the process environment. A name given
/// twice keeps its first value, as dotenvy does when it loads a file.
fn parse_env(text: &str) -> Result<Flat, ParseError> {
    let mut flat = Flat::new();
    for item in dotenvy::from_read_iter(text.as_bytes()) {
        match item {
            Ok((name, value)) => {
                flat.entry(vec![name]).or_insert(Value::String(value));
            }
            // The error carries the offending line's text, which may hold a secret, so only its
            // number is reported. Its column is left out: dotenvy counts it from different
            // places depending on what failed.
            Err(dotenvy::Error::LineParse(line, _)) => {
                return Err(ParseError {
                    line: line_of(text, &line),
                    column: None,
                    message: "expected NAME=VALUE, with every quote closed".to_string(),
                });
            }
            Err(other) => return Err(ParseError::without_position(other.to_string())),
        }
    }
    Ok(flat)
}

/// Flattens a parsed document into its leaf values by key path.
fn flatten(root: Map<String, Value>) -> Flat {
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

/// The 1-based line and column (counted in characters) of byte `offset` in `text`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.as_bytes().get(..offset).unwrap_or(text.as_bytes());
    let line = before.iter().filter(|&&byte| byte == b'\n').count() + 1;
    let current = before
        .rsplit(|&byte| byte == b'\n')
        .next()
        .unwrap_or_default();
    // Counting the bytes that start a UTF-8 character counts the characters.
    let column = current
        .iter()
        .filter(|&&byte| byte & 0b1100_0000 != 0b1000_0000)
        .count()
        + 1;
    (line, column)
}

/// The 1-based number of the line where `logical_line` (possibly several lines joined, as
/// dotenvy reads a quoted value) starts in `text`.
fn line_of(text: &str, logical_line: &str) -> Option<usize> {
    let mut offset = 0;
    for (index, line) in text.split_inclusive('\n').enumerate() {
        if text
            .get(offset..)
            .is_some_and(|rest| rest.starts_with(logical_line))
        {
            return Some(index + 1);
        }
        offset += line.len();
    }
    None
}

/// Joins a multi-line parser message into one line, because a summary is one line.
fn one_line(message: &str) -> String {
    message
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

/// A dotted key pattern from `require`, `same` or `ignore`.
struct Pattern<'a> {
    text: &'a str,
    segments: Vec<&'a str>,
}

impl<'a> Pattern<'a> {
    fn new(text: &'a str) -> Pattern<'a> {
        Pattern {
            text,
            segments: text.split('.').collect(),
        }
    }

    fn all(texts: &'a [String]) -> Vec<Pattern<'a>> {
        texts.iter().map(|text| Pattern::new(text)).collect()
    }

    fn is_literal(&self) -> bool {
        !self
            .segments
            .iter()
            .any(|segment| *segment == "*" || *segment == "**")
    }

    /// Whether the pattern names `key` or one of the tables that contain it.
    fn covers(&self, key: &[String]) -> bool {
        (1..=key.len()).any(|length| {
            key.get(..length)
                .is_some_and(|prefix| segments_match(&self.segments, prefix))
        })
    }
}

impl fmt::Display for Pattern<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.text)
    }
}

/// Whether pattern segments match a whole key: `*` one segment, `**` zero or more.
fn segments_match(pattern: &[&str], key: &[String]) -> bool {
    match pattern.split_first() {
        None => key.is_empty(),
        Some((&"**", rest)) => (0..=key.len()).any(|skip| {
            key.get(skip..)
                .is_some_and(|tail| segments_match(rest, tail))
        }),
        Some((first, rest)) => match key.split_first() {
            Some((segment, tail)) => {
                (*first == "*" || first == segment) && segments_match(rest, tail)
            }
            None => false,
        },
    }
}

/// The keys that the patterns cover, and the patterns that cover none of them.
fn select<'k, 'p>(
    patterns: &'p [Pattern<'p>],
    keys: &[&'k Key],
) -> (BTreeSet<&'k Key>, Vec<&'p Pattern<'p>>) {
    let mut selected = BTreeSet::new();
    let mut unmatched = Vec::new();
    for pattern in patterns {
        let mut matched_any = false;
        for key in keys.iter().filter(|key| pattern.covers(key)) {
            matched_any = true;
            selected.insert(*key);
        }
        if !matched_any {
            unmatched.push(pattern);
        }
    }
    (selected, unmatched)
}

/// Checks that every key the `require` patterns cover is set in `file`.
fn check_required(texts: &[String], keys: &Flat, file: &Source<'_>, report: &mut Report<'_>) {
    let patterns = Pattern::all(texts);
    let all: Vec<&Key> = keys.keys().collect();
    let (required, unmatched) = select(&patterns, &all);
    for pattern in unmatched {
        if pattern.is_literal() {
            report.fail(
                format_args!("{} is missing from {file} (required)", pattern.text),
                format!("{} missing from {}", pattern.text, file.short),
            );
        } else {
            report.fail(
                format_args!("require pattern {pattern} matches no key in {file}"),
                format!("require {pattern} matches no key"),
            );
        }
    }
    for key in required {
        let name = show_key(key);
        if keys.get(key).is_none_or(is_empty) {
            report.fail(
                format_args!("{name} is empty in {file} (required)"),
                format!("{name} empty in {}", file.short),
            );
        } else {
            report.pass(format_args!("{name} is set in {file}"));
        }
    }
}

/// Whether a value counts as not set: null, an empty string, an empty array or table.
fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(text) => text.is_empty(),
        Value::Array(items) => items.is_empty(),
        Value::Object(table) => table.is_empty(),
        Value::Bool(_) | Value::Number(_) => false,
    }
}

/// The two files, read, for the checks that compare them.
struct Pair<'a> {
    file: &'a Source<'a>,
    file_keys: &'a Flat,
    against: &'a Source<'a>,
    against_keys: &'a Flat,
}

impl Pair<'_> {
    /// Checks every key of either file once: for equal values when `same` covers it, otherwise
    /// for being in both files, unless `ignore` covers it.
    fn compare(&self, same: &[String], ignore: &[String], report: &mut Report<'_>) {
        let all: BTreeSet<&Key> = self
            .file_keys
            .keys()
            .chain(self.against_keys.keys())
            .collect();
        let all: Vec<&Key> = all.into_iter().collect();
        let same = Pattern::all(same);
        let ignore = Pattern::all(ignore);
        let (compared, unmatched) = select(&same, &all);
        for pattern in unmatched {
            report.fail(
                format_args!("same pattern {pattern} matches no key in either file"),
                format!("same {pattern} matches no key"),
            );
        }
        for key in all {
            if compared.contains(key) {
                self.check_same(key, report);
            } else if let Some(pattern) = ignore.iter().find(|pattern| pattern.covers(key)) {
                report.note(format_args!("{} ignored ({pattern})", show_key(key)));
            } else {
                self.check_in_both(key, report);
            }
        }
    }

    fn check_in_both(&self, key: &Key, report: &mut Report<'_>) {
        match self.lacking(key) {
            Some((lacks, has)) => report_missing(key, lacks, has, report),
            None => report.pass(format_args!("{} is in both files", show_key(key))),
        }
    }

    fn check_same(&self, key: &Key, report: &mut Report<'_>) {
        if let Some((lacks, has)) = self.lacking(key) {
            return report_missing(key, lacks, has, report);
        }
        let (Some(mine), Some(theirs)) = (self.file_keys.get(key), self.against_keys.get(key))
        else {
            return;
        };
        let name = show_key(key);
        if mine == theirs {
            report.pass(format_args!("{name} is the same in both files"));
        } else {
            report.fail(
                format_args!(
                    "{name} differs: {} in {}, {} in {}",
                    show_value(key, mine),
                    self.file,
                    show_value(key, theirs),
                    self.against
                ),
                format!("{name} differs"),
            );
        }
    }

    /// The file that lacks `key` and the one that has it, when only one has it.
    fn lacking(&self, key: &Key) -> Option<(&Source<'_>, &Source<'_>)> {
        match (
            self.file_keys.contains_key(key),
            self.against_keys.contains_key(key),
        ) {
            (true, false) => Some((self.against, self.file)),
            (false, true) => Some((self.file, self.against)),
            _ => None,
        }
    }
}

fn report_missing(key: &Key, lacks: &Source<'_>, has: &Source<'_>, report: &mut Report<'_>) {
    let name = show_key(key);
    report.fail(
        format_args!("{name} is missing from {lacks} (it is in {has})"),
        format!("{name} missing from {}", lacks.short),
    );
}

/// A key as dotted text. A segment that is empty or holds a dot, a quote, a space or a control
/// character is quoted, so that the text reads back unambiguously and stays on one line.
fn show_key(key: &[String]) -> String {
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

/// A value as compact JSON text for a message: masked when the key names a secret, with any
/// secret entries inside it masked too, and cut short when long.
fn show_value(key: &[String], value: &Value) -> String {
    if key.iter().any(|segment| is_secret_name(segment)) {
        return MASK.to_string();
    }
    let text = redact(value).to_string();
    if text.chars().count() > VALUE_WIDTH {
        let cut: String = text.chars().take(VALUE_WIDTH).collect();
        format!("{cut}…")
    } else {
        text
    }
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

fn plural(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("{count} {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

/// Counts the checks made, writes each to the log as it is made, and keeps a short form of each
/// failure for the summary.
struct Report<'a> {
    log: &'a mut dyn Write,
    checks: usize,
    failures: Vec<String>,
}

impl<'a> Report<'a> {
    fn new(log: &'a mut dyn Write) -> Report<'a> {
        Report {
            log,
            checks: 0,
            failures: Vec::new(),
        }
    }

    fn pass(&mut self, what: impl fmt::Display) {
        self.checks += 1;
        self.line("✓", what);
    }

    fn fail(&mut self, what: impl fmt::Display, short: String) {
        self.checks += 1;
        self.failures.push(short);
        self.line("✗", what);
    }

    /// A line that is not a check: context, or what was left out and why.
    fn note(&mut self, what: impl fmt::Display) {
        self.line("·", what);
    }

    fn line(&mut self, mark: &str, what: impl fmt::Display) {
        // The log is a record of the checks, not one of them: a failed write must not change
        // the verdict.
        let _ = writeln!(self.log, "{mark} {what}");
    }

    fn verdict(mut self) -> Verdict {
        let checks = plural(self.checks, "check");
        let verdict = if self.failures.is_empty() {
            Verdict::pass(format!("{checks} passed"))
        } else {
            let mut listed: Vec<&str> = self
                .failures
                .iter()
                .take(SUMMARY_ITEMS)
                .map(String::as_str)
                .collect();
            let more = self.failures.len().saturating_sub(SUMMARY_ITEMS);
            let and_more = format!("and {more} more");
            if more > 0 {
                listed.push(&and_more);
            }
            Verdict::fail(format!(
                "{} of {checks} failed: {}",
                self.failures.len(),
                listed.join("; ")
            ))
        };
        self.note(&verdict.summary);
        verdict
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two config files in a temporary directory, checked with the given patterns.
    struct Fixture {
        dir: tempfile::TempDir,
        require: Vec<String>,
        same: Vec<String>,
        ignore: Vec<String>,
    }

    /// What one run of the action produced.
    struct Outcome {
        verdict: Verdict,
        log: String,
    }

    impl Fixture {
        fn new() -> Fixture {
            Fixture {
                dir: tempfile::tempdir().expect("a temporary directory"),
                require: Vec::new(),
                same: Vec::new(),
                ignore: Vec::new(),
            }
        }

        fn write(self, name: &str, content: &str) -> Fixture {
            let path = self.dir.path().join(name);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).expect("the directory is made");
            }
            std::fs::write(path, content).expect("the file is written");
            self
        }

        fn require(mut self, patterns: &[&str]) -> Fixture {
            self.require = patterns.iter().map(|p| p.to_string()).collect();
            self
        }

        fn same(mut self, patterns: &[&str]) -> Fixture {
            self.same = patterns.iter().map(|p| p.to_string()).collect();
            self
        }

        fn ignore(mut self, patterns: &[&str]) -> Fixture {
            self.ignore = patterns.iter().map(|p| p.to_string()).collect();
            self
        }

        /// How a file of the fixture is named in messages.
        fn label(&self, name: &str) -> String {
            display_path(&self.dir.path().join(name))
        }

        fn check(&self, file: &str, against: &str) -> Outcome {
            let file = self.dir.path().join(file);
            let against = self.dir.path().join(against);
            let mut log = Vec::new();
            let verdict = run(
                &ConfigCheck {
                    file: &file,
                    against: &against,
                    require: &self.require,
                    same: &self.same,
                    ignore: &self.ignore,
                },
                &mut log,
            );
            Outcome {
                verdict,
                log: String::from_utf8(log).expect("the log is UTF-8"),
            }
        }
    }

    impl Outcome {
        #[track_caller]
        fn logged(&self, line: &str) -> &Outcome {
            assert!(
                self.log.lines().any(|logged| logged.contains(line)),
                "no line of the log contains {line:?}:\n{}",
                self.log
            );
            self
        }
    }

    fn key(dotted: &str) -> Key {
        dotted.split('.').map(str::to_string).collect()
    }

    fn keys(flat: &Flat) -> Vec<String> {
        flat.keys().map(|key| show_key(key)).collect()
    }

    fn covers(pattern: &str, dotted: &str) -> bool {
        Pattern::new(pattern).covers(&key(dotted))
    }

    fn exactly(pattern: &str, dotted: &str) -> bool {
        let pattern = Pattern::new(pattern);
        segments_match(&pattern.segments, &key(dotted))
    }

    #[test]
    fn toml_tables_flatten_into_dotted_keys_with_arrays_and_scalars_as_leaves() {
        let flat = parse_toml(
            "top = 1\n[database]\nurl = \"postgres://db\"\npool = { size = 5 }\n\
             [cache]\nhosts = [\"a\", \"b\"]\nempty = {}\nwhen = 1979-05-27T07:32:00Z\n\
             [[servers]]\nname = \"one\"\n",
        )
        .expect("valid TOML");
        assert_eq!(
            keys(&flat),
            [
                "cache.empty",
                "cache.hosts",
                "cache.when",
                "database.pool.size",
                "database.url",
                "servers",
                "top"
            ]
        );
        assert_eq!(flat[&key("cache.hosts")], serde_json::json!(["a", "b"]));
        assert_eq!(flat[&key("cache.empty")], serde_json::json!({}));
        assert_eq!(flat[&key("cache.when")], "1979-05-27T07:32:00Z");
        assert_eq!(flat[&key("database.pool.size")], 5);
        assert_eq!(
            flat[&key("servers")],
            serde_json::json!([{ "name": "one" }])
        );
    }

    #[test]
    fn toml_floats_json_cannot_hold_keep_their_text() {
        let flat = parse_toml("a = nan\nb = -inf\nc = 1.5\n").expect("valid TOML");
        assert_eq!(flat[&key("a")], "nan");
        assert_eq!(flat[&key("b")], "-inf");
        assert_eq!(flat[&key("c")], 1.5);
    }

    #[test]
    fn json_objects_flatten_into_dotted_keys() {
        let flat = parse_json(r#"{"a": {"b": {"c": true}, "list": [1, {"x": 2}]}, "n": null}"#)
            .expect("valid JSON");
        assert_eq!(keys(&flat), ["a.b.c", "a.list", "n"]);
        assert_eq!(flat[&key("a.list")], serde_json::json!([1, { "x": 2 }]));
        assert_eq!(flat[&key("n")], Value::Null);
    }

    #[test]
    fn a_json_document_must_be_an_object() {
        let error = parse_json("[1, 2]").expect_err("an array is not a config");
        assert_eq!(
            error,
            ParseError::without_position("expected an object at the top level, found an array")
        );
    }

    #[test]
    fn env_files_flatten_into_one_segment_keys() {
        let flat = parse_env(
            "# comment\nexport DATABASE_URL=postgres://db\nEMPTY=\nQUOTED=\"two words\"\n\
             MULTI=\"line one\nline two\"\nDATABASE_URL=second\n",
        )
        .expect("a valid .env file");
        assert_eq!(keys(&flat), ["DATABASE_URL", "EMPTY", "MULTI", "QUOTED"]);
        assert_eq!(flat[&key("DATABASE_URL")], "postgres://db");
        assert_eq!(flat[&key("EMPTY")], "");
        assert_eq!(flat[&key("QUOTED")], "two words");
        assert_eq!(flat[&key("MULTI")], "line one\nline two");
    }

    #[test]
    fn the_format_is_chosen_by_the_file_name() {
        let format = |name: &str| Format::of(Path::new(name));
        assert_eq!(format("config/app.toml"), Some(Format::Toml));
        assert_eq!(format("config/APP.TOML"), Some(Format::Toml));
        assert_eq!(format("app.json"), Some(Format::Json));
        assert_eq!(format(".env"), Some(Format::Env));
        assert_eq!(format("config/production.env"), Some(Format::Env));
        assert_eq!(format(".env.production"), Some(Format::Env));
        assert_eq!(format("app.yaml"), None);
        assert_eq!(format("Makefile"), None);
        assert_eq!(format("environment"), None);
    }

    #[test]
    fn a_star_matches_exactly_one_segment() {
        assert!(exactly("cache.*", "cache.host"));
        assert!(!exactly("cache.*", "cache"));
        assert!(!exactly("cache.*", "cache.pool.size"));
        assert!(exactly("*.url", "database.url"));
        assert!(!exactly("*.url", "url"));
        assert!(exactly("*", "anything"));
    }

    #[test]
    fn a_double_star_matches_any_number_of_segments_including_none() {
        assert!(exactly("**", "a"));
        assert!(exactly("**", "a.b.c"));
        assert!(exactly("**.password", "password"));
        assert!(exactly("**.password", "db.primary.password"));
        assert!(exactly("a.**.z", "a.z"));
        assert!(exactly("a.**.z", "a.b.c.z"));
        assert!(!exactly("a.**.z", "a.b.c"));
        assert!(exactly("a.**.*", "a.b"));
        assert!(!exactly("a.**.*", "a"));
    }

    #[test]
    fn a_literal_pattern_matches_itself_and_covers_the_keys_of_the_table_it_names() {
        assert!(exactly("database.url", "database.url"));
        assert!(!exactly("database.url", "database.urls"));
        assert!(!exactly("database", "database.url"));
        assert!(covers("database", "database.url"));
        assert!(covers("database", "database.pool.size"));
        assert!(!covers("database", "databases.url"));
        assert!(!covers("database.url", "database"));
        assert!(covers("debug.*", "debug.level.detail"));
        assert!(!covers("debug.*", "debug"));
    }

    #[test]
    fn toml_parse_errors_have_a_line_and_column() {
        let error = parse_toml("a = 1\nb = \"ok\"\nc = = 3\n").expect_err("invalid TOML");
        assert_eq!((error.line, error.column), (Some(3), Some(5)));
        assert!(!error.message.contains('\n'), "{}", error.message);
    }

    #[test]
    fn toml_duplicate_keys_are_parse_errors_with_a_position() {
        let error = parse_toml("a = 1\na = 2\n").expect_err("a duplicate key");
        assert_eq!(error.line, Some(2));
        assert!(error.message.contains("duplicate"), "{}", error.message);
    }

    #[test]
    fn json_parse_errors_have_a_line_and_column_and_no_repeated_position() {
        let error = parse_json("{\n  \"a\": 1,\n  \"b\": ,\n}").expect_err("invalid JSON");
        assert_eq!((error.line, error.column), (Some(3), Some(8)));
        assert_eq!(error.message, "expected value");
    }

    #[test]
    fn env_parse_errors_give_the_line_without_its_text() {
        let error = parse_env("GOOD=1\n\nPASSWORD=\"hunter2\nOTHER=2\n").expect_err("unclosed");
        assert_eq!(error.line, Some(3));
        assert!(!error.message.contains("hunter2"), "{}", error.message);
        let error = parse_env("A=1\nnot a line\n").expect_err("no =");
        assert_eq!(error.line, Some(2));
    }

    #[test]
    fn columns_count_characters_and_positions_past_the_end_do_not_panic() {
        assert_eq!(line_column("é = x", 5), (1, 5));
        assert_eq!(line_column("a\nbc", 3), (2, 2));
        assert_eq!(line_column("ab", 99), (1, 3));
        assert_eq!(line_column("", 0), (1, 1));
    }

    #[test]
    fn matching_files_pass_and_the_log_lists_every_check() {
        let outcome = Fixture::new()
            .write(
                "a.toml",
                "[database]\nurl = \"x\"\n[cache]\nhost = \"h\"\nttl = 5\n",
            )
            .write(
                "b.toml",
                "[database]\nurl = \"y\"\n[cache]\nhost = \"h\"\nttl = 5\n",
            )
            .require(&["database.url"])
            .same(&["cache.*"])
            .check("a.toml", "b.toml");
        assert_eq!(outcome.verdict, Verdict::pass("6 checks passed"));
        outcome
            .logged("a.toml parses as TOML (3 keys)")
            .logged("b.toml parses as TOML (3 keys)")
            .logged("✓ database.url is set in ")
            .logged("✓ cache.host is the same in both files")
            .logged("✓ cache.ttl is the same in both files")
            .logged("✓ database.url is in both files")
            .logged("· 6 checks passed");
    }

    #[test]
    fn a_missing_key_is_reported_with_the_file_it_is_missing_from_in_each_direction() {
        let fixture = Fixture::new()
            .write("a.toml", "shared = 1\nonly_a = 1\n")
            .write("b.toml", "shared = 1\nonly_b = 1\n");
        let outcome = fixture.check("a.toml", "b.toml");
        assert!(!outcome.verdict.passed);
        let a = fixture.label("a.toml");
        let b = fixture.label("b.toml");
        outcome
            .logged(&format!("✗ only_a is missing from {b} (it is in {a})"))
            .logged(&format!("✗ only_b is missing from {a} (it is in {b})"))
            .logged("✓ shared is in both files");
        assert_eq!(
            outcome.verdict.summary,
            "2 of 5 checks failed: only_a missing from b.toml; only_b missing from a.toml"
        );
    }

    #[test]
    fn the_summary_names_files_by_their_whole_path_when_their_names_are_the_same() {
        let fixture = Fixture::new()
            .write("staging/app.env", "A=1\n")
            .write("production/app.env", "");
        let outcome = fixture.check("staging/app.env", "production/app.env");
        assert_eq!(
            outcome.verdict.summary,
            format!(
                "1 of 3 checks failed: A missing from {}",
                fixture.label("production/app.env")
            )
        );
    }

    #[test]
    fn ignored_keys_are_noted_and_not_checked() {
        let outcome = Fixture::new()
            .write("a.json", r#"{"debug": {"level": {"x": 1}}, "port": 1}"#)
            .write("b.json", r#"{"port": 1}"#)
            .ignore(&["debug.*"])
            .check("a.json", "b.json");
        assert_eq!(outcome.verdict, Verdict::pass("3 checks passed"));
        outcome.logged("· debug.level.x ignored (\"debug.*\")");
    }

    #[test]
    fn same_is_checked_even_for_ignored_keys() {
        let outcome = Fixture::new()
            .write("a.toml", "[debug]\nlevel = 1\n")
            .write("b.toml", "[debug]\nlevel = 2\n")
            .same(&["debug.level"])
            .ignore(&["debug"])
            .check("a.toml", "b.toml");
        assert!(!outcome.verdict.passed);
        outcome.logged("debug.level differs: 1 in ");
    }

    #[test]
    fn required_keys_must_be_present_and_not_empty() {
        let outcome = Fixture::new()
            .write(
                "a.toml",
                "url = \"\"\nhosts = []\nextra = {}\nname = \"x\"\nport = 0\nflag = false\n",
            )
            .write(
                "b.toml",
                "url = \"\"\nhosts = []\nextra = {}\nname = \"x\"\nport = 0\nflag = false\n",
            )
            .require(&[
                "url",
                "hosts",
                "extra",
                "name",
                "port",
                "flag",
                "database.url",
            ])
            .check("a.toml", "b.toml");
        outcome
            .logged("✗ url is empty in ")
            .logged("✗ hosts is empty in ")
            .logged("✗ extra is empty in ")
            .logged("✓ name is set in ")
            .logged("✓ port is set in ")
            .logged("✓ flag is set in ");
        assert!(
            outcome.log.contains("✗ database.url is missing from "),
            "{}",
            outcome.log
        );
        assert!(
            outcome
                .verdict
                .summary
                .starts_with("4 of 15 checks failed: "),
            "{}",
            outcome.verdict.summary
        );
        assert!(outcome.verdict.summary.ends_with("; and 1 more"));
    }

    #[test]
    fn a_null_json_value_is_not_set() {
        let fixture = Fixture::new()
            .write("a.json", r#"{"url": null}"#)
            .write("b.json", r#"{"url": "x"}"#)
            .require(&["url"]);
        let outcome = fixture.check("a.json", "b.json");
        outcome.logged(&format!(
            "✗ url is empty in {} (required)",
            fixture.label("a.json")
        ));
    }

    #[test]
    fn a_require_or_same_pattern_that_matches_nothing_fails() {
        let fixture = Fixture::new()
            .write("a.toml", "a = 1\n")
            .write("b.toml", "a = 1\n")
            .require(&["database.*"])
            .same(&["cache.*", "a"]);
        let outcome = fixture.check("a.toml", "b.toml");
        outcome
            .logged(&format!(
                "✗ require pattern \"database.*\" matches no key in {}",
                fixture.label("a.toml")
            ))
            .logged("✗ same pattern \"cache.*\" matches no key in either file")
            .logged("✓ a is the same in both files");
        assert_eq!(
            outcome.verdict.summary,
            "2 of 5 checks failed: require \"database.*\" matches no key; \
             same \"cache.*\" matches no key"
        );
    }

    #[test]
    fn a_mismatch_shows_both_values_compactly() {
        let outcome = Fixture::new()
            .write("a.toml", "[cache]\nhosts = [\"a\", \"b\"]\n")
            .write("b.json", r#"{"cache": {"hosts": ["a"]}}"#)
            .same(&["cache.*"])
            .check("a.toml", "b.json");
        assert!(
            outcome
                .log
                .contains("✗ cache.hosts differs: [\"a\",\"b\"] in "),
            "{}",
            outcome.log
        );
        assert!(outcome.log.contains(", [\"a\"] in "), "{}", outcome.log);
        assert!(outcome.verdict.summary.ends_with(": cache.hosts differs"));
    }

    #[test]
    fn values_of_secret_keys_are_masked_in_any_case_and_at_any_depth() {
        let fixture = Fixture::new()
            .write(
                "a.toml",
                "[db]\nPassword = \"hunter2\"\n[api]\ntoken = \"t1\"\n\
                 servers = [{ host = \"a\", apiKey = \"k1\" }]\n",
            )
            .write(
                "b.toml",
                "[db]\nPassword = \"swordfish\"\n[api]\ntoken = \"t2\"\n\
                 servers = [{ host = \"b\", apiKey = \"k2\" }]\n",
            )
            .same(&["**"]);
        let outcome = fixture.check("a.toml", "b.toml");
        for secret in ["hunter2", "swordfish", "t1", "t2", "k1", "k2"] {
            assert!(
                !outcome.log.contains(secret),
                "{secret} leaked:\n{}",
                outcome.log
            );
        }
        let (a, b) = (fixture.label("a.toml"), fixture.label("b.toml"));
        outcome
            .logged(&format!("✗ db.Password differs: {MASK} in {a}, {MASK} in {b}"))
            .logged(&format!("✗ api.token differs: {MASK} in {a}, {MASK} in {b}"))
            .logged(&format!(
                r#"✗ api.servers differs: [{{"apiKey":"[masked]","host":"a"}}] in {a}, [{{"apiKey":"[masked]","host":"b"}}] in {b}"#
            ));
    }

    #[test]
    fn long_values_are_cut_short() {
        let long = "x".repeat(1000);
        let shown = show_value(&key("a"), &Value::String(long));
        assert_eq!(shown.chars().count(), VALUE_WIDTH + 1);
        assert!(shown.ends_with('…'));
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
    fn a_parse_error_names_the_file_line_and_column() {
        let fixture = Fixture::new()
            .write("a.toml", "ok = 1\nbroken = \n")
            .write("b.toml", "ok = 1\n")
            .require(&["ok"]);
        let outcome = fixture.check("a.toml", "b.toml");
        let a = fixture.label("a.toml");
        assert!(!outcome.verdict.passed);
        assert!(
            outcome
                .verdict
                .summary
                .starts_with(&format!("1 of 2 checks failed: {a}:2:10: invalid TOML: ")),
            "{}",
            outcome.verdict.summary
        );
        outcome
            .logged(&format!("required keys not checked: {a} could not be read"))
            .logged("keys and values not compared: both files must be read first");
    }

    #[test]
    fn required_keys_are_checked_even_when_the_reference_does_not_parse() {
        let outcome = Fixture::new()
            .write("a.json", r#"{"url": ""}"#)
            .write("b.json", "{")
            .require(&["url"])
            .check("a.json", "b.json");
        assert!(outcome.verdict.summary.starts_with("2 of 3 checks failed"));
        assert!(
            outcome.log.contains("✗ url is empty in "),
            "{}",
            outcome.log
        );
        assert!(
            outcome.log.contains("b.json:1:1: invalid JSON: "),
            "{}",
            outcome.log
        );
    }

    #[test]
    fn a_missing_file_is_named_with_what_was_expected() {
        let fixture = Fixture::new().write("b.env", "A=1\n");
        let outcome = fixture.check("a.env", "b.env");
        let a = fixture.label("a.env");
        assert!(
            outcome.verdict.summary.starts_with(&format!(
                "1 of 2 checks failed: cannot read {a} (expected a .env file there): "
            )),
            "{}",
            outcome.verdict.summary
        );
    }

    #[test]
    fn an_unknown_extension_says_which_are_expected() {
        let fixture = Fixture::new()
            .write("a.yaml", "a: 1\n")
            .write("b.toml", "a = 1\n");
        let outcome = fixture.check("a.yaml", "b.toml");
        let a = fixture.label("a.yaml");
        assert_eq!(
            outcome.verdict.summary,
            format!(
                "1 of 2 checks failed: {a}: unknown file type; expected a name ending in .toml, .json or .env"
            )
        );
    }

    #[test]
    fn unreadable_or_odd_input_fails_without_panicking() {
        let fixture = Fixture::new()
            .write("a.toml", "a = 1\n")
            .write("b.json", "\"just a string\"");
        std::fs::write(fixture.dir.path().join("c.env"), [0xff, 0xfe, b'\n']).unwrap();
        std::fs::create_dir(fixture.dir.path().join("d.toml")).unwrap();
        for other in ["b.json", "c.env", "d.toml"] {
            let outcome = fixture.check("a.toml", other);
            assert!(!outcome.verdict.passed, "{other}: {}", outcome.log);
        }
    }

    #[test]
    fn a_byte_order_mark_is_allowed() {
        let outcome = Fixture::new()
            .write("a.json", "\u{feff}{\"a\": 1}")
            .write("b.env", "\u{feff}a=1\n")
            .check("a.json", "b.env");
        assert_eq!(
            outcome.verdict,
            Verdict::pass("3 checks passed"),
            "{}",
            outcome.log
        );
    }

    #[test]
    fn the_summary_names_three_failures_then_counts_the_rest() {
        let fixture = Fixture::new()
            .write("a.toml", "a = 1\nb = 1\nc = 1\nd = 1\ne = 1\n")
            .write("b.toml", "");
        let outcome = fixture.check("a.toml", "b.toml");
        assert_eq!(
            outcome.verdict.summary,
            "5 of 7 checks failed: a missing from b.toml; b missing from b.toml; \
             c missing from b.toml; and 2 more"
        );
    }

    #[test]
    fn paths_are_shown_without_detours_and_relative_to_the_current_directory() {
        assert_eq!(
            display_path(Path::new("runbooks/../config/./staging.toml")),
            "config/staging.toml"
        );
        let cwd = std::env::current_dir().unwrap();
        assert_eq!(
            display_path(&cwd.join("config/app.toml")),
            "config/app.toml"
        );
        assert_eq!(
            display_path(Path::new("/elsewhere/app.toml")),
            "/elsewhere/app.toml"
        );
        assert_eq!(display_path(Path::new("../up.toml")), "../up.toml");
    }
}
