//! Rendering a runbook's strings for one plan: `{{ variables }}` replaced, commands made ready
//! to spawn, paths resolved, and a located diagnostic for every variable the chosen environment
//! does not define.
//!
//! A variable may hold a secret's value (`--var token=…`). What runs (a command's arguments, its
//! environment, a URL) must hold the value itself; what is only shown (a name, a description,
//! the owner, a question, a command as displayed, a diagnostic) is masked here, once rendered,
//! so that nothing downstream can show it raw.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use toml::Spanned;

use super::{Action, Confirmation, PlannedStep, ResolvedCommand, Shell, Watching, Work};
use crate::actions::watch::spec::WatchCheck;
use crate::mask::Masker;
use crate::runbook::{self, Command, RehearsalChoice, Runbook, StepAction};
use crate::text::checks::Resolve;
use crate::text::diagnostic::{Diagnostic, narrow_span};
use crate::text::duration;
use crate::text::template;

/// What every step of one plan shares.
pub struct StepContext<'a> {
    pub shell: &'a Shell,
    pub work_dir: &'a Path,
    pub environment_env: &'a BTreeMap<String, String>,
    pub env: Option<&'a str>,
}

/// Renders the strings of a runbook, collecting a diagnostic for each variable that the chosen
/// environment does not define.
pub struct Renderer<'a> {
    pub runbook: &'a Runbook,
    pub variables: &'a BTreeMap<String, String>,
    /// Masks the runbook's secrets in what is rendered only to be shown.
    pub masker: &'a Masker,
    pub diagnostics: Vec<Diagnostic>,
    pub env_name: Option<&'a str>,
    /// The runbook's `dir`: relative paths of an action (a config file) start there, as they
    /// always have; a step's own `dir` is only where its command runs.
    pub work_dir_of_actions: PathBuf,
}

impl Renderer<'_> {
    pub fn text(&mut self, text: &str, span: Range<usize>) -> String {
        match template::render(text, self.variables) {
            Ok(rendered) => rendered,
            Err(unknown) => {
                for placeholder in unknown {
                    let needle = &text[placeholder.range.clone()];
                    let span = narrow_span(&self.runbook.source, &span, needle);
                    self.undefined(&placeholder.name, span);
                }
                text.to_string()
            }
        }
    }

    fn undefined(&mut self, name: &str, span: Range<usize>) {
        let message = match self.env_name {
            Some(env) => format!("variable `{name}` is not defined for environment `{env}`"),
            None => format!("variable `{name}` is not defined without --env"),
        };
        self.diagnostics.push(
            Diagnostic::new(&self.runbook.path, Some(span), message).expected(format!(
                "`{name}` in [vars], in this environment's vars, or given as --var {name}=VALUE"
            )),
        );
    }

    /// Renders a text that is only shown, such as a header's `owner` or a step's `name`,
    /// masked.
    pub fn shown(&mut self, text: &Spanned<String>) -> String {
        let rendered = self.text(text.get_ref(), text.span());
        self.masker.text(&rendered)
    }

    /// `shown` for a text that may be absent.
    pub fn shown_optional(&mut self, text: Option<&Spanned<String>>) -> Option<String> {
        text.map(|text| self.shown(text))
    }

    pub fn command(&mut self, command: &Spanned<Command>, shell: &Shell) -> ResolvedCommand {
        let span = command.span();
        match command.get_ref() {
            Command::Shell(script) => {
                let script = self.text(script, span);
                let display = self.masker.text(&script);
                shell.command(script, display)
            }
            Command::Argv(argv) => {
                let argv: Vec<String> = argv
                    .iter()
                    .map(|arg| self.text(arg, span.clone()))
                    .collect();
                // Each argument is masked before it is quoted: quoting a secret that holds a
                // `'` would split it, and it would no longer be found.
                let display = argv
                    .iter()
                    .map(|arg| shell_quote(&self.masker.text(arg)))
                    .collect::<Vec<_>>()
                    .join(" ");
                ResolvedCommand {
                    argv,
                    display,
                    shell_argv: None,
                }
            }
        }
    }

    fn action(&mut self, action: &StepAction, shell: &Shell) -> Action {
        match action {
            StepAction::Run(run) => Action::Work(Work::Run {
                command: self.command(run, shell),
            }),
            StepAction::Confirm(prompt) => Action::Confirm(Confirmation {
                prompt: self.shown(prompt),
                approvers: Vec::new(),
            }),
            StepAction::Config(config) => {
                Action::Work(Work::Config(config.get_ref().resolve(config.span(), self)))
            }
            StepAction::Tag(tag) => {
                Action::Work(Work::Tag(tag.get_ref().resolve(tag.span(), self)))
            }
            StepAction::Http(http) => {
                Action::Work(Work::Http(http.get_ref().resolve(http.span(), self)))
            }
            StepAction::Watch(watch) => {
                let watch = watch.get_ref().resolve(watch.span(), self);
                let sample = match &watch.check {
                    WatchCheck::Metric(_) => None,
                    WatchCheck::Http(http) => Some(Work::Http(http.clone())),
                    WatchCheck::Run(script) => {
                        let display = self.masker.text(script);
                        Some(Work::Run {
                            command: shell.command(script.clone(), display),
                        })
                    }
                };
                Action::Watch(Watching { watch, sample })
            }
        }
    }

    pub fn step(&mut self, step: &runbook::Step, context: &StepContext<'_>) -> PlannedStep {
        let mut action = self.action(&step.action, context.shell);
        if let (Action::Confirm(confirmation), Some(approvers)) = (&mut action, &step.approvers) {
            confirmation.approvers = approvers
                .get_ref()
                .iter()
                .map(|name| name.get_ref().clone())
                .collect();
        }
        let mut env = context.environment_env.clone();
        for (name, value) in &step.env {
            env.insert(name.clone(), self.text(value.get_ref(), value.span()));
        }
        PlannedStep {
            id: step.id().to_string(),
            name: self
                .shown_optional(step.name.as_ref())
                .unwrap_or_else(|| step.id().to_string()),
            description: self.shown_optional(step.description.as_ref()),
            action,
            env,
            dir: match &step.dir {
                Some(dir) => clean_path(&context.work_dir.join(dir)),
                None => context.work_dir.to_path_buf(),
            },
            timeout: duration::parse_optional(step.timeout.as_ref()),
            retries: step
                .retries
                .as_ref()
                .map_or(0, |r| (*r.get_ref()).clamp(0, i64::from(u32::MAX)) as u32),
            retry_delay: duration::parse_or(step.retry_delay.as_ref(), Duration::from_secs(1)),
            undo: step
                .undo
                .as_ref()
                .map(|undo| self.command(undo, context.shell)),
            skip: skip_by_environment(step, context.env),
            continue_on_error: step.continue_on_error,
            idempotent: step.idempotent.unwrap_or(true),
            rehearsal: step.rehearsal.unwrap_or(RehearsalChoice::Run),
            // Filled in by the plan, which sees every step (`runbook::graph`).
            needs: Vec::new(),
        }
    }
}

/// Why a step with `only` does not run in this environment, when it does not.
fn skip_by_environment(step: &runbook::Step, env: Option<&str>) -> Option<String> {
    let only = step.only.as_ref()?;
    let listed = only
        .iter()
        .any(|allowed| Some(allowed.get_ref().as_str()) == env);
    (!listed).then(|| {
        format!(
            "only in {}",
            only.iter()
                .map(|e| e.get_ref().as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )
    })
}

/// What the specs of step kinds may ask while a plan is built.
impl Resolve for Renderer<'_> {
    fn text(&mut self, text: &str, span: Range<usize>) -> String {
        Renderer::text(self, text, span)
    }

    fn path(&mut self, text: &str, span: Range<usize>) -> PathBuf {
        let rendered = Renderer::text(self, text, span);
        clean_path(&self.work_dir_of_actions.join(rendered))
    }

    fn error(&mut self, span: Range<usize>, message: String, expected: String) {
        // A step kind's message may quote a rendered value, such as a refused URL.
        let message = self.masker.text(&message);
        let expected = self.masker.text(&expected);
        self.diagnostics
            .push(Diagnostic::new(&self.runbook.path, Some(span), message).expected(expected));
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
