//! `shipbook check`: validate runbooks and report every error of every file.

use std::path::{Path, PathBuf};

use console::style;

use super::Globals;
use crate::error::{Error, Result};
use crate::output::reporter::Verbosity;
use crate::runbook;
use crate::text::words::plural;

const DEFAULT_DIR: &str = "runbooks";

pub fn check(paths: &[PathBuf], globals: &Globals) -> Result<()> {
    let paths = if paths.is_empty() {
        default_runbooks()?
    } else {
        paths.to_vec()
    };
    let mut failures = Vec::new();
    for path in &paths {
        match runbook::load(path) {
            Ok(runbook) => {
                if globals.verbosity != Verbosity::Quiet {
                    eprintln!(
                        "{} {} ({}, {})",
                        style("✓").green(),
                        path.display(),
                        runbook.name(),
                        plural(runbook.steps.len(), "step")
                    );
                }
            }
            Err(error) => failures.push(error),
        }
    }
    match failures.len() {
        0 => Ok(()),
        1 => Err(failures.remove(0)),
        _ => {
            // Several files failed: print all but the last here, and let main print the last,
            // so every error is shown once and the exit code is the one of a runbook error.
            let last = failures.pop().expect("several failures");
            for failure in failures {
                crate::output::report::error(&failure);
            }
            Err(last)
        }
    }
}

/// `runbooks/*.toml`, sorted.
fn default_runbooks() -> Result<Vec<PathBuf>> {
    let pattern = format!("{DEFAULT_DIR}/*.toml");
    let entries = std::fs::read_dir(DEFAULT_DIR).map_err(|_| Error::NoRunbooks {
        pattern: pattern.clone(),
    })?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml") && path.is_file())
        .map(|path| Path::new(DEFAULT_DIR).join(path.file_name().expect("a file name")))
        .collect();
    paths.sort();
    if paths.is_empty() {
        return Err(Error::NoRunbooks { pattern });
    }
    Ok(paths)
}
