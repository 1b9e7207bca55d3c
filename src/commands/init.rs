//! `shipbook init`: a starter `runbooks/release.toml` for the project in the current directory.
//!
//! A blank page is the slowest way to write a first runbook, and a copied example names commands
//! the project does not have. So init looks at what is there (Cargo.toml, package.json,
//! pyproject.toml, go.mod) and writes the checks that project already knows how to run, then a
//! confirmation and a tag, and a `[rollback]` section that fails with a message until someone
//! writes the real procedure: a starter runbook must never pretend a rollback exists. It also
//! writes `runbooks/schema.json` beside the runbook, which the runbook's `#:schema` directive
//! names, so that an editor completes and checks keys offline and without any setup; and it adds
//! `.shipbook/` to `.gitignore`, so that the records never make the tree dirty. It never
//! overwrites a runbook unless asked to with `--force`.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use console::style;

use super::Globals;
use crate::error::{Error, Result};
use crate::output::reporter::Verbosity;

const RUNBOOK_DIR: &str = "runbooks";
const RUNBOOK_FILE: &str = "runbooks/release.toml";
const SCHEMA_FILE: &str = "runbooks/schema.json";

/// The `[rollback]` command written by init: it fails, and says what to do, until it is edited.
const ROLLBACK_PLACEHOLDER: &str =
    "echo 'edit the [rollback] section of runbooks/release.toml' >&2; exit 1";

/// The check step written when init knows no command of the project.
const CHECKS_PLACEHOLDER: &str = "echo 'edit the checks step of runbooks/release.toml: put your lint and test commands there' >&2; exit 1";

pub fn init(force: bool, globals: &Globals) -> Result<()> {
    let project_dir = Path::new(".");
    let runbook_path = Path::new(RUNBOOK_FILE);
    // Checked before anything is created, so that a refusal leaves the directory untouched.
    if !force && runbook_path.exists() {
        return Err(refuse_overwrite());
    }

    let (project, warnings) = Project::detect(project_dir);
    for warning in &warnings {
        eprintln!("{} {warning}", style("warning:").yellow().bold());
    }
    let runbook = project.runbook();

    std::fs::create_dir_all(RUNBOOK_DIR).map_err(|source| {
        Error::io(
            format!(
                "cannot create the directory {RUNBOOK_DIR}/ (nothing was written; safe to retry once the current directory is writable)"
            ),
            source,
        )
    })?;
    write_file(runbook_path, &runbook, force).map_err(|error| match error {
        WriteError::Exists => refuse_overwrite(),
        WriteError::Io(source) => Error::io(
            format!(
                "cannot write {RUNBOOK_FILE} (nothing was written; safe to retry once {RUNBOOK_DIR}/ is writable)"
            ),
            source,
        ),
    })?;
    let schema = super::schema::json();
    let schema_path = Path::new(SCHEMA_FILE);
    let schema_was = std::fs::read_to_string(schema_path).ok();
    if schema_was.as_deref() != Some(schema.as_str()) {
        write_file(schema_path, &schema, true).map_err(|error| {
            Error::io(
                format!(
                    "cannot write {SCHEMA_FILE} ({RUNBOOK_FILE} was written; `shipbook schema > {SCHEMA_FILE}` writes the schema alone)"
                ),
                error.into_io(),
            )
        })?;
    }
    let gitignore = gitignore_path(project_dir);
    let ignore_change = ignore_state_dir(&gitignore).map_err(|source| {
        Error::io(
            format!(
                "cannot add .shipbook/ to {} ({RUNBOOK_FILE} and {SCHEMA_FILE} were written; add the line by hand, or rerun `shipbook init --force`)",
                gitignore.display()
            ),
            source,
        )
    })?;

    if globals.verbosity != Verbosity::Quiet {
        let check = style("✓").green();
        eprintln!(
            "{check} wrote {RUNBOOK_FILE} ({}: {})",
            project.describe(),
            project.steps_summary()
        );
        let schema_verb = match schema_was {
            None => "wrote",
            Some(ref was) if *was == schema => "kept",
            Some(_) => "updated",
        };
        eprintln!("{check} {schema_verb} {SCHEMA_FILE} (the runbook format, for editors)");
        let gitignore_shown = gitignore.display();
        match ignore_change {
            IgnoreChange::Created => eprintln!("{check} created {gitignore_shown} with .shipbook/"),
            IgnoreChange::Added => eprintln!("{check} added .shipbook/ to {gitignore_shown}"),
            IgnoreChange::AlreadyThere => {
                eprintln!("{check} {gitignore_shown} already ignores .shipbook/")
            }
        }
        eprintln!();
        eprintln!("Next:");
        eprintln!("  edit the [rollback] section of {RUNBOOK_FILE} (it fails until you do)");
        eprintln!("  shipbook check                        # validate runbooks/*.toml");
        eprintln!("  shipbook plan {RUNBOOK_FILE}   # the resolved steps; runs nothing");
    }
    Ok(())
}

fn refuse_overwrite() -> Error {
    Error::usage(
        format!("{RUNBOOK_FILE} already exists; it was left as it is"),
        format!("no {RUNBOOK_FILE} yet, or `shipbook init --force` to overwrite it"),
    )
}

/// Why a file could not be written.
enum WriteError {
    /// The file exists and was not to be overwritten.
    Exists,
    Io(std::io::Error),
}

impl WriteError {
    fn into_io(self) -> std::io::Error {
        match self {
            WriteError::Exists => std::io::Error::from(std::io::ErrorKind::AlreadyExists),
            WriteError::Io(error) => error,
        }
    }
}

/// Writes `content` to `path` atomically (a temporary file in the same directory, renamed into
/// place), so that a failure never leaves half a file. Without `overwrite`, an existing file is
/// kept, even one created since the check at the start.
fn write_file(path: &Path, content: &str, overwrite: bool) -> Result<(), WriteError> {
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    // tempfile names its random file in the error; the user knows only the file asked for.
    let mut file = tempfile::NamedTempFile::new_in(dir)
        .map_err(|error| WriteError::Io(std::io::Error::from(error.kind())))?;
    file.write_all(content.as_bytes())
        .and_then(|()| file.as_file().sync_all())
        .map_err(WriteError::Io)?;
    let persisted = if overwrite {
        file.persist(path)
    } else {
        file.persist_noclobber(path)
    };
    match persisted {
        Ok(_) => Ok(()),
        Err(error) if error.error.kind() == std::io::ErrorKind::AlreadyExists => {
            Err(WriteError::Exists)
        }
        Err(error) => Err(WriteError::Io(error.error)),
    }
}

/// The `.gitignore` that should hold `.shipbook/`: the one at the root of the git repository,
/// where the state directory is made, or the project's own outside a repository.
fn gitignore_path(project_dir: &Path) -> PathBuf {
    let here = std::fs::canonicalize(project_dir).ok();
    match crate::sys::git::work_root(project_dir) {
        Some(root) if std::fs::canonicalize(&root).ok() != here => root.join(".gitignore"),
        _ => PathBuf::from(".gitignore"),
    }
}

enum IgnoreChange {
    Created,
    Added,
    AlreadyThere,
}

/// Appends `.shipbook/` to the `.gitignore` at `path` unless a line already ignores it.
fn ignore_state_dir(path: &Path) -> std::io::Result<IgnoreChange> {
    let existing = match std::fs::read_to_string(path) {
        Ok(text) => Some(text),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => None,
        Err(error) => return Err(error),
    };
    let already = existing.as_deref().is_some_and(|text| {
        text.lines().any(|line| {
            matches!(
                line.trim(),
                ".shipbook" | ".shipbook/" | "/.shipbook" | "/.shipbook/"
            )
        })
    });
    if already {
        return Ok(IgnoreChange::AlreadyThere);
    }
    let mut addition = String::new();
    if existing
        .as_deref()
        .is_some_and(|text| !text.is_empty() && !text.ends_with('\n'))
    {
        addition.push('\n');
    }
    addition.push_str(".shipbook/\n");
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    file.write_all(addition.as_bytes())?;
    Ok(if existing.is_some() {
        IgnoreChange::Added
    } else {
        IgnoreChange::Created
    })
}

/// A kind of project init knows the checks of.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    Rust,
    /// The `lint` and `test` scripts that package.json defines.
    Node {
        lint: bool,
        test: bool,
    },
    Python,
    Go,
}

/// What init found in the project directory.
#[derive(Debug, Clone)]
struct Project {
    name: String,
    version: String,
    kinds: Vec<Kind>,
}

/// A step of the written runbook.
struct StepText {
    id: &'static str,
    name: &'static str,
    comment: Option<&'static str>,
    run: Run,
}

enum Run {
    Argv(&'static [&'static str]),
    Shell(&'static str),
}

impl Project {
    /// Reads the project's manifests. Unreadable ones are skipped with a warning rather than
    /// failing: the runbook is a starting point, and the user is about to edit it anyway.
    fn detect(dir: &Path) -> (Project, Vec<String>) {
        let mut warnings = Vec::new();
        let mut kinds = Vec::new();
        let mut name = None;
        let mut version = None;

        if let Some(manifest) = read_toml(dir, "Cargo.toml", &mut warnings) {
            kinds.push(Kind::Rust);
            if let Some(manifest) = manifest {
                let package = manifest.get("package");
                name = name.or_else(|| string_at(package, "name"));
                version = version.or_else(|| {
                    string_at(package, "version").or_else(|| {
                        let workspace = manifest.get("workspace").and_then(|w| w.get("package"));
                        string_at(workspace, "version")
                    })
                });
            }
        }
        if let Some(package) = read_json(dir, "package.json", &mut warnings) {
            let scripts = package.as_ref().and_then(|p| p.get("scripts"));
            let has = |script: &str| scripts.and_then(|s| s.get(script)).is_some();
            kinds.push(Kind::Node {
                lint: has("lint"),
                test: has("test"),
            });
            if let Some(package) = &package {
                let text = |key: &str| package.get(key).and_then(|v| v.as_str()).map(String::from);
                // A scoped package, `@team/web`, is named after its last part.
                name = name.or_else(|| {
                    text("name").map(|n| n.rsplit('/').next().unwrap_or_default().to_string())
                });
                version = version.or_else(|| text("version"));
            }
        }
        if let Some(pyproject) = read_toml(dir, "pyproject.toml", &mut warnings) {
            kinds.push(Kind::Python);
            if let Some(pyproject) = pyproject {
                let project = pyproject.get("project");
                let poetry = pyproject.get("tool").and_then(|t| t.get("poetry"));
                name = name
                    .or_else(|| string_at(project, "name"))
                    .or_else(|| string_at(poetry, "name"));
                version = version
                    .or_else(|| string_at(project, "version"))
                    .or_else(|| string_at(poetry, "version"));
            }
        }
        match std::fs::read_to_string(dir.join("go.mod")) {
            Ok(text) => {
                kinds.push(Kind::Go);
                name = name.or_else(|| go_module_name(&text));
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => {
                kinds.push(Kind::Go);
                warnings.push(format!(
                    "cannot read go.mod ({error}); its module name was not used"
                ));
            }
        }

        let directory_name = std::fs::canonicalize(dir)
            .ok()
            .and_then(|path| path.file_name().map(|n| n.to_string_lossy().into_owned()));
        let name = [name, directory_name]
            .into_iter()
            .flatten()
            .map(|candidate| runbook_name(&candidate))
            .find(|candidate| !candidate.is_empty())
            .unwrap_or_else(|| "release".to_string());
        let version = version
            .filter(|v| is_plain_version(v))
            .unwrap_or_else(|| "0.1.0".to_string());
        (
            Project {
                name,
                version,
                kinds,
            },
            warnings,
        )
    }

    /// "a Rust project (Cargo.toml)", or what else was found.
    fn describe(&self) -> String {
        if self.kinds.is_empty() {
            return "a generic template, as there is no Cargo.toml, package.json, pyproject.toml or go.mod here"
                .to_string();
        }
        let found: Vec<&str> = self
            .kinds
            .iter()
            .map(|kind| match kind {
                Kind::Rust => "Cargo.toml",
                Kind::Node { .. } => "package.json",
                Kind::Python => "pyproject.toml",
                Kind::Go => "go.mod",
            })
            .collect();
        format!("from {}", found.join(", "))
    }

    fn steps_summary(&self) -> String {
        let checks: Vec<&str> = self.check_steps().iter().map(|step| step.id).collect();
        format!(
            "steps {}, approve, tag v{}; the [rollback] is yours to write",
            checks.join(", "),
            self.version
        )
    }

    /// The project's own checks, kind by kind, in the order the manifests were found.
    fn check_steps(&self) -> Vec<StepText> {
        let mut steps = Vec::new();
        for kind in &self.kinds {
            match kind {
                Kind::Rust => {
                    steps.push(StepText {
                        id: "cargo-fmt",
                        name: "Formatting",
                        comment: None,
                        run: Run::Argv(&["cargo", "fmt", "--all", "--check"]),
                    });
                    steps.push(StepText {
                        id: "cargo-clippy",
                        name: "Lints",
                        comment: None,
                        run: Run::Argv(&[
                            "cargo",
                            "clippy",
                            "--workspace",
                            "--all-targets",
                            "--",
                            "-D",
                            "warnings",
                        ]),
                    });
                    steps.push(StepText {
                        id: "cargo-test",
                        name: "Tests",
                        comment: None,
                        run: Run::Argv(&["cargo", "test", "--workspace"]),
                    });
                }
                Kind::Node { lint, test } => {
                    if *lint {
                        steps.push(StepText {
                            id: "npm-lint",
                            name: "Lints",
                            comment: None,
                            run: Run::Argv(&["npm", "run", "lint"]),
                        });
                    }
                    if *test {
                        steps.push(StepText {
                            id: "npm-test",
                            name: "Tests",
                            comment: None,
                            run: Run::Argv(&["npm", "test"]),
                        });
                    }
                    if !lint && !test {
                        steps.push(StepText {
                            id: "npm-checks",
                            name: "Lint and tests",
                            comment: Some(
                                "package.json has no `lint` or `test` script: put the project's checks here.",
                            ),
                            run: Run::Shell(CHECKS_PLACEHOLDER),
                        });
                    }
                }
                Kind::Python => {
                    steps.push(StepText {
                        id: "ruff",
                        name: "Lints",
                        comment: None,
                        run: Run::Argv(&["ruff", "check", "."]),
                    });
                    steps.push(StepText {
                        id: "pytest",
                        name: "Tests",
                        comment: None,
                        run: Run::Argv(&["pytest"]),
                    });
                }
                Kind::Go => {
                    steps.push(StepText {
                        id: "go-vet",
                        name: "Vet",
                        comment: None,
                        run: Run::Argv(&["go", "vet", "./..."]),
                    });
                    steps.push(StepText {
                        id: "go-test",
                        name: "Tests",
                        comment: None,
                        run: Run::Argv(&["go", "test", "./..."]),
                    });
                }
            }
        }
        if steps.is_empty() {
            steps.push(StepText {
                id: "checks",
                name: "Lint and tests",
                comment: Some(
                    "No Cargo.toml, package.json, pyproject.toml or go.mod was found: put the\n\
                     # project's checks here (lint, tests), or give each a step of its own.",
                ),
                run: Run::Shell(CHECKS_PLACEHOLDER),
            });
        }
        steps
    }

    /// The text of `runbooks/release.toml`.
    fn runbook(&self) -> String {
        let name = &self.name;
        let quoted = |text: &str| toml::Value::String(text.to_string()).to_string();
        let mut out = String::new();
        // Writing into a String cannot fail, so the results of `writeln!` are ignored.
        let _ = writeln!(
            out,
            r#"#:schema ./schema.json
# The release runbook of {name}, written by `shipbook init` {source}.
# A starting point: adjust the steps, and write the [rollback] section, which fails until it is
# edited. runbooks/schema.json describes every key (an editor with a TOML language server reads
# it through the first line); `shipbook check` validates the file.
#
#   shipbook check                              # validate runbooks/*.toml
#   shipbook plan runbooks/release.toml         # the resolved steps; runs nothing
#   shipbook rehearse runbooks/release.toml     # everything but the tag, then the rollback
#   shipbook run runbooks/release.toml

[runbook]
name = {name_value}
description = {description}
reason = {reason}
dir = ".."                                # steps run from the project root
on_failure = "ask"                        # when a step fails: "ask" | "undo" | "stop"

[vars]
{version_line}

[git]
require_clean = true                      # release only committed work"#,
            source = if self.kinds.is_empty() {
                "as a generic template".to_string()
            } else {
                self.describe()
            },
            name_value = quoted(name),
            description = quoted(&format!("Release {name}")),
            reason = quoted(&format!("Release {name} {{{{ version }}}}")),
            version_line = with_comment(
                &format!("version = {}", quoted(&self.version)),
                "the version to release: edit it, or pass --var version=X.Y.Z",
            ),
        );
        for step in self.check_steps() {
            out.push('\n');
            if let Some(comment) = step.comment {
                let _ = writeln!(out, "# {comment}");
            }
            let run = match step.run {
                Run::Argv(argv) => {
                    let items: Vec<String> = argv.iter().map(|arg| quoted(arg)).collect();
                    format!("[{}]", items.join(", "))
                }
                Run::Shell(script) => quoted(script),
            };
            let _ = writeln!(
                out,
                "[[steps]]\nid = {}\nname = {}\nrun = {run}",
                quoted(step.id),
                quoted(step.name),
            );
        }
        let _ = writeln!(
            out,
            r#"
[[steps]]
id = "approve"
confirm = "Tag v{{{{ version }}}} of {name}?"

[[steps]]
id = "tag"
tag = {{ name = "v{{{{ version }}}}", message = {tag_message} }}   # push = true pushes it too

# A deploy step names the command that undoes it, for `on_failure = "undo"`:
#
# [[steps]]
# id = "deploy"
# run = "./deploy.sh {{{{ env }}}} v{{{{ version }}}}"
# undo = "./deploy.sh {{{{ env }}}} {{{{ git.previous_tag }}}}"

[rollback]                                # the emergency procedure: `shipbook rollback`
note = "Describe how to undo a release of {name}, and what to check afterwards."
run = {rollback}"#,
            tag_message = quoted(&format!("{name} {{{{ version }}}}")),
            rollback = quoted(ROLLBACK_PLACEHOLDER),
        );
        out
    }
}

/// `line` with `# comment` after it, the comments of a runbook starting in one column.
fn with_comment(line: &str, comment: &str) -> String {
    const COMMENT_COLUMN: usize = 42;
    let padding = COMMENT_COLUMN.saturating_sub(line.chars().count()).max(1);
    format!("{line}{}# {comment}", " ".repeat(padding))
}

/// Reads a TOML manifest: `None` when it does not exist, `Some(None)` when it exists but cannot
/// be read or parsed (with a warning), `Some(Some(table))` otherwise.
fn read_toml(dir: &Path, file: &str, warnings: &mut Vec<String>) -> Option<Option<toml::Table>> {
    let text = read_manifest(dir, file, warnings)?;
    Some(text.and_then(|text| match text.parse::<toml::Table>() {
        Ok(table) => Some(table),
        Err(error) => {
            warnings.push(format!(
                "{file} is not valid TOML ({}); its name and version were not used",
                error.message()
            ));
            None
        }
    }))
}

/// Reads package.json, as `read_toml` does for TOML.
fn read_json(
    dir: &Path,
    file: &str,
    warnings: &mut Vec<String>,
) -> Option<Option<serde_json::Value>> {
    let text = read_manifest(dir, file, warnings)?;
    Some(text.and_then(|text| match serde_json::from_str(&text) {
        Ok(value) => Some(value),
        Err(error) => {
            warnings.push(format!(
                "{file} is not valid JSON ({error}); its scripts, name and version were not used"
            ));
            None
        }
    }))
}

fn read_manifest(dir: &Path, file: &str, warnings: &mut Vec<String>) -> Option<Option<String>> {
    match std::fs::read_to_string(dir.join(file)) {
        Ok(text) => Some(Some(text)),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => None,
        Err(error) => {
            warnings.push(format!("cannot read {file} ({error}); it was not used"));
            Some(None)
        }
    }
}

fn string_at(table: Option<&toml::Value>, key: &str) -> Option<String> {
    table
        .and_then(|t| t.get(key))
        .and_then(|v| v.as_str())
        .map(String::from)
}

/// The last meaningful part of the `module` path of go.mod: `example.com/team/api/v2` is `api`.
fn go_module_name(go_mod: &str) -> Option<String> {
    let module = go_mod
        .lines()
        .find_map(|line| line.trim().strip_prefix("module "))?
        .trim()
        .trim_matches('"');
    module
        .rsplit('/')
        .find(|part| {
            let major_version = part.len() > 1
                && part.starts_with('v')
                && part[1..].bytes().all(|b| b.is_ascii_digit());
            !part.is_empty() && !major_version
        })
        .map(String::from)
}

/// A runbook name from a project name: lowercase letters, digits, `_` and `-` (the names the
/// runbook format accepts), other characters becoming `-`.
fn runbook_name(text: &str) -> String {
    let mut name = String::new();
    for c in text.chars().flat_map(char::to_lowercase) {
        let c = if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-' {
            c
        } else {
            '-'
        };
        if !(c == '-' && name.ends_with('-')) {
            name.push(c);
        }
    }
    name.trim_matches('-').to_string()
}

/// Whether a version found in a manifest can go into the runbook as it is: a plain version such
/// as 1.4.3 or 2.0.0-rc.1, with nothing a template or a tag name would choke on.
fn is_plain_version(version: &str) -> bool {
    !version.is_empty()
        && version
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b'+')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_runbook_names() {
        assert_eq!(runbook_name("Billing API"), "billing-api");
        assert_eq!(runbook_name("my_crate"), "my_crate");
        assert_eq!(runbook_name("--Weird!!Name--"), "weird-name");
        assert_eq!(runbook_name("ÉTÉ"), "t");
        assert_eq!(runbook_name("日本"), "");
    }

    #[test]
    fn go_module_names_skip_major_versions() {
        assert_eq!(
            go_module_name("module example.com/team/api/v2\n\ngo 1.22\n").as_deref(),
            Some("api")
        );
        assert_eq!(
            go_module_name("// comment\nmodule tool\n").as_deref(),
            Some("tool")
        );
        assert_eq!(go_module_name("go 1.22\n"), None);
    }

    #[test]
    fn versions_must_be_plain() {
        assert!(is_plain_version("1.4.3"));
        assert!(is_plain_version("2.0.0-rc.1+build.5"));
        assert!(!is_plain_version("{{ evil }}"));
        assert!(!is_plain_version(""));
    }

    fn project(kinds: Vec<Kind>) -> Project {
        Project {
            name: "web".into(),
            version: "1.2.3".into(),
            kinds,
        }
    }

    /// Every kind of project gives a runbook that the loader accepts.
    #[test]
    fn every_written_runbook_loads() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let all_kinds = vec![
            vec![],
            vec![Kind::Rust],
            vec![Kind::Node {
                lint: true,
                test: true,
            }],
            vec![Kind::Node {
                lint: false,
                test: false,
            }],
            vec![Kind::Python],
            vec![Kind::Go],
            vec![
                Kind::Rust,
                Kind::Node {
                    lint: false,
                    test: true,
                },
                Kind::Python,
                Kind::Go,
            ],
        ];
        for kinds in all_kinds {
            let text = project(kinds.clone()).runbook();
            let path = dir.path().join("release.toml");
            std::fs::write(&path, &text).expect("written");
            if let Err(error) = crate::runbook::load(&path) {
                panic!("{kinds:?}: {error:?}\n{text}");
            }
        }
    }

    #[test]
    fn the_gitignore_line_is_added_once() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join(".gitignore");
        assert!(matches!(
            ignore_state_dir(&path).unwrap(),
            IgnoreChange::Created
        ));
        assert!(matches!(
            ignore_state_dir(&path).unwrap(),
            IgnoreChange::AlreadyThere
        ));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), ".shipbook/\n");

        std::fs::write(&path, "target").unwrap();
        assert!(matches!(
            ignore_state_dir(&path).unwrap(),
            IgnoreChange::Added
        ));
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "target\n.shipbook/\n"
        );

        std::fs::write(&path, "/.shipbook\n").unwrap();
        assert!(matches!(
            ignore_state_dir(&path).unwrap(),
            IgnoreChange::AlreadyThere
        ));
    }
}
