//! Each exit code of the README's "Exit codes" that is not covered by its feature's own tests.

use crate::test::Test;

const CONFIRM: &str = "[runbook]\nname = \"web\"\ndir = \"..\"\n\n[[steps]]\nid = \"approve\"\nconfirm = \"Ship?\"\n\n[[steps]]\nid = \"after\"\nrun = \"touch after\"\n";

#[test]
fn exit_3_when_a_confirmation_has_no_terminal_and_no_yes() {
    let mut test = Test::new()
        .runbook("web", CONFIRM)
        .args(&["run", "runbooks/web.toml"]);
    test.run()
        .code(3)
        .stderr_has("needs a confirmation, but there is no terminal to ask and no --yes")
        .stderr_has("safe to retry with --yes");
    assert!(!test.join("after").exists());
    let record = test.last_run();
    assert_eq!(record["status"], "aborted");
    assert_eq!(record["steps"][0]["status"], "failed");
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
