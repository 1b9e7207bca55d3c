//! What a `watch` step says in a runbook, what makes it valid, and what it becomes in a plan.
//!
//! A watch samples one check every `every` for `for`: a `[[metrics]]` entry compared with its
//! value before the first step (or with absolute bounds), an HTTP answer, or a command's exit
//! status. It fails as soon as `failures` samples have failed.

use std::ops::Range;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::actions::http::spec::{HttpSpec, PlannedHttp};
use crate::text::checks::{Checks, Resolve};
use crate::text::duration;

/// The `watch` action: sample a check for a while after a deploy.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Watch")]
pub struct WatchSpec {
    /// How long to watch, such as "10m".
    #[serde(rename = "for")]
    #[schemars(
        with = "String",
        length(min = 1),
        pattern(crate::text::patterns::DURATION_PATTERN)
    )]
    pub duration: Spanned<String>,
    /// The time between two samples, such as "30s"; at most `for`.
    #[schemars(
        with = "String",
        length(min = 1),
        pattern(crate::text::patterns::DURATION_PATTERN)
    )]
    pub every: Spanned<String>,
    /// How many failed samples fail the step (default 1).
    #[schemars(with = "Option<u32>", range(min = 1))]
    pub failures: Option<Spanned<u32>>,
    /// Check: the name of a `[[metrics]]` entry, compared with its value before the first step.
    #[schemars(with = "Option<String>")]
    pub metric: Option<Spanned<String>>,
    /// With `metric`: how much worse than before a sample may be, such as "20%".
    #[schemars(with = "Option<String>", pattern(r"^[0-9]+(\.[0-9]+)?%$"))]
    pub max_regression: Option<Spanned<String>>,
    /// With `metric`: a value above this fails the sample.
    pub max: Option<f64>,
    /// With `metric`: a value below this fails the sample.
    pub min: Option<f64>,
    /// Check: a URL that must answer as expected each time (one request per sample, waiting up
    /// to its `timeout`, default "10s").
    #[schemars(with = "Option<HttpSpec>")]
    pub http: Option<Spanned<HttpSpec>>,
    /// Check: a command (through the runbook's `shell`) that must exit with status 0 each time.
    #[schemars(with = "Option<String>")]
    pub run: Option<Spanned<String>>,
    /// How long a rehearsal watches instead of `for`, such as "1m".
    #[schemars(
        with = "Option<String>",
        length(min = 1),
        pattern(crate::text::patterns::DURATION_PATTERN)
    )]
    pub rehearsal_for: Option<Spanned<String>>,
}

/// The bounds a metric's samples are held to.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricLimits {
    pub metric: String,
    /// The most a sample may be worse than the value before the first step, as a fraction
    /// (0.2 for "20%").
    pub max_regression: Option<f64>,
    pub max: Option<f64>,
    pub min: Option<f64>,
}

/// What a watch checks at each sample, rendered.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum WatchCheck {
    Metric(MetricLimits),
    Http(PlannedHttp),
    /// A command's text, rendered, run through the runbook's shell by the planner.
    Run(String),
}

/// A watch as it runs: durations parsed, the check rendered.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlannedWatch {
    #[serde(rename = "for_ms", serialize_with = "duration::serialize_millis")]
    pub duration: Duration,
    #[serde(rename = "every_ms", serialize_with = "duration::serialize_millis")]
    pub every: Duration,
    pub failures: u32,
    #[serde(
        rename = "rehearsal_for_ms",
        serialize_with = "duration::serialize_optional_millis"
    )]
    pub rehearsal_duration: Option<Duration>,
    pub check: WatchCheck,
}

/// The default wait for one HTTP sample.
const HTTP_SAMPLE_TIMEOUT: Duration = Duration::from_secs(10);

/// A percentage such as "20%" as a fraction (0.2).
pub fn parse_percent(text: &str) -> Option<f64> {
    let number: f64 = text.strip_suffix('%')?.trim().parse().ok()?;
    (number.is_finite() && number >= 0.0).then_some(number / 100.0)
}

impl WatchSpec {
    pub fn validate(&self, span: Range<usize>, checks: &mut dyn Checks) {
        checks.duration(Some(&self.duration));
        checks.duration(Some(&self.every));
        checks.duration(self.rehearsal_for.as_ref());
        if let (Ok(length), Ok(every)) = (
            duration::parse(self.duration.get_ref()),
            duration::parse(self.every.get_ref()),
        ) && every > length
        {
            checks.error(
                self.every.span(),
                format!(
                    "`every = \"{}\"` is longer than `for = \"{}\"`: not one sample would be taken again",
                    self.every.get_ref(),
                    self.duration.get_ref()
                ),
                Some("an `every` no longer than `for`".into()),
            );
        }
        if let Some(failures) = &self.failures
            && *failures.get_ref() == 0
        {
            checks.error(
                failures.span(),
                "`failures = 0` would fail the watch before its first sample".into(),
                Some("1 or more: how many failed samples fail the step".into()),
            );
        }
        self.validate_check(span, checks);
    }

    /// Exactly one check, and bounds only where there is a metric to hold to them.
    fn validate_check(&self, span: Range<usize>, checks: &mut dyn Checks) {
        let count = [
            self.metric.is_some(),
            self.http.is_some(),
            self.run.is_some(),
        ]
        .into_iter()
        .filter(|set| *set)
        .count();
        if count != 1 {
            checks.error(
                span.clone(),
                if count == 0 {
                    "a `watch` says nothing to check".into()
                } else {
                    "a `watch` has more than one check".into()
                },
                Some("exactly one of `metric`, `http` or `run`".into()),
            );
        }
        if let Some(regression) = &self.max_regression
            && parse_percent(regression.get_ref()).is_none()
        {
            checks.error(
                regression.span(),
                format!(
                    "`max_regression = \"{}\"` is not a percentage",
                    regression.get_ref()
                ),
                Some("a percentage such as \"20%\"".into()),
            );
        }
        let bounded = self.max_regression.is_some() || self.max.is_some() || self.min.is_some();
        match (&self.metric, bounded) {
            (Some(metric), false) => checks.error(
                metric.span(),
                format!(
                    "the watch of metric `{}` has nothing to hold it to",
                    metric.get_ref()
                ),
                Some("`max_regression` (such as \"20%\"), `max` or `min`".into()),
            ),
            (None, true) => checks.error(
                span.clone(),
                "`max_regression`, `max` and `min` bound a metric, and this watch has none".into(),
                Some("`metric = \"NAME\"` naming a [[metrics]] entry".into()),
            ),
            _ => {}
        }
        if let Some(http) = &self.http {
            http.get_ref().validate(http.span(), checks);
        }
        if let Some(run) = &self.run {
            checks.text(run.get_ref(), run.span());
        }
    }

    pub fn resolve(&self, span: Range<usize>, resolve: &mut dyn Resolve) -> PlannedWatch {
        let check = match (&self.metric, &self.http, &self.run) {
            (Some(metric), _, _) => WatchCheck::Metric(MetricLimits {
                metric: metric.get_ref().clone(),
                max_regression: self
                    .max_regression
                    .as_ref()
                    .and_then(|text| parse_percent(text.get_ref())),
                max: self.max,
                min: self.min,
            }),
            (None, Some(http), _) => {
                let mut planned = http.get_ref().resolve(http.span(), resolve);
                if http.get_ref().timeout.is_none() {
                    planned.timeout = HTTP_SAMPLE_TIMEOUT;
                }
                WatchCheck::Http(planned)
            }
            (None, None, Some(run)) => WatchCheck::Run(resolve.text(run.get_ref(), run.span())),
            // Refused by validation; a plan is only built from a valid runbook.
            (None, None, None) => WatchCheck::Run(resolve.text("false", span)),
        };
        PlannedWatch {
            duration: duration::parse_or(Some(&self.duration), Duration::from_secs(60)),
            every: duration::parse_or(Some(&self.every), Duration::from_secs(10)),
            failures: self.failures.as_ref().map_or(1, |f| *f.get_ref()).max(1),
            rehearsal_duration: duration::parse_optional(self.rehearsal_for.as_ref()),
            check,
        }
    }

    /// The metric this watch names, for the validator to look up among `[[metrics]]`.
    pub fn metric(&self) -> Option<&Spanned<String>> {
        self.metric.as_ref()
    }
}

impl PlannedWatch {
    /// One line saying what the step does, for the plan, the record and the note.
    pub fn describe(&self) -> String {
        let what = match &self.check {
            WatchCheck::Metric(limits) => {
                let mut bounds = Vec::new();
                if let Some(regression) = limits.max_regression {
                    bounds.push(format!("at most {}% worse than before", regression * 100.0));
                }
                if let Some(max) = limits.max {
                    bounds.push(format!("at most {max}"));
                }
                if let Some(min) = limits.min {
                    bounds.push(format!("at least {min}"));
                }
                format!("metric {} {}", limits.metric, bounds.join(", "))
            }
            WatchCheck::Http(http) => format!("{} answering {}", http.url, http.status),
            WatchCheck::Run(command) => format!("`{command}` passing"),
        };
        format!(
            "watch {what}, every {} for {}, failing at {} failed sample{}",
            duration::human(self.every),
            duration::human(self.duration),
            self.failures,
            if self.failures == 1 { "" } else { "s" }
        )
    }
}
