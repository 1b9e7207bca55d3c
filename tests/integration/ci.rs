//! Output CI systems understand: JUnit XML reports and GitHub Actions workflow commands.

use crate::test::Test;

const RUNBOOK: &str = r#"[runbook]
name = "web"
dir = ".."

[environments.staging]
[environments.production]

[[steps]]
id = "build"
run = "echo 'building & <stuff>'"

[[steps]]
id = "prod-only"
run = "true"
only = ["production"]

[[steps]]
id = "test"
run = "echo 'test output'; echo 'assertion failed' >&2; exit 4"

[[steps]]
id = "never"
run = "true"
"#;

#[test]
fn junit_has_one_testcase_per_step() {
    let test = Test::new().runbook("web", RUNBOOK);
    test.shipbook(&[
        "run",
        "runbooks/web.toml",
        "--env",
        "staging",
        "--junit",
        "reports/junit.xml",
    ])
    .code(2)
    .stderr_has("--junit reports/junit.xml: the directory reports does not exist");
    assert!(
        !test.join(".shipbook/logs").exists(),
        "refused before any step"
    );

    std::fs::create_dir(test.join("reports")).unwrap();
    test.shipbook(&[
        "run",
        "runbooks/web.toml",
        "--env",
        "staging",
        "--junit",
        "reports/junit.xml",
    ])
    .code(1);
    let xml = test.read("reports/junit.xml");
    let document = roxmltree::Document::parse(&xml).unwrap_or_else(|e| panic!("{e}\n{xml}"));
    let suite = document
        .descendants()
        .find(|n| n.has_tag_name("testsuite"))
        .unwrap();
    assert_eq!(suite.attribute("tests"), Some("4"));
    assert_eq!(suite.attribute("failures"), Some("1"));
    assert_eq!(suite.attribute("skipped"), Some("2"));
    let cases: Vec<_> = suite
        .children()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    let names: Vec<_> = cases.iter().map(|c| c.attribute("name").unwrap()).collect();
    assert_eq!(names, ["build", "prod-only", "test", "never"]);
    assert!(cases[0].attribute("time").unwrap().parse::<f64>().is_ok());
    assert!(cases[1].children().any(|n| n.has_tag_name("skipped")));
    let failure = cases[2]
        .children()
        .find(|n| n.has_tag_name("failure"))
        .expect("a failure element");
    assert_eq!(failure.attribute("type"), Some("exit code 4"));
    assert!(failure.text().unwrap().contains("assertion failed"));
}

#[test]
fn github_actions_gets_groups_errors_and_a_summary() {
    let test = Test::new().runbook("web", RUNBOOK);
    let summary = test.join("summary.md");
    let mut test = test
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", summary.to_str().unwrap())
        .args(&["run", "runbooks/web.toml", "--env", "staging"]);
    let run = test.run().code(1);
    assert!(
        run.stdout
            .contains("::group::build (succeeded)\nbuilding & <stuff>\n::endgroup::\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("::group::test (failed)"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(
            "::error title=shipbook step test::step test failed with exit code 4: exited with 4"
        ),
        "{}",
        run.stdout
    );
    let summary = test.read("summary.md");
    assert!(summary.starts_with("# web to staging: failed"), "{summary}");

    // With --json, stdout holds only events; the workflow commands move to stderr.
    test = test.args(&["run", "runbooks/web.toml", "--env", "staging", "--json"]);
    let run = test.run().code(1);
    assert!(
        run.stdout.lines().all(|l| l.starts_with('{')),
        "{}",
        run.stdout
    );
    assert!(run.stderr.contains("::group::build"), "{}", run.stderr);
}

#[test]
fn junit_never_shows_a_failed_run_as_green() {
    // The failing step is undone, and a later run fails on a metric guard alone.
    let test = Test::new().runbook(
        "web",
        r#"[runbook]
name = "web"
dir = ".."
on_failure = "undo"

[[steps]]
id = "deploy"
run = "touch deployed; exit 5"
undo = "rm -f deployed"
"#,
    );
    test.shipbook(&["run", "runbooks/web.toml", "--junit", "undone.xml"])
        .code(1);
    let xml = test.read("undone.xml");
    let document = roxmltree::Document::parse(&xml).unwrap();
    let suite = document
        .descendants()
        .find(|n| n.has_tag_name("testsuite"))
        .unwrap();
    assert_eq!(suite.attribute("failures"), Some("1"), "{xml}");

    let guarded = Test::new().runbook(
        "web",
        "[runbook]\nname = \"web\"\ndir = \"..\"\n\n[[metrics]]\nname = \"errors\"\ncommand = \"test -f deployed && echo 9 || echo 1\"\nbetter = \"lower\"\nmax_regression = \"5%\"\n\n[[steps]]\nid = \"deploy\"\nrun = \"touch deployed\"\n",
    );
    guarded
        .shipbook(&["run", "runbooks/web.toml", "--junit", "guard.xml"])
        .code(1);
    let xml = guarded.read("guard.xml");
    let document = roxmltree::Document::parse(&xml).unwrap();
    let suite = document
        .descendants()
        .find(|n| n.has_tag_name("testsuite"))
        .unwrap();
    assert_eq!(suite.attribute("failures"), Some("1"), "{xml}");
    let run_case = suite
        .children()
        .find(|n| n.attribute("name") == Some("run"))
        .expect("a testcase for the run itself");
    assert!(run_case.children().any(|n| n.has_tag_name("failure")));

    guarded
        .shipbook(&["run", "runbooks/web.toml", "--junit", "."])
        .code(2)
        .stderr_has("that is a directory");
}
