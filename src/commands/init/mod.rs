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
//!
//! It proposes a version whose tag does not exist yet, and ends by saying which of the files it
//! wrote are still to be committed: the runbook requires a clean tree, so a first rehearsal
//! would otherwise be refused for init's own files.
//!
//! This module runs the command; `detect` reads the project, `version` picks the version to
//! propose, `template` writes the runbook's text, and `files` writes files and the `.gitignore`
//! line.

use std::path::Path;

use console::style;

use super::Globals;
use crate::error::{Error, Result};
use crate::output::reporter::Verbosity;
use detect::Project;
use files::{IgnoreChange, WriteError, gitignore_path, ignore_state_dir, write_file};

mod detect;
mod files;
mod template;
mod version;

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
    // Checked before anything is created, so that a refusal leaves the directory untouched.
    if !force && Path::new(RUNBOOK_FILE).exists() {
        return Err(refuse_overwrite());
    }

    let (mut project, mut warnings) = Project::detect(project_dir);
    let proposal = version::propose(&project.version, &crate::sys::git::tag_names(project_dir));
    if let version::Proposal::Next { next, .. } = &proposal {
        project.version.clone_from(next);
    }
    warnings.extend(proposal.warning());
    for warning in &warnings {
        eprintln!("{} {warning}", style("warning:").yellow().bold());
    }
    write_runbook(&project, force)?;
    let schema_change = write_schema()?;
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
        tell(&project, schema_change, &gitignore, &ignore_change);
    }
    Ok(())
}

fn refuse_overwrite() -> Error {
    Error::usage(
        format!("{RUNBOOK_FILE} already exists; it was left as it is"),
        format!("no {RUNBOOK_FILE} yet, or `shipbook init --force` to overwrite it"),
    )
}

/// Writes `runbooks/release.toml`, overwriting an existing one only with `force`.
fn write_runbook(project: &Project, force: bool) -> Result<()> {
    std::fs::create_dir_all(RUNBOOK_DIR).map_err(|source| {
        Error::io(
            format!(
                "cannot create the directory {RUNBOOK_DIR}/ (nothing was written; safe to retry once the current directory is writable)"
            ),
            source,
        )
    })?;
    write_file(Path::new(RUNBOOK_FILE), &project.runbook(), force).map_err(|error| match error {
        WriteError::Exists => refuse_overwrite(),
        WriteError::Io(source) => Error::io(
            format!(
                "cannot write {RUNBOOK_FILE} (nothing was written; safe to retry once {RUNBOOK_DIR}/ is writable)"
            ),
            source,
        ),
    })
}

/// Writes `runbooks/schema.json` unless it is already current; returns what was done, as the
/// verb the final message uses: "wrote", "kept" or "updated".
fn write_schema() -> Result<&'static str> {
    let schema = crate::runbook::schema::json();
    let schema_path = Path::new(SCHEMA_FILE);
    let schema_was = std::fs::read_to_string(schema_path).ok();
    if schema_was.as_deref() == Some(schema.as_str()) {
        return Ok("kept");
    }
    write_file(schema_path, &schema, true).map_err(|error| {
        Error::io(
            format!(
                "cannot write {SCHEMA_FILE} ({RUNBOOK_FILE} was written; `shipbook schema > {SCHEMA_FILE}` writes the schema alone)"
            ),
            error.into_io(),
        )
    })?;
    Ok(if schema_was.is_none() {
        "wrote"
    } else {
        "updated"
    })
}

/// Says what was written, and what to do next.
fn tell(project: &Project, schema_change: &str, gitignore: &Path, ignore_change: &IgnoreChange) {
    let check = style("✓").green();
    eprintln!(
        "{check} wrote {RUNBOOK_FILE} ({}: {})",
        project.describe(),
        project.steps_summary()
    );
    eprintln!("{check} {schema_change} {SCHEMA_FILE} (the runbook format, for editors)");
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
    // The runbook says `[git] require_clean = true`, and a rehearsal only counts for a clean
    // tree: until these files are committed, neither a rehearsal nor a release can start.
    let written = [Path::new(RUNBOOK_FILE), Path::new(SCHEMA_FILE), gitignore];
    let uncommitted = files::uncommitted(&written);
    if !uncommitted.is_empty() {
        let names: Vec<String> = uncommitted
            .iter()
            .map(|path| path.display().to_string())
            .collect();
        eprintln!(
            "  git add {} && git commit -m \"Add the release runbook\"",
            names.join(" ")
        );
        eprintln!(
            "      # commit them before the first rehearsal: the runbook refuses to start with uncommitted changes"
        );
    }
}
