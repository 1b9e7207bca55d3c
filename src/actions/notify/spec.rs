//! What a `[[notify]]` table says in a runbook, what makes it valid, and what it becomes in a
//! plan.

use std::ops::Range;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::text::checks::{Checks, Resolve};
use crate::text::choice::deserialize_as_choice;
use crate::text::duration;
use crate::text::names::named_enum;

/// When a notification is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum NotifyOn {
    /// A run starts (or is resumed).
    Started,
    /// A step fails (after its retries).
    StepFailed,
    /// A `confirm` step waits for a person.
    Waiting,
    Succeeded,
    Failed,
    /// A step failed and the `[rollback]` procedure ran (`on_failure = "rollback"`).
    RolledBack,
    /// A confirmation was declined or could not be asked.
    Aborted,
    Interrupted,
}

named_enum!(NotifyOn {
    Started => "started",
    StepFailed => "step_failed",
    Waiting => "waiting",
    Succeeded => "succeeded",
    Failed => "failed",
    RolledBack => "rolled_back",
    Aborted => "aborted",
    Interrupted => "interrupted",
});
deserialize_as_choice!(NotifyOn);

/// The shape of a webhook's body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum NotifyFormat {
    /// A Slack incoming webhook: `{"text": …}`.
    Slack,
    /// The event itself, as JSON.
    Json,
    /// A Microsoft Teams incoming webhook: a message card.
    Teams,
}

named_enum!(NotifyFormat {
    Slack => "slack",
    Json => "json",
    Teams => "teams",
});
deserialize_as_choice!(NotifyFormat);

/// One `[[notify]]` table: tell the team about a run, where it already talks.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Notify")]
pub struct NotifySpec {
    /// The events to send: started, step_failed, waiting, succeeded, failed, rolled_back,
    /// aborted, interrupted.
    #[schemars(with = "Vec<NotifyOn>", length(min = 1))]
    pub on: Spanned<Vec<NotifyOn>>,
    /// A URL to POST the event to, usually held in a secret: "{{ secrets.SLACK_WEBHOOK }}".
    #[schemars(with = "Option<String>")]
    pub webhook: Option<Spanned<String>>,
    /// The webhook's body: "slack", "json" (the default) or "teams".
    pub format: Option<NotifyFormat>,
    /// A command (through the runbook's `shell`) that gets the event as JSON on stdin.
    #[schemars(with = "Option<String>")]
    pub run: Option<Spanned<String>>,
    /// How long one notification may take, retries included (default "5s"); the run never
    /// waits longer for it.
    #[schemars(
        with = "Option<String>",
        length(min = 1),
        pattern(crate::text::patterns::DURATION_PATTERN)
    )]
    pub timeout: Option<Spanned<String>>,
}

/// Where a notification goes, rendered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NotifyTarget {
    Webhook {
        url: String,
        format: NotifyFormat,
    },
    /// A command's text, rendered; the planner runs it through the runbook's shell.
    Run {
        script: String,
    },
}

/// A notification as it is sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlannedNotify {
    pub on: Vec<NotifyOn>,
    /// Never shown: a webhook URL is a credential.
    #[serde(skip)]
    pub target: NotifyTarget,
    #[serde(serialize_with = "duration::serialize_millis")]
    pub timeout: Duration,
}

/// The default budget of one notification.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

impl NotifySpec {
    pub fn validate(&self, span: Range<usize>, checks: &mut dyn Checks) {
        if self.on.get_ref().is_empty() {
            checks.error(
                self.on.span(),
                "`on = []` would send nothing".into(),
                Some(format!("some of {}", NotifyOn::NAMES.join(", "))),
            );
        }
        for text in [&self.webhook, &self.run].into_iter().flatten() {
            checks.text(text.get_ref(), text.span());
        }
        match (&self.webhook, &self.run) {
            (Some(url), None) => {
                let url_text = url.get_ref();
                let plain = !url_text.contains("{{");
                let http = url_text.starts_with("https://") || url_text.starts_with("http://");
                if plain && !http {
                    checks.error(
                        url.span(),
                        "the webhook is not an http:// or https:// URL".into(),
                        Some("a URL, usually from a secret: \"{{ secrets.NAME }}\"".into()),
                    );
                }
            }
            (None, Some(_)) => {
                if self.format.is_some() {
                    checks.error(
                        span.clone(),
                        "`format` shapes a webhook's body; a `run` command gets the event as JSON"
                            .into(),
                        None,
                    );
                }
            }
            (found_url, _) => checks.error(
                span,
                if found_url.is_some() {
                    "a [[notify]] has both `webhook` and `run`".into()
                } else {
                    "a [[notify]] says nowhere to send".into()
                },
                Some("exactly one of `webhook` or `run`".into()),
            ),
        }
        checks.duration(self.timeout.as_ref());
    }

    pub fn resolve(&self, span: Range<usize>, resolve: &mut dyn Resolve) -> PlannedNotify {
        let target = match (&self.webhook, &self.run) {
            (Some(url), _) => NotifyTarget::Webhook {
                url: resolve.text(url.get_ref(), url.span()),
                format: self.format.unwrap_or(NotifyFormat::Json),
            },
            (None, Some(run)) => NotifyTarget::Run {
                script: resolve.text(run.get_ref(), run.span()),
            },
            // Refused by validation; a plan is only built from a valid runbook.
            (None, None) => NotifyTarget::Run {
                script: resolve.text("true", span),
            },
        };
        PlannedNotify {
            on: self.on.get_ref().clone(),
            target,
            timeout: duration::parse_or(self.timeout.as_ref(), DEFAULT_TIMEOUT),
        }
    }
}
