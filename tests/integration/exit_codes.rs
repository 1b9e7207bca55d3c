//! Each exit code of the README's "Exit codes" that is not covered by its feature's own tests.

use crate::test::Test;

const CONFIRM: &str = "[runbook]\nname = \"web\"\ndir = \"..\"\n\n[[steps]]\nid = \"approve\"\nconfirm = \"Ship?\"\n\n[[steps]]\nid = \"after\"\nrun = \"touch after\"\n";

/// A confirmation that nobody can answer is found before the first step, not after lint and
/// tests have run: nothing runs and nothing is recorded.
#[test]
fn exit_3_when_a_confirmation_has_no_terminal_and_no_yes() {
    let runbook = CONFIRM.replace(
        "[[steps]]\nid = \"approve\"",
        "[[steps]]\nid = \"lint\"\nrun = \"touch linted\"\n\n[[steps]]\nid = \"approve\"",
    );
    let mut test = Test::new()
        .runbook("web", &runbook)
        .args(&["run", "runbooks/web.toml"]);
    test.run()
        .code(3)
        .stderr_has("step `approve` asks a person \"Ship?\", but there is no terminal to ask on and no --yes; no step was run")
        .stderr_has("safe to retry with --yes");
    assert!(!test.join("linted").exists());
    assert!(!test.join("after").exists());
    let history = test.shipbook(&["history", "--json"]).success().json();
    assert_eq!(history, serde_json::json!([]), "nothing was recorded");
    test.shipbook(&["run", "runbooks/web.toml", "--yes"])
        .success();
    assert!(test.join("after").exists());
}

#[test]
fn exit_2_for_bad_arguments() {
    let mut test = Test::new().args(&["run"]);
    test.run().code(2);
    test = test.args(&["frobnicate"]);
    test.run().code(2);
}

#[test]
fn exit_0_for_help_and_version() {
    let mut test = Test::new().args(&["--version"]);
    test.run().success().stdout_has("shipbook ");
    test = test.args(&["run", "--help"]);
    test.run().success().stdout_has("--yes");
}
