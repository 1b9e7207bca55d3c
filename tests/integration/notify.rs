//! `[[notify]]` through the binary: webhooks received by a real loopback server in each format,
//! a command given the event on stdin, the secret URL masked everywhere, and a dead webhook that
//! costs a warning, never the release.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use crate::test::{Test, files_containing};

/// Each request a webhook server received: its path and its body.
type Received = Arc<Mutex<Vec<(String, String)>>>;

/// A loopback server that keeps each request's path and body, and answers 200.
fn webhook_server() -> (u16, Received) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let port = listener.local_addr().unwrap().port();
    let received = Arc::new(Mutex::new(Vec::new()));
    let kept = Arc::clone(&received);
    std::thread::spawn(move || {
        for stream in listener.incoming().take(100).flatten() {
            let mut reader = BufReader::new(&stream);
            let mut request_line = String::new();
            let _ = reader.read_line(&mut request_line);
            let path = request_line.split(' ').nth(1).unwrap_or("").to_string();
            let mut length = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            kept.lock()
                .unwrap()
                .push((path, String::from_utf8_lossy(&body).into_owned()));
            let mut stream = &stream;
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
        }
    });
    (port, received)
}

const SECRET: &str = "hook-s3cr3t-token";

const NOTIFYING: &str = r#"[runbook]
name = "web"
dir = ".."

[secrets]
env = ["HOOK_BASE"]

[[steps]]
id = "deploy"
run = "echo deployed"

[[notify]]
on = ["started", "succeeded"]
webhook = "{{ secrets.HOOK_BASE }}/slack"
format = "slack"

[[notify]]
on = ["succeeded"]
webhook = "{{ secrets.HOOK_BASE }}/json"
format = "json"

[[notify]]
on = ["succeeded"]
webhook = "{{ secrets.HOOK_BASE }}/teams"
format = "teams"

[[notify]]
on = ["succeeded"]
run = "cat > notified.json"
"#;

#[test]
fn each_format_reaches_its_webhook_and_the_secret_url_is_masked_everywhere() {
    let (port, received) = webhook_server();
    let test = Test::new().runbook("web", NOTIFYING);
    test.write(".gitignore", "notified.json\n");
    test.commit("runbook");
    let base = format!("http://127.0.0.1:{port}/{SECRET}");
    let mut test = test
        .env("HOOK_BASE", &base)
        .args(&["run", "runbooks/web.toml"]);
    let done = test.run().success();
    let received = received.lock().unwrap().clone();
    let paths: Vec<&str> = received.iter().map(|(path, _)| path.as_str()).collect();
    assert_eq!(
        paths,
        [
            format!("/{SECRET}/slack"),
            format!("/{SECRET}/slack"),
            format!("/{SECRET}/json"),
            format!("/{SECRET}/teams"),
        ]
    );
    let body =
        |index: usize| -> serde_json::Value { serde_json::from_str(&received[index].1).unwrap() };
    assert!(body(0)["text"].as_str().unwrap().contains("started"));
    assert!(body(1)["text"].as_str().unwrap().contains("succeeded"));
    assert_eq!(body(2)["event"], "succeeded");
    assert_eq!(body(2)["runbook"], "web");
    assert_eq!(body(3)["@type"], "MessageCard");
    let from_command: serde_json::Value =
        serde_json::from_str(&test.read("notified.json")).unwrap();
    assert_eq!(from_command["event"], "succeeded");
    assert!(from_command["note"].as_str().unwrap().ends_with(".md"));
    // The webhook URL is a secret: in no output, record, note or log.
    for text in [&done.stdout, &done.stderr] {
        assert!(!text.contains(SECRET), "{text}");
    }
    let plan = test.shipbook(&["plan", "runbooks/web.toml", "--json"]);
    assert!(!plan.stdout.contains(SECRET), "{}", plan.stdout);
    let leaks = files_containing(test.path(), SECRET.as_bytes());
    assert!(leaks.is_empty(), "{leaks:?}");
}

#[test]
fn a_dead_webhook_is_a_warning_in_the_terminal_the_record_and_the_note() {
    // A server that accepts and never answers.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().take(10).flatten() {
            held.push(stream);
        }
    });
    let runbook = format!(
        r#"[runbook]
name = "web"

[[steps]]
id = "deploy"
run = "echo deployed"

[[notify]]
on = ["succeeded"]
webhook = "http://127.0.0.1:{port}/hook"
timeout = "1s"
"#
    );
    let mut test = Test::new()
        .runbook("web", &runbook)
        .args(&["run", "runbooks/web.toml"]);
    test.run()
        .success()
        .stderr_has("warning: the `succeeded` notification (json webhook) was not sent");
    let record = test.last_run();
    assert_eq!(record["status"], "succeeded");
    let warnings = record["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    test.shipbook(&["note", "last"])
        .success()
        .stdout_has("## Warnings")
        .stdout_has("was not sent");
}

#[test]
fn a_notify_table_is_checked_like_the_rest() {
    let test = Test::new().runbook(
        "web",
        r#"[runbook]
name = "web"

[[steps]]
id = "deploy"
run = "true"

[[notify]]
on = ["finished"]
run = "true"

[[notify]]
on = ["failed"]
webhook = "{{ secrets.NOPE }}"
run = "true"
"#,
    );
    let check = test.shipbook(&["check", "runbooks/web.toml"]).code(2);
    for needle in [
        "finished",
        "both `webhook` and `run`",
        "unknown variable `secrets.NOPE`",
    ] {
        assert!(check.stderr.contains(needle), "{needle}:\n{}", check.stderr);
    }
}
