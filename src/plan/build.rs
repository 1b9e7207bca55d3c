//! Building a plan from a runbook, in named phases: check what the command line chose, read
//! secrets and variables, render the steps, metrics and rollback, and gather every diagnostic
//! before giving up, so that one `plan` lists every undefined variable at once.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::render::{Renderer, StepContext, clean_path};
use super::select::select;
use super::shell::Shell;
use super::variables::{self, RunContext};
use super::{
    Action, Confirmation, Notification, Plan, PlanOptions, PlannedMetric, PlannedRollback,
    PlannedStep, Secret, Selection, Work, chain,
};
use crate::actions::notify::spec::NotifyTarget;
use crate::error::{Error, Result};
use crate::mask::Masker;
use crate::runbook::validate::MAX_JOBS;
use crate::runbook::{Mode, OnFailure, Runbook, graph};
use crate::sys::git::GitFacts;
use crate::text::diagnostic::suggest;
use crate::text::duration;
use crate::text::template;

impl Plan {
    /// Builds the plan that a selection asks for: `--var` arguments parsed, today's date.
    pub fn for_selection(
        runbook: &Runbook,
        selection: &Selection,
        mode: Mode,
        reason: Option<String>,
        run_id: String,
        require_secrets: bool,
    ) -> Result<Plan> {
        let overrides = selection
            .vars
            .iter()
            .enumerate()
            .map(|(index, argument)| variables::parse_override(index + 1, argument))
            .collect::<Result<Vec<_>>>()?;
        Plan::build(
            runbook,
            mode,
            &PlanOptions {
                env: selection.env.clone(),
                overrides,
                reason,
                only: selection.only.clone(),
                from: selection.from.clone(),
                run_id,
                date: chrono::Utc::now().format("%Y-%m-%d").to_string(),
                require_secrets,
                jobs: selection.jobs,
            },
        )
    }

    pub fn build(runbook: &Runbook, mode: Mode, options: &PlanOptions) -> Result<Plan> {
        check_environment(runbook, options.env.as_deref())?;
        check_overrides(runbook, &options.overrides)?;
        let secrets = read_secrets(runbook, options.require_secrets)?;
        let git = GitFacts::read(&runbook.path, mode != Mode::Rollback);
        let variables = variables::resolve(
            runbook,
            &RunContext {
                env: options.env.as_deref(),
                run_id: &options.run_id,
                date: &options.date,
                git: &git,
                overrides: &options.overrides,
            },
        );
        let variables = with_secrets(variables, runbook, &secrets);
        let masker = Masker::new(&secrets);
        let mut renderer = Renderer {
            runbook,
            variables: &variables,
            masker: &masker,
            diagnostics: Vec::new(),
            env_name: options.env.as_deref(),
            work_dir_of_actions: work_dir(runbook),
        };
        let body = render_body(&mut renderer, runbook, mode, options)?;
        let reason = match &options.reason {
            Some(reason) => Some(masker.text(reason)),
            None => renderer.shown_optional(runbook.header.reason.as_ref()),
        };
        let owner = renderer.shown_optional(runbook.header.owner.as_ref());
        let expected = renderer.shown_optional(runbook.header.expected.as_ref());
        let description = renderer.shown_optional(runbook.header.description.as_ref());
        if !renderer.diagnostics.is_empty() {
            return Err(Error::runbook(
                &runbook.path,
                &runbook.source,
                renderer.diagnostics,
            ));
        }
        let environment = options
            .env
            .as_deref()
            .and_then(|env| runbook.environments.get(env));
        Ok(Plan {
            runbook: runbook.name().to_string(),
            runbook_path: runbook.path.clone(),
            content_hash: runbook.content_hash.clone(),
            env: options.env.clone(),
            mode,
            description,
            owner,
            expected,
            reason,
            on_failure: runbook.header.on_failure.unwrap_or(OnFailure::Ask),
            jobs: options
                .jobs
                .or_else(|| {
                    let jobs = runbook.header.jobs.as_ref()?;
                    usize::try_from(*jobs.get_ref()).ok()
                })
                .unwrap_or_else(default_jobs)
                .clamp(1, MAX_JOBS as usize),
            fail_fast: runbook.header.fail_fast.unwrap_or_default(),
            notes_dir: runbook
                .header
                .notes_dir
                .as_ref()
                .map(|dir| runbook.base_dir().join(dir)),
            variables,
            process_env: body.environment_env,
            requires_rehearsal: environment
                .and_then(|e| e.requires_rehearsal.as_ref())
                .map(|r| r.get_ref().clone()),
            steps: body.steps,
            metrics: body.metrics,
            rollback: body.rollback,
            notify: body.notify,
            secrets,
            git,
        })
    }
}

/// How many steps run at once when neither `--jobs` nor the runbook says: one per CPU.
fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
}

/// The runbook's `dir`, where steps run unless they say otherwise, relative to the runbook.
fn work_dir(runbook: &Runbook) -> PathBuf {
    clean_path(
        &runbook
            .base_dir()
            .join(runbook.header.dir.as_deref().unwrap_or(".")),
    )
}

/// The parts of a plan rendered from the runbook's steps, metrics and rollback.
struct Body {
    environment_env: BTreeMap<String, String>,
    steps: Vec<PlannedStep>,
    metrics: Vec<PlannedMetric>,
    rollback: Option<PlannedRollback>,
    notify: Vec<Notification>,
}

fn render_body(
    renderer: &mut Renderer<'_>,
    runbook: &Runbook,
    mode: Mode,
    options: &PlanOptions,
) -> Result<Body> {
    let work_dir = work_dir(runbook);
    let shell = Shell::new(
        runbook.header.shell.as_ref().map_or_else(
            || vec!["sh".to_string(), "-c".to_string()],
            |shell| shell.get_ref().clone(),
        ),
        runbook.header.shell_always,
    );
    let mut environment_env = BTreeMap::new();
    if let Some(environment) = options
        .env
        .as_deref()
        .and_then(|env| runbook.environments.get(env))
    {
        for (name, value) in &environment.env {
            environment_env.insert(name.clone(), renderer.text(value.get_ref(), value.span()));
        }
    }
    let context = StepContext {
        shell: &shell,
        work_dir: &work_dir,
        environment_env: &environment_env,
        env: options.env.as_deref(),
    };
    let mut steps: Vec<PlannedStep> = runbook
        .steps
        .iter()
        .map(|step| renderer.step(step, &context))
        .collect();
    for (step, needs) in steps.iter_mut().zip(graph::needs(&runbook.steps)) {
        step.needs = needs
            .into_iter()
            .map(|need| runbook.steps[need].id().to_string())
            .collect();
    }
    select(&mut steps, &options.only, options.from.as_deref())?;
    let metrics = render_metrics(renderer, runbook, &context);
    let rollback = render_rollback(renderer, runbook, &context);
    let notify = render_notify(renderer, runbook, &context);
    // `shipbook rollback` runs the rollback procedure as its steps, after one confirmation
    // that says exactly what will run.
    if mode == Mode::Rollback
        && let Some(rollback) = &rollback
    {
        steps = std::iter::once(rollback_confirmation(runbook, options, rollback))
            .chain(rollback.steps.iter().cloned())
            .collect();
        chain(&mut steps);
    }
    Ok(Body {
        environment_env,
        steps,
        metrics,
        rollback,
        notify,
    })
}

/// The `[[notify]]` tables, a `run` command made ready for the runbook's shell.
fn render_notify(
    renderer: &mut Renderer<'_>,
    runbook: &Runbook,
    context: &StepContext<'_>,
) -> Vec<Notification> {
    runbook
        .notify
        .iter()
        .map(|spec| {
            let planned = spec.resolve(spec.on.span(), renderer);
            let argv = match &planned.target {
                NotifyTarget::Run { script } => {
                    let mut argv = context.shell.argv.clone();
                    argv.push(script.clone());
                    argv
                }
                NotifyTarget::Webhook { .. } => Vec::new(),
            };
            Notification {
                planned,
                argv,
                dir: context.work_dir.to_path_buf(),
            }
        })
        .collect()
}

fn render_metrics(
    renderer: &mut Renderer<'_>,
    runbook: &Runbook,
    context: &StepContext<'_>,
) -> Vec<PlannedMetric> {
    runbook
        .metrics
        .iter()
        .map(|metric| PlannedMetric {
            name: metric.name.get_ref().clone(),
            command: renderer.command(&metric.command, context.shell),
            better: metric.better,
            max_regression: metric.max_regression.as_ref().and_then(|text| {
                text.get_ref()
                    .trim_end_matches('%')
                    .trim()
                    .parse::<f64>()
                    .ok()
            }),
            timeout: duration::parse_optional(metric.timeout.as_ref()),
            dir: context.work_dir.to_path_buf(),
        })
        .collect()
}

fn render_rollback(
    renderer: &mut Renderer<'_>,
    runbook: &Runbook,
    context: &StepContext<'_>,
) -> Option<PlannedRollback> {
    let rollback = runbook.rollback.as_ref()?;
    let steps = match &rollback.run {
        Some(run) => {
            let command = renderer.command(run, context.shell);
            let mut step = PlannedStep::simple(
                "rollback",
                "Rollback",
                Action::Work(Work::Run { command }),
                context.work_dir.to_path_buf(),
            );
            step.env = context.environment_env.clone();
            vec![step]
        }
        None => rollback
            .steps
            .iter()
            .map(|step| renderer.step(step, context))
            .collect(),
    };
    let mut steps = steps;
    chain(&mut steps);
    Some(PlannedRollback {
        note: renderer.shown_optional(rollback.note.as_ref()),
        steps,
    })
}

/// The one confirmation `shipbook rollback` asks, naming every command it will run.
fn rollback_confirmation(
    runbook: &Runbook,
    options: &PlanOptions,
    rollback: &PlannedRollback,
) -> PlannedStep {
    let where_ = options
        .env
        .as_ref()
        .map(|env| format!(" in {env}"))
        .unwrap_or_default();
    let prompt = format!(
        "Roll back {}{where_}? This runs: {}",
        runbook.name(),
        rollback.commands().replace('\n', "; ")
    );
    let first = &rollback.steps[0];
    let mut step = PlannedStep::simple(
        "confirm-rollback",
        "Confirm the rollback",
        Action::Confirm(Confirmation {
            prompt,
            approvers: Vec::new(),
        }),
        first.dir.clone(),
    );
    step.env = first.env.clone();
    step.timeout = first.timeout;
    step.retries = first.retries;
    step.retry_delay = first.retry_delay;
    step.continue_on_error = first.continue_on_error;
    step.idempotent = first.idempotent;
    step.rehearsal = first.rehearsal;
    step
}

/// `--env` must name an environment the runbook defines.
fn check_environment(runbook: &Runbook, env: Option<&str>) -> Result<()> {
    let Some(env) = env else { return Ok(()) };
    if runbook.environments.contains_key(env) {
        return Ok(());
    }
    let known: Vec<&str> = runbook.environments.keys().map(String::as_str).collect();
    let hint = suggest(env, known.iter().copied())
        .map(|close| format!(" (did you mean `{close}`?)"))
        .unwrap_or_default();
    Err(Error::usage(
        format!(
            "unknown environment `{env}` for runbook `{}`{hint}",
            runbook.name()
        ),
        if known.is_empty() {
            "no --env: this runbook defines no environments".to_string()
        } else {
            format!("--env with one of: {}", known.join(", "))
        },
    ))
}

/// A `--var` must name a variable the runbook defines or uses: a typo in a variable given at
/// 2 a.m. must not be silently ignored in favour of the default.
fn check_overrides(runbook: &Runbook, overrides: &[(String, String)]) -> Result<()> {
    let mut known: Vec<String> = runbook.vars.keys().cloned().collect();
    for environment in runbook.environments.values() {
        known.extend(environment.vars.keys().cloned());
    }
    if let Ok(used) = template::placeholders(&runbook.source) {
        known.extend(used.into_iter().map(|p| p.name));
    } else {
        // The file has a malformed placeholder somewhere (in a comment, since validation
        // passed); look at each line on its own instead.
        for line in runbook.source.lines() {
            if let Ok(used) = template::placeholders(line) {
                known.extend(used.into_iter().map(|p| p.name));
            }
        }
    }
    known.sort();
    known.dedup();
    for (name, value) in overrides {
        if let Some(source) = crate::runbook::builtin_variable_source(name) {
            return Err(builtin_override(runbook, name, value, source));
        }
        if !known.contains(name) {
            let hint = suggest(name, known.iter().map(String::as_str))
                .map(|close| format!(" (did you mean `{close}`?)"))
                .unwrap_or_default();
            return Err(Error::usage(
                format!(
                    "--var {name}=…: runbook `{}` neither defines nor uses a variable `{name}`{hint}",
                    runbook.name()
                ),
                format!("one of the runbook's variables: {}", known.join(", ")),
            ));
        }
    }
    Ok(())
}

/// The error for a `--var` that names a built-in variable. Only `--env` chooses the
/// environment: it also applies the environment's vars, env and rehearsal gate, which a
/// `--var env=production` would skip while every command still said production.
fn builtin_override(runbook: &Runbook, name: &str, value: &str, source: &str) -> Error {
    let expected = if name == "env" {
        // The value is named back only when it is one of the runbook's environments: a --var
        // value is otherwise never repeated, as it may be a secret.
        let env = if runbook.environments.contains_key(value) {
            value
        } else {
            "NAME"
        };
        format!("--env {env} instead, which applies that environment's profile and checks")
    } else {
        "no --var for it; --var sets the runbook's own variables".to_string()
    };
    Error::usage(
        format!("--var {name}=…: `{name}` is a built-in variable ({source}); --var cannot set it"),
        expected,
    )
}

/// `{{ secrets.NAME }}`: a secret's value where a string needs it (a webhook URL); the masker
/// hides it wherever the string is shown. One not set (a plan made without the secrets) renders
/// as a placeholder that says so.
fn with_secrets(
    mut variables: BTreeMap<String, String>,
    runbook: &Runbook,
    secrets: &[Secret],
) -> BTreeMap<String, String> {
    for name in &runbook.secrets.env {
        let name = name.get_ref();
        let value = secrets
            .iter()
            .find(|secret| &secret.name == name)
            .map_or_else(
                || format!("[secret {name} not set]"),
                |secret| secret.value.clone(),
            );
        variables.insert(format!("secrets.{name}"), value);
    }
    variables
}

/// Reads the values of `[secrets] env`; with `required`, a missing one is an error.
fn read_secrets(runbook: &Runbook, required: bool) -> Result<Vec<Secret>> {
    let mut secrets = Vec::new();
    let mut missing = Vec::new();
    for name in &runbook.secrets.env {
        let name = name.get_ref();
        match std::env::var(name) {
            Ok(value) if !value.is_empty() => secrets.push(Secret {
                name: name.clone(),
                value,
            }),
            _ => missing.push(name.clone()),
        }
    }
    if required && !missing.is_empty() {
        return Err(Error::MissingSecrets { names: missing });
    }
    Ok(secrets)
}
