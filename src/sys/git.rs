//! What shipbook needs to know about the git repository that holds a runbook.
//!
//! Read through git2 (libgit2, bundled), so that shipbook does not depend on the user's `git`
//! being installed or configured for reading. Everything here is read-only.

use std::path::{Path, PathBuf};

use git2::{DescribeFormatOptions, DescribeOptions, Repository, StatusOptions};

/// Facts about the repository at the start of a run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GitFacts {
    /// The repository's working directory.
    pub root: Option<PathBuf>,
    pub sha: String,
    pub short_sha: String,
    /// The branch name, or "" on a detached HEAD or outside a repository.
    pub branch: String,
    /// The newest tag reachable from HEAD, or "" when there is none.
    pub previous_tag: String,
    /// Whether the working tree has uncommitted changes (untracked files included).
    pub dirty: bool,
}

/// Opens the repository that contains `path`, if any.
pub fn discover(path: &Path) -> Option<Repository> {
    let start = if path.is_dir() {
        path.to_path_buf()
    } else {
        path.parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
    };
    Repository::discover(start).ok()
}

/// The root of the working tree of the repository containing `path`.
pub fn work_root(path: &Path) -> Option<PathBuf> {
    discover(path).and_then(|repo| repo.workdir().map(Path::to_path_buf))
}

impl GitFacts {
    /// Reads the facts of the repository containing `path`; empty facts outside a repository.
    /// `with_status` also walks the working tree for the dirty flag, which costs time in a
    /// large repository: the emergency rollback does without it.
    pub fn read(path: &Path, with_status: bool) -> GitFacts {
        let Some(repo) = discover(path) else {
            return GitFacts::default();
        };
        let mut facts = GitFacts {
            root: repo.workdir().map(Path::to_path_buf),
            ..GitFacts::default()
        };
        if let Ok(head) = repo.head() {
            if head.is_branch() {
                facts.branch = head.shorthand().unwrap_or_default().to_string();
            }
            if let Ok(commit) = head.peel_to_commit() {
                facts.sha = commit.id().to_string();
                facts.short_sha = facts.sha.chars().take(7).collect();
            }
        } else if let Ok(reference) = repo.find_reference("HEAD")
            && let Ok(Some(target)) = reference.symbolic_target()
        {
            // An unborn branch: no commit yet, but the branch name is known.
            facts.branch = target.trim_start_matches("refs/heads/").to_string();
        }
        facts.previous_tag = previous_tag(&repo).unwrap_or_default();
        // shipbook's own records (the default state directory) do not make a tree dirty.
        let own_records = format!("{}/", super::STATE_DIR_NAME);
        facts.dirty = with_status
            && changed_paths(&repo)
                .iter()
                .any(|path| !path.starts_with(&own_records));
        facts
    }
}

/// The names of every tag of the repository containing `path`; none outside a repository.
pub fn tag_names(path: &Path) -> Vec<String> {
    discover(path)
        .and_then(|repo| repo.tag_names(None).ok())
        .map(|names| {
            (0..names.len())
                .filter_map(|i| names.get(i).ok().flatten())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// The newest tag reachable from HEAD, as `git describe --tags --abbrev=0` gives it.
fn previous_tag(repo: &Repository) -> Option<String> {
    let mut options = DescribeOptions::new();
    options.describe_tags();
    let description = repo.describe(&options).ok()?;
    let mut format = DescribeFormatOptions::new();
    format.abbreviated_size(0);
    description.format(Some(&format)).ok()
}

/// Paths with uncommitted changes, untracked files included and ignored files not.
pub fn changed_paths(repo: &Repository) -> Vec<String> {
    let mut options = StatusOptions::new();
    options
        .include_untracked(true)
        .recurse_untracked_dirs(true)
        .include_ignored(false);
    let Ok(statuses) = repo.statuses(Some(&mut options)) else {
        return Vec::new();
    };
    statuses
        .iter()
        .filter_map(|entry| entry.path().ok().map(str::to_string))
        .collect()
}

/// Files changed between the previous tag (or, with no tag, the empty tree before the first
/// commit) and HEAD, for the change note.
pub fn files_touched(path: &Path, previous_tag: &str) -> Vec<String> {
    let Some(repo) = discover(path) else {
        return Vec::new();
    };
    let Ok(head_tree) = repo.head().and_then(|head| head.peel_to_tree()) else {
        return Vec::new();
    };
    let base_tree = if previous_tag.is_empty() {
        None
    } else {
        repo.revparse_single(previous_tag)
            .and_then(|object| object.peel_to_tree())
            .ok()
    };
    let Ok(diff) = repo.diff_tree_to_tree(base_tree.as_ref(), Some(&head_tree), None) else {
        return Vec::new();
    };
    diff.deltas()
        .filter_map(|delta| {
            delta
                .new_file()
                .path()
                .or_else(|| delta.old_file().path())
                .map(|p| p.display().to_string())
        })
        .collect()
}
