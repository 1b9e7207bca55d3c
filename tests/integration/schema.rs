//! What shipbook prints about itself for other tools: the JSON Schema of the runbook format
//! (`shipbook schema`, kept in `runbooks/schema.json`) and the shell completions.
//!
//! The schema is checked with an independent validator (the `jsonschema` crate), against the
//! bundled runbooks and the ones `shipbook init` writes, and against documents that
//! `shipbook check` refuses, so that an editor using it flags what shipbook would.

use std::path::PathBuf;

use crate::test::Test;

fn repository_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn printed_schema() -> String {
    Test::bare().shipbook(&["schema"]).success().stdout
}

fn validator() -> jsonschema::Validator {
    let schema: serde_json::Value =
        serde_json::from_str(&printed_schema()).expect("the schema is JSON");
    jsonschema::validator_for(&schema).expect("the schema is a valid JSON Schema")
}

/// A TOML document as the JSON value an editor validates.
fn as_json(toml_text: &str) -> serde_json::Value {
    let value: toml::Value = toml::from_str(toml_text).expect("valid TOML");
    serde_json::to_value(value).expect("TOML converts to JSON")
}

fn errors(validator: &jsonschema::Validator, document: &serde_json::Value) -> Vec<String> {
    validator
        .iter_errors(document)
        .map(|error| format!("{} at {}", error, error.instance_path()))
        .collect()
}

#[test]
fn the_kept_schema_is_what_shipbook_prints() {
    let kept = std::fs::read_to_string(repository_root().join("runbooks/schema.json"))
        .expect("runbooks/schema.json exists (`cargo xtask schema` writes it)");
    assert!(
        kept == printed_schema(),
        "runbooks/schema.json is stale: run `cargo xtask schema`"
    );
}

#[test]
fn every_bundled_runbook_names_the_schema_and_validates() {
    let validator = validator();
    let dir = repository_root().join("runbooks");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).expect("runbooks/ exists") {
        let path = entry.expect("a directory entry").path();
        if path.extension().is_none_or(|extension| extension != "toml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("readable");
        assert_eq!(
            text.lines().next(),
            Some("#:schema ./schema.json"),
            "{} does not start with the schema directive",
            path.display()
        );
        let found = errors(&validator, &as_json(&text));
        assert!(found.is_empty(), "{}: {found:#?}", path.display());
        checked += 1;
    }
    assert!(checked >= 2, "the bundled runbooks were not found");
}

const VALID: &str = r#"
[runbook]
name = "web"
shell = ["bash", "-c"]

[vars]
version = "1.0"
replicas = 3
ratio = "0.5"
canary = true

[environments.staging]
vars = { url = "http://127.0.0.1:8080" }
env = { DEPLOY_ENV = "staging" }

[secrets]
env = ["DEPLOY_TOKEN"]

[[metrics]]
name = "p95"
command = ["./p95.sh"]
better = "lower"
max_regression = "10%"

[[steps]]
id = "lint"
run = "make lint"
timeout = "1h30m"
retries = 2
retry_delay = "500ms"
only = ["staging"]

[[steps]]
id = "health"
http = { url = "{{ url }}/health", status = 200, timeout = "60s", interval = "2s" }

[rollback]
run = ["./deploy.sh", "{{ git.previous_tag }}"]
"#;

/// Each case replaces one line of `VALID`, making a document that `shipbook check` refuses; the
/// schema must refuse it too.
const REFUSED: [(&str, &str, &str); 13] = [
    (
        "unknown key",
        r#"run = "make lint""#,
        "run = \"make lint\"\nrunn = \"x\"",
    ),
    ("unknown table", "[secrets]", "[secret]"),
    ("no action", r#"run = "make lint""#, ""),
    (
        "two actions",
        r#"run = "make lint""#,
        "run = \"make lint\"\nconfirm = \"ok?\"",
    ),
    (
        "bad duration",
        r#"timeout = "1h30m""#,
        r#"timeout = "10 min""#,
    ),
    (
        "fraction",
        r#"retry_delay = "500ms""#,
        r#"retry_delay = "1.5s""#,
    ),
    ("retries out of range", "retries = 2", "retries = 500"),
    ("bad name", r#"name = "web""#, r#"name = "Web App""#),
    (
        "bad on_failure",
        r#"name = "web""#,
        "name = \"web\"\non_failure = \"panic\"",
    ),
    ("empty argv", r#"command = ["./p95.sh"]"#, "command = []"),
    ("table as a var", "canary = true", "canary = { a = 1 }"),
    ("float as a var", "replicas = 3", "replicas = 1.10"),
    ("bad better", r#"better = "lower""#, r#"better = "less""#),
];

#[test]
fn the_schema_accepts_what_check_accepts() {
    let test = Test::new().runbook("web", VALID);
    test.shipbook(&["check"]).success();
    let found = errors(&validator(), &as_json(VALID));
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn the_schema_refuses_what_check_refuses() {
    let validator = validator();
    for (what, line, replacement) in REFUSED {
        assert_eq!(
            VALID.matches(line).count(),
            1,
            "{what}: `{line}` is not unique"
        );
        let document = VALID.replacen(line, replacement, 1);
        let test = Test::new().runbook("web", &document);
        test.shipbook(&["check"]).code(2);
        assert!(
            !validator.is_valid(&as_json(&document)),
            "{what}: the schema accepts\n{document}"
        );
    }
}

#[test]
fn an_unknown_key_fails_validation_of_a_bundled_runbook() {
    let text = std::fs::read_to_string(repository_root().join("runbooks/release.toml"))
        .expect("the bundled release runbook");
    let mut document = as_json(&text);
    document["steps"][0]["runn"] = serde_json::json!("cargo clippy");
    let found = errors(&validator(), &document);
    assert!(
        found.iter().any(|error| error.contains("runn")),
        "{found:#?}"
    );
    let mut document = as_json(&text);
    document["runbok"] = serde_json::json!({});
    assert!(!validator().is_valid(&document));
}

/// `shipbook init` writes the schema beside its runbook, and the runbook validates against it.
#[test]
fn the_runbooks_init_writes_validate() {
    let validator = validator();
    let projects: [(&str, &str); 5] = [
        (
            "Cargo.toml",
            "[package]\nname = \"api\"\nversion = \"1.2.3\"\n",
        ),
        (
            "package.json",
            r#"{"name": "@team/web", "version": "2.0.0", "scripts": {"lint": "eslint .", "test": "jest"}}"#,
        ),
        (
            "pyproject.toml",
            "[project]\nname = \"tool\"\nversion = \"0.3.0\"\n",
        ),
        ("go.mod", "module example.com/team/svc/v2\n\ngo 1.22\n"),
        ("README.md", "no manifest here\n"),
    ];
    for (manifest, content) in projects {
        let test = Test::new();
        test.write(manifest, content);
        test.shipbook(&["init"]).success();
        let runbook = test.read("runbooks/release.toml");
        let found = errors(&validator, &as_json(&runbook));
        assert!(found.is_empty(), "{manifest}: {found:#?}\n{runbook}");
        assert_eq!(
            test.read("runbooks/schema.json"),
            printed_schema(),
            "{manifest}: the schema init writes is not `shipbook schema`"
        );
    }
}

#[test]
fn completions_exist_for_every_shell() {
    let test = Test::bare();
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let run = test.shipbook(&["completions", shell]).success();
        assert!(
            run.stdout.contains("shipbook") && run.stdout.contains("rehearse"),
            "{shell}: {}",
            run.stdout
        );
    }
}

#[test]
fn an_unknown_shell_lists_the_known_ones() {
    Test::bare()
        .shipbook(&["completions", "tcsh"])
        .code(2)
        .stderr_has("invalid value 'tcsh'")
        .stderr_has("bash")
        .stderr_has("powershell");
}
