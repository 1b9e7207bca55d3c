//! The files init writes besides the runbook's text: atomic writes that never clobber by
//! accident, and the `.gitignore` line that keeps the records out of the tree.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::sys::fs::{Existing, write_atomically};

/// Why a file could not be written.
pub(super) enum WriteError {
    /// The file exists and was not to be overwritten.
    Exists,
    Io(std::io::Error),
}

impl WriteError {
    pub(super) fn into_io(self) -> std::io::Error {
        match self {
            WriteError::Exists => std::io::Error::from(std::io::ErrorKind::AlreadyExists),
            WriteError::Io(error) => error,
        }
    }
}

/// Writes `content` to `path` atomically (a temporary file in the same directory, renamed into
/// place), so that a failure never leaves half a file. Without `overwrite`, an existing file is
/// kept, even one created since the check at the start.
pub(super) fn write_file(path: &Path, content: &str, overwrite: bool) -> Result<(), WriteError> {
    let existing = if overwrite {
        Existing::Replace
    } else {
        Existing::Keep
    };
    match write_atomically(path, content, existing) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => Err(WriteError::Exists),
        Err(error) => Err(WriteError::Io(error)),
    }
}

/// The `.gitignore` that should hold `.shipbook/`: the one at the root of the git repository,
/// where the state directory is made, or the project's own outside a repository.
pub(super) fn gitignore_path(project_dir: &Path) -> PathBuf {
    let here = std::fs::canonicalize(project_dir).ok();
    match crate::sys::git::work_root(project_dir) {
        Some(root) if std::fs::canonicalize(&root).ok() != here => root.join(".gitignore"),
        _ => PathBuf::from(".gitignore"),
    }
}

/// Those of `paths` that git sees as uncommitted (new or changed), as given; none outside a
/// repository.
pub(super) fn uncommitted<'p>(paths: &[&'p Path]) -> Vec<&'p Path> {
    let Some(repo) = crate::sys::git::discover(Path::new(".")) else {
        return Vec::new();
    };
    let Some(root) = repo
        .workdir()
        .and_then(|dir| std::fs::canonicalize(dir).ok())
    else {
        return Vec::new();
    };
    let changed = crate::sys::git::changed_paths(&repo);
    paths
        .iter()
        .copied()
        .filter(|path| {
            std::fs::canonicalize(path)
                .ok()
                .and_then(|full| {
                    full.strip_prefix(&root)
                        .ok()
                        .map(|relative| relative.to_string_lossy().into_owned())
                })
                .is_some_and(|relative| changed.contains(&relative))
        })
        .collect()
}

/// What `ignore_state_dir` did to the `.gitignore`.
pub(super) enum IgnoreChange {
    Created,
    Added,
    AlreadyThere,
}

/// Appends `.shipbook/` to the `.gitignore` at `path` unless a line already ignores it.
pub(super) fn ignore_state_dir(path: &Path) -> std::io::Result<IgnoreChange> {
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

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn an_existing_file_is_kept_unless_it_may_be_overwritten() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("release.toml");
        std::fs::write(&path, "mine").unwrap();
        assert!(matches!(
            write_file(&path, "new", false),
            Err(WriteError::Exists)
        ));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "mine");
        assert!(write_file(&path, "new", true).is_ok());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
    }
}
