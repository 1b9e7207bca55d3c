//! A step's output may hold terminal control sequences (clear the screen, set the title, a NUL,
//! a C1 control); shown to a person they are escaped, and the log keeps the bytes.

use crate::test::{Test, step_outcome};

const NOISY: &str = r#"[runbook]
name = "web"

[[steps]]
id = "noisy"
run = "printf 'before\\033[2J\\033]0;pwned\\007\\000\\302\\233after\\n'; exit 1"
"#;

/// What the step printed, as it is shown.
const ESCAPED: &str = r"before\x1b[2J\x1b]0;pwned\x07\x00\u{9b}after";

#[track_caller]
fn assert_no_controls(what: &str, text: &str) {
    let control = text
        .chars()
        .find(|c| c.is_control() && *c != '\n' && *c != '\t');
    assert_eq!(control, None, "{what} holds a control character:\n{text:?}");
}

#[test]
fn control_sequences_are_escaped_on_the_terminal_and_kept_in_the_log() {
    let mut test = Test::new()
        .runbook("web", NOISY)
        .args(&["run", "runbooks/web.toml"]);
    let run = test.run().code(1).stderr_has(ESCAPED);
    assert_no_controls("the failure tail", &run.stderr);

    let show = test
        .shipbook(&["show", "last"])
        .success()
        .stdout_has(ESCAPED);
    assert_no_controls("show", &show.stdout);
    let note = test
        .shipbook(&["note", "last"])
        .success()
        .stdout_has(ESCAPED);
    assert_no_controls("the note", &note.stdout);

    let (_, log) = step_outcome(&test, "failed");
    assert_eq!(
        log, "before\x1b[2J\x1b]0;pwned\x07\x00\u{9b}after\n",
        "the log keeps the bytes"
    );
}
