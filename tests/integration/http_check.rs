//! The `http` action through the binary: a step that polls a URL until it answers as expected,
//! fails the run when it never does, and leaves one log line per attempt.
//!
//! Each test starts a tiny HTTP server on a loopback port in the test process and hands the port
//! to the runbook with `--var port=N`.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::test::{Test, assert_has, kill, step_outcome, wait_for};

/// The most connections a test server answers: far more than any test needs, and a bound on a
/// test that misbehaves.
const MAX_CONNECTIONS: usize = 1_000;

/// A runbook with one `http` step polling `/health` on `{{ port }}` with the given timeout.
fn runbook(timeout: &str) -> String {
    format!(
        r#"[runbook]
name = "web"

[vars]
port = "0"

[[steps]]
id = "health"
http = {{ url = "http://127.0.0.1:{{{{ port }}}}/health", status = 200, contains = "ok", timeout = "{timeout}", interval = "50ms" }}
"#
    )
}

/// A loopback HTTP server: the `n`th connection (from 0) gets `answer(n)` with
/// `Connection: close`. Returns its port and a count of the requests it answered.
pub fn serve(
    answer: impl Fn(usize) -> (u16, &'static str) + Send + 'static,
) -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let port = listener.local_addr().expect("an address").port();
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&hits);
    std::thread::spawn(move || {
        for stream in listener.incoming().take(MAX_CONNECTIONS).flatten() {
            let number = counter.fetch_add(1, Ordering::SeqCst);
            let (status, body) = answer(number);
            respond(stream, status, body);
        }
    });
    (port, hits)
}

/// Reads the request's head and writes the response; a client that hangs up early is fine.
fn respond(stream: TcpStream, status: u16, body: &str) {
    let mut reader = BufReader::new(&stream);
    for _ in 0..100 {
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) if line == "\r\n" => break,
            Ok(_) => {}
        }
    }
    let response = format!(
        "HTTP/1.1 {status} Test\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = (&stream).write_all(response.as_bytes());
}

/// A port nothing listens on: one the system handed out, then released.
fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    listener.local_addr().expect("an address").port()
}

fn port_var(port: u16) -> String {
    format!("port={port}")
}

#[test]
fn a_service_that_turns_healthy_after_a_few_polls_passes() {
    let (port, hits) = serve(|n| match n {
        0 => (503, "starting"),
        1 => (200, "warming up"),
        _ => (200, "ok"),
    });
    let test = Test::new().runbook("web", &runbook("30s"));
    test.shipbook(&["run", "runbooks/web.toml", "--var", &port_var(port)])
        .success();
    let (detail, log) = step_outcome(&test, "succeeded");
    assert!(
        detail.starts_with("answered 200 after 3 attempts ("),
        "{detail}"
    );
    assert_eq!(hits.load(Ordering::SeqCst), 3);
    assert_has(&log, "attempt 1 (");
    assert_has(&log, ": 503, expected 200");
    assert_has(&log, r#": 200, body lacks "ok" (it begins "warming up")"#);
    assert_has(&log, ": 200, healthy");
}

#[test]
fn a_service_that_never_turns_healthy_fails_with_its_last_status() {
    let (port, hits) = serve(|_| (503, "down for maintenance"));
    let test = Test::new().runbook("web", &runbook("1s"));
    test.shipbook(&["run", "runbooks/web.toml", "--var", &port_var(port)])
        .code(1)
        .stderr_has("health");
    let (detail, log) = step_outcome(&test, "failed");
    assert!(hits.load(Ordering::SeqCst) >= 1);
    let attempts = log.lines().filter(|l| l.starts_with("attempt ")).count();
    let counted = if attempts == 1 {
        "1 attempt".to_string()
    } else {
        format!("{attempts} attempts")
    };
    // The last attempt may also run out of time, which the detail then adds after the status.
    assert!(
        detail.starts_with(&format!(
            "no healthy answer after {counted} in 1s: last answer 503, expected 200"
        )),
        "{detail}\n{log}"
    );
    assert_has(&log, ": 503, expected 200");
}

#[test]
fn a_refused_connection_is_retried_then_fails_the_run() {
    let test = Test::new().runbook("web", &runbook("300ms"));
    test.shipbook(&[
        "run",
        "runbooks/web.toml",
        "--var",
        &port_var(closed_port()),
    ])
    .code(1);
    let (detail, log) = step_outcome(&test, "failed");
    assert!(detail.starts_with("no answer after "), "{detail}");
    assert_has(&detail, "in 300ms: last error: connection refused");
    assert_has(&log, "attempt 1 (");
    assert_has(&log, ": connection refused");
}

#[test]
fn a_url_that_is_not_http_is_refused_before_any_step() {
    let test = Test::new().runbook(
        "web",
        r#"[runbook]
name = "web"

[vars]
url = "http://127.0.0.1/health"

[[steps]]
id = "health"
http = { url = "ftp://127.0.0.1/health", timeout = "1m" }

[[steps]]
id = "made-of-variables"
http = { url = "{{ url }}", timeout = "1m" }
"#,
    );
    test.shipbook(&["check", "runbooks/web.toml"])
        .code(2)
        .stderr_has("cannot poll `ftp://127.0.0.1/health`: ftp:// is not supported")
        .stderr_has("runbooks/web.toml:9:16");
    std::fs::write(
        test.join("runbooks/web.toml"),
        test.read("runbooks/web.toml").replace("ftp://", "http://"),
    )
    .unwrap();
    test.shipbook(&["run", "runbooks/web.toml", "--var", "url=gopher://x"])
        .code(2)
        .stderr_has("cannot poll `gopher://x`");
    assert!(!test.join(".shipbook/logs").exists(), "no step ran");
}

/// What an action finds out reaches its log (and, with `-v`, the terminal) while it runs: a
/// long poll is not silent until it ends.
#[test]
fn a_poll_shows_in_the_log_and_the_terminal_while_it_runs() {
    let test = Test::new().runbook("web", &runbook("10m"));
    let mut child = test.spawn(&[
        "-v",
        "run",
        "runbooks/web.toml",
        "--var",
        &port_var(closed_port()),
    ]);
    let logs = test.join(".shipbook/logs");
    let poll_log = || {
        std::fs::read_dir(&logs)
            .ok()
            .and_then(|mut runs| runs.next())
            .and_then(|run| std::fs::read_to_string(run.ok()?.path().join("health.log")).ok())
            .unwrap_or_default()
    };
    wait_for("the first attempt in the step's log", || {
        poll_log().contains("attempt 1 (")
    });
    assert!(
        child.try_wait().expect("a child").is_none(),
        "the step is still polling"
    );
    kill(child.id(), "TERM");
    let output = child.wait_with_output().expect("shipbook ends");
    assert_eq!(output.status.code(), Some(130));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_has(&stderr, "attempt 1 (");
}
