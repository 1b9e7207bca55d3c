//! The `config` action through the binary: a step that compares a configuration file with a
//! reference file, fails the run when they disagree, and leaves every check it made in its log.

use crate::test::{Test, assert_has, step_outcome};

/// A runbook with one `config` step whose table is `config`.
fn runbook(config: &str) -> String {
    format!(
        "[runbook]\nname = \"web\"\ndir = \"..\"\n\n[[steps]]\nid = \"staging-config\"\nconfig = {config}\n"
    )
}

/// The design's example step: staging checked against production.
const EXAMPLE: &str = r#"{ file = "config/staging.toml", against = "config/production.toml", require = ["database.url"], same = ["cache.*"], ignore = ["debug.*"] }"#;

const STAGING: &str = r#"
[database]
url = "postgres://staging-db/app"
pool = 5

[cache]
host = "redis.internal"
ttl = 300

[debug]
verbose = true
"#;

const PRODUCTION: &str = r#"
[database]
url = "postgres://production-db/app"
pool = 20

[cache]
host = "redis.internal"
ttl = 300
"#;

/// A test repository with the example step and the given two config files.
fn example(staging: &str, production: &str) -> Test {
    let test = Test::new().runbook("web", &runbook(EXAMPLE));
    test.write("config/staging.toml", staging)
        .write("config/production.toml", production);
    test
}

/// Runs the runbook, expecting the config step to fail; returns its detail and its log.
#[track_caller]
fn failing(test: &Test) -> (String, String) {
    test.shipbook(&["run", "runbooks/web.toml"])
        .code(1)
        .stderr_has("staging-config");
    step_outcome(test, "failed")
}

#[test]
fn matching_files_pass_and_the_log_lists_every_check() {
    let test = example(STAGING, PRODUCTION);
    test.shipbook(&["run", "runbooks/web.toml"]).success();
    let (detail, log) = step_outcome(&test, "succeeded");
    assert_eq!(detail, "7 checks passed");
    for line in [
        "· checking config/staging.toml against config/production.toml",
        "✓ config/staging.toml parses as TOML (5 keys)",
        "✓ config/production.toml parses as TOML (4 keys)",
        "✓ database.url is set in config/staging.toml",
        "✓ cache.host is the same in both files",
        "✓ cache.ttl is the same in both files",
        "✓ database.pool is in both files",
        "✓ database.url is in both files",
        "· debug.verbose ignored (\"debug.*\")",
        "· 7 checks passed",
    ] {
        assert!(
            log.lines().any(|logged| logged == line),
            "{line:?} not in:\n{log}"
        );
    }
}

#[test]
fn env_and_json_files_are_compared_too() {
    let test = Test::new().runbook(
        "web",
        &runbook(
            r#"{ file = "deploy/.env", against = "deploy/reference.json", require = ["API_URL"], same = ["REGION"] }"#,
        ),
    );
    test.write(
        "deploy/.env",
        "API_URL=https://api.test\nREGION=eu-west-1\n",
    )
    .write(
        "deploy/reference.json",
        r#"{"API_URL": "https://api.example", "REGION": "eu-west-1"}"#,
    );
    test.shipbook(&["run", "runbooks/web.toml"]).success();
    let (detail, log) = step_outcome(&test, "succeeded");
    assert_eq!(detail, "5 checks passed");
    assert_has(&log, "✓ deploy/.env parses as .env (2 keys)");
    assert_has(&log, "✓ deploy/reference.json parses as JSON (2 keys)");
    assert_has(&log, "✓ REGION is the same in both files");
}

#[test]
fn a_key_missing_from_either_file_is_reported_with_that_file() {
    let test = example(
        &format!("{STAGING}\n[feature]\nnew_checkout = true\n"),
        &format!("{PRODUCTION}\n[limits]\nrequests = 100\n"),
    );
    let (detail, log) = failing(&test);
    assert_eq!(
        detail,
        "2 of 9 checks failed: feature.new_checkout missing from production.toml; \
         limits.requests missing from staging.toml"
    );
    assert_has(
        &log,
        "✗ feature.new_checkout is missing from config/production.toml (it is in config/staging.toml)",
    );
    assert_has(
        &log,
        "✗ limits.requests is missing from config/staging.toml (it is in config/production.toml)",
    );
    assert_has(&log, "✓ database.url is in both files");
}

#[test]
fn an_empty_required_key_fails() {
    let test = example(
        &STAGING.replace("postgres://staging-db/app", ""),
        PRODUCTION,
    );
    let (detail, log) = failing(&test);
    assert_eq!(
        detail,
        "1 of 7 checks failed: database.url empty in staging.toml"
    );
    assert_has(
        &log,
        "✗ database.url is empty in config/staging.toml (required)",
    );
}

#[test]
fn a_differing_value_is_shown_and_a_differing_secret_is_masked() {
    let test = Test::new().runbook(
        "web",
        &runbook(
            r#"{ file = "config/staging.toml", against = "config/production.toml", same = ["cache.*"] }"#,
        ),
    );
    test.write(
        "config/staging.toml",
        "[cache]\nhost = \"redis-staging\"\nauth_token = \"staging-s3cr3t\"\n",
    )
    .write(
        "config/production.toml",
        "[cache]\nhost = \"redis-production\"\nauth_token = \"production-s3cr3t\"\n",
    );
    let (detail, log) = failing(&test);
    assert_eq!(
        detail,
        "2 of 4 checks failed: cache.auth_token differs; cache.host differs"
    );
    assert_has(
        &log,
        "✗ cache.auth_token differs: [masked] in config/staging.toml, [masked] in config/production.toml",
    );
    assert_has(
        &log,
        "✗ cache.host differs: \"redis-staging\" in config/staging.toml, \"redis-production\" in config/production.toml",
    );
    assert!(
        !log.contains("s3cr3t"),
        "a secret leaked into the log:\n{log}"
    );
    let note = test.last_run()["note"]
        .as_str()
        .map(std::fs::read_to_string);
    if let Some(Ok(note)) = note {
        assert!(
            !note.contains("s3cr3t"),
            "a secret leaked into the note:\n{note}"
        );
    }
}

#[test]
fn a_same_pattern_that_matches_no_key_fails() {
    let test = Test::new().runbook(
        "web",
        &runbook(
            r#"{ file = "config/staging.toml", against = "config/production.toml", same = ["caches.*"] }"#,
        ),
    );
    test.write("config/staging.toml", STAGING)
        .write("config/production.toml", STAGING);
    let (detail, log) = failing(&test);
    assert_eq!(
        detail,
        "1 of 8 checks failed: same \"caches.*\" matches no key"
    );
    assert_has(
        &log,
        "✗ same pattern \"caches.*\" matches no key in either file",
    );
}

#[test]
fn a_require_pattern_that_matches_no_key_fails() {
    let test = Test::new().runbook(
        "web",
        &runbook(
            r#"{ file = "config/staging.toml", against = "config/production.toml", require = ["db.*"] }"#,
        ),
    );
    test.write("config/staging.toml", STAGING)
        .write("config/production.toml", STAGING);
    let (detail, log) = failing(&test);
    assert_eq!(
        detail,
        "1 of 8 checks failed: require \"db.*\" matches no key"
    );
    assert_has(
        &log,
        "✗ require pattern \"db.*\" matches no key in config/staging.toml",
    );
}

#[test]
fn a_parse_error_names_the_file_line_and_column() {
    let test = example(
        STAGING,
        "[database]\nurl = \"postgres://production-db/app\"\npool = \n",
    );
    let (detail, log) = failing(&test);
    assert!(
        detail.starts_with("1 of 3 checks failed: config/production.toml:3:8: invalid TOML: "),
        "{detail}"
    );
    assert_has(&log, "✗ config/production.toml:3:8: invalid TOML: ");
    assert_has(&log, "✓ database.url is set in config/staging.toml");
    assert_has(
        &log,
        "· keys and values not compared: both files must be read first",
    );
}

#[test]
fn a_json_parse_error_names_the_file_line_and_column() {
    let test = Test::new().runbook(
        "web",
        &runbook(r#"{ file = "config/staging.json", against = "config/production.json" }"#),
    );
    test.write("config/staging.json", "{\n  \"a\": 1,\n}\n")
        .write("config/production.json", "{\"a\": 1}");
    let (detail, _) = failing(&test);
    assert_eq!(
        detail,
        "1 of 2 checks failed: config/staging.json:3:1: invalid JSON: trailing comma"
    );
}

#[test]
fn a_missing_file_fails_naming_it() {
    let test = example(STAGING, PRODUCTION);
    std::fs::remove_file(test.join("config/production.toml")).unwrap();
    let (detail, log) = failing(&test);
    assert!(
        detail.starts_with(
            "1 of 3 checks failed: cannot read config/production.toml (expected a TOML file there): "
        ),
        "{detail}"
    );
    assert_has(&log, "✗ cannot read config/production.toml");
}

#[test]
fn a_file_of_an_unsupported_type_is_refused_by_check_before_anything_runs() {
    let test = Test::new().runbook(
        "web",
        &format!(
            "[runbook]\nname = \"web\"\ndir = \"..\"\n\n[[steps]]\nid = \"first\"\nrun = \"touch first-ran\"\n\n\
             [[steps]]\nid = \"staging-config\"\nconfig = {}\n",
            r#"{ file = "config/staging.ini", against = "config/production.toml" }"#
        ),
    );
    test.write("config/staging.ini", "a = 1\n")
        .write("config/production.toml", "a = 1\n");
    test.shipbook(&["check", "runbooks/web.toml"])
        .code(2)
        .stderr_has("error: `config/staging.ini` is not a kind of file the `config` action reads")
        .stderr_has("--> runbooks/web.toml:11:20")
        .stderr_has(
            "expected: a file name ending in .toml, .json, .yaml, .yml or .env (or starting with .env.)",
        );
    test.shipbook(&["run", "runbooks/web.toml"]).code(2);
    assert!(
        !test.join("first-ran").exists(),
        "no step runs before the refusal"
    );
    // A name known only once its variables are rendered is refused by the plan, again before
    // the first step.
    test.write(
        "runbooks/web.toml",
        "[runbook]\nname = \"web\"\ndir = \"..\"\n[vars]\nkind = \"ini\"\n\n[[steps]]\nid = \"first\"\nrun = \"touch first-ran\"\n\n\
         [[steps]]\nid = \"staging-config\"\nconfig = { file = \"config/staging.{{ kind }}\", against = \"config/production.toml\" }\n",
    );
    test.shipbook(&["check", "runbooks/web.toml"]).success();
    test.shipbook(&["run", "runbooks/web.toml"])
        .code(2)
        .stderr_has("config/staging.ini` is not a kind of file the `config` action reads");
    assert!(!test.join("first-ran").exists());
}

#[test]
fn yaml_files_are_compared_like_the_others() {
    let test = Test::new().runbook(
        "web",
        &runbook(
            r#"{ file = "deploy/staging/values.yaml", against = "deploy/production/values.yml", require = ["image.tag"], same = ["image.repository", "ingress.enabled"], ignore = ["replicas", "defaults"] }"#,
        ),
    );
    test.write(
        "deploy/staging/values.yaml",
        "# Helm values\nreplicas: 1\nimage:\n  repository: registry.test/web\n  tag: \"1.4.3\"\ningress:\n  enabled: yes\n",
    )
    .write(
        "deploy/production/values.yml",
        "defaults: &defaults\n  enabled: true\nreplicas: 3\nimage:\n  repository: registry.test/web\n  tag: \"1.4.2\"\ningress:\n  <<: *defaults\n",
    );
    let (detail, log) = failing(&test);
    // `yes` is text in YAML 1.2, not `true`: the two files really differ there.
    assert_eq!(detail, "1 of 6 checks failed: ingress.enabled differs");
    assert_has(&log, "✓ deploy/staging/values.yaml parses as YAML (4 keys)");
    assert_has(&log, "✓ image.tag is set in deploy/staging/values.yaml");
    assert_has(&log, "✓ image.repository is the same in both files");

    test.write(
        "deploy/staging/values.yaml",
        "image:\n  repository: registry.test/web\n  tag: \"1.4.3\"\n  tag: \"1.4.4\"\n",
    );
    let (detail, _) = failing(&test);
    assert_eq!(
        detail,
        "1 of 2 checks failed: deploy/staging/values.yaml:4:3: invalid YAML: duplicate mapping key: tag"
    );
}

#[test]
fn every_problem_is_reported_in_one_attempt() {
    let test = example(
        &STAGING
            .replace("postgres://staging-db/app", "")
            .replace("ttl = 300", "ttl = 60"),
        &format!("{PRODUCTION}\n[limits]\nrequests = 100\n"),
    );
    let (detail, log) = failing(&test);
    assert_eq!(
        detail,
        "3 of 8 checks failed: database.url empty in staging.toml; cache.ttl differs; \
         limits.requests missing from staging.toml"
    );
    assert_has(
        &log,
        "✗ cache.ttl differs: 60 in config/staging.toml, 300 in config/production.toml",
    );
    assert_has(&log, "· 3 of 8 checks failed: ");
}
