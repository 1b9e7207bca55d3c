//! What shipbook needs to know about the git repository that holds a runbook.
//!
//! Read through git2 (libgit2, bundled), so that shipbook does not depend on the user's `git`
//! being installed or configured for reading. Everything here is read-only.

use std::path::{Path, PathBuf};
use std::rc::Rc;

use git2::{DescribeFormatOptions, DescribeOptions, Oid, Repository, StatusOptions};

/// Facts about the repository at the start of a run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GitFacts {
    /// The repository's working directory.
    pub root: Option<PathBuf>,
    pub sha: String,
    pub short_sha: String,
    /// The branch name, or "" on a detached HEAD or outside a repository.
    pub branch: String,
    /// The newest tag reachable from HEAD but not at HEAD (the release before this one), or ""
    /// when there is none.
    pub previous_tag: String,
    /// Whether the working tree has uncommitted changes (untracked files included), outside
    /// the default state directory.
    pub dirty: bool,
    /// The paths with uncommitted changes, relative to `root`, all of them: what counts as a
    /// change (shipbook's own records do not) is the caller's to decide.
    pub changed: Vec<String>,
}

thread_local! {
    /// The repositories found so far, by the directory the search started from. A run asks
    /// about the same repository several times (where the state directory goes, the facts of
    /// the plan, the preconditions, the files touched); finding it walks up the directories and
    /// reads its configuration each time, so it is found once and shared. libgit2 reads refs,
    /// HEAD and the index from disk at each look-up, so a tag made since is still seen.
    static FOUND: std::cell::RefCell<Vec<(PathBuf, Option<Rc<Repository>>)>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// Opens the repository that contains `path`, if any.
pub fn discover(path: &Path) -> Option<Rc<Repository>> {
    let start = if path.is_dir() {
        path.to_path_buf()
    } else {
        path.parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
    };
    let start = std::path::absolute(&start).unwrap_or(start);
    if let Some(found) = FOUND.with_borrow(|found| {
        found
            .iter()
            .find(|(dir, _)| *dir == start)
            .map(|(_, repo)| repo.clone())
    }) {
        return found;
    }
    let repo = Repository::discover(&start).ok().map(Rc::new);
    FOUND.with_borrow_mut(|found| found.push((start, repo.clone())));
    repo
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
        if with_status {
            facts.changed = changed_paths(&repo);
        }
        // shipbook's own records (the default state directory) do not make a tree dirty.
        let own_records = format!("{}/", super::STATE_DIR_NAME);
        facts.dirty = facts
            .changed
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

/// The tag of the release before HEAD: the newest tag reachable from HEAD that does not point at
/// HEAD itself. A release tags HEAD; were that tag the "previous" one, the rollback after the
/// release would redeploy the release it is meant to undo. Leaving out the tags at HEAD gives
/// the same answer before the release's tag is made, after it, and when the release is run
/// again with its tag already there.
fn previous_tag(repo: &Repository) -> Option<String> {
    let head = repo.head().ok()?.peel_to_commit().ok()?;
    if !tagged(repo, head.id()) {
        return nearest_tag(head.as_object()).map(|(tag, _)| tag);
    }
    // The nearest tag among the parents' histories, as `git describe` would choose it.
    head.parents()
        .filter_map(|parent| nearest_tag(parent.as_object()))
        .min_by_key(|(_, distance)| *distance)
        .map(|(tag, _)| tag)
}

/// Whether any tag points at `commit`.
fn tagged(repo: &Repository, commit: Oid) -> bool {
    let Ok(names) = repo.tag_names(None) else {
        return false;
    };
    names.iter().flatten().flatten().any(|name| {
        repo.revparse_single(&format!("refs/tags/{name}"))
            .and_then(|object| object.peel_to_commit())
            .is_ok_and(|tagged| tagged.id() == commit)
    })
}

/// The newest tag reachable from `object`, as `git describe --tags` finds it, with how many
/// commits lie between them.
fn nearest_tag(object: &git2::Object<'_>) -> Option<(String, usize)> {
    let mut options = DescribeOptions::new();
    options.describe_tags();
    let description = object.describe(&options).ok()?;
    let mut format = DescribeFormatOptions::new();
    format.always_use_long_format(true);
    // The long form is `TAG-DISTANCE-gHASH`, and a tag may itself contain `-`.
    let long = description.format(Some(&format)).ok()?;
    let mut parts = long.rsplitn(3, '-');
    let (_hash, distance, tag) = (parts.next()?, parts.next()?, parts.next()?);
    Some((tag.to_string(), distance.parse().ok()?))
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Commits an empty change on top of HEAD, with a fixed author.
    fn commit(repo: &Repository, message: &str) -> Oid {
        let signature = git2::Signature::now("Test", "test@example.test").unwrap();
        let tree = repo
            .find_tree(repo.index().unwrap().write_tree().unwrap())
            .unwrap();
        let parent = repo.head().ok().and_then(|head| head.peel_to_commit().ok());
        let parents: Vec<&git2::Commit<'_>> = parent.iter().collect();
        repo.commit(
            Some("HEAD"),
            &signature,
            &signature,
            message,
            &tree,
            &parents,
        )
        .unwrap()
    }

    fn tag(repo: &Repository, name: &str, commit: Oid) {
        let signature = git2::Signature::now("Test", "test@example.test").unwrap();
        let object = repo.find_object(commit, None).unwrap();
        repo.tag(name, &object, &signature, name, false).unwrap();
    }

    #[test]
    fn the_previous_tag_is_never_the_one_at_head() {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init(dir.path()).unwrap();
        let first = commit(&repo, "first");
        assert_eq!(previous_tag(&repo), None);
        tag(&repo, "v0.1.0-rc-1", first);
        assert_eq!(previous_tag(&repo), None, "the only tag is at HEAD");
        let second = commit(&repo, "second");
        assert_eq!(previous_tag(&repo).as_deref(), Some("v0.1.0-rc-1"));
        tag(&repo, "v0.1.1", second);
        commit(&repo, "third");
        // Before the release tags HEAD, after, and once more with the tag there.
        assert_eq!(previous_tag(&repo).as_deref(), Some("v0.1.1"));
        let head = repo.head().unwrap().target().unwrap();
        tag(&repo, "v0.1.2", head);
        assert_eq!(previous_tag(&repo).as_deref(), Some("v0.1.1"));
        assert_eq!(previous_tag(&repo).as_deref(), Some("v0.1.1"));
    }
}
