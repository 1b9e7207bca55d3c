//! The `config` action: check that a configuration file agrees with a reference file.
//!
//! Configuration drift between environments is a common reason a release fails after it has
//! shipped: a key added to staging but forgotten in production, a cache setting that differs
//! without anyone deciding it should, a database URL left empty. This action catches that drift
//! before anything irreversible happens. It reads both files (TOML, JSON, YAML or `.env`,
//! chosen by the file name), flattens each into dotted key paths, and checks that every
//! `require`d key is set, that both files have the same keys (except `ignore`d ones), and that
//! the keys listed in `same` have equal values. Every check made goes to the step's log, one per
//! line, so that a passing step shows what it proved; every problem is found in one attempt, so
//! one run shows all of them.
//!
//! Patterns are dotted paths: `*` matches exactly one segment, `**` any number of segments (zero
//! or more), and any other segment only itself. A pattern that names a table covers every key
//! inside it, so `require = ["database"]` requires everything under `[database]` and
//! `ignore = ["debug.*"]` also ignores tables nested in `debug`. A key listed in `same` must be
//! in both files with equal values even when it also matches `ignore`, because `same` is the more
//! specific request. Values of keys whose name mentions a secret, token, password or key are
//! never written out, so that a mismatch cannot leak them into the log or the change note.
//!
//! This module holds the entry point and the `require` check; reading the formats, flattening,
//! patterns, the comparison of the two files, masking and the log each have a module of their
//! own.

use std::io::Write;

use super::Verdict;
use crate::text::words::plural;
use compare::Pair;
use flat::{Flat, Key, is_empty, show_key};
use pattern::{Pattern, select};
use report::Report;
use source::Source;

pub mod spec;

use spec::PlannedConfig;

mod compare;
mod flat;
mod format;
mod pattern;
mod redact;
mod report;
mod source;
mod yaml;

/// Performs the check, writing every check made and its result to `log`.
pub fn run(check: &PlannedConfig, log: &mut dyn Write) -> Verdict {
    let (file, against) = Source::pair(&check.file, &check.against);
    let mut report = Report::new(log);
    report.note(format_args!("checking {file} against {against}"));

    let file_keys = load_checked(&file, &mut report);
    let against_keys = load_checked(&against, &mut report);
    match &file_keys {
        Some(keys) => check_required(&check.require, keys, &file, &mut report),
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
            pair.compare(&check.same, &check.ignore, &mut report);
        }
        _ => report.note("keys and values not compared: both files must be read first"),
    }
    report.verdict()
}

/// Loads one file as a check of its own, so that an unreadable file is one reported failure.
fn load_checked(source: &Source<'_>, report: &mut Report<'_>) -> Option<Flat> {
    match format::load(source) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use redact::MASK;
    use source::display_path;

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
                &PlannedConfig {
                    file,
                    against,
                    require: self.require.clone(),
                    same: self.same.clone(),
                    ignore: self.ignore.clone(),
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
            .write("a.ini", "a = 1\n")
            .write("b.toml", "a = 1\n");
        let outcome = fixture.check("a.ini", "b.toml");
        let a = fixture.label("a.ini");
        assert_eq!(
            outcome.verdict.summary,
            format!(
                "1 of 2 checks failed: {a}: unknown file type; expected a file name ending in .toml, .json, .yaml, .yml or .env (or starting with .env.)"
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
}
