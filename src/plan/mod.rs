//! A runbook made concrete for one environment, one mode and one set of variables.
//!
//! The plan is what will run: every command rendered, every duration parsed, every directory
//! resolved, and for each step whether it is skipped and why. `shipbook plan` prints it;
//! `run` hands it to the executor. Nothing in a plan is re-read from the runbook afterwards, so
//! what the plan shows is what runs.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::runbook::{self, Better, Command, Mode, OnFailure, RehearsalChoice, Runbook, StepKind};
use crate::sys::git::GitFacts;
use crate::text::diagnostic::{Diagnostic, narrow_span, suggest};
use crate::text::duration;
use crate::text::template;
pub mod variables;

use variables::RunContext;

/// A command ready to spawn.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResolvedCommand {
    /// The program and its arguments (for a string command: the shell, its flags, the script).
    pub argv: Vec<String>,
    /// The command as the user wrote it, rendered: the script, or the arguments joined.
    pub display: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Action {
    Run {
        command: ResolvedCommand,
    },
    Confirm {
        prompt: String,
    },
    Tag {
        name: String,
        message: String,
        push: bool,
        remote: String,
    },
    Config {
        file: PathBuf,
        against: PathBuf,
        require: Vec<String>,
        same: Vec<String>,
        ignore: Vec<String>,
    },
    /// The built-in undo of a `tag` step: delete the tag it created.
    Untag {
        tag: crate::store::record::TagRecord,
    },
    Http {
        url: String,
        status: u16,
        contains: Option<String>,
        #[serde(serialize_with = "as_millis")]
        timeout: Duration,
        #[serde(serialize_with = "as_millis")]
        interval: Duration,
    },
}

impl Action {
    pub fn kind(&self) -> StepKind {
        match self {
            Action::Run { .. } => StepKind::Run,
            Action::Confirm { .. } => StepKind::Confirm,
            Action::Tag { .. } => StepKind::Tag,
            Action::Config { .. } => StepKind::Config,
            Action::Http { .. } => StepKind::Http,
            Action::Untag { .. } => StepKind::Untag,
        }
    }

    /// One line saying what the step does, for the plan, the record and the note.
    pub fn describe(&self) -> String {
        match self {
            Action::Run { command } => command.display.clone(),
            Action::Confirm { prompt } => format!("confirm: {prompt}"),
            Action::Tag {
                name, push, remote, ..
            } => {
                if *push {
                    format!("tag {name} at HEAD and push it to {remote}")
                } else {
                    format!("tag {name} at HEAD")
                }
            }
            Action::Config { file, against, .. } => {
                format!("check {} against {}", file.display(), against.display())
            }
            Action::Http { url, status, .. } => format!("wait for {url} to answer {status}"),
            Action::Untag { tag } => match &tag.pushed {
                Some(remote) => format!("delete tag {} here and on {remote}", tag.name),
                None => format!("delete tag {}", tag.name),
            },
        }
    }
}

fn as_millis<S: serde::Serializer>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_u64(duration.as_millis() as u64)
}

fn opt_as_millis<S: serde::Serializer>(
    duration: &Option<Duration>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match duration {
        Some(duration) => serializer.serialize_some(&(duration.as_millis() as u64)),
        None => serializer.serialize_none(),
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct PlannedStep {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    #[serde(flatten)]
    pub action: Action,
    /// Extra process environment: the environment's `env`, then the step's.
    pub env: BTreeMap<String, String>,
    pub dir: PathBuf,
    #[serde(rename = "timeout_ms", serialize_with = "opt_as_millis")]
    pub timeout: Option<Duration>,
    pub retries: u32,
    #[serde(rename = "retry_delay_ms", serialize_with = "as_millis")]
    pub retry_delay: Duration,
    pub undo: Option<ResolvedCommand>,
    /// Why the step will not run, when it will not.
    pub skip: Option<String>,
    pub continue_on_error: bool,
    pub idempotent: bool,
    pub rehearsal: RehearsalChoice,
}

#[derive(Debug, Clone, Serialize)]
pub struct PlannedMetric {
    pub name: String,
    pub command: ResolvedCommand,
    pub better: Better,
    /// The largest regression allowed, in percent.
    pub max_regression: Option<f64>,
    #[serde(rename = "timeout_ms", serialize_with = "opt_as_millis")]
    pub timeout: Option<Duration>,
    pub dir: PathBuf,
}

#[derive(Debug, Clone, Serialize)]
pub struct PlannedRollback {
    pub note: Option<String>,
    pub steps: Vec<PlannedStep>,
}

impl PlannedRollback {
    /// The rollback as one copy-pasteable text: each command on its own line.
    pub fn commands(&self) -> String {
        self.steps
            .iter()
            .map(|step| step.action.describe())
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// A secret: the name of the environment variable and its value, which must never be shown.
#[derive(Debug, Clone)]
pub struct Secret {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub runbook: String,
    pub runbook_path: PathBuf,
    pub content_hash: String,
    pub env: Option<String>,
    pub mode: Mode,
    pub description: Option<String>,
    pub owner: Option<String>,
    pub expected: Option<String>,
    pub reason: Option<String>,
    pub on_failure: OnFailure,
    pub notes_dir: Option<PathBuf>,
    pub variables: BTreeMap<String, String>,
    /// The environment's `env`: extra process environment for every command.
    pub process_env: BTreeMap<String, String>,
    /// The environment a successful rehearsal must have been run in (`requires_rehearsal`).
    pub requires_rehearsal: Option<String>,
    pub steps: Vec<PlannedStep>,
    pub metrics: Vec<PlannedMetric>,
    pub rollback: Option<PlannedRollback>,
    #[serde(skip)]
    pub secrets: Vec<Secret>,
    #[serde(skip)]
    pub git: GitFacts,
}

/// What the command line says about the plan to build.
#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    pub env: Option<String>,
    pub overrides: Vec<(String, String)>,
    pub reason: Option<String>,
    pub only: Vec<String>,
    pub from: Option<String>,
    pub run_id: String,
    pub date: String,
    /// Whether secrets must be set (a run) or may be missing (a plan printed for reading).
    pub require_secrets: bool,
}

impl Plan {
    pub fn build(runbook: &Runbook, mode: Mode, options: &PlanOptions) -> Result<Plan> {
        if let Some(env) = &options.env
            && !runbook.environments.contains_key(env)
        {
            let known: Vec<&str> = runbook.environments.keys().map(String::as_str).collect();
            let hint = suggest(env, known.iter().copied())
                .map(|close| format!(" (did you mean `{close}`?)"))
                .unwrap_or_default();
            return Err(Error::usage(
                format!(
                    "unknown environment `{env}` for runbook `{}`{hint}",
                    runbook.name()
                ),
                if known.is_empty() {
                    "no --env: this runbook defines no environments".to_string()
                } else {
                    format!("--env with one of: {}", known.join(", "))
                },
            ));
        }
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
        let mut renderer = Renderer {
            runbook,
            variables: &variables,
            diagnostics: Vec::new(),
            env_name: options.env.as_deref(),
        };

        let work_dir = clean_path(
            &runbook
                .base_dir()
                .join(runbook.header.dir.as_deref().unwrap_or(".")),
        );
        let shell: Vec<String> = runbook.header.shell.as_ref().map_or_else(
            || vec!["sh".to_string(), "-c".to_string()],
            |shell| shell.get_ref().clone(),
        );
        let environment = options
            .env
            .as_deref()
            .and_then(|env| runbook.environments.get(env));
        let mut environment_env = BTreeMap::new();
        if let Some(environment) = environment {
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
        select(&mut steps, &options.only, options.from.as_deref())?;

        let metrics = runbook
            .metrics
            .iter()
            .map(|metric| PlannedMetric {
                name: metric.name.get_ref().clone(),
                command: renderer.command(&metric.command, &shell),
                better: metric.better,
                max_regression: metric.max_regression.as_ref().and_then(|text| {
                    text.get_ref()
                        .trim_end_matches('%')
                        .trim()
                        .parse::<f64>()
                        .ok()
                }),
                timeout: parse_duration(metric.timeout.as_ref()),
                dir: work_dir.clone(),
            })
            .collect();

        let rollback = runbook.rollback.as_ref().map(|rollback| PlannedRollback {
            note: rollback.note.as_ref().map(|note| renderer.text(note, 0..0)),
            steps: match &rollback.run {
                Some(run) => vec![PlannedStep {
                    id: "rollback".into(),
                    name: "Rollback".into(),
                    description: None,
                    action: Action::Run {
                        command: renderer.command(run, &shell),
                    },
                    env: environment_env.clone(),
                    dir: work_dir.clone(),
                    timeout: None,
                    retries: 0,
                    retry_delay: Duration::from_secs(1),
                    undo: None,
                    skip: None,
                    continue_on_error: false,
                    idempotent: true,
                    rehearsal: RehearsalChoice::Run,
                }],
                None => rollback
                    .steps
                    .iter()
                    .map(|step| renderer.step(step, &context))
                    .collect(),
            },
        });

        // `shipbook rollback` runs the rollback procedure as its steps, after one confirmation
        // that says exactly what will run.
        if mode == Mode::Rollback
            && let Some(rollback) = &rollback
        {
            let where_ = options
                .env
                .as_ref()
                .map(|env| format!(" in {env}"))
                .unwrap_or_default();
            let confirm = PlannedStep {
                id: "confirm-rollback".into(),
                name: "Confirm the rollback".into(),
                description: None,
                action: Action::Confirm {
                    prompt: format!(
                        "Roll back {}{where_}? This runs: {}",
                        runbook.name(),
                        rollback.commands().replace('\n', "; ")
                    ),
                },
                undo: None,
                skip: None,
                ..rollback.steps[0].clone()
            };
            steps = std::iter::once(confirm)
                .chain(rollback.steps.iter().cloned())
                .collect();
        }

        let reason = options.reason.clone().or_else(|| {
            runbook
                .header
                .reason
                .as_ref()
                .map(|r| renderer.text(r, 0..0))
        });
        let owner = runbook
            .header
            .owner
            .as_ref()
            .map(|o| renderer.text(o, 0..0));
        let expected = runbook
            .header
            .expected
            .as_ref()
            .map(|e| renderer.text(e, 0..0));
        if !renderer.diagnostics.is_empty() {
            let source = &runbook.source;
            return Err(Error::Runbook {
                path: runbook.path.clone(),
                diagnostics: renderer
                    .diagnostics
                    .into_iter()
                    .map(|d| d.locate(source))
                    .collect(),
            });
        }

        Ok(Plan {
            runbook: runbook.name().to_string(),
            runbook_path: runbook.path.clone(),
            content_hash: runbook.content_hash.clone(),
            env: options.env.clone(),
            mode,
            description: runbook.header.description.clone(),
            owner,
            expected,
            reason,
            on_failure: runbook.header.on_failure.unwrap_or(OnFailure::Ask),
            notes_dir: runbook
                .header
                .notes_dir
                .as_ref()
                .map(|dir| runbook.base_dir().join(dir)),
            variables,
            process_env: environment_env,
            requires_rehearsal: environment
                .and_then(|e| e.requires_rehearsal.as_ref())
                .map(|r| r.get_ref().clone()),
            steps,
            metrics,
            rollback,
            secrets,
            git,
        })
    }
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
    for (name, _) in overrides {
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

/// Applies `--only` and `--from`: steps not selected are marked skipped, and never run.
fn select(steps: &mut [PlannedStep], only: &[String], from: Option<&str>) -> Result<()> {
    let ids: Vec<String> = steps.iter().map(|step| step.id.clone()).collect();
    let unknown = |id: &str, flag: &str| {
        let hint = suggest(id, ids.iter().map(String::as_str))
            .map(|close| format!(" (did you mean `{close}`?)"))
            .unwrap_or_default();
        Error::usage(
            format!("{flag} names an unknown step `{id}`{hint}"),
            format!("one of the step ids: {}", ids.join(", ")),
        )
    };
    for id in only {
        if !ids.contains(id) {
            return Err(unknown(id, "--only"));
        }
    }
    let start = match from {
        Some(id) => ids
            .iter()
            .position(|candidate| candidate == id)
            .ok_or_else(|| unknown(id, "--from"))?,
        None => 0,
    };
    for (index, step) in steps.iter_mut().enumerate() {
        if step.skip.is_some() {
            continue;
        }
        if index < start {
            step.skip = Some(format!("before --from {}", from.unwrap_or_default()));
        } else if !only.is_empty() && !only.contains(&step.id) {
            step.skip = Some("not selected by --only".into());
        }
    }
    Ok(())
}

fn parse_duration(value: Option<&toml::Spanned<String>>) -> Option<Duration> {
    // Durations were validated when the runbook was loaded.
    value.and_then(|text| duration::parse(text.get_ref()).ok())
}

struct StepContext<'a> {
    shell: &'a [String],
    work_dir: &'a Path,
    environment_env: &'a BTreeMap<String, String>,
    env: Option<&'a str>,
}

/// Renders the strings of a runbook, collecting a diagnostic for each variable that the chosen
/// environment does not define.
struct Renderer<'a> {
    runbook: &'a Runbook,
    variables: &'a BTreeMap<String, String>,
    diagnostics: Vec<Diagnostic>,
    env_name: Option<&'a str>,
}

impl Renderer<'_> {
    fn text(&mut self, text: &str, span: Range<usize>) -> String {
        match template::render(text, self.variables) {
            Ok(rendered) => rendered,
            Err(unknown) => {
                for placeholder in unknown {
                    let needle = &text[placeholder.range.clone()];
                    let span = narrow_span(&self.runbook.source, &span, needle);
                    let message = match self.env_name {
                        Some(env) => format!(
                            "variable `{}` is not defined for environment `{env}`",
                            placeholder.name
                        ),
                        None => format!(
                            "variable `{}` is not defined without --env",
                            placeholder.name
                        ),
                    };
                    self.diagnostics.push(
                        Diagnostic::new(&self.runbook.path, Some(span), message).expected(
                            format!(
                                "`{}` in [vars], in this environment's vars, or given as --var {}=VALUE",
                                placeholder.name, placeholder.name
                            ),
                        ),
                    );
                }
                text.to_string()
            }
        }
    }

    fn command(&mut self, command: &toml::Spanned<Command>, shell: &[String]) -> ResolvedCommand {
        let span = command.span();
        match command.get_ref() {
            Command::Shell(script) => {
                let script = self.text(script, span);
                let mut argv = shell.to_vec();
                argv.push(script.clone());
                ResolvedCommand {
                    argv,
                    display: script,
                }
            }
            Command::Argv(argv) => {
                let argv: Vec<String> = argv
                    .iter()
                    .map(|arg| self.text(arg, span.clone()))
                    .collect();
                let display = argv
                    .iter()
                    .map(|arg| shell_quote(arg))
                    .collect::<Vec<_>>()
                    .join(" ");
                ResolvedCommand { argv, display }
            }
        }
    }

    fn step(&mut self, step: &runbook::Step, context: &StepContext<'_>) -> PlannedStep {
        let action = if let Some(run) = &step.run {
            Action::Run {
                command: self.command(run, context.shell),
            }
        } else if let Some(prompt) = &step.confirm {
            Action::Confirm {
                prompt: self.text(prompt.get_ref(), prompt.span()),
            }
        } else if let Some(tag) = &step.tag {
            let span = tag.span();
            let tag = tag.get_ref();
            let name = self.text(&tag.name, span.clone());
            if tag.name.contains("{{") && !crate::actions::tag::is_valid_name(&name) {
                self.diagnostics.push(
                    Diagnostic::new(
                        &self.runbook.path,
                        Some(span.clone()),
                        format!("`{name}` is not a tag name git accepts"),
                    )
                    .expected("variables that make a name such as v1.4.3"),
                );
            }
            Action::Tag {
                message: match &tag.message {
                    Some(message) => self.text(message, span.clone()),
                    None => name.clone(),
                },
                name,
                push: tag.push,
                remote: tag.remote.clone().unwrap_or_else(|| "origin".into()),
            }
        } else if let Some(config) = &step.config {
            let span = config.span();
            let config = config.get_ref();
            Action::Config {
                file: clean_path(&context.work_dir.join(self.text(&config.file, span.clone()))),
                against: clean_path(&context.work_dir.join(self.text(&config.against, span))),
                require: config.require.clone(),
                same: config.same.clone(),
                ignore: config.ignore.clone(),
            }
        } else if let Some(http) = &step.http {
            let span = http.span();
            let http = http.get_ref();
            let url = self.text(&http.url, span.clone());
            if http.url.contains("{{")
                && let Err(problem) = crate::actions::http::check_url(&url)
            {
                self.diagnostics.push(
                    Diagnostic::new(
                        &self.runbook.path,
                        Some(span.clone()),
                        format!("cannot poll `{url}`: {problem}"),
                    )
                    .expected("variables that make an http:// or https:// URL"),
                );
            }
            Action::Http {
                url,
                status: http.status.unwrap_or(200),
                contains: http.contains.as_ref().map(|c| self.text(c, span.clone())),
                timeout: parse_duration(http.timeout.as_ref()).unwrap_or(Duration::from_secs(60)),
                interval: parse_duration(http.interval.as_ref()).unwrap_or(Duration::from_secs(2)),
            }
        } else {
            unreachable!("validation guarantees exactly one action per step")
        };

        let mut env = context.environment_env.clone();
        for (name, value) in &step.env {
            env.insert(name.clone(), self.text(value.get_ref(), value.span()));
        }
        let skip = step.only.as_ref().and_then(|only| {
            let listed = only
                .iter()
                .any(|allowed| Some(allowed.get_ref().as_str()) == context.env);
            (!listed).then(|| {
                format!(
                    "only in {}",
                    only.iter()
                        .map(|e| e.get_ref().as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })
        });
        PlannedStep {
            id: step.id().to_string(),
            name: step.name.clone().unwrap_or_else(|| step.id().to_string()),
            description: step.description.clone(),
            action,
            env,
            dir: match &step.dir {
                Some(dir) => clean_path(&context.work_dir.join(dir)),
                None => context.work_dir.to_path_buf(),
            },
            timeout: parse_duration(step.timeout.as_ref()),
            retries: step
                .retries
                .as_ref()
                .map_or(0, |r| (*r.get_ref()).clamp(0, i64::from(u32::MAX)) as u32),
            retry_delay: parse_duration(step.retry_delay.as_ref())
                .unwrap_or(Duration::from_secs(1)),
            undo: step
                .undo
                .as_ref()
                .map(|undo| self.command(undo, context.shell)),
            skip,
            continue_on_error: step.continue_on_error,
            idempotent: step.idempotent.unwrap_or(true),
            rehearsal: step.rehearsal.unwrap_or(RehearsalChoice::Run),
        }
    }
}

/// Removes `.` and `name/..` from a path without touching the file system, so that a runbook in
/// `runbooks/` with `dir = ".."` shows `config/x.toml`, not `runbooks/../config/x.toml`.
pub fn clean_path(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut cleaned = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                let last_is_normal =
                    matches!(cleaned.components().next_back(), Some(Component::Normal(_)));
                if last_is_normal {
                    cleaned.pop();
                } else {
                    cleaned.push("..");
                }
            }
            other => cleaned.push(other.as_os_str()),
        }
    }
    if cleaned.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        cleaned
    }
}

/// Quotes an argument the way a POSIX shell would need it, for display only.
pub fn shell_quote(arg: &str) -> String {
    let plain = !arg.is_empty()
        && arg
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=:,@%+".contains(&b));
    if plain {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cleans_paths_lexically() {
        assert_eq!(clean_path(Path::new("runbooks/..")), PathBuf::from("."));
        assert_eq!(
            clean_path(Path::new("runbooks/../config/./a.toml")),
            PathBuf::from("config/a.toml")
        );
        assert_eq!(clean_path(Path::new("../x")), PathBuf::from("../x"));
        assert_eq!(clean_path(Path::new("/a/b/../c")), PathBuf::from("/a/c"));
    }

    #[test]
    fn quotes_only_what_needs_it() {
        assert_eq!(shell_quote("cargo"), "cargo");
        assert_eq!(shell_quote("--lib"), "--lib");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote(""), "''");
    }
}
