//! The dotted key patterns of `require`, `same` and `ignore`.
//!
//! A runbook names keys the way they are nested, and a team's config often repeats a shape
//! (`*.url` for every service, `**.password` at any depth), so patterns match segments: `*`
//! exactly one, `**` any number (zero or more), anything else only itself. A pattern that names
//! a table covers every key inside it, so that `ignore = ["debug"]` need not list its keys.

use std::collections::BTreeSet;
use std::fmt;

use super::flat::Key;

/// A dotted key pattern from `require`, `same` or `ignore`.
pub(super) struct Pattern<'a> {
    pub(super) text: &'a str,
    segments: Vec<&'a str>,
}

impl<'a> Pattern<'a> {
    fn new(text: &'a str) -> Pattern<'a> {
        Pattern {
            text,
            segments: text.split('.').collect(),
        }
    }

    pub(super) fn all(texts: &'a [String]) -> Vec<Pattern<'a>> {
        texts.iter().map(|text| Pattern::new(text)).collect()
    }

    /// Whether the pattern has no wildcard, so that matching nothing means a missing key.
    pub(super) fn is_literal(&self) -> bool {
        !self
            .segments
            .iter()
            .any(|segment| *segment == "*" || *segment == "**")
    }

    /// Whether the pattern names `key` or one of the tables that contain it.
    pub(super) fn covers(&self, key: &[String]) -> bool {
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
pub(super) fn select<'k, 'p>(
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actions::config::flat::tests::key;

    fn covers(pattern: &str, dotted: &str) -> bool {
        Pattern::new(pattern).covers(&key(dotted))
    }

    fn exactly(pattern: &str, dotted: &str) -> bool {
        let pattern = Pattern::new(pattern);
        segments_match(&pattern.segments, &key(dotted))
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
}
