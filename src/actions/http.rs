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

pub mod spec;

use std::io::{self, Read, Write};
use std::path::Path;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

use ureq::http::Uri;
use ureq::tls::{Certificate, PemItem, RootCerts, TlsConfig, parse_pem};
use ureq::{Agent, ResponseExt};

use super::Verdict;
use crate::text::duration::human;

/// How much of a body is searched for `contains`. Health endpoints answer a few bytes; a cap
/// keeps a URL that streams something huge from filling the memory of the release machine.
const BODY_LIMIT: usize = 1024 * 1024;

/// How often the wait for an answer or for the next poll looks at `interrupted()`, so that
/// Ctrl-C stops the check within a blink however long the interval or the request.
const INTERRUPT_CHECK: Duration = Duration::from_millis(50);

/// The shortest pause between polls. An interval of zero would otherwise poll a refusing port
/// in a tight loop, burning a core and writing thousands of log lines a second.
const MIN_INTERVAL: Duration = Duration::from_millis(10);

/// The longest a single request may take, whatever the check's timeout. ureq adds its timeout
/// to the current instant, which overflows (and panics) for absurd values; a day is far beyond
/// any health check and far from overflowing.
const MAX_REQUEST_TIME: Duration = Duration::from_secs(24 * 60 * 60);

/// The longest one attempt may wait for an answer (or the interval, when that is longer): a
/// connection that hangs (a dropped SYN, a stuck proxy) must not use up the whole timeout, so
/// that a service which comes back is still seen by the next attempt.
const ATTEMPT_TIME: Duration = Duration::from_secs(10);

/// How long past its own timeout a request may run before the check stops waiting for it.
/// ureq enforces the timeout itself; this is a second line in case some phase does not honour
/// it, so that the check keeps its promise never to outlive its deadline by more than a moment.
const REQUEST_GRACE: Duration = Duration::from_millis(250);

/// How many characters of a body the log quotes when the body lacks the expected text.
const EXCERPT_CHARS: usize = 80;

/// What to poll, as the plan resolved it.
pub struct HttpCheck<'a> {
    pub url: &'a str,
    pub status: u16,
    pub contains: Option<&'a str>,
    pub timeout: Duration,
    pub interval: Duration,
}

/// Polls until the check passes, `timeout` passes, or `interrupted()` turns true; writes one
/// line per attempt to `log`.
pub fn run(check: &HttpCheck<'_>, log: &mut dyn Write, interrupted: &dyn Fn() -> bool) -> Verdict {
    if let Err(problem) = check_url(check.url) {
        let summary = format!("cannot poll {:?}: {problem}", check.url);
        // The log is a buffer the executor copies to the step's log file; a write that fails
        // there loses a line of the log, never the verdict, so write errors are ignored.
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
    if is_https(check.url) {
        let _ = writeln!(log, "trusting {described}");
    }
    Poller::new(check, roots).run(log, interrupted)
}

/// Says why `url` cannot be polled, if it cannot: it must parse, be http or https, and name a
/// host. Checking up front turns a typo into one clear message instead of a minute of failed
/// attempts that all say the same thing.
pub fn check_url(url: &str) -> Result<(), String> {
    const EXPECTED: &str =
        "expected an http:// or https:// URL such as \"https://example.test/health\"";
    let uri: Uri = url
        .parse()
        .map_err(|error| format!("it is not a URL ({error}); {EXPECTED}"))?;
    match uri.scheme_str() {
        Some(scheme) if scheme.eq_ignore_ascii_case("http") => {}
        Some(scheme) if scheme.eq_ignore_ascii_case("https") => {}
        Some(scheme) => return Err(format!("{scheme}:// is not supported; {EXPECTED}")),
        None => return Err(format!("it has no scheme; {EXPECTED}")),
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err(format!("it has no host; {EXPECTED}"));
    }
    if let Some(port) = invalid_port(&uri) {
        return Err(format!("port {port} is out of range; {EXPECTED}"));
    }
    Ok(())
}

/// The port of `uri` when it is not a number from 0 to 65535. The URL parser accepts any digits
/// as a port and then reports none, so that "http://host:99999/" would quietly poll the
/// scheme's default port instead.
fn invalid_port(uri: &Uri) -> Option<&str> {
    let authority = uri.authority()?.as_str();
    let host_and_port = authority.rsplit('@').next().unwrap_or(authority);
    // An IPv6 host is bracketed and full of colons; the port can only follow the bracket.
    let after_host = host_and_port
        .rsplit_once(']')
        .map_or(host_and_port, |(_, rest)| rest);
    let (_, port) = after_host.rsplit_once(':')?;
    (!port.is_empty() && port.parse::<u16>().is_err()).then_some(port)
}

/// Whether `url` is an https URL (it has been checked to be http or https).
fn is_https(url: &str) -> bool {
    url.get(..8)
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("https://"))
}

/// The certificates an https answer must chain to, and how to say so in the log.
///
/// Staging and internal services are often signed by a company's own certificate authority,
/// which Mozilla's list (ureq's default) does not know. `SSL_CERT_FILE` is where OpenSSL,
/// curl and most tools look for a replacement bundle, and machines with such an authority
/// usually set it; honouring it makes the check trust what `curl` on the same machine trusts.
fn roots_of_trust() -> (RootCerts, String) {
    const MOZILLA: &str = "Mozilla's root certificates";
    let Some(path) = std::env::var_os("SSL_CERT_FILE") else {
        return (RootCerts::WebPki, MOZILLA.into());
    };
    let path = Path::new(&path);
    match std::fs::read(path) {
        Ok(pem) => {
            let certificates = certificates_in(&pem);
            if certificates.is_empty() {
                let why = format!("{} (SSL_CERT_FILE) holds no certificate", path.display());
                (RootCerts::WebPki, format!("{MOZILLA}: {why}"))
            } else {
                let described = format!(
                    "the {} certificates in {} (SSL_CERT_FILE)",
                    certificates.len(),
                    path.display()
                );
                (RootCerts::new_with_certs(&certificates), described)
            }
        }
        Err(error) => {
            let why = format!("cannot read {} (SSL_CERT_FILE): {error}", path.display());
            (RootCerts::WebPki, format!("{MOZILLA}: {why}"))
        }
    }
}

/// The certificates in a PEM bundle; anything else in it (keys, damaged sections) is skipped,
/// as OpenSSL does, so that one bad entry does not distrust the whole bundle.
fn certificates_in(pem: &[u8]) -> Vec<Certificate<'static>> {
    parse_pem(pem)
        .filter_map(|item| match item {
            Ok(PemItem::Certificate(certificate)) => Some(certificate),
            _ => None,
        })
        .collect()
}

/// What a passing answer looks like, in words: `200` or `200 with "ok"`.
fn expectation(check: &HttpCheck<'_>) -> String {
    match check.contains {
        Some(text) => format!("{} with {text:?}", check.status),
        None => check.status.to_string(),
    }
}

/// One answer to one request, as far as the check needs it.
struct Answer {
    status: u16,
    /// Where the answer came from, when redirects led somewhere else than the URL asked.
    redirected_to: Option<String>,
    /// The start of the body, read only when the check looks into it.
    body: Option<BodyPrefix>,
}

/// The first `BODY_LIMIT` bytes of a body.
struct BodyPrefix {
    bytes: Vec<u8>,
    /// False when the body went on beyond the limit.
    complete: bool,
}

/// Why an attempt got no answer.
struct Failure {
    /// In a few words: "connection refused".
    text: String,
    /// Whether the request ran out of time.
    timed_out: bool,
}

impl Failure {
    fn new(text: impl Into<String>) -> Failure {
        Failure {
            text: text.into(),
            timed_out: false,
        }
    }

    fn timed_out() -> Failure {
        Failure {
            text: "timed out".into(),
            timed_out: true,
        }
    }
}

/// What one attempt found out about the service.
enum Outcome {
    Healthy { status: u16 },
    Unhealthy { status: u16, reason: String },
    NoAnswer(Failure),
}

impl Outcome {
    /// The outcome as the summary quotes it: `answer 503, expected 200` or `error: timed out`.
    fn last(&self) -> String {
        match self {
            Outcome::Healthy { status } => format!("answer {status}"),
            Outcome::Unhealthy { status, reason } => format!("answer {status}, {reason}"),
            Outcome::NoAnswer(failure) => format!("error: {}", failure.text),
        }
    }
}

/// The state of one run of the check: the attempts made so far and what the last one found.
struct Poller<'c> {
    check: &'c HttpCheck<'c>,
    agent: Agent,
    started: Instant,
    attempts: u32,
    /// The last outcome that was not a time-out: what the summary reports.
    telling: Option<Outcome>,
    /// Whether attempts after `telling` timed out. The last attempt starts with little time
    /// left, and its time-out must not hide the 503 that every attempt before it got.
    then_timed_out: bool,
    /// Whether any attempt got an HTTP answer, which is what tells "unhealthy" from "down".
    answered: bool,
}

impl<'c> Poller<'c> {
    fn new(check: &'c HttpCheck<'c>, roots: RootCerts) -> Poller<'c> {
        Poller {
            check,
            agent: agent_for(check, roots),
            started: Instant::now(),
            attempts: 0,
            telling: None,
            then_timed_out: false,
            answered: false,
        }
    }

    /// Polls until a verdict. Time is measured as durations since the start rather than as
    /// instants, so that no timeout, however large, can overflow a clock.
    fn run(mut self, log: &mut dyn Write, interrupted: &dyn Fn() -> bool) -> Verdict {
        let interval = self.check.interval.max(MIN_INTERVAL);
        loop {
            if interrupted() {
                return self.interrupted(log);
            }
            let attempt_started = self.started.elapsed();
            let time_left = self.check.timeout.saturating_sub(attempt_started);
            self.attempts = self.attempts.saturating_add(1);
            let Some(result) = self.request(time_left, interrupted) else {
                self.log_attempt(log, "interrupted while waiting for the answer");
                return self.interrupted(log);
            };
            let outcome = self.judge(result, log);
            if let Outcome::Healthy { status } = outcome {
                return self.passed(status);
            }
            self.remember(outcome);
            // The next poll is due an interval after this one started, or at once when this
            // one took longer; none is made when it would start with no time left.
            let next_attempt = attempt_started
                .saturating_add(interval)
                .max(self.started.elapsed());
            if next_attempt >= self.check.timeout {
                return self.timed_out();
            }
            if !self.wait_until(next_attempt, interrupted) {
                return self.interrupted(log);
            }
        }
    }

    /// Sends one request on a thread of its own and waits for it, looking at `interrupted()`
    /// meanwhile: a request blocks until it is answered or times out, and an engineer pressing
    /// Ctrl-C must not wait for a hanging server. Returns `None` when interrupted; the
    /// abandoned request then ends at its own timeout, or with the process.
    fn request(
        &self,
        time_left: Duration,
        interrupted: &dyn Fn() -> bool,
    ) -> Option<Result<Answer, Failure>> {
        let time_left = time_left
            .min(MAX_REQUEST_TIME)
            .min(self.check.interval.max(ATTEMPT_TIME));
        let (sender, receiver) = mpsc::channel();
        let agent = self.agent.clone();
        let url = self.check.url.to_owned();
        // Only an answer with the expected status has its body checked; another status fails
        // the attempt whatever the body says, so its body is not worth the wait.
        let body_wanted_for = self.check.contains.map(|_| self.check.status);
        let spawned = thread::Builder::new()
            .name("shipbook-http".into())
            .spawn(move || {
                // The receiver is gone only when the check stopped waiting, and then nobody
                // wants the answer any more.
                let _ = sender.send(fetch(&agent, &url, time_left, body_wanted_for));
            });
        if let Err(error) = spawned {
            let failure = Failure::new(format!("cannot start the request: {error}"));
            return Some(Err(failure));
        }
        let waited = Instant::now();
        let give_up = time_left.saturating_add(REQUEST_GRACE);
        loop {
            match receiver.recv_timeout(INTERRUPT_CHECK) {
                Ok(result) => return Some(result),
                Err(RecvTimeoutError::Disconnected) => {
                    return Some(Err(Failure::new("the request ended without an answer")));
                }
                Err(RecvTimeoutError::Timeout) if interrupted() => return None,
                Err(RecvTimeoutError::Timeout) if waited.elapsed() > give_up => {
                    return Some(Err(Failure::timed_out()));
                }
                Err(RecvTimeoutError::Timeout) => {}
            }
        }
    }

    /// Decides what an attempt's result means for the check, and logs the attempt.
    fn judge(&mut self, result: Result<Answer, Failure>, log: &mut dyn Write) -> Outcome {
        let (outcome, line) = match result {
            Err(failure) => {
                let line = failure.text.clone();
                (Outcome::NoAnswer(failure), line)
            }
            Ok(answer) => {
                self.answered = true;
                judge_answer(self.check, &answer)
            }
        };
        self.log_attempt(log, &line);
        outcome
    }

    /// Keeps what the summary needs of an attempt that did not pass. The only timeout a request
    /// has is the time left to the check, so a time-out mostly says that the deadline came;
    /// an earlier attempt, when there is one, says more about the service.
    fn remember(&mut self, outcome: Outcome) {
        if let Outcome::NoAnswer(Failure {
            timed_out: true, ..
        }) = outcome
            && self.telling.is_some()
        {
            self.then_timed_out = true;
        } else {
            self.telling = Some(outcome);
            self.then_timed_out = false;
        }
    }

    /// Writes the log line of the current attempt: its number, the time since the start, and
    /// what it found.
    fn log_attempt(&self, log: &mut dyn Write, found: &str) {
        let _ = writeln!(
            log,
            "attempt {} ({}): {found}",
            self.attempts,
            human(self.started.elapsed())
        );
    }

    /// Sleeps until `elapsed` time since the start, waking often enough to notice an
    /// interruption. Returns false when interrupted.
    fn wait_until(&self, elapsed: Duration, interrupted: &dyn Fn() -> bool) -> bool {
        loop {
            if interrupted() {
                return false;
            }
            let now = self.started.elapsed();
            if now >= elapsed {
                return true;
            }
            thread::sleep((elapsed - now).min(INTERRUPT_CHECK));
        }
    }

    fn passed(&self, status: u16) -> Verdict {
        Verdict::pass(format!(
            "answered {status} after {} ({})",
            attempts(self.attempts),
            human(self.started.elapsed())
        ))
    }

    fn timed_out(&self) -> Verdict {
        let headline = if self.answered {
            "no healthy answer"
        } else {
            "no answer"
        };
        Verdict::fail(format!(
            "{headline} after {} in {}{}",
            attempts(self.attempts),
            human(self.check.timeout),
            self.last_outcome()
        ))
    }

    fn interrupted(&self, log: &mut dyn Write) -> Verdict {
        let summary = if self.attempts == 0 {
            "interrupted before the first attempt".to_string()
        } else {
            format!(
                "interrupted after {} ({}){}",
                attempts(self.attempts),
                human(self.started.elapsed()),
                self.last_outcome()
            )
        };
        let _ = writeln!(log, "{summary}");
        Verdict::fail(summary)
    }

    /// `: last answer 503, expected 200` (with `, then timed out` when later attempts did), or
    /// nothing before the first attempt.
    fn last_outcome(&self) -> String {
        let Some(outcome) = &self.telling else {
            return String::new();
        };
        let then = if self.then_timed_out {
            ", then timed out"
        } else {
            ""
        };
        format!(": last {}{then}", outcome.last())
    }
}

/// The agent every attempt of one check uses.
fn agent_for(check: &HttpCheck<'_>, roots: RootCerts) -> Agent {
    // A check that expects a redirect (say, http:// answering 301 to https://) must see the
    // redirect itself rather than where it leads; any other check follows redirects, as a
    // browser or a load balancer's probe would.
    let expects_redirect = (300..400).contains(&check.status);
    let config = Agent::config_builder()
        // The check compares statuses itself, and a 503 is an answer, not an error.
        .http_status_as_error(false)
        .max_redirects(if expects_redirect { 0 } else { 10 })
        .max_redirects_will_error(!expects_redirect)
        .save_redirect_history(true)
        // Each poll opens a new connection, so a service that stopped accepting connections
        // cannot look healthy through one kept alive from an earlier poll.
        .max_idle_connections(0)
        .user_agent(concat!("shipbook/", env!("CARGO_PKG_VERSION")))
        .tls_config(TlsConfig::builder().root_certs(roots).build())
        .build();
    Agent::new_with_config(config)
}

/// Requests `url` once, within `time_left`, reading the start of the body when the answer has
/// the status `body_wanted_for`.
fn fetch(
    agent: &Agent,
    url: &str,
    time_left: Duration,
    body_wanted_for: Option<u16>,
) -> Result<Answer, Failure> {
    let mut response = agent
        .get(url)
        .config()
        .timeout_global(Some(time_left))
        .build()
        .call()
        .map_err(|error| describe_error(&error))?;
    let status = response.status().as_u16();
    let redirected_to = response
        .get_redirect_history()
        .filter(|history| history.len() > 1)
        .and_then(|history| history.last())
        .map(Uri::to_string);
    let body = if body_wanted_for == Some(status) {
        let prefix = read_prefix(response.body_mut()).map_err(|failure| Failure {
            text: format!(
                "answered {status}, then reading the body failed: {}",
                failure.text
            ),
            timed_out: failure.timed_out,
        })?;
        Some(prefix)
    } else {
        None
    };
    Ok(Answer {
        status,
        redirected_to,
        body,
    })
}

/// Reads up to `BODY_LIMIT` bytes of a body, and one more to learn whether there was more.
fn read_prefix(body: &mut ureq::Body) -> Result<BodyPrefix, Failure> {
    let mut bytes = Vec::new();
    body.as_reader()
        .take(BODY_LIMIT as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|error| describe_io_error(&error))?;
    let complete = bytes.len() <= BODY_LIMIT;
    bytes.truncate(BODY_LIMIT);
    Ok(BodyPrefix { bytes, complete })
}

/// Judges an answer against the check; returns the outcome and the log line's text for it.
fn judge_answer(check: &HttpCheck<'_>, answer: &Answer) -> (Outcome, String) {
    let status = answer.status;
    let origin = match &answer.redirected_to {
        Some(url) => format!("{status} from {url}"),
        None => status.to_string(),
    };
    if status != check.status {
        let reason = format!("expected {}", check.status);
        let line = format!("{origin}, {reason}");
        return (Outcome::Unhealthy { status, reason }, line);
    }
    if let (Some(text), Some(body)) = (check.contains, &answer.body)
        && !contains(&body.bytes, text)
    {
        let reason = format!("body lacks {text:?}");
        let line = format!("{origin}, {reason}{}", body_note(body));
        return (Outcome::Unhealthy { status, reason }, line);
    }
    (Outcome::Healthy { status }, format!("{origin}, healthy"))
}

/// Whether `text` occurs in `body`. Bytes are compared, so that a body in some other encoding
/// or with broken UTF-8 still matches an ASCII marker such as "ok".
fn contains(body: &[u8], text: &str) -> bool {
    let needle = text.as_bytes();
    needle.is_empty() || body.windows(needle.len()).any(|window| window == needle)
}

/// What the log adds about a body that lacks the expected text: how it begins, so that an
/// engineer sees "starting up" or an error page without fetching it again.
fn body_note(body: &BodyPrefix) -> String {
    if body.bytes.is_empty() {
        return " (the body is empty)".into();
    }
    let text = String::from_utf8_lossy(&body.bytes);
    let words: Vec<&str> = text.split_whitespace().collect();
    let flat = words.join(" ");
    let mut excerpt: String = flat.chars().take(EXCERPT_CHARS).collect();
    if excerpt.len() < flat.len() {
        excerpt.push('…');
    }
    let scope = if body.complete {
        ""
    } else {
        " in its first 1 MiB"
    };
    format!("{scope} (it begins {excerpt:?})")
}

/// A ureq error in a few words, the way an engineer would say it.
fn describe_error(error: &ureq::Error) -> Failure {
    match error {
        ureq::Error::Io(error) => describe_io_error(error),
        ureq::Error::Timeout(_) => Failure::timed_out(),
        ureq::Error::HostNotFound => Failure::new("host not found"),
        ureq::Error::ConnectionFailed => Failure::new("connection failed"),
        ureq::Error::TooManyRedirects => Failure::new("too many redirects"),
        other => Failure::new(other.to_string()),
    }
}

/// An I/O error in a few words: "connection refused" rather than "Connection refused (os error
/// 111)". A body reader wraps ureq's own errors in I/O errors; those are unwrapped first.
fn describe_io_error(error: &io::Error) -> Failure {
    if let Some(inner) = error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<ureq::Error>())
    {
        return describe_error(inner);
    }
    match error.kind() {
        io::ErrorKind::TimedOut => Failure::timed_out(),
        io::ErrorKind::ConnectionRefused => Failure::new("connection refused"),
        io::ErrorKind::ConnectionReset => Failure::new("connection reset"),
        io::ErrorKind::ConnectionAborted => Failure::new("connection aborted"),
        io::ErrorKind::UnexpectedEof => {
            Failure::new("connection closed before the answer was complete")
        }
        _ => Failure::new(error.to_string()),
    }
}

/// "1 attempt", "3 attempts".
fn attempts(count: u32) -> String {
    if count == 1 {
        "1 attempt".into()
    } else {
        format!("{count} attempts")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::io::BufRead;
    use std::net::{TcpListener, TcpStream};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

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

    fn check<'a>(url: &'a str, contains: Option<&'a str>, timeout_ms: u64) -> HttpCheck<'a> {
        HttpCheck {
            url,
            status: 200,
            contains,
            timeout: Duration::from_millis(timeout_ms),
            interval: Duration::from_millis(10),
        }
    }

    /// Runs a check to its verdict and returns the verdict and the log.
    fn poll(check: &HttpCheck<'_>) -> (Verdict, String) {
        poll_interrupted(check, &|| false)
    }

    fn poll_interrupted(
        check: &HttpCheck<'_>,
        interrupted: &dyn Fn() -> bool,
    ) -> (Verdict, String) {
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
    fn check_url_accepts_http_and_https() {
        for url in [
            "http://127.0.0.1:8080/health",
            "https://billing.example.test/health?deep=1",
            "HTTPS://EXAMPLE.TEST",
            "http://[::1]:8080/",
            "http://user:secret@127.0.0.1:65535/",
            "http://127.0.0.1:/health",
        ] {
            assert_eq!(check_url(url), Ok(()), "{url}");
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

    #[test]
    fn only_certificates_are_taken_from_a_bundle() {
        assert!(certificates_in(b"").is_empty());
        assert!(certificates_in(b"not a bundle at all").is_empty());
        let damaged = b"-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n";
        assert!(certificates_in(damaged).is_empty());
        let one = b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        assert_eq!(certificates_in(one).len(), 1);
    }

    #[test]
    fn https_is_recognised_in_any_case() {
        assert!(is_https("https://example.test/"));
        assert!(is_https("HTTPS://example.test/"));
        assert!(!is_https("http://example.test/"));
        assert!(!is_https("https"));
        assert!(!is_https("ht\u{e9}tps://"));
    }

    #[test]
    fn errors_are_described_in_a_few_words() {
        let refused = io::Error::from(io::ErrorKind::ConnectionRefused);
        assert_eq!(describe_io_error(&refused).text, "connection refused");
        assert!(!describe_io_error(&refused).timed_out);
        let wrapped = io::Error::other(ureq::Error::HostNotFound);
        assert_eq!(describe_io_error(&wrapped).text, "host not found");
        let timeout = describe_error(&ureq::Error::Timeout(ureq::Timeout::Global));
        assert_eq!(timeout.text, "timed out");
        assert!(timeout.timed_out);
        let wrapped_timeout = io::Error::other(ureq::Error::Timeout(ureq::Timeout::RecvBody));
        assert!(describe_io_error(&wrapped_timeout).timed_out);
    }

    #[test]
    fn the_body_search_works_on_bytes() {
        assert!(contains(b"status: ok", "ok"));
        assert!(contains(b"\xff\xfe ok \xff", "ok"));
        assert!(contains(b"", ""));
        assert!(!contains(b"o", "ok"));
        assert!(!contains(b"", "ok"));
    }

    #[test]
    fn long_bodies_are_quoted_briefly() {
        let body = BodyPrefix {
            bytes: "word ".repeat(100).into_bytes(),
            complete: true,
        };
        let note = body_note(&body);
        assert!(note.starts_with(" (it begins \"word word"), "{note}");
        assert!(note.ends_with("…\")"), "{note}");
        assert!(note.chars().count() < EXCERPT_CHARS + 20, "{note}");
    }
}
