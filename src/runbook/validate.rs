//! The rules serde cannot express: names, ids, exactly one action per step, durations, ranges,
//! environments that exist, and `{{ variables }}` that exist.
//!
//! Validation sees the whole runbook and reports every problem it finds, each with the span of
//! the offending value, so that `shipbook check` lists them all in one go.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::path::Path;

use toml::Spanned;

use super::{BUILTIN_VARIABLES, builtin_variable_source};
use super::{Command, OnFailure, Rollback, Runbook, Scalar, Step, StepAction};
use crate::text::checks::Checks;
use crate::text::diagnostic::{Diagnostic, LineIndex, narrow_span, suggest};
use crate::text::duration;
use crate::text::template;

/// The prefix of the ids of the undo steps shipbook adds after a failure; a runbook's own step
/// ids may not use it, so that an undo's record and log are never mistaken for a step's.
pub const UNDO_PREFIX: &str = "undo-";

/// The most steps that may run at once (`[runbook] jobs`, `--jobs`).
pub const MAX_JOBS: i64 = 256;

/// The largest `retries` accepted: more than this is almost certainly a typo.
pub const MAX_RETRIES: i64 = 100;

/// Checks `runbook`; with `check_names` false (its `[vars]` or `[environments]` did not parse)
/// placeholders are checked for syntax only, not for names that may be defined there.
/// `step_ids` holds, for `[[steps]]` and then `[[rollback.steps]]` (in that order), the id of
/// every step as written.
pub fn validate(
    runbook: &Runbook,
    check_names: bool,
    step_ids: &[Vec<Spanned<String>>],
) -> Vec<Diagnostic> {
    let mut checker = Checker {
        check_names,
        path: &runbook.path,
        source: &runbook.source,
        lines: LineIndex::new(&runbook.source),
        diagnostics: Vec::new(),
        known_variables: known_variables(runbook),
        environments: runbook.environments.keys().map(String::as_str).collect(),
        metrics: runbook
            .metrics
            .iter()
            .map(|metric| metric.name.get_ref().as_str())
            .collect(),
    };
    checker.check(runbook);
    // `needs` may name a step that has a problem of its own (and is reported for it): the ids
    // as written count, not only those of the steps that could be read.
    let written: Vec<&str> = step_ids
        .first()
        .map(|ids| ids.iter().map(|id| id.get_ref().as_str()).collect())
        .unwrap_or_default();
    checker.needs(&runbook.steps, &written);
    for ids in step_ids {
        checker.step_ids(ids);
    }
    checker.diagnostics
}

/// Every variable name a string may use: `[vars]`, any environment's vars, the built-ins.
/// Whether a name is defined for the chosen environment is checked again when planning.
fn known_variables(runbook: &Runbook) -> BTreeSet<String> {
    let mut known: BTreeSet<String> = runbook.vars.keys().cloned().collect();
    for environment in runbook.environments.values() {
        known.extend(environment.vars.keys().cloned());
    }
    known.extend(BUILTIN_VARIABLES.iter().map(|name| name.to_string()));
    // `{{ secrets.NAME }}`: the value of a `[secrets]` variable, masked wherever it is shown.
    known.extend(
        runbook
            .secrets
            .env
            .iter()
            .map(|name| format!("secrets.{}", name.get_ref())),
    );
    known
}

struct Checker<'a> {
    check_names: bool,
    path: &'a Path,
    source: &'a str,
    /// Line numbers for "first defined on line N", found without rescanning the source.
    lines: LineIndex,
    diagnostics: Vec<Diagnostic>,
    known_variables: BTreeSet<String>,
    environments: Vec<&'a str>,
    /// The names of the `[[metrics]]`, which a `watch` may name.
    metrics: Vec<&'a str>,
}

fn is_identifier(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

impl Checker<'_> {
    fn error(&mut self, span: Range<usize>, message: impl Into<String>) -> &mut Diagnostic {
        self.diagnostics
            .push(Diagnostic::new(self.path, Some(span), message));
        self.diagnostics.last_mut().expect("just pushed")
    }

    fn check(&mut self, runbook: &Runbook) {
        self.header(runbook);
        self.variables(&runbook.vars);
        for environment in runbook.environments.values() {
            self.variables(&environment.vars);
        }
        self.environments(runbook);
        self.secrets(runbook);
        self.metrics(runbook);
        self.steps(&runbook.steps);
        for notify in &runbook.notify {
            notify.validate(notify.on.span(), self);
        }
        if runbook.header.on_failure == Some(OnFailure::Rollback) && runbook.rollback.is_none() {
            let span = self.table_header_span("on_failure");
            let diagnostic = self.error(
                span,
                "`on_failure = \"rollback\"` but the runbook has no [rollback]",
            );
            diagnostic.expected =
                Some("a [rollback] table saying how to go back, or another on_failure".into());
        }
        if let Some(rollback) = &runbook.rollback {
            self.rollback(rollback);
        }
    }

    fn header(&mut self, runbook: &Runbook) {
        let header = &runbook.header;
        if !is_identifier(header.name.get_ref()) {
            let diagnostic = self.error(
                header.name.span(),
                format!("invalid runbook name `{}`", header.name.get_ref()),
            );
            diagnostic.expected = Some("lowercase letters, digits, `_` and `-`".into());
        }
        if let Some(shell) = &header.shell
            && shell.get_ref().is_empty()
        {
            let diagnostic = self.error(shell.span(), "`shell` is empty");
            diagnostic.expected =
                Some("a program and its arguments, such as [\"sh\", \"-c\"]".into());
        }
        if let Some(jobs) = &header.jobs
            && !(1..=MAX_JOBS).contains(jobs.get_ref())
        {
            let diagnostic = self.error(
                jobs.span(),
                format!("jobs = {} is out of range", jobs.get_ref()),
            );
            diagnostic.expected = Some(format!("a whole number from 1 to {MAX_JOBS}"));
        }
        for text in [
            &header.description,
            &header.owner,
            &header.expected,
            &header.reason,
        ] {
            self.shown_text(text.as_ref());
        }
    }

    /// Checks a text that is rendered to be shown (a description, a name), when it is set.
    fn shown_text(&mut self, text: Option<&Spanned<String>>) {
        if let Some(text) = text {
            self.check_text(text.get_ref(), text.span());
        }
    }

    /// Checks the variables of `[vars]` or of one environment: none may take a built-in's name,
    /// and none may be a float, whose text TOML does not keep (`1.10` would be used as `1.1`).
    fn variables(&mut self, vars: &BTreeMap<String, Spanned<Scalar>>) {
        for (name, value) in vars {
            let key = self.key_span(name, value.span());
            if let Some(source) = builtin_variable_source(name) {
                let diagnostic = self.error(
                    key.clone(),
                    format!("`{name}` is a built-in variable ({source}); a runbook cannot set it"),
                );
                diagnostic.expected = Some(format!(
                    "a name of your own for this value; built in: {}",
                    BUILTIN_VARIABLES.join(", ")
                ));
            }
            if let Scalar::Float(number) = value.get_ref() {
                let written = self.source.get(value.span()).unwrap_or_default().trim();
                let key_text = self.source.get(key).unwrap_or(name);
                let used = number.to_string();
                let message = if used == written {
                    format!(
                        "`{name}` is the floating-point number {written}, whose text TOML does not keep (1.10 would be used as 1.1)"
                    )
                } else {
                    format!(
                        "`{name}` is the floating-point number {written}, which would be used as `{used}`"
                    )
                };
                let diagnostic = self.error(value.span(), message);
                diagnostic.expected = Some(format!(
                    "a string, an integer or a boolean; to use it as written: {key_text} = \"{written}\""
                ));
            }
        }
    }

    /// The span of the key `name` whose value is at `value`: the last occurrence of the name
    /// before the value, with its quotes when it is quoted.
    fn key_span(&self, name: &str, value: Range<usize>) -> Range<usize> {
        let before = self.source.get(..value.start).unwrap_or_default();
        let Some(start) = before.rfind(name) else {
            return value;
        };
        let end = start + name.len();
        let quoted = start > 0
            && matches!(before.as_bytes()[start - 1], b'"' | b'\'')
            && before.as_bytes().get(end) == Some(&before.as_bytes()[start - 1]);
        if quoted {
            start - 1..end + 1
        } else {
            start..end
        }
    }

    fn environments(&mut self, runbook: &Runbook) {
        for (name, environment) in &runbook.environments {
            if let Some(required) = &environment.requires_rehearsal {
                self.environment_name(required, &format!("environment `{name}`"));
                if runbook.rollback.is_none() {
                    let diagnostic = self.error(
                        required.span(),
                        format!(
                            "environment `{name}` requires a rehearsal, but the runbook has no [rollback] to rehearse"
                        ),
                    );
                    diagnostic.expected = Some(
                        "a [rollback] table (a rehearsal proves the way back works), or no requires_rehearsal".into(),
                    );
                }
            }
            for value in environment.env.values() {
                self.check_text(value.get_ref(), value.span());
            }
        }
    }

    fn secrets(&mut self, runbook: &Runbook) {
        for name in &runbook.secrets.env {
            let valid = !name.get_ref().is_empty()
                && name
                    .get_ref()
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_');
            if !valid {
                let diagnostic = self.error(
                    name.span(),
                    format!("invalid environment variable name `{}`", name.get_ref()),
                );
                diagnostic.expected = Some("letters, digits and `_`".into());
            }
        }
    }

    fn metrics(&mut self, runbook: &Runbook) {
        let mut metric_names = BTreeMap::new();
        for metric in &runbook.metrics {
            self.unique(&mut metric_names, &metric.name, "metric");
            self.command(&metric.command);
            if let Some(regression) = &metric.max_regression {
                let valid = regression
                    .get_ref()
                    .strip_suffix('%')
                    .and_then(|number| number.trim().parse::<f64>().ok())
                    .is_some_and(|number| number >= 0.0);
                if !valid {
                    let diagnostic = self.error(
                        regression.span(),
                        format!("invalid max_regression `{}`", regression.get_ref()),
                    );
                    diagnostic.expected = Some("a percentage such as \"10%\"".into());
                }
            }
            self.check_duration(metric.timeout.as_ref());
        }
    }

    fn rollback(&mut self, rollback: &Rollback) {
        self.shown_text(rollback.note.as_ref());
        match (&rollback.run, rollback.steps.is_empty()) {
            (Some(run), false) => {
                let diagnostic = self.error(
                    run.span(),
                    "`[rollback]` has both `run` and `[[rollback.steps]]`",
                );
                diagnostic.expected = Some("one of them".into());
            }
            (Some(run), true) => self.command(run),
            (None, false) => {
                self.steps(&rollback.steps);
                for step in &rollback.steps {
                    if let Some(needs) = &step.needs {
                        let diagnostic = self.error(
                            needs.span(),
                            format!("`needs` on rollback step `{}`", step.id()),
                        );
                        diagnostic.expected = Some(
                            "rollback steps without `needs`: an emergency rollback runs its steps one after another, in file order".into(),
                        );
                    }
                }
            }
            (None, true) => {
                let span = self.table_header_span("[rollback]");
                let diagnostic = self.error(span, "`[rollback]` says nothing to run");
                diagnostic.expected = Some("`run = \"...\"` or `[[rollback.steps]]` tables".into());
            }
        }
    }

    fn table_header_span(&self, header: &str) -> Range<usize> {
        self.source
            .find(header)
            .map_or(0..0, |start| start..start + header.len())
    }

    fn unique<'s>(
        &mut self,
        seen: &mut BTreeMap<&'s str, Range<usize>>,
        name: &'s Spanned<String>,
        what: &str,
    ) {
        if let Some(first) = seen.get(name.get_ref().as_str()) {
            let first_line = self.lines.line_of(first.start);
            let diagnostic = self.error(
                name.span(),
                format!("duplicate {what} `{}`", name.get_ref()),
            );
            diagnostic.label = Some(format!("first defined on line {first_line}"));
            diagnostic.expected = Some(format!("each {what} named once"));
        } else {
            seen.insert(name.get_ref(), name.span());
        }
    }

    fn steps(&mut self, steps: &[Step]) {
        for step in steps {
            self.step(step);
        }
    }

    /// `needs` names steps of the same runbook, other than the step itself, each once, and the
    /// steps never wait for each other in a circle.
    fn needs(&mut self, steps: &[Step], written: &[&str]) {
        let mut ids: Vec<&str> = steps.iter().map(Step::id).collect();
        for id in written {
            if !ids.contains(id) {
                ids.push(id);
            }
        }
        for step in steps {
            let Some(needs) = &step.needs else { continue };
            let mut seen = BTreeMap::new();
            for need in needs.get_ref() {
                let name = need.get_ref().as_str();
                if name == step.id() {
                    let diagnostic = self.error(need.span(), format!("step `{name}` needs itself"));
                    diagnostic.expected =
                        Some("the ids of other steps, which must succeed before this one".into());
                } else if !ids.contains(&name) {
                    let close = suggest(name, ids.iter().copied());
                    let diagnostic = self.error(
                        need.span(),
                        format!("step `{}` needs an unknown step `{name}`", step.id()),
                    );
                    diagnostic.expected =
                        Some(format!("the id of a step in [[steps]]: {}", ids.join(", ")));
                    diagnostic.label = close.map(|close| format!("did you mean `{close}`?"));
                } else {
                    self.unique(&mut seen, need, "need");
                }
            }
        }
        for cycle in super::graph::cycles(steps) {
            let first = &steps[cycle[0]];
            let names: Vec<String> = cycle
                .iter()
                .chain(std::iter::once(&cycle[0]))
                .map(|&index| format!("`{}`", steps[index].id()))
                .collect();
            let span = first
                .needs
                .as_ref()
                .map_or_else(|| first.id.span(), Spanned::span);
            let diagnostic = self.error(
                span,
                format!(
                    "steps wait for each other in a circle: {}",
                    names.join(" needs ")
                ),
            );
            diagnostic.expected = Some(
                "`needs` that lead back to a step that waits for nothing; a step without `needs` waits for the step before it".into(),
            );
        }
    }

    /// Checks the ids of one list of steps: each a valid identifier, none twice. The ids come
    /// from every step as written, also those left out of the model for having no action or
    /// several, so that one `check` reports their ids' problems too.
    fn step_ids(&mut self, ids: &[Spanned<String>]) {
        let mut seen = BTreeMap::new();
        for id in ids {
            if !is_identifier(id.get_ref()) {
                let diagnostic =
                    self.error(id.span(), format!("invalid step id `{}`", id.get_ref()));
                diagnostic.expected = Some("lowercase letters, digits, `_` and `-`".into());
            }
            if id.get_ref().starts_with(UNDO_PREFIX) {
                let diagnostic = self.error(
                    id.span(),
                    format!("step id `{}` starts with `{UNDO_PREFIX}`", id.get_ref()),
                );
                diagnostic.expected = Some(format!(
                    "an id that does not start with `{UNDO_PREFIX}`: shipbook names the undo of step `x` `{UNDO_PREFIX}x`"
                ));
            }
            self.unique(&mut seen, id, "step id");
        }
    }

    /// A step's `timeout` limits its commands: its `run`, its `undo`, a tag's `git push`. On a
    /// step with none of them it would limit nothing, and saying nothing would let a runbook
    /// promise a limit that is never applied.
    fn timeout_applies(&mut self, step: &Step) {
        let Some(timeout) = &step.timeout else { return };
        if step.undo.is_some() {
            return;
        }
        let (kind, instead) = match &step.action {
            StepAction::Run(_) | StepAction::Tag(_) => return,
            StepAction::Http(_) => (
                "an `http` step",
                "the polling time inside the action: `http = { …, timeout = \"60s\" }`",
            ),
            StepAction::Config(_) => ("a `config` step", "no `timeout` on this step"),
            StepAction::Watch(_) => (
                "a `watch` step",
                "the watch's own `for` (and, for an `http` check, its `timeout`)",
            ),
            StepAction::Confirm(_) => (
                "a `confirm` step",
                "no `timeout` on this step (a question waits for its answer)",
            ),
        };
        let diagnostic = self.error(
            timeout.span(),
            format!("`timeout` on {kind} limits nothing: it applies to a step's commands (`run`, `undo`)"),
        );
        diagnostic.expected = Some(instead.to_string());
    }

    /// `approvers` names people who may approve a `confirm` step: only there, each once.
    fn approvers(&mut self, step: &Step) {
        let Some(approvers) = &step.approvers else {
            return;
        };
        let span = approvers.span();
        if !matches!(step.action, StepAction::Confirm(_)) {
            let diagnostic = self.error(
                span.clone(),
                format!(
                    "`approvers` on a `{}` step: only a `confirm` step is approved",
                    step.action.kind()
                ),
            );
            diagnostic.expected = Some("`approvers` only beside `confirm = \"…\"`".into());
        }
        let names = approvers.get_ref();
        if names.is_empty() {
            let diagnostic = self.error(span.clone(), "`approvers = []` lets nobody approve");
            diagnostic.expected = Some("the user names of those who may approve".into());
        }
        for (index, name) in names.iter().enumerate() {
            let text = name.get_ref();
            if text.trim().is_empty() {
                self.error(name.span(), "an empty name in `approvers`");
            } else if names[..index]
                .iter()
                .any(|earlier| earlier.get_ref() == text)
            {
                self.error(
                    name.span(),
                    format!("`{text}` is listed twice in `approvers`"),
                );
            }
        }
    }

    /// A watch's metric must be one of the runbook's `[[metrics]]`: its command and direction
    /// are there, and its value before the first step is what a regression is measured from.
    fn watched_metric(&mut self, watch: &crate::actions::watch::spec::WatchSpec) {
        let Some(metric) = watch.metric() else { return };
        if self.metrics.contains(&metric.get_ref().as_str()) {
            return;
        }
        let known = self.metrics.clone();
        let close = suggest(metric.get_ref(), known.iter().copied());
        let diagnostic = self.error(
            metric.span(),
            format!("unknown metric `{}`", metric.get_ref()),
        );
        diagnostic.expected = Some(if known.is_empty() {
            "a [[metrics]] entry of that name (the runbook has none)".into()
        } else {
            format!("one of the [[metrics]]: {}", known.join(", "))
        });
        if let Some(close) = close {
            diagnostic.label = Some(format!("did you mean `{close}`?"));
        }
    }

    fn step(&mut self, step: &Step) {
        self.shown_text(step.name.as_ref());
        self.shown_text(step.description.as_ref());
        match &step.action {
            StepAction::Run(run) => self.command(run),
            StepAction::Confirm(prompt) => self.check_text(prompt.get_ref(), prompt.span()),
            StepAction::Config(config) => config.get_ref().validate(config.span(), self),
            StepAction::Tag(tag) => tag.get_ref().validate(tag.span(), self),
            StepAction::Http(http) => http.get_ref().validate(http.span(), self),
            StepAction::Watch(watch) => {
                watch.get_ref().validate(watch.span(), self);
                self.watched_metric(watch.get_ref());
            }
        }
        if let Some(undo) = &step.undo {
            self.command(undo);
        }
        self.approvers(step);
        self.timeout_applies(step);
        for value in step.env.values() {
            self.check_text(value.get_ref(), value.span());
        }
        self.check_duration(step.timeout.as_ref());
        self.check_duration(step.retry_delay.as_ref());
        if let Some(retries) = &step.retries
            && !(0..=MAX_RETRIES).contains(retries.get_ref())
        {
            let diagnostic = self.error(
                retries.span(),
                format!("retries = {} is out of range", retries.get_ref()),
            );
            diagnostic.expected = Some(format!("a whole number from 0 to {MAX_RETRIES}"));
        }
        if let Some(only) = &step.only {
            for environment in only {
                self.environment_name(environment, &format!("step `{}`", step.id()));
            }
        }
    }

    fn environment_name(&mut self, name: &Spanned<String>, whose: &str) {
        if self.environments.contains(&name.get_ref().as_str()) {
            return;
        }
        let close = suggest(name.get_ref(), self.environments.iter().copied());
        let known = if self.environments.is_empty() {
            "an environment defined in an `[environments.NAME]` table (this runbook has none)"
                .to_string()
        } else {
            format!(
                "one of the environments defined: {}",
                self.environments
                    .iter()
                    .map(|e| format!("`{e}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        let diagnostic = self.error(
            name.span(),
            format!(
                "{whose} names an undefined environment `{}`",
                name.get_ref()
            ),
        );
        diagnostic.expected = Some(known);
        diagnostic.label = close.map(|close| format!("did you mean `{close}`?"));
    }

    fn check_duration(&mut self, value: Option<&Spanned<String>>) {
        let Some(value) = value else { return };
        if let Err(problem) = duration::parse(value.get_ref()) {
            let diagnostic = self.error(value.span(), format!("invalid duration: {problem}"));
            diagnostic.expected = Some(duration::ACCEPTED_FORMS.into());
        }
    }

    fn command(&mut self, command: &Spanned<Command>) {
        if let Command::Argv(argv) = command.get_ref()
            && argv.is_empty()
        {
            let diagnostic = self.error(command.span(), "empty command");
            diagnostic.expected = Some("a program and its arguments".into());
        }
        for text in command.get_ref().strings() {
            self.check_text(text, command.span());
        }
    }

    /// Checks the `{{ }}` placeholders of one string value whose source span is `span`.
    fn check_text(&mut self, text: &str, span: Range<usize>) {
        match template::placeholders(text) {
            Err(error) => {
                let needle = &text[error.range.clone()];
                let span = narrow_span(self.source, &span, needle);
                let diagnostic = self.error(span, error.message);
                diagnostic.expected = Some("`{{ name }}` with a variable name".into());
            }
            Ok(found) => {
                for placeholder in found {
                    if !self.check_names || self.known_variables.contains(&placeholder.name) {
                        continue;
                    }
                    let needle = &text[placeholder.range.clone()];
                    let span = narrow_span(self.source, &span, needle);
                    let close = suggest(
                        &placeholder.name,
                        self.known_variables.iter().map(String::as_str),
                    )
                    .map(|close| format!("did you mean `{close}`?"));
                    let expected = if placeholder.name.starts_with("secrets.") {
                        "`secrets.NAME` with NAME listed in [secrets] env".to_string()
                    } else {
                        format!(
                            "a variable from [vars], an environment's vars, or a built-in ({})",
                            BUILTIN_VARIABLES.join(", ")
                        )
                    };
                    let diagnostic =
                        self.error(span, format!("unknown variable `{}`", placeholder.name));
                    diagnostic.label = close;
                    diagnostic.expected = Some(expected);
                }
            }
        }
    }
}

/// What the specs of step kinds may ask while they are validated.
impl Checks for Checker<'_> {
    fn error(&mut self, span: Range<usize>, message: String, expected: Option<String>) {
        let diagnostic = Checker::error(self, span, message);
        diagnostic.expected = expected;
    }

    fn text(&mut self, text: &str, span: Range<usize>) {
        self.check_text(text, span);
    }

    fn duration(&mut self, value: Option<&Spanned<String>>) {
        self.check_duration(value);
    }

    fn narrow(&self, span: &Range<usize>, needle: &str) -> Range<usize> {
        narrow_span(self.source, span, needle)
    }
}
