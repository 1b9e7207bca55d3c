//! Named approvers and the note's front matter: who approved a `confirm` step is recorded and
//! named, and the note's facts at its top parse back as YAML.

use std::collections::BTreeMap;

use crate::test::{Test, note_body};

const APPROVED: &str = r#"[runbook]
name = "web"
dir = ".."

[vars]
version = "2.4.0"

[[steps]]
id = "build"
run = "echo build"

[[steps]]
id = "approve"
confirm = "Deploy {{ version }}?"
approvers = ["alice", "bob"]

[[steps]]
id = "deploy"
run = "echo deploy >> journal"
"#;

/// The YAML between a note's first two `---` lines.
fn front_matter(note: &str) -> &str {
    note.strip_prefix("---\n")
        .and_then(|rest| rest.split_once("\n---\n"))
        .map(|(yaml, _)| yaml)
        .unwrap_or_else(|| panic!("no front matter:\n{note}"))
}

fn project() -> Test {
    let test = Test::new().runbook("web", APPROVED);
    test.write(".gitignore", "journal\n");
    test.commit("runbook");
    test
}

#[test]
fn yes_needs_a_named_approver_who_is_on_the_list() {
    let test = project();
    test.shipbook(&["run", "runbooks/web.toml", "--yes"])
        .code(2)
        .stderr_has("--approver");
    test.shipbook(&["run", "runbooks/web.toml", "--yes", "--approver", "mallory"])
        .code(3)
        .stderr_has("approve");
    let refused = test.last_run();
    let detail = refused["steps"][1]["detail"].as_str().unwrap();
    assert!(
        detail.contains("mallory is not one of its approvers (alice, bob)"),
        "{detail}"
    );
    assert!(
        !test.join("journal").exists(),
        "nothing after the approval ran"
    );

    test.shipbook(&["run", "runbooks/web.toml", "--yes", "--approver", "alice"])
        .success();
    let record = test.last_run();
    assert_eq!(record["steps"][1]["approved_by"], "alice");
    let note = test.shipbook(&["note", "last"]).success().stdout;
    assert!(note_body(&note).contains("approved by alice"), "{note}");
}

#[test]
fn the_front_matter_parses_back_as_yaml_with_the_runs_facts() {
    let test = project();
    let reason = "fix: \"checkout\" # 500s\n--- and more";
    test.shipbook(&[
        "run",
        "runbooks/web.toml",
        "--yes",
        "--approver",
        "bob",
        "--reason",
        reason,
    ])
    .success();
    let note = test.shipbook(&["note", "last"]).success().stdout;
    let yaml = front_matter(&note);
    let facts: BTreeMap<String, serde_json::Value> = serde_saphyr::from_str(yaml).unwrap();
    let record = test.last_run();
    assert_eq!(facts["runbook"], "web");
    assert_eq!(facts["version"], "2.4.0");
    assert_eq!(facts["status"], "succeeded");
    assert_eq!(facts["run_id"], record["run_id"]);
    assert_eq!(facts["commit"], record["git_sha"]);
    assert_eq!(facts["approvers"], serde_json::json!(["bob"]));
    assert_eq!(facts["content_hash"], record["content_hash"]);
    assert!(facts["finished"].is_string());
    // `note --format json` gives the same fields.
    let json = test
        .shipbook(&["note", "last", "--format", "json"])
        .success()
        .json();
    for (key, value) in &facts {
        assert_eq!(&json["front_matter"][key], value, "{key}");
    }
}

#[test]
fn approvers_are_checked_where_they_are_written() {
    let test = Test::new().runbook(
        "web",
        r#"[runbook]
name = "web"

[[steps]]
id = "build"
run = "true"
approvers = ["alice"]

[[steps]]
id = "approve"
confirm = "Go?"
approvers = ["alice", "alice"]
"#,
    );
    let check = test.shipbook(&["check", "runbooks/web.toml"]).code(2);
    for needle in [
        "`approvers` on a `run` step",
        "`alice` is listed twice",
        // The duplicate itself is pointed at, not the whole list.
        "runbooks/web.toml:12:23",
    ] {
        assert!(check.stderr.contains(needle), "{needle}:\n{}", check.stderr);
    }
}

#[test]
fn yes_without_an_approver_is_fine_when_the_named_step_will_not_run() {
    let test = project();
    test.shipbook(&["run", "runbooks/web.toml", "--yes", "--only", "build"])
        .success();
}

#[test]
fn a_resume_past_the_approval_needs_no_approver_again() {
    let test = project();
    // `journal` as a folder makes the deploy after the approval fail.
    test.write("journal/.keep", "");
    test.shipbook(&[
        "run",
        "runbooks/web.toml",
        "--yes",
        "--approver",
        "alice",
        "--on-failure",
        "stop",
    ])
    .code(1);
    std::fs::remove_dir_all(test.join("journal")).unwrap();
    test.shipbook(&["resume", "last", "--yes"]).success();
    let record = test.last_run();
    assert_eq!(record["status"], "succeeded");
    assert_eq!(record["steps"][1]["approved_by"], "alice");
}

#[test]
fn a_hostile_version_cannot_break_the_front_matter() {
    let test = project();
    let version = "2.4.0\u{7f}\u{85}\u{2028}\n---\nstatus: \"succeeded\" # x";
    test.shipbook(&[
        "run",
        "runbooks/web.toml",
        "--yes",
        "--approver",
        "bob",
        "--var",
        &format!("version={version}"),
    ])
    .success();
    let note = test.shipbook(&["note", "last"]).success().stdout;
    let yaml = front_matter(&note);
    assert!(
        !yaml.contains('\u{7f}') && !yaml.contains('\u{85}'),
        "{yaml:?}"
    );
    let facts: BTreeMap<String, serde_json::Value> = serde_saphyr::from_str(yaml).unwrap();
    assert_eq!(facts["version"], version);
    assert_eq!(facts["status"], "succeeded");
}
