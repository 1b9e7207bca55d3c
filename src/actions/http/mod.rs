//! The `http` action: poll a URL until it answers as expected.
//!
//! A deploy command exiting 0 only says that the deploy was handed over; whether the service
//! came up is another question, and a release must not go on (or be declared done) before it
//! has the answer. This action asks that question the way an engineer would with `curl` in a
//! loop: it requests the URL every `interval`, follows redirects, and passes as soon as the
//! status matches and the body contains the expected text. When the service never gets there,
//! it fails at the deadline with what it last saw, so that the step's detail alone tells the
//! engineer whether the service was down, unhealthy or answering something unexpected, and the
//! step's log has one line per attempt for the whole story.
//!
//! This module holds the entry point; checking the URL, choosing the roots of trust, making one
//! request, judging its answer and the polling loop each have a module of their own.

use std::io::Write;

use super::Verdict;
use crate::text::duration::human;
use crate::text::words::plural;
use poll::Poller;
use spec::is_https;
use tls::roots_of_trust;

pub use spec::check_url;

pub mod spec;

mod fetch;
mod judge;
mod poll;
mod tls;

pub use spec::PlannedHttp;

/// Polls until the check passes, `timeout` passes, or `interrupted()` turns true; writes one
/// line per attempt to `log`.
pub fn run(check: &PlannedHttp, log: &mut dyn Write, interrupted: &dyn Fn() -> bool) -> Verdict {
    if let Err(problem) = check_url(&check.url) {
        let summary = format!("cannot poll {:?}: {problem}", check.url);
        // A write to the step's log that fails loses a line of the log, never the verdict, so
        // write errors are ignored.
        let _ = writeln!(log, "{summary}");
        return Verdict::fail(summary);
    }
    let _ = writeln!(
        log,
        "polling {} every {} for up to {}, expecting {}",
        check.url,
        human(check.interval),
        human(check.timeout),
        expectation(check)
    );
    // An http URL may redirect to https, so the roots are set up for every check; the log
    // names them only where they surely matter.
    let (roots, described) = roots_of_trust();
    if is_https(&check.url) {
        let _ = writeln!(log, "trusting {described}");
    }
    Poller::new(check, roots).run(log, interrupted)
}

/// What a passing answer looks like, in words: `200` or `200 with "ok"`.
fn expectation(check: &PlannedHttp) -> String {
    match &check.contains {
        Some(text) => format!("{} with {text:?}", check.status),
        None => check.status.to_string(),
    }
}

/// "1 attempt", "3 attempts".
fn attempts(count: u32) -> String {
    plural(count as usize, "attempt")
}

#[cfg(test)]
mod tests {
    use super::*;
    use fetch::BODY_LIMIT;
    use std::time::Duration;

    use std::io::{self, BufRead};
    use std::net::{TcpListener, TcpStream};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::thread;

    /// The most connections a test server answers; every test needs far fewer, and the bound
    /// keeps a misbehaving test from looping forever.
    const MAX_CONNECTIONS: usize = 500;

    /// A request as the test server saw it: its path, and how many came before it.
    struct Request {
        path: String,
        number: usize,
    }

    /// What a test server's handler returns to hold a connection open without ever answering,
    /// like a service that accepts connections but hangs.
    const NO_ANSWER: &str = "";

    /// A loopback HTTP/1.1 server that answers each connection with what `answer` returns for
    /// it, then closes the connection.
    struct Server {
        port: u16,
        hits: Arc<AtomicUsize>,
    }

    impl Server {
        fn start(answer: impl Fn(&Request) -> String + Send + 'static) -> Server {
            let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
            let port = listener.local_addr().expect("an address").port();
            let hits = Arc::new(AtomicUsize::new(0));
            let counter = Arc::clone(&hits);
            thread::spawn(move || {
                let mut held = Vec::new();
                for stream in listener.incoming().take(MAX_CONNECTIONS).flatten() {
                    let number = counter.fetch_add(1, Ordering::SeqCst);
                    held.extend(serve(stream, number, &answer));
                }
            });
            Server { port, hits }
        }

        fn url(&self, path: &str) -> String {
            format!("http://127.0.0.1:{}{path}", self.port)
        }

        fn hits(&self) -> usize {
            self.hits.load(Ordering::SeqCst)
        }
    }

    /// Reads one request's head and writes the answer; returns the connection when it is to be
    /// held open unanswered. Errors are ignored: the client may hang up early, which is its
    /// right.
    fn serve(
        stream: TcpStream,
        number: usize,
        answer: &impl Fn(&Request) -> String,
    ) -> Option<TcpStream> {
        let mut reader = io::BufReader::new(&stream);
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).is_err() {
            return None;
        }
        let path = request_line
            .split_whitespace()
            .nth(1)
            .unwrap_or("/")
            .to_string();
        for _ in 0..100 {
            let mut header = String::new();
            match reader.read_line(&mut header) {
                Ok(0) | Err(_) => break,
                Ok(_) if header == "\r\n" => break,
                Ok(_) => {}
            }
        }
        let response = answer(&Request { path, number });
        if response == NO_ANSWER {
            return Some(stream);
        }
        let _ = (&stream).write_all(response.as_bytes());
        None
    }

    fn response(status: u16, body: &str) -> String {
        format!(
            "HTTP/1.1 {status} Test\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
    }

    fn redirect(status: u16, location: &str) -> String {
        format!(
            "HTTP/1.1 {status} Moved\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )
    }

    fn check(url: &str, contains: Option<&str>, timeout_ms: u64) -> PlannedHttp {
        PlannedHttp {
            url: url.to_string(),
            status: 200,
            contains: contains.map(str::to_string),
            timeout: Duration::from_millis(timeout_ms),
            interval: Duration::from_millis(10),
        }
    }

    /// Runs a check to its verdict and returns the verdict and the log.
    fn poll(check: &PlannedHttp) -> (Verdict, String) {
        poll_interrupted(check, &|| false)
    }

    fn poll_interrupted(check: &PlannedHttp, interrupted: &dyn Fn() -> bool) -> (Verdict, String) {
        let mut log = Vec::new();
        let verdict = run(check, &mut log, interrupted);
        (verdict, String::from_utf8(log).expect("a UTF-8 log"))
    }

    fn attempt_lines(log: &str) -> usize {
        log.lines()
            .filter(|line| line.starts_with("attempt "))
            .count()
    }

    /// A port that nothing listens on: one the system gave us, then released.
    fn closed_port() -> u16 {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        listener.local_addr().expect("an address").port()
    }

    #[test]
    fn turns_healthy_after_a_few_polls() {
        let server = Server::start(|request| match request.number {
            0 | 1 => response(503, "starting"),
            _ => response(200, "ok"),
        });
        let url = server.url("/health");
        let (verdict, log) = poll(&check(&url, Some("ok"), 10_000));
        assert!(verdict.passed, "{verdict:?}\n{log}");
        assert!(
            verdict
                .summary
                .starts_with("answered 200 after 3 attempts ("),
            "{verdict:?}"
        );
        assert_eq!(attempt_lines(&log), 3, "{log}");
        assert!(log.contains("attempt 1 ("), "{log}");
        assert!(log.contains(": 503, expected 200"), "{log}");
        assert!(
            log.contains("attempt 3 (") && log.contains(": 200, healthy"),
            "{log}"
        );
    }

    #[test]
    fn healthy_at_once_says_one_attempt() {
        let server = Server::start(|_| response(200, "ok"));
        let url = server.url("/");
        let (verdict, _) = poll(&check(&url, None, 10_000));
        assert!(verdict.passed, "{verdict:?}");
        assert!(
            verdict
                .summary
                .starts_with("answered 200 after 1 attempt ("),
            "{verdict:?}"
        );
    }

    #[test]
    fn never_healthy_fails_at_the_timeout_with_the_last_status_and_attempts() {
        let server = Server::start(|_| response(503, "down"));
        let url = server.url("/health");
        let mut never = check(&url, None, 1_000);
        never.interval = Duration::from_millis(50);
        let (verdict, log) = poll(&never);
        assert!(!verdict.passed, "{verdict:?}");
        assert!(server.hits() >= 1);
        let attempts = super::attempts(attempt_lines(&log) as u32);
        assert!(
            verdict.summary.starts_with(&format!(
                "no healthy answer after {attempts} in 1s: last answer 503, expected 200"
            )),
            "{verdict:?}\n{log}"
        );
    }

    #[test]
    fn a_time_out_at_the_deadline_does_not_hide_the_last_answer() {
        let server = Server::start(|request| match request.number {
            0 => response(503, "down"),
            _ => NO_ANSWER.into(),
        });
        let url = server.url("/health");
        let (verdict, log) = poll(&check(&url, None, 1_000));
        assert_eq!(
            verdict.summary,
            "no healthy answer after 2 attempts in 1s: last answer 503, expected 200, then timed out",
            "{log}"
        );
        assert!(
            log.contains("attempt 2 (") && log.contains("): timed out"),
            "{log}"
        );
    }

    #[test]
    fn the_body_must_contain_the_text() {
        let server = Server::start(|request| match request.number {
            0 => response(200, ""),
            1 => response(200, "  starting\n  up  "),
            _ => response(200, "all ok"),
        });
        let url = server.url("/health");
        let (verdict, log) = poll(&check(&url, Some("ok"), 10_000));
        assert!(verdict.passed, "{verdict:?}\n{log}");
        assert!(verdict.summary.contains("after 3 attempts"), "{verdict:?}");
        assert!(
            log.contains(r#"200, body lacks "ok" (the body is empty)"#),
            "{log}"
        );
        assert!(
            log.contains(r#"200, body lacks "ok" (it begins "starting up")"#),
            "{log}"
        );
    }

    #[test]
    fn a_body_that_never_has_the_text_is_the_reason_given() {
        let server = Server::start(|_| response(200, "degraded"));
        let url = server.url("/health");
        let mut never = check(&url, Some("ok"), 1_000);
        never.interval = Duration::from_millis(100);
        let (verdict, _) = poll(&never);
        assert!(!verdict.passed);
        assert!(
            verdict
                .summary
                .contains(r#" in 1s: last answer 200, body lacks "ok""#),
            "{verdict:?}"
        );
        assert!(verdict.summary.starts_with("no healthy answer after "));
    }

    #[test]
    fn only_the_first_mebibyte_of_the_body_is_searched() {
        let server = Server::start(|request| {
            let filler = "x".repeat(BODY_LIMIT);
            match request.path.as_str() {
                "/early" => response(200, &format!("ok{filler}")),
                _ => response(200, &format!("{filler}ok")),
            }
        });
        let early = server.url("/early");
        let (verdict, log) = poll(&check(&early, Some("ok"), 10_000));
        assert!(verdict.passed, "{verdict:?}\n{log}");

        let late = server.url("/late");
        let mut late = check(&late, Some("ok"), 1_000);
        late.interval = Duration::from_millis(300);
        let (verdict, log) = poll(&late);
        assert!(!verdict.passed, "{verdict:?}");
        assert!(
            log.contains(r#"body lacks "ok" in its first 1 MiB"#),
            "{log}"
        );
    }

    #[test]
    fn redirects_are_followed() {
        let server = Server::start(|request| match request.path.as_str() {
            "/health" => redirect(302, "/ready"),
            "/ready" => response(200, "ok"),
            _ => response(404, "not found"),
        });
        let url = server.url("/health");
        let (verdict, log) = poll(&check(&url, Some("ok"), 10_000));
        assert!(verdict.passed, "{verdict:?}\n{log}");
        assert_eq!(server.hits(), 2);
        assert!(
            log.contains(&format!("200 from {}", server.url("/ready"))),
            "{log}"
        );
    }

    #[test]
    fn an_expected_redirect_is_seen_rather_than_followed() {
        let server = Server::start(|request| match request.path.as_str() {
            "/old" => redirect(301, "/new"),
            _ => response(200, "ok"),
        });
        let url = server.url("/old");
        let mut expects_redirect = check(&url, None, 10_000);
        expects_redirect.status = 301;
        let (verdict, log) = poll(&expects_redirect);
        assert!(verdict.passed, "{verdict:?}\n{log}");
        assert!(verdict.summary.starts_with("answered 301 after 1 attempt"));
        assert_eq!(server.hits(), 1);
    }

    #[test]
    fn an_unexpected_client_error_status_is_an_answer_not_an_error() {
        let server = Server::start(|_| response(404, "no such page"));
        let url = server.url("/health");
        let mut never = check(&url, None, 1_000);
        never.interval = Duration::from_millis(100);
        let (verdict, _) = poll(&never);
        assert!(!verdict.passed);
        assert!(
            verdict.summary.contains("last answer 404, expected 200"),
            "{verdict:?}"
        );
    }

    #[test]
    fn connection_refused_is_retried_until_the_timeout() {
        let url = format!("http://127.0.0.1:{}/health", closed_port());
        let (verdict, log) = poll(&check(&url, Some("ok"), 200));
        assert!(!verdict.passed, "{verdict:?}");
        assert!(
            verdict.summary.starts_with("no answer after "),
            "{verdict:?}"
        );
        assert!(
            verdict
                .summary
                .contains("in 200ms: last error: connection refused"),
            "{verdict:?}"
        );
        assert!(log.contains("attempt 1 ("), "{log}");
        assert!(log.contains(": connection refused"), "{log}");
    }

    #[test]
    fn a_server_that_never_answers_times_out() {
        let server = Server::start(|_| NO_ANSWER.into());
        let url = server.url("/health");
        let (verdict, log) = poll(&check(&url, None, 150));
        assert!(!verdict.passed, "{verdict:?}");
        assert!(
            verdict
                .summary
                .starts_with("no answer after 1 attempt in 150ms"),
            "{verdict:?}\n{log}"
        );
        assert!(
            verdict.summary.ends_with("last error: timed out"),
            "{verdict:?}"
        );
    }

    #[test]
    fn an_invalid_url_fails_at_once_naming_it() {
        for url in [
            "",
            "not a url",
            "localhost:8080/health",
            "example.test",
            "ftp://example.test/health",
            "file:///etc/passwd",
            "http://",
            "https:///health",
            "http://[::1/health",
            "http://127.0.0.1:99999/health",
            "http://[::1]:65536/health",
            "http://exa mple.test/",
        ] {
            let (verdict, log) = poll(&check(url, Some("ok"), 1_000));
            assert!(!verdict.passed, "{url:?}: {verdict:?}");
            assert!(
                verdict
                    .summary
                    .starts_with(&format!("cannot poll {url:?}: ")),
                "{url:?}: {verdict:?}"
            );
            assert!(
                verdict
                    .summary
                    .contains("expected an http:// or https:// URL"),
                "{url:?}: {verdict:?}"
            );
            assert_eq!(attempt_lines(&log), 0, "{url:?}: {log}");
        }
    }

    #[test]
    fn https_against_a_plain_http_server_is_a_reported_error() {
        let server = Server::start(|_| response(200, "ok"));
        let url = format!("https://127.0.0.1:{}/health", server.port);
        let (verdict, log) = poll(&check(&url, None, 100));
        assert!(!verdict.passed, "{verdict:?}");
        assert!(
            log.lines()
                .nth(1)
                .is_some_and(|line| line.starts_with("trusting ")),
            "{log}"
        );
        assert!(
            verdict.summary.contains(": last error: "),
            "{verdict:?}\n{log}"
        );
    }

    #[test]
    fn an_interruption_stops_the_polling() {
        let server = Server::start(|_| response(503, "down"));
        let url = server.url("/health");
        let mut slow = check(&url, None, 60_000);
        slow.interval = Duration::from_secs(30);
        let hits = Arc::clone(&server.hits);
        let (verdict, log) = poll_interrupted(&slow, &|| hits.load(Ordering::SeqCst) >= 1);
        assert!(!verdict.passed);
        assert_eq!(
            verdict.summary.split(" (").next(),
            Some("interrupted after 1 attempt"),
            "{verdict:?}"
        );
        assert!(
            verdict.summary.ends_with(": last answer 503, expected 200"),
            "{verdict:?}"
        );
        assert!(
            log.lines()
                .last()
                .is_some_and(|line| line.starts_with("interrupted"))
        );
    }

    #[test]
    fn an_interruption_does_not_wait_for_a_hanging_request() {
        let server = Server::start(|_| NO_ANSWER.into());
        let url = server.url("/health");
        // Without the interruption, this check would wait ten minutes for the hanging server.
        let (verdict, log) = poll_interrupted(&check(&url, None, 600_000), &|| server.hits() >= 1);
        assert!(!verdict.passed);
        assert!(
            verdict.summary.starts_with("interrupted after 1 attempt ("),
            "{verdict:?}"
        );
        assert!(
            log.contains("attempt 1 (")
                && log.contains("): interrupted while waiting for the answer"),
            "{log}"
        );
    }

    #[test]
    fn interrupted_before_starting_makes_no_request() {
        let server = Server::start(|_| response(200, "ok"));
        let url = server.url("/health");
        let (verdict, _) = poll_interrupted(&check(&url, None, 10_000), &|| true);
        assert_eq!(verdict.summary, "interrupted before the first attempt");
        assert_eq!(server.hits(), 0);
    }

    #[test]
    fn extreme_durations_neither_panic_nor_spin() {
        let url = format!("http://127.0.0.1:{}/", closed_port());
        let mut zero = check(&url, None, 0);
        zero.interval = Duration::ZERO;
        let (verdict, log) = poll(&zero);
        assert!(!verdict.passed);
        assert!(
            verdict
                .summary
                .starts_with("no answer after 1 attempt in 0ms")
        );
        assert_eq!(attempt_lines(&log), 1, "{log}");

        let mut endless = check(&url, None, 0);
        endless.timeout = Duration::MAX;
        endless.interval = Duration::from_secs(1);
        let calls = AtomicUsize::new(0);
        let (verdict, _) =
            poll_interrupted(&endless, &|| calls.fetch_add(1, Ordering::SeqCst) >= 3);
        assert!(
            verdict.summary.starts_with("interrupted after 1 attempt"),
            "{verdict:?}"
        );
    }
}
