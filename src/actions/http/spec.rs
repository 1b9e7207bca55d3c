//! What an `http` step says in a runbook, what makes it valid, and what it becomes in a plan.

use std::ops::Range;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::text::checks::{Checks, Resolve};

mod url;

use crate::text::duration;
pub use url::{check_url, is_https};

/// The `http` action: poll a URL until it answers as expected.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "HttpCheck")]
pub struct HttpSpec {
    /// The URL to poll, such as "{{ url }}/health".
    pub url: String,
    /// The HTTP status to wait for (default 200).
    pub status: Option<u16>,
    /// Text the body must contain as well.
    pub contains: Option<String>,
    /// How long to keep polling before the step fails (default "60s").
    #[schemars(
        with = "Option<String>",
        length(min = 1),
        pattern(crate::text::patterns::DURATION_PATTERN)
    )]
    pub timeout: Option<Spanned<String>>,
    /// The wait between two polls (default "2s").
    #[schemars(
        with = "Option<String>",
        length(min = 1),
        pattern(crate::text::patterns::DURATION_PATTERN)
    )]
    pub interval: Option<Spanned<String>>,
}

/// An http check as it runs: the URL rendered, the defaults applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlannedHttp {
    pub url: String,
    pub status: u16,
    pub contains: Option<String>,
    #[serde(serialize_with = "duration::serialize_millis")]
    pub timeout: Duration,
    #[serde(serialize_with = "duration::serialize_millis")]
    pub interval: Duration,
}

impl HttpSpec {
    pub fn validate(&self, span: Range<usize>, checks: &mut dyn Checks) {
        checks.text(&self.url, span.clone());
        if !self.url.contains("{{")
            && let Err(problem) = check_url(&self.url)
        {
            let needle = format!("\"{}\"", self.url);
            let span = checks.narrow(&span, &needle);
            checks.error(span, format!("cannot poll `{}`: {problem}", self.url), None);
        }
        if let Some(contains) = &self.contains {
            checks.text(contains, span);
        }
        checks.duration(self.timeout.as_ref());
        checks.duration(self.interval.as_ref());
    }

    pub fn resolve(&self, span: Range<usize>, resolve: &mut dyn Resolve) -> PlannedHttp {
        let url = resolve.text(&self.url, span.clone());
        // A URL made of variables can only be judged once they are rendered.
        if self.url.contains("{{")
            && let Err(problem) = check_url(&url)
        {
            resolve.error(
                span.clone(),
                format!("cannot poll `{url}`: {problem}"),
                "variables that make an http:// or https:// URL".into(),
            );
        }
        PlannedHttp {
            url,
            status: self.status.unwrap_or(200),
            contains: self.contains.as_ref().map(|c| resolve.text(c, span)),
            timeout: duration::parse_or(self.timeout.as_ref(), Duration::from_secs(60)),
            interval: duration::parse_or(self.interval.as_ref(), Duration::from_secs(2)),
        }
    }
}

impl PlannedHttp {
    /// One line saying what the step does, for the plan, the record and the note.
    pub fn describe(&self) -> String {
        format!("wait for {} to answer {}", self.url, self.status)
    }
}
