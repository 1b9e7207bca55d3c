//! The `[git]` preconditions, checked before any step: a release from a dirty tree or the wrong
//! branch is refused, with the paths or the branch named, so the engineer knows what to fix.
//!
//! What counts as an uncommitted change is decided here once, for the `[git]` rule, the record
//! and the rehearsal gate alike: shipbook's own records never do, neither the state directory
//! nor the change notes it writes into the runbook's `notes_dir`. Otherwise a rehearsal's note
//! in `docs/releases` would make the tree dirty for the run that follows it, and committing the
//! note would move HEAD away from the commit that was rehearsed.

use std::path::Path;

use super::run_id;
use crate::error::{Error, Result};
use crate::runbook::GitRules;
use crate::sys::git::{self, GitFacts};

/// How many changed paths a message lists before it summarises the rest.
const MAX_LISTED: usize = 20;

/// The uncommitted changes of the repository (as `facts` found them) that count: every changed
/// path but those inside `state_dir` and the change notes (and their temporary files) directly
/// in `notes_dir`.
pub fn uncommitted(facts: &GitFacts, state_dir: &Path, notes_dir: Option<&Path>) -> Vec<String> {
    let Some(root) = facts.root.as_deref() else {
        return Vec::new();
    };
    let state_prefix = relative_dir(root, state_dir);
    let notes_prefix = notes_dir.and_then(|dir| relative_dir(root, dir));
    facts
        .changed
        .iter()
        .filter(|path| {
            state_prefix
                .as_deref()
                .is_none_or(|prefix| !path.starts_with(prefix))
        })
        .filter(|path| {
            let Some(name) = notes_prefix
                .as_deref()
                .and_then(|prefix| path.strip_prefix(prefix))
            else {
                return true;
            };
            !(run_id::is_note_file(name)
                || name.starts_with(".shipbook-") && name.ends_with(".tmp"))
        })
        .cloned()
        .collect()
}

/// `dir` relative to the repository's `root`, as a prefix of the paths git reports (`a/b/`);
/// `None` when it is outside the repository.
fn relative_dir(root: &Path, dir: &Path) -> Option<String> {
    let dir = std::path::absolute(dir).ok()?;
    let root = std::path::absolute(root).ok()?;
    let relative = crate::plan::clean_path(&dir)
        .strip_prefix(crate::plan::clean_path(&root))
        .ok()?
        .display()
        .to_string();
    Some(if relative.is_empty() {
        String::new()
    } else {
        format!("{relative}/")
    })
}

/// Paths for a message: at most [`MAX_LISTED`], then how many more.
pub fn listed(paths: &[String]) -> Vec<String> {
    let mut listed: Vec<String> = paths.iter().take(MAX_LISTED).cloned().collect();
    if paths.len() > MAX_LISTED {
        listed.push(format!("… and {} more", paths.len() - MAX_LISTED));
    }
    listed
}

/// Checks `rules` against the repository holding the runbook; `changes` are its uncommitted
/// changes that count (see [`uncommitted`]).
pub fn check_git(rules: &GitRules, runbook_path: &Path, changes: &[String]) -> Result<()> {
    if !rules.require_clean && rules.branch.is_none() {
        return Ok(());
    }
    let Some(repo) = git::discover(runbook_path) else {
        return Err(Error::Precondition {
            message: format!(
                "the runbook's [git] rules need a git repository, but {} is not in one",
                runbook_path.display()
            ),
            expected: "a runbook inside a git repository, or no [git] table".into(),
        });
    };
    if let Some(wanted) = &rules.branch {
        let head = repo.head().ok();
        let current = head
            .as_ref()
            .filter(|head| head.is_branch())
            .and_then(|head| head.shorthand().ok().map(str::to_string));
        match current {
            Some(branch) if &branch == wanted => {}
            Some(branch) => {
                return Err(Error::Precondition {
                    message: format!(
                        "on branch `{branch}`, but the runbook releases from `{wanted}`"
                    ),
                    expected: format!("`git switch {wanted}` first ([git] branch = \"{wanted}\")"),
                });
            }
            None => {
                let at = head
                    .and_then(|h| h.target())
                    .map(|oid| format!(" at {}", &oid.to_string()[..7]))
                    .unwrap_or_default();
                return Err(Error::Precondition {
                    message: format!(
                        "HEAD is detached{at}, but the runbook releases from branch `{wanted}`"
                    ),
                    expected: format!("`git switch {wanted}` first ([git] branch = \"{wanted}\")"),
                });
            }
        }
    }
    if rules.require_clean && !changes.is_empty() {
        return Err(Error::Precondition {
            message: format!(
                "the working tree has uncommitted changes: {}",
                listed(changes).join(", ")
            ),
            expected: "a clean working tree ([git] require_clean = true): commit or stash them"
                .into(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    #[test]
    fn shipbooks_own_records_are_not_uncommitted_changes() {
        let facts = GitFacts {
            root: Some(PathBuf::from("/srv/app")),
            changed: [
                "state/shipbook.db",
                "docs/releases/20261122T181503Z-web-3f9a.md",
                "docs/releases/.shipbook-12-34-Ab3xYz.tmp",
                "docs/releases/README.md",
                "docs/releases/old/20261122T181503Z-web-3f9a.md",
                "src/main.rs",
            ]
            .map(String::from)
            .to_vec(),
            ..GitFacts::default()
        };
        let notes = PathBuf::from("/srv/app/runbooks/../docs/releases");
        assert_eq!(
            uncommitted(&facts, Path::new("/srv/app/state"), Some(&notes)),
            [
                "docs/releases/README.md",
                "docs/releases/old/20261122T181503Z-web-3f9a.md",
                "src/main.rs"
            ]
        );
        assert_eq!(
            uncommitted(&facts, Path::new("/elsewhere"), None).len(),
            6,
            "a state directory outside the repository hides nothing"
        );
    }

    #[test]
    fn long_lists_say_how_many_more() {
        let paths: Vec<String> = (0..25).map(|i| format!("f{i}")).collect();
        let shown = listed(&paths);
        assert_eq!(shown.len(), MAX_LISTED + 1);
        assert_eq!(shown.last().unwrap(), "… and 5 more");
    }
}
