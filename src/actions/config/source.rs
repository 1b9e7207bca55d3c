//! The two files of a check, and the names they go by in messages.
//!
//! A file is named in two ways: the log gives the path a person can open, and the one-line
//! summary gives the shortest name that still tells the two files apart, because the summary
//! ends up in a table cell of the change note.

use std::fmt;
use std::path::{Component, Path, PathBuf};

/// One of the two files, with the names it goes by in messages.
pub(super) struct Source<'a> {
    pub(super) path: &'a Path,
    /// The path as the log shows it.
    label: String,
    /// The file name alone when that tells the two files apart, for the one-line summary.
    pub(super) short: String,
}

impl<'a> Source<'a> {
    /// The checked file and its reference, named so that the two can be told apart.
    pub(super) fn pair(file: &'a Path, against: &'a Path) -> (Source<'a>, Source<'a>) {
        let name = |path: &Path| {
            path.file_name()
                .map(|name| name.to_string_lossy().into_owned())
        };
        let distinct = name(file) != name(against);
        let source = |path: &'a Path| {
            let label = display_path(path);
            let short = match name(path) {
                Some(name) if distinct => name,
                _ => label.clone(),
            };
            Source { path, label, short }
        };
        (source(file), source(against))
    }
}

impl fmt::Display for Source<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label)
    }
}

/// How a path is shown: without the `runbooks/..` detours that the runbook's `dir` adds, and
/// relative to the current directory when it is inside it, because that is how people wrote it.
pub(super) fn display_path(path: &Path) -> String {
    let mut parts: Vec<Component<'_>> = Vec::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir if matches!(parts.last(), Some(Component::Normal(_))) => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    let normal: PathBuf = parts.iter().collect();
    let shown = std::env::current_dir()
        .ok()
        .and_then(|cwd| normal.strip_prefix(cwd).ok().map(Path::to_path_buf))
        .unwrap_or(normal);
    if shown.as_os_str().is_empty() {
        path.display().to_string()
    } else {
        shown.display().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_shown_without_detours_and_relative_to_the_current_directory() {
        assert_eq!(
            display_path(Path::new("runbooks/../config/./staging.toml")),
            "config/staging.toml"
        );
        let cwd = std::env::current_dir().unwrap();
        assert_eq!(
            display_path(&cwd.join("config/app.toml")),
            "config/app.toml"
        );
        assert_eq!(
            display_path(Path::new("/elsewhere/app.toml")),
            "/elsewhere/app.toml"
        );
        assert_eq!(display_path(Path::new("../up.toml")), "../up.toml");
    }
}
