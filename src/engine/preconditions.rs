//! The `[git]` preconditions, checked before any step: a release from a dirty tree or the wrong
//! branch is refused, with the paths or the branch named, so the engineer knows what to fix.

use std::path::Path;

use crate::error::{Error, Result};
use crate::runbook::GitRules;
use crate::sys::git;

/// How many changed paths the message lists before it summarises the rest.
const MAX_LISTED: usize = 20;

/// Checks `rules` against the repository holding the runbook. Paths inside `state_dir` (the
/// records of shipbook itself) never count as changes.
pub fn check_git(rules: &GitRules, runbook_path: &Path, state_dir: &Path) -> Result<()> {
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
    if rules.require_clean {
        let state_prefix = repo.workdir().and_then(|root| {
            let state = std::path::absolute(state_dir).ok()?;
            let root = std::path::absolute(root).ok()?;
            state
                .strip_prefix(&root)
                .ok()
                .map(|relative| format!("{}/", relative.display()))
        });
        let changed: Vec<String> = git::changed_paths(&repo)
            .into_iter()
            .filter(|path| {
                state_prefix
                    .as_deref()
                    .is_none_or(|prefix| !path.starts_with(prefix))
            })
            .collect();
        if !changed.is_empty() {
            let mut listed: Vec<String> = changed.iter().take(MAX_LISTED).cloned().collect();
            if changed.len() > MAX_LISTED {
                listed.push(format!("… and {} more", changed.len() - MAX_LISTED));
            }
            return Err(Error::Precondition {
                message: format!(
                    "the working tree has uncommitted changes: {}",
                    listed.join(", ")
                ),
                expected: "a clean working tree ([git] require_clean = true): commit or stash them"
                    .into(),
            });
        }
    }
    Ok(())
}
