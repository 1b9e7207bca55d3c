//! `shipbook plan`: the resolved steps, for people and as JSON; nothing runs.

use crate::test::{Test, normalize};

const RUNBOOK: &str = r#"
[runbook]
name = "web"
dir = "app"

[vars]
version = "2.0.1"
url = "http://localhost"

[environments.staging]
vars = { url = "http://staging.local" }
env = { DEPLOY_ENV = "staging" }

[environments.production]
vars = { url = "https://example.test" }

[[steps]]
id = "build"
name = "Build it"
run = ["make", "build", "VERSION={{ version }}"]
timeout = "5m"
retries = 2
retry_delay = "2s"
env = { PROFILE = "release" }

[[steps]]
id = "touch"
run = "touch ran-{{ env }}"

[[steps]]
id = "deploy"
run = "./deploy.sh {{ url }} {{ git.short_sha }} {{ runbook.name }}"
undo = "./deploy.sh {{ url }} {{ git.previous_tag }}"
only = ["production"]

[rollback]
note = "Put the old one back."
run = "./deploy.sh {{ url }} previous"
"#;

#[test]
fn plan_shows_resolved_commands_and_skips() {
    let mut test = Test::new().runbook("web", RUNBOOK).args(&[
        "plan",
        "runbooks/web.toml",
        "--env",
        "staging",
        "--var",
        "version=2.0.2",
    ]);
    let run = test.run().success();
    assert!(
        !test.join("app/ran-staging").exists(),
        "plan must run nothing"
    );
    let sha = crate::test::git(test.path(), &["rev-parse", "--short=7", "HEAD"]);
    let text = run.stdout.replace(&sha, "[SHORT_SHA]");
    insta::assert_snapshot!(normalize(&text, &test));
}

#[test]
fn plan_json_is_machine_readable() {
    let mut test = Test::new().runbook("web", RUNBOOK).args(&[
        "plan",
        "runbooks/web.toml",
        "--env",
        "production",
        "--json",
    ]);
    let plan = test.run().success().json();
    assert_eq!(plan["runbook"], "web");
    assert_eq!(plan["env"], "production");
    let steps = plan["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 3);
    assert_eq!(steps[0]["id"], "build");
    assert_eq!(steps[0]["kind"], "run");
    assert_eq!(
        steps[0]["command"]["argv"],
        serde_json::json!(["make", "build", "VERSION=2.0.1"])
    );
    assert_eq!(steps[0]["timeout_ms"], 300_000);
    assert_eq!(steps[0]["retries"], 2);
    assert_eq!(steps[0]["env"]["PROFILE"], "release");
    assert_eq!(steps[2]["skip"], serde_json::Value::Null);
    assert!(
        steps[2]["command"]["display"]
            .as_str()
            .unwrap()
            .starts_with("./deploy.sh https://example.test ")
    );
}

#[test]
fn an_unknown_environment_lists_the_known_ones() {
    let mut test =
        Test::new()
            .runbook("web", RUNBOOK)
            .args(&["plan", "runbooks/web.toml", "--env", "stagin"]);
    test.run()
        .code(2)
        .stderr_has("unknown environment `stagin` for runbook `web` (did you mean `staging`?)")
        .stderr_has("--env with one of: production, staging");
}

#[test]
fn a_var_without_equals_is_refused() {
    let mut test = Test::new().runbook("web", RUNBOOK).args(&[
        "plan",
        "runbooks/web.toml",
        "--var",
        "version",
    ]);
    test.run()
        .code(2)
        .stderr_has("invalid --var `version`")
        .stderr_has("--var name=value");
}

#[test]
fn only_and_from_must_name_steps() {
    let mut test =
        Test::new()
            .runbook("web", RUNBOOK)
            .args(&["plan", "runbooks/web.toml", "--only", "buidl"]);
    test.run()
        .code(2)
        .stderr_has("--only names an unknown step `buidl` (did you mean `build`?)");
    test = test.args(&["plan", "runbooks/web.toml", "--from", "nope"]);
    test.run()
        .code(2)
        .stderr_has("--from names an unknown step `nope`")
        .stderr_has("one of the step ids: build, touch, deploy");
}

#[test]
fn a_variable_missing_in_the_chosen_environment_points_at_its_use() {
    let mut test = Test::new()
        .runbook(
            "web",
            r#"[runbook]
name = "web"

[environments.staging]
vars = { url = "http://staging" }

[environments.production]

[[steps]]
id = "ping"
run = "curl {{ url }}"
"#,
        )
        .args(&["plan", "runbooks/web.toml", "--env", "production"]);
    test.run()
        .code(2)
        .stderr_has("variable `url` is not defined for environment `production`")
        .stderr_has("runbooks/web.toml:11:13");
}

#[test]
fn plan_text_shows_the_metrics_and_the_rehearsal_rule_as_json_does() {
    let runbook = r#"[runbook]
name = "web"

[environments.staging]

[environments.production]
requires_rehearsal = "staging"

[[metrics]]
name = "p95_ms"
command = "./p95.sh {{ env }}"
better = "lower"
max_regression = "10%"
timeout = "30s"

[[metrics]]
name = "rps"
command = ["./rps.sh"]
better = "higher"

[[steps]]
id = "deploy"
run = "./deploy.sh {{ env }}"

[rollback]
run = "./deploy.sh {{ env }} previous"
"#;
    let test = Test::new().runbook("web", runbook);
    let json = test
        .shipbook(&["plan", "runbooks/web.toml", "--env", "production", "--json"])
        .success()
        .json();
    assert_eq!(json["requires_rehearsal"], "staging");
    assert_eq!(json["metrics"][0]["name"], "p95_ms");

    let text = test
        .shipbook(&["plan", "runbooks/web.toml", "--env", "production"])
        .success()
        .stdout;
    for line in [
        "`run` in production requires a succeeded rehearsal in staging of this commit and runbook, rollback included (--skip-rehearsal REASON overrides)",
        "metrics (sampled before the first step and after the last)",
        "p95_ms",
        "run: ./p95.sh production",
        "lower is better · guard: more than 10% worse fails the run · timeout 30s",
        "rps",
        "run: ./rps.sh",
        "higher is better",
    ] {
        assert!(
            text.lines().any(|shown| shown.trim() == line),
            "{line:?} not in:\n{text}"
        );
    }
    // Staging itself requires nothing.
    let staging = test
        .shipbook(&["plan", "runbooks/web.toml", "--env", "staging"])
        .success()
        .stdout;
    assert!(
        !staging.contains("requires a succeeded rehearsal"),
        "{staging}"
    );
}
