//! A person at a terminal: confirmations and the undo-or-stop question, answered through a real
//! pseudo-terminal (`script` from util-linux gives shipbook one).

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;

use crate::test::Test;

/// Runs shipbook under a pseudo-terminal; once `prompt` shows, types `keys`. Returns the exit
/// code and everything the terminal showed.
fn at_terminal(test: &Test, args: &str, prompt: &str, keys: &[u8]) -> (i32, String) {
    let command = format!("{} {args}", env!("CARGO_BIN_EXE_shipbook"));
    let mut child = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .current_dir(test.path())
        .env_remove("SHIPBOOK_STATE_DIR")
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("script runs");
    let mut stdout = child.stdout.take().unwrap();
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let mut buffer = [0u8; 4096];
        while let Ok(read) = stdout.read(&mut buffer) {
            if read == 0 || sender.send(buffer[..read].to_vec()).is_err() {
                break;
            }
        }
    });
    let mut shown = Vec::new();
    while !String::from_utf8_lossy(&shown).contains(prompt) {
        let chunk = receiver
            .recv_timeout(std::time::Duration::from_secs(60))
            .unwrap_or_else(|_| {
                panic!(
                    "no prompt {prompt:?}; shown:\n{}",
                    String::from_utf8_lossy(&shown)
                )
            });
        shown.extend(chunk);
    }
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(keys).unwrap();
    stdin.flush().unwrap();
    // A Ctrl-C typed while the prompt is shown but not yet reading is a signal, not a key; the
    // next one is read as a key. A person presses it again; so does the test.
    let status = loop {
        if let Some(status) = wait_a_while(&mut child) {
            break status;
        }
        if keys != b"\x03" {
            break child.wait().unwrap();
        }
        let _ = stdin.write_all(keys).and_then(|()| stdin.flush());
    };
    drop(stdin);
    while let Ok(chunk) = receiver.recv_timeout(std::time::Duration::from_secs(5)) {
        shown.extend(chunk);
    }
    (
        status.code().unwrap_or(-1),
        String::from_utf8_lossy(&shown).into_owned(),
    )
}

/// The child's exit status, if it exits within a few seconds.
fn wait_a_while(child: &mut std::process::Child) -> Option<std::process::ExitStatus> {
    for _ in 0..150 {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    None
}

const CONFIRM: &str = r#"[runbook]
name = "web"
dir = ".."

[[steps]]
id = "approve"
confirm = "Ship v1 to production?"

[[steps]]
id = "after"
run = "touch after"
"#;

#[test]
fn a_confirmation_answered_yes_records_who_answered() {
    let test = Test::new().runbook("web", CONFIRM);
    let (code, shown) = at_terminal(
        &test,
        "run runbooks/web.toml",
        "Ship v1 to production?",
        b"y",
    );
    assert_eq!(code, 0, "{shown}");
    assert!(test.join("after").exists());
    let detail = test.last_run()["steps"][0]["detail"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(detail.starts_with("answered yes by "), "{detail}");
    assert!(!detail.contains("--yes"), "{detail}");
}

#[test]
fn a_confirmation_answered_no_declines_with_exit_3() {
    let test = Test::new().runbook("web", CONFIRM);
    let (code, shown) = at_terminal(
        &test,
        "run runbooks/web.toml",
        "Ship v1 to production?",
        b"n",
    );
    assert_eq!(code, 3, "{shown}");
    assert!(shown.contains("step `approve` was declined"), "{shown}");
    assert!(!test.join("after").exists());
    assert_eq!(test.last_run()["status"], "aborted");
}

#[test]
fn on_failure_ask_offers_undo_or_stop() {
    let runbook = r#"[runbook]
name = "web"
dir = ".."
on_failure = "ask"

[[steps]]
id = "one"
run = "true"
undo = "touch undone"

[[steps]]
id = "two"
run = "exit 1"
"#;
    let test = Test::new().runbook("web", runbook);
    // The first choice is undo; the cursor starts on stop.
    let (code, shown) = at_terminal(
        &test,
        "run runbooks/web.toml",
        "failed. What now?",
        b"\x1b[A\r",
    );
    assert_eq!(code, 1, "{shown}");
    assert!(test.join("undone").exists(), "{shown}");

    let test = Test::new().runbook("web", runbook);
    let (code, shown) = at_terminal(&test, "run runbooks/web.toml", "failed. What now?", b"\r");
    assert_eq!(code, 1, "{shown}");
    assert!(
        !test.join("undone").exists(),
        "stop leaves everything:\n{shown}"
    );
}

/// Ctrl-C at a question is an interruption (exit 130, the run `interrupted`), not a missing
/// terminal: the engineer stopped the release. Whether the key reaches shipbook as a key (the
/// prompt's raw mode) or as SIGINT (typed just before the prompt reads), the run must stop.
#[test]
fn ctrl_c_at_a_confirmation_interrupts_the_run() {
    let test = Test::new().runbook("web", CONFIRM);
    let (code, shown) = at_terminal(
        &test,
        "run runbooks/web.toml",
        "Ship v1 to production?",
        b"\x03",
    );
    assert_eq!(code, 130, "{shown}");
    assert!(!test.join("after").exists());
    let run = test.last_run();
    assert_eq!(run["status"], "interrupted", "{run}");
    assert_eq!(run["steps"][0]["status"], "interrupted", "{run}");
}

#[test]
fn the_running_step_shows_a_live_line_that_its_result_replaces() {
    let test = Test::new().runbook(
        "web",
        r#"[runbook]
name = "web"

[[steps]]
id = "slow"
run = "sleep 0.6"

[[steps]]
id = "fast"
run = "true"
"#,
    );
    let (code, shown) = at_terminal(&test, "run runbooks/web.toml --yes", "change note:", b"");
    assert_eq!(code, 0, "{shown}");
    // The ticker drew the running step at least once (a spinner frame and its label), on a line
    // it clears before anything else is written.
    let drawn = shown
        .split("\r\x1b[2K")
        .skip(1)
        .find(|line| line.contains("slow") && !line.contains('✓'))
        .unwrap_or_else(|| panic!("no live line for `slow`:\n{shown:?}"));
    assert!(drawn.contains("0s"), "the elapsed time: {drawn:?}");
    let results: Vec<&str> = shown
        .lines()
        .filter_map(|line| line.rsplit("\r\x1b[2K").next())
        .filter(|line| line.starts_with('✓'))
        .collect();
    assert_eq!(results.len(), 2, "{shown:?}");
    assert!(results[0].starts_with("✓ slow"), "{results:?}");
    assert!(results[1].starts_with("✓ fast"), "{results:?}");
    // Nothing is drawn after the run's last line.
    let tail = &shown[shown.rfind("change note:").unwrap()..];
    assert!(!tail.contains("\x1b[2K"), "{tail:?}");
}

#[test]
fn steps_beside_each_other_each_have_a_live_line() {
    let test = Test::new().runbook(
        "web",
        r#"[runbook]
name = "web"
dir = ".."

[[steps]]
id = "left"
run = "touch left.started; while [ ! -f right.started ]; do sleep 0.05; done; sleep 0.6"

[[steps]]
id = "right"
needs = []
run = "touch right.started; while [ ! -f left.started ]; do sleep 0.05; done; sleep 0.6"
"#,
    );
    let (code, shown) = at_terminal(
        &test,
        "run runbooks/web.toml --yes --jobs 2",
        "change note:",
        b"",
    );
    assert_eq!(code, 0, "{shown}");
    // One redraw holds both running steps, one line each: the second drawn after a newline.
    let both = shown
        .split("\r\x1b[2K")
        .any(|drawn| drawn.contains("left") && drawn.contains("\n") && drawn.contains("right"));
    let cleared_two = shown.contains("\r\x1b[2K\x1b[1A\x1b[2K");
    assert!(both || cleared_two, "no two live lines:\n{shown:?}");
    assert!(
        cleared_two,
        "two drawn lines are cleared together:\n{shown:?}"
    );
    let results: Vec<&str> = shown
        .lines()
        .filter_map(|line| line.rsplit("\x1b[2K").next())
        .filter(|line| line.starts_with('✓'))
        .collect();
    assert_eq!(results.len(), 2, "{shown:?}");
}
