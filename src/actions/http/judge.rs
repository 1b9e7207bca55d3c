//! What an answer means for the check: healthy, or unhealthy and why.
//!
//! Each attempt's log line and the final summary are made from the same judgement, so that
//! what the summary calls "the last answer" is exactly what the log shows for it. A body that
//! lacks the expected text is quoted briefly, because "starting up" or an error page tells the
//! engineer more than the status alone.

use super::PlannedHttp;
use super::fetch::{Answer, BodyPrefix, Failure};
use crate::text::words::one_line_folded;

/// How many characters of a body the log quotes when the body lacks the expected text.
const EXCERPT_CHARS: usize = 80;

/// What one attempt found out about the service.
pub(super) enum Outcome {
    Healthy { status: u16 },
    Unhealthy { status: u16, reason: String },
    NoAnswer(Failure),
}

impl Outcome {
    /// The outcome as the summary quotes it: `answer 503, expected 200` or `error: timed out`.
    pub(super) fn last(&self) -> String {
        match self {
            Outcome::Healthy { status } => format!("answer {status}"),
            Outcome::Unhealthy { status, reason } => format!("answer {status}, {reason}"),
            Outcome::NoAnswer(failure) => format!("error: {}", failure.text),
        }
    }
}

/// Judges an answer against the check; returns the outcome and the log line's text for it.
pub(super) fn judge_answer(check: &PlannedHttp, answer: &Answer) -> (Outcome, String) {
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
    if let (Some(text), Some(body)) = (check.contains.as_deref(), &answer.body)
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
    let excerpt = one_line_folded(&String::from_utf8_lossy(&body.bytes), EXCERPT_CHARS);
    let scope = if body.complete {
        ""
    } else {
        " in its first 1 MiB"
    };
    format!("{scope} (it begins {excerpt:?})")
}

#[cfg(test)]
mod tests {
    use super::*;

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
