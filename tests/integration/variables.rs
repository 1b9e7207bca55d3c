//! `{{ variables }}`: built-ins stay built in, and values are used as written.

use crate::test::Test;

const GATED: &str = r#"[runbook]
name = "web"

[environments.staging]

[environments.production]
requires_rehearsal = "staging"

[[steps]]
id = "deploy"
run = "echo deploying to {{ env }} at {{ git.short_sha }}"

[rollback]
run = "true"
"#;

#[test]
fn a_built_in_variable_cannot_be_set_with_var() {
    // `--var env=production` would render every command for production while skipping the
    // production profile and its rehearsal gate.
    let mut test = Test::new().runbook("web", GATED).args(&[
        "run",
        "runbooks/web.toml",
        "--var",
        "env=production",
        "--yes",
    ]);
    test.run()
        .code(2)
        .stderr_has("`env` is a built-in variable")
        .stderr_has("--env production");
    assert!(!test.join(".shipbook/logs").exists());
    test = test.args(&[
        "plan",
        "runbooks/web.toml",
        "--var",
        "git.short_sha=abc1234",
    ]);
    test.run()
        .code(2)
        .stderr_has("`git.short_sha` is a built-in variable");
}

#[test]
fn a_runbook_cannot_define_a_built_in_variable() {
    let mut test = Test::new()
        .runbook(
            "web",
            &GATED.replace(
                "[environments.staging]\n",
                "[vars]\nenv = \"production\"\n\n[environments.staging]\nvars = { \"run.id\" = \"mine\" }\n",
            ),
        )
        .args(&["check", "runbooks/web.toml"]);
    test.run()
        .code(2)
        .stderr_has("`env` is a built-in variable")
        .stderr_has("runbooks/web.toml:5:1")
        .stderr_has("`run.id` is a built-in variable")
        .stderr_has("runbooks/web.toml:8:10");
}

#[test]
fn a_float_variable_is_refused_with_its_quoted_form() {
    let mut test = Test::new()
        .runbook(
            "web",
            r#"[runbook]
name = "web"

[vars]
version = 1.10
count = 3
dry = false

[environments.staging]
vars = { ratio = 0.50 }

[[steps]]
id = "deploy"
run = "echo {{ version }} {{ count }} {{ dry }}"
"#,
        )
        .args(&["check", "runbooks/web.toml"]);
    test.run()
        .code(2)
        .stderr_has("runbooks/web.toml:5:11")
        .stderr_has("version = \"1.10\"")
        .stderr_has("runbooks/web.toml:10:18")
        .stderr_has("ratio = \"0.50\"");
}

#[test]
fn integers_and_booleans_are_used_as_written() {
    let mut test = Test::new()
        .runbook(
            "web",
            r#"[runbook]
name = "web"

[vars]
version = "1.10"
count = 3
dry = false

[[steps]]
id = "deploy"
run = "echo {{ version }} {{ count }} {{ dry }}"
"#,
        )
        .args(&["plan", "runbooks/web.toml", "--json"]);
    let plan = test.run().success().json();
    assert_eq!(plan["steps"][0]["command"]["display"], "echo 1.10 3 false");
}
