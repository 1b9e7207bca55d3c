//! One request: what ureq is asked for, and what of its answer or error the check keeps.
//!
//! The check needs little of an answer (its status, where redirects led, the start of the body)
//! and little of an error (a few words an engineer would use, and whether time ran out), so
//! this module sets up the agent, makes the request and turns ureq's answers and errors into
//! just that, which the judging and the summary can then use without knowing ureq.

use std::io::{self, Read};
use std::time::Duration;

use ureq::http::Uri;
use ureq::tls::{RootCerts, TlsConfig};
use ureq::{Agent, ResponseExt};

use super::PlannedHttp;

/// How much of a body is searched for `contains`. Health endpoints answer a few bytes; a cap
/// keeps a URL that streams something huge from filling the memory of the release machine.
pub(super) const BODY_LIMIT: usize = 1024 * 1024;

/// One answer to one request, as far as the check needs it.
pub(super) struct Answer {
    pub(super) status: u16,
    /// Where the answer came from, when redirects led somewhere else than the URL asked.
    pub(super) redirected_to: Option<String>,
    /// The start of the body, read only when the check looks into it.
    pub(super) body: Option<BodyPrefix>,
}

/// The first `BODY_LIMIT` bytes of a body.
pub(super) struct BodyPrefix {
    pub(super) bytes: Vec<u8>,
    /// False when the body went on beyond the limit.
    pub(super) complete: bool,
}

/// Why an attempt got no answer.
pub(super) struct Failure {
    /// In a few words: "connection refused".
    pub(super) text: String,
    /// Whether the request ran out of time.
    pub(super) timed_out: bool,
}

impl Failure {
    pub(super) fn new(text: impl Into<String>) -> Failure {
        Failure {
            text: text.into(),
            timed_out: false,
        }
    }

    pub(super) fn timed_out() -> Failure {
        Failure {
            text: "timed out".into(),
            timed_out: true,
        }
    }
}

/// The agent every attempt of one check uses.
pub(super) fn agent_for(check: &PlannedHttp, roots: RootCerts) -> Agent {
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
pub(super) fn fetch(
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
